/**
 * A push subscriber that misbehaves (hangs, drips its answer, answers 5xx, then answers garbage
 * with a 200): each attempt fails or succeeds by the rules in docs/pubsub.md, the event is retried
 * until the subscriber takes it, the publisher's status says so, and nothing is lost or counted twice.
 * A subscriber that is down for good ends in the dead letters, where a re-drive delivers it.
 */
import { randomUUID } from 'node:crypto'
import { resolve } from 'node:path'
import t from 'tap'
import { openDelivery } from '../delivery/index.ts'
import { until } from './internals/delivery-contract.ts'
import { startFaultyProvider, type Fault } from './support/faulty-provider.ts'
import { demoConfig, startRig } from './support/gateway.ts'
import { call } from './support/http.ts'

const ROOM = 'AL-DEV/GOV/L01417001D/ngjarje-civile'
const PUBLISHER = 'AL-DEV/GOV/L01417001D/regjistri-civil'
const SUBSCRIBER = 'AL-DEV/NJQV/L21603004L/gjendja-civile'
const faulty = await startFaultyProvider('ok')
const steps: Fault[] = ['hang', 'drip', 'status500', 'malformed']
faulty.fault = hit => steps[hit - 1] ?? 'ok'

const config = await demoConfig({
  'node.yaml': text => text.replace('dataDir: ../../data', 'dataDir: data'),
  'members.yaml': text => text.replace('      - code: regjistri-civil\n        name: Regjistri Kombëtar i Gjendjes Civile\n', '      - code: regjistri-civil\n        name: Regjistri Kombëtar i Gjendjes Civile\n        connection: http\n'),
}, {
  'rooms.yaml': `services:
  - provider: ${SUBSCRIBER}
    code: ngjarje
    type: rest
    adapter: { kind: rest, url: ${faulty.url} }
    timeoutMs: 400
    resilience: { breaker: { enabled: false }, retries: { attempts: 0 } }
rooms:
  - room: ${ROOM}
    publishers: [${PUBLISHER}]
    delivery: { retry: { limit: 4, delayMs: 1000, backoff: false, maxDelayMs: 1000 } }
    eventTypes: [{ name: lindje, schema: { type: object } }]
subscriptions:
  - { id: tirane, room: ${ROOM}, eventTypes: [lindje], subscriber: ${SUBSCRIBER}, mode: push, push: { service: ${SUBSCRIBER}/ngjarje } }
`,
})
const delivery = await openDelivery(config, resolve(config.dir, 'data'))
const rig = await startRig({ config, delivery })
t.teardown(async () => { await rig.close(); await faulty.close() })

const r1 = (path: string, init: { method?: string; body?: string; id?: string } = {}) => call(`${rig.url}/r1/${ROOM}/${path}`, {
  method: init.method ?? 'GET',
  headers: { 'x-road-client': PUBLISHER, 'content-type': 'application/json', ...(init.id === undefined ? {} : { 'x-road-id': init.id }) },
  ...(init.body === undefined ? {} : { body: init.body }),
})

t.test('hang, drip, 500, then garbage with 200: four attempts, delivered once', async t => {
  const id = randomUUID()
  t.equal((await r1('pub/v1/lindje', { method: 'POST', body: '{"n":1}', id })).status, 201)
  const status = await until('delivered', async () => { const s = JSON.parse((await r1(`pub/v1/lindje/${id}`)).text); return s.delivered === 1 && s }, 20_000)
  t.equal(status.deliveries[0].attempts, 4, 'hang and drip timed out, 500 was retried, the 200 delivered')
  t.equal(faulty.hits, 4, 'no attempt after delivery')
})

t.test('a subscriber down for good: dead letter after the retries, delivered once re-driven', async t => {
  faulty.hits = 0
  faulty.fault = 'reset'
  const id = randomUUID()
  t.equal((await r1('pub/v1/lindje', { method: 'POST', body: '{"n":2}', id })).status, 201)
  const dead = await until('dead', async () => { const s = JSON.parse((await r1(`pub/v1/lindje/${id}`)).text); return s.dead === 1 && s }, 20_000)
  t.equal(dead.deliveries[0].attempts, 5)
  t.match(dead.deliveries[0].lastError, /ServiceFailed/)
  faulty.fault = 'ok'
  t.equal(await delivery.queue.redrive('sub.tirane'), 1)
  await until('delivered after redrive', async () => JSON.parse((await r1(`pub/v1/lindje/${id}`)).text).delivered === 1)
  t.equal(faulty.hits, 6)
})
