/**
 * The message-log store interface (DESIGN §8) and the group commit both implementations share:
 * appends arriving while a commit is being written wait for the next one, so many concurrent
 * exchanges share one durable commit (one fsync), and an append resolves only once its record is durable.
 */
import { createHash } from 'node:crypto'
import type { BatchSignature, SigningIdentity, SigningKeyProvider } from '../certs/batch-signer.ts'
import type { ExchangeQuery, ExchangeSummary, TrafficCell, TrafficQuery } from './exchanges.ts'
import type { RecordFormat, StoredRecord } from './record.ts'
import type { LogEntry } from './seal.ts'

export interface ChainAnchor { seq: number; hash: string }

/** How a store forms its commit groups (node.log.batchMs, node.log.batchMax). */
export interface LogStoreOptions {
  /** How long a group stays open for records someone waits for (0: the event-loop turn). */
  windowMs?: number
  /** Records under one signature at most. */
  batchMax?: number
  /** The record format written (record.ts): 2; 1 only to make logs as earlier versions wrote them (tests of reading them). */
  format?: RecordFormat
  /**
   * node.log.signing: `immediate` (default) signs a commit group's records before they are stored;
   * `deferred` stores them first and signs each key's batch within `signWithinMs` (the embedded
   * store only: deferred-batches.ts).
   */
  signing?: 'immediate' | 'deferred'
  signWithinMs?: number
}

/** Where a store keeps the log: enough for another thread to open it and read. */
export type LogLocation = { kind: 'embedded'; file: string } | { kind: 'postgres'; url: string }

export interface LogStore {
  readonly kind: 'embedded' | 'postgres'
  readonly location: LogLocation
  /**
   * Appends one record durably, signed with `identity`'s key in a batch with the other records of its
   * commit group for that key; resolves with its sequence number once it is durable. `waitMs` > 0:
   * nobody waits for this record at the door (a delivery attempt's): it yields its place in a group to
   * those someone waits for, and may wait that long for others to share its key's signature.
   */
  append (entry: LogEntry, identity: SigningIdentity, waitMs?: number): Promise<number>
  /** Records appended and not yet durable: queued for the next group or in the group being written (`ura_queue_depth{queue="log"}`). */
  readonly waiting: number
  /** Deferred signing: records durable whose batch signature is not yet (`ura_queue_depth{queue="unsigned"}`); undefined where the store signs at once. */
  readonly unsigned?: number | undefined
  /**
   * Signs the batches a node that stopped left pending (deferred signing), with the keys their
   * signers have now; before any append. Returns how many batches it signed; those whose signer has
   * no key stay pending (and are named in `left`).
   */
  signPending? (keys: SigningKeyProvider): Promise<{ signed: number; left: string[] }>
  /** Deferred signing: the signer of a batch whose records are stored and whose signature is not yet, else undefined. */
  pendingSigner? (signatureId: string): Promise<string | undefined>
  /** The V8 heap of the store's own thread (the embedded log's writer), in bytes; absent where the store has none (`ura_thread_heap_bytes`). */
  threadHeap? (): Promise<{ used: number; total: number }>
  /** Every record carrying this message id, in log order, whole (format 2's proof and previous hash filled in: complete.ts). */
  byMessageId (messageId: string): Promise<StoredRecord[]>
  /** The records signed under one batch signature, in log order (as a scan reads them). */
  batch (signatureId: string): Promise<StoredRecord[]>
  /** The sequence number and chain hash of the last record held before `seq`. */
  recordBefore (seq: number): Promise<ChainAnchor | undefined>
  signature (id: string): Promise<BatchSignature | undefined>
  /** Several batch signatures in one read (where the store can); missing ones are absent. */
  signatures (ids: string[]): Promise<Map<string, BatchSignature>>
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
  /**
   * The last record a cut at `before` takes from the start of the log (prune, archive): the newest
   * record older than `before`, moved back to the end of the batch before when its batch goes on
   * past it (a batch goes whole or stays whole); undefined when there is none.
   */
  cutBefore (before: Date): Promise<ChainAnchor | undefined>
  /**
   * Removes the records up to `last` — which must be the record held at `last.seq`, with that chain
   * hash — and the signatures no longer used, in one transaction; `last` becomes the anchor the rest
   * of the chain starts from. Returns how many records went.
   */
  removeThrough (last: ChainAnchor): Promise<number>
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

/**
 * A record's column values. Format 2 stores neither the proof nor the previous hash: both columns
 * hold '' (a format 1 proof is never empty text, at least `[]`), which is how a row says its format.
 */
export function recordRow (r: StoredRecord): unknown[] {
  const lean = r.chain === 2
  return RECORD_COLUMNS.map(([field]) => field === 'proof' ? (lean ? '' : JSON.stringify(r.proof)) : field === 'prevHash' && lean ? '' : r[field])
}

export function rowRecord (row: Record<string, unknown>): StoredRecord {
  const r: Record<string, unknown> = {}
  for (const [field, column] of RECORD_COLUMNS) r[field] = row[column]
  return typed(r)
}

/** rowRecord for a row read as an array of the RECORD_COLUMNS in their order (a long scan makes no per-row objects of column names). */
export function arrayRecord (row: unknown[]): StoredRecord {
  const r: Record<string, unknown> = {}
  for (let i = 0; i < RECORD_COLUMNS.length; i++) r[RECORD_COLUMNS[i][0]] = row[i]
  return typed(r)
}

function typed (r: Record<string, unknown>): StoredRecord {
  r.seq = Number(r.seq)
  r.status = r.status === null ? null : Number(r.status)
  if (r.proof === '') {
    r.chain = 2
    r.proof = []
  } else {
    r.proof = JSON.parse(r.proof as string)
  }
  r.body = r.body === null ? null : Buffer.from(r.body as Uint8Array)
  return r as unknown as StoredRecord
}

/** Fingerprints by certificate text: a member signs with one chain for months, and each group's signatures name it. */
const fingerprints = new Map<string, string>()

/** A certificate's SHA-256 fingerprint (hex), computed once per certificate text. */
export function certFingerprint (pem: string): string {
  let fp = fingerprints.get(pem)
  if (fp === undefined) {
    if (fingerprints.size >= 1024) fingerprints.clear()
    fp = createHash('sha256').update(pem.trim()).digest('hex')
    fingerprints.set(pem, fp)
  }
  return fp
}

interface Waiting<T> {
  item: T
  resolve (seq: number): void
  reject (err: Error): void
}

/** What a group's write gives each of its items: its sequence number, or why it was not written. */
export type GroupResult = number | Error

export interface GroupCommitOptions {
  /** Records in one group at most. */
  groupMax?: number
  /**
   * How long a group stays open for records someone waits for (node.log.batchMs): 0 closes it at the
   * end of the event-loop turn its first record arrived in.
   */
  windowMs?: number
  /**
   * Groups handed to `write` and not yet answered, at most (default 1). The embedded store's writer
   * signs the next group on libuv's pool while it commits the one before, so it takes two.
   */
  depth?: number
}

/**
 * The group-commit queue: `write` seals and stores a whole group in one step, `depth` groups at a
 * time (they are chained and committed in the order they were handed over); records that arrive
 * meanwhile form the next group, so a busy log writes bigger groups instead of queueing commits. Two lanes: a group takes the records someone waits for first (an exchange's), then
 * fills up with background ones (the node's own delivery attempts), so a backlog of deliveries does not
 * make a client's exchange wait behind it; a quarter of a full group is kept for the background lane,
 * so it is never starved either. A background record may say how long it can wait (`waitMs`): while
 * only such records are queued, the group closes at the earliest of their deadlines, so their keys
 * sign more of them under one signature.
 */
export class GroupCommit<T> {
  private queue: Array<Waiting<T>> = []
  private background: Array<Waiting<T>> = []
  /** When the earliest background record must be written (ms since the epoch). */
  private backgroundDue = Infinity
  /** Groups being written. */
  private writing = 0
  /** Records in the groups being written. */
  private inFlight = 0
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined
  private timerAt = Infinity
  private closed = false
  private readonly write: (items: T[]) => Promise<GroupResult[]>
  private readonly groupMax: number
  private readonly windowMs: number
  private readonly depth: number
  /** Groups committed and records in them (for tests and the benchmark). */
  readonly stats = { groups: 0, records: 0 }

  constructor (write: (items: T[]) => Promise<GroupResult[]>, opts: GroupCommitOptions = {}) {
    this.write = write
    this.groupMax = opts.groupMax ?? 500
    this.windowMs = opts.windowMs ?? 0
    this.depth = opts.depth ?? 1
  }

  /** Records appended and not yet durable (read at each metrics scrape). */
  get waiting (): number {
    return this.queued + this.inFlight
  }

  /** Records in either lane, not yet in a group. */
  private get queued (): number {
    return this.queue.length + this.background.length
  }

  /** Resolves with the record's sequence number once it is durable. `waitMs` > 0: a background record. */
  append (item: T, waitMs = 0): Promise<number> {
    if (this.closed) return Promise.reject(new Error('the message log is closed'))
    return new Promise((resolve, reject) => {
      const now = Date.now()
      if (waitMs > 0) {
        this.background.push({ item, resolve, reject })
        this.backgroundDue = Math.min(this.backgroundDue, now + waitMs)
      } else {
        this.queue.push({ item, resolve, reject })
      }
      this.schedule(now)
    })
  }

  /** Sets the timer for the next group: now for records someone waits for, later for background ones alone. */
  private schedule (now = Date.now()): void {
    if (this.writing >= this.depth || this.queued === 0) return
    let at: number
    if (this.queued >= this.groupMax || this.closed) at = now
    else if (this.queue.length > 0) at = this.windowMs === 0 ? now : Math.min(this.timerAt, now + this.windowMs)
    else at = this.backgroundDue
    if (this.timer !== undefined) {
      if (this.timerAt <= at) return
      clearTimeout(this.timer as NodeJS.Timeout)
      clearImmediate(this.timer as NodeJS.Immediate)
    }
    this.timerAt = at
    const wait = at - now
    // Within the turn: every exchange handled in this turn joins the group.
    this.timer = wait > 0 ? setTimeout(() => { void this.flush() }, wait) : setImmediate(() => { void this.flush() })
  }

  private async flush (): Promise<void> {
    this.timer = undefined
    this.timerAt = Infinity
    if (this.writing >= this.depth || this.queued === 0) return
    this.writing++
    // A quarter of a full group stays for the background lane, so it is never starved.
    const reserve = Math.min(this.background.length, this.groupMax >> 2)
    const group = this.queue.splice(0, this.groupMax - reserve)
    if (this.background.length > 0) {
      group.push(...this.background.splice(0, this.groupMax - group.length))
      // What stays in the lane has waited since before this group: it goes with the next one.
      this.backgroundDue = this.background.length > 0 ? Date.now() : Infinity
    }
    this.inFlight += group.length
    try {
      const results = await this.write(group.map(w => w.item))
      this.stats.groups++
      group.forEach((w, i) => {
        const r = results[i]
        if (typeof r === 'number') { this.stats.records++; w.resolve(r) } else w.reject(r)
      })
    } catch (err) {
      for (const w of group) w.reject(err as Error)
    } finally {
      this.writing--
      this.inFlight -= group.length
      this.schedule()
    }
  }

  /** Refuses new appends and waits for queued ones to be written. */
  async drain (): Promise<void> {
    this.closed = true
    while (this.writing > 0 || this.queued > 0) {
      this.schedule()
      await new Promise(resolve => setImmediate(resolve))
    }
  }
}
