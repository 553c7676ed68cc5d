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

t.test('a queue file made by an earlier ura (unique on queue and id, an index on id) opens and keeps working', async t => {
  const file = join(dir, 'earlier.db')
  const { DatabaseSync } = await import('node:sqlite')
  const old = new DatabaseSync(file)
  old.exec(`CREATE TABLE ura_queue (name TEXT PRIMARY KEY, options TEXT NOT NULL, fifo INTEGER NOT NULL);
    CREATE TABLE ura_job (seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, id TEXT NOT NULL, key TEXT, state TEXT NOT NULL,
      attempts INTEGER NOT NULL, payload BLOB NOT NULL, created_at INTEGER NOT NULL, next_at INTEGER NOT NULL, expires_at INTEGER,
      finished_at INTEGER, last_error TEXT, result BLOB, UNIQUE (queue, id));
    CREATE INDEX ura_job_id ON ura_job (id);
    CREATE INDEX ura_job_key ON ura_job (queue, key, seq) WHERE key IS NOT NULL;`)
  old.prepare(`INSERT INTO ura_queue VALUES ('svc.old', ?, 0)`).run(JSON.stringify(OPTIONS))
  old.prepare(`INSERT INTO ura_job (queue, id, state, attempts, payload, created_at, next_at) VALUES ('svc.old', 'kept', 'queued', 0, ?, 1, 1)`).run(Buffer.from('from before'))
  old.close()
  const q = SqliteQueue.open(file)
  t.same(await q.enqueue([{ queue: 'svc.old', id: 'kept', payload: Buffer.from('again') }, { queue: 'svc.old', id: 'new', payload: Buffer.from('n') }]), [false, true], 'an id already there is still refused')
  t.same((await q.find('kept')).map(j => j.payload.toString()), ['from before'])
  const seen: string[] = []
  q.work('svc.', async job => { seen.push(job.id); return { ok: true } }, { concurrency: 4 })
  await until('both delivered', async () => (await q.list({ queue: 'svc.old', state: 'delivered', limit: 10 })).length === 2)
  t.same(seen.sort(), ['kept', 'new'])
  await q.close()
  const check = new DatabaseSync(file)
  const indexes = check.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ura_job' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all().map(r => r.name)
  check.close()
  t.same(indexes, ['ura_job_due', 'ura_job_id_queue', 'ura_job_key_open', 'ura_job_queue_pending'], 'the old indexes went, the new ones came')
})
