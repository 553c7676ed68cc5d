/**
 * The message-log store interface (DESIGN §8) and the group commit both implementations share:
 * appends arriving while a commit is being written wait for the next one, so many concurrent
 * exchanges share one durable commit (one fsync), and an append resolves only once its record is durable.
 */
import { createHash } from 'node:crypto'
import type { BatchSignature } from '../certs/batch-signer.ts'
import type { ExchangeQuery, ExchangeSummary, TrafficCell, TrafficQuery } from './exchanges.ts'
import type { NewRecord, StoredRecord } from './record.ts'

export interface ChainAnchor { seq: number; hash: string }

/** Where a store keeps the log: enough for another thread to open it and read. */
export type LogLocation = { kind: 'embedded'; file: string } | { kind: 'postgres'; url: string }

export interface LogStore {
  readonly kind: 'embedded' | 'postgres'
  readonly location: LogLocation
  /**
   * Appends one record (and its batch signature, once) durably; resolves with its sequence number and
   * chain hash. `background`: nobody waits for this record at the door (a delivery attempt's): it
   * yields its place in a group to those someone waits for.
   */
  append (record: NewRecord, signature: BatchSignature, background?: boolean): Promise<StoredRecord>
  /** Records appended and not yet durable: queued for the next group or in the group being written (`ura_queue_depth{queue="log"}`). */
  readonly waiting: number
  /** Every record carrying this message id, in log order. */
  byMessageId (messageId: string): Promise<StoredRecord[]>
  signature (id: string): Promise<BatchSignature | undefined>
  /** Records with seq > afterSeq, in order, at most `limit`. */
  scan (afterSeq: number, limit: number): Promise<StoredRecord[]>
  /** Exchanges (a request record and the response answering it) matching the query, newest first. */
  searchExchanges (query: ExchangeQuery): Promise<ExchangeSummary[]>
  /** The exchanges of a time window counted per service, bucket, duration bin and outcome (see traffic.ts). */
  traffic (query: TrafficQuery): Promise<TrafficCell[]>
  /** The lowest and highest sequence numbers held, or undefined when the log holds no record. */
  extent (): Promise<{ first: number; last: number } | undefined>
  /** The last record removed by pruning: the remaining chain continues from its hash. */
  anchor (): Promise<ChainAnchor | undefined>
  /** Removes the records older than `before` (a prefix of the log) and signatures no longer used; returns how many records went. */
  prune (before: Date): Promise<number>
  close (): Promise<void>
}

/** A record field and the column that holds it (both stores use the same column names). */
export const RECORD_COLUMNS = [
  ['seq', 'seq'], ['time', 'time'], ['direction', 'direction'], ['protocol', 'protocol'],
  ['messageId', 'message_id'], ['requestId', 'request_id'], ['client', 'client'], ['service', 'service'],
  ['userId', 'user_id'], ['issue', 'issue'], ['representedParty', 'represented_party'], ['method', 'method'],
  ['path', 'path'], ['status', 'status'], ['fault', 'fault'], ['requestHash', 'request_hash'],
  ['headersDigest', 'headers_digest'], ['bodyDigest', 'body_digest'], ['signer', 'signer'], ['body', 'body'],
  ['signatureId', 'signature_id'], ['proof', 'proof'], ['prevHash', 'prev_hash'], ['hash', 'hash'],
] as const satisfies ReadonlyArray<readonly [keyof StoredRecord, string]>

export function recordRow (r: StoredRecord): unknown[] {
  return RECORD_COLUMNS.map(([field]) => field === 'proof' ? JSON.stringify(r.proof) : r[field])
}

export function rowRecord (row: Record<string, unknown>): StoredRecord {
  const r: Record<string, unknown> = {}
  for (const [field, column] of RECORD_COLUMNS) r[field] = row[column]
  r.seq = Number(r.seq)
  r.status = r.status === null ? null : Number(r.status)
  r.proof = JSON.parse(row.proof as string)
  r.body = r.body === null ? null : Buffer.from(r.body as Uint8Array)
  return r as unknown as StoredRecord
}

/** rowRecord for a row read as an array of the RECORD_COLUMNS in their order (a long scan makes no per-row objects of column names). */
export function arrayRecord (row: unknown[]): StoredRecord {
  const r: Record<string, unknown> = {}
  for (let i = 0; i < RECORD_COLUMNS.length; i++) r[RECORD_COLUMNS[i][0]] = row[i]
  r.seq = Number(r.seq)
  r.status = r.status === null ? null : Number(r.status)
  r.proof = JSON.parse(r.proof as string)
  r.body = r.body === null ? null : Buffer.from(r.body as Uint8Array)
  return r as unknown as StoredRecord
}

export function certFingerprint (pem: string): string {
  return createHash('sha256').update(pem.trim()).digest('hex')
}

interface Waiting {
  record: NewRecord
  signature: BatchSignature
  resolve (r: StoredRecord): void
  reject (err: Error): void
}

/**
 * The group-commit queue: `write` stores a whole group in one transaction, one group at a time.
 * Two lanes: a group takes the records someone waits for first (an exchange's), then fills up with
 * background ones (the node's own delivery attempts), so a backlog of deliveries being worked off
 * does not make a client's exchange wait behind it; a quarter of a full group is kept for the
 * background lane, so it is never starved either.
 */
export class GroupCommit {
  private queue: Waiting[] = []
  private background: Waiting[] = []
  private writing = false
  /** Records in the group being written. */
  private inFlight = 0
  private scheduled = false
  private closed = false
  private readonly write: (records: NewRecord[], signatures: BatchSignature[]) => Promise<StoredRecord[]>
  private readonly groupMax: number
  /** Groups committed and records in them (for tests and the benchmark). */
  readonly stats = { groups: 0, records: 0 }

  constructor (write: (records: NewRecord[], signatures: BatchSignature[]) => Promise<StoredRecord[]>, groupMax = 500) {
    this.write = write
    this.groupMax = groupMax
  }

  /** Records appended and not yet durable (read at each metrics scrape). */
  get waiting (): number {
    return this.queued + this.inFlight
  }

  /** Records in either lane, not yet in a group. */
  private get queued (): number {
    return this.queue.length + this.background.length
  }

  append (record: NewRecord, signature: BatchSignature, background = false): Promise<StoredRecord> {
    if (this.closed) return Promise.reject(new Error('the message log is closed'))
    return new Promise((resolve, reject) => {
      (background ? this.background : this.queue).push({ record, signature, resolve, reject })
      this.schedule()
    })
  }

  private schedule (): void {
    if (this.writing || this.scheduled) return
    this.scheduled = true
    // Wait one event-loop turn so the appends of every exchange handled in this turn join the group.
    setImmediate(() => { this.scheduled = false; void this.flush() })
  }

  private async flush (): Promise<void> {
    if (this.writing || this.queued === 0) return
    this.writing = true
    // A quarter of a full group stays for the background lane, so it is never starved.
    const reserve = Math.min(this.background.length, this.groupMax >> 2)
    const group = this.queue.splice(0, this.groupMax - reserve)
    group.push(...this.background.splice(0, this.groupMax - group.length))
    this.inFlight = group.length
    const signatures = new Map<string, BatchSignature>()
    for (const w of group) signatures.set(w.signature.id, w.signature)
    try {
      const stored = await this.write(group.map(w => w.record), [...signatures.values()])
      this.stats.groups++
      this.stats.records += group.length
      group.forEach((w, i) => w.resolve(stored[i]))
    } catch (err) {
      for (const w of group) w.reject(err as Error)
    } finally {
      this.writing = false
      this.inFlight = 0
      if (this.queued > 0) this.schedule()
    }
  }

  /** Refuses new appends and waits for queued ones to be written. */
  async drain (): Promise<void> {
    this.closed = true
    while (this.writing || this.queued > 0) {
      await new Promise(resolve => setImmediate(resolve))
      if (!this.writing && this.queued > 0) await this.flush()
    }
  }
}
