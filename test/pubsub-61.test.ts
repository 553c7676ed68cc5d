/**
 * A room with all 61 municipalities subscribed by push (the civil registry's real audience), 10 of
 * them offline for the first seconds while events are published with FIFO ordering keys. Afterwards
 * every municipality must have every event, in publication order per key, each X-Road-Id once —
 * through a real node (real queue, real signed message log) and a real subscriber server on
 * loopback. The shorter sibling of `npm run bench:fanout -- --offline 10`.
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import t from 'tap'
import { initPki } from '../certs/dev-pki.ts'
import { Keystore } from '../certs/keystore.ts'
import { keystoreSigningKeys } from '../certs/keystore-signer.ts'
import { TrustStore } from '../certs/trust-store.ts'
import { loadConfig } from '../config/load.ts'
import { openDelivery } from '../delivery/index.ts'
import { buildGateway } from '../gateway/server.ts'
import { openMessageLog } from '../messagelog/index.ts'
import { municipalities } from '../bench/fanout.ts'
import { until } from './internals/delivery-contract.ts'

const INSTANCE = 'AL-TEST'
const ROOM = `${INSTANCE}/GOV/L01417001D/ngjarje-civile`
const PUBLISHER = `${INSTANCE}/GOV/L01417001D/regjistri-civil`
const OFFLINE_MS = 3000
const EVENTS = 30
const KEYS = ['J00101001C', 'J00101002K', 'J00101003L']

const subs = municipalities()
t.equal(subs.length, 61, 'all 61 municipalities')
const offline = new Set(subs.filter((_, i) => i % 6 === 0).slice(0, 10).map(m => m.slug))
t.equal(offline.size, 10)

// The subscribers: one server, one path per municipality. Offline ones answer 503 until the test
// brings them back (at least OFFLINE_MS after the first publication, and only once all events are
// published and the others have them); every subscriber notes each event it accepts.
interface Got { id: string; key: string; n: number }
const got = new Map<string, Got[]>(subs.map(m => [m.slug, []]))
let away = true
let refused = 0
const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const [, slug, path] = (req.url ?? '').split('/')
    const list = got.get(slug)
    if (list === undefined || path !== 'ngjarje' || req.method !== 'POST') { res.writeHead(404).end(); return }
    if (offline.has(slug) && away) { refused++; res.writeHead(503).end(); return }
    const ev = JSON.parse(Buffer.concat(chunks).toString()) as { nid: string; n: number }
    list.push({ id: String(req.headers['x-road-id']), key: ev.nid, n: ev.n })
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
})
await new Promise<void>(ok => server.listen(0, '127.0.0.1', ok))
const subscriberUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`

// The node's configuration, built from scratch: the room, its publisher, a member, push service and
// FIFO subscription per municipality, a data directory of this test's own.
const dir = await mkdtemp(join(tmpdir(), 'ura-pubsub61-'))
const yaml = [
  'node:',
  `  instance: ${INSTANCE}`,
  '  listen: { host: 127.0.0.1, port: 0 }',
  '  dataDir: data',
  '  log: { store: embedded }',
  'members:',
  '  - { class: GOV, code: L01417001D, name: Regjistri Kombëtar i Gjendjes Civile, subsystems: [{ code: regjistri-civil, connection: http }, { code: ngjarje-civile }] }',
  ...subs.map(m => `  - { class: NJQV, code: ${m.code}, name: ${JSON.stringify(m.name)}, subsystems: [{ code: gjendja-civile }] }`),
  'services:',
  ...subs.map(m => `  - { provider: ${INSTANCE}/NJQV/${m.code}/gjendja-civile, code: ngjarje, type: rest, adapter: { kind: rest, url: "${subscriberUrl}/${m.slug}" }, timeoutMs: 2000, resilience: { breaker: { enabled: false } } }`),
  'rooms:',
  `  - room: ${ROOM}`,
  `    publishers: [${PUBLISHER}]`,
  '    delivery: { retry: { limit: 60, delayMs: 1000, backoff: false, maxDelayMs: 1000 } }',
  '    eventTypes:',
  '      - { name: lindje, orderingKey: /nid, schema: { type: object, required: [nid, n], properties: { nid: { type: string }, n: { type: integer } } } }',
  'subscriptions:',
  ...subs.map(m => `  - { id: ${m.slug}, room: ${ROOM}, eventTypes: [lindje], subscriber: ${INSTANCE}/NJQV/${m.code}/gjendja-civile, mode: push, push: { service: ${INSTANCE}/NJQV/${m.code}/gjendja-civile/ngjarje, path: /ngjarje }, fifo: true }`),
].join('\n') + '\n'
await writeFile(join(dir, 'ura.yaml'), yaml)
const config = await loadConfig(dir)
const dataDir = join(dir, 'data')
const keystore = new Keystore(dataDir, { passphrase: 'test-passphrase' })
initPki({ keystore, config })
const log = await openMessageLog(config, keystoreSigningKeys(keystore, TrustStore.load(keystore.paths)))
const delivery = await openDelivery(config, dataDir)
const gateway = await buildGateway({ config, messageLog: log, delivery, logger: { level: 'info', stream: new Writable({ write (_c, _e, cb) { cb() } }) } })
const url = await gateway.app.listen({ host: '127.0.0.1', port: 0 })
t.teardown(async () => {
  await gateway.close()
  server.closeAllConnections()
  await new Promise(ok => server.close(ok))
  await rm(dir, { recursive: true, force: true })
})

t.test('61 push subscribers, 10 offline for a while: all get all events, in order per key, each once', async t => {
  const ids: string[] = []
  const started = Date.now()
  // Published one after another (the node answers 201 once the fan-out is durable), spread over keys.
  for (let n = 0; n < EVENTS; n++) {
    const id = randomUUID()
    const res = await fetch(`${url}/r1/${ROOM}/pub/v1/lindje`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-road-client': PUBLISHER, 'x-road-id': id },
      body: JSON.stringify({ nid: KEYS[n % KEYS.length], n }),
    })
    t.equal(res.status, 201, `event ${n} published`)
    await res.arrayBuffer()
    ids.push(id)
  }
  await until('the online subscribers have every event', async () => subs.every(m => offline.has(m.slug) || got.get(m.slug)!.length >= EVENTS), 15_000)
  t.ok(subs.filter(m => offline.has(m.slug)).every(m => got.get(m.slug)!.length === 0), 'the offline ones have nothing yet')
  await new Promise(ok => setTimeout(ok, Math.max(0, started + OFFLINE_MS - Date.now())))
  away = false
  await until('every subscriber has every event', async () => subs.every(m => got.get(m.slug)!.length >= EVENTS), 20_000)
  t.ok(refused >= 10, `the offline subscribers were tried while away (${refused} refused attempts)`)
  // Let a stray repeat show up before counting.
  await new Promise(ok => setTimeout(ok, 300))
  let wrong = 0
  for (const m of subs) {
    const list = got.get(m.slug)!
    const seen = new Set(list.map(g => g.id))
    if (list.length !== EVENTS || seen.size !== EVENTS || !ids.every(id => seen.has(id))) { wrong++; t.fail(`${m.slug}: ${list.length} deliveries, ${seen.size} distinct ids`) }
    for (const key of KEYS) {
      const order = list.filter(g => g.key === key).map(g => g.n)
      const expected = Array.from({ length: EVENTS }, (_, n) => n).filter(n => KEYS[n % KEYS.length] === key)
      if (JSON.stringify(order) !== JSON.stringify(expected)) { wrong++; t.same(order, expected, `${m.slug}: publication order for ${key}`) }
    }
  }
  t.equal(wrong, 0, 'all 61 subscribers: all 30 events, each X-Road-Id once, in publication order per key')
  const status = JSON.parse(await (await fetch(`${url}/r1/${ROOM}/pub/v1/lindje/${ids[0]}`, { headers: { 'x-road-client': PUBLISHER } })).text())
  t.match(status, { subscribers: 61, delivered: 61, retrying: 0, dead: 0 }, 'the publisher sees every delivery done')
})
