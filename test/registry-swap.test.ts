/**
 * A running node on the registry store: a committed version is built off to the side and swapped in
 * whole. Exchanges in flight finish on the version they began with, the next request sees the new one
 * (also on a kept-alive connection, also over mutual TLS), a second node on the same PostgreSQL follows
 * within 5 s, a version that does not build is not applied, and adapters survive a swap when their
 * service is unchanged and are closed once no exchange needs them when it is not.
 */
import { X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { createServer, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { Agent } from 'undici'
import { fingerprintOf, normaliseSerial } from '../certs/pki.ts'
import { LiveRegistryError } from '../registry/live.ts'
import type { RegistryContent, RegistryStore } from '../registry/store/index.ts'
import { PgRegistryStore } from '../registry/store/pg-store.ts'
import { SqliteRegistryStore } from '../registry/store/sqlite-store.ts'
import { call, type Answer } from './support/http.ts'
import { demoConfig, E_ALBANIA, startRig, startTlsRig, TAX_SERVICE, TEST_PASSPHRASE, type Rig } from './support/gateway.ts'
import { scratchDatabase } from './support/postgres.ts'

const TAX_PATH = `/r1/${TAX_SERVICE}/subjekte/K81305012I/detyrime?viti=2026`
const CIVIL_SOAP = 'AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas'
const TAX_ANSWER = JSON.stringify({ subjekti: { id: 'K81305012I', emri: 'X' }, bashkia: 'Tiranë', viti: 2026, detyrime: [], totaliPapaguar: 0 })

async function embeddedStore (): Promise<RegistryStore> {
  return SqliteRegistryStore.open(join(await mkdtemp(join(tmpdir(), 'ura-registry-')), 'registry.sqlite'), { instance: 'AL-DEV' })
}

/** Commits a change to the store's current version; returns the new version's number. */
async function commit (store: RegistryStore, change: (c: RegistryContent) => RegistryContent, why: string): Promise<number> {
  const { version } = await store.current()
  return (await store.commit(change, { who: 'test', why, expectedVersion: version })).version
}

const withoutGrant = (service: string) => (c: RegistryContent): RegistryContent => ({ ...c, access: c.access.filter(g => g.service !== service) })
const withoutService = (service: string) => (c: RegistryContent): RegistryContent => ({
  ...c,
  services: c.services.filter(s => `${s.provider}/${s.code}` !== service),
  access: c.access.filter(g => g.service !== service),
})
const editService = (service: string, edit: (s: RegistryContent['services'][number]) => void) => (c: RegistryContent): RegistryContent => {
  const copy = structuredClone(c)
  for (const s of copy.services) if (`${s.provider}/${s.code}` === service) edit(s)
  return copy
}

const taxCall = (rig: Rig, dispatcher?: Agent): Promise<Answer> =>
  call(`${rig.url}${TAX_PATH}`, { headers: { 'X-Road-Client': E_ALBANIA }, ...(dispatcher === undefined ? {} : { dispatcher }) })

/** Repeats `attempt` until `done` says so; the time from `since` to the answer that did, in ms. */
async function until (since: number, attempt: () => Promise<Answer>, done: (a: Answer) => boolean, limitMs = 6000): Promise<{ ms: number; answer: Answer }> {
  for (;;) {
    const answer = await attempt()
    if (done(answer)) return { ms: performance.now() - since, answer }
    if (performance.now() - since > limitMs) return { ms: Infinity, answer }
    await sleep(5)
  }
}

/** A provider for the tax service that holds every request until released, and counts its open connections. */
async function heldProvider (t: Test): Promise<{ url: string; arrived: Promise<void>; release (): void; open (): number }> {
  let release = (): void => {}
  const held = new Promise<void>(resolve => { release = resolve })
  let arrived = (): void => {}
  const first = new Promise<void>(resolve => { arrived = resolve })
  let open = 0
  const server = createServer((_req, res) => {
    arrived()
    void held.then(() => { res.writeHead(200, { 'content-type': 'application/json' }).end(TAX_ANSWER) })
  })
  server.on('connection', socket => { open++; socket.once('close', () => { open-- }) })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { release(); server.closeAllConnections(); server.close() })
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1`, arrived: first, release: () => release(), open: () => open }
}

async function metricValue (rig: Rig, sample: string): Promise<number | undefined> {
  const text = (await call(`${rig.url}/metrics`)).text
  const line = text.split('\n').find(l => l.startsWith(`${sample} `))
  return line === undefined ? undefined : Number(line.slice(sample.length + 1))
}

t.test('an exchange in flight finishes on its version; the next one sees the new version', async t => {
  const provider = await heldProvider(t)
  const config = await demoConfig({ 'services.yaml': s => s.replace('url: http://127.0.0.1:4401/api/v1', `url: ${provider.url}`) })
  const store = await embeddedStore()
  const rig = await startRig({ config, registryStore: store })
  t.teardown(async () => { await rig.close(); await store.close() })
  t.equal(rig.gateway.registryVersion(), 1)

  const inFlight = taxCall(rig)
  await provider.arrived
  const before = rig.gateway.context.registry

  const v2 = await commit(store, withoutGrant(TAX_SERVICE), 'e-Albania loses the tax service')
  await rig.gateway.waitForVersion(v2)
  const denied = await taxCall(rig)
  t.equal(denied.status, 403, 'the next exchange is refused')
  t.equal(denied.code, 'Server.ServerProxy.AccessDenied')

  const v3 = await commit(store, withoutService(TAX_SERVICE), 'the tax service leaves the node')
  await rig.gateway.waitForVersion(v3)
  t.equal((await taxCall(rig)).code, 'Server.ServerProxy.UnknownService', 'the service is gone for new exchanges')
  t.equal(before.holds, 1, 'the first version is still held by the exchange in flight')
  t.equal(provider.open(), 1, "the removed service's pool stays open while its exchange runs")

  provider.release()
  const done = await inFlight
  t.equal(done.status, 200, 'the exchange in flight completes on the version it began with')
  t.same(JSON.parse(done.text).subjekti, { id: 'K81305012I', emri: 'X' })
  const closed = await until(performance.now(), async () => ({ status: provider.open() }) as Answer, a => a.status === 0, 3000)
  t.ok(closed.ms < 3000, "then the removed service's pool is closed: the provider sees no connection left")

  const ready = JSON.parse((await call(`${rig.url}/readyz`)).text)
  t.equal(ready.registryVersion, 3, '/readyz names the version served')
  t.equal(ready.services, 1)
  t.equal(await metricValue(rig, 'ura_registry_version'), 3)
  t.equal(await metricValue(rig, 'ura_registry_swaps_total{result="applied"}'), 2)
  const catalogue = JSON.parse((await call(`${rig.url}/catalogue`)).text)
  t.notOk(catalogue.services.some((s: { id: string }) => s.id === TAX_SERVICE), 'the catalogue follows the swap')
  t.ok(rig.logs.some(l => l.includes('"msg":"registry version 3 applied"')), 'each applied version is logged')
})

t.test('on a kept-alive connection, a removed grant is enforced within 1 s of the commit', async t => {
  const store = await embeddedStore()
  const rig = await startRig({ registryStore: store })
  t.teardown(async () => { await rig.close(); await store.close() })
  let connections = 0
  rig.gateway.app.server.on('connection', () => { connections++ })
  const agent = new Agent({ connections: 1, pipelining: 1, keepAliveTimeout: 30_000 })
  t.teardown(() => agent.close())

  t.equal((await taxCall(rig, agent)).status, 200, 'granted at version 1')
  const since = performance.now()
  await commit(store, withoutGrant(TAX_SERVICE), 'grant withdrawn')
  const { ms, answer } = await until(since, () => taxCall(rig, agent), a => a.status !== 200)
  t.equal(answer.code, 'Server.ServerProxy.AccessDenied')
  t.ok(ms < 1000, `refused ${Math.round(ms)} ms after the commit`)
  t.equal(connections, 1, 'every request went over the one kept-alive connection')
})

t.test('over mutual TLS on a kept-alive connection: a registry revocation and a removed certificate pin apply to the next request', async t => {
  process.env.URA_KEY_PASSPHRASE = TEST_PASSPHRASE
  const store = await embeddedStore()
  const config = await demoConfig({}, {}, { mtls: true })
  const rig = await startTlsRig({ config, registryStore: store })
  t.teardown(async () => { await rig.close(); await store.close() })
  const files = rig.keystore.paths.client(E_ALBANIA)
  const certPem = readFileSync(files.cert, 'utf8')
  const leaf = new X509Certificate(certPem)
  const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => agent.destroy())
  let connections = 0
  rig.gateway.app.server.on('secureConnection', () => { connections++ })
  const key = rig.keystore.privateKey(files.key).export({ type: 'pkcs8', format: 'pem' }) as string
  const ca = readFileSync(rig.keystore.paths.caCert, 'utf8')
  const tlsCall = async (): Promise<Answer> => {
    const started = performance.now()
    const req = httpsRequest({ host: '127.0.0.1', port: Number(new URL(rig.url).port), path: TAX_PATH, headers: { 'X-Road-Client': E_ALBANIA }, ca, key, cert: certPem, agent })
    req.end()
    const [res] = await once(req, 'response') as [IncomingMessage]
    const chunks: Buffer[] = []
    for await (const c of res) chunks.push(c as Buffer)
    const header = res.headers['x-road-error']
    return { status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started, code: typeof header === 'string' ? header : undefined }
  }
  const pin = (fingerprint: string) => (c: RegistryContent): RegistryContent => {
    const copy = structuredClone(c)
    const member = copy.members.find(m => m.code === 'K11503002N')!
    member.subsystems.find(s => s.code === 'e-albania')!.certificates = [fingerprint]
    return copy
  }

  t.equal((await tlsCall()).status, 200, 'the demo certificate is accepted')
  // The registry's revocations are handed to the trust store at each version and checked on every request.
  const revocation = { serial: normaliseSerial(leaf.serialNumber), issuer: leaf.issuer, subject: leaf.subject, revokedAt: new Date().toISOString(), reason: 'key compromise' }
  let since = performance.now()
  await commit(store, c => ({ ...c, revocations: [...c.revocations, revocation] }), 'the e-Albania key was compromised')
  const revoked = await until(since, tlsCall, a => a.status !== 200)
  t.equal(revoked.answer.code, 'Server.ClientProxy.SslAuthenticationFailed', 'a certificate revoked in the registry is refused on the open connection')
  t.match(JSON.parse(revoked.answer.text).message, /revoked .*key compromise/)
  t.ok(revoked.ms < 1000, `refused ${Math.round(revoked.ms)} ms after the commit`)
  const revocations = rig.trust.revocations
  t.same(revocations.entries(), [revocation], 'listed with the file\'s entries')
  await rig.gateway.waitForVersion(await commit(store, c => ({ ...c, revocations: [] }), 'revoked by mistake'))
  t.equal((await tlsCall()).status, 200, 'and accepted again once the registry no longer lists it')

  await rig.gateway.waitForVersion(await commit(store, pin(fingerprintOf(leaf)), 'pin e-Albania to its certificate'))
  t.equal((await tlsCall()).status, 200, 'pinned to the certificate it uses')
  since = performance.now()
  await commit(store, pin('ab'.repeat(32)), 'e-Albania must use its new certificate')
  const { ms, answer } = await until(since, tlsCall, a => a.status !== 200)
  t.equal(answer.code, 'Client.InvalidClientIdentifier', 'the certificate is no longer registered for the client')
  t.ok(ms < 1000, `refused ${Math.round(ms)} ms after the commit`)
  t.equal(connections, 1, 'every request went over the one TLS connection')
  t.same(revocations.entries(), [], 'each version hands its own revocation list over')
})

t.test('two nodes on one PostgreSQL: a commit through node A is enforced by node B within 5 s', async t => {
  const db = await scratchDatabase(t, 'ura_test_swap')
  const storeA = await PgRegistryStore.open(db.url, { instance: 'AL-DEV' })
  const storeB = await PgRegistryStore.open(db.url, { instance: 'AL-DEV' })
  const a = await startRig({ registryStore: storeA })
  const b = await startRig({ registryStore: storeB })
  t.teardown(async () => { await a.close(); await b.close(); await storeA.close(); await storeB.close() })
  t.equal(b.gateway.registryVersion(), 1, 'node B serves what node A seeded')
  t.equal((await taxCall(b)).status, 200)

  const since = performance.now()
  await commit(storeA, withoutGrant(TAX_SERVICE), 'grant withdrawn on node A')
  const { ms, answer } = await until(since, () => taxCall(b), r => r.status !== 200)
  t.equal(answer.code, 'Server.ServerProxy.AccessDenied', 'node B refuses')
  t.ok(ms < 5000, `node B enforced it ${Math.round(ms)} ms after the commit`)
  t.equal((await taxCall(a)).code, 'Server.ServerProxy.AccessDenied', 'so does node A')
})

t.test('a version that does not build is not applied: the one before goes on serving', async t => {
  const store = await embeddedStore()
  const rig = await startRig({ registryStore: store })
  t.teardown(async () => { await rig.close(); await store.close() })

  const v2 = await commit(store, editService(TAX_SERVICE, s => { s.adapter.kind = 'ftp' }), 'an adapter kind this node does not have')
  const refused = await rig.gateway.waitForVersion(v2).then(() => undefined, (err: unknown) => err)
  t.type(refused, LiveRegistryError)
  t.equal((refused as LiveRegistryError).code, 'NOT_APPLIED')
  t.match((refused as LiveRegistryError).message, /registry version 2 was not applied: .*unknown adapter kind 'ftp'/s)
  t.equal(rig.gateway.registryVersion(), 1, 'version 1 is still served')
  t.equal((await taxCall(rig)).status, 200, 'and still answers')

  const v3 = await commit(store, c => editService(CIVIL_SOAP, s => { s.xsd = 'http://ura.gov.al/nowhere/v1' })(editService(TAX_SERVICE, s => { s.adapter.kind = 'rest' })(c)), 'the adapter fixed, but an XSD namespace the schema library does not have')
  await t.rejects(rig.gateway.waitForVersion(v3), { code: 'NOT_APPLIED', message: /no XSD in the schema library has targetNamespace http:\/\/ura\.gov\.al\/nowhere\/v1/ })
  t.equal(JSON.parse((await call(`${rig.url}/readyz`)).text).registryVersion, 1)
  t.equal(await metricValue(rig, 'ura_registry_swaps_total{result="failed"}'), 2, 'each failed swap is counted')
  t.equal(await metricValue(rig, 'ura_registry_swaps_total{result="applied"}'), 0)
  t.ok(rig.logs.some(l => /"level":50.*registry version 3 was not applied.*version 1 goes on serving/.test(l)), 'and logged as an error')

  const v4 = await commit(store, c => withoutGrant(TAX_SERVICE)(editService(CIVIL_SOAP, s => { s.xsd = 'http://ura.gov.al/demo/regjistri-civil/v1' })(c)), 'fixed, and the grant withdrawn')
  await rig.gateway.waitForVersion(v4)
  t.equal((await taxCall(rig)).code, 'Server.ServerProxy.AccessDenied', 'the next good version is applied')
  t.equal(await metricValue(rig, 'ura_registry_version'), 4)
  t.equal(await metricValue(rig, 'ura_registry_swaps_total{result="applied"}'), 1)
})

t.test('a swap keeps the adapters of unchanged services (pool and breaker) and closes the replaced ones', async t => {
  const store = await embeddedStore()
  // The tax service points at a closed port, with a breaker that opens at the first failure.
  const rig = await startRig({
    registryStore: store,
    seed: editService(TAX_SERVICE, s => {
      s.adapter.url = 'http://127.0.0.1:9/api/v1'
      s.resilience = { retries: { attempts: 0 }, breaker: { consecutiveFailures: 1, coolDownMs: 600_000 } }
    }),
  })
  t.teardown(async () => { await rig.close(); await store.close() })
  const entry = (service: string) => rig.gateway.context.registry.entries().find(e => `${e.config.provider}/${e.config.code}` === service)!
  t.equal((await taxCall(rig)).code, 'Server.ServerProxy.ServiceFailed.NetworkError')
  t.equal((await taxCall(rig)).code, 'Server.ServerProxy.ServiceFailed.CircuitOpen', 'the breaker is open')
  const tax = entry(TAX_SERVICE)
  const civil = entry(CIVIL_SOAP)

  await rig.gateway.waitForVersion(await commit(store, editService(CIVIL_SOAP, s => { s.timeoutMs = 7000 }), 'another service changes'))
  t.equal(entry(TAX_SERVICE), tax, 'the unchanged service keeps its entry')
  t.equal(entry(TAX_SERVICE).adapter, tax.adapter, 'and its adapter object')
  t.equal((await taxCall(rig)).code, 'Server.ServerProxy.ServiceFailed.CircuitOpen', 'with its breaker still open')
  t.not(entry(CIVIL_SOAP).adapter, civil.adapter, 'the changed service has a new adapter')
  t.equal(entry(CIVIL_SOAP).config.timeoutMs, 7000)
  await sleep(50)
  await t.rejects(civil.adapter.send({ method: 'GET', path: '/', headers: [], body: undefined, timeoutMs: 1000 }), { message: /UND_ERR_(CLOSED|DESTROYED)/ }, 'and its old one is closed')
  const ready = JSON.parse((await call(`${rig.url}/readyz`)).text)
  t.equal(ready.providers[TAX_SERVICE].breaker, 'open', '/readyz shows the surviving breaker')
})
