/**
 * The embedded log's dictionary of names. A record names its client, its service and its signer as
 * X-Road identifiers of 20–60 characters, and a node sees a few hundred of them in a year; each is
 * stored once in `ura_log_names` and a record holds its number, as 1–3 bytes (big-endian, no
 * leading zero byte). A name column therefore holds bytes (a dictionary key) or text (the name
 * itself, as a log written before kept it); the type tells which (sqlite-columns.ts).
 *
 * The writer adds a name the first time it sees one, inside the transaction that stores its record,
 * so a key never reaches the file before its name does. An archive file has its own dictionary.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite'

export const NAMES_TABLE = 'CREATE TABLE IF NOT EXISTS ura_log_names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);'

/** A dictionary number as the bytes a record holds. */
export function keyBytes (id: number): Buffer {
  const bytes: number[] = []
  for (let n = id; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256)
  return Buffer.from(bytes)
}

/** The dictionary number a record's bytes hold. */
export function keyNumber (bytes: Uint8Array): number {
  let n = 0
  for (const b of bytes) n = n * 256 + b
  return n
}

/** The writer's side: the key of a name, added to the dictionary (in the caller's transaction) the first time. */
export class NameKeys {
  private readonly keys = new Map<string, Buffer>()
  /** Names added in the open transaction: forgotten if it rolls back, so no key outlives its row. */
  private added: string[] = []
  private readonly find: StatementSync
  private readonly add: StatementSync

  constructor (db: DatabaseSync) {
    this.find = db.prepare('SELECT id FROM ura_log_names WHERE name = ?')
    this.add = db.prepare('INSERT INTO ura_log_names (name) VALUES (?) RETURNING id')
    for (const row of db.prepare('SELECT id, name FROM ura_log_names').all() as Array<{ id: number; name: string }>) this.keys.set(row.name, keyBytes(row.id))
  }

  /** The key for `name`; anything but a non-empty text is stored as it is. */
  keyOf (name: unknown): unknown {
    if (typeof name !== 'string' || name === '') return name
    let key = this.keys.get(name)
    if (key === undefined) {
      // Another process writing the same file may have added it since this one read the dictionary.
      const row = (this.find.get(name) ?? this.add.get(name)) as { id: number }
      key = keyBytes(row.id)
      this.keys.set(name, key)
      this.added.push(name)
    }
    return key
  }

  committed (): void { this.added = [] }

  rolledBack (): void {
    for (const name of this.added) this.keys.delete(name)
    this.added = []
  }
}

/** The readers' side: a name by its number, read from the dictionary once and remembered. */
export class NameLookup {
  private readonly names = new Map<number, string>()
  private readonly db: DatabaseSync
  private byId: StatementSync | undefined
  private byName: StatementSync | undefined
  private every: StatementSync | undefined

  constructor (db: DatabaseSync) { this.db = db }

  /** The name with this number; undefined when the dictionary has none (a tampered key, or no dictionary at all). */
  name (id: number): string | undefined {
    let name = this.names.get(id)
    if (name === undefined) {
      name = (this.statement('id')?.get(id) as { name: string } | undefined)?.name
      if (name !== undefined) this.names.set(id, name)
    }
    return name
  }

  /** Every name in the dictionary with the key records hold for it, read afresh (a search by member looks through them). */
  all (): Array<{ name: string; key: Buffer }> {
    const rows = this.statement('all')?.all() as Array<{ id: number; name: string }> | undefined
    return (rows ?? []).map(r => ({ name: r.name, key: keyBytes(r.id) }))
  }

  /** The key records hold for this name, if the dictionary has it. */
  keyOf (name: string): Buffer | undefined {
    const row = this.statement('name')?.get(name) as { id: number } | undefined
    return row === undefined ? undefined : keyBytes(row.id)
  }

  /** A log written before the dictionary existed, opened read-only, has none: no record holds a key then. */
  private statement (by: 'id' | 'name' | 'all'): StatementSync | undefined {
    try {
      if (by === 'id') return (this.byId ??= this.db.prepare('SELECT name FROM ura_log_names WHERE id = ?'))
      if (by === 'all') return (this.every ??= this.db.prepare('SELECT id, name FROM ura_log_names'))
      return (this.byName ??= this.db.prepare('SELECT id FROM ura_log_names WHERE name = ?'))
    } catch {
      return undefined
    }
  }
}
