/**
 * The node protecting itself and its providers: bounded concurrency per provider, per-client rate
 * limits, header size/count limits and slow clients, graceful drain (in-process and on SIGTERM),
 * and the Prometheus /metrics output: read strictly (two independent readers must agree), with the
 * exact series this file's traffic makes. promtool itself runs in `npm run conformance`.
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
import { CIVIL_SERVICE, E_ALBANIA, TIRANA_CIVIL, demoConfig, startRig } from './support/gateway.ts'
import { PROVA_REST, PROVA_SOAP_VERSION, faultyServicesYaml, startFaultyProvider } from './support/faulty-provider.ts'
import { call, soapCall, soapEnvelope } from './support/http.ts'
import { FED, PLANTED_FAULTS, PROMISED_FAMILIES, feedGauges, promisedFamilyProblems, documentedMetricNames } from './support/metrics.ts'
import { labelKey, readExposition, sampleValue, seriesOf, type Exposition } from './support/prometheus.ts'

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

  await t.test('metrics: exchanges by client/service/outcome/code, latencies, breakers, queue and certificate gauges; a well-formed exposition', async t => {
    // A forged client id must not become a label.
    await call(restUrl, { headers: { 'X-Road-Client': 'AL-DEV/GOV/FORGED123/x' } })
    feedGauges(rig.gateway.context.metrics)

    const res = await call(`${rig.url}/metrics`)
    t.equal(res.status, 200)
    t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
    const text = res.text
    const exp = readExposition(text)
    t.same(exp.problems, [], 'well formed, and parse-prometheus-text-format reads the same families and samples')
    t.same(promisedFamilyProblems(exp), [], 'every family docs/metrics.md promises is there with its TYPE, help text and label names')
    t.same(documentedMetricNames(), Object.keys(PROMISED_FAMILIES).filter(n => n.startsWith('ura_')).sort(), 'the promised list is the one in docs/metrics.md')
    t.same([...exp.families.keys()].filter(n => n.startsWith('ura_')).sort(), documentedMetricNames(), 'and no ura_* family the page does not list')

    // Exactly the exchanges this file made on this node, each counted once.
    const soapV9 = `${CIVIL_SERVICE}/${PROVA_SOAP_VERSION}`
    const exchanges: Array<[Record<string, string>, number]> = [
      // 3 let through by the bulkhead + 6 calls of the unlimited client.
      [{ protocol: 'rest', client: E_ALBANIA, service: PROVA_REST, outcome: 'ok', code: 'none' }, 9],
      [{ protocol: 'rest', client: E_ALBANIA, service: PROVA_REST, outcome: 'failed', code: 'Server.ServerProxy.ServiceFailed.Overloaded' }, 2],
      // 2 within the burst + 1 once a token came back.
      [{ protocol: 'rest', client: TIRANA_CIVIL, service: PROVA_REST, outcome: 'ok', code: 'none' }, 3],
      [{ protocol: 'rest', client: TIRANA_CIVIL, service: PROVA_REST, outcome: 'rejected', code: 'Client.RateLimitExceeded' }, 1],
      [{ protocol: 'soap', client: TIRANA_CIVIL, service: soapV9, outcome: 'rejected', code: 'Client.RateLimitExceeded' }, 1],
      // The forged id.
      [{ protocol: 'rest', client: 'unidentified', service: 'unresolved', outcome: 'rejected', code: 'Client.InvalidClientIdentifier' }, 1],
    ]
    t.same(Object.fromEntries(seriesOf(exp, 'ura_exchanges_total')), Object.fromEntries(exchanges.map(([l, n]) => [labelKey(l), n])), 'ura_exchanges_total: these series, these counts, nothing else')
    t.notMatch(text, 'FORGED123', 'forged ids never become labels')

    // Histograms: observation counts per label set (label sets bound but never observed stay at 0).
    const counts = (family: string): Record<string, number> => Object.fromEntries(exp.families.get(family)!.histograms.filter(h => h.count !== 0).map(h => [labelKey(h.labels), h.count!]))
    const perOutcome: Record<string, number> = {}
    for (const [l, n] of exchanges) {
      const key = labelKey({ protocol: l.protocol, outcome: l.outcome })
      perOutcome[key] = (perOutcome[key] ?? 0) + n
    }
    t.same(counts('ura_exchange_duration_seconds'), perOutcome, 'one exchange duration per exchange, by protocol and outcome (12 rest ok, 2 rest failed, 2 rest rejected, 1 soap rejected)')
    t.same(counts('ura_gateway_duration_seconds'), { [labelKey({ protocol: 'rest' })]: 12 }, "the node's own share, for the 12 exchanges that reached the provider")
    t.same(counts('ura_provider_duration_seconds'), { [labelKey({ service: PROVA_REST })]: 12 }, 'provider time, for the same 12')
    for (const family of ['ura_exchange_duration_seconds', 'ura_gateway_duration_seconds', 'ura_provider_duration_seconds']) {
      for (const h of exp.families.get(family)!.histograms) {
        t.ok(h.count === 0 ? h.sum === 0 : h.sum! > 0, `${family}${labelKey(h.labels)}: _sum ${h.sum} fits _count ${h.count}`)
      }
    }
    // The 3 exchanges the bulkhead let through waited 300 ms each at the provider.
    const provider = exp.families.get('ura_provider_duration_seconds')!.histograms.find(h => h.labels.service === PROVA_REST)!
    t.ok(provider.sum! >= 0.9, `provider time adds up to at least 3 × 300 ms (${provider.sum})`)
    t.ok(provider.buckets.find(([le]) => le === 0.25)![1] <= 9, 'and those 3 lie above the 0.25 s bucket')

    // Parser-level refusals: the 2 over the header limits and the 2 dripping clients. (Bytes a
    // dripping client still sends after its 408 may add Client.BadRequest, depending on timing.)
    t.equal(sampleValue(exp, 'ura_client_errors_total', { code: 'Client.RequestHeaderTooLarge' }), 2, 'header count and header block over the limit')
    t.equal(sampleValue(exp, 'ura_client_errors_total', { code: 'Client.RequestTimeout' }), 2, 'the two dripping clients')
    const clientCodes = exp.families.get('ura_client_errors_total')!.samples.map(s => s.labels.code)
    t.ok(clientCodes.every(c => ['Client.RequestHeaderTooLarge', 'Client.RequestTimeout', 'Client.BadRequest'].includes(c)), `no other parser refusal (${clientCodes.join(', ')})`)

    // One series per configured service, all at rest: breakers closed, nothing in flight or queued, no retries.
    const atRest = Object.fromEntries(config.services.map(s => [labelKey({ service: [s.provider, s.code, ...(s.version === undefined ? [] : [s.version])].join('/') }), 0]))
    t.equal(Object.keys(atRest).length, 4, 'the demo services and the two test services')
    for (const family of ['ura_breaker_state', 'ura_provider_in_flight', 'ura_provider_queued', 'ura_provider_retries_total']) {
      t.same(Object.fromEntries(seriesOf(exp, family)), atRest, `${family}: every configured service, at 0`)
    }

    // What feedGauges pushed, and nothing else.
    t.same(Object.fromEntries(seriesOf(exp, 'ura_queue_depth')), { [labelKey({ queue: 'log' })]: FED.queues.log, [labelKey({ queue: 'signer' })]: FED.queues.signer })
    const { notAfter: _notAfter, ...certificate } = FED.certificate
    t.same(Object.fromEntries(seriesOf(exp, 'ura_certificate_expiry_timestamp_seconds')), { [labelKey(certificate)]: Date.UTC(2027, 0, 1) / 1000 }, 'the certificate fed in; the removed one is gone')
    t.notMatch(text, `serial="${FED.removed.serial}"`, 'a removed certificate is gone')
    t.ok(sampleValue(exp, 'process_resident_memory_bytes', {})! > 0, 'process metrics')

    // The reader is only worth something if it refuses broken output: plant each fault in this text.
    for (const fault of PLANTED_FAULTS) {
      const broken = fault.plant(text)
      t.not(broken, text, `${fault.what}: planted`)
      const found: Exposition = readExposition(broken)
      t.match(found.problems.join('\n'), fault.found, `${fault.what}: found`)
    }
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
    { 'node.yaml': s => s.replace(/    port: 8443[^\n]*\n/, '    port: 0\n').replace(/port: 8444/, 'port: 0').replace(/  dataDir: [^\n]*\n/, `  dataDir: ${dataDir}\n`) },
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
  const exited = once(child, 'exit')
  const done = await inFlight
  const answered = Date.now()
  const [code] = await exited
  const exitMs = Date.now() - answered
  t.equal(done.status, 200, 'the exchange in flight completed')
  t.equal(code, 0, 'exit code 0')
  // The client's connection stays alive after its answer: the node closes it rather than waiting out the grace period (30 s).
  t.ok(exitMs < 10_000, `exited ${exitMs} ms after the exchange in flight was answered`)
  t.match(out, /draining: finishing exchanges in flight/)
  t.equal(await connectResult(url), 'ECONNREFUSED')
})
