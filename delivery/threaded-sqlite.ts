/**
 * The embedded delivery store as the node uses it: the SQLite queue and idempotency keys run in a
 * thread of their own (sqlite-thread.ts), and these two objects stand for them on the main thread.
 * Every call is a message; a push or delivery worker's jobs arrive claimed and run here (they need
 * the pipeline), and their outcomes go back together, one message per event-loop turn.
 */
import { Worker } from 'node:worker_threads'
import type { Claim, IdempotencyStore, StoredAnswer } from './idempotency.ts'
import {
  QueueError,
  type DeliveryQueue, type EventQuery, type Job, type JobHandler, type JobQuery, type NewJob, type NewRoomEvent,
  type Outcome, type QueueOptions, type QueueStats, type RoomEvent,
} from './queue.ts'
import { detached, revived } from './cloning.ts'
import type { ThreadCall, ThreadIn, ThreadOut } from './sqlite-thread.ts'

class StoreThread {
  private readonly thread: Worker
  private readonly calls = new Map<number, { resolve (v: unknown): void; reject (err: Error): void }>()
  private nextId = 0
  private stopped: Error | undefined
  readonly handlers: JobHandler[] = []
  private outcomes: Array<{ key: number; outcome: Outcome }> = []

  private constructor (thread: Worker) {
    this.thread = thread
    thread.on('message', (msg: ThreadOut) => { this.receive(msg) })
    const stop = (err: Error): void => {
      this.stopped ??= err
      for (const call of this.calls.values()) call.reject(new QueueError('Delivery.Closed', `the delivery store stopped: ${err.message}`))
      this.calls.clear()
    }
    thread.on('error', stop)
    thread.on('exit', code => { stop(new Error(`its thread exited (${code})`)) })
  }

  static async start (file: string): Promise<StoreThread> {
    // No inherited loader flags (test runners, profilers): the thread needs plain Node.
    const thread = new Worker(new URL('./sqlite-thread.ts', import.meta.url), {
      name: 'ura-delivery',
      workerData: { uraDeliveryStore: file },
      execArgv: [],
      // It allocates little and briefly (rows in, messages out): a small young generation keeps its RSS
      // down. `ura start` clears the launcher's --max-semi-space-size first, which V8 would let win over
      // this limit (cli/thread-memory.ts; docs/configuration.md, "The node's memory").
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    })
    let onMessage!: (msg: ThreadOut) => void
    let onError!: (err: Error) => void
    let onExit!: (code: number) => void
    let first: ThreadOut
    try {
      first = await new Promise<ThreadOut>((resolve, reject) => {
        onMessage = resolve
        onError = reject
        onExit = code => { reject(new Error(`the delivery store's thread exited (${code})`)) }
        thread.once('message', onMessage).once('error', onError).once('exit', onExit)
      })
    } finally {
      // Only these: Node's own listeners on the worker keep its message port working.
      thread.off('message', onMessage).off('error', onError).off('exit', onExit)
    }
    if (first.op !== 'ready') {
      await thread.terminate()
      throw new Error(`the delivery store could not open ${file}: ${first.op === 'failed' ? first.message : 'unexpected message'}`)
    }
    return new StoreThread(thread)
  }

  call<T> (target: ThreadCall['target'], method: string, args: unknown[]): Promise<T> {
    if (this.stopped !== undefined) return Promise.reject(new QueueError('Delivery.Closed', `the delivery store stopped: ${this.stopped.message}`))
    const id = ++this.nextId
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.post({ op: 'call', id, target, method, args: detached(args) as unknown[] })
    })
  }

  post (msg: ThreadIn): void {
    this.thread.postMessage(msg)
  }

  async terminate (): Promise<void> {
    this.stopped ??= new Error('closed')
    await this.thread.terminate()
  }

  private receive (msg: ThreadOut): void {
    if (msg.op === 'reply') {
      const call = this.calls.get(msg.id)
      this.calls.delete(msg.id)
      if (call === undefined) return
      if (msg.error === undefined) call.resolve(revived(msg.value))
      else call.reject(msg.error.code === undefined ? new Error(msg.error.message) : new QueueError(msg.error.code as QueueError['code'], msg.error.message))
      return
    }
    if (msg.op === 'jobs') for (const { key, worker, job } of msg.list) this.run(key, this.handlers[worker], revived<Job>(job))
  }

  private run (key: number, handler: JobHandler | undefined, job: Job): void {
    void (async () => {
      let outcome: Outcome
      try {
        if (handler === undefined) throw new Error('no handler for this job')
        outcome = await handler(job)
      } catch (err) {
        outcome = { ok: false, error: (err as Error).message }
      }
      // The outcomes of one turn go back together.
      if (this.outcomes.push({ key, outcome: detached(outcome) as Outcome }) === 1) {
        setImmediate(() => {
          const list = this.outcomes
          this.outcomes = []
          if (this.stopped === undefined) this.post({ op: 'outcomes', list })
        })
      }
    })()
  }
}

export class ThreadedSqliteQueue implements DeliveryQueue {
  readonly home = 'embedded'
  private readonly store: StoreThread
  private closing: Promise<void> | undefined

  constructor (store: StoreThread) {
    this.store = store
  }

  private call<T> (method: keyof DeliveryQueue, ...args: unknown[]): Promise<T> {
    if (this.closing !== undefined) return Promise.reject(new QueueError('Delivery.Closed', 'the delivery queue is closed'))
    return this.store.call<T>('queue', method, args)
  }

  define (queue: string, options: QueueOptions): Promise<void> { return this.call('define', queue, options) }
  enqueue (jobs: NewJob[]): Promise<boolean[]> { return this.call('enqueue', jobs) }
  publish (event: NewRoomEvent, jobs: NewJob[]): Promise<{ stored: boolean; jobs: boolean[]; seq: number }> { return this.call('publish', event, jobs) }
  events (room: string, query: EventQuery): Promise<RoomEvent[]> { return this.call('events', room, query) }
  event (room: string, id: string): Promise<RoomEvent | undefined> { return this.call('event', room, id) }
  fetch (queue: string, leaseMs: number): Promise<Job | undefined> { return this.call('fetch', queue, leaseMs) }
  complete (queue: string, id: string, result?: Buffer): Promise<boolean> { return this.call('complete', queue, id, result) }
  get (queue: string, id: string): Promise<Job | undefined> { return this.call('get', queue, id) }
  find (id: string): Promise<Job[]> { return this.call('find', id) }
  list (query: JobQuery): Promise<Job[]> { return this.call('list', query) }
  redrive (queue: string, ids?: string[]): Promise<number> { return this.call('redrive', queue, ids) }
  stats (): Promise<QueueStats[]> { return this.call('stats') }

  work (prefix: string, handler: JobHandler, opts: { concurrency: number }): void {
    if (this.closing !== undefined) throw new QueueError('Delivery.Closed', 'the delivery queue is closed')
    const worker = this.store.handlers.push(handler) - 1
    this.store.post({ op: 'work', worker, prefix, concurrency: opts.concurrency })
  }

  /** Closes the queue in its thread (running attempts finish first), then the thread itself. */
  close (): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.store.call('queue', 'close', [])
        await this.store.call('idempotency', 'close', [])
      } finally {
        await this.store.terminate()
      }
    })()
    return this.closing
  }
}

class ThreadedIdempotency implements IdempotencyStore {
  private readonly store: StoreThread

  constructor (store: StoreThread) {
    this.store = store
  }

  claim (client: string, key: string, fingerprint: string, windowMs: number): Promise<Claim> { return this.store.call('idempotency', 'claim', [client, key, fingerprint, windowMs]) }
  finish (client: string, key: string, answer: StoredAnswer): Promise<void> { return this.store.call('idempotency', 'finish', [client, key, answer]) }
  release (client: string, key: string): Promise<void> { return this.store.call('idempotency', 'release', [client, key]) }
  /** The queue's close ends the shared thread; nothing more to do here. */
  async close (): Promise<void> {}
}

/** Opens the embedded delivery store (`file`) in its own thread: the queue and the idempotency keys on it. */
export async function openThreadedSqlite (file: string): Promise<{ queue: ThreadedSqliteQueue; idempotency: IdempotencyStore }> {
  const store = await StoreThread.start(file)
  return { queue: new ThreadedSqliteQueue(store), idempotency: new ThreadedIdempotency(store) }
}
