/**
 * `ura log verify`'s walk of the whole message log, in parallel where it pays. A long log is cut into
 * chunks of sequence numbers, which this thread and worker threads (verify-worker.ts, each on its
 * own connection) claim in order from a shared counter as each becomes free, so a thread
 * that started late or is slowed by other work simply walks fewer chunks. This thread joins the
 * chunks — each must start from the previous one's last chain hash — and reports progress. Once a
 * chunk holds a bad record, no later chunk is started: the verdict names the first bad record.
 * A short log, or a single core, is walked in this thread alone. The command starts the worker
 * threads ahead (VerifyWorkers), so they load their modules while it reads its configuration.
 *
 * Records are checked on the rows as read (verify-rows.ts); either way the verdict is the one
 * verifyStore gives.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { VerifyOptions } from '../certs/verifier.ts'
import type { ChainAnchor, LogStore } from './store.ts'
import { joinRanges, SignatureCache, storeVerdict, verifyRange, verifyStore, type OnProgress, type RangeWalk, type StoreVerdict } from './verify.ts'
import { chunkBounds, ChunkClaims, rowSource, walkFoundBad, type ChunkJob, type ChunkMessage, type RowStore, type WalkedRecord, type WorkerJob } from './verify-chunks.ts'
import { RowChecker } from './verify-rows.ts'
import { GENESIS_HASH } from './record.ts'

export interface VerifyRun {
  /** Threads for a long log, this one included (default: the cores available, at most 8); 1 walks in this thread alone. */
  threads?: number
  /** Records below which one thread walks the log: starting workers costs more than it saves. */
  parallelFrom?: number
  /** Records per chunk a thread claims (default: about 4 pages, fewer when the log is short). */
  chunkSize?: number
  pageSize?: number
  onProgress?: OnProgress
  /** Threads started ahead (VerifyWorkers.start): a long log is walked by them and this one; the caller closes the set. */
  workers?: VerifyWorkers
}

/** What a verification of the whole log reads (and an evidence document across archives): a store, or a read-only connection to one. */
export type VerifiableLog = Pick<LogStore, 'kind' | 'location' | 'extent' | 'anchor' | 'scan' | 'signature' | 'batch' | 'recordBefore' | 'byMessageId' | 'close'> & Partial<Pick<RowStore, 'scanRows' | 'batchRows' | 'signatures' | 'pendingSigner'>>

/** How many records a verification of the whole log walks (records after the pruning anchor). */
export async function recordsToVerify (store: Pick<LogStore, 'extent' | 'anchor'>): Promise<number> {
  const extent = await store.extent()
  if (extent === undefined) return 0
  const after = (await store.anchor())?.seq ?? 0
  return Math.max(0, extent.last - Math.max(after, extent.first - 1))
}

export async function verifyLog (store: VerifiableLog, opts: VerifyOptions = {}, run: VerifyRun = {}): Promise<StoreVerdict> {
  if (store.scanRows === undefined || store.batchRows === undefined) return verifyStore(store, opts, run.pageSize, run.onProgress)
  const rows = rowSource(store as VerifiableLog & RowStore)
  const threads = run.workers !== undefined ? run.workers.count + 1 : run.threads ?? Math.min(8, availableParallelism())
  const pageSize = run.pageSize ?? 1000
  const extent = await store.extent()
  const anchor = await store.anchor()
  const start: ChainAnchor = anchor ?? { seq: 0, hash: GENESIS_HASH }
  const span = extent === undefined ? 0 : extent.last - start.seq
  const cache = new SignatureCache(opts)
  const checker = new RowChecker()
  const problemsOf = checker.problems.bind(checker)
  if (threads <= 1 || extent === undefined || span < (run.parallelFrom ?? 20_000)) {
    const walk = await verifyRange(rows, problemsOf, cache, start.seq, Number.MAX_SAFE_INTEGER, run.onProgress, pageSize, start)
    const { last: _, ...verdict } = joinRanges(anchor, [walk])
    return storeVerdict(verdict)
  }
  const chunkSize = run.chunkSize ?? Math.max(1, Math.min(4 * pageSize, Math.ceil(span / (threads * 4))))
  const chunks = Math.ceil(span / chunkSize)
  const claims = ChunkClaims.create(chunks)
  const walks: Array<RangeWalk<WalkedRecord> | undefined> = new Array(chunks)
  const anchors = opts.trust?.anchors.map(a => a.toString())
  const job: ChunkJob = { location: store.location, ...(anchors === undefined ? {} : { anchors }), after: start.seq, span, chunks, claims: claims.shared.buffer as SharedArrayBuffer, pageSize }
  const own = run.workers === undefined ? VerifyWorkers.start(threads - 1) : undefined
  const workers = (run.workers ?? own!).take(threads - 1).map(w => walkInWorker(w, job, walks, run.onProgress))
  // This thread's share: chunk 0 is linked to the anchor here, the others when joined.
  for (let i = claims.claim(); i >= 0; i = claims.claim()) {
    const { after, upTo } = chunkBounds(start.seq, span, chunks, i)
    const walk = await verifyRange(rows, problemsOf, cache, after, upTo, run.onProgress, pageSize, i === 0 ? start : undefined)
    if (walkFoundBad(walk)) claims.bad(i)
    walks[i] = walk
  }
  await Promise.all(workers)
  // Chunks never walked lie after a bad one: the join stops before them.
  const { last: _, ...verdict } = joinRanges(anchor, Array.from(walks, w => w ?? { records: 0, signatureIds: [] }))
  return storeVerdict(verdict)
}

/**
 * Verification threads started ahead of the walk: each loads its modules — most of its start —
 * while this thread still reads the configuration and opens the store, and waits for its job.
 * They do not keep the process alive until they have one.
 */
export class VerifyWorkers {
  private readonly idle: Worker[]
  private constructor (idle: Worker[]) { this.idle = idle }

  /** Starts `count` threads (default: one per core but this thread's, at most 7). */
  static start (count = Math.min(8, availableParallelism()) - 1): VerifyWorkers {
    return new VerifyWorkers(Array.from({ length: Math.max(0, count) }, () => {
      // No inherited loader flags (test runners, profilers): plain Node starts the worker in milliseconds.
      const worker = new Worker(new URL('./verify-worker.ts', import.meta.url), { execArgv: [] })
      worker.unref()
      // A thread that failed before its job reports it when given one (its exit is seen then).
      worker.on('error', () => {})
      return worker
    }))
  }

  get count (): number { return this.idle.length }

  /** Hands out the threads for a walk (at most `n`): they are no longer this set's to stop. */
  take (n: number): Worker[] { return this.idle.splice(0, n) }

  /** Stops the threads no walk took. */
  async close (): Promise<void> { await Promise.all(this.idle.splice(0).map(w => w.terminate())) }
}

function walkInWorker (worker: Worker, job: ChunkJob, walks: Array<RangeWalk<WalkedRecord> | undefined>, onProgress: OnProgress | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    // A thread started ahead may have failed already (its error was kept for now).
    if (worker.threadId === -1) { reject(new Error('a verification thread stopped before it was given its chunks')); return }
    let finished = false
    worker.on('message', (m: ChunkMessage) => {
      if ('progress' in m) onProgress?.(m.progress)
      else if ('chunk' in m) walks[m.chunk] = m.walk
      else finished = true
    })
    worker.once('error', reject)
    worker.once('exit', code => {
      if (finished) resolve()
      else reject(new Error(`a verification thread stopped (exit code ${code}) before it finished its chunks`))
    })
    worker.ref()
    worker.postMessage({ job } satisfies WorkerJob)
  })
}
