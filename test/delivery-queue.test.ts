/**
 * The embedded home of the delivery queue keeps the shared contract (test/internals/delivery-contract.ts),
 * and what only it promises: an enqueue that resolved survives a killed process, and jobs a killed
 * process left active are due again at the next start.
 */
import { fork } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { SqliteQueue } from '../delivery/sqlite-queue.ts'
import { retryDelay } from '../delivery/queue.ts'
import { deliveryContract, OPTIONS, until } from './internals/delivery-contract.ts'

const dir = await mkdtemp(join(tmpdir(), 'ura-queue-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
let n = 0
let current = ''

deliveryContract(t, {
  open: async () => SqliteQueue.open(current = join(dir, `q${++n}.db`)),
  reopen: async () => SqliteQueue.open(current),
})

t.test('retry delays: exponential with jitter, capped', async t => {
  const policy = { limit: 5, delayMs: 1000, backoff: true, maxDelayMs: 10_000 }
  t.equal(retryDelay(policy, 1, () => 0.5), 1000)
  t.equal(retryDelay(policy, 3, () => 0.5), 4000)
  t.equal(retryDelay(policy, 3, () => 0), 3000, '-25 %')
  t.equal(retryDelay(policy, 3, () => 1), 5000, '+25 %')
  t.equal(retryDelay(policy, 9, () => 0.5), 10_000, 'capped')
  t.equal(retryDelay({ ...policy, backoff: false }, 4, () => 0.5), 1000)
})

t.test('an acknowledged enqueue survives SIGKILL right after it resolved', async t => {
  const file = join(dir, 'killed.db')
  const child = fork(join(import.meta.dirname, 'support', 'queue-enqueuer.ts'), [file], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const acked: string[] = []
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { acked?: string }) => {
      if (m.acked !== undefined) acked.push(m.acked)
      if (acked.length >= 200) { child.kill('SIGKILL'); resolve() }
    })
    child.on('exit', () => { resolve() })
    child.on('error', reject)
  })
  await new Promise(resolve => setTimeout(resolve, 100))
  const q = SqliteQueue.open(file)
  await q.define('svc.k', OPTIONS)
  const stored = new Set((await q.list({ queue: 'svc.k', limit: 100_000 })).map(j => j.id))
  const missing = acked.filter(id => !stored.has(id))
  t.equal(missing.length, 0, `every acknowledged job is stored (${acked.length} acknowledged, ${stored.size} stored)`)
  await q.close()
})

t.test('a job a killed worker left active is worked again, with the same id', async t => {
  const file = join(dir, 'active.db')
  const q = SqliteQueue.open(file)
  await q.define('svc.r', OPTIONS)
  await q.enqueue([{ queue: 'svc.r', id: 'msg-7', payload: Buffer.from('x') }])
  const leased = await q.fetch('svc.r', 60_000)
  t.equal(leased?.state, 'active')
  // Not closed: as if the process died here (the file stays as it was written).
  const restarted = SqliteQueue.open(file)
  const seen: string[] = []
  restarted.work('svc.', async job => { seen.push(`${job.id}#${job.attempts}`); return { ok: true } }, { concurrency: 1 })
  await until('delivered again', async () => (await restarted.get('svc.r', 'msg-7'))?.state === 'delivered')
  t.same(seen, ['msg-7#2'])
  await restarted.close()
})
