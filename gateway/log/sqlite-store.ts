/**
 * The embedded message log: one SQLite database (Node's built-in `node:sqlite`) in the node's data
 * directory. WAL journal with `synchronous=FULL`, so a committed group is on disk (fsynced) before any
 * of its appends resolve; one transaction per group. The chain tail is read inside the write
 * transaction, so even two processes writing the same file keep one chain.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import type { BatchSignature } from '../../certs/batch-signer.ts'
import { chainGroup, GENESIS_HASH, type NewRecord, type StoredRecord } from './record.ts'
import { certFingerprint, GroupCommit, RECORD_COLUMNS, recordRow, rowRecord, type ChainAnchor, type LogStore } from './store.ts'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ura_log_records (
  seq INTEGER PRIMARY KEY, time TEXT NOT NULL, direction TEXT NOT NULL, protocol TEXT NOT NULL,
  message_id TEXT NOT NULL, request_id TEXT NOT NULL, client TEXT NOT NULL, service TEXT NOT NULL,
  user_id TEXT, issue TEXT, represented_party TEXT, method TEXT, path TEXT, status INTEGER, fault TEXT,
  request_hash TEXT, headers_digest TEXT NOT NULL, body_digest TEXT NOT NULL, signer TEXT NOT NULL, body BLOB,
  signature_id TEXT NOT NULL, proof TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ura_log_records_message_id ON ura_log_records (message_id);
CREATE INDEX IF NOT EXISTS ura_log_records_signature_id ON ura_log_records (signature_id);
CREATE TABLE IF NOT EXISTS ura_log_signatures (id TEXT PRIMARY KEY, header TEXT NOT NULL, value TEXT NOT NULL, chain TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ura_log_certificates (fingerprint TEXT PRIMARY KEY, pem TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ura_log_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`

export class SqliteLogStore implements LogStore {
  readonly kind = 'embedded'
  private readonly db: DatabaseSync
  private readonly group: GroupCommit
  private readonly insertRecord: StatementSync
  private readonly insertSignature: StatementSync
  private readonly insertCert: StatementSync
  private readonly lastRecord: StatementSync
  private closed = false

  constructor (file: string) {
    mkdirSync(dirname(file), { recursive: true })
    this.db = new DatabaseSync(file)
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;')
    this.db.exec(SCHEMA)
    this.lastRecord = this.db.prepare('SELECT seq, hash FROM ura_log_records ORDER BY seq DESC LIMIT 1')
    this.insertRecord = this.db.prepare(`INSERT INTO ura_log_records (${RECORD_COLUMNS.map(c => c[1]).join(', ')}) VALUES (${RECORD_COLUMNS.map(() => '?').join(', ')})`)
    this.insertSignature = this.db.prepare('INSERT OR IGNORE INTO ura_log_signatures (id, header, value, chain) VALUES (?, ?, ?, ?)')
    this.insertCert = this.db.prepare('INSERT OR IGNORE INTO ura_log_certificates (fingerprint, pem) VALUES (?, ?)')
    this.group = new GroupCommit(async (records, signatures) => this.writeGroup(records, signatures))
  }

  get stats (): GroupCommit['stats'] { return this.group.stats }

  append (record: NewRecord, signature: BatchSignature): Promise<StoredRecord> {
    return this.group.append(record, signature)
  }

  private writeGroup (records: NewRecord[], signatures: BatchSignature[]): StoredRecord[] {
    if (this.closed) throw new Error('the message log is closed')
    this.db.exec('BEGIN IMMEDIATE')
    try {
      const tail = (this.lastRecord.get() as ChainAnchor | undefined) ?? this.readAnchor() ?? { seq: 0, hash: GENESIS_HASH }
      const stored = chainGroup(tail, records)
      for (const s of signatures) {
        const fingerprints = s.chain.map(pem => {
          const fp = certFingerprint(pem)
          this.insertCert.run(fp, pem)
          return fp
        })
        this.insertSignature.run(s.id, s.header, s.value, fingerprints.join(','))
      }
      for (const r of stored) this.insertRecord.run(...(recordRow(r) as Array<string | number | null | Uint8Array>))
      this.db.exec('COMMIT')
      return stored
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK')
      throw err
    }
  }

  async byMessageId (messageId: string): Promise<StoredRecord[]> {
    return (this.db.prepare('SELECT * FROM ura_log_records WHERE message_id = ? ORDER BY seq').all(messageId) as Array<Record<string, unknown>>).map(rowRecord)
  }

  async signature (id: string): Promise<BatchSignature | undefined> {
    const row = this.db.prepare('SELECT id, header, value, chain FROM ura_log_signatures WHERE id = ?').get(id) as { id: string; header: string; value: string; chain: string } | undefined
    if (row === undefined) return undefined
    const cert = this.db.prepare('SELECT pem FROM ura_log_certificates WHERE fingerprint = ?')
    const chain = row.chain === '' ? [] : row.chain.split(',').map(fp => (cert.get(fp) as { pem: string } | undefined)?.pem ?? '')
    return { id: row.id, header: row.header, value: row.value, chain }
  }

  async scan (afterSeq: number, limit: number): Promise<StoredRecord[]> {
    return (this.db.prepare('SELECT * FROM ura_log_records WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq, limit) as Array<Record<string, unknown>>).map(rowRecord)
  }

  private readAnchor (): ChainAnchor | undefined {
    const row = this.db.prepare("SELECT value FROM ura_log_meta WHERE key = 'anchor'").get() as { value: string } | undefined
    return row === undefined ? undefined : JSON.parse(row.value) as ChainAnchor
  }

  async anchor (): Promise<ChainAnchor | undefined> {
    return this.readAnchor()
  }

  async prune (before: Date): Promise<number> {
    const last = this.db.prepare('SELECT seq, hash FROM ura_log_records WHERE seq = (SELECT MAX(seq) FROM ura_log_records WHERE time < ?)').get(before.toISOString()) as ChainAnchor | undefined
    if (last === undefined) return 0
    this.db.exec('BEGIN IMMEDIATE')
    try {
      const { changes } = this.db.prepare('DELETE FROM ura_log_records WHERE seq <= ?').run(last.seq)
      this.db.prepare('DELETE FROM ura_log_signatures WHERE id NOT IN (SELECT DISTINCT signature_id FROM ura_log_records)').run()
      this.db.prepare("INSERT INTO ura_log_meta (key, value) VALUES ('anchor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(JSON.stringify({ seq: last.seq, hash: last.hash }))
      this.db.exec('COMMIT')
      return Number(changes)
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK')
      throw err
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    await this.group.drain()
    this.closed = true
    this.db.close()
  }

  /** Test hook: runs raw SQL (tampering tests edit records directly); `$n` placeholders as in PostgreSQL. */
  async exec (sql: string, ...params: unknown[]): Promise<void> {
    this.db.prepare(sql.replace(/\$(\d+)/g, '?$1')).run(...(params as Array<string | number | null | Uint8Array>))
  }
}
