/**
 * The PostgreSQL home of the delivery queue (delivery/pg-boss-queue.ts) against a real PostgreSQL:
 * each run makes its own scratch databases and drops them at the end. What only this home has is
 * tested here (pg-boss's seconds, two nodes on one database, reversible names), and the shared
 * contract suite (internals/delivery-contract.ts) runs against it first.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import pg from 'pg'
import t, { type Test } from 'tap'
import { decodeName, encodeName, jobUuid, PgBossQueue } from '../delivery/pg-boss-queue.ts'
import { QueueError, type Job, type QueueOptions } from '../delivery/queue.ts'
import { deliveryContract } from './internals/delivery-contract.ts'

const SERVER = 'postgres://postgres@127.0.0.1:5432'

/** A fresh database for one test, dropped when the test ends (after its queues are closed). */
async function scratch (tt: Test): Promise<string> {
  const name = `ura_q_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client(`${SERVER}/postgres`)
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  tt.teardown(async () => {
    const drop = new pg.Client(`${SERVER}/postgres`)
    await drop.connect()
    await drop.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await drop.end()
  })
  return `${SERVER}/${name}`
}

/** Opens a queue on `url`, closed at the end of the test (before the database is dropped). */
async function open (tt: Test, url: string): Promise<PgBossQueue> {
  const queue = await PgBossQueue.open(url)
  tt.teardown(async () => await queue.close())
  return queue
}

function options (over: Partial<QueueOptions['retry']> & { fifo?: boolean; ttlMs?: number; keepMs?: number } = {}): QueueOptions {
  return {
    retry: { limit: over.limit ?? 2, delayMs: over.delayMs ?? 1000, backoff: over.backoff ?? false, maxDelayMs: over.maxDelayMs ?? 60_000 },
    ttlMs: over.ttlMs ?? 0,
    fifo: over.fifo ?? false,
    keepMs: over.keepMs ?? 3_600_000
  }
}

async function until<T> (what: string, probe: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

// The contract both homes keep: each open() on a fresh database, reopen() a second handle on the last one.
let current = ''
deliveryContract(t, {
  open: async () => await PgBossQueue.open(current = await scratch(t)),
  reopen: async () => await PgBossQueue.open(current)
})

const job = (queue: string, id: string, payload = id, key?: string) => ({ queue, id, payload: Buffer.from(payload), ...(key === undefined ? {} : { key }) })

t.test('names and ids map reversibly into what pg-boss accepts', async tt => {
  for (const name of ['svc.AL:GOV/K11503002N/ngjarje-civile', 'sub.' + randomUUID(), 'a_b c%ë€', '_5f']) {
    const encoded = encodeName(name)
    tt.match(encoded, /^[\w.\-/]+$/, `${name} escapes into pg-boss's alphabet`)
    tt.equal(decodeName(encoded), name, `${name} comes back`)
  }
  tt.not(encodeName('a_'), encodeName('a') + '_')
  tt.ok(encodeName('svc.x:y').startsWith(encodeName('svc.x:')), 'a prefix stays a prefix')
  tt.equal(jobUuid('msg-1'), jobUuid('msg-1'))
  tt.not(jobUuid('msg-1'), jobUuid('msg-2'))
  tt.match(jobUuid('x'.repeat(255)), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
})

t.test('enqueue is durable when it resolves; a repeated id is false', async tt => {
  const url = await scratch(tt)
  const q = await open(tt, url)
  tt.equal(q.home, 'postgres')
  await q.define('svc.AL:GOV/x y', options())
  tt.same(await q.enqueue([job('svc.AL:GOV/x y', 'm1'), job('svc.AL:GOV/x y', 'm2'), job('svc.AL:GOV/x y', 'm1')]), [true, true, false])
  tt.same(await q.enqueue([job('svc.AL:GOV/x y', 'm2', 'other'), job('svc.AL:GOV/x y', 'm3')]), [false, true])
  await q.close()
  // Another connection (a restarted node) reads what the first one stored.
  const again = await open(tt, url)
  const m2 = await again.get('svc.AL:GOV/x y', 'm2')
  tt.equal(m2?.payload.toString(), 'm2', 'the first payload is kept, the repeat changed nothing')
  tt.equal(m2?.state, 'queued')
  tt.equal(m2?.attempts, 0)
  tt.equal(m2?.queue, 'svc.AL:GOV/x y')
  tt.equal(await again.get('svc.AL:GOV/x y', 'nope'), undefined)
  tt.same((await again.list({ prefix: 'svc.AL:', limit: 10 })).map(j => j.id), ['m1', 'm2', 'm3'], 'enqueue order')
  await tt.rejects(q.get('svc.AL:GOV/x y', 'm1'), { code: 'Delivery.Closed' })
})

t.test('an enqueue is all or nothing', async tt => {
  const q = await open(tt, await scratch(tt))
  await q.define('svc.a', options())
  const err = await q.enqueue([job('svc.a', 'm1'), job('svc.missing', 'm2')]).catch((e: unknown) => e)
  tt.ok(err instanceof QueueError)
  tt.equal((err as QueueError).code, 'Delivery.UnknownQueue')
  tt.equal(await q.get('svc.a', 'm1'), undefined, 'nothing of the batch is stored')
  tt.same(await q.enqueue([job('svc.a', 'm1')]), [true], 'the id is still free')
})

t.test('push work: retries wait the delay, exhaustion is dead, retry:false is dead at once, redrive delivers', async tt => {
  const q = await open(tt, await scratch(tt))
  await q.define('svc.flaky', options({ limit: 2, delayMs: 1000 }))
  await q.define('svc.broken', options({ limit: 1, delayMs: 1000 }))
  await q.define('svc.refused', options({ limit: 5, delayMs: 1000 }))
  const seen: Record<string, number[]> = {}
  let mend = false
  q.work('svc.', async (j: Job) => {
    ;(seen[j.id] ??= []).push(Date.now())
    if (j.queue === 'svc.flaky') return j.attempts < 3 ? { ok: false, error: `try ${j.attempts}` } : { ok: true, result: Buffer.from('answer') }
    if (j.queue === 'svc.refused') return mend ? { ok: true } : { ok: false, error: 'no such citizen', retry: false }
    if (mend) return { ok: true }
    throw new Error('provider down')
  }, { concurrency: 4 })
  await q.enqueue([job('svc.flaky', 'f'), job('svc.broken', 'b'), job('svc.refused', 'r')])

  const f = await until('f delivered', async () => { const j = await q.get('svc.flaky', 'f'); return j?.state === 'delivered' && j })
  tt.equal(f.attempts, 3)
  tt.equal(f.result?.toString(), 'answer')
  tt.equal(f.lastError, null)
  tt.ok(f.finishedAt instanceof Date)
  const times = seen.f
  tt.equal(times.length, 3)
  for (let i = 1; i < times.length; i++) tt.ok(times[i] - times[i - 1] >= 900, `attempt ${i + 1} waited the retry delay (${times[i] - times[i - 1]} ms)`)

  const b = await until('b dead', async () => { const j = await q.get('svc.broken', 'b'); return j?.state === 'dead' && j })
  tt.equal(b.attempts, 2, 'one attempt plus one retry')
  tt.equal(b.lastError, 'provider down', 'a thrown error is the failure message')
  const r = await until('r dead', async () => { const j = await q.get('svc.refused', 'r'); return j?.state === 'dead' && j })
  tt.equal(r.attempts, 1, 'retry:false is final')
  tt.equal(r.lastError, 'no such citizen')
  tt.equal(seen.r.length, 1)

  mend = true
  tt.equal(await q.redrive('svc.broken'), 1)
  tt.equal(await q.redrive('svc.refused', ['r', 'not-there']), 1)
  tt.equal(await q.redrive('svc.flaky'), 0, 'a delivered job is not re-driven')
  const b2 = await until('b delivered', async () => { const j = await q.get('svc.broken', 'b'); return j?.state === 'delivered' && j })
  tt.equal(b2.attempts, 1, 'attempts start again after a redrive')
  await until('r delivered', async () => (await q.get('svc.refused', 'r'))?.state === 'delivered')
})

t.test('backoff doubles the delay', async tt => {
  const q = await open(tt, await scratch(tt))
  await q.define('svc.slow', options({ limit: 2, delayMs: 1000, backoff: true, maxDelayMs: 10_000 }))
  const times: number[] = []
  q.work('svc.', async () => { times.push(Date.now()); return { ok: false, error: 'down' } }, { concurrency: 1 })
  await q.enqueue([job('svc.slow', 's')])
  await until('s dead', async () => (await q.get('svc.slow', 's'))?.state === 'dead', 20_000)
  tt.equal(times.length, 3)
  const first = times[1] - times[0]
  const second = times[2] - times[1]
  tt.ok(first >= 400, `first wait ${first} ms`)
  tt.ok(second >= 900, `second wait ${second} ms (at least the base delay, about twice)`)
})

t.test('FIFO: a failing job holds back the next of its key; other keys flow', async tt => {
  const q = await open(tt, await scratch(tt))
  await q.define('svc.fifo', options({ fifo: true, limit: 3, delayMs: 1000 }))
  const order: string[] = []
  q.work('svc.fifo', async j => {
    order.push(`${j.id}#${j.attempts}`)
    return j.id === 'a1' && j.attempts === 1 ? { ok: false, error: 'once' } : { ok: true }
  }, { concurrency: 4 })
  await q.enqueue([job('svc.fifo', 'a1', 'x', 'NID-A'), job('svc.fifo', 'a2', 'x', 'NID-A'), job('svc.fifo', 'b1', 'x', 'NID B'), job('svc.fifo', 'n1')])
  await until('all delivered', async () => (await q.list({ queue: 'svc.fifo', state: 'delivered', limit: 10 })).length === 4)
  tt.ok(order.indexOf('a2#1') > order.indexOf('a1#2'), `a2 ran after a1 was delivered: ${order.join(' ')}`)
  tt.ok(order.indexOf('b1#1') < order.indexOf('a1#2'), 'b1 did not wait for a1')
  tt.equal((await q.get('svc.fifo', 'b1'))?.key, 'NID B')
  tt.equal((await q.get('svc.fifo', 'n1'))?.key, null)
})

t.test('a dead job blocks its key until redriven', async tt => {
  const q = await open(tt, await scratch(tt))
  await q.define('svc.fifo', options({ fifo: true, limit: 0 }))
  await q.enqueue([job('svc.fifo', 'a1', 'x', 'K'), job('svc.fifo', 'a2', 'x', 'K')])
  const first = await q.fetch('svc.fifo', 30_000)
  tt.equal(first?.id, 'a1')
  tt.equal(await q.fetch('svc.fifo', 30_000), undefined, 'a2 waits behind the active a1')
  q.work('svc.fifo', async () => ({ ok: false, error: 'refused', retry: false }), { concurrency: 1 })
  tt.equal(await q.complete('svc.fifo', 'a1'), true)
  await until('a2 dead', async () => (await q.get('svc.fifo', 'a2'))?.state === 'dead')
})

t.test('pull: fetch, complete, and a lapsed lease makes the job due again', async tt => {
  const q = await open(tt, await scratch(tt))
  await q.define('sub.pull', options({ limit: 3, delayMs: 0 }))
  await q.enqueue([job('sub.pull', 'e1'), job('sub.pull', 'e2')])
  const e1 = await q.fetch('sub.pull', 60_000)
  tt.equal(e1?.id, 'e1', 'oldest first')
  tt.equal(e1?.state, 'active')
  tt.equal(e1?.attempts, 1)
  tt.equal((await q.get('sub.pull', 'e1'))?.state, 'active')
  tt.equal(await q.complete('sub.pull', 'e1', Buffer.from('ack')), true)
  tt.equal(await q.complete('sub.pull', 'e1'), false, 'not active any more')
  tt.equal(await q.complete('sub.pull', 'unknown'), false)
  const done = await q.get('sub.pull', 'e1')
  tt.equal(done?.state, 'delivered')
  tt.equal(done?.result?.toString(), 'ack')

  const started = Date.now()
  const e2 = await q.fetch('sub.pull', 1000)
  tt.equal(e2?.id, 'e2')
  tt.equal(await q.fetch('sub.pull', 1000), undefined, 'nothing else is due')
  const again = await until('e2 due again', async () => await q.fetch('sub.pull', 60_000), 10_000)
  tt.equal(again.id, 'e2')
  tt.equal(again.attempts, 2)
  tt.ok(Date.now() - started >= 1000, 'not before the lease ran out')
  tt.equal(await q.complete('sub.pull', 'e2'), true)
  tt.equal(await q.fetch('sub.pull', 1000), undefined)
})

t.test('a job past its ttl is dead (expired) instead of delivered', async tt => {
  const q = await open(tt, await scratch(tt))
  await q.define('sub.short', options({ ttlMs: 300 }))
  await q.enqueue([job('sub.short', 'old')])
  await new Promise(resolve => setTimeout(resolve, 500))
  await q.enqueue([job('sub.short', 'young')])
  const got = await q.fetch('sub.short', 5000)
  tt.equal(got?.id, 'young', 'the expired job is not handed out')
  const old = await q.get('sub.short', 'old')
  tt.equal(old?.state, 'dead')
  tt.equal(old?.lastError, 'expired')
})

t.test('publish stores the event and its fan-out in one transaction, once', async tt => {
  const q = await open(tt, await scratch(tt))
  const room = 'AL/GOV/K11503002N/ngjarje-civile'
  const subA = `sub.${randomUUID()}`
  const subB = `sub.${randomUUID()}`
  await q.define(subA, options())
  await q.define(subB, options())
  const ev = (id: string, type = 'birth') => ({ room, id, type, publisher: 'AL/GOV/K1/civil', publishedAt: new Date('2025-05-01T10:00:00Z'), data: Buffer.from(JSON.stringify({ id })) })
  const id1 = randomUUID()
  tt.same(await q.publish(ev(id1), [job(subA, id1), job(subB, id1)]), { stored: true, jobs: [true, true], seq: 1 })
  tt.same(await q.publish(ev(id1), [job(subA, id1), job(subB, id1)]), { stored: false, jobs: [false, false], seq: 1 })
  const id2 = randomUUID()
  await tt.rejects(q.publish(ev(id2, 'death'), [job(subA, id2), job('sub.gone', id2)]), { code: 'Delivery.UnknownQueue' })
  tt.equal(await q.event(room, id2), undefined, 'the event of a failed publish is not stored')
  tt.equal(await q.get(subA, id2), undefined, 'nor its jobs')
  tt.same((await q.publish(ev(id2, 'death'), [job(subA, id2)])).seq, 2, 'the failed publish took no seq')
  const id3 = randomUUID()
  tt.equal((await q.publish(ev(id3), [])).seq, 3)
  tt.equal((await q.publish({ ...ev(randomUUID()), room: 'AL/GOV/other/room' }, [])).seq, 1, 'seq counts per room')

  tt.same((await q.events(room, { limit: 10 })).map(e => e.seq), [3, 2, 1], 'newest first')
  tt.same((await q.events(room, { limit: 10, types: ['birth'] })).map(e => e.id), [id3, id1])
  tt.same((await q.events(room, { limit: 1, beforeSeq: 3 })).map(e => e.seq), [2])
  const stored = await q.event(room, id1)
  tt.equal(stored?.publisher, 'AL/GOV/K1/civil')
  tt.equal(stored?.publishedAt.toISOString(), '2025-05-01T10:00:00.000Z')
  tt.same(JSON.parse(stored?.data.toString() ?? ''), { id: id1 })

  const found = await q.find(id1)
  tt.same(found.map(j => j.queue).sort(), [subA, subB].sort(), 'find sees the event in every subscriber queue')
  tt.same(await q.find('nobody'), [])
})

t.test('stats count each state per defined queue', async tt => {
  const q = await open(tt, await scratch(tt))
  await q.define('svc.s', options({ limit: 0 }))
  await q.define('svc.empty', options())
  await q.enqueue(['1', '2', '3', '4'].map(id => job('svc.s', id)))
  const a = await q.fetch('svc.s', 60_000)
  const b = await q.fetch('svc.s', 60_000)
  await q.complete('svc.s', a?.id ?? '')
  await q.fetch('svc.s', 60_000)
  q.work('svc.s', async () => ({ ok: false, error: 'no' }), { concurrency: 1 })
  await until('a dead job', async () => (await q.list({ queue: 'svc.s', state: 'dead', limit: 5 })).length === 1)
  const stats = await q.stats()
  tt.same(stats.map(s => s.queue), ['svc.empty', 'svc.s'])
  const s = stats[1]
  tt.same({ queued: s.queued, active: s.active, retry: s.retry, delivered: s.delivered, dead: s.dead }, { queued: 0, active: 2, retry: 0, delivered: 1, dead: 1 })
  tt.ok(s.oldestMs > 0)
  tt.same(stats[0], { queue: 'svc.empty', queued: 0, active: 0, retry: 0, delivered: 0, dead: 0, oldestMs: 0 })
  tt.ok(b !== undefined)
})

t.test('close waits for a running handler', async tt => {
  const url = await scratch(tt)
  const q = await PgBossQueue.open(url)
  await q.define('svc.long', options())
  let release: () => void = () => {}
  const started = new Promise<void>(resolve => {
    q.work('svc.', async () => {
      resolve()
      await new Promise<void>(r => { release = r })
      return { ok: true, result: Buffer.from('late') }
    }, { concurrency: 1 })
  })
  await q.enqueue([job('svc.long', 'l')])
  await started
  let closed = false
  const closing = q.close().then(() => { closed = true })
  await new Promise(resolve => setTimeout(resolve, 300))
  tt.equal(closed, false, 'close waits')
  release()
  await closing
  const other = await open(tt, url)
  const l = await other.get('svc.long', 'l')
  tt.equal(l?.state, 'delivered', 'the running handler finished and was recorded')
  tt.equal(l?.result?.toString(), 'late')
})

t.test('two nodes on one database: what node A enqueued, node B works', async tt => {
  const url = await scratch(tt)
  const a = await open(tt, url)
  const b = await open(tt, url)
  const worked: string[] = []
  b.work('sub.', async j => { worked.push(j.id); return { ok: true } }, { concurrency: 2 })
  await a.define('svc.before', options())
  await a.close()
  // A queue defined after B started working, by another node, is picked up by prefix.
  const c = await open(tt, url)
  await c.define('sub.later', options())
  await c.enqueue([job('sub.later', 'x1'), job('sub.later', 'x2')])
  await c.close()
  await until('both worked', async () => worked.length === 2)
  tt.same(worked.sort(), ['x1', 'x2'])
  // The handler has run; its outcome commits a moment later.
  await until('x1 delivered', async () => (await b.get('sub.later', 'x1'))?.state === 'delivered')
  tt.equal((await b.get('sub.later', 'x1'))?.state, 'delivered')
})
