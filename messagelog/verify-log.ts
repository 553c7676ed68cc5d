/**
 * `ura log verify`'s walk of the whole message log, in parallel where it pays: a long log is cut
 * into ranges of sequence numbers, the first verified in this thread and each other one in its own
 * worker thread (verify-worker.ts) on its own read-only connection. This thread joins the ranges —
 * each must start from the previous range's last chain hash — and reports progress. A short log, or
 * a single core, is walked in one thread. Either way the verdict is the one verifyStore gives.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { VerifyOptions } from '../certs/verifier.ts'
import type { LogStore } from './store.ts'
import { joinRanges, recordProblems, SignatureCache, storeVerdict, verifyRange, verifyStore, type OnProgress, type RangeWalk, type StoreVerdict } from './verify.ts'
import type { RangeJob, RangeMessage } from './verify-worker.ts'
import { GENESIS_HASH, type StoredRecord } from './record.ts'

export interface VerifyRun {
  /** Threads for a long log, this one included (default: the cores available, at most 8); 1 walks in this thread alone. */
  threads?: number
  /** Records below which one thread walks the log: starting workers costs more than it saves. */
  parallelFrom?: number
  pageSize?: number
  onProgress?: OnProgress
}

/** How many records a verification of the whole log walks (records after the pruning anchor). */
export async function recordsToVerify (store: LogStore): Promise<number> {
  const extent = await store.extent()
  if (extent === undefined) return 0
  const after = (await store.anchor())?.seq ?? 0
  return Math.max(0, extent.last - Math.max(after, extent.first - 1))
}

export async function verifyLog (store: LogStore, opts: VerifyOptions = {}, run: VerifyRun = {}): Promise<StoreVerdict> {
  const threads = run.threads ?? Math.min(8, availableParallelism())
  const pageSize = run.pageSize ?? 1000
  const extent = await store.extent()
  const anchor = await store.anchor()
  const after = anchor?.seq ?? 0
  const span = extent === undefined ? 0 : extent.last - after
  if (threads <= 1 || extent === undefined || span < (run.parallelFrom ?? 20_000)) return verifyStore(store, opts, pageSize, run.onProgress)
  const anchors = opts.trust?.anchors.map(a => a.toString())
  const ranges = Array.from({ length: threads }, (_, i) => ({
    after: after + Math.floor(span * i / threads),
    upTo: after + Math.floor(span * (i + 1) / threads),
  }))
  // The first range in this thread, on the store already open; the others each in a worker thread.
  const walks = await Promise.all(ranges.map((r, i) => i === 0
    ? verifyRange(store, recordProblems, new SignatureCache(opts), r.after, r.upTo, run.onProgress, pageSize, anchor ?? { seq: 0, hash: GENESIS_HASH })
    : walkInWorker({ location: store.location, ...(anchors === undefined ? {} : { anchors }), ...r, pageSize }, run.onProgress)))
  const { last: _, ...verdict } = joinRanges(anchor, walks)
  return storeVerdict(verdict)
}

function walkInWorker (job: RangeJob, onProgress: OnProgress | undefined): Promise<RangeWalk<Pick<StoredRecord, 'seq' | 'messageId'>>> {
  return new Promise((resolve, reject) => {
    // No inherited loader flags (test runners, profilers): plain Node starts the worker in milliseconds.
    const worker = new Worker(new URL('./verify-worker.ts', import.meta.url), { workerData: job, execArgv: [] })
    let result: RangeWalk<Pick<StoredRecord, 'seq' | 'messageId'>> | undefined
    worker.on('message', (m: RangeMessage) => {
      if ('progress' in m) onProgress?.(m.progress)
      else result = m.walk
    })
    worker.once('error', reject)
    worker.once('exit', code => {
      if (result !== undefined) resolve(result)
      else reject(new Error(`a verification thread stopped (exit code ${code}) before it finished its range`))
    })
  })
}
