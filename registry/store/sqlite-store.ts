/**
 * The embedded registry store: one SQLite file (Node's built-in `node:sqlite`) in the node's data
 * directory. WAL journal with `synchronous=FULL`, so a commit is on disk before it returns; a commit
 * is one `BEGIN IMMEDIATE` transaction, which also serialises writers from other processes. Registry
 * commits are rare and small, so they run on the main thread (the message log needs a worker; this does not).
 * Other processes' commits are seen by polling: SQLite has no notifications.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { staleVersion } from './errors.ts'
import { rowInfo, VersionedStore, type StoreOptions, type VersionInfo, type VersionRow } from './store.ts'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ura_registry_versions (
  version INTEGER PRIMARY KEY, who TEXT NOT NULL, at TEXT NOT NULL, why TEXT NOT NULL, format INTEGER NOT NULL, content TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ura_registry_head (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
INSERT OR IGNORE INTO ura_registry_head (id, version) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS ura_registry_blobs (sha256 TEXT PRIMARY KEY, media_type TEXT NOT NULL, bytes BLOB NOT NULL, at TEXT NOT NULL);
`

export class SqliteRegistryStore extends VersionedStore {
  readonly kind = 'embedded'
  private readonly db: DatabaseSync

  private constructor (db: DatabaseSync, options: StoreOptions) {
    super(options)
    this.db = db
  }

  /** Opens (creating if needed) the database file. */
  static async open (file: string, options: StoreOptions): Promise<SqliteRegistryStore> {
    mkdirSync(dirname(file), { recursive: true })
    const db = new DatabaseSync(file)
    try {
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;')
      db.exec(SCHEMA)
    } catch (err) {
      db.close()
      throw err
    }
    return new SqliteRegistryStore(db, options)
  }

  /** For tests: runs SQL on the store's connection. */
  async exec (sql: string): Promise<void> {
    this.db.exec(sql)
  }

  protected async readHead (): Promise<number> {
    return this.head()
  }

  private head (): number {
    const row = this.db.prepare('SELECT version FROM ura_registry_head WHERE id = 1').get() as { version: number }
    return Number(row.version)
  }

  protected async readRow (n: number): Promise<VersionRow | undefined> {
    return this.db.prepare('SELECT version, who, at, why, format, content FROM ura_registry_versions WHERE version = ?').get(n) as VersionRow | undefined
  }

  protected async readInfos (after: number): Promise<VersionInfo[]> {
    // Only versions the head has reached: a row is written before the head moves, in one transaction.
    const rows = this.db.prepare('SELECT version, who, at, why FROM ura_registry_versions WHERE version > ? AND version <= (SELECT version FROM ura_registry_head WHERE id = 1) ORDER BY version').all(after)
    return rows.map(r => rowInfo(r as unknown as VersionRow))
  }

  /**
   * Synchronous from BEGIN to COMMIT: nothing else on this thread runs inside the transaction, so a
   * second connection in the same process never waits on a lock that cannot be released.
   */
  protected async append (expected: number, row: VersionRow): Promise<void> {
    this.db.exec('BEGIN IMMEDIATE')
    try {
      const head = this.head()
      if (head !== expected) throw staleVersion(expected, head)
      this.db.prepare('INSERT INTO ura_registry_versions (version, who, at, why, format, content) VALUES (?, ?, ?, ?, ?, ?)')
        .run(row.version, row.who, row.at, row.why, row.format, row.content)
      this.duringCommit?.(row.version)
      this.db.prepare('UPDATE ura_registry_head SET version = ? WHERE id = 1').run(row.version)
      this.db.exec('COMMIT')
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK')
      throw err
    }
  }

  protected async writeBlob (sha256: string, bytes: Uint8Array, mediaType: string): Promise<void> {
    this.db.prepare('INSERT OR IGNORE INTO ura_registry_blobs (sha256, media_type, bytes, at) VALUES (?, ?, ?, ?)').run(sha256, mediaType, bytes, new Date().toISOString())
  }

  protected async readBlob (sha256: string): Promise<{ bytes: Buffer; mediaType: string } | undefined> {
    const row = this.db.prepare('SELECT media_type, bytes FROM ura_registry_blobs WHERE sha256 = ?').get(sha256) as { media_type: string; bytes: Uint8Array } | undefined
    return row === undefined ? undefined : { bytes: Buffer.from(row.bytes), mediaType: row.media_type }
  }

  protected async listen (): Promise<() => Promise<void>> {
    return async () => {}
  }

  protected async shut (): Promise<void> {
    this.db.close()
  }
}
