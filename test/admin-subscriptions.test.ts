/**
 * Subscriptions asked for and decided through the admin API, over HTTPS on the real admin listener,
 * with a real gateway on the same registry store beside it: Durrës's service administrator asks for
 * Tiranë's transparency decisions (pending, nothing delivered, the room's API does not list it);
 * Tiranë's service administrator approves, and a decision published through r1 reaches Durrës's push
 * service on loopback; another request is refused with a reason; the approved one is withdrawn and
 * receives nothing more; a room with autoApprove approves at once. Every refusal path answers its
 * typed code and changes nothing; the outbox tells both sides; the audit trail holds every call.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { tokenSha256 } from '../admin/auth.ts'
import { keystoreSigningKeys } from '../certs/keystore-signer.ts'
import { openDelivery } from '../delivery/index.ts'
import { openMessageLog } from '../messagelog/index.ts'
import { until } from './internals/delivery-contract.ts'
import { CIVIL, startAdminRig, TIRANA, type AdminRig, type Answer } from './support/admin.ts'
import { startRig, type Rig } from './support/gateway.ts'
import { call } from './support/http.ts'
import { startSwitchableProvider, type SwitchableProvider } from './support/switchable-provider.ts'
import { sampleEvent } from './support/transparency.ts'

const DURRES = 'AL-DEV/NJQV/M51305009K'
const SUBSCRIBER = `${DURRES}/gjendja-civile`
const PUSH_SERVICE = `${SUBSCRIBER}/ngjarje`
const ROOM = `${TIRANA}/transparenca`
const COUNCIL = `${TIRANA}/keshilli`
const SLUG = 'm51305009k-gjendja-civile.l21603004l-transparenca'

const TOKENS: Record<string, string> = {}
const operator = (id: string, member: string) => {
  TOKENS[id] = `ura_${id}-test_${randomBytes(32).toString('hex')}`
  return { id, name: id, roles: [{ role: 'service-administrator' as const, member }], tokens: [{ id: `${id}-test`, sha256: tokenSha256(TOKENS[id]), createdAt: '2026-01-01T00:00:00Z' }] }
}

let rig: AdminRig
let gateway: Rig
let durres: SwitchableProvider
t.before(async () => {
  durres = await startSwitchableProvider()
  rig = await startAdminRig({
    bashki: true,
    seed: c => {
      c.operators.push(operator('svc-durres', DURRES), operator('svc-civil', CIVIL))
      // The council publishes and Durrës's office asks the room over plain HTTP; Durrës's push service is this test's server.
      for (const m of c.members) for (const s of m.subsystems) if (`AL-DEV/${m.class}/${m.code}/${s.code}` === COUNCIL || `AL-DEV/${m.class}/${m.code}/${s.code}` === SUBSCRIBER) s.connection = 'http'
      const svc = c.services.find(s => `${s.provider}/${s.code}` === PUSH_SERVICE)!
      svc.adapter = { ...svc.adapter, url: durres.url } as typeof svc.adapter
      svc.resilience = { breaker: { enabled: false } } as typeof svc.resilience
    },
  })
  const log = await openMessageLog(rig.config, keystoreSigningKeys(rig.pki.keystore, rig.pki.trust))
  const delivery = await openDelivery(rig.config, rig.dataDir)
  gateway = await startRig({ config: rig.config, registryStore: rig.store, messageLog: log, delivery })
})
t.teardown(async () => { await gateway.close(); await rig.close(); await durres.close() })

const version = async (): Promise<number> => (await rig.store.current()).version
const as = (op: string): { token: string } => ({ token: TOKENS[op] ?? rig.tokens[op] })
const write = (ifMatch: string, why = 'prova'): Record<string, string> => ({ 'if-match': ifMatch, 'x-ura-reason': why })
const ok = (t: Test, res: Answer, status: number, what: string): void => { t.equal(res.status, status, `${what}: ${status}`, { body: res.text.slice(0, 500) }) }
const ask = (op: string, body: unknown, headers = write('*')): Promise<Answer> => rig.call('POST', '/admin/v1/subscriptions', { ...as(op), body, headers })
const PUSH = { room: ROOM, eventTypes: ['vendim', 'njoftim'], subscriber: SUBSCRIBER, mode: 'push', push: { service: PUSH_SERVICE, path: '/transparenca' }, fifo: false, purpose: 'vendimet e Tiranës për regjistrin e Durrësit' }

const r1 = (path: string, client: string, opts: { method?: string; body?: unknown; id?: string } = {}) => call(`${gateway.url}/r1/${path}`, {
  method: opts.method ?? 'GET',
  headers: { 'x-road-client': client, ...(opts.id === undefined ? {} : { 'x-road-id': opts.id }), ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }) },
  ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
})
const roomSubs = async (): Promise<string[]> => {
  const res = await r1(`${ROOM}/api/v1/subs`, SUBSCRIBER)
  if (res.status !== 200) throw new Error(`api/v1/subs: ${res.status} ${res.text}`)
  return (JSON.parse(res.text) as Array<{ id: string }>).map(s => s.id)
}
/** The gateway follows the store: wait until the version the admin API made is the one it serves. */
const served = async (want: (ids: string[]) => boolean): Promise<string[]> => { let ids: string[] = []; await until('the gateway to serve the version', async () => want(ids = await roomSubs()), 10_000); return ids }

let pushId = ''

t.test('asked for by the subscriber\'s member: pending, one version, notices to both sides, nothing delivered', async t => {
  const v0 = await version()
  const asked = await ask('svc-durres', PUSH, write('*', 'Durrësi ndjek vendimet'))
  ok(t, asked, 201, 'ask')
  pushId = asked.json.id
  t.equal(pushId, SLUG, 'the id is a slug of the subscriber and the room')
  t.equal(asked.headers.location, `/admin/v1/subscriptions/${SLUG}`)
  t.match(asked.json, { room: ROOM, subscriber: SUBSCRIBER, mode: 'push', eventTypes: ['vendim', 'njoftim'], push: { service: PUSH_SERVICE, path: '/transparenca' }, state: 'pending', requestedBy: 'svc-durres', purpose: PUSH.purpose })
  t.notOk('decidedBy' in asked.json)
  const v = await rig.store.current()
  t.equal(v.version, v0 + 1, 'one version')
  t.same([v.who, v.why], ['svc-durres', 'Durrësi ndjek vendimet'])
  const notices = v.content.outbox.filter(m => m.about === `subscription:${SLUG}`)
  t.same(notices.map(m => m.to), [[`operators:service-administrator:${TIRANA}`], [`operators:service-administrator:${DURRES}`]], 'the room owner and the subscriber are told')
  t.match(notices[0].body, PUSH.purpose)

  const read = await rig.call('GET', `/admin/v1/subscriptions/${SLUG}`, as('svc-tirana'))
  ok(t, read, 200, 'the room owner reads it')
  t.equal(read.headers.etag, asked.headers.etag, 'the same ETag as the creation answered')
  ok(t, await rig.call('GET', `/admin/v1/subscriptions/${SLUG}`, as('svc-durres')), 200, 'the subscriber reads it')
  t.equal((await rig.call('GET', `/admin/v1/subscriptions/${SLUG}`, as('svc-civil'))).status, 403, 'a third member does not')
  t.same((await rig.call('GET', '/admin/v1/subscriptions?state=pending', as('svc-durres'))).json.items.map((s: { id: string }) => s.id), [SLUG], 'Durrës sees its own')
  t.same((await rig.call('GET', `/admin/v1/subscriptions?state=pending&room=${encodeURIComponent(ROOM)}`, as('svc-tirana'))).json.items.map((s: { id: string }) => s.id), [SLUG], 'Tiranë sees those to its room')
  t.same((await rig.call('GET', '/admin/v1/subscriptions?state=pending', as('svc-civil'))).json.items, [], 'the civil registry sees neither')
  t.ok((await rig.call('GET', '/admin/v1/subscriptions?state=approved', as('svc-civil'))).json.items.length >= 61, 'but the 61 to its own room')
  t.same((await rig.call('GET', `/admin/v1/subscriptions?room=${encodeURIComponent(`${CIVIL}/nuk-ka`)}`, as('obs'))).json.items, [], 'filtered by room')

  t.same(await served(ids => ids.length === 0), [], 'the room does not list a pending subscription')
})

t.test('every refusal to ask answers its code and changes nothing', async t => {
  const before = await version()
  const cases: Array<[string, Promise<Answer>, number, string]> = [
    ['for another member\'s system', ask('svc-durres', { ...PUSH, subscriber: `${TIRANA}/gjendja-civile`, push: { service: `${TIRANA}/gjendja-civile/ngjarje` } }), 403, 'Admin.Forbidden'],
    ['an observer', ask('obs', PUSH), 403, 'Admin.Forbidden'],
    ['a registration officer', ask('ro', PUSH), 403, 'Admin.Forbidden'],
    ['an unknown room', ask('svc-durres', { ...PUSH, room: `${TIRANA}/nuk-ka` }), 400, 'Onboarding.UnknownRoom'],
    ['a subsystem that is no room', ask('svc-durres', { ...PUSH, room: `${TIRANA}/taksat-vendore` }), 400, 'Onboarding.UnknownRoom'],
    ['an event type of another room', ask('svc-durres', { ...PUSH, eventTypes: ['vendim', 'lindje'] }), 400, 'Onboarding.UnknownEventType'],
    ['an unregistered subscriber', ask('svc-durres', { ...PUSH, subscriber: `${DURRES}/nuk-ka` }), 400, 'Onboarding.UnknownClient'],
    ['an undefined push service', ask('svc-durres', { ...PUSH, push: { service: `${SUBSCRIBER}/nuk-ka` } }), 400, 'Onboarding.UnknownService'],
    ['another member\'s push service', ask('svc-durres', { ...PUSH, push: { service: `${TIRANA}/gjendja-civile/ngjarje` } }), 400, 'Onboarding.ForeignPushService'],
    ['push without a service', ask('svc-durres', { ...PUSH, push: undefined }), 400, 'Admin.InvalidBody'],
    ['pull with a push service', ask('svc-durres', { ...PUSH, mode: 'pull', eventTypes: ['konsultim'] }), 400, 'Onboarding.InvalidRequest'],
    ['no event type', ask('svc-durres', { ...PUSH, eventTypes: [] }), 400, 'Admin.InvalidBody'],
    ['an unknown field', ask('svc-durres', { ...PUSH, state: 'approved' }), 400, 'Admin.InvalidBody'],
    ['the same again', ask('svc-durres', PUSH), 409, 'Onboarding.DuplicateSubscription'],
    ['one of the same types again', ask('svc-durres', { ...PUSH, eventTypes: ['njoftim', 'konsultim'] }), 409, 'Onboarding.DuplicateSubscription'],
    ['the civil registry\'s room again for Durrës', ask('svc-durres', { room: `${CIVIL}/ngjarje-civile`, eventTypes: ['lindje'], subscriber: SUBSCRIBER, mode: 'push', push: { service: PUSH_SERVICE } }), 409, 'Onboarding.DuplicateSubscription'],
    ['no reason', ask('svc-durres', { ...PUSH, eventTypes: ['konsultim'] }, { 'if-match': '*' }), 400, 'Admin.InvalidRequest'],
    ['no If-Match', ask('svc-durres', { ...PUSH, eventTypes: ['konsultim'] }, { 'x-ura-reason': 'prova' }), 428, 'Admin.PreconditionRequired'],
    ['a stale If-Match', ask('svc-durres', { ...PUSH, eventTypes: ['konsultim'] }, write('"v1"')), 412, 'Admin.PreconditionFailed'],
  ]
  for (const [what, pending, status, type] of cases) {
    const res = await pending
    t.equal(res.status, status, what, { body: res.text.slice(0, 300) })
    t.equal(res.json?.type, type, `${what}: ${type}`)
  }
  t.equal(await version(), before, 'nothing changed')
  const refused = await rig.trail.list({ action: 'subscription.create' })
  const codes = refused.filter(r => r.result === 'refused').map(r => r.errorCode)
  for (const [, , , type] of cases) t.ok(codes.includes(type), `the trail holds a refusal with ${type}`)
})

t.test('approved by the room owner\'s member: the gateway serves it and a published decision reaches Durrës', async t => {
  const read = await rig.call('GET', `/admin/v1/subscriptions/${pushId}`, as('svc-tirana'))
  const tag = read.headers.etag as string
  const before = await version()
  for (const [op, why] of [['svc-durres', 'the subscriber'], ['svc-civil', 'a third member'], ['obs', 'an observer']] as const) {
    const res = await rig.call('POST', `/admin/v1/subscriptions/${pushId}/approve`, { ...as(op), headers: write(tag) })
    t.equal(res.status, 403, `${why} may not approve`)
    t.equal(res.json.type, 'Admin.Forbidden')
  }
  t.equal((await rig.call('POST', `/admin/v1/subscriptions/${pushId}/approve`, { ...as('svc-tirana'), headers: write('"stale"') })).json.type, 'Admin.PreconditionFailed', 'a stale If-Match')
  t.equal((await rig.call('POST', `/admin/v1/subscriptions/${pushId}/approve`, { ...as('svc-tirana'), headers: write('*') })).json.type, 'Admin.PreconditionRequired', 'If-Match: * cannot decide')
  t.equal((await rig.call('POST', '/admin/v1/subscriptions/nuk-ka/approve', { ...as('svc'), headers: write('"x"') })).json.type, 'Onboarding.UnknownSubscription', 'an unknown id')
  t.equal(await version(), before, 'nothing changed')

  const approved = await rig.call('POST', `/admin/v1/subscriptions/${pushId}/approve`, { ...as('svc-tirana'), headers: write(tag, 'Durrësi ka të drejtë') })
  ok(t, approved, 200, 'approve')
  t.match(approved.json, { state: 'approved', decidedBy: 'svc-tirana' })
  t.equal(await version(), before + 1, 'one version')
  const after = await rig.store.current()
  t.equal(after.content.subscriptions.find(s => s.id === pushId)?.state, 'approved', 'approved in the registry')
  t.match(after.content.outbox.filter(m => m.about === `subscription:${pushId}`).at(-2), { to: [`operators:service-administrator:${DURRES}`], subject: `Subscription ${pushId} to ${ROOM} approved` }, 'the subscriber is told')
  t.equal((await rig.call('POST', `/admin/v1/subscriptions/${pushId}/approve`, { ...as('svc-tirana'), headers: write(approved.headers.etag as string) })).json.type, 'Onboarding.InvalidState', 'not twice')

  t.same(await served(ids => ids.length > 0), [pushId], 'the room lists it once the gateway has the version')
  const id = `vendim-${randomUUID()}`
  const published = await r1(`${ROOM}/pub/v1/vendim`, COUNCIL, { method: 'POST', body: sampleEvent('vendim'), id })
  t.equal(published.status, 201, published.text)
  await until('the push to Durrës', async () => durres.count(id) > 0, 15_000)
  const got = durres.received.find(r => r.id === id)!
  t.equal(got.method, 'POST')
  t.equal(got.path, '/transparenca', 'to the push path asked for')
  t.same(JSON.parse(got.body), sampleEvent('vendim'), 'the decision as published')
  await until('the status to say delivered', async () => JSON.parse((await r1(`${ROOM}/pub/v1/vendim/${id}`, COUNCIL)).text).delivered === 1, 10_000)
  const status = JSON.parse((await r1(`${ROOM}/pub/v1/vendim/${id}`, COUNCIL)).text)
  t.same(status.deliveries.filter((d: { subscription: string }) => d.subscription === pushId).map((d: { state: string; attempts: number }) => [d.state, d.attempts]), [['delivered', 1]], 'delivered at the first attempt')
})

t.test('refused with a reason the subscriber sees', async t => {
  const asked = await ask('svc-durres', { room: ROOM, eventTypes: ['konsultim'], subscriber: SUBSCRIBER, mode: 'pull' })
  ok(t, asked, 201, 'ask for pull')
  t.equal(asked.json.id, `${SLUG}-2`, 'the slug is taken: a suffix')
  const id = asked.json.id as string
  const tag = asked.headers.etag as string
  t.equal((await rig.call('POST', `/admin/v1/subscriptions/${id}/refuse`, { ...as('svc-tirana'), headers: write(tag) })).json.type, 'Admin.InvalidBody', 'a reason is required')
  t.equal((await rig.call('POST', `/admin/v1/subscriptions/${id}/refuse`, { ...as('svc-tirana'), body: { reason: ' \t ' }, headers: write(tag) })).json.type, 'Onboarding.ReasonRequired', 'blanks are no reason')
  t.equal((await rig.call('POST', `/admin/v1/subscriptions/${id}/refuse`, { ...as('svc-durres'), body: { reason: 'jo' }, headers: write(tag) })).status, 403, 'not by the subscriber')
  const refused = await rig.call('POST', `/admin/v1/subscriptions/${id}/refuse`, { ...as('svc-tirana'), body: { reason: 'konsultimet janë publike në faqen e bashkisë' }, headers: write(tag) })
  ok(t, refused, 200, 'refuse')
  t.match(refused.json, { state: 'refused', decidedBy: 'svc-tirana', reason: 'konsultimet janë publike në faqen e bashkisë' })
  const told = (await rig.store.current()).content.outbox.filter(m => m.about === `subscription:${id}` && m.to[0] === `operators:service-administrator:${DURRES}`).at(-1)
  t.match(told?.body, 'refused: konsultimet janë publike', 'the subscriber is told why')
  t.equal((await rig.call('POST', `/admin/v1/subscriptions/${id}/approve`, { ...as('svc-tirana'), headers: write(refused.headers.etag as string) })).json.type, 'Onboarding.InvalidState', 'a refused subscription cannot be approved')
  t.equal((await rig.call('POST', `/admin/v1/subscriptions/${id}/withdraw`, { ...as('svc-durres'), headers: write(refused.headers.etag as string) })).json.type, 'Onboarding.InvalidState', 'nor withdrawn')
  ok(t, await ask('svc-durres', { room: ROOM, eventTypes: ['konsultim'], subscriber: SUBSCRIBER, mode: 'pull' }, write('*')), 201, 'a refused one is no duplicate: asking again is allowed')
})

t.test('withdrawn by the subscriber\'s side: nothing more is delivered', async t => {
  const read = await rig.call('GET', `/admin/v1/subscriptions/${pushId}`, as('svc-durres'))
  const tag = read.headers.etag as string
  t.equal((await rig.call('POST', `/admin/v1/subscriptions/${pushId}/withdraw`, { ...as('svc-tirana'), headers: write(tag) })).status, 403, 'not by the room owner')
  t.equal((await rig.call('POST', `/admin/v1/subscriptions/${pushId}/withdraw`, { ...as('svc-durres'), headers: write('"old"') })).status, 412, 'a stale If-Match')
  t.equal((await rig.call('POST', `/admin/v1/subscriptions/${pushId}/withdraw`, { ...as('svc-durres'), body: { reason: 'x', state: 'approved' }, headers: write(tag) })).json.type, 'Admin.InvalidBody', 'a body other than {reason}')
  t.equal((await rig.call('POST', `/admin/v1/subscriptions/${pushId}/withdraw`, { ...as('svc-durres'), body: { reason: '' }, headers: write(tag) })).json.type, 'Admin.InvalidBody', 'an empty reason')
  const withdrawn = await rig.call('POST', `/admin/v1/subscriptions/${pushId}/withdraw`, { ...as('svc-durres'), body: { reason: 'regjistri ynë nuk i përdor më' }, headers: write(tag, 'nuk duhen më') })
  ok(t, withdrawn, 200, 'withdraw')
  t.match(withdrawn.json, { state: 'withdrawn', withdrawnBy: 'svc-durres', decidedBy: 'svc-tirana', reason: 'regjistri ynë nuk i përdor më' })
  t.match((await rig.store.current()).content.outbox.filter(m => m.about === `subscription:${pushId}`).at(-2), { to: [`operators:service-administrator:${TIRANA}`], subject: `Subscription ${pushId} to ${ROOM} withdrawn` }, 'the room owner is told')

  t.same(await served(ids => ids.length === 0), [], 'the room no longer lists it')
  const seen = durres.received.length
  const id = `vendim-${randomUUID()}`
  t.equal((await r1(`${ROOM}/pub/v1/vendim`, COUNCIL, { method: 'POST', body: sampleEvent('vendim'), id })).status, 201)
  const status = JSON.parse((await r1(`${ROOM}/pub/v1/vendim/${id}`, COUNCIL)).text)
  t.same(status.deliveries.map((d: { subscription: string }) => d.subscription), ['e-albania-transparenca-tirane'], 'the event has e-Albania\'s pull subscription only')
  await new Promise(resolve => setTimeout(resolve, 1000))
  t.equal(durres.received.length, seen, 'and Durrës received nothing more')
  t.equal((await rig.call('POST', `/admin/v1/subscriptions/${pushId}/withdraw`, { ...as('svc-durres'), headers: write(withdrawn.headers.etag as string) })).json.type, 'Onboarding.InvalidState', 'not twice')
  const again = await ask('svc-durres', PUSH)
  ok(t, again, 201, 'asking again after a withdrawal is allowed')
})

t.test('a room with autoApprove approves a request at once', async t => {
  const cur = await rig.store.current()
  const content = structuredClone(cur.content)
  content.rooms.find(r => r.room === ROOM)!.autoApprove = true
  await rig.store.commit(content, { who: 'test', why: 'the room approves every request', expectedVersion: cur.version })
  const asked = await ask('svc-durres', { room: ROOM, eventTypes: ['vendim'], subscriber: `${DURRES}/ndihma-sociale`, mode: 'pull' })
  ok(t, asked, 201, 'ask')
  t.match(asked.json, { state: 'approved', decidedBy: 'autoApprove', requestedBy: 'svc-durres' })
  t.equal(asked.json.id, 'm51305009k-ndihma-sociale.l21603004l-transparenca')
})

t.test('a global service administrator acts for any member; the audit trail holds every decision with its states', async t => {
  const asked = await ask('svc', { room: `${CIVIL}/ngjarje-civile`, eventTypes: ['vdekje'], subscriber: `${DURRES}/ndihma-sociale`, mode: 'pull' })
  ok(t, asked, 201, 'ask as a global role')
  ok(t, await rig.call('POST', `/admin/v1/subscriptions/${asked.json.id as string}/approve`, { ...as('sa'), headers: write(asked.headers.etag as string) }), 200, 'a system administrator approves')
  const decided = await rig.trail.list({ action: 'subscription.decide' })
  t.ok(decided.some(r => r.result === 'allowed' && r.operator === 'svc-tirana' && r.target === `subscription ${pushId}` && r.beforeDigest !== null && r.afterDigest !== null), 'the approval, with its states')
  t.ok(decided.some(r => r.result === 'refused' && r.operator === 'svc-durres' && r.errorCode === 'Admin.Forbidden'), 'the subscriber\'s attempt, refused')
  t.ok(decided.some(r => r.result === 'refused' && r.errorCode === 'Admin.PreconditionFailed'), 'the stale one')
  const withdrawals = await rig.trail.list({ action: 'subscription.withdraw' })
  t.same(withdrawals.filter(r => r.result === 'allowed').map(r => r.operator), ['svc-durres'])
  for (const r of [...decided, ...withdrawals].filter(x => x.result === 'allowed')) {
    const res = await rig.call('GET', `/admin/v1/audit/${r.seq}`, as('sa'))
    t.same([res.json.states, res.json.verified], ['reconstructed', true], `record ${r.seq} reads back`)
  }
})
