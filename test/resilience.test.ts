/**
 * The node protecting itself and its providers: bounded concurrency per provider, per-client rate
 * limits, header size/count limits and slow clients, graceful drain (in-process and on SIGTERM),
 * and the Prometheus /metrics output checked with promtool.
 */
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t from 'tap'
import { Agent } from 'undici'
import { Bulkhead, CircuitBreaker, DEFAULT_RESILIENCE } from '../adapters/resilience.ts'
import { ConfigError } from '../config/load.ts'
import { E_ALBANIA, TIRANA_CIVIL, demoConfig, startRig } from './support/gateway.ts'
import { PROVA_REST, PROVA_SOAP_VERSION, faultyServicesYaml, startFaultyProvider } from './support/faulty-provider.ts'
import { call, soapCall, soapEnvelope } from './support/http.ts'

const NODE_EXTRA = `  rateLimits:
    default: { perSecond: 2, burst: 2 }
    clients:
      ${E_ALBANIA}: unlimited
`

/** Sends raw bytes, returns everything the node answers until it closes (or `waitMs`). */
async function raw (url: string, chunks: Array<string | Buffer>, opts: { gapMs?: number; waitMs?: number } = {}): Promise<{ text: string; ms: number; closed: boolean }> {
  const { port } = new URL(url)
  const started = performance.now()
  const socket: Socket = connect(Number(port), '127.0.0.1')
  await once(socket, 'connect')
  let text = ''
  let closed = false
  socket.on('data', d => { text += d.toString('latin1') })
  socket.on('error', () => {})
  const ended = new Promise<void>(resolve => socket.on('close', () => { closed = true; resolve() }))
  for (const c of chunks) {
    if (socket.destroyed) break
    socket.write(c)
    if (opts.gapMs !== undefined) await new Promise(resolve => setTimeout(resolve, opts.gapMs))
  }
  await Promise.race([ended, new Promise(resolve => setTimeout(resolve, opts.waitMs ?? 3000))])
  socket.destroy()
  return { text, ms: performance.now() - started, closed }
}

/** Opens a fresh TCP connection (no pooled keep-alive socket) and reports how it went. */
async function connectResult (url: string): Promise<string> {
  const socket = connect(Number(new URL(url).port), '127.0.0.1')
  try {
    await once(socket, 'connect')
    return 'connected'
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'error'
  } finally {
    socket.destroy()
  }
}

const errorCode = (text: string): string | undefined => /\r\nx-road-error: ([^\r]+)/i.exec(text)?.[1]
const statusOf = (text: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)

t.test('resilience building blocks', async t => {
  await t.test('breaker with a fake clock: open, half-open with one probe, closed', async t => {
    let now = 0
    const b = new CircuitBreaker({ ...DEFAULT_RESILIENCE.breaker, consecutiveFailures: 2, coolDownMs: 1000 }, () => now)
    b.acquire(); b.failure(false)
    b.acquire(); b.failure(false)
    t.equal(b.state, 'open')
    t.throws(() => b.acquire(), { code: 'Server.ServerProxy.ServiceFailed.CircuitOpen', retryAfterSeconds: 1 })
    now = 1000
    t.equal(b.state, 'half-open')
    t.equal(b.acquire(), true, 'the first call is the probe')
    t.throws(() => b.acquire(), { code: 'Server.ServerProxy.ServiceFailed.CircuitOpen' }, 'only one probe at a time')
    b.release(true)
    t.equal(b.acquire(), true, 'a released probe slot can be taken again')
    b.success(true)
    t.equal(b.state, 'closed')
    t.equal(b.acquire(), false)
    t.equal(b.opened, 1)
  })

  await t.test('bulkhead: slots, FIFO queue, refusal, bounded wait', async t => {
    const bh = new Bulkhead(1, 1)
    t.equal(bh.enter(1000), undefined, 'a free slot is taken at once')
    const waiting = bh.enter(1000)
    t.ok(waiting instanceof Promise, 'the second waits')
    t.throws(() => bh.enter(1000), { code: 'Server.ServerProxy.ServiceFailed.Overloaded' }, 'the third is refused')
    bh.leave()
    await waiting
    t.equal(bh.inFlight, 1, 'the slot passed to the waiter')
    const late = bh.enter(30)
    await t.rejects(late!, { code: 'Server.ServerProxy.ServiceFailed.Timeout' }, 'waiting ends at the deadline')
    t.equal(bh.queued, 0)
    bh.leave()
    t.equal(bh.inFlight, 0)
  })
})

t.test('limits at the edge of the node', async t => {
  const provider = await startFaultyProvider()
  t.teardown(() => provider.close())
  const config = await demoConfig(
    {
      'node.yaml': s => s
        .replace('    responseBytes: 10485760  # 10 MiB buffered per provider response\n', '    responseBytes: 10485760\n    headersTimeoutMs: 300\n    requestTimeoutMs: 600\n')
        .replace(/  dataDir: [^\n]*\n/, '  dataDir: ../../data\n' + NODE_EXTRA),
    },
    { 'prova.yaml': faultyServicesYaml(provider.url, { timeoutMs: 2000, resilience: '{ concurrency: { max: 2, queue: 1 } }' }) },
  )
  const rig = await startRig({ config })
  t.teardown(() => rig.close())
  const restUrl = `${rig.url}/r1/${PROVA_REST}/data`

  await t.test('bounded concurrency: 2 in flight, 1 queued, the rest refused at once', async t => {
    provider.fault = 'slow-ok'
    provider.delayMs = 300
    const before = provider.hits
    const answers = await Promise.all(Array.from({ length: 5 }, () => call(restUrl, { headers: { 'X-Road-Client': E_ALBANIA } })))
    const ok = answers.filter(a => a.status === 200)
    const refused = answers.filter(a => a.code === 'Server.ServerProxy.ServiceFailed.Overloaded')
    t.equal(ok.length, 3)
    t.equal(refused.length, 2)
    for (const r of refused) {
      t.equal(r.status, 503)
      t.ok(r.ms < 250, `refused without waiting (${Math.round(r.ms)} ms)`)
    }
    t.equal(provider.hits - before, 3, 'never more than allowed reached the provider')
    provider.fault = 'ok'
  })

  await t.test('per-client rate limit: 429 with Retry-After on REST and SOAP, other clients unaffected', async t => {
    const headers = { 'X-Road-Client': TIRANA_CIVIL }
    t.equal((await call(restUrl, { headers })).status, 200)
    t.equal((await call(restUrl, { headers })).status, 200)
    const before = provider.hits
    const limited = await call(restUrl, { headers })
    t.equal(limited.status, 429)
    t.equal(limited.code, 'Client.RateLimitExceeded')
    t.equal(limited.headers['retry-after'], '1')
    t.match(JSON.parse(limited.text), { type: 'Client.RateLimitExceeded', detail: limited.headers['x-road-request-id'] })
    const soap = await soapCall(rig.url, soapEnvelope({ version: PROVA_SOAP_VERSION }))
    t.equal(soap.status, 429, 'SOAP: 429 too (the bucket is per client, across protocols)')
    t.equal(soap.code, 'Client.RateLimitExceeded')
    t.equal(soap.headers['retry-after'], '1')
    t.equal(provider.hits, before, 'nothing limited reached the provider')
    for (let i = 0; i < 6; i++) t.equal((await call(restUrl, { headers: { 'X-Road-Client': E_ALBANIA } })).status, 200, 'an unlimited client is never limited')
    await new Promise(resolve => setTimeout(resolve, 550))
    t.equal((await call(restUrl, { headers })).status, 200, 'a token comes back after 1/rate seconds')
  })

  await t.test('header count over the limit', async t => {
    const headers: Record<string, string> = { 'X-Road-Client': E_ALBANIA }
    for (let i = 0; i < 100; i++) headers[`x-pad-${i}`] = 'v'
    const before = provider.hits
    const r = await call(restUrl, { headers })
    t.equal(r.status, 431)
    t.equal(r.code, 'Client.RequestHeaderTooLarge')
    t.equal(provider.hits, before)
  })

  await t.test('header block over the size limit is refused by the parser, typed', async t => {
    const r = await raw(rig.url, [`GET /r1/${PROVA_REST}/data HTTP/1.1\r\nHost: x\r\nX-Road-Client: ${E_ALBANIA}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`])
    t.equal(statusOf(r.text), 431)
    t.equal(errorCode(r.text), 'Client.RequestHeaderTooLarge')
    t.ok(r.closed, 'the connection is closed')
  })

  await t.test('a client dripping its headers gets 408 after headersTimeoutMs', async t => {
    const drip = [`GET /healthz HTTP/1.1\r\nHost: x\r\n`, ...Array.from({ length: 30 }, (_, i) => `X-${i}: y\r\n`)]
    const r = await raw(rig.url, drip, { gapMs: 50 })
    t.equal(statusOf(r.text), 408)
    t.equal(errorCode(r.text), 'Client.RequestTimeout')
    t.ok(r.ms < 1200, `cut off after ${Math.round(r.ms)} ms`)
  })

  await t.test('a client dripping its body gets 408 after requestTimeoutMs', async t => {
    const before = provider.hits
    const head = `POST /r1/${PROVA_REST}/data HTTP/1.1\r\nHost: x\r\nX-Road-Client: ${E_ALBANIA}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`
    const r = await raw(rig.url, [head, ...Array.from({ length: 40 }, () => ' ')], { gapMs: 50 })
    t.equal(statusOf(r.text), 408)
    t.equal(errorCode(r.text), 'Client.RequestTimeout')
    t.ok(r.ms < 1500, `cut off after ${Math.round(r.ms)} ms`)
    t.equal(provider.hits, before)
  })

  await t.test('metrics: exchanges by client/service/outcome/code, latencies, breakers, feeds; promtool accepts them', async t => {
    // A forged client id must not become a label.
    await call(restUrl, { headers: { 'X-Road-Client': 'AL-DEV/GOV/FORGED123/x' } })

    const res = await call(`${rig.url}/metrics`)
    t.equal(res.status, 200)
    t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
    const text = res.text
    const line = (re: RegExp): number => Number(new RegExp(`^${re.source} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
    t.ok(line(/ura_exchanges_total\{protocol="rest",client="AL-DEV\/GOV\/K11503002N\/e-albania",service="AL-DEV\/NJQV\/L21603004L\/taksat-vendore\/provaRest",outcome="ok",code="none"\}/) >= 9, 'ok exchanges of e-Albania')
    t.equal(line(/ura_exchanges_total\{protocol="rest",client="AL-DEV\/NJQV\/L21603004L\/gjendja-civile",service="AL-DEV\/NJQV\/L21603004L\/taksat-vendore\/provaRest",outcome="rejected",code="Client.RateLimitExceeded"\}/), 1)
    t.equal(line(/ura_exchanges_total\{protocol="soap",client="AL-DEV\/NJQV\/L21603004L\/gjendja-civile",service="AL-DEV\/GOV\/L01417001D\/regjistri-civil\/kerkoShtetas\/v9",outcome="rejected",code="Client.RateLimitExceeded"\}/), 1)
    t.equal(line(/ura_exchanges_total\{protocol="rest",client="AL-DEV\/GOV\/K11503002N\/e-albania",service="AL-DEV\/NJQV\/L21603004L\/taksat-vendore\/provaRest",outcome="failed",code="Server.ServerProxy.ServiceFailed.Overloaded"\}/), 2)
    t.equal(line(/ura_exchanges_total\{protocol="rest",client="unidentified",service="unresolved",outcome="rejected",code="Client.InvalidClientIdentifier"\}/), 1)
    t.notMatch(text, 'FORGED123', 'forged ids never become labels')
    t.ok(line(/ura_client_errors_total\{code="Client.RequestTimeout"\}/) >= 2, 'parser-level refusals are counted')
    t.equal(line(/ura_breaker_state\{service="AL-DEV\/NJQV\/L21603004L\/taksat-vendore\/provaRest"\}/), 0)
    t.ok(line(/ura_provider_duration_seconds_count\{service="AL-DEV\/NJQV\/L21603004L\/taksat-vendore\/provaRest"\}/) >= 9, 'provider time')
    t.ok(line(/ura_gateway_duration_seconds_count\{protocol="rest"\}/) >= 9, 'gateway time, separately')
    t.ok(line(/ura_exchange_duration_seconds_bucket\{le="\+Inf",protocol="rest",outcome="ok"\}/) >= 9)
    t.match(text, /^process_resident_memory_bytes \d+/m, 'process metrics')

    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
    if (check.error !== undefined) t.fail(`promtool is needed for this test (Debian package 'prometheus'): ${check.error.message}`)
    t.equal(check.status, 0, `promtool check metrics: ${check.stdout}${check.stderr}`)
  })
})

t.test('rate limits may only name registered clients', async t => {
  const err = await demoConfig({ 'node.yaml': s => s.replace(/  dataDir: [^\n]*\n/, '  dataDir: ../../data\n  rateLimits:\n    clients:\n      AL-DEV/GOV/NOBODY/x: { perSecond: 1 }\n') }).catch((e: unknown) => e)
  t.ok(err instanceof ConfigError, 'the configuration is refused')
  t.match((err as Error).message, /node\.rateLimits\.clients\.AL-DEV\/GOV\/NOBODY\/x: .*not a registered/)
})

t.test('graceful drain', async t => {
  const provider = await startFaultyProvider('slow-ok')
  t.teardown(() => provider.close())
  provider.delayMs = 600
  const config = await demoConfig(
    { 'node.yaml': s => s.replace(/  dataDir: [^\n]*\n/, '  dataDir: ../../data\n  shutdown: { drainDelayMs: 300, graceMs: 5000 }\n') },
    { 'prova.yaml': faultyServicesYaml(provider.url, { timeoutMs: 3000 }) },
  )
  const rig = await startRig({ config })
  const restUrl = `${rig.url}/r1/${PROVA_REST}/data`

  const inFlight = call(restUrl, { headers: { 'X-Road-Client': E_ALBANIA } })
  await new Promise(resolve => setTimeout(resolve, 100))
  const closing = rig.close()
  const during = await call(`${rig.url}/readyz`)
  t.equal(during.status, 503, 'readyz is 503 while draining')
  t.equal(JSON.parse(during.text).status, 'draining')
  await new Promise(resolve => setTimeout(resolve, 350))
  t.equal(await connectResult(rig.url), 'ECONNREFUSED', 'new connections are refused after the drain delay')
  const done = await inFlight
  t.equal(done.status, 200, 'the exchange in flight completed')
  t.match(JSON.parse(done.text), { ok: true })
  await closing
})

t.test('exchanges past the grace period are cut off', async t => {
  const provider = await startFaultyProvider('hang')
  t.teardown(() => provider.close())
  const config = await demoConfig(
    { 'node.yaml': s => s.replace(/  dataDir: [^\n]*\n/, '  dataDir: ../../data\n  shutdown: { drainDelayMs: 0, graceMs: 200 }\n') },
    { 'prova.yaml': faultyServicesYaml(provider.url, { timeoutMs: 10000 }) },
  )
  const rig = await startRig({ config })
  const inFlight = call(`${rig.url}/r1/${PROVA_REST}/data`, { headers: { 'X-Road-Client': E_ALBANIA } }).catch((err: Error) => err)
  await new Promise(resolve => setTimeout(resolve, 100))
  const started = performance.now()
  await rig.close()
  const ms = performance.now() - started
  t.ok(ms < 2000, `close returned after ${Math.round(ms)} ms`)
  t.ok((await inFlight) instanceof Error, 'the hanging exchange was cut')
})

t.test('SIGTERM drains a running node: the exchange in flight completes, then the process exits 0', async t => {
  const provider = await startFaultyProvider('slow-ok')
  t.teardown(() => provider.close())
  provider.delayMs = 700
  const dataDir = await mkdtemp(join(tmpdir(), 'ura-data-'))
  const config = await demoConfig(
    { 'node.yaml': s => s.replace(/    port: 8443[^\n]*\n/, '    port: 0\n').replace(/  dataDir: [^\n]*\n/, `  dataDir: ${dataDir}\n`) },
    { 'prova.yaml': faultyServicesYaml(provider.url, { timeoutMs: 3000 }) },
  )
  // The node serves HTTPS with its own PKI; e-Albania is a `connection: http` client in the test
  // configuration, so it may call without a client certificate.
  const init = spawnSync(process.execPath, [resolve(import.meta.dirname, '../cli/main.ts'), 'init', '--config', config.dir], { encoding: 'utf8', timeout: 60_000 })
  t.equal(init.status, 0, init.stderr)
  const insecure = new Agent({ connect: { rejectUnauthorized: false } })
  t.teardown(() => insecure.close())
  const child = spawn(process.execPath, [resolve(import.meta.dirname, '../cli/main.ts'), 'start', '--config', config.dir], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let out = ''
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', d => {
      out += d.toString()
      const m = /"msg":"Server listening at (https:\/\/127\.0\.0\.1:\d+)"/.exec(out)
      if (m !== null) resolve(m[1])
    })
    child.once('exit', code => reject(new Error(`node exited early (${code}): ${out}`)))
  })
  const inFlight = call(`${url}/r1/${PROVA_REST}/data`, { headers: { 'X-Road-Client': E_ALBANIA }, dispatcher: insecure })
  await new Promise(resolve => setTimeout(resolve, 200))
  child.kill('SIGTERM')
  const [code] = await once(child, 'exit')
  const done = await inFlight
  t.equal(done.status, 200, 'the exchange in flight completed')
  t.equal(code, 0, 'exit code 0')
  t.match(out, /draining: finishing exchanges in flight/)
  t.equal(await connectResult(url), 'ECONNREFUSED')
})
