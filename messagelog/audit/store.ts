/**
 * Where the audit trail is kept, apart from the exchanges: its own SQLite file (`audit.db` in the data
 * directory) for an embedded node, its own `ura_audit_*` tables for a PostgreSQL one. Admin actions
 * are few, so there is no group commit and no writer thread: each append is one transaction that
 * reads and moves the chain head, serialised in the process and locked in the database, so the
 * chain never forks. The exchange log's stores are left exactly as they are.
 *
 * Beside the signed fields, a change's record keeps where its states are in the registry's history
 * (the version it produced, the version it was made on, the readers of its states): columns added
 * to a trail made by an older ura at its next open, outside the signed leaf, so every record
 * already signed stays valid.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import type { BatchSignature } from '../../certs/batch-signer.ts'
import type { ProofStep } from '../../certs/merkle.ts'
import { chainHash, GENESIS_HASH } from '../record.ts'
import { certFingerprint, type ChainAnchor } from '../store.ts'
import { auditLeaf, type AuditContent, type AuditLink, type AuditRecord } from './record.ts'

type Row = Record<string, unknown>
type Query = (sql: string, params?: unknown[]) => Promise<Row[]>

type Statement = [sql: string, params: unknown[]]
/** What an append makes of the chain head: the statements that write it, and the stored record. */
type Advance<T> = (head: Row) => { statements: Statement[]; result: T }

/** The little each database must do for the trail: queries (`$n` placeholders), and one exclusive append transaction at a time. */
interface Sql {
  readonly kind: 'embedded' | 'postgres'
  query: Query
  /** In one transaction no other writer shares: reads the chain head, then runs what `next` makes of it. */
  advance<T> (next: Advance<T>): Promise<T>
  close (): Promise<void>
}

const HEAD = 'SELECT seq, hash FROM ura_audit_head WHERE id = 1'

function schema (types: { seq: 'BIGINT' | 'INTEGER' }): string {
  return `
CREATE TABLE IF NOT EXISTS ura_audit_records (
  seq ${types.seq} PRIMARY KEY, time TEXT NOT NULL, operator TEXT NOT NULL, role TEXT NOT NULL, action TEXT NOT NULL,
  target TEXT, before_digest TEXT, after_digest TEXT, result TEXT NOT NULL, error_code TEXT, request_id TEXT NOT NULL,
  signer TEXT NOT NULL, signature_id TEXT NOT NULL, proof TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ura_audit_records_operator ON ura_audit_records (operator, time);
CREATE INDEX IF NOT EXISTS ura_audit_records_target ON ura_audit_records (target, time);
CREATE TABLE IF NOT EXISTS ura_audit_signatures (id TEXT PRIMARY KEY, header TEXT NOT NULL, value TEXT NOT NULL, chain TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ura_audit_certificates (fingerprint TEXT PRIMARY KEY, pem TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ura_audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq ${types.seq} NOT NULL, hash TEXT NOT NULL);
INSERT INTO ura_audit_head (id, seq, hash) VALUES (1, 0, '${GENESIS_HASH}') ON CONFLICT (id) DO NOTHING;
`
}

/** The unsigned columns, added to an existing trail if it lacks them (every statement idempotent). */
function linkColumns (types: { seq: 'BIGINT' | 'INTEGER' }): Array<[column: string, type: string]> {
  return [['registry_version', types.seq], ['registry_base', types.seq], ['state_refs', 'TEXT']]
}
const LINK_INDEX = 'CREATE INDEX IF NOT EXISTS ura_audit_records_registry_version ON ura_audit_records (registry_version)'

const COLUMNS = [
  ['seq', 'seq'], ['time', 'time'], ['operator', 'operator'], ['role', 'role'], ['action', 'action'], ['target', 'target'],
  ['beforeDigest', 'before_digest'], ['afterDigest', 'after_digest'], ['result', 'result'], ['errorCode', 'error_code'],
  ['requestId', 'request_id'], ['signer', 'signer'], ['signatureId', 'signature_id'], ['proof', 'proof'],
  ['prevHash', 'prev_hash'], ['hash', 'hash'], ['registryVersion', 'registry_version'], ['registryBase', 'registry_base'], ['stateRefs', 'state_refs'],
] as const satisfies ReadonlyArray<readonly [keyof AuditRecord, string]>

function toRow (r: AuditRecord): unknown[] {
  return COLUMNS.map(([field]) => field === 'proof' || field === 'stateRefs' ? (r[field] === null ? null : JSON.stringify(r[field])) : r[field])
}

function fromRow (row: Row): AuditRecord {
  const r: Record<string, unknown> = {}
  for (const [field, column] of COLUMNS) r[field] = row[column] ?? null
  r.seq = Number(r.seq)
  r.proof = JSON.parse(row.proof as string)
  r.registryVersion = r.registryVersion === null ? null : Number(r.registryVersion)
  r.registryBase = r.registryBase === null ? null : Number(r.registryBase)
  r.stateRefs = r.stateRefs === null ? null : JSON.parse(r.stateRefs as string)
  return r as unknown as AuditRecord
}

/** What `list` selects; every given condition must hold. `from` is inclusive, `to` exclusive. */
export interface AuditFilter {
  operator?: string
  action?: string
  target?: string
  from?: Date
  to?: Date
  /** Most records returned (default 1000), oldest first. */
  limit?: number
  /** Only records after this sequence number (paging). */
  afterSeq?: number
  /** Only the change records that produced this registry version. */
  registryVersion?: number
}

export class AuditStore {
  private readonly sql: Sql
  /** Appends of this process, one after the other (the database lock covers other processes). */
  private tail: Promise<unknown> = Promise.resolve()

  private constructor (sql: Sql) {
    this.sql = sql
  }

  get kind (): 'embedded' | 'postgres' { return this.sql.kind }

  /** The embedded trail: its own SQLite file. */
  static async openFile (file: string): Promise<AuditStore> {
    mkdirSync(dirname(file), { recursive: true })
    const db = new DatabaseSync(file)
    try {
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;')
      db.exec(schema({ seq: 'INTEGER' }))
      // SQLite has no ADD COLUMN IF NOT EXISTS: the table says which columns it has.
      const has = new Set((db.prepare('PRAGMA table_info(ura_audit_records)').all() as Array<{ name: string }>).map(c => c.name))
      for (const [column, type] of linkColumns({ seq: 'INTEGER' })) {
        if (has.has(column)) continue
        try {
          db.exec(`ALTER TABLE ura_audit_records ADD COLUMN ${column} ${type}`)
        } catch (err) {
          // Another process opening the same file added it first.
          if (!/duplicate column/i.test((err as Error).message)) throw err
        }
      }
      db.exec(LINK_INDEX)
    } catch (err) {
      db.close()
      throw err
    }
    const querySync = (text: string, params: unknown[] = []): Row[] =>
      db.prepare(text.replace(/\$(\d+)/g, '?$1')).all(...(params as Array<string | number | null>)) as Row[]
    return new AuditStore({
      kind: 'embedded',
      query: async (text, params) => querySync(text, params),
      // Synchronous from BEGIN to COMMIT: nothing else on this thread runs inside the transaction.
      async advance (next) {
        db.exec('BEGIN IMMEDIATE')
        try {
          const { statements, result } = next(querySync(HEAD)[0])
          for (const [text, params] of statements) querySync(text, params)
          db.exec('COMMIT')
          return result
        } catch (err) {
          if (db.isTransaction) db.exec('ROLLBACK')
          throw err
        }
      },
      async close () { db.close() },
    })
  }

  /** The PostgreSQL trail: the `ura_audit_*` tables of the log's database. */
  static async openPostgres (url: string): Promise<AuditStore> {
    // PostgreSQL's client is loaded only by nodes that use it.
    const { default: pg } = await import('pg')
    const pool = new pg.Pool({ connectionString: url, max: 2 })
    pool.on('error', () => {})
    const exclusive = async <T>(work: (query: Query) => Promise<T>): Promise<T> => {
      const client = await pool.connect()
      let dropped: Error | undefined
      const onError = (err: Error): void => { dropped = err }
      client.on('error', onError)
      const query: Query = async (text, params = []) => (await client.query(text, params)).rows as Row[]
      try {
        await client.query('BEGIN')
        // Two nodes (or two processes) appending in turn: the chain never forks.
        await client.query('SELECT pg_advisory_xact_lock(7517101)')
        const result = await work(query)
        await client.query('COMMIT')
        return result
      } catch (err) {
        dropped ??= err as Error
        await client.query('ROLLBACK').catch(() => {})
        throw err
      } finally {
        client.off('error', onError)
        client.release(dropped)
      }
    }
    try {
      await exclusive(async query => {
        await query(schema({ seq: 'BIGINT' }))
        for (const [column, type] of linkColumns({ seq: 'BIGINT' })) await query(`ALTER TABLE ura_audit_records ADD COLUMN IF NOT EXISTS ${column} ${type}`)
        await query(LINK_INDEX)
      })
    } catch (err) {
      await pool.end()
      throw err
    }
    return new AuditStore({
      kind: 'postgres',
      query: async (text, params = []) => (await pool.query(text, params)).rows as Row[],
      advance: next => exclusive(async query => {
        const { statements, result } = next((await query(HEAD))[0])
        for (const [text, params] of statements) await query(text, params)
        return result
      }),
      close: () => pool.end(),
    })
  }

  /** Appends one signed record after the chain head, with a change's link (unsigned); resolves once it is committed. */
  append (content: AuditContent, signature: BatchSignature, proof: ProofStep[], link?: AuditLink): Promise<AuditRecord> {
    const next = this.tail.then(() => this.sql.advance(row => {
      const head = row as { seq: number | string; hash: string }
      const seq = Number(head.seq) + 1
      const record: AuditRecord = {
        ...content, seq, signatureId: signature.id, proof, prevHash: head.hash, hash: chainHash(seq, head.hash, auditLeaf(content), signature.id, proof),
        registryVersion: link?.registryVersion ?? null,
        registryBase: link?.registryBase ?? null,
        stateRefs: link?.stateRefs ?? null,
      }
      const certificates: Statement[] = signature.chain.map(pem => ['INSERT INTO ura_audit_certificates (fingerprint, pem) VALUES ($1, $2) ON CONFLICT DO NOTHING', [certFingerprint(pem), pem]])
      return {
        result: record,
        statements: [
          ...certificates,
          ['INSERT INTO ura_audit_signatures (id, header, value, chain) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [signature.id, signature.header, signature.value, certificates.map(c => c[1][0]).join(',')]],
          [`INSERT INTO ura_audit_records (${COLUMNS.map(c => c[1]).join(', ')}) VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`, toRow(record)],
          ['UPDATE ura_audit_head SET seq = $1, hash = $2 WHERE id = 1', [seq, record.hash]],
        ],
      }
    }))
    this.tail = next.catch(() => {})
    return next
  }

  async list (filter: AuditFilter = {}): Promise<AuditRecord[]> {
    const where: string[] = []
    const params: unknown[] = []
    const cond = (sql: string, value: unknown): void => { params.push(value); where.push(sql.replace('?', `$${params.length}`)) }
    if (filter.afterSeq !== undefined) cond('seq > ?', filter.afterSeq)
    if (filter.operator !== undefined) cond('operator = ?', filter.operator)
    if (filter.action !== undefined) cond('action = ?', filter.action)
    if (filter.target !== undefined) cond('target = ?', filter.target)
    if (filter.from !== undefined) cond('time >= ?', filter.from.toISOString())
    if (filter.to !== undefined) cond('time < ?', filter.to.toISOString())
    if (filter.registryVersion !== undefined) cond('registry_version = ?', filter.registryVersion)
    params.push(filter.limit ?? 1000)
    const rows = await this.sql.query(`SELECT * FROM ura_audit_records${where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`} ORDER BY seq LIMIT $${params.length}`, params)
    return rows.map(fromRow)
  }

  /** The record with this sequence number, if the trail has it. */
  async get (seq: number): Promise<AuditRecord | undefined> {
    const row = (await this.sql.query('SELECT * FROM ura_audit_records WHERE seq = $1', [seq]))[0]
    return row === undefined ? undefined : fromRow(row)
  }

  async scan (afterSeq: number, limit: number): Promise<AuditRecord[]> {
    return (await this.sql.query('SELECT * FROM ura_audit_records WHERE seq > $1 ORDER BY seq LIMIT $2', [afterSeq, limit])).map(fromRow)
  }

  async signature (id: string): Promise<BatchSignature | undefined> {
    const row = (await this.sql.query('SELECT id, header, value, chain FROM ura_audit_signatures WHERE id = $1', [id]))[0] as { id: string; header: string; value: string; chain: string } | undefined
    if (row === undefined) return undefined
    const fps = row.chain === '' ? [] : row.chain.split(',')
    const chain: string[] = []
    for (const fp of fps) chain.push(((await this.sql.query('SELECT pem FROM ura_audit_certificates WHERE fingerprint = $1', [fp]))[0] as { pem: string } | undefined)?.pem ?? '')
    return { id: row.id, header: row.header, value: row.value, chain }
  }

  /** The trail is never pruned: its chain starts at genesis. */
  async anchor (): Promise<ChainAnchor | undefined> {
    return undefined
  }

  /** The chain head the writers keep: a record lost from the end of the trail shows against it. */
  async head (): Promise<ChainAnchor> {
    const row = (await this.sql.query('SELECT seq, hash FROM ura_audit_head WHERE id = 1'))[0] as { seq: number | string; hash: string }
    return { seq: Number(row.seq), hash: row.hash }
  }

  async close (): Promise<void> {
    await this.tail
    await this.sql.close()
  }

  /** Test hook: runs raw SQL (tampering tests edit records directly). */
  async exec (sql: string, ...params: unknown[]): Promise<void> {
    await this.sql.query(sql, params)
  }
}
