/**
 * Store-and-forward through a real node: a municipal provider goes offline, the node keeps
 * accepting (202 + Location), and delivers every accepted request once the provider is back —
 * each attempt a logged exchange with the client's X-Road-Id, the log verifying afterwards.
 * Also: dead letters and re-drive, FIFO per ordering key, fallback to the queue for a sync
 * service, Idempotency-Key (replay, 409 in flight, 422 on a changed request), SOAP, and what one
 * client may not see of another's deliveries.
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
import { call, DEMO_ENVELOPE, soapCall } from './support/http.ts'
import { startSwitchableProvider } from './support/switchable-provider.ts'

const provider = await startSwitchableProvider()
const NJOFTIME = 'AL-DEV/NJQV/L21603004L/taksat-vendore/njoftime'
const FALLBACK = 'AL-DEV/NJQV/L21603004L/taksat-vendore/regjistrime'
const service = (code: string, delivery: string): string => `
  - provider: AL-DEV/NJQV/L21603004L/taksat-vendore
    code: ${code}
    type: rest
    adapter: { kind: rest, url: ${provider.url} }
    timeoutMs: 2000
    resilience: { breaker: { enabled: false } }
    delivery: ${delivery}
`
const config = await demoConfig({
  // A data directory of this test's own (the demo's is shared with `npm start`).
  'node.yaml': text => text.replace('dataDir: ../../data', 'dataDir: data'),
  'services.yaml': text => text.replace(/(code: kerkoShtetas\n)/, '$1    delivery: { mode: auto }\n'),
}, {
  'async.yaml': `services:${service('njoftime', '{ mode: async, fifo: true, retry: { limit: 2, delayMs: 1000, backoff: false, maxDelayMs: 1000 } }')}${service('regjistrime', '{ mode: sync, fallback: true, retry: { limit: 5, delayMs: 1000, backoff: false, maxDelayMs: 1000 } }')}
access:
  - service: ${NJOFTIME}
    clients: [${E_ALBANIA}, ${TIRANA_CIVIL}]
  - service: ${FALLBACK}
    clients: [${E_ALBANIA}]
`,
})
const keystore = new Keystore(resolve(config.dir, config.node.dataDir), { passphrase: 'test-passphrase' })
initPki({ keystore, config })
const log = await openMessageLog(config, keystoreSigningKeys(keystore, TrustStore.load(keystore.paths)))
const delivery = await openDelivery(config, resolve(config.dir, config.node.dataDir))
const rig = await startRig({ config, messageLog: log, delivery })
t.teardown(async () => { await rig.close(); await provider.close() })

const post = (code: string, body: string, headers: Record<string, string> = {}, client = E_ALBANIA) =>
  call(`${rig.url}/r1/${'AL-DEV/NJQV/L21603004L/taksat-vendore'}/${code}/njoftim`, { method: 'POST', headers: { 'x-road-client': client, 'content-type': 'application/json', ...headers }, body })
const status = async (id: string, client = E_ALBANIA) => {
  const a = await call(`${rig.url}/delivery/v1/${encodeURIComponent(id)}`, { headers: { 'x-road-client': client } })
  return { ...a, json: a.status === 200 ? JSON.parse(a.text) as Record<string, any> : undefined }
}

t.test('an offline provider: every accepted request is delivered once it is back, each attempt logged', async t => {
  await provider.stop()
  const ids = Array.from({ length: 12 }, () => randomUUID())
  const answers = await Promise.all(ids.map((id, i) => post('njoftime', JSON.stringify({ n: i }), { 'x-road-id': id, 'idempotency-key': `k-${id}` })))
  for (const [i, a] of answers.entries()) {
    t.equal(a.status, 202, `accepted ${i}`)
    t.equal(a.headers['x-road-id'], ids[i])
    t.equal(a.headers.location, `/delivery/v1/${ids[i]}`)
    t.match(a.headers['x-road-request-hash'], /^[A-Za-z0-9+/=]{20,}$/)
    t.same(JSON.parse(a.text), { id: ids[i], state: 'queued', location: `/delivery/v1/${ids[i]}` })
  }
  const waiting = await until('an attempt failed', async () => { const s = await status(ids[0]); return s.json?.attempts >= 1 && s.json?.state === 'retry' && s.json })
  t.match(waiting.lastError, /NetworkError|connect/i, 'the status says why it is not delivered yet')
  t.ok(waiting.nextAttemptAt, 'and when it is tried next')

  // The client repeats three requests with their keys: the same acceptance, no new delivery.
  for (const id of ids.slice(0, 3)) {
    const again = await post('njoftime', JSON.stringify({ n: ids.indexOf(id) }), { 'x-road-id': id, 'idempotency-key': `k-${id}` })
    t.equal(again.status, 202)
    t.equal(again.headers['idempotent-replayed'], 'true')
    t.equal(again.headers['x-road-id'], id)
  }
  const changed = await post('njoftime', JSON.stringify({ n: 'changed' }), { 'x-road-id': randomUUID(), 'idempotency-key': `k-${ids[0]}` })
  t.equal(changed.status, 422)
  t.equal(changed.code, 'Client.IdempotencyKeyReused')

  await provider.start()
  for (const id of ids) {
    const done = await until(`delivered ${id}`, async () => { const s = await status(id); return s.json?.state === 'delivered' && s.json })
    t.equal(done.response.status, 200)
  }
  for (const id of ids) t.equal(provider.count(id), 1, `exactly one delivery of ${id}`)
  const first = provider.received.find(r => r.id === ids[0])!
  t.equal(first.key, `k-${ids[0]}`, 'the Idempotency-Key travels to the provider')
  const kept = await call(`${rig.url}/delivery/v1/${ids[0]}/response`, { headers: { 'x-road-client': E_ALBANIA } })
  t.equal(kept.status, 200)
  t.same(JSON.parse(kept.text), { ok: true, id: ids[0] }, 'the provider answer is kept for the client')

  const records = await log.store.byMessageId(ids[0])
  const attempts = records.filter(r => r.direction === 'request').length - 1
  t.ok(attempts >= 2, `the acceptance and ${attempts} attempts are in the log`)
  t.same(new Set(records.map(r => r.messageId)), new Set([ids[0]]))
  t.ok(records.some(r => r.direction === 'response' && r.status === 202), 'the 202 is logged')
  t.ok(records.some(r => r.direction === 'response' && r.status === 200), 'the delivered answer is logged')
  t.equal(new Set(records.filter(r => r.direction === 'request').map(r => r.requestId)).size, attempts + 1, 'each attempt has its own request id')
  const verdict = await verifyLog(log.store)
  t.equal(verdict.ok, true, 'the message log verifies')
})

t.test('another client cannot follow someone else\'s delivery', async t => {
  const id = randomUUID()
  t.equal((await post('njoftime', '{"x":1}', { 'x-road-id': id })).status, 202)
  const other = await status(id, TIRANA_CIVIL)
  t.equal(other.status, 404)
  t.equal(other.code, 'Client.DeliveryNotFound')
  t.equal((await status('no-such-id')).code, 'Client.DeliveryNotFound')
  await until('delivered', async () => (await status(id)).json?.state === 'delivered')
})

t.test('a provider that keeps answering 503: dead letter after the retries, then re-driven', async t => {
  const id = randomUUID()
  provider.answer = r => r.id === id ? { status: 503, body: '{"busy":true}' } : { status: 200, body: '{}' }
  t.equal((await post('njoftime', '{"dead":1}', { 'x-road-id': id })).status, 202)
  const dead = await until('dead', async () => { const s = await status(id); return s.json?.state === 'dead' && s.json }, 20_000)
  t.equal(dead.attempts, 3, 'one attempt and two retries')
  t.match(dead.lastError, /503/)
  const letters = await delivery.queue.list({ prefix: 'svc.', state: 'dead', limit: 10 })
  t.ok(letters.some(j => j.id.endsWith(id)), 'listed as a dead letter')
  provider.answer = r => ({ status: 200, body: JSON.stringify({ ok: true, id: r.id }) })
  t.equal(await delivery.queue.redrive(`svc.${NJOFTIME}`), 1)
  await until('delivered after redrive', async () => (await status(id)).json?.state === 'delivered')
  t.equal(provider.received.filter(r => r.id === id && r.method === 'POST').length, 4)
})

t.test('FIFO per ordering key: a message waits for the earlier one with its key', async t => {
  const [a, b, c]: string[] = [randomUUID(), randomUUID(), randomUUID()]
  let failOnce = true
  provider.answer = r => {
    if (r.id === a && failOnce) { failOnce = false; return { status: 503 } }
    return { status: 200, body: '{}' }
  }
  const nid = 'J00101999W'
  t.equal((await post('njoftime', '{"i":1}', { 'x-road-id': a, 'x-ura-ordering-key': nid })).status, 202)
  t.equal((await post('njoftime', '{"i":2}', { 'x-road-id': b, 'x-ura-ordering-key': nid })).status, 202)
  t.equal((await post('njoftime', '{"i":3}', { 'x-road-id': c, 'x-ura-ordering-key': 'other' })).status, 202)
  for (const id of [a, b, c]) await until(`delivered ${id}`, async () => (await status(id)).json?.state === 'delivered')
  const delivered = provider.received.filter(r => [a, b, c].includes(r.id))
  const lastA = delivered.map(r => r.id).lastIndexOf(a)
  t.ok(delivered.findIndex(r => r.id === b) > lastA, 'b was sent only after a was delivered')
  t.ok(delivered.findIndex(r => r.id === c) < lastA, 'the other key did not wait')
  provider.answer = r => ({ status: 200, body: JSON.stringify({ ok: true, id: r.id }) })
})

t.test('fallback: a sync service queues instead of failing while its provider is unreachable', async t => {
  const before = await post('regjistrime', '{"sync":1}')
  t.equal(before.status, 200, 'answered synchronously while the provider is up')
  await provider.stop()
  const id = randomUUID()
  const queued = await post('regjistrime', '{"offline":1}', { 'x-road-id': id })
  t.equal(queued.status, 202)
  t.equal(queued.headers.location, `/delivery/v1/${id}`)
  await provider.start()
  await until('delivered', async () => (await status(id)).json?.state === 'delivered', 20_000)
  t.equal(provider.count(id), 1)
})

t.test('Prefer: respond-async on an auto service; without it the same service answers at once', async t => {
  const id = randomUUID()
  const asked = await soapCall(rig.url, DEMO_ENVELOPE.replace(/<xrd:id>[^<]*<\/xrd:id>/, `<xrd:id>${id}</xrd:id>`), { prefer: 'respond-async' })
  t.equal(asked.status, 202)
  t.equal(asked.headers['preference-applied'], 'respond-async')
  t.equal(asked.text, '', 'SOAP: an empty 202')
  // The demo envelope's client is Tirana's civil-status office.
  const done = await until('delivered', async () => { const s = await status(id, TIRANA_CIVIL); return s.json?.state === 'delivered' && s.json })
  t.equal(done.response.status, 200)
  const kept = await call(`${rig.url}/delivery/v1/${id}/response`, { headers: { 'x-road-client': TIRANA_CIVIL } })
  t.match(kept.text, /kerkoShtetasResponse/, 'the SOAP answer is kept')
  t.match(kept.headers['content-type'], /xml/)
  const now = await soapCall(rig.url, DEMO_ENVELOPE)
  t.equal(now.status, 200, 'no preference: synchronous')
})

t.test('Idempotency-Key on a synchronous call: replayed, 409 while the first runs, typed errors for bad keys', async t => {
  const key = randomUUID()
  provider.answer = r => ({ status: 200, body: JSON.stringify({ n: provider.received.length, id: r.id }), delayMs: r.body.includes('slow') ? 600 : 0 })
  const first = await post('regjistrime', '{"once":1}', { 'idempotency-key': key })
  const second = await post('regjistrime', '{"once":1}', { 'idempotency-key': key })
  t.equal(first.status, 200)
  t.equal(second.text, first.text, 'the same answer')
  t.equal(second.headers['idempotent-replayed'], 'true')
  t.equal(provider.received.filter(r => r.key === key).length, 1, 'the provider saw it once')
  const slowKey = randomUUID()
  const [a, b] = await Promise.all([post('regjistrime', '{"slow":1}', { 'idempotency-key': slowKey }), new Promise(resolve => setTimeout(resolve, 150)).then(() => post('regjistrime', '{"slow":1}', { 'idempotency-key': slowKey }))])
  t.equal(a.status, 200)
  t.equal(b.status, 409)
  t.equal(b.code, 'Client.IdempotencyKeyInFlight')
  const bad = await post('regjistrime', '{}', { 'idempotency-key': '' })
  t.equal(bad.status, 400)
  t.equal(bad.code, 'Client.BadRequest')
  const other = await post('regjistrime', '{"once":1}', { 'idempotency-key': key }, TIRANA_CIVIL)
  t.equal(other.status, 403, 'keys are per client: another client is checked on its own (and has no grant here)')
  provider.answer = r => ({ status: 200, body: JSON.stringify({ ok: true, id: r.id }) })
})

t.test('metrics show the queues', async t => {
  const m = await call(`${rig.url}/metrics`)
  t.match(m.text, new RegExp(`ura_delivery_jobs\\{queue="svc.${NJOFTIME}",state="delivered"\\} \\d+`))
  t.match(m.text, /ura_delivery_attempts_total\{queue="svc\.[^"]+",outcome="failed"\} [1-9]/)
  t.match(m.text, /ura_delivery_oldest_seconds\{queue="svc\./)
})
