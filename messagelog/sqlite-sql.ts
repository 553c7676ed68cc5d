/**
 * The embedded store's SQL dialect for operators' searches and traffic counts (exchanges.ts), on the
 * store's own connection. Names, message ids and times may be stored as bytes or, in a log written
 * before, as text (sqlite-columns.ts), so a condition matches both forms: an equality lists both
 * values, and a time range is two ranges of the time index — texts sort before bytes in SQLite, and
 * the bytes of a time sort as times do. Two SQL functions read a stored value as what it stands
 * for: `ura_name` a name, `ura_ms` a time in milliseconds since 1970.
 */
import type { DatabaseSync } from 'node:sqlite'
import type { SqlDialect } from './exchanges.ts'
import { idForms, timeBytes, unpackName } from './sqlite-columns.ts'
import type { NameLookup } from './sqlite-names.ts'

/** Registers the dialect's functions on `db` and returns the dialect. */
export function sqliteDialect (db: DatabaseSync, names: NameLookup): SqlDialect {
  db.function('ura_name', { deterministic: true }, (value: unknown) => unpackName(value, names) as string | null)
  db.function('ura_ms', { deterministic: true }, (value: unknown) => {
    if (value instanceof Uint8Array) return value.length === 6 ? Buffer.from(value.buffer, value.byteOffset, 6).readUIntBE(0, 6) : null
    const ms = typeof value === 'string' ? Date.parse(value) : NaN
    return Number.isNaN(ms) ? null : ms
  })
  const bytesOf = (t: Date): Buffer => timeBytes(Math.max(0, t.getTime()))
  return {
    msBetween: (a, b) => `(ura_ms(${b}) - ura_ms(${a}))`,
    whole: v => `CAST(${v} AS INTEGER)`,
    name: column => `ura_name(${column})`,
    nameForms: name => {
      const key = names.keyOf(name)
      return key === undefined ? [name] : [name, key]
    },
    idForms,
    // X'' is the least of all byte values and greater than any text.
    since: (column, t, param) => `((${column} >= ${param(t.toISOString())} AND ${column} < X'') OR ${column} >= ${param(bytesOf(t))})`,
    until: (column, t, param) => `(${column} < ${param(t.toISOString())} OR (${column} >= X'' AND ${column} < ${param(bytesOf(t))}))`,
  }
}
