import { createHash } from 'node:crypto'
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http'
import { once } from 'node:events'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { demoConfig, DURRES_SOCIAL, E_ALBANIA, startRig, TAX_SERVICE, TIRANA_CIVIL, type Rig } from './support/gateway.ts'
import { FAILING_NIPT, MALFORMED_NIPT } from '../demo/tax-office-data.ts'

const TAX = `/r1/${TAX_SERVICE}`

/**
 * Sends the request target exactly as written (node:http, unlike WHATWG URL clients, does not
 * resolve dot segments) with headers in the given order.
 */
async function call (rig: Rig, path: string, headers: Record<string, string> | string[] = {}, init: { method?: string; body?: string } = {}) {
  const { port } = new URL(rig.url)
  const req = httpRequest({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: headers as any, agent: false })
  req.end(init.body)
  const [res] = await once(req, 'response') as [IncomingMessage]
  const chunks: Buffer[] = []
  for await (const c of res) chunks.push(c as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  return { status: res.statusCode!, headers: res.headers, text, json: () => JSON.parse(text) }
}

async function expectError (t: Test, rig: Rig, path: string, headers: Record<string, string>, code: string, status: number, init: { method?: string; body?: string } = {}) {
  const res = await call(rig, path, headers, init)
  t.equal(res.status, status, `${code}: HTTP ${status}`)
  t.equal(res.headers['x-road-error'], code, `${code}: X-Road-Error header`)
  const body = res.json()
  t.equal(body.type, code)
  t.type(body.message, 'string')
  t.equal(body.detail, res.headers['x-road-request-id'], 'detail points to the logged event')
  return body
}

/** A provider that records what it received and answers with what the test says. */
async function startEchoProvider (answer: (req: IncomingMessage, body: Buffer) => { status: number; headers?: Record<string, string>; body: string } | undefined) {
  const seen: Array<{ req: IncomingMessage; body: Buffer }> = []
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = Buffer.concat(chunks)
    seen.push({ req, body })
    const a = answer(req, body)
    if (a === undefined) return // hang
    res.writeHead(a.status, a.headers ?? { 'content-type': 'application/json' })
    res.end(a.body)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  return { url: `http://127.0.0.1:${port}/base`, seen, close: () => { server.closeAllConnections(); return new Promise<void>(r => server.close(() => r())) } }
}

t.test('a deny grant wins over an allow, for the endpoints it covers', async t => {
  const config = await demoConfig({
    'access.yaml': text => text + `
  - service: AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet
    effect: deny
    clients: [AL-DEV/GOV/K11503002N/e-albania]
    endpoints:
      - { method: GET, path: /qytetare/** }
`,
  })
  const rig = await startRig({ config })
  t.teardown(() => rig.close())
  const allowed = await call(rig, `${TAX}/subjekte/K81305012I/detyrime`, { 'X-Road-Client': E_ALBANIA })
  t.equal(allowed.status, 200, 'the allow still covers what the deny does not')
  await expectError(t, rig, `${TAX}/qytetare/J00101001A/detyrime`, { 'X-Road-Client': E_ALBANIA }, 'Server.ServerProxy.AccessDenied', 403)
})

t.test('demo REST exchange', async t => {
  const rig = await startRig()
  t.teardown(() => rig.close())

  t.test('happy path returns the provider data with the evidence headers', async t => {
    const res = await call(rig, `${TAX}/subjekte/K81305012I/detyrime?viti=2026`, { 'X-Road-Client': E_ALBANIA, 'X-Road-Id': 'msg-001', 'X-Road-UserId': 'AL-I50314123V', 'X-Road-Issue': 'CASE-7' })
    t.equal(res.status, 200)
    const body = res.json()
    t.equal(body.subjekti.emri, 'Furra e Bukës "Çajupi" sh.p.k.')
    t.equal(body.totaliPapaguar, 42750.5)
    t.equal(res.headers['x-road-id'], 'msg-001')
    t.equal(res.headers['x-road-client'], E_ALBANIA)
    t.equal(res.headers['x-road-service'], TAX_SERVICE)
    t.match(res.headers['x-road-request-id'], /^[0-9a-f-]{36}$/)
    t.equal(res.headers['x-road-error'], undefined)
  })

  t.test('a message id is made when the client sends none', async t => {
    const res = await call(rig, `${TAX}/qytetare/I50314123V/detyrime`, { 'X-Road-Client': E_ALBANIA })
    t.equal(res.status, 200)
    t.match(res.headers['x-road-id'], /^[0-9a-f-]{36}$/)
  })

  t.test('denied and allowed by the grants', async t => {
    await expectError(t, rig, `${TAX}/subjekte/K81305012I/detyrime`, { 'X-Road-Client': DURRES_SOCIAL }, 'Server.ServerProxy.AccessDenied', 403)
    // e-Albania's grant covers GET endpoints only.
    await expectError(t, rig, `${TAX}/pagesa`, { 'X-Road-Client': E_ALBANIA, 'content-type': 'application/json' }, 'Server.ServerProxy.AccessDenied', 403, { method: 'POST', body: '{}' })
    // A granted client of another service is denied here.
    await expectError(t, rig, `${TAX}/subjekte/K81305012I/detyrime`, { 'X-Road-Client': TIRANA_CIVIL }, 'Server.ServerProxy.AccessDenied', 403)
  })

  t.test('identification errors', async t => {
    await expectError(t, rig, `${TAX}/subjekte/K81305012I/detyrime`, {}, 'Client.MissingHeader', 400)
    await expectError(t, rig, `${TAX}/subjekte/K81305012I/detyrime`, { 'X-Road-Client': 'AL-DEV/GOV/K11503002N' + '/e_albania' }, 'Client.InvalidClientIdentifier', 400)
    await expectError(t, rig, `${TAX}/subjekte/K81305012I/detyrime`, { 'X-Road-Client': 'AL-DEV/GOV' }, 'Client.InvalidClientIdentifier', 400)
    await expectError(t, rig, `${TAX}/subjekte/K81305012I/detyrime`, { 'X-Road-Client': 'AL-DEV/GOV/K11503002N/e%20albania' }, 'Client.InvalidClientIdentifier', 400)
    await expectError(t, rig, `${TAX}/subjekte/K81305012I/detyrime`, { 'X-Road-Client': 'AL-DEV/GOV/K11503002N/e%2Falbania' }, 'Client.InvalidClientIdentifier', 400)
    await expectError(t, rig, `${TAX}/subjekte/K81305012I/detyrime`, { 'X-Road-Client': 'AL-DEV/GOV/K11503002N/portali' }, 'Client.InvalidClientIdentifier', 400)
    await expectError(t, rig, `${TAX}/subjekte/K81305012I/detyrime`, { 'X-Road-Client': 'AL/GOV/K11503002N/e-albania' }, 'Client.InvalidClientIdentifier', 400)
    // A subsystem registered for mutual TLS may not call over plain HTTP.
    await expectError(t, rig, `${TAX}/subjekte/K81305012I/detyrime`, { 'X-Road-Client': 'AL-DEV/NJQV/L21603004L/taksat-vendore' }, 'Server.ClientProxy.SslAuthenticationFailed', 401)
  })

  t.test('repeated X-Road headers are refused, not merged', async t => {
    const res = await request(`${rig.url}${TAX}/subjekte/K81305012I/detyrime`, { headers: ['X-Road-Client', E_ALBANIA, 'X-Road-Client', DURRES_SOCIAL] })
    t.equal(res.statusCode, 400)
    t.equal(res.headers['x-road-error'], 'Client.BadRequest')
    await res.body.text()
  })

  t.test('service identifier errors', async t => {
    const h = { 'X-Road-Client': E_ALBANIA }
    await expectError(t, rig, '/r1/AL-DEV/NJQV/L21603004L/taksat-vendore', h, 'Client.BadRequest', 400)
    await expectError(t, rig, '/r1/AL-DEV/NJQV/L21603004L/taksat_vendore/detyrimet', h, 'Client.BadRequest', 400)
    await expectError(t, rig, '/r1/AL-DEV/NJQV/L21603004L/taksat%2Fvendore/detyrimet', h, 'Client.BadRequest', 400)
    await expectError(t, rig, '/r1/AL-DEV/NJQV/L21603004L/taksat-vendore/%E0%A4%A', h, 'Client.BadRequest', 400)
    await expectError(t, rig, '/r1/AL-DEV/NJQV/L21603004L/taksat-vendore/pronat', h, 'Server.ServerProxy.UnknownService', 404)
    await expectError(t, rig, '/r1/AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas', h, 'Server.ServerProxy.ServiceType', 400)
    // Grants are checked before endpoints, so a client learns nothing about endpoints it may not call.
    await expectError(t, rig, `${TAX}/subjekte/K81305012I/pagesat`, h, 'Server.ServerProxy.AccessDenied', 403)
    await expectError(t, rig, '/r2/AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet', h, 'Client.InvalidProtocolVersion', 400)
  })

  t.test('dot segments and encoded slashes cannot climb out of the provider base path', async t => {
    const h = { 'X-Road-Client': E_ALBANIA }
    await expectError(t, rig, `${TAX}/subjekte/%2e%2e/%2e%2e/admin`, h, 'Client.BadRequest', 400)
    await expectError(t, rig, `${TAX}/subjekte/a%2Fb/detyrime`, h, 'Client.BadRequest', 400)
  })

  t.test('request validation lists every violation', async t => {
    const body = await expectError(t, rig, `${TAX}/subjekte/K8130501/detyrime?viti=1990&tjeter=1`, { 'X-Road-Client': E_ALBANIA }, 'Client.InvalidBody', 400)
    t.equal(body.violations.length, 3, 'bad NIPT, year out of range, unknown query parameter')
    t.match(body.violations.join('\n'), /params\/nipt/)
    t.match(body.violations.join('\n'), /query\/viti/)
    t.match(body.violations.join('\n'), /tjeter/)
  })

  t.test('provider errors pass through untouched, without X-Road-Error', async t => {
    const notFound = await call(rig, `${TAX}/subjekte/J91402501L/detyrime`, { 'X-Road-Client': E_ALBANIA })
    t.equal(notFound.status, 404)
    t.equal(notFound.headers['x-road-error'], undefined)
    t.same(notFound.json(), { gabim: 'Subjekti J91402501L nuk është i regjistruar në Bashkinë Tiranë' })
    t.ok(notFound.headers['x-road-request-hash'])
    const failed = await call(rig, `${TAX}/subjekte/${FAILING_NIPT}/detyrime`, { 'X-Road-Client': E_ALBANIA })
    t.equal(failed.status, 500)
    t.equal(failed.headers['x-road-error'], undefined)
    t.same(failed.json(), { gabim: 'Baza e të dhënave e taksave nuk përgjigjet' })
  })

  t.test('a response that breaks the schema is stopped', async t => {
    const body = await expectError(t, rig, `${TAX}/subjekte/${MALFORMED_NIPT}/detyrime`, { 'X-Road-Client': E_ALBANIA }, 'Server.ServerProxy.InvalidResponse', 502)
    t.ok(body.violations.length >= 3, 'every violation is listed')
  })

  t.test('the exchange log line carries ids and outcome, never payloads', async t => {
    const lines = rig.logs.map(l => JSON.parse(l)).filter(l => l.msg === 'exchange')
    t.ok(lines.length > 5)
    const ok = lines.find(l => l.messageId === 'msg-001')
    t.match(ok, { client: E_ALBANIA, service: TAX_SERVICE, status: 200, providerStatus: 200, userId: 'AL-I50314123V', issue: 'CASE-7' })
    t.type(ok.durationMs, 'number')
    t.notMatch(rig.logs.join(''), /Çajupi|Furra/, 'no payload in the logs')
    t.ok(lines.some(l => l.error === 'Server.ServerProxy.AccessDenied'))
  })

  t.test('bad input leaves the node up', async t => {
    const res = await call(rig, `${TAX}/subjekte/M31518001P/detyrime?viti=2026`, { 'X-Road-Client': E_ALBANIA })
    t.equal(res.status, 200)
  })
})

t.test('request hash, headers and bodies on the wire', async t => {
  const provider = await startEchoProvider(req => req.url?.includes('L41526502B') === true
    ? { status: 200, body: '{"pranuar":tru' }
    : req.url?.includes('K22218003V') === true
      ? { status: 200, body: JSON.stringify({ mbushje: 'x'.repeat(70_000) }) }
      : { status: 201, headers: { 'content-type': 'application/json', connection: 'x-secret', 'x-secret': '1', 'x-road-error': 'forged', 'x-provider': 'ok' }, body: '{"pranuar":true,"referenca":"REF-123456"}' })
  t.teardown(provider.close)
  const config = await demoConfig({
    'services.yaml': s => s.replace('url: http://127.0.0.1:4401/api/v1', `url: ${provider.url}`),
    'node.yaml': s => s.replace('responseBytes: 10485760', 'responseBytes: 65536'),
    'access.yaml': s => s + `
  - service: ${TAX_SERVICE}
    clients: [${DURRES_SOCIAL}]
    endpoints:
      - { method: POST, path: /pagesa }
      - { method: GET, path: /subjekte/** }
  - service: ${TAX_SERVICE}
    clients: [${TIRANA_CIVIL}]
`,
  })
  const rig = await startRig({ config })
  t.teardown(() => rig.close())
  const body = JSON.stringify({ nipt: 'K81305012I', lloji: 'takse-biznesi', shuma: 15000, referenca: 'REF-123456' })

  t.test('the hash is recomputed independently from what the provider received', async t => {
    const res = await call(rig, `${TAX}/pagesa?burimi=banka`,
      ['Content-Type', 'application/json', 'X-Road-Client', DURRES_SOCIAL, 'X-Road-Issue', 'PAY-1', 'Connection', 'keep-alive, X-Hop', 'X-Hop', 'drop-me', 'X-Road-Request-Hash', 'forged', 'Host', 'gateway.local', 'Content-Length', String(Buffer.byteLength(body))],
      { method: 'POST', body })
    const text = res.text
    t.equal(res.status, 201)
    t.same(JSON.parse(text), { pranuar: true, referenca: 'REF-123456' })
    const seen = provider.seen.at(-1)!
    t.equal(seen.req.url, '/base/pagesa?burimi=banka', 'path and query appended to the base URL')
    t.equal(seen.body.toString(), body)
    t.equal(seen.req.headers['x-hop'], undefined, 'headers named in Connection are dropped')
    t.equal(seen.req.headers['x-road-request-hash'], undefined, 'client-sent hash is not forwarded')
    t.equal(seen.req.headers['x-road-client'], DURRES_SOCIAL)
    t.equal(seen.req.headers['x-road-request-id'], res.headers['x-road-request-id'])
    t.equal(seen.req.headers['x-road-id'], res.headers['x-road-id'])

    // reference §2.4, computed here without the gateway's code
    const part = `POST\r\n${TAX}/pagesa?burimi=banka\r\n` +
      'Content-Type:application/json\r\n' +
      `X-Road-Client:${DURRES_SOCIAL}\r\n` +
      'X-Road-Issue:PAY-1\r\n' +
      `X-Road-Request-Id:${res.headers['x-road-request-id']}\r\n` +
      `X-Road-Id:${res.headers['x-road-id']}\r\n`
    const h = createHash('sha512').update(part).digest()
    const expected = createHash('sha512').update(h).update(createHash('sha512').update(body).digest()).digest('base64')
    t.equal(res.headers['x-road-request-hash'], expected)

    t.equal(res.headers['x-secret'], undefined, 'provider hop-by-hop headers are dropped')
    t.equal(res.headers['x-provider'], 'ok', 'other provider headers pass')
    t.equal(res.headers['x-road-error'], undefined, 'a provider cannot forge X-Road-Error')
  })

  t.test('malformed JSON and schema violations in the body', async t => {
    const malformed = await expectError(t, rig, `${TAX}/pagesa`, { 'X-Road-Client': DURRES_SOCIAL, 'content-type': 'application/json' }, 'Client.InvalidBody', 400, { method: 'POST', body: '{"nipt": ' })
    t.match(malformed.message, /Malformed JSON/)
    const invalid = await expectError(t, rig, `${TAX}/pagesa`, { 'X-Road-Client': DURRES_SOCIAL, 'content-type': 'application/json' }, 'Client.InvalidBody', 400,
      { method: 'POST', body: JSON.stringify({ nipt: 'x', lloji: 'gjobe', shuma: -1, tjeter: true }) })
    t.equal(invalid.violations.length, 5, 'nipt, lloji, shuma, referenca missing, unknown property')
    await expectError(t, rig, `${TAX}/pagesa`, { 'X-Road-Client': DURRES_SOCIAL, 'content-type': 'text/plain' }, 'Client.InvalidBody', 400, { method: 'POST', body })
    const before = provider.seen.length
    t.equal(provider.seen.length, before, 'nothing invalid reaches the provider')
  })

  t.test('a provider response over the node limit', async t => {
    await expectError(t, rig, `${TAX}/subjekte/K22218003V/detyrime`, { 'X-Road-Client': DURRES_SOCIAL }, 'Server.ServerProxy.ServiceFailed.IOError', 500)
  })

  t.test('a provider answering malformed JSON', async t => {
    const body = await expectError(t, rig, `${TAX}/subjekte/L41526502B/detyrime`, { 'X-Road-Client': DURRES_SOCIAL }, 'Server.ServerProxy.InvalidResponse', 502)
    t.match(body.message, /malformed JSON/)
  })

  t.test('an unknown endpoint of a granted service', async t => {
    await expectError(t, rig, `${TAX}/prona/123`, { 'X-Road-Client': TIRANA_CIVIL }, 'Server.ServerProxy.UnknownService', 404)
  })

  t.test('oversize body', async t => {
    const huge = JSON.stringify({ referenca: 'x'.repeat(1_100_000) })
    await expectError(t, rig, `${TAX}/pagesa`, { 'X-Road-Client': DURRES_SOCIAL, 'content-type': 'application/json' }, 'Client.RequestTooLarge', 413, { method: 'POST', body: huge })
  })
})

t.test('provider failures', async t => {
  const hanging = await startEchoProvider(() => undefined)
  t.teardown(hanging.close)
  const closed = await startEchoProvider(() => ({ status: 200, body: '{}' }))
  const closedUrl = closed.url
  await closed.close()
  const config = await demoConfig({
    'services.yaml': s => s
      .replace('url: http://127.0.0.1:4401/api/v1\n    timeoutMs: 5000', `url: ${hanging.url}\n    timeoutMs: 300`)
      .replace('url: http://127.0.0.1:4402/regjistri-civil', `url: ${closedUrl}`),
  })
  const rig = await startRig({ config })
  t.teardown(() => rig.close())

  const started = performance.now()
  await expectError(t, rig, `${TAX}/subjekte/K81305012I/detyrime`, { 'X-Road-Client': E_ALBANIA }, 'Server.ServerProxy.ServiceFailed.Timeout', 500)
  const elapsed = performance.now() - started
  t.ok(elapsed >= 290 && elapsed < 2000, `timed out after the configured 300 ms (${Math.round(elapsed)} ms)`)

  const res = await call(rig, '/', { 'content-type': 'text/xml' }, { method: 'POST', body: (await import('node:fs')).readFileSync(new URL('../demo/kerkoShtetas.xml', import.meta.url), 'utf8') })
  t.equal(res.status, 500)
  t.match(res.text, /<faultcode>Server\.ServerProxy\.ServiceFailed\.NetworkError<\/faultcode>/)
})

t.test('disabled services and logging failures', async t => {
  const config = await demoConfig({
    'services.yaml': s => s.replace('    title: Detyrimet', '    disabled: { notice: "Në mirëmbajtje deri në ora 18:00" }\n    title: Detyrimet'),
  })
  const rig = await startRig({
    config,
    recorder: {
      recordRequest: async ex => { if (ex.protocol === 'soap') throw new Error('disk full') },
      recordResponse: async () => {},
    },
  })
  t.teardown(() => rig.close())
  const disabled = await expectError(t, rig, `${TAX}/subjekte/K81305012I/detyrime`, { 'X-Road-Client': E_ALBANIA }, 'Server.ServerProxy.ServiceDisabled', 503)
  t.match(disabled.message, /Në mirëmbajtje/)

  const res = await call(rig, '/', { 'content-type': 'text/xml' }, { method: 'POST', body: (await import('node:fs')).readFileSync(new URL('../demo/kerkoShtetas.xml', import.meta.url), 'utf8') })
  t.equal(res.status, 500)
  t.match(res.text, /<faultcode>Server\.ClientProxy\.LoggingFailed<\/faultcode>/, 'no unlogged traffic')
})
