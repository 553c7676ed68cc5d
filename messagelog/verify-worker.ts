/**
 * A verification thread (see verify-log.ts): started ahead, it loads its modules and waits for its
 * job; then it opens the store by its location (the embedded log read-only), claims chunks of the
 * log from the counter it shares with the other threads, walks each, and sends each chunk's walk —
 * and progress a page at a time — to the main thread, which joins them.
 */
import { once } from 'node:events'
import { parentPort } from 'node:worker_threads'
import { anchorsOnly } from '../certs/verifier.ts'
import { SignatureCache, verifyRange } from './verify.ts'
import { chunkBounds, ChunkClaims, rowSource, walkFoundBad, type ChunkMessage, type WorkerJob } from './verify-chunks.ts'
import { RowChecker, type LogRow } from './verify-rows.ts'

const port = parentPort!
// The embedded store's modules load while the job is awaited; PostgreSQL's only when the log is there.
const embedded = import('./sqlite-store.ts')
embedded.catch(() => {}) // seen when awaited, for an embedded log
const [{ job }] = await once(port, 'message') as [WorkerJob]
const store = job.location.kind === 'embedded'
  ? (await embedded).SqliteLogReader.open(job.location.file)
  : await (await import('./pg-store.ts')).PgLogStore.open(job.location.url)
try {
  const rows = rowSource(store)
  const cache = new SignatureCache(job.anchors === undefined ? {} : { trust: anchorsOnly(job.anchors) })
  const checker = new RowChecker()
  const problemsOf = checker.problems.bind(checker)
  const claims = new ChunkClaims(job.claims)
  const progress = (n: number): void => { port.postMessage({ progress: n } satisfies ChunkMessage) }
  for (let i = claims.claim(); i >= 0; i = claims.claim()) {
    const { after, upTo } = chunkBounds(job.after, job.span, job.chunks, i)
    const walk = await verifyRange(rows, problemsOf, cache, after, upTo, progress, job.pageSize)
    if (walkFoundBad(walk)) claims.bad(i)
    // Only what the main thread reports of a bad record: its sequence number and message id.
    const slim = <T extends { record: LogRow }>(x: T | undefined) => x === undefined ? undefined : { ...x, record: { seq: x.record.seq, messageId: x.record.messageId } }
    const { first, firstBad, ...rest } = walk
    port.postMessage({ chunk: i, walk: { ...rest, ...(first === undefined ? {} : { first: slim(first)! }), ...(firstBad === undefined ? {} : { firstBad: slim(firstBad)! }) } } satisfies ChunkMessage)
  }
  port.postMessage({ finished: true } satisfies ChunkMessage)
} finally {
  await store.close()
}
