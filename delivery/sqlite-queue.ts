/**
 * The embedded home of the delivery queue: one SQLite file (`node:sqlite`) in the node's data
 * directory, beside the message log. It is the spool and the schedule at once: a job row holds the
 * accepted request (or event) with its state, so there is nothing to reconcile at start.
 *
 * Why not pg-boss on PGlite here: measured (bench/queue-engine-gate.ts, docs/benchmarks.md) PGlite
 * grows the process by 400–800 MB and does not fsync; this table costs a few MB and fsyncs.
 *
 * Durability: what a client is told was accepted (enqueue, publish) commits with
 * `synchronous=FULL` (WAL fsynced) before the promise resolves, and the enqueues of one event-loop
 * turn share that commit. Claims and outcomes commit with `synchronous=NORMAL` (safe against a
 * killed process, not against power loss): losing one only means the job runs again, carrying the
 * same id, which is the at-least-once promise. At open, jobs left active by a stopped process are due again.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import {
  perQueueSlots, QueueError, retryDelay,
  type DeliveryQueue, type EventQuery, type Job, type JobHandler, type JobQuery, type JobState, type NewJob, type NewRoomEvent,
  type QueueOptions, type QueueStats, type RoomEvent,
} from './queue.ts'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ura_queue (name TEXT PRIMARY KEY, options TEXT NOT NULL, fifo INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ura_job (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL, id TEXT NOT NULL, key TEXT, state TEXT NOT NULL, attempts INTEGER NOT NULL,
  payload BLOB NOT NULL, created_at INTEGER NOT NULL, next_at INTEGER NOT NULL, expires_at INTEGER,
  finished_at INTEGER, last_error TEXT, result BLOB);
CREATE INDEX IF NOT EXISTS ura_job_due ON ura_job (state, next_at);
DROP INDEX IF EXISTS ura_job_key;
CREATE INDEX IF NOT EXISTS ura_job_queue_pending ON ura_job (queue, next_at) WHERE state IN ('queued', 'retry', 'active');
CREATE INDEX IF NOT EXISTS ura_job_key_open ON ura_job (queue, key, seq) WHERE key IS NOT NULL AND state <> 'delivered';
CREATE UNIQUE INDEX IF NOT EXISTS ura_job_id_queue ON ura_job (id, queue);
DROP INDEX IF EXISTS ura_job_id;
CREATE TABLE IF NOT EXISTS ura_room_event (
  room TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, publisher TEXT NOT NULL,
  published_at INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (room, id));
CREATE UNIQUE INDEX IF NOT EXISTS ura_room_event_seq ON ura_room_event (room, seq);
`

/** How long a push worker holds a job before it counts as abandoned (handlers finish long before: adapters carry deadlines). */
const PUSH_LEASE_MS = 5 * 60_000
/** The longest the scheduler sleeps when nothing is due sooner. */
const IDLE_MS = 500

/** The shortest time between two passes of the scheduler (outcomes written, due jobs claimed). */
const PASS_MS = 2
/** Most jobs one claim takes from one queue in one pass. */
const CLAIM_BATCH = 64

const JOB_COLUMNS = 'queue, id, key, state, attempts, payload, created_at, next_at, finished_at, last_error, result'

interface Worker {
  prefix: string
  handler: JobHandler
  concurrency: number
  /** At most this many of the worker's slots go to one queue (one subscriber, one service). */
  perQueue: number
  running: number
}

interface Pending {
  run (): unknown
  resolve (value: unknown): void
  reject (err: Error): void
}

export class SqliteQueue implements DeliveryQueue {
  readonly home = 'embedded'
  private readonly db: DatabaseSync
  private readonly queues = new Map<string, QueueOptions>()
  private readonly workers: Worker[] = []
  private readonly running = new Set<Promise<void>>()
  private durable: Pending[] = []
  /** Outcomes of finished attempts, written together at the start of the next pump (one commit). */
  private outcomes: Array<{ job: Job; outcome: Awaited<ReturnType<JobHandler>> }> = []
  private flushing = false
  private timer: NodeJS.Timeout | undefined
  private pumpScheduled = false
  private lastSweep = 0
  private lastPass = 0
  private closed = false
  private readonly stmt: Record<'insertJob' | 'getJob' | 'findJobs' | 'claim' | 'done' | 'fail', StatementSync>
  private readonly due: StatementSync
  private readonly dueFifo: StatementSync
  private readonly nextAny: StatementSync
  private readonly nextDue: StatementSync
  /**
   * Per queue, a time before which it has nothing to claim: set when a claim took every claimable job
   * of the queue (to the queue's next due time), forgotten when anything that could free a job happens
   * there (an enqueue, an outcome, a redrive). Spares a scan of the queue's waiting jobs on every pass —
   * FIFO keys held back by a subscriber that is offline would otherwise be walked over and over.
   */
  private readonly asleep = new Map<string, number>()
  /** Jobs of each queue a push worker is running now. */
  private readonly inFlight = new Map<string, number>()
  /** The queues under each worker's prefix (forgotten when a queue is defined). */
  private readonly prefixes = new Map<string, string[]>()
  /** Where the next claim over a prefix starts (round robin over its queues). */
  private readonly cursor = new Map<string, number>()

  private constructor (db: DatabaseSync) {
    this.db = db
    this.stmt = {
      insertJob: db.prepare(`INSERT OR IGNORE INTO ura_job (queue, id, key, state, attempts, payload, created_at, next_at, expires_at)
        VALUES (?, ?, ?, 'queued', 0, ?, ?, ?, ?)`),
      getJob: db.prepare(`SELECT ${JOB_COLUMNS} FROM ura_job WHERE queue = ? AND id = ?`),
      findJobs: db.prepare(`SELECT ${JOB_COLUMNS} FROM ura_job WHERE id = ? ORDER BY queue`),
      claim: db.prepare(`UPDATE ura_job SET state = 'active', attempts = attempts + 1, next_at = ? WHERE seq = ?
        RETURNING ${JOB_COLUMNS}`),
      done: db.prepare(`UPDATE ura_job SET state = 'delivered', finished_at = ?, next_at = ?, result = ?, last_error = NULL
        WHERE queue = ? AND id = ? AND state = 'active'`),
      fail: db.prepare(`UPDATE ura_job SET state = ?, next_at = ?, finished_at = ?, last_error = ? WHERE queue = ? AND id = ? AND state = 'active'`),
    }
    // A queue's due jobs in due order, walked on ura_job_queue_pending (unfinished rows only, already in
    // next_at order: no sort, and the walk stops at the LIMIT). A FIFO job waits while an earlier job
    // with its key is not delivered; ura_job_key_open holds only those, so the check is one seek however
    // many delivered jobs the queue keeps. Two statements with a constant LIMIT, not one with the FIFO
    // switch and the limit as parameters: measured, that form cost 11 µs a call against 1.4 µs.
    const due = `SELECT j.seq FROM ura_job j INDEXED BY ura_job_queue_pending
      WHERE j.queue = ? AND j.next_at <= ? AND j.state IN ('queued', 'retry', 'active')`
    const order = `ORDER BY j.next_at, j.seq LIMIT ${CLAIM_BATCH}`
    this.due = db.prepare(`${due} ${order}`)
    this.dueFifo = db.prepare(`${due} AND (j.key IS NULL OR NOT EXISTS (
      SELECT 1 FROM ura_job k INDEXED BY ura_job_key_open WHERE k.queue = j.queue AND k.key = j.key AND k.seq < j.seq AND k.key IS NOT NULL AND k.state <> 'delivered'))
      ${order}`)
    this.nextAny = db.prepare(`SELECT MIN(next_at) AS t FROM ura_job WHERE state IN ('queued', 'retry')`)
    this.nextDue = db.prepare(`SELECT MIN(next_at) AS t FROM ura_job INDEXED BY ura_job_queue_pending
      WHERE queue = ? AND state IN ('queued', 'retry', 'active') AND next_at > ?`)
  }

  static open (file: string): SqliteQueue {
    mkdirSync(dirname(file), { recursive: true })
    const db = new DatabaseSync(file)
    try {
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;')
      db.exec(SCHEMA)
      // A process that stopped mid-delivery left these: each is due again, its attempt counted.
      db.prepare(`UPDATE ura_job SET state = 'retry', next_at = ? WHERE state = 'active'`).run(Date.now())
    } catch (err) {
      db.close()
      throw err
    }
    const q = new SqliteQueue(db)
    for (const row of db.prepare('SELECT name, options FROM ura_queue').all()) {
      q.queues.set(row.name as string, JSON.parse(row.options as string) as QueueOptions)
    }
    return q
  }

  async define (queue: string, options: QueueOptions): Promise<void> {
    this.open()
    this.db.prepare('INSERT INTO ura_queue (name, options, fifo) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET options = excluded.options, fifo = excluded.fifo')
      .run(queue, JSON.stringify(options), options.fifo ? 1 : 0)
    this.queues.set(queue, options)
    this.prefixes.clear()
    this.wake(queue)
  }

  enqueue (jobs: NewJob[]): Promise<boolean[]> {
    try {
      this.open()
      for (const job of jobs) this.options(job.queue)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.durably(() => this.insertJobs(jobs, Date.now()))
  }

  publish (event: NewRoomEvent, jobs: NewJob[]): Promise<{ stored: boolean; jobs: boolean[]; seq: number }> {
    try {
      this.open()
      for (const job of jobs) this.options(job.queue)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.durably(() => {
      const known = this.db.prepare('SELECT seq FROM ura_room_event WHERE room = ? AND id = ?').get(event.room, event.id)
      if (known !== undefined) return { stored: false, jobs: jobs.map(() => false), seq: Number(known.seq) }
      const last = this.db.prepare('SELECT MAX(seq) AS seq FROM ura_room_event WHERE room = ?').get(event.room)
      const seq = Number(last?.seq ?? 0) + 1
      this.db.prepare('INSERT INTO ura_room_event (room, seq, id, type, publisher, published_at, data) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(event.room, seq, event.id, event.type, event.publisher, event.publishedAt.getTime(), event.data)
      return { stored: true, jobs: this.insertJobs(jobs, Date.now()), seq }
    })
  }

  async events (room: string, query: EventQuery): Promise<RoomEvent[]> {
    this.open()
    const where = ['room = ?']
    const args: Array<string | number> = [room]
    if (query.types !== undefined && query.types.length > 0) {
      where.push(`type IN (${query.types.map(() => '?').join(', ')})`)
      args.push(...query.types)
    }
    if (query.beforeSeq !== undefined) { where.push('seq < ?'); args.push(query.beforeSeq) }
    args.push(query.limit)
    return this.db.prepare(`SELECT room, seq, id, type, publisher, published_at, data FROM ura_room_event WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`)
      .all(...args).map(eventRow)
  }

  async event (room: string, id: string): Promise<RoomEvent | undefined> {
    this.open()
    const row = this.db.prepare('SELECT room, seq, id, type, publisher, published_at, data FROM ura_room_event WHERE room = ? AND id = ?').get(room, id)
    return row === undefined ? undefined : eventRow(row)
  }

  work (prefix: string, handler: JobHandler, opts: { concurrency: number }): void {
    this.open()
    const concurrency = Math.max(1, opts.concurrency)
    this.workers.push({ prefix, handler, concurrency, perQueue: perQueueSlots(concurrency), running: 0 })
    this.schedulePump()
  }

  async fetch (queue: string, leaseMs: number): Promise<Job | undefined> {
    this.open()
    this.options(queue)
    const now = Date.now()
    this.sweep(now)
    const [job] = this.claim(now, queue, undefined, 1, leaseMs)
    return job
  }

  async complete (queue: string, id: string, result?: Buffer): Promise<boolean> {
    this.open()
    const now = Date.now()
    this.wake(queue)
    return Number(this.stmt.done.run(now, now, result ?? null, queue, id).changes) === 1
  }

  async get (queue: string, id: string): Promise<Job | undefined> {
    this.open()
    const row = this.stmt.getJob.get(queue, id)
    return row === undefined ? undefined : jobRow(row)
  }

  async find (id: string): Promise<Job[]> {
    this.open()
    return this.stmt.findJobs.all(id).map(jobRow)
  }

  async list (query: JobQuery): Promise<Job[]> {
    this.open()
    const where: string[] = []
    const args: Array<string | number> = []
    if (query.queue !== undefined) { where.push('queue = ?'); args.push(query.queue) }
    if (query.prefix !== undefined) { where.push('substr(queue, 1, ?) = ?'); args.push(query.prefix.length, query.prefix) }
    if (query.state !== undefined) { where.push('state = ?'); args.push(query.state) }
    args.push(query.limit)
    const sql = `SELECT ${JOB_COLUMNS} FROM ura_job ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`
    return this.db.prepare(sql).all(...args).map(jobRow)
  }

  async redrive (queue: string, ids?: string[]): Promise<number> {
    this.open()
    const options = this.options(queue)
    const now = Date.now()
    const expires = options.ttlMs > 0 ? now + options.ttlMs : null
    const sql = `UPDATE ura_job SET state = 'queued', attempts = 0, next_at = ?, expires_at = ?, finished_at = NULL
      WHERE queue = ? AND state = 'dead'`
    let changed = 0
    if (ids === undefined) {
      changed = Number(this.db.prepare(sql).run(now, expires, queue).changes)
    } else {
      const one = this.db.prepare(`${sql} AND id = ?`)
      for (const id of ids) changed += Number(one.run(now, expires, queue, id).changes)
    }
    this.wake(queue)
    if (changed > 0) this.schedulePump()
    return changed
  }

  async stats (): Promise<QueueStats[]> {
    this.open()
    const now = Date.now()
    const out = new Map<string, QueueStats>()
    for (const name of this.queues.keys()) out.set(name, { queue: name, queued: 0, active: 0, retry: 0, delivered: 0, dead: 0, oldestMs: 0 })
    const rows = this.db.prepare(`SELECT queue, state, COUNT(*) AS n, MIN(created_at) AS oldest FROM ura_job GROUP BY queue, state`).all()
    for (const row of rows) {
      const s = out.get(row.queue as string)
      if (s === undefined) continue
      s[row.state as JobState] = Number(row.n)
      if (row.state !== 'delivered' && row.state !== 'dead') s.oldestMs = Math.max(s.oldestMs, now - Number(row.oldest))
    }
    return [...out.values()]
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    while (this.running.size > 0) await Promise.allSettled([...this.running])
    this.settleOutcomes()
    while (this.durable.length > 0 || this.flushing) await new Promise(resolve => setImmediate(resolve))
    this.db.close()
  }

  private open (): void {
    if (this.closed) throw new QueueError('Delivery.Closed', 'the delivery queue is closed')
  }

  private options (queue: string): QueueOptions {
    const options = this.queues.get(queue)
    if (options === undefined) throw new QueueError('Delivery.UnknownQueue', `no delivery queue named '${queue}'`)
    return options
  }

  private insertJobs (jobs: NewJob[], now: number): boolean[] {
    const out = jobs.map(job => {
      const ttl = this.options(job.queue).ttlMs
      this.wake(job.queue)
      return Number(this.stmt.insertJob.run(job.queue, job.id, job.key ?? null, job.payload, now, now, ttl > 0 ? now + ttl : null).changes) === 1
    })
    if (out.includes(true)) this.schedulePump()
    return out
  }

  /** Runs `run` inside the next fsynced transaction (shared by everything asked for in the same turn). */
  private durably<T> (run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.durable.push({ run, resolve: resolve as (v: unknown) => void, reject })
      if (this.durable.length === 1 && !this.flushing) setImmediate(() => { this.flush() })
    })
  }

  private flush (): void {
    if (this.durable.length === 0) return
    this.flushing = true
    const group = this.durable
    this.durable = []
    const results: Array<{ ok: true; value: unknown } | { ok: false; err: Error }> = []
    try {
      this.db.exec('PRAGMA synchronous = FULL')
      this.db.exec('BEGIN IMMEDIATE')
      for (const p of group) {
        this.db.exec('SAVEPOINT one')
        try {
          results.push({ ok: true, value: p.run() })
          this.db.exec('RELEASE one')
        } catch (err) {
          this.db.exec('ROLLBACK TO one')
          this.db.exec('RELEASE one')
          results.push({ ok: false, err: err as Error })
        }
      }
      this.db.exec('COMMIT')
      group.forEach((p, i) => { const r = results[i]; if (r.ok) p.resolve(r.value); else p.reject(r.err) })
    } catch (err) {
      try { this.db.exec('ROLLBACK') } catch {}
      for (const p of group) p.reject(err as Error)
    } finally {
      try { this.db.exec('PRAGMA synchronous = NORMAL') } catch {}
      this.flushing = false
      if (this.durable.length > 0) setImmediate(() => { this.flush() })
    }
  }

  private schedulePump (): void {
    if (this.pumpScheduled || this.closed || this.workers.length === 0) return
    this.pumpScheduled = true
    // Passes are at least PASS_MS apart: each is a commit rewriting the pages it touched, and at
    // thousands of outcomes a second a pass per outcome made the commits the queue's main cost.
    const wait = this.lastPass + PASS_MS - Date.now()
    if (wait > 0) setTimeout(() => { this.pumpScheduled = false; this.pump() }, wait)
    else setImmediate(() => { this.pumpScheduled = false; this.pump() })
  }

  /**
   * Writes the outcomes of the attempts that finished since the last pass, hands due jobs to the
   * workers with free slots, then sleeps until the next job is due. The outcomes and the claims of
   * one pass share one transaction (one commit instead of two per job: at thousands of deliveries a
   * second the commits were the queue's main cost).
   */
  private pump (): void {
    if (this.closed) return
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined }
    const now = Date.now()
    this.lastPass = now
    this.sweep(now)
    const claimed: Array<[Worker, Job]> = []
    this.db.exec('BEGIN IMMEDIATE')
    try {
      this.settleOutcomes()
      for (const worker of this.workers) {
        const free = worker.concurrency - worker.running
        if (free <= 0) continue
        for (const job of this.claim(now, undefined, worker.prefix, free, PUSH_LEASE_MS, worker.perQueue)) {
          claimed.push([worker, job])
          worker.running++ // counted now, so the next worker of an overlapping prefix sees it
          this.inFlight.set(job.queue, (this.inFlight.get(job.queue) ?? 0) + 1)
        }
      }
      this.db.exec('COMMIT')
    } catch (err) {
      this.db.exec('ROLLBACK')
      for (const [worker, job] of claimed) { worker.running--; this.leave(job.queue) }
      throw err
    }
    for (const [worker, job] of claimed) this.run(worker, job)
    const next = this.nextAny.get()
    const wait = next?.t === null || next?.t === undefined ? IDLE_MS : Math.min(IDLE_MS, Math.max(1, Number(next.t) - Date.now()))
    this.timer = setTimeout(() => { this.timer = undefined; this.pump() }, wait)
    this.timer.unref()
  }

  private settleOutcomes (): void {
    const list = this.outcomes
    this.outcomes = []
    for (const { job, outcome } of list) this.settle(job, outcome)
  }

  /** Runs one claimed job (its worker's slot is already counted). */
  private run (worker: Worker, job: Job): void {
    const p = (async () => {
      let outcome
      try {
        outcome = await worker.handler(job)
      } catch (err) {
        outcome = { ok: false as const, error: (err as Error).message }
      }
      this.outcomes.push({ job, outcome })
    })().finally(() => {
      worker.running--
      this.leave(job.queue)
      this.running.delete(p)
      this.schedulePump()
    })
    this.running.add(p)
  }

  private settle (job: Job, outcome: Awaited<ReturnType<JobHandler>>): void {
    const now = Date.now()
    const options = this.queues.get(job.queue)
    // A delivery frees nothing in a queue without FIFO keys: the queue stays asleep if it was. A
    // failure wakes it, so its retry time is looked up at the next pass.
    if (!outcome.ok || options?.fifo !== false) this.wake(job.queue)
    if (outcome.ok) {
      this.stmt.done.run(now, now, outcome.result ?? null, job.queue, job.id)
      return
    }
    const final = outcome.retry === false || options === undefined || job.attempts > options.retry.limit
    if (final) this.stmt.fail.run('dead', now, now, outcome.error, job.queue, job.id)
    else this.stmt.fail.run('retry', now + retryDelay(options.retry, job.attempts), null, outcome.error, job.queue, job.id)
  }

  /** A pushed job of `queue` is no longer being worked. */
  private leave (queue: string): void {
    const left = (this.inFlight.get(queue) ?? 1) - 1
    if (left > 0) this.inFlight.set(queue, left)
    else this.inFlight.delete(queue)
  }

  /**
   * Claims up to `n` due jobs of one queue or of the queues under a prefix, honouring FIFO keys, and
   * leaving each queue at most `perQueue` jobs being worked at once.
   */
  private claim (now: number, queue: string | undefined, prefix: string | undefined, n: number, leaseMs: number, perQueue = Infinity): Job[] {
    const names = queue !== undefined ? [queue] : this.queuesUnder(prefix!)
    // Queues are visited round robin from where the last pass stopped, so every subscriber (every
    // service) gets its turn; within a queue jobs go in due order.
    const key = queue ?? prefix!
    const start = (this.cursor.get(key) ?? 0) % Math.max(1, names.length)
    const out: Job[] = []
    for (let i = 0; i < names.length && out.length < n; i++) {
      const name = names[(start + i) % names.length]
      if ((this.asleep.get(name) ?? 0) > now) continue
      const want = Math.min(n - out.length, CLAIM_BATCH, perQueue - (this.inFlight.get(name) ?? 0))
      if (want <= 0) continue
      const rows = (this.queues.get(name)!.fifo ? this.dueFifo : this.due).all(name, now)
      for (let r = 0; r < rows.length && r < want; r++) {
        const claimed = this.stmt.claim.get(now + leaseMs, Number(rows[r].seq))
        if (claimed !== undefined) out.push(jobRow(claimed))
      }
      if (rows.length < want) {
        // Every claimable job of the queue is taken: nothing more until its next due time (looked at
        // again within IDLE_MS regardless, like the scheduler's sleep, in case another connection to
        // the file added work).
        const next = this.nextDue.get(name, now)
        this.asleep.set(name, Math.min(now + IDLE_MS, next?.t === null || next?.t === undefined ? Infinity : Number(next.t)))
      }
      this.cursor.set(key, (start + i + 1) % names.length)
    }
    return out
  }

  /** The queues whose names start with `prefix`, in definition order (kept until a queue is defined). */
  private queuesUnder (prefix: string): string[] {
    let names = this.prefixes.get(prefix)
    if (names === undefined) {
      names = [...this.queues.keys()].filter(name => name.startsWith(prefix))
      this.prefixes.set(prefix, names)
    }
    return names
  }

  /** Something happened in `queue` that may have made a job claimable. */
  private wake (queue: string): void {
    this.asleep.delete(queue)
  }

  /** Expired jobs become dead; finished jobs past their keeping time go. At most once a second. */
  private sweep (now: number): void {
    if (now - this.lastSweep < 1000) return
    this.lastSweep = now
    this.db.prepare(`UPDATE ura_job SET state = 'dead', last_error = 'expired', finished_at = ?, next_at = ?
      WHERE state IN ('queued', 'retry') AND expires_at IS NOT NULL AND expires_at <= ?`).run(now, now, now)
    for (const [name, options] of this.queues) {
      // A finished job's next_at is its finishing time: the (state, next_at) index finds the old ones.
      this.db.prepare(`DELETE FROM ura_job WHERE state IN ('delivered', 'dead') AND next_at < ? AND queue = ? AND finished_at < ?`).run(now - options.keepMs, name, now - options.keepMs)
    }
  }
}

/** A BLOB column as a Buffer over the array SQLite returned (a fresh one per row: no copy needed). */
function bytes (value: unknown): Buffer {
  const u8 = value as Uint8Array
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength)
}

function jobRow (row: Record<string, unknown>): Job {
  return {
    queue: row.queue as string,
    id: row.id as string,
    key: row.key as string | null,
    state: row.state as JobState,
    attempts: Number(row.attempts),
    payload: bytes(row.payload),
    createdAt: new Date(Number(row.created_at)),
    nextAt: new Date(Number(row.next_at)),
    finishedAt: row.finished_at === null ? null : new Date(Number(row.finished_at)),
    lastError: row.last_error as string | null,
    result: row.result === null ? null : bytes(row.result),
  }
}

function eventRow (row: Record<string, unknown>): RoomEvent {
  return {
    room: row.room as string,
    seq: Number(row.seq),
    id: row.id as string,
    type: row.type as string,
    publisher: row.publisher as string,
    publishedAt: new Date(Number(row.published_at)),
    data: bytes(row.data),
  }
}
