/**
 * Idempotency keys (IETF httpapi draft "The Idempotency-Key HTTP Header Field"): a client that may
 * repeat a POST or PATCH sends a key; the node remembers, per client and key, a fingerprint of the
 * request and the answer it gave. The same key with the same request gets that answer again (for
 * store-and-forward: the same 202 and so the same delivery); with another request, 422; while the
 * first is still running, 409. Keys live for a window (node.delivery.idempotencyHours).
 *
 * Two homes like the queue: a table in the embedded delivery file, or in PostgreSQL for a cluster.
 */
import type pg from 'pg'
import { DatabaseSync } from 'node:sqlite'

export interface StoredAnswer {
  status: number
  headers: Record<string, string | string[]>
  body: Buffer
}

export type Claim =
  | { kind: 'new' }
  | { kind: 'replay'; answer: StoredAnswer }
  | { kind: 'in-flight' }
  | { kind: 'mismatch' }

export interface IdempotencyStore {
  /** Takes the key for this request unless it is known: then says what the earlier use was. */
  claim (client: string, key: string, fingerprint: string, windowMs: number): Promise<Claim>
  /** Keeps the answer given, for replays within the window. */
  finish (client: string, key: string, answer: StoredAnswer): Promise<void>
  /** Forgets a claim whose request failed before an answer (the client may try again with the key). */
  release (client: string, key: string): Promise<void>
  close (): Promise<void>
}

/** A claim left in flight by a node that stopped is taken over after this long. */
export const IN_FLIGHT_LEASE_MS = 5 * 60_000

const encode = (a: StoredAnswer): string => JSON.stringify({ status: a.status, headers: a.headers, body: a.body.toString('base64') })
function decode (text: string): StoredAnswer {
  const v = JSON.parse(text) as { status: number; headers: Record<string, string | string[]>; body: string }
  return { status: v.status, headers: v.headers, body: Buffer.from(v.body, 'base64') }
}

function decide (row: { fingerprint: string; answer: string | null; lockedUntil: number } | undefined, fingerprint: string, now: number): Claim | undefined {
  if (row === undefined) return undefined
  if (row.fingerprint !== fingerprint) return { kind: 'mismatch' }
  if (row.answer !== null) return { kind: 'replay', answer: decode(row.answer) }
  if (row.lockedUntil > now) return { kind: 'in-flight' }
  return undefined
}

export class SqliteIdempotency implements IdempotencyStore {
  private readonly db: DatabaseSync

  constructor (file: string) {
    this.db = new DatabaseSync(file)
    this.db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS ura_idempotency (client TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
        answer TEXT, locked_until INTEGER NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (client, key));`)
  }

  async claim (client: string, key: string, fingerprint: string, windowMs: number): Promise<Claim> {
    const now = Date.now()
    const row = this.db.prepare('SELECT fingerprint, answer, locked_until FROM ura_idempotency WHERE client = ? AND key = ? AND expires_at > ?').get(client, key, now)
    const known = decide(row === undefined ? undefined : { fingerprint: row.fingerprint as string, answer: row.answer as string | null, lockedUntil: Number(row.locked_until) }, fingerprint, now)
    if (known !== undefined) return known
    this.db.prepare(`INSERT INTO ura_idempotency (client, key, fingerprint, answer, locked_until, expires_at) VALUES (?, ?, ?, NULL, ?, ?)
      ON CONFLICT (client, key) DO UPDATE SET fingerprint = excluded.fingerprint, answer = NULL, locked_until = excluded.locked_until, expires_at = excluded.expires_at`)
      .run(client, key, fingerprint, now + IN_FLIGHT_LEASE_MS, now + windowMs)
    if (Math.random() < 0.01) this.db.prepare('DELETE FROM ura_idempotency WHERE expires_at <= ?').run(now)
    return { kind: 'new' }
  }

  async finish (client: string, key: string, answer: StoredAnswer): Promise<void> {
    this.db.prepare('UPDATE ura_idempotency SET answer = ?, locked_until = 0 WHERE client = ? AND key = ?').run(encode(answer), client, key)
  }

  async release (client: string, key: string): Promise<void> {
    this.db.prepare('DELETE FROM ura_idempotency WHERE client = ? AND key = ? AND answer IS NULL').run(client, key)
  }

  async close (): Promise<void> {
    this.db.close()
  }
}

export class PgIdempotency implements IdempotencyStore {
  private readonly pool: pg.Pool

  private constructor (pool: pg.Pool) {
    this.pool = pool
  }

  static async open (url: string): Promise<PgIdempotency> {
    // Loaded here, not at the top: the embedded home's thread imports this file and never needs pg.
    const { default: pgLib } = await import('pg')
    const pool = new pgLib.Pool({ connectionString: url, max: 4 })
    await pool.query(`CREATE TABLE IF NOT EXISTS ura_idempotency (client text NOT NULL, key text NOT NULL, fingerprint text NOT NULL,
      answer text, locked_until bigint NOT NULL, expires_at bigint NOT NULL, PRIMARY KEY (client, key))`)
    return new PgIdempotency(pool)
  }

  async claim (client: string, key: string, fingerprint: string, windowMs: number): Promise<Claim> {
    const now = Date.now()
    // Insert, or take over an expired or abandoned claim; otherwise read what is there. One statement, so two nodes never both win.
    const won = await this.pool.query(`INSERT INTO ura_idempotency AS i (client, key, fingerprint, answer, locked_until, expires_at) VALUES ($1, $2, $3, NULL, $4, $5)
      ON CONFLICT (client, key) DO UPDATE SET fingerprint = excluded.fingerprint, answer = NULL, locked_until = excluded.locked_until, expires_at = excluded.expires_at
      WHERE i.expires_at <= $6 OR (i.answer IS NULL AND i.locked_until <= $6 AND i.fingerprint = excluded.fingerprint)
      RETURNING 1`, [client, key, fingerprint, now + IN_FLIGHT_LEASE_MS, now + windowMs, now])
    if (won.rowCount === 1) return { kind: 'new' }
    const { rows } = await this.pool.query('SELECT fingerprint, answer, locked_until FROM ura_idempotency WHERE client = $1 AND key = $2', [client, key])
    const row = rows[0] as { fingerprint: string; answer: string | null; locked_until: string } | undefined
    return decide(row === undefined ? undefined : { fingerprint: row.fingerprint, answer: row.answer, lockedUntil: Number(row.locked_until) }, fingerprint, now) ?? { kind: 'in-flight' }
  }

  async finish (client: string, key: string, answer: StoredAnswer): Promise<void> {
    await this.pool.query('UPDATE ura_idempotency SET answer = $1, locked_until = 0 WHERE client = $2 AND key = $3', [encode(answer), client, key])
  }

  async release (client: string, key: string): Promise<void> {
    await this.pool.query('DELETE FROM ura_idempotency WHERE client = $1 AND key = $2 AND answer IS NULL', [client, key])
  }

  async close (): Promise<void> {
    await this.pool.end()
  }
}
