/**
 * The contract both homes of the delivery queue keep (delivery/queue.ts): the same suite runs against
 * the embedded SQLite file and pg-boss on PostgreSQL. Delays are whole seconds so pg-boss's
 * granularity fits; each check waits on a condition, never on a fixed sleep alone.
 */
import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import type { DeliveryQueue, Job, Outcome, QueueOptions } from '../../delivery/queue.ts'

export interface ContractHome {
  /** A fresh, empty queue store. */
  open (): Promise<DeliveryQueue>
  /** A second handle on the same store (a restarted node, or a second node of a cluster). */
  reopen (): Promise<DeliveryQueue>
}

export const OPTIONS: QueueOptions = {
  retry: { limit: 2, delayMs: 1000, backoff: false, maxDelayMs: 1000 },
  ttlMs: 0,
  fifo: false,
  keepMs: 3_600_000,
}

export async function until<T> (what: string, check: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v !== undefined && v !== false) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

const text = (job: Job): string => job.payload.toString()

export function deliveryContract (t: Test, home: ContractHome): void {
  t.test('enqueue is durable, deduplicates ids, and is all or nothing', async t => {
    const q = await home.open()
    await q.define('svc.a', OPTIONS)
    t.same(await q.enqueue([{ queue: 'svc.a', id: 'm-1', payload: Buffer.from('one') }, { queue: 'svc.a', id: 'm-2', payload: Buffer.from('two') }]), [true, true])
    t.same(await q.enqueue([{ queue: 'svc.a', id: 'm-1', payload: Buffer.from('again') }]), [false], 'same id twice is a no-op')
    await t.rejects(q.enqueue([{ queue: 'svc.a', id: 'm-3', payload: Buffer.from('x') }, { queue: 'svc.nowhere', id: 'm-4', payload: Buffer.from('y') }]),
      { code: 'Delivery.UnknownQueue' })
    t.equal(await q.get('svc.a', 'm-3'), undefined, 'nothing of a refused batch is stored')
    await q.close()
    const again = await home.reopen()
    const job = await again.get('svc.a', 'm-1')
    t.equal(job?.state, 'queued')
    t.equal(job === undefined ? '' : text(job), 'one', 'the first payload is kept')
    t.equal((await again.list({ queue: 'svc.a', limit: 10 })).length, 2)
    await again.close()
  })

  t.test('push work: success keeps the result, failure retries, then dead; redrive delivers', async t => {
    const q = await home.open()
    await q.define('svc.b', OPTIONS)
    const seen: string[] = []
    let healthy = false
    q.work('svc.', async (job): Promise<Outcome> => {
      seen.push(`${job.id}#${job.attempts}`)
      if (job.id === 'ok') return { ok: true, result: Buffer.from('answer') }
      if (job.id === 'final') return { ok: false, error: 'refused', retry: false }
      return healthy ? { ok: true } : { ok: false, error: 'provider down' }
    }, { concurrency: 4 })
    await q.enqueue([
      { queue: 'svc.b', id: 'ok', payload: Buffer.from('a') },
      { queue: 'svc.b', id: 'flaky', payload: Buffer.from('b') },
      { queue: 'svc.b', id: 'final', payload: Buffer.from('c') },
    ])
    const ok = await until('ok delivered', async () => { const j = await q.get('svc.b', 'ok'); return j?.state === 'delivered' && j })
    t.equal(ok.result?.toString(), 'answer')
    t.equal(ok.attempts, 1)
    const final = await until('final dead', async () => { const j = await q.get('svc.b', 'final'); return j?.state === 'dead' && j })
    t.equal(final.attempts, 1, 'retry: false is final')
    t.equal(final.lastError, 'refused')
    const flaky = await until('flaky dead', async () => { const j = await q.get('svc.b', 'flaky'); return j?.state === 'dead' && j })
    t.equal(flaky.attempts, 3, 'one attempt and two retries')
    t.equal(flaky.lastError, 'provider down')
    t.ok(seen.includes('flaky#2') && seen.includes('flaky#3'))
    const dead = await q.list({ queue: 'svc.b', state: 'dead', limit: 10 })
    t.same(dead.map(j => j.id).sort(), ['final', 'flaky'])
    healthy = true
    t.equal(await q.redrive('svc.b', ['flaky']), 1)
    await until('flaky delivered after redrive', async () => (await q.get('svc.b', 'flaky'))?.state === 'delivered')
    t.equal((await q.get('svc.b', 'final'))?.state, 'dead', 'only the named job was re-driven')
    const stats = (await q.stats()).find(s => s.queue === 'svc.b')
    t.equal(stats?.delivered, 2)
    t.equal(stats?.dead, 1)
    await q.close()
  })

  t.test('FIFO per key: a failing job holds back its key, other keys flow', async t => {
    const q = await home.open()
    await q.define('sub.fifo', { ...OPTIONS, fifo: true, retry: { limit: 5, delayMs: 1000, backoff: false, maxDelayMs: 1000 } })
    const order: string[] = []
    let fails = 1
    q.work('sub.', async (job): Promise<Outcome> => {
      if (job.id === 'k1-a' && fails-- > 0) return { ok: false, error: 'once' }
      order.push(job.id)
      return { ok: true }
    }, { concurrency: 4 })
    await q.enqueue([
      { queue: 'sub.fifo', id: 'k1-a', key: 'K1', payload: Buffer.from('1') },
      { queue: 'sub.fifo', id: 'k1-b', key: 'K1', payload: Buffer.from('2') },
      { queue: 'sub.fifo', id: 'k2-a', key: 'K2', payload: Buffer.from('3') },
    ])
    await until('all delivered', async () => order.length === 3)
    t.ok(order.indexOf('k1-a') < order.indexOf('k1-b'), `key K1 in order: ${order.join(',')}`)
    t.equal(order[0], 'k2-a', 'the other key did not wait for the retry')
    await q.close()
  })

  t.test('pull: fetch leases a job, complete acknowledges, an unacknowledged lease runs out', async t => {
    const q = await home.open()
    await q.define('pull.p', OPTIONS)
    await q.enqueue([{ queue: 'pull.p', id: 'e-1', payload: Buffer.from('x') }, { queue: 'pull.p', id: 'e-2', payload: Buffer.from('y') }])
    const first = await q.fetch('pull.p', 1000)
    t.equal(first?.id, 'e-1')
    t.equal(first?.state, 'active')
    t.equal((await q.fetch('pull.p', 1000))?.id, 'e-2')
    t.equal(await q.fetch('pull.p', 1000), undefined, 'nothing else is due')
    t.equal(await q.complete('pull.p', 'e-1', Buffer.from('ack')), true)
    t.equal(await q.complete('pull.p', 'e-1'), false, 'a second acknowledgement changes nothing')
    t.equal(await q.complete('pull.p', 'nope'), false)
    const back = await until('e-2 due again', async () => { const j = await q.fetch('pull.p', 1000); return j?.id === 'e-2' && j }, 10_000)
    t.ok(back.attempts >= 2, 'the second lease counts as another attempt')
    t.equal((await q.get('pull.p', 'e-1'))?.state, 'delivered')
    await q.close()
  })

  t.test('publish stores the event and its fan-out at once; re-publishing changes nothing', async t => {
    const q = await home.open()
    const subs = [randomUUID(), randomUUID(), randomUUID()]
    for (const s of subs) await q.define(`sub.${s}`, OPTIONS)
    const room = 'AL/GOV/K11503002N/ngjarje-civile'
    const ids = [randomUUID(), randomUUID()]
    const first = await q.publish({ room, type: 'lindje', id: ids[0], publisher: 'AL/GOV/K11503002N/regjistri', publishedAt: new Date(), data: Buffer.from('{"a":1}') },
      subs.map(s => ({ queue: `sub.${s}`, id: ids[0], payload: Buffer.from('{"a":1}') })))
    t.same(first.jobs, [true, true, true])
    t.equal(first.stored, true)
    const second = await q.publish({ room, type: 'vdekje', id: ids[1], publisher: 'AL/GOV/K11503002N/regjistri', publishedAt: new Date(), data: Buffer.from('{"b":2}') },
      subs.map(s => ({ queue: `sub.${s}`, id: ids[1], payload: Buffer.from('{"b":2}') })))
    t.ok(second.seq > first.seq, 'seq grows within the room')
    const again = await q.publish({ room, type: 'lindje', id: ids[0], publisher: 'AL/GOV/K11503002N/regjistri', publishedAt: new Date(), data: Buffer.from('{"a":9}') },
      subs.map(s => ({ queue: `sub.${s}`, id: ids[0], payload: Buffer.from('{"a":9}') })))
    t.same(again, { stored: false, jobs: [false, false, false], seq: first.seq })
    await t.rejects(q.publish({ room, type: 'lindje', id: randomUUID(), publisher: 'x', publishedAt: new Date(), data: Buffer.from('{}') },
      [{ queue: 'sub.missing', id: 'z', payload: Buffer.from('{}') }]), { code: 'Delivery.UnknownQueue' })
    const events = await q.events(room, { limit: 10 })
    t.same(events.map(e => e.id), [ids[1], ids[0]], 'newest first, the refused one absent')
    t.equal(events[1].data.toString(), '{"a":1}')
    t.same((await q.events(room, { limit: 10, types: ['lindje'] })).map(e => e.id), [ids[0]])
    t.same((await q.events(room, { limit: 10, beforeSeq: second.seq })).map(e => e.id), [ids[0]])
    t.equal((await q.event(room, ids[0]))?.type, 'lindje')
    t.equal(await q.event('AL/GOV/X/other', ids[0]), undefined)
    const fanout = await q.find(ids[0])
    t.same(fanout.map(j => j.queue).sort(), subs.map(s => `sub.${s}`).sort(), 'one job per subscription')
    await q.close()
  })

  t.test('TTL: a job not delivered in time is dead as expired', async t => {
    const q = await home.open()
    await q.define('pull.ttl', { ...OPTIONS, ttlMs: 1000 })
    await q.enqueue([{ queue: 'pull.ttl', id: 'old', payload: Buffer.from('x') }])
    const job = await until('expired', async () => {
      await q.fetch('pull.other-does-not-exist', 1000).catch(() => undefined)
      const j = await q.get('pull.ttl', 'old')
      if (j?.state === 'dead') return j
      if (Date.now() - (j?.createdAt.getTime() ?? 0) > 2500) await q.fetch('pull.ttl', 1000).then(f => f === undefined ? undefined : q.complete('pull.ttl', f.id))
      return undefined
    }, 10_000)
    t.equal(job.lastError, 'expired')
    await q.close()
  })

  t.test('close waits for a running handler; a job left active runs again after restart', async t => {
    const q = await home.open()
    await q.define('svc.c', OPTIONS)
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    let started = false
    let finished = false
    q.work('svc.', async () => { started = true; await gate; finished = true; return { ok: true } }, { concurrency: 1 })
    await q.enqueue([{ queue: 'svc.c', id: 'slow', payload: Buffer.from('x') }])
    await until('handler started', async () => started)
    const closing = q.close()
    setTimeout(release, 200)
    await closing
    t.equal(finished, true, 'close returned after the handler')
    await t.rejects(q.enqueue([{ queue: 'svc.c', id: 'late', payload: Buffer.from('x') }]), { code: 'Delivery.Closed' })
    const after = await home.reopen()
    const job = await after.get('svc.c', 'slow')
    t.equal(job?.state, 'delivered', 'the outcome of a handler that finished during close is kept')
    await after.close()
  })

  t.test('a queue whose jobs hang holds at most an eighth of the slots: the other queues go on', async t => {
    const q = await home.open()
    await q.define('sub.hangs', OPTIONS)
    await q.define('sub.fine', OPTIONS)
    await q.enqueue(Array.from({ length: 20 }, (_, i) => ({ queue: 'sub.hangs', id: `h${i}`, payload: Buffer.from('h') })))
    await q.enqueue(Array.from({ length: 20 }, (_, i) => ({ queue: 'sub.fine', id: `f${i}`, payload: Buffer.from('f') })))
    let release!: () => void
    const hanging = new Promise<void>(resolve => { release = resolve })
    let hangingNow = 0
    let most = 0
    q.work('sub.', async job => {
      if (job.queue === 'sub.fine') return { ok: true }
      most = Math.max(most, ++hangingNow)
      await hanging
      hangingNow--
      return { ok: true }
    }, { concurrency: 16 })
    await until('the other queue delivered', async () => (await q.list({ queue: 'sub.fine', state: 'delivered', limit: 100 })).length === 20)
    t.equal(most, 2, 'the hanging queue got 16 / 8 = 2 slots, no more')
    release()
    await until('the hanging queue drained', async () => (await q.list({ queue: 'sub.hangs', state: 'delivered', limit: 100 })).length === 20)
    await q.close()
  })
}
