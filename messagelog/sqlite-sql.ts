/**
 * The embedded store's SQL dialect for operators' searches and traffic counts (exchanges.ts), on the
 * store's own connection. Names, message ids and times may be stored as bytes or, in a log written
 * before, as text (sqlite-columns.ts), so a condition matches both forms: an equality lists both
 * values, a member's names are looked up in the dictionary and listed by their keys (the text
 * conditions match the older rows), and a time range is two ranges of the time index — texts sort
 * before bytes in SQLite, and the bytes of a time sort as times do. One SQL function reads a stored
 * time as milliseconds since 1970: `ura_ms`. Traffic cells come back per stored service (key or
 * text) and are merged by name (the store's traffic).
 */
import type { DatabaseSync } from 'node:sqlite'
import type { SqlDialect } from './exchanges.ts'
import { idForms, timeBytes } from './sqlite-columns.ts'
import { messageIdIs, RESPONSE_JOIN_BY_BUCKET } from './sqlite-message-index.ts'
import type { NameLookup } from './sqlite-names.ts'

/** Registers the dialect's functions on `db` and returns the dialect. */
export function sqliteDialect (db: DatabaseSync, names: NameLookup): SqlDialect {
  db.function('ura_ms', { deterministic: true }, (value: unknown) => {
    if (value instanceof Uint8Array) return value.length === 6 ? Buffer.from(value.buffer, value.byteOffset, 6).readUIntBE(0, 6) : null
    const ms = typeof value === 'string' ? Date.parse(value) : NaN
    return Number.isNaN(ms) ? null : ms
  })
  const bytesOf = (t: Date): Buffer => timeBytes(Math.max(0, t.getTime()))
  return {
    msBetween: (a, b) => `(ura_ms(${b}) - ura_ms(${a}))`,
    whole: v => `CAST(${v} AS INTEGER)`,
    member: (m, param) => {
      const prefix = `${m}/`
      const every = names.all()
      const ofMember = every.filter(n => n.name.startsWith(prefix))
      const clients = [...ofMember, ...every.filter(n => n.name === m)].map(n => param(n.key))
      const services = ofMember.map(n => param(n.key))
      const length = param(prefix.length)
      const prefixParam = param(prefix)
      return [
        `q.client = ${param(m)} OR substr(q.client, 1, ${length}) = ${prefixParam} OR substr(q.service, 1, ${length}) = ${prefixParam}`,
        ...(clients.length === 0 ? [] : [`q.client IN (${clients.join(', ')})`]),
        ...(services.length === 0 ? [] : [`q.service IN (${services.join(', ')})`]),
      ].join(' OR ')
    },
    nameForms: name => {
      const key = names.keyOf(name)
      return key === undefined ? [name] : [name, key]
    },
    idForms,
    // Through the index of message ids by bucket of sequence numbers (sqlite-message-index.ts).
    messageIdIs: forms => messageIdIs('q', forms),
    responseJoin: RESPONSE_JOIN_BY_BUCKET,
    // X'' is the least of all byte values and greater than any text.
    since: (column, t, param) => `((${column} >= ${param(t.toISOString())} AND ${column} < X'') OR ${column} >= ${param(bytesOf(t))})`,
    until: (column, t, param) => `(${column} < ${param(t.toISOString())} OR (${column} >= X'' AND ${column} < ${param(bytesOf(t))}))`,
  }
}
