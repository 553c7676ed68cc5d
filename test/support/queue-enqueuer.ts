/**
 * A child process for the delivery queue's kill test: enqueues jobs one at a time as fast as it can
 * and tells the parent each id the moment its enqueue resolved, until the parent kills it.
 */
import { SqliteQueue } from '../../delivery/sqlite-queue.ts'

const q = SqliteQueue.open(process.argv[2])
await q.define('svc.k', { retry: { limit: 2, delayMs: 1000, backoff: false, maxDelayMs: 1000 }, ttlMs: 0, fifo: false, keepMs: 3_600_000 })
for (let i = 0; ; i++) {
  const batch = [0, 1, 2, 3].map(k => `job-${i}-${k}`)
  await Promise.all(batch.map(async id => {
    await q.enqueue([{ queue: 'svc.k', id, payload: Buffer.from(id) }])
    process.send!({ acked: id })
  }))
}
