/**
 * The node's embedded delivery store runs the SQLite queue and the idempotency keys in a thread of
 * their own (delivery/threaded-sqlite.ts). It keeps the shared contract, carries bytes both ways
 * as Buffers, runs the jobs on the calling thread, and fails in the open when its thread is gone.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { QueueError } from '../delivery/queue.ts'
import { openThreadedSqlite } from '../delivery/threaded-sqlite.ts'
import { deliveryContract, OPTIONS, until } from './internals/delivery-contract.ts'

const dir = await mkdtemp(join(tmpdir(), 'ura-queue-thread-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
let n = 0
let current = ''

deliveryContract(t, {
  open: async () => (await openThreadedSqlite(current = join(dir, `q${++n}.db`))).queue,
  reopen: async () => (await openThreadedSqlite(current)).queue,
})

t.test('bytes cross as Buffers both ways; jobs run on this thread with their payload', async t => {
  const { queue } = await openThreadedSqlite(join(dir, 'bytes.db'))
  t.teardown(() => queue.close())
  await queue.define('svc.b', OPTIONS)
  // A pooled Buffer (a view into a larger allocation) must arrive as exactly its bytes.
  const payload = Buffer.from('{"nid":"J00101234X"}')
  t.ok(payload.byteLength < payload.buffer.byteLength, 'the payload is a view into a pool')
  await queue.enqueue([{ queue: 'svc.b', id: 'one', payload }])
  const seen: Buffer[] = []
  queue.work('svc.', async job => { seen.push(job.payload); return { ok: true, result: Buffer.from('answer') } }, { concurrency: 2 })
  const done = await until('delivered', async () => { const j = await queue.get('svc.b', 'one'); return j?.state === 'delivered' ? j : undefined })
  t.ok(Buffer.isBuffer(seen[0]))
  t.equal(seen[0].toString(), '{"nid":"J00101234X"}')
  t.ok(Buffer.isBuffer(done.result))
  t.equal(done.result?.toString(), 'answer')
  t.ok(done.createdAt instanceof Date)
})

t.test('a handler that throws fails the attempt, and the job is retried', async t => {
  const { queue } = await openThreadedSqlite(join(dir, 'throws.db'))
  t.teardown(() => queue.close())
  await queue.define('svc.t', { ...OPTIONS, retry: { limit: 3, delayMs: 20, backoff: false, maxDelayMs: 20 } })
  await queue.enqueue([{ queue: 'svc.t', id: 'x', payload: Buffer.from('x') }])
  let calls = 0
  queue.work('svc.', async () => { if (++calls === 1) throw new Error('provider exploded'); return { ok: true } }, { concurrency: 1 })
  const job = await until('delivered', async () => { const j = await queue.get('svc.t', 'x'); return j?.state === 'delivered' ? j : undefined })
  t.equal(job.attempts, 2)
  t.equal(calls, 2)
})

t.test('queue errors keep their codes across the thread', async t => {
  const { queue } = await openThreadedSqlite(join(dir, 'codes.db'))
  t.teardown(() => queue.close())
  const err = await queue.enqueue([{ queue: 'svc.nope', id: 'x', payload: Buffer.from('x') }]).catch((e: unknown) => e)
  t.ok(err instanceof QueueError)
  t.equal((err as QueueError).code, 'Delivery.UnknownQueue')
})

t.test('idempotency keys through the thread: claim, replay with the answer body, mismatch', async t => {
  const { queue, idempotency } = await openThreadedSqlite(join(dir, 'keys.db'))
  t.teardown(() => queue.close())
  t.same(await idempotency.claim('AL/GOV/1', 'k1', 'fp-a', 60_000), { kind: 'new' })
  t.same(await idempotency.claim('AL/GOV/1', 'k1', 'fp-a', 60_000), { kind: 'in-flight' })
  await idempotency.finish('AL/GOV/1', 'k1', { status: 201, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"ok":true}') })
  const replay = await idempotency.claim('AL/GOV/1', 'k1', 'fp-a', 60_000)
  t.equal(replay.kind, 'replay')
  if (replay.kind === 'replay') {
    t.equal(replay.answer.status, 201)
    t.ok(Buffer.isBuffer(replay.answer.body))
    t.equal(replay.answer.body.toString(), '{"ok":true}')
  }
  t.same(await idempotency.claim('AL/GOV/1', 'k1', 'fp-b', 60_000), { kind: 'mismatch' })
})

t.test('a store that cannot open fails at open with the reason; after close every call is refused', async t => {
  const notADatabase = join(dir, 'garbage.db')
  await writeFile(notADatabase, 'this is not an SQLite file, just text that is long enough to be read as a header '.repeat(20))
  await t.rejects(openThreadedSqlite(notADatabase), /delivery store could not open .*garbage\.db/)
  const { queue, idempotency } = await openThreadedSqlite(join(dir, 'closed.db'))
  await queue.close()
  await t.rejects(queue.stats(), { code: 'Delivery.Closed' })
  await t.rejects(idempotency.claim('AL/GOV/1', 'k', 'fp', 1000), { code: 'Delivery.Closed' })
  t.throws(() => { queue.work('svc.', async () => ({ ok: true }), { concurrency: 1 }) }, { code: 'Delivery.Closed' })
})
