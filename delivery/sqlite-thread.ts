/**
 * The embedded delivery store's own thread (threaded-sqlite.ts starts it). `node:sqlite` is
 * synchronous: on the main thread every claim, outcome and fsynced enqueue stalled all exchanges
 * (measured at thousands of pushes a second: a third of the main thread). Here the queue and the
 * idempotency keys own the file alone; the main thread sends calls and attempt outcomes, and gets
 * answers and claimed jobs back, in batches.
 *
 * Messages in: `call` (a method of the queue or of the idempotency keys), `work` (start a worker
 * over a prefix: its jobs are sent to the main thread to run), `outcomes` (what those runs gave).
 * Messages out: `ready`/`failed` once, `reply` per call, `jobs` (claimed jobs for the main thread).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { detached, revived } from './cloning.ts'
import { SqliteIdempotency } from './idempotency.ts'
import type { Job, Outcome } from './queue.ts'
import { SqliteQueue } from './sqlite-queue.ts'

export type ThreadCall = { op: 'call'; id: number; target: 'queue' | 'idempotency'; method: string; args: unknown[] }
export type ThreadIn =
  | ThreadCall
  | { op: 'work'; worker: number; prefix: string; concurrency: number }
  | { op: 'outcomes'; list: Array<{ key: number; outcome: Outcome }> }
export type ThreadOut =
  | { op: 'ready' }
  | { op: 'failed'; message: string }
  | { op: 'reply'; id: number; value?: unknown; error?: { message: string; code?: string } }
  | { op: 'jobs'; list: Array<{ key: number; worker: number; job: Job }> }

function serve (file: string): void {
  const port = parentPort!
  let queue: SqliteQueue
  let idempotency: SqliteIdempotency
  try {
    queue = SqliteQueue.open(file)
    idempotency = new SqliteIdempotency(file)
  } catch (err) {
    port.postMessage({ op: 'failed', message: (err as Error).message } satisfies ThreadOut)
    return
  }
  const waiting = new Map<number, (outcome: Outcome) => void>()
  let nextKey = 0
  let outgoing: Array<{ key: number; worker: number; job: Job }> = []
  const send = (): void => {
    const list = outgoing
    outgoing = []
    port.postMessage({ op: 'jobs', list } satisfies ThreadOut)
  }

  port.on('message', (msg: ThreadIn) => {
    if (msg.op === 'outcomes') {
      for (const { key, outcome } of msg.list) {
        const resolve = waiting.get(key)
        waiting.delete(key)
        resolve?.(revived(outcome))
      }
      return
    }
    if (msg.op === 'work') {
      queue.work(msg.prefix, job => new Promise<Outcome>(resolve => {
        const key = ++nextKey
        waiting.set(key, resolve)
        // The jobs one pass claims leave together. A claimed job's bytes already own their memory
        // (the queue wraps each BLOB SQLite returned): nothing to detach.
        if (outgoing.push({ key, worker: msg.worker, job }) === 1) setImmediate(send)
      }), { concurrency: msg.concurrency })
      return
    }
    const target = (msg.target === 'queue' ? queue : idempotency) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
    Promise.resolve()
      .then(() => target[msg.method](...revived<unknown[]>(msg.args)))
      .then(
        value => { port.postMessage({ op: 'reply', id: msg.id, value: detached(value) } satisfies ThreadOut) },
        (err: Error & { code?: unknown }) => {
          port.postMessage({ op: 'reply', id: msg.id, error: { message: err.message, ...(typeof err.code === 'string' ? { code: err.code } : {}) } } satisfies ThreadOut)
        },
      )
  })
  port.postMessage({ op: 'ready' } satisfies ThreadOut)
}

const file = (workerData as { uraDeliveryStore?: string } | undefined)?.uraDeliveryStore
if (parentPort !== null && file !== undefined) serve(file)
