/**
 * `node bench/queue-cost.ts [--events 1000] [--fifo] [--threaded]`: what the embedded delivery queue
 * costs per job, alone. 61 queues (one per municipality), events published to all of them (one job
 * each), a worker that completes every job at once; prints the CPU time of this thread per job, and
 * the wall time. Without `--threaded` the queue runs on this thread (the figure is the queue's own
 * SQLite work); with it, in its thread as the node runs it (the figure is what the main thread pays).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { DeliveryQueue } from '../delivery/queue.ts'
import { SqliteQueue } from '../delivery/sqlite-queue.ts'
import { openThreadedSqlite } from '../delivery/threaded-sqlite.ts'

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000' }, fifo: { type: 'boolean', default: false }, threaded: { type: 'boolean', default: false } } })
const events = Number(values.events)
const dir = await mkdtemp(join(tmpdir(), 'ura-queue-cost-'))
const file = join(dir, 'delivery.sqlite')
const q: DeliveryQueue = values.threaded ? (await openThreadedSqlite(file)).queue : SqliteQueue.open(file)
const queues = Array.from({ length: 61 }, (_, i) => `sub.m${i}`)
for (const name of queues) await q.define(name, { retry: { limit: 5, delayMs: 1000, backoff: true, maxDelayMs: 60_000 }, ttlMs: 0, fifo: values.fifo, keepMs: 3_600_000 })
const payload = Buffer.alloc(300, 'x')
let done = 0
let finished!: () => void
const all = new Promise<void>(resolve => { finished = resolve })
q.work('sub.', async () => { if (++done === events * queues.length) finished(); return { ok: true } }, { concurrency: 64 })
const cpu0 = process.threadCpuUsage()
const t0 = performance.now()
for (let i = 0; i < events; i++) {
  await q.publish({ room: 'AL/GOV/X/room', id: `e${i}`, type: 't', publisher: 'AL/GOV/X/pub', publishedAt: new Date(), data: payload },
    queues.map(queue => ({ queue, id: `e${i}`, key: `k${i % 4}`, payload })))
  if (i % 10 === 0) await new Promise(resolve => setTimeout(resolve, 1))
}
await all
const cpu = process.threadCpuUsage(cpu0)
const jobs = events * queues.length
console.log(`${jobs} jobs${values.fifo ? ' (FIFO, 4 keys)' : ''}${values.threaded ? ', queue in its thread' : ', queue on this thread'}: ${((cpu.user + cpu.system) / jobs).toFixed(1)} µs CPU of this thread per job, ${((performance.now() - t0) / 1000).toFixed(2)} s`)
await q.close()
await rm(dir, { recursive: true, force: true })
