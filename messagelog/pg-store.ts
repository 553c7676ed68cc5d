/**
 * The PostgreSQL message log (cluster mode: several nodes, one database, one chain). Each group is
 * one transaction that locks the chain head row, so nodes append in turn and the chain never forks;
 * with PostgreSQL's default `synchronous_commit = on`, COMMIT returns once the WAL is flushed. A group
 * is sealed (signed per key, seal.ts) right before its transaction, and inserted in one statement.
 */
import pg from 'pg'
import type { BatchSignature, SigningIdentity } from '../certs/batch-signer.ts'
import { POSTGRES_SQL, searchSql, summaryRow, trafficRow, trafficSql, type ExchangeQuery, type ExchangeSummary, type TrafficCell, type TrafficQuery } from './exchanges.ts'
import { completeRecords } from './complete.ts'
import { chainGroup, type NewRecord, type RecordFormat, type StoredRecord } from './record.ts'
import { logTables } from './schema.ts'
import { SealKeys, sealedResults, sealGroup, signedPart, storeOrder, type KeyedEntry, type LogEntry } from './seal.ts'
import { certFingerprint, GroupCommit, RECORD_COLUMNS, recordRow, rowRecord, type ChainAnchor, type GroupResult, type LogLocation, type LogStore, type LogStoreOptions } from './store.ts'

const SCHEMA = logTables({ seq: 'BIGINT', bytes: 'BYTEA', batchRanges: false, messageIndex: true }) + `
CREATE TABLE IF NOT EXISTS ura_log_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, hash TEXT NOT NULL, anchor_seq BIGINT, anchor_hash TEXT);
INSERT INTO ura_log_head (id, seq, hash) VALUES (1, 0, '${Buffer.alloc(64).toString('base64')}') ON CONFLICT (id) DO NOTHING;
`
const COLUMNS = RECORD_COLUMNS.map(c => c[1]).join(', ')

/**
 * A client checked out of the pool has no error listener (pg-pool removes its own), so a connection
 * the server drops between two queries would throw from an 'error' event and take the node down.
 * This borrows a client with a listener that records the error instead; the next query fails anyway.
 */
async function borrow (pool: pg.Pool): Promise<{ client: pg.PoolClient; done (err?: Error): void }> {
  const client = await pool.connect()
  let dropped: Error | undefined
  const onError = (err: Error): void => { dropped = err }
  client.on('error', onError)
  return {
    client,
    done: err => {
      client.off('error', onError)
      // A connection that failed is thrown away, not reused.
      client.release(err ?? dropped)
    },
  }
}

/** Runs `work` in one transaction on a borrowed client; rolls back (and discards a broken connection) on failure. */
async function inTransaction<T> (pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const { client, done } = await borrow(pool)
  let broken: Error | undefined
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    broken = err as Error
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    done(broken)
  }
}

/** The VALUES list of a multi-row insert: `values` holds the rows' values one after another, `width` per row. */
function placeholders (values: readonly unknown[], width: number): string {
  return Array.from({ length: values.length / width }, (_, i) => `(${Array.from({ length: width }, (__, j) => `$${i * width + j + 1}`).join(', ')})`).join(', ')
}

/**
 * A group's batch signatures in one statement, after the certificates of their chains that `stored`
 * does not hold (in one more; `fresh` receives their fingerprints, to be marked stored once the
 * transaction commits). A group used to take three round trips per signature.
 */
async function insertSignatures (client: pg.PoolClient, signatures: BatchSignature[], stored: ReadonlySet<string>, fresh: Set<string>): Promise<void> {
  if (signatures.length === 0) return
  const certs: string[] = []
  const rows: string[] = []
  for (const s of signatures) {
    const chain = s.chain.map(pem => {
      const fp = certFingerprint(pem)
      if (!stored.has(fp) && !fresh.has(fp)) { fresh.add(fp); certs.push(fp, pem) }
      return fp
    })
    rows.push(s.id, s.header, s.value, chain.join(','))
  }
  if (certs.length > 0) await client.query(`INSERT INTO ura_log_certificates (fingerprint, pem) VALUES ${placeholders(certs, 2)} ON CONFLICT DO NOTHING`, certs)
  await client.query(`INSERT INTO ura_log_signatures (id, header, value, chain) VALUES ${placeholders(rows, 4)} ON CONFLICT DO NOTHING`, rows)
}

export class PgLogStore implements LogStore {
  readonly kind = 'postgres'
  readonly location: LogLocation
  private readonly pool: pg.Pool
  private readonly group: GroupCommit<KeyedEntry>
  private readonly keys = new SealKeys()
  private readonly batchMax: number
  private readonly format: RecordFormat
  /** Certificates by fingerprint, read once: thousands of batch signatures share a few. */
  private readonly certificates = new Map<string, string>()
  /** Fingerprints of the certificates this store has committed (or found) in the log: not written again. */
  private readonly certificatesStored = new Set<string>()
  private closed = false

  private constructor (pool: pg.Pool, url: string, opts: LogStoreOptions) {
    this.pool = pool
    this.location = { kind: 'postgres', url }
    this.batchMax = opts.batchMax ?? 256
    this.format = opts.format ?? 2
    this.group = new GroupCommit(items => this.writeGroup(items), { windowMs: opts.windowMs ?? 0 })
  }

  /** Connects and creates the tables if they are missing. */
  static async open (url: string, opts: LogStoreOptions = {}): Promise<PgLogStore> {
    if (opts.signing === 'deferred') throw new Error('deferred signing is offered by the embedded message log only')
    const pool = new pg.Pool({ connectionString: url, max: 4 })
    // A connection the server drops while idle must not crash the node; the next query reconnects.
    pool.on('error', () => {})
    try {
      // Two nodes starting together must not race on CREATE TABLE.
      const { client, done } = await borrow(pool)
      try {
        await client.query('SELECT pg_advisory_lock(7517100)')
        await client.query(SCHEMA)
      } finally {
        await client.query('SELECT pg_advisory_unlock(7517100)').catch(() => {})
        done()
      }
    } catch (err) {
      await pool.end()
      throw err
    }
    return new PgLogStore(pool, url, opts)
  }

  get stats (): GroupCommit<unknown>['stats'] { return this.group.stats }

  get waiting (): number { return this.group.waiting }

  append (entry: LogEntry, identity: SigningIdentity, waitMs = 0): Promise<number> {
    return this.group.append({ ...entry, key: this.keys.numberOf(identity) }, waitMs)
  }

  private async writeGroup (entries: KeyedEntry[]): Promise<GroupResult[]> {
    if (this.closed) throw new Error('the message log is closed')
    const sealed = await sealGroup(entries, this.keys, this.batchMax, this.format)
    const order = storeOrder(sealed)
    const { records, leaves, signatures } = signedPart(sealed, order)
    return sealedResults(sealed, records.length === 0 ? 0 : (await this.insertGroup(records, leaves, signatures))[0].seq, order)
  }

  private async insertGroup (records: NewRecord[], leaves: Buffer[], signatures: BatchSignature[]): Promise<StoredRecord[]> {
    const fresh = new Set<string>()
    const written = await inTransaction(this.pool, async client => {
      const head = (await client.query('SELECT seq, hash FROM ura_log_head WHERE id = 1 FOR UPDATE')).rows[0] as { seq: string; hash: string }
      const stored = chainGroup({ seq: Number(head.seq), hash: head.hash }, records, leaves, this.format)
      await insertSignatures(client, signatures, this.certificatesStored, fresh)
      const values = stored.flatMap(recordRow)
      await client.query(`INSERT INTO ura_log_records (${COLUMNS}) VALUES ${placeholders(values, RECORD_COLUMNS.length)}`, values)
      const last = stored[stored.length - 1]
      await client.query('UPDATE ura_log_head SET seq = $1, hash = $2 WHERE id = 1', [last.seq, last.hash])
      return stored
    })
    // Committed: these certificates need not be written again.
    for (const fp of fresh) this.certificatesStored.add(fp)
    return written
  }

  async byMessageId (messageId: string): Promise<StoredRecord[]> {
    const { rows } = await this.pool.query(`SELECT * FROM ura_log_records WHERE message_id = $1 ORDER BY seq`, [messageId])
    return completeRecords(rows.map(rowRecord), this)
  }

  async batch (signatureId: string): Promise<StoredRecord[]> {
    const { rows } = await this.pool.query('SELECT * FROM ura_log_records WHERE signature_id = $1 ORDER BY seq', [signatureId])
    return rows.map(rowRecord)
  }

  async recordBefore (seq: number): Promise<ChainAnchor | undefined> {
    const row = (await this.pool.query('SELECT seq, hash FROM ura_log_records WHERE seq < $1 ORDER BY seq DESC LIMIT 1', [seq])).rows[0] as { seq: string; hash: string } | undefined
    return row === undefined ? undefined : { seq: Number(row.seq), hash: row.hash }
  }

  /** The rows of one batch signature's records, in order, as scanRows reads them. */
  async batchRows (signatureId: string): Promise<unknown[][]> {
    const { rows } = await this.pool.query<unknown[]>({ text: `SELECT ${COLUMNS} FROM ura_log_records WHERE signature_id = $1 ORDER BY seq`, values: [signatureId], rowMode: 'array' })
    return rows
  }

  async signature (id: string): Promise<BatchSignature | undefined> {
    return (await this.signatures([id])).get(id)
  }

  /** Signatures by id in one query, their certificates in one more (only those not read before). */
  async signatures (ids: string[]): Promise<Map<string, BatchSignature>> {
    const { rows } = await this.pool.query('SELECT id, header, value, chain FROM ura_log_signatures WHERE id = ANY($1)', [ids])
    const sigs = rows as Array<{ id: string; header: string; value: string; chain: string }>
    const chains = new Map(sigs.map(row => [row.id, row.chain === '' ? [] : row.chain.split(',')]))
    const unknown = [...new Set([...chains.values()].flat())].filter(fp => !this.certificates.has(fp))
    if (unknown.length > 0) {
      const certs = (await this.pool.query('SELECT fingerprint, pem FROM ura_log_certificates WHERE fingerprint = ANY($1)', [unknown])).rows as Array<{ fingerprint: string; pem: string }>
      for (const c of certs) this.certificates.set(c.fingerprint, c.pem)
    }
    return new Map(sigs.map(row => [row.id, { id: row.id, header: row.header, value: row.value, chain: chains.get(row.id)!.map(fp => this.certificates.get(fp) ?? '') }]))
  }

  async scan (afterSeq: number, limit: number): Promise<StoredRecord[]> {
    const { rows } = await this.pool.query('SELECT * FROM ura_log_records WHERE seq > $1 ORDER BY seq LIMIT $2', [afterSeq, limit])
    return rows.map(rowRecord)
  }

  /** scan's rows as read: arrays of the RECORD_COLUMNS in their order (what a verification walks), no object per row. */
  async scanRows (afterSeq: number, limit: number): Promise<unknown[][]> {
    const { rows } = await this.pool.query<unknown[]>({ text: `SELECT ${RECORD_COLUMNS.map(c => c[1]).join(', ')} FROM ura_log_records WHERE seq > $1 ORDER BY seq LIMIT $2`, values: [afterSeq, limit], rowMode: 'array' })
    return rows
  }

  async searchExchanges (query: ExchangeQuery): Promise<ExchangeSummary[]> {
    const sql = searchSql(query, POSTGRES_SQL)
    return (await this.pool.query(sql.text, sql.params)).rows.map(summaryRow)
  }

  async traffic (query: TrafficQuery): Promise<TrafficCell[]> {
    const sql = trafficSql(query, POSTGRES_SQL)
    return (await this.pool.query(sql.text, sql.params)).rows.map(trafficRow)
  }

  async extent (): Promise<{ first: number; last: number } | undefined> {
    const row = (await this.pool.query('SELECT MIN(seq) AS first, MAX(seq) AS last FROM ura_log_records')).rows[0] as { first: string | null; last: string | null }
    return row.first === null ? undefined : { first: Number(row.first), last: Number(row.last) }
  }

  async anchor (): Promise<ChainAnchor | undefined> {
    const { rows } = await this.pool.query('SELECT anchor_seq, anchor_hash FROM ura_log_head WHERE id = 1')
    const row = rows[0] as { anchor_seq: string | null; anchor_hash: string | null } | undefined
    return row?.anchor_seq == null ? undefined : { seq: Number(row.anchor_seq), hash: row.anchor_hash! }
  }

  async prune (before: Date): Promise<number> {
    const last = await this.cutBefore(before)
    return last === undefined ? 0 : this.removeThrough(last)
  }

  async cutBefore (before: Date): Promise<ChainAnchor | undefined> {
    const older = (await this.pool.query('SELECT seq, signature_id FROM ura_log_records WHERE seq = (SELECT MAX(seq) FROM ura_log_records WHERE time < $1)', [before.toISOString()])).rows[0] as { seq: string; signature_id: string } | undefined
    if (older === undefined) return undefined
    // A batch goes whole or stays whole: format 2 rebuilds its proofs from all of its records.
    const batch = (await this.pool.query('SELECT MIN(seq) AS first, MAX(seq) AS last FROM ura_log_records WHERE signature_id = $1', [older.signature_id])).rows[0] as { first: string; last: string }
    const upTo = Number(batch.last) > Number(older.seq) ? Number(batch.first) - 1 : Number(older.seq)
    const row = (await this.pool.query('SELECT seq, hash FROM ura_log_records WHERE seq = $1', [upTo])).rows[0] as { seq: string; hash: string } | undefined
    return row === undefined ? undefined : { seq: Number(row.seq), hash: row.hash }
  }

  async removeThrough (last: ChainAnchor): Promise<number> {
    return inTransaction(this.pool, async client => {
      await client.query('SELECT 1 FROM ura_log_head WHERE id = 1 FOR UPDATE')
      const held = (await client.query('SELECT hash FROM ura_log_records WHERE seq = $1', [last.seq])).rows[0] as { hash: string } | undefined
      if (held?.hash !== last.hash) throw new Error(`the message log holds no record ${last.seq} with the chain hash to cut at`)
      const { rowCount } = await client.query('DELETE FROM ura_log_records WHERE seq <= $1', [last.seq])
      await client.query('DELETE FROM ura_log_signatures s WHERE NOT EXISTS (SELECT 1 FROM ura_log_records r WHERE r.signature_id = s.id)')
      await client.query('UPDATE ura_log_head SET anchor_seq = $1, anchor_hash = $2 WHERE id = 1', [last.seq, last.hash])
      return rowCount ?? 0
    })
  }

  async close (): Promise<void> {
    if (this.closed) return
    await this.group.drain()
    this.closed = true
    await this.pool.end()
  }

  /** Test hook: runs raw SQL (tampering tests edit records directly). */
  async exec (sql: string, ...params: unknown[]): Promise<void> {
    await this.pool.query(sql, params)
  }
}
