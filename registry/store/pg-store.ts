/**
 * The PostgreSQL registry store (cluster mode: every node reads one registry). One table of versions
 * and a head row; a commit is one transaction that locks the head row, so concurrent commits from any
 * number of clients take turns and the later one finds the head moved (STALE_VERSION). The commit
 * announces its version on the `ura_registry` channel (NOTIFY is delivered only if it commits);
 * watchers LISTEN on a connection of their own and also poll, in case a notification is lost.
 */
import pg from 'pg'
import { staleVersion } from './errors.ts'
import { rowInfo, VersionedStore, type StoreOptions, type VersionInfo, type VersionRow } from './store.ts'

export const REGISTRY_CHANNEL = 'ura_registry'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ura_registry_versions (
  version BIGINT PRIMARY KEY, who TEXT NOT NULL, at TEXT NOT NULL, why TEXT NOT NULL, format INTEGER NOT NULL, content TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ura_registry_head (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);
INSERT INTO ura_registry_head (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
CREATE TABLE IF NOT EXISTS ura_registry_blobs (sha256 TEXT PRIMARY KEY, media_type TEXT NOT NULL, bytes BYTEA NOT NULL, at TEXT NOT NULL);
`

export class PgRegistryStore extends VersionedStore {
  readonly kind = 'postgres'
  private readonly pool: pg.Pool
  private readonly url: string

  private constructor (pool: pg.Pool, url: string, options: StoreOptions) {
    super(options)
    this.pool = pool
    this.url = url
  }

  /** Connects and creates the tables if they are missing. */
  static async open (url: string, options: StoreOptions): Promise<PgRegistryStore> {
    const pool = new pg.Pool({ connectionString: url, max: 4 })
    // A connection the server drops while idle must not crash the node; the next query reconnects.
    pool.on('error', () => {})
    try {
      const client = await pool.connect()
      try {
        // Two nodes starting together must not race on CREATE TABLE.
        await client.query('SELECT pg_advisory_lock(7517101)')
        await client.query(SCHEMA)
      } finally {
        await client.query('SELECT pg_advisory_unlock(7517101)').catch(() => {})
        client.release()
      }
    } catch (err) {
      await pool.end()
      throw err
    }
    return new PgRegistryStore(pool, url, options)
  }

  /** For tests: runs SQL on a pooled connection. */
  async exec (sql: string): Promise<void> {
    await this.pool.query(sql)
  }

  protected async readHead (): Promise<number> {
    const { rows } = await this.pool.query<{ version: string }>('SELECT version FROM ura_registry_head WHERE id = 1')
    return Number(rows[0].version)
  }

  protected async readRow (n: number): Promise<VersionRow | undefined> {
    const { rows } = await this.pool.query('SELECT version, who, at, why, format, content FROM ura_registry_versions WHERE version = $1', [n])
    return rows[0] === undefined ? undefined : { ...rows[0], version: Number(rows[0].version) }
  }

  protected async readInfos (after: number): Promise<VersionInfo[]> {
    const { rows } = await this.pool.query('SELECT version, who, at, why FROM ura_registry_versions WHERE version > $1 AND version <= (SELECT version FROM ura_registry_head WHERE id = 1) ORDER BY version', [after])
    return rows.map(r => rowInfo(r))
  }

  protected async append (expected: number, row: VersionRow): Promise<void> {
    const client = await this.pool.connect()
    let dropped: Error | undefined
    const onError = (err: Error): void => { dropped = err }
    client.on('error', onError)
    let broken: Error | undefined
    try {
      await client.query('BEGIN')
      // The lock makes commits take turns; READ COMMITTED re-reads the row once the lock is ours.
      const { rows } = await client.query<{ version: string }>('SELECT version FROM ura_registry_head WHERE id = 1 FOR UPDATE')
      const head = Number(rows[0].version)
      if (head !== expected) throw staleVersion(expected, head)
      await client.query('INSERT INTO ura_registry_versions (version, who, at, why, format, content) VALUES ($1, $2, $3, $4, $5, $6)',
        [row.version, row.who, row.at, row.why, row.format, row.content])
      await this.duringCommit?.(row.version)
      await client.query('UPDATE ura_registry_head SET version = $1 WHERE id = 1', [row.version])
      await client.query('SELECT pg_notify($1, $2)', [REGISTRY_CHANNEL, String(row.version)])
      await client.query('COMMIT')
    } catch (err) {
      broken = err as Error
      await client.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      client.off('error', onError)
      // A connection that failed is thrown away, not reused (a stale-version refusal is not a failure).
      client.release(dropped ?? (broken !== undefined && !(broken.name === 'RegistryStoreError') ? broken : undefined))
    }
  }

  protected async writeBlob (sha256: string, bytes: Uint8Array, mediaType: string): Promise<void> {
    await this.pool.query('INSERT INTO ura_registry_blobs (sha256, media_type, bytes, at) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING', [sha256, mediaType, Buffer.from(bytes), new Date().toISOString()])
  }

  protected async readBlob (sha256: string): Promise<{ bytes: Buffer; mediaType: string } | undefined> {
    const { rows } = await this.pool.query<{ media_type: string; bytes: Buffer }>('SELECT media_type, bytes FROM ura_registry_blobs WHERE sha256 = $1', [sha256])
    return rows[0] === undefined ? undefined : { bytes: rows[0].bytes, mediaType: rows[0].media_type }
  }

  /** A connection of its own, listening; if it drops, the next wake (a poll) opens a new one. */
  protected async listen (wake: () => void): Promise<() => Promise<void>> {
    let client: pg.Client | undefined
    let stopped = false
    let connecting: Promise<void> | undefined
    const connect = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: this.url })
      c.on('error', () => { if (client === c) client = undefined; c.end().catch(() => {}) })
      c.on('notification', msg => { if (msg.channel === REGISTRY_CHANNEL) wake() })
      try {
        await c.connect()
        await c.query(`LISTEN ${REGISTRY_CHANNEL}`)
      } catch {
        await c.end().catch(() => {})
        return
      }
      if (stopped) { await c.end().catch(() => {}); return }
      client = c
      // Anything committed while the connection was down is read now.
      wake()
    }
    const ensure = (): void => {
      if (stopped || client !== undefined || connecting !== undefined) return
      connecting = connect().finally(() => { connecting = undefined })
    }
    await connect()
    const timer = setInterval(ensure, 1000)
    timer.unref()
    return async () => {
      stopped = true
      clearInterval(timer)
      await connecting
      await client?.end().catch(() => {})
      client = undefined
    }
  }

  protected async shut (): Promise<void> {
    await this.pool.end()
  }
}
