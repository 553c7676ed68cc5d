/**
 * The delivery queues on the admin API, against the embedded queue and pg-boss on PostgreSQL: real
 * jobs enqueued and worked (some refused for good, so they are dead letters), then counted per
 * queue, listed per state without their payloads, read one by one (the payload only for operators
 * who may read bodies), and re-driven with a reason recorded in the audit trail — after which the
 * worker delivers them. Queue names with slashes travel URL-encoded; member-scoped operators see
 * their own member's queues only; unknown queues, bad filters and a node without a queue get their
 * typed errors.
 */
import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import type { QueueOptions } from '../delivery/queue.ts'
import { stateDigest } from '../messagelog/audit/index.ts'
import { until } from './internals/delivery-contract.ts'
import { CIVIL, E_ALBANIA_CLIENT, startAdminRig, TIRANA, type AdminRig, type Answer } from './support/admin.ts'
import { scratchDatabases } from './support/postgres.ts'

const TIRANA_Q = `svc.${TIRANA}/taksat-vendore/njoftime`
const CIVIL_Q = `svc.${CIVIL}/regjistri-civil/njoftime`
const SUB_Q = `sub.${randomUUID()}`
const OPTIONS: QueueOptions = { retry: { limit: 0, delayMs: 1000, backoff: false, maxDelayMs: 1000 }, ttlMs: 0, fifo: false, keepMs: 3_600_000 }
const job = (n: string): string => `${E_ALBANIA_CLIENT} mesazh-${n}`
const q = encodeURIComponent

function refused (t: Test, res: Answer, status: number, type: string, what: string): void {
  t.equal(res.status, status, `${what}: ${status}`)
  t.equal(res.json?.type, type, `${what}: ${type}`, { body: res.text.slice(0, 300) })
}

const database = scratchDatabases(t, 'ura_admin_queues')

function suite (name: string, delivery: () => Promise<true | string>): void {
  t.test(`${name} queue`, async t => {
    const rig: AdminRig = await startAdminRig({ delivery: await delivery() })
    t.teardown(() => rig.close())
    const queue = rig.queue!
    const get = (path: string, operator = 'sa'): Promise<Answer> => rig.call('GET', path, { token: rig.tokens[operator] })
    const redrive = (queueName: string, body: unknown, operator = 'sa', reason: string | null = 'the tax office is back'): Promise<Answer> =>
      rig.call('POST', `/admin/v1/queues/${q(queueName)}/redrive`, { token: rig.tokens[operator], body, headers: reason === null ? {} : { 'x-ura-reason': reason } })

    // Jobs whose id is in `failing` are refused for good (dead at once); the others are delivered.
    const failing = new Set([job('t2'), job('t3')])
    const attempts = new Map<string, number>()
    for (const name of [TIRANA_Q, CIVIL_Q, SUB_Q]) await queue.define(name, OPTIONS)
    queue.work('svc.', async j => {
      attempts.set(j.id, (attempts.get(j.id) ?? 0) + 1)
      return failing.has(j.id) ? { ok: false, error: 'the provider answered 500', retry: false } : { ok: true, result: Buffer.from(`ok ${j.id}`) }
    }, { concurrency: 2 })
    await queue.enqueue([
      { queue: TIRANA_Q, id: job('t1'), key: 'J81234567A', payload: Buffer.from('{"njoftim":"t1"}') },
      { queue: TIRANA_Q, id: job('t2'), payload: Buffer.from('{"njoftim":"t2"}') },
      { queue: TIRANA_Q, id: job('t3'), payload: Buffer.from('{"njoftim":"t3"}') },
      { queue: CIVIL_Q, id: job('c1'), payload: Buffer.from('{"njoftim":"c1"}') },
      // Nobody works subscription queues here: this one waits.
      { queue: SUB_Q, id: randomUUID(), payload: Buffer.from('{"ngjarje":1}') },
    ])
    await until('the worker is done', async () => {
      const s = await queue.stats()
      const tq = s.find(x => x.queue === TIRANA_Q)!
      const cq = s.find(x => x.queue === CIVIL_Q)!
      return tq.delivered === 1 && tq.dead === 2 && cq.delivered === 1
    })

    t.test('the list counts each queue\'s jobs per state, with the oldest waiting job\'s age', async t => {
      const res = await get('/admin/v1/queues')
      t.equal(res.status, 200, res.text)
      const byName = new Map<string, any>(res.json.items.map((i: { queue: string }) => [i.queue, i]))
      t.same([...byName.keys()], [SUB_Q, CIVIL_Q, TIRANA_Q].sort(), 'every defined queue, by name')
      t.same(byName.get(TIRANA_Q), { queue: TIRANA_Q, member: TIRANA, counts: { queued: 0, active: 0, retry: 0, delivered: 1, dead: 2 }, oldestMs: 0 })
      t.same(byName.get(CIVIL_Q).counts, { queued: 0, active: 0, retry: 0, delivered: 1, dead: 0 })
      t.same(byName.get(SUB_Q).counts, { queued: 1, active: 0, retry: 0, delivered: 0, dead: 0 })
      t.notOk('member' in byName.get(SUB_Q), 'a subscription queue names no member')
      t.ok(byName.get(SUB_Q).oldestMs > 0, 'the waiting job has an age')

      const one = await get(`/admin/v1/queues/${q(TIRANA_Q)}`, 'obs')
      t.equal(one.status, 200, one.text)
      t.same(one.json, byName.get(TIRANA_Q), 'one queue reads as listed')
    })

    t.test('a member-scoped operator sees and reads its own member\'s queues only', async t => {
      const res = await get('/admin/v1/queues', 'svc-tirana')
      t.equal(res.status, 200, res.text)
      t.same(res.json.items.map((i: { queue: string }) => i.queue), [TIRANA_Q])
      t.equal((await get(`/admin/v1/queues/${q(TIRANA_Q)}/jobs`, 'svc-tirana')).status, 200)
      refused(t, await get(`/admin/v1/queues/${q(CIVIL_Q)}/jobs`, 'svc-tirana'), 403, 'Admin.Forbidden', 'another member\'s queue')
      refused(t, await get(`/admin/v1/queues/${q(SUB_Q)}`, 'svc-tirana'), 403, 'Admin.Forbidden', 'a node-wide queue')
      refused(t, await get(`/admin/v1/queues/${q(`svc.${CIVIL}/nuk-ka/ket-radhe`)}`, 'svc-tirana'), 403, 'Admin.Forbidden', 'another member\'s unknown queue: refused, not 404')
      refused(t, await get('/admin/v1/queues', 'ro'), 403, 'Admin.Forbidden', 'a registration officer')
    })

    t.test('jobs by state, oldest first, never with their payload', async t => {
      const dead = await get(`/admin/v1/queues/${q(TIRANA_Q)}/jobs?state=dead`, 'obs')
      t.equal(dead.status, 200, dead.text)
      t.equal(dead.json.queue, TIRANA_Q)
      t.same(dead.json.items.map((i: { id: string }) => i.id).sort(), [job('t2'), job('t3')])
      const [first] = dead.json.items
      t.same(Object.keys(first).sort(), ['attempts', 'createdAt', 'finishedAt', 'id', 'key', 'lastError', 'nextAt', 'payloadBytes', 'queue', 'resultBytes', 'state'])
      t.same([first.state, first.attempts, first.lastError, first.payloadBytes], ['dead', 1, 'the provider answered 500', 16])
      t.ok(Date.parse(first.finishedAt) >= Date.parse(first.createdAt), 'finished after it was created')

      const all = await get(`/admin/v1/queues/${q(TIRANA_Q)}/jobs`)
      t.same(all.json.items.map((i: { state: string }) => i.state).sort(), ['dead', 'dead', 'delivered'])
      const delivered = all.json.items.find((i: { state: string }) => i.state === 'delivered')
      t.same([delivered.id, delivered.key, delivered.lastError, delivered.resultBytes], [job('t1'), 'J81234567A', null, `ok ${job('t1')}`.length])
      t.equal((await get(`/admin/v1/queues/${q(TIRANA_Q)}/jobs?limit=1`)).json.items.length, 1, 'limit')
      t.same((await get(`/admin/v1/queues/${q(CIVIL_Q)}/jobs?state=dead`)).json.items, [], 'no dead letters there')

      refused(t, await get(`/admin/v1/queues/${q(TIRANA_Q)}/jobs?state=lost`), 400, 'Admin.InvalidRequest', 'an unknown state')
      refused(t, await get(`/admin/v1/queues/${q(TIRANA_Q)}/jobs?limit=0`), 400, 'Admin.InvalidRequest', 'limit 0')
      refused(t, await get(`/admin/v1/queues/${q(TIRANA_Q)}/jobs?limit=501`), 400, 'Admin.InvalidRequest', 'limit above 500')
      refused(t, await get(`/admin/v1/queues/${q(TIRANA_Q)}/jobs?sort=id`), 400, 'Admin.InvalidRequest', 'an unknown parameter')
    })

    t.test('queue names travel URL-encoded; an unknown queue is 404 Admin.UnknownQueue', async t => {
      refused(t, await get(`/admin/v1/queues/${q(`svc.${TIRANA}/nuk-ka/ket-radhe`)}/jobs`), 404, 'Admin.UnknownQueue', 'an unknown queue')
      const unknown = await get(`/admin/v1/queues/${q('svc.nuk-ka')}`)
      refused(t, unknown, 404, 'Admin.UnknownQueue', 'an unknown queue read')
      t.equal(unknown.json.detail.queue, 'svc.nuk-ka', 'named in the detail')
      refused(t, await redrive('svc.nuk-ka', {}), 404, 'Admin.UnknownQueue', 'an unknown queue re-driven')
      // Unencoded, the slashes are path segments: no route answers.
      refused(t, await get(`/admin/v1/queues/${TIRANA_Q}/jobs`), 404, 'Admin.NotFound', 'slashes left unencoded')
      t.equal((await get(`/admin/v1/queues/${TIRANA_Q.replaceAll('/', '%2f')}/jobs`)).status, 200, 'lower-case %2f decodes too')
    })

    t.test('one job: its payload and result only for operators who may read bodies', async t => {
      const path = `/admin/v1/queues/${q(TIRANA_Q)}/jobs/${q(job('t1'))}`
      for (const op of ['sa', 'sec']) {
        const res = await get(path, op)
        t.equal(res.status, 200, res.text)
        t.equal(Buffer.from(res.json.payload, 'base64').toString(), '{"njoftim":"t1"}', `${op}: the payload`)
        t.equal(Buffer.from(res.json.result, 'base64').toString(), `ok ${job('t1')}`, `${op}: the result`)
      }
      for (const op of ['obs', 'svc', 'svc-tirana']) {
        const res = await get(path, op)
        t.equal(res.status, 200, res.text)
        t.same([res.json.id, res.json.state, 'payload' in res.json, 'result' in res.json], [job('t1'), 'delivered', false, false], `${op}: no bytes`)
      }
      refused(t, await get(`/admin/v1/queues/${q(TIRANA_Q)}/jobs/${q(job('nuk-ka'))}`), 404, 'Admin.NotFound', 'an unknown job')
    })

    t.test('re-drive: a change with a reason, audited; the dead jobs are worked again', async t => {
      const deadCount = async (): Promise<number> => (await get(`/admin/v1/queues/${q(TIRANA_Q)}`)).json.counts.dead
      refused(t, await redrive(TIRANA_Q, {}, 'sa', null), 400, 'Admin.InvalidRequest', 'no X-Ura-Reason')
      refused(t, await redrive(TIRANA_Q, {}, 'obs'), 403, 'Admin.Forbidden', 'an observer')
      refused(t, await redrive(TIRANA_Q, {}, 'svc-tirana'), 403, 'Admin.Forbidden', 'a scoped service administrator')
      refused(t, await redrive(TIRANA_Q, { ids: 'all' }), 400, 'Admin.InvalidBody', 'ids not a list')
      refused(t, await redrive(TIRANA_Q, { ids: [], all: true }), 400, 'Admin.InvalidBody', 'an unknown property')
      t.equal(await deadCount(), 2, 'refused re-drives changed nothing')

      failing.clear()
      const one = await redrive(TIRANA_Q, { ids: [job('t2'), job('t1'), job('nuk-ka')] })
      t.equal(one.status, 200, one.text)
      t.same(one.json, { queue: TIRANA_Q, redriven: 1 }, 'only the dead job named counts (t1 was delivered)')
      await until('t2 delivered again', async () => (await queue.get(TIRANA_Q, job('t2')))?.state === 'delivered')
      const rest = await redrive(TIRANA_Q, {}, 'sa', 'Zyra e taksave u rikthye në punë')
      t.same(rest.json, { queue: TIRANA_Q, redriven: 1 }, 'all the rest')
      await until('t3 delivered again', async () => (await queue.get(TIRANA_Q, job('t3')))?.state === 'delivered')
      t.same([attempts.get(job('t2')), attempts.get(job('t3')), attempts.get(job('t1'))], [2, 2, 1], 'each re-driven job worked once more, the delivered one not')
      t.same((await redrive(TIRANA_Q, {})).json, { queue: TIRANA_Q, redriven: 0 }, 'nothing dead: nothing re-driven')
      refused(t, await redrive(TIRANA_Q, undefined), 400, 'Admin.InvalidBody', 'no body: `{}` re-drives all, never an empty request')

      const records = (await rig.trail.list({ limit: 1000 })).filter(r => r.action === 'queue.redrive')
      const allowed = records.filter(r => r.result === 'allowed')
      t.equal(allowed.length, 3, 'three re-drives allowed')
      t.same(allowed.map(r => [r.target, r.role]), [[`queue ${TIRANA_Q}`, 'system-administrator'], [`queue ${TIRANA_Q}`, 'system-administrator'], [`queue ${TIRANA_Q}`, 'system-administrator']])
      t.equal(allowed[0].beforeDigest, stateDigest({ queue: TIRANA_Q, dead: 2 }), 'before: the dead count')
      t.equal(allowed[0].afterDigest, stateDigest({ queue: TIRANA_Q, ids: [job('t2'), job('t1'), job('nuk-ka')], redriven: 1, reason: 'the tax office is back' }), 'after: what was re-driven, and why')
      t.equal(allowed[1].afterDigest, stateDigest({ queue: TIRANA_Q, ids: null, redriven: 1, reason: 'Zyra e taksave u rikthye në punë' }), 'the reason as sent, UTF-8')
      const refusedCodes = (await rig.trail.list({ limit: 1000 })).filter(r => r.action === 'queue.redrive').filter(r => r.result === 'refused').map(r => r.errorCode).sort()
      t.same(refusedCodes, ['Admin.Forbidden', 'Admin.Forbidden', 'Admin.InvalidBody', 'Admin.InvalidBody', 'Admin.InvalidBody', 'Admin.InvalidRequest', 'Admin.UnknownQueue'], 'every refusal recorded with its code')
    })
  })
}

suite('embedded', async () => true)
suite('PostgreSQL (pg-boss)', database)

t.test('a node that gives the admin API no queue: 503 Admin.QueueUnavailable; the routes are in the OpenAPI document', async t => {
  const rig = await startAdminRig()
  t.teardown(() => rig.close())
  refused(t, await rig.call('GET', '/admin/v1/queues', { token: rig.tokens.sa }), 503, 'Admin.QueueUnavailable', 'no queue')
  const doc = (await rig.call('GET', '/admin/docs/json')).json
  const redrive = doc.paths['/admin/v1/queues/{queue}/redrive'].post
  t.ok(redrive.parameters.some((p: { in: string; name: string; required?: boolean }) => p.in === 'header' && p.name === 'x-ura-reason' && p.required === true), 'X-Ura-Reason, required')
  t.notOk(redrive.parameters.some((p: { name: string }) => p.name === 'if-match'), 'no If-Match: the registry is not changed')
  t.match(redrive.description, /Action `queue.redrive`. Roles: system-administrator\./)
  const jobs = doc.paths['/admin/v1/queues/{queue}/jobs'].get
  t.same(jobs.parameters.find((p: { name: string }) => p.name === 'state').schema.enum, ['queued', 'active', 'retry', 'delivered', 'dead'])
  t.ok(doc.paths['/admin/v1/queues/{queue}/jobs/{id}'].get, 'one job')
})
