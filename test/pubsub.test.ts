/**
 * Publish/subscribe rooms through a real node (GovStack IM PubSub API 2.0 shape): the civil
 * registry publishes births and deaths to its room; Tiranë and Durrës take them by push (Durrës's
 * server offline for a while), e-Albania by pull. Checked: who may publish, schemas, sizes, the
 * fan-out to every subscriber with FIFO per citizen, delivery status per subscriber, pull with
 * acknowledgement, re-publishing, a subscriber refusing an event, every call and push in the
 * message log — and a municipality's transparency room feeding its public Atom feed.
 */
import { randomUUID } from 'node:crypto'
import { resolve } from 'node:path'
import t from 'tap'
import { initPki } from '../certs/dev-pki.ts'
import { Keystore } from '../certs/keystore.ts'
import { keystoreSigningKeys } from '../certs/keystore-signer.ts'
import { TrustStore } from '../certs/trust-store.ts'
import { openDelivery } from '../delivery/index.ts'
import { openMessageLog } from '../messagelog/index.ts'
import { verifyLog } from '../messagelog/verify-log.ts'
import { until } from './internals/delivery-contract.ts'
import { demoConfig, E_ALBANIA, startRig, TIRANA_CIVIL } from './support/gateway.ts'
import { call } from './support/http.ts'
import { startSwitchableProvider } from './support/switchable-provider.ts'
import { sampleEvent } from './support/transparency.ts'

const ROOM = 'AL-DEV/GOV/L01417001D/ngjarje-civile'
const PUBLISHER = 'AL-DEV/GOV/L01417001D/regjistri-civil'
const DURRES = 'AL-DEV/NJQV/M51305009K/ndihma-sociale'
const TRANSPARENCY = 'AL-DEV/NJQV/L21603004L/transparenca'
const tirana = await startSwitchableProvider()
const durres = await startSwitchableProvider()

const pushService = (provider: string, url: string): string => `
  - provider: ${provider}
    code: ngjarje
    type: rest
    adapter: { kind: rest, url: ${url} }
    timeoutMs: 2000
    resilience: { breaker: { enabled: false } }
`
const config = await demoConfig({
  // A data directory of this test's own (the demo's is shared with `npm start`).
  'node.yaml': text => text.replace('dataDir: ../../data', 'dataDir: data'),
  'members.yaml': text => text
    .replace('      - code: regjistri-civil\n        name: Regjistri Kombëtar i Gjendjes Civile\n', '      - code: regjistri-civil\n        name: Regjistri Kombëtar i Gjendjes Civile\n        connection: http\n'),
}, {
  'rooms.yaml': `services:${pushService(TIRANA_CIVIL, tirana.url)}${pushService(DURRES, durres.url)}
rooms:
  - room: ${ROOM}
    title: { sq: Ngjarjet e gjendjes civile, en: Civil status events }
    publishers: [${PUBLISHER}]
    maxEventBytes: 1024
    delivery: { retry: { limit: 30, delayMs: 1000, backoff: false, maxDelayMs: 1000 } }
    eventTypes:
      - name: lindje
        orderingKey: /nid
        schema:
          type: object
          additionalProperties: false
          required: [nid, emri, n]
          properties:
            nid: { $ref: "https://ura.gov.al/schemas/core/v1#/definitions/nid" }
            emri: { type: string }
            n: { type: integer }
      - name: vdekje
        orderingKey: /nid
        schema: { type: object, required: [nid], properties: { nid: { type: string } } }
  - room: ${TRANSPARENCY}
    title: { sq: Transparenca e Bashkisë Tiranë }
    publishers: [${TIRANA_CIVIL}]
    eventTypes:
      - { name: vendim, schema: { $ref: "https://ura.gov.al/schemas/transparency/v1/vendim" } }
      - { name: konsultim, schema: { $ref: "https://ura.gov.al/schemas/transparency/v1/konsultim" } }
subscriptions:
  - { id: tirane, room: ${ROOM}, eventTypes: [lindje, vdekje], subscriber: ${TIRANA_CIVIL}, mode: push, push: { service: ${TIRANA_CIVIL}/ngjarje, path: /ngjarje }, fifo: true }
  - { id: durres, room: ${ROOM}, eventTypes: [lindje], subscriber: ${DURRES}, mode: push, push: { service: ${DURRES}/ngjarje }, fifo: true }
  - { id: e-albania, room: ${ROOM}, eventTypes: [lindje], subscriber: ${E_ALBANIA}, mode: pull }
`,
})
const keystore = new Keystore(resolve(config.dir, config.node.dataDir), { passphrase: 'test-passphrase' })
initPki({ keystore, config })
const log = await openMessageLog(config, keystoreSigningKeys(keystore, TrustStore.load(keystore.paths)))
const delivery = await openDelivery(config, resolve(config.dir, config.node.dataDir))
const rig = await startRig({ config, messageLog: log, delivery })
t.teardown(async () => { await rig.close(); await tirana.close(); await durres.close() })

const r1 = (path: string, opts: { method?: string; client?: string; body?: unknown; id?: string; type?: string } = {}) => call(`${rig.url}/r1/${path}`, {
  method: opts.method ?? 'GET',
  headers: { 'x-road-client': opts.client ?? PUBLISHER, ...(opts.id === undefined ? {} : { 'x-road-id': opts.id }), ...(opts.body === undefined ? {} : { 'content-type': opts.type ?? 'application/json' }) },
  ...(opts.body === undefined ? {} : { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) }),
})
const publish = (type: string, body: unknown, opts: { client?: string; id?: string; type?: string; room?: string } = {}) => r1(`${opts.room ?? ROOM}/pub/v1/${type}`, { method: 'POST', body, ...opts })
const NIDS = ['J00101001C', 'J00101002K']

t.test('the room describes its event types, and each caller its own subscriptions', async t => {
  const types = await r1(`${ROOM}/api/v1/eventType`, { client: E_ALBANIA })
  t.equal(types.status, 200)
  t.same(JSON.parse(types.text).map((e: { eventType: string }) => e.eventType), ['lindje', 'vdekje'])
  const subs = JSON.parse((await r1(`${ROOM}/api/v1/subs`, { client: E_ALBANIA })).text)
  t.same(subs, [{ id: 'e-albania', subscriberId: E_ALBANIA, eventTypes: ['lindje'], delivery: 'PULL', options: { TTL: 3600, FIFO: false } }])
})

t.test('bad publications get typed errors and reach nobody', async t => {
  const denied = await publish('lindje', { nid: NIDS[0], emri: 'Ana', n: 0 }, { client: E_ALBANIA })
  t.equal(denied.status, 403)
  t.equal(denied.code, 'Server.ServerProxy.AccessDenied')
  const unknown = await publish('martese', { a: 1 })
  t.equal(unknown.status, 404)
  t.equal(unknown.code, 'Server.ServerProxy.UnknownService')
  const invalid = await publish('lindje', { nid: 'J00101001A', emri: 'Ana', n: 'x', extra: true })
  t.equal(invalid.status, 400)
  t.equal(invalid.code, 'Client.InvalidBody')
  t.ok(JSON.parse(invalid.text).violations.length >= 3, 'every violation is listed')
  t.equal((await publish('lindje', '<lindje/>', { type: 'text/xml' })).status, 415)
  t.equal((await publish('lindje', '{not json', {})).code, 'Client.InvalidBody')
  const big = await publish('lindje', { nid: NIDS[0], emri: 'A'.repeat(2000), n: 0 })
  t.equal(big.status, 413)
  t.equal(big.code, 'Client.RequestTooLarge')
  t.equal(tirana.received.length + durres.received.length, 0, 'no subscriber saw any of them')
})

t.test('fan-out: every subscriber gets every event, in order per citizen, Durrës after it is back', async t => {
  await durres.stop()
  const ids: string[] = []
  for (let n = 0; n < 20; n++) {
    const id = randomUUID()
    const a = await publish('lindje', { nid: NIDS[n % 2], emri: `Fëmija ${n}`, n }, { id })
    t.equal(a.status, 201)
    t.same(JSON.parse(a.text), { id })
    ids.push(id)
  }
  await until('Tiranë has all 20', async () => ids.every(id => tirana.count(id) >= 1)).catch(async err => { t.comment((await r1(`${ROOM}/pub/v1/lindje/${ids[0]}`)).text); t.comment(JSON.stringify(await delivery.queue.stats())); throw err })
  const status = JSON.parse((await r1(`${ROOM}/pub/v1/lindje/${ids[0]}`)).text)
  t.equal(status.subscribers, 3)
  t.ok(status.retrying >= 1, 'Durrës is still retrying')
  t.match(status.deliveries.find((d: { subscription: string }) => d.subscription === 'durres'), { state: 'retrying', lastError: /NetworkError|connect/i })
  await durres.start()
  await until('Durrës has all 20', async () => ids.every(id => durres.count(id) >= 1), 30_000).catch(async err => { t.comment((await r1(`${ROOM}/pub/v1/lindje/${ids[0]}`)).text); t.comment(JSON.stringify(await delivery.queue.list({ queue: 'sub.durres', limit: 3 }))); throw err })
  for (const p of [tirana, durres]) {
    for (const nid of NIDS) {
      const order = p.received.filter(r => JSON.parse(r.body).nid === nid).map(r => JSON.parse(r.body).n as number)
      t.same(order, [...order].sort((a, b) => a - b), `in publication order for ${nid}`)
    }
    for (const id of ids) t.equal(p.count(id), 1, 'each event once')
  }
  const pushed = tirana.received.find(r => r.id === ids[3])!
  t.equal(pushed.path, '/ngjarje', 'pushed to the subscription\'s path')
  // e-Albania pulls and acknowledges each event.
  for (let i = 0; i < 20; i++) {
    const next = await r1(`${ROOM}/pull/v1/lindje`, { client: E_ALBANIA })
    t.equal(next.status, 200)
    const ev = JSON.parse(next.text)
    t.equal(ev.eventType, 'lindje')
    t.equal(ev.publisherId, PUBLISHER)
    t.equal((await r1(`${ROOM}/pull/v1/lindje/${ev.id}`, { client: E_ALBANIA, method: 'DELETE' })).status, 204)
  }
  t.equal((await r1(`${ROOM}/pull/v1/lindje`, { client: E_ALBANIA })).status, 204, 'nothing left to pull')
  t.equal((await r1(`${ROOM}/pull/v1/lindje/${ids[0]}`, { client: E_ALBANIA, method: 'DELETE' })).code, 'Client.DeliveryNotFound', 'acknowledged once only')
  t.equal((await r1(`${ROOM}/pull/v1/lindje`, { client: TIRANA_CIVIL })).status, 403, 'no pull subscription, no pull')
  const done = JSON.parse((await r1(`${ROOM}/pub/v1/lindje/${ids[0]}`)).text)
  t.match(done, { subscribers: 3, delivered: 3, retrying: 0, dead: 0, sequence: 1 })
})

t.test('re-publishing an id: same answer, no second delivery; a different event under it is refused', async t => {
  const id = randomUUID()
  const body = { nid: NIDS[0], emri: 'Besa', n: 100 }
  t.equal((await publish('lindje', body, { id })).status, 201)
  t.equal((await publish('lindje', body, { id })).status, 201)
  const changed = await publish('lindje', { ...body, n: 101 }, { id })
  t.equal(changed.status, 422)
  t.equal(changed.code, 'Client.IdempotencyKeyReused')
  await until('delivered', async () => tirana.count(id) === 1 && durres.count(id) === 1)
  await new Promise(resolve => setTimeout(resolve, 300))
  t.equal(tirana.count(id), 1)
})

t.test('a subscriber that refuses an event: dead at once, other subscribers unaffected', async t => {
  const id = randomUUID()
  tirana.answer = r => r.id === id ? { status: 422, body: '{"gabim":"nuk pranohet"}' } : { status: 200, body: '{}' }
  t.equal((await publish('vdekje', { nid: NIDS[1] }, { id })).status, 201)
  const status = await until('dead', async () => { const s = JSON.parse((await r1(`${ROOM}/pub/v1/vdekje/${id}`)).text); return s.dead === 1 && s })
  t.equal(status.subscribers, 1, 'only Tiranë takes deaths')
  t.match(status.deliveries[0].lastError, /422/)
  tirana.answer = r => ({ status: 200, body: JSON.stringify({ ok: true, id: r.id }) })
})

t.test('every publication and push is an exchange in the message log, and the log verifies', async t => {
  const id = randomUUID()
  t.equal((await publish('lindje', { nid: NIDS[0], emri: 'Drita', n: 200 }, { id })).status, 201)
  await until('pushed', async () => tirana.count(id) === 1 && durres.count(id) === 1)
  // The provider has answered; the response records follow a moment later.
  const records = await until('the pushes logged', async () => { const r = await log.store.byMessageId(id); return r.filter(x => x.direction === 'response').length >= 3 && r })
  t.ok(records.some(r => r.service === `${ROOM}/pub` && r.direction === 'request' && r.client === PUBLISHER), 'the publication')
  t.ok(records.some(r => r.service === `${ROOM}/pub` && r.direction === 'response' && r.status === 201), 'its 201')
  t.ok(records.some(r => r.client === ROOM && r.service === `${TIRANA_CIVIL}/ngjarje` && r.status === 200), 'the push to Tiranë')
  t.ok(records.some(r => r.client === ROOM && r.service === `${DURRES}/ngjarje` && r.status === 200), 'the push to Durrës')
  // The event's digest is hashed once, at publication: each push's request record carries the digest
  // of the very body the publisher sent (and the subscriber got).
  const published = records.find(r => r.service === `${ROOM}/pub` && r.direction === 'request')!
  const pushes = records.filter(r => r.client === ROOM && r.direction === 'request')
  t.equal(pushes.length, 2)
  for (const p of pushes) t.equal(p.bodyDigest, published.bodyDigest, `the push to ${p.service} logs the event's digest`)
  t.equal((await verifyLog(log.store)).ok, true)
})

t.test('a municipality\'s transparency room feeds its public Atom feed', async t => {
  const decision = sampleEvent('vendim', { titull: { sq: 'Për miratimin e planit të përgjithshëm vendor', en: 'On the general local plan' } })
  const a = await publish('vendim', decision, { room: TRANSPARENCY, client: TIRANA_CIVIL })
  t.equal(a.status, 201)
  const short = await publish('konsultim', sampleEvent('konsultim', { fillon: '2026-02-02', mbaron: '2026-02-10' }), { room: TRANSPARENCY, client: TIRANA_CIVIL })
  t.equal(short.status, 400, 'a consultation shorter than 20 working days is refused')
  t.match(short.text, /20/)
  const feed = await call(`${rig.url}/feeds/tirane.atom`)
  t.equal(feed.status, 200)
  t.match(feed.headers['content-type'], /atom\+xml/)
  t.match(feed.text, 'Për miratimin e planit të përgjithshëm vendor')
  t.match(feed.text, `urn:uuid:${JSON.parse(a.text).id}`)
  const json = JSON.parse((await call(`${rig.url}/feeds/tirane.json`)).text)
  t.equal(json.items.length, 1)
  t.equal((await call(`${rig.url}/feeds/durres.atom`)).status, 404, 'Durrës has no transparency room here')
})
