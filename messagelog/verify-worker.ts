/**
 * One range of the message log verified in a worker thread (see verify-log.ts): opens the store
 * read-only by its location, walks the range, reports progress a page at a time and, at the end,
 * the walk the main thread joins to its neighbours.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { anchorsOnly } from '../certs/verifier.ts'
import type { LogLocation } from './store.ts'
import { recordProblems, SignatureCache, verifyRange, type RangeWalk } from './verify.ts'
import type { StoredRecord } from './record.ts'

export interface RangeJob {
  location: LogLocation
  /** PEM CA certificates to trust; absent: chains checked for consistency only. */
  anchors?: string[]
  after: number
  upTo: number
  pageSize: number
}
export type RangeMessage = { progress: number } | { walk: RangeWalk<Pick<StoredRecord, 'seq' | 'messageId'>> }

const job = workerData as RangeJob
const port = parentPort!
// Only the store this log is in: the other's modules would only slow the thread's start.
const store = job.location.kind === 'embedded'
  ? (await import('./sqlite-store.ts')).SqliteLogReader.open(job.location.file)
  : await (await import('./pg-store.ts')).PgLogStore.open(job.location.url)
try {
  const cache = new SignatureCache(job.anchors === undefined ? {} : { trust: anchorsOnly(job.anchors) })
  const walk = await verifyRange(store, recordProblems, cache, job.after, job.upTo, progress => { port.postMessage({ progress } satisfies RangeMessage) }, job.pageSize)
  // Only what the main thread reports of a bad record: its sequence number and message id.
  const slim = <T extends { record: StoredRecord }>(x: T | undefined) => x === undefined ? undefined : { ...x, record: { seq: x.record.seq, messageId: x.record.messageId } }
  const { first, firstBad, ...rest } = walk
  port.postMessage({ walk: { ...rest, ...(first === undefined ? {} : { first: slim(first)! }), ...(firstBad === undefined ? {} : { firstBad: slim(firstBad)! }) } } satisfies RangeMessage)
} finally {
  await store.close()
}
