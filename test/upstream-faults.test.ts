/**
 * Providers that fail: reset, hang, drip, 5xx, malformed, oversize, close mid-response. Each ends
 * in a typed error (or a pass-through where the provider answered), within the service timeout
 * plus a small margin. Retries happen only for idempotent methods on connection failures, never
 * for SOAP unless configured. The circuit breaker opens, fails fast, half-opens and recovers.
 */
import t, { type Test } from 'tap'
import { E_ALBANIA, TIRANA_CIVIL, demoConfig, startRig, type Rig } from './support/gateway.ts'
import { PROVA_REST, PROVA_SOAP_VERSION, faultyServicesYaml, startFaultyProvider, type Fault, type FaultyProvider } from './support/faulty-provider.ts'
import { call, soapCall, soapEnvelope, type Answer } from './support/http.ts'

const TIMEOUT = 400
/** Room for scheduling on a busy shared machine; the point is "not much longer than the timeout". */
const MARGIN = 400

async function faultRig (t: Test, provider: FaultyProvider, resilience: string, timeoutMs = TIMEOUT): Promise<Rig> {
  const config = await demoConfig(
    { 'node.yaml': s => s.replace('responseBytes: 10485760', 'responseBytes: 65536') },
    { 'prova.yaml': faultyServicesYaml(provider.url, { timeoutMs, resilience }) },
  )
  const rig = await startRig({ config })
  t.teardown(() => rig.close())
  return rig
}

const rest = (rig: Rig, method = 'GET'): Promise<Answer> =>
  call(`${rig.url}/r1/${PROVA_REST}/data`, { method, headers: { 'X-Road-Client': E_ALBANIA, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) }, ...(method === 'POST' ? { body: '{}' } : {}) })
const soap = (rig: Rig): Promise<Answer> => soapCall(rig.url, soapEnvelope({ version: PROVA_SOAP_VERSION }))

t.test('each upstream fault ends in a typed error within the timeout', async t => {
  const provider = await startFaultyProvider()
  t.teardown(() => provider.close())
  // Breaker out of the way here: this test is about single exchanges.
  const rig = await faultRig(t, provider, '{ retries: { backoffMs: 5, maxBackoffMs: 20 }, breaker: { enabled: false } }')

  const cases: Array<{ fault: Fault; restCode: string | undefined; restStatus: number; restHits: number; soapCode: string | undefined }> = [
    // GET is idempotent: a reset is tried 1 + 2 times. SOAP is never repeated.
    { fault: 'reset', restCode: 'Server.ServerProxy.ServiceFailed.NetworkError', restStatus: 500, restHits: 3, soapCode: 'Server.ServerProxy.ServiceFailed.NetworkError' },
    { fault: 'hang', restCode: 'Server.ServerProxy.ServiceFailed.Timeout', restStatus: 500, restHits: 1, soapCode: 'Server.ServerProxy.ServiceFailed.Timeout' },
    { fault: 'drip', restCode: 'Server.ServerProxy.ServiceFailed.Timeout', restStatus: 500, restHits: 1, soapCode: 'Server.ServerProxy.ServiceFailed.Timeout' },
    // A provider's own 5xx is its answer: passed through, no X-Road-Error (SOAP: not a SOAP message).
    { fault: 'status500', restCode: undefined, restStatus: 500, restHits: 1, soapCode: 'Server.ServerProxy.ServiceFailed.InvalidSoap' },
    { fault: 'status503', restCode: undefined, restStatus: 503, restHits: 1, soapCode: 'Server.ServerProxy.ServiceFailed.InvalidSoap' },
    { fault: 'malformed', restCode: 'Server.ServerProxy.InvalidResponse', restStatus: 502, restHits: 1, soapCode: 'Server.ServerProxy.ServiceFailed.InvalidSoap' },
    { fault: 'oversize', restCode: 'Server.ServerProxy.ServiceFailed.IOError', restStatus: 500, restHits: 1, soapCode: 'Server.ServerProxy.ServiceFailed.IOError' },
    { fault: 'close-mid', restCode: 'Server.ServerProxy.ServiceFailed.NetworkError', restStatus: 500, restHits: 3, soapCode: 'Server.ServerProxy.ServiceFailed.NetworkError' },
  ]
  for (const c of cases) {
    await t.test(c.fault, async t => {
      provider.fault = c.fault
      let before = provider.hits
      const r = await rest(rig)
      t.equal(r.status, c.restStatus, `REST: HTTP ${c.restStatus}`)
      t.equal(r.code, c.restCode, `REST: ${c.restCode ?? 'no X-Road-Error'}`)
      t.equal(provider.hits - before, c.restHits, `REST: ${c.restHits} attempt(s) reached the provider`)
      t.ok(r.ms < TIMEOUT + MARGIN, `REST answered in ${Math.round(r.ms)} ms`)
      if (c.restCode !== undefined) t.match(JSON.parse(r.text), { type: c.restCode, detail: r.headers['x-road-request-id'] })

      before = provider.hits
      const s = await soap(rig)
      t.equal(s.status, 500, 'SOAP: HTTP 500')
      t.equal(s.code, c.soapCode, `SOAP: ${c.soapCode}`)
      t.equal(provider.hits - before, 1, 'SOAP: exactly one attempt')
      t.ok(s.ms < TIMEOUT + MARGIN, `SOAP answered in ${Math.round(s.ms)} ms`)
    })
  }

  await t.test('POST is not repeated after a reset', async t => {
    provider.fault = 'reset'
    const before = provider.hits
    const r = await rest(rig, 'POST')
    t.equal(r.code, 'Server.ServerProxy.ServiceFailed.NetworkError')
    t.equal(provider.hits - before, 1)
  })

  await t.test('a GET that fails once succeeds on the retry', async t => {
    const start = provider.hits
    provider.fault = hit => hit === start + 1 ? 'reset' : 'ok'
    const r = await rest(rig)
    t.equal(r.status, 200)
    t.match(JSON.parse(r.text), { ok: true, hit: start + 2 })
  })

  await t.test('the node is up and serves good requests after all that', async t => {
    provider.fault = 'ok'
    t.equal((await rest(rig)).status, 200)
    t.equal((await soap(rig)).status, 200)
    t.notOk(rig.logs.some(l => l.includes('Server.ClientProxy.InternalError')), 'no internal errors')
  })
})

t.test('SOAP is retried when the service says so', async t => {
  const provider = await startFaultyProvider()
  t.teardown(() => provider.close())
  const rig = await faultRig(t, provider, '{ retries: { soap: true, backoffMs: 5 }, breaker: { enabled: false } }', 3000)
  const start = provider.hits
  provider.fault = hit => hit === start + 1 ? 'reset' : 'ok'
  const s = await soap(rig)
  t.equal(s.status, 200, `answered ${s.status} ${s.code ?? ''}`)
  t.equal(provider.hits - start, 2, 'one reset, one success')
})

t.test('the circuit breaker opens, fails fast, half-opens and recovers', async t => {
  const provider = await startFaultyProvider('status503')
  t.teardown(() => provider.close())
  const rig = await faultRig(t, provider, '{ retries: { attempts: 0 }, breaker: { consecutiveFailures: 3, coolDownMs: 400 } }')
  const readyz = async (): Promise<Record<string, { breaker: string; consecutiveFailures: number }>> => JSON.parse((await call(`${rig.url}/readyz`)).text).providers

  t.equal((await readyz())[PROVA_REST].breaker, 'closed')
  t.same(rig.gateway.breakers(), [], 'no breaker open for the admin API to show')
  const before = Date.now()
  for (let i = 0; i < 3; i++) t.equal((await rest(rig)).status, 503, `failure ${i + 1} passes through`)
  t.equal((await readyz())[PROVA_REST].breaker, 'open', 'open after 3 consecutive failures')
  const open = rig.gateway.breakers()
  t.same(open.map(b => [b.service, b.state]), [[PROVA_REST, 'open']], 'the open breaker, as the admin API shows it')
  const since = Date.parse(open[0].since!)
  t.ok(since >= before - 5 && since <= Date.now() + 5, `since it opened (${open[0].since})`)
  t.equal((await readyz())[`AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas/${PROVA_SOAP_VERSION}`].breaker, 'closed', 'one breaker per provider service')

  const hits = provider.hits
  const fast = await rest(rig)
  t.equal(fast.status, 503)
  t.equal(fast.code, 'Server.ServerProxy.ServiceFailed.CircuitOpen')
  t.ok(Number(fast.headers['retry-after']) >= 1, 'Retry-After is set')
  t.ok(fast.ms < 100, `failed fast (${Math.round(fast.ms)} ms)`)
  t.equal(provider.hits, hits, 'nothing reached the provider while open')

  await new Promise(resolve => setTimeout(resolve, 450))
  t.equal((await readyz())[PROVA_REST].breaker, 'half-open', 'half-open after the cool-down')
  t.same(rig.gateway.breakers().map(b => [b.service, b.state, b.since]), [[PROVA_REST, 'half-open', open[0].since]], 'half-open, since it opened')
  t.equal((await rest(rig)).status, 503, 'the probe fails')
  t.equal(provider.hits, hits + 1, 'exactly one probe reached the provider')
  t.equal((await readyz())[PROVA_REST].breaker, 'open', 'open again')

  provider.fault = 'ok'
  await new Promise(resolve => setTimeout(resolve, 450))
  t.equal((await rest(rig)).status, 200, 'the probe succeeds')
  t.equal((await readyz())[PROVA_REST].breaker, 'closed', 'closed again')
  t.equal((await rest(rig)).status, 200)

  await t.test('SOAP faults open the breaker too: timeouts count as failures', async t => {
    provider.fault = 'hang'
    const svc = `AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas/${PROVA_SOAP_VERSION}`
    for (let i = 0; i < 3; i++) t.equal((await soap(rig)).code, 'Server.ServerProxy.ServiceFailed.Timeout')
    t.equal((await readyz())[svc].breaker, 'open')
    const s = await soap(rig)
    t.equal(s.code, 'Server.ServerProxy.ServiceFailed.CircuitOpen')
    t.ok(s.ms < 100, `failed fast (${Math.round(s.ms)} ms)`)
    t.equal((await readyz())[PROVA_REST].breaker, 'closed', 'the REST provider is not affected')
  })
})

t.test('a failure rate opens the breaker even between successes', async t => {
  const provider = await startFaultyProvider()
  t.teardown(() => provider.close())
  const rig = await faultRig(t, provider, '{ retries: { attempts: 0 }, breaker: { consecutiveFailures: 100, failureRate: 0.5, window: 10, minimumRequests: 6 } }')
  provider.fault = hit => hit % 2 === 0 ? 'status503' : 'ok'
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) statuses.push((await rest(rig)).status)
  t.same(statuses, [200, 503, 200, 503, 200, 503])
  const r = await rest(rig)
  t.equal(r.code, 'Server.ServerProxy.ServiceFailed.CircuitOpen', '3 of 6 failed: open')
})
