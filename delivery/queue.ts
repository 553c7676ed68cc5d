/**
 * The durable queue every asynchronous exchange stands on (DESIGN §13): store-and-forward requests,
 * and one queue per pub/sub subscription. One interface, two homes: the embedded SQLite file beside
 * the message log (sqlite-queue.ts, `synchronous=FULL`: an enqueue that resolved is on disk) and
 * pg-boss on the shared PostgreSQL (pg-boss-queue.ts) when several nodes run. Both pass the same
 * contract suite (test/internals/delivery-contract.ts).
 *
 * The queue knows jobs, not exchanges: a job is bytes with an id (unique within its queue, so
 * enqueueing the same id twice is a no-op), an optional ordering key and a state. What the bytes mean
 * (an HTTP request to replay, an event to push) belongs to the caller, who also does the work.
 */

/** Exponential backoff with jitter: attempt n waits about delayMs·2^(n-1) (plain delayMs without backoff), never more than maxDelayMs. */
export interface RetryPolicy {
  /** Attempts after the first; 0 = one attempt only. */
  limit: number
  delayMs: number
  backoff: boolean
  maxDelayMs: number
}

export interface QueueOptions {
  retry: RetryPolicy
  /** A job still undelivered this long after it was enqueued is dead (reason `expired`); 0 = never. */
  ttlMs: number
  /** Per ordering key, one job at a time in enqueue order; a dead job blocks its key until it is re-driven. */
  fifo: boolean
  /** How long delivered and dead jobs (with the kept result) stay readable before they are removed. */
  keepMs: number
}

export interface NewJob {
  queue: string
  /** Unique within the queue: the message id or event id, so every retry and re-send carries it. */
  id: string
  /** Ordering key (a citizen's NID, say) for FIFO queues. */
  key?: string
  payload: Buffer
}

/**
 * How many of a push worker's `concurrency` slots one queue (one subscription, one service) may hold
 * at once, in both homes: an eighth, so a subscriber that hangs (every attempt waits for its timeout)
 * leaves the other slots to the others.
 */
export function perQueueSlots (concurrency: number): number {
  return Math.max(1, Math.ceil(concurrency / 8))
}

/** queued: waiting for its turn; active: a worker (or a puller) has it; retry: failed, waiting for the next attempt; delivered; dead: attempts exhausted, expired or refused for good. */
export type JobState = 'queued' | 'active' | 'retry' | 'delivered' | 'dead'

export interface Job {
  queue: string
  id: string
  key: string | null
  state: JobState
  /** Attempts started so far. */
  attempts: number
  payload: Buffer
  createdAt: Date
  /** When the job may next be worked (queued/retry), or when it last changed state. */
  nextAt: Date
  finishedAt: Date | null
  /** Why the last attempt failed (or `expired`). */
  lastError: string | null
  /** What the worker kept from a successful attempt (the provider's answer). */
  result: Buffer | null
}

/** What a worker says about one attempt. `retry: false` makes a failure final (dead at once). */
export type Outcome = { ok: true; result?: Buffer } | { ok: false; error: string; retry?: boolean }

export type JobHandler = (job: Job) => Promise<Outcome>

export interface QueueStats {
  queue: string
  queued: number
  active: number
  retry: number
  delivered: number
  dead: number
  /** Age in ms of the oldest job not yet delivered or dead; 0 when none. */
  oldestMs: number
}

export interface JobQuery {
  queue?: string
  /** Queues whose name starts with this. */
  prefix?: string
  state?: JobState
  limit: number
}

/** A published pub/sub event as the room keeps it (the transparency feeds read these). */
export interface RoomEvent {
  /** The room's subsystem id text, `AL/GOV/K11503002N/ngjarje-civile`. */
  room: string
  type: string
  /** The event id (a UUID): also the job id in every subscriber's queue. */
  id: string
  /** Order of publication within the room, assigned by the store (1, 2, …). */
  seq: number
  /** Client id text of the publisher. */
  publisher: string
  publishedAt: Date
  /** The event's JSON as published. */
  data: Buffer
}

export type NewRoomEvent = Omit<RoomEvent, 'seq'>

export interface EventQuery {
  types?: string[]
  /** Events with seq below this (the next page of a newest-first listing). */
  beforeSeq?: number
  limit: number
}

export interface DeliveryQueue {
  readonly home: 'embedded' | 'postgres'
  /** Creates the queue or changes its options (jobs already queued keep their attempts). */
  define (queue: string, options: QueueOptions): Promise<void>
  /** Durable when it resolves, all or nothing; per job, false when that id was already in its queue. */
  enqueue (jobs: NewJob[]): Promise<boolean[]>
  /**
   * Stores a published event and its fan-out (one job per subscription) in one durable transaction.
   * Re-publishing an id already stored changes nothing and returns false for every job.
   */
  publish (event: NewRoomEvent, jobs: NewJob[]): Promise<{ stored: boolean; jobs: boolean[]; seq: number }>
  /** A room's events, newest first. */
  events (room: string, query: EventQuery): Promise<RoomEvent[]>
  event (room: string, id: string): Promise<RoomEvent | undefined>
  /** Push delivery: runs `handler` for due jobs of every queue whose name starts with `prefix`, at most `concurrency` at once. */
  work (prefix: string, handler: JobHandler, opts: { concurrency: number }): void
  /** Pull delivery: the next due job of the queue, now active until completed or until `leaseMs` passes (then it is due again). */
  fetch (queue: string, leaseMs: number): Promise<Job | undefined>
  /** Pull acknowledgement: an active job becomes delivered; false when it is not active (unknown, or its lease ran out and it was fetched again). */
  complete (queue: string, id: string, result?: Buffer): Promise<boolean>
  get (queue: string, id: string): Promise<Job | undefined>
  /** The job with this id in every queue that has one (an event's delivery to each subscriber). */
  find (id: string): Promise<Job[]>
  list (query: JobQuery): Promise<Job[]>
  /** Dead jobs (all, or these ids) back to queued with their attempts reset; returns how many. */
  redrive (queue: string, ids?: string[]): Promise<number>
  /** Every defined queue's counts. */
  stats (): Promise<QueueStats[]>
  /** Stops taking jobs, waits for running handlers, closes the store. */
  close (): Promise<void>
}

export class QueueError extends Error {
  readonly code: 'Delivery.UnknownQueue' | 'Delivery.Closed'
  constructor (code: QueueError['code'], message: string) {
    super(message)
    this.code = code
    this.name = 'QueueError'
  }
}

/** The wait before attempt `attempt + 1` (attempt ≥ 1 just failed): full backoff, then ±25 % jitter, capped. */
export function retryDelay (policy: RetryPolicy, attempt: number, random = Math.random): number {
  const base = policy.backoff ? policy.delayMs * 2 ** Math.min(attempt - 1, 30) : policy.delayMs
  const jittered = base * (0.75 + random() * 0.5)
  return Math.round(Math.min(policy.maxDelayMs, jittered))
}
