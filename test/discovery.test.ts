/**
 * Discovery end to end against the demo: X-Road metaservices in REST and SOAP form, the OpenAPI
 * documents (checked with an OpenAPI validator), the published WSDL (parsed, address anonymised),
 * the catalogue in JSON and HTML, and catalogue metadata checks (a gap leaves the service out and
 * `ura config check` reports it).
 */
import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { request } from 'undici'
import { XmlDocument, XmlElement } from 'libxml2-wasm'
import { Validator } from '@seriousme/openapi-schema-validator'
import { ConfigError } from '../config/load.ts'
import type { Exchange, ExchangeRecorder } from '../gateway/pipeline/exchange.ts'
import { anonymiseServers } from '../gateway/catalogue/openapi.ts'
import { ANONYMOUS_ENDPOINT } from '../gateway/catalogue/wsdl.ts'
import { buildGateway } from '../gateway/server.ts'
import { withDoc } from './support/xml.ts'
import { demoConfig, DEMO_DIR, DURRES_SOCIAL, E_ALBANIA, startRig, TIRANA_CIVIL, type Rig, UNGRANTED, UNGRANTED_MEMBER_YAML } from './support/gateway.ts'

const XRD = 'http://x-road.eu/xsd/xroad.xsd'
const ID = 'http://x-road.eu/xsd/identifiers'
const SOAP = 'http://schemas.xmlsoap.org/soap/envelope/'
const NS = { s: SOAP, xrd: XRD, id: ID, wsdl: 'http://schemas.xmlsoap.org/wsdl/', soap: 'http://schemas.xmlsoap.org/wsdl/soap/', xs: 'http://www.w3.org/2001/XMLSchema' }
const TAX_PROVIDER = 'AL-DEV/NJQV/L21603004L/taksat-vendore'
const CIVIL_PROVIDER = 'AL-DEV/GOV/L01417001D/regjistri-civil'
const REPO = resolve(import.meta.dirname, '..')


const recorded: Array<{ phase: 'request' | 'response'; service?: string; bytes: number; headers?: string[] }> = []
const recorder: ExchangeRecorder = {
  recordRequest: async (ex: Exchange, body) => { recorded.push({ phase: 'request', service: ex.serviceId?.serviceCode, bytes: body?.length ?? 0, headers: ex.requestHeaders }) },
  recordResponse: async (ex: Exchange, body) => { recorded.push({ phase: 'response', service: ex.serviceId?.serviceCode, bytes: body.length, headers: ex.responseHeaders }) },
}

let rig: Rig
t.before(async () => {
  rig = await startRig({ config: await demoConfig({}, { 'zz-ungranted.yaml': UNGRANTED_MEMBER_YAML }), recorder })
})
t.teardown(() => rig.close())

async function get (path: string, headers: Record<string, string> = {}) {
  const res = await request(rig.url + path, { headers })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) }
}

/** Provider URLs of the running demo: they must never leave the node. */
function providerUrls (): string[] {
  return rig.gateway.context.registry.services.size === 0 ? [] : [...rig.gateway.context.registry.services.values()].flat().map(s => s.config.adapter.url)
}

function assertNoInternalAddress (t: Test, text: string, what: string): void {
  for (const url of providerUrls()) t.notOk(text.includes(url), `${what} does not contain the provider URL ${url}`)
  t.notOk(/127\.0\.0\.1:44\d\d|localhost:44\d\d/.test(text), `${what} names no demo provider port`)
}

async function validOpenApi (t: Test, doc: unknown, what: string): Promise<void> {
  const result = await new Validator().validate(structuredClone(doc) as any)
  t.same(result, { valid: true }, `${what} is a valid OpenAPI document`)
}

// ---- listClients ------------------------------------------------------------------------------

t.test('listClients: JSON by Accept, in X-Road snake_case', async t => {
  const res = await get('/listClients', { accept: 'application/json' })
  t.equal(res.status, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const members = res.json().member as any[]
  t.same(members[0], { id: { member_class: 'GOV', member_code: 'L01417001D', object_type: 'MEMBER', xroad_instance: 'AL-DEV' }, name: 'Drejtoria e Përgjithshme e Gjendjes Civile' })
  t.same(members.find(m => m.id.subsystem_code === 'e-albania'), {
    id: { member_class: 'GOV', member_code: 'K11503002N', subsystem_code: 'e-albania', object_type: 'SUBSYSTEM', xroad_instance: 'AL-DEV' },
    name: 'Agjencia Kombëtare e Shoqërisë së Informacionit (AKSHI)',
    subsystem_name: 'Portali qeveritar e-Albania',
  })
  // 5 members (4 demo + the ungranted one) and their 10 subsystems (the rooms' and Durrës's civil-status office among them).
  t.equal(members.filter(m => m.id.object_type === 'MEMBER').length, 5)
  t.equal(members.filter(m => m.id.object_type === 'SUBSYSTEM').length, 10)

  const other = await get('/listClients?xRoadInstance=AL', { accept: 'application/json' })
  t.same(other.json(), { member: [] }, 'another instance has no clients on this node')
})

t.test('listClients: clientList XML otherwise', async t => {
  for (const accept of [undefined, 'text/xml', 'application/json;q=0, text/xml']) {
    const res = await get('/listClients', accept === undefined ? {} : { accept })
    t.match(res.headers['content-type'], /^text\/xml/, `Accept ${accept ?? '(none)'} gives XML`)
    const doc = XmlDocument.fromString(res.text)
    try {
      t.equal(doc.root.name, 'clientList')
      t.equal(doc.root.namespaceUri, XRD)
      t.equal(doc.find('/xrd:clientList/xrd:member', NS).length, 15)
      const sub = doc.get('//xrd:member[xrd:id/id:subsystemCode="gjendja-civile"]', NS) as XmlElement
      t.equal(sub.get('xrd:id/@id:objectType', NS)?.content, 'SUBSYSTEM')
      t.equal(sub.get('xrd:name', NS)?.content, 'Bashkia Tiranë')
      t.equal(sub.get('xrd:subsystemName', NS)?.content, 'Zyra e gjendjes civile')
    } finally {
      doc.dispose()
    }
  }
})

// ---- REST metaservices ------------------------------------------------------------------------

t.test('REST listMethods lists every REST service with its endpoints, no metaservices', async t => {
  recorded.length = 0
  const res = await get(`/r1/${TAX_PROVIDER}/listMethods`, { 'x-road-client': DURRES_SOCIAL })
  t.equal(res.status, 200)
  t.same(res.json(), {
    service: [{
      member_class: 'NJQV',
      member_code: 'L21603004L',
      object_type: 'SERVICE',
      service_code: 'detyrimet',
      service_type: 'OPENAPI',
      subsystem_code: 'taksat-vendore',
      xroad_instance: 'AL-DEV',
      endpoint_list: [
        { method: 'GET', path: '/subjekte/*/detyrime' },
        { method: 'GET', path: '/qytetare/*/detyrime' },
        { method: 'POST', path: '/pagesa' },
      ],
    }],
  })
  // The same evidence as any r1 exchange, and it is recorded.
  t.equal(res.headers['x-road-service'], `${TAX_PROVIDER}/listMethods`)
  t.equal(res.headers['x-road-client'], DURRES_SOCIAL)
  t.match(res.headers['x-road-request-hash'], /^[A-Za-z0-9+/]{86}==$/)
  t.match(res.headers['x-road-id'], /^[0-9a-f-]{36}$/)
  t.same(recorded.map(r => `${r.phase}:${r.service}`), ['request:listMethods', 'response:listMethods'])

  const civil = await get(`/r1/${CIVIL_PROVIDER}/listMethods`, { 'x-road-client': E_ALBANIA })
  t.same(civil.json(), { service: [] }, 'a provider with only SOAP services has no REST methods')
})

t.test('REST allowedMethods depends on the caller', async t => {
  const portal = await get(`/r1/${TAX_PROVIDER}/allowedMethods`, { 'x-road-client': E_ALBANIA })
  t.equal(portal.status, 200)
  const services = portal.json().service
  t.equal(services.length, 1)
  t.same(services[0].endpoint_list, [
    { method: 'GET', path: '/subjekte/*/detyrime' },
    { method: 'GET', path: '/qytetare/*/detyrime' },
  ], 'e-Albania: the two GET endpoints its grant covers, not POST /pagesa')

  const durres = await get(`/r1/${TAX_PROVIDER}/allowedMethods`, { 'x-road-client': DURRES_SOCIAL })
  t.same(durres.json(), { service: [] }, 'Durrës has no grant on Tirana\'s tax service')
})

t.test('REST metaservices identify the caller and the provider like any call', async t => {
  const cases: Array<[string, Record<string, string>, string, number]> = [
    [`/r1/${TAX_PROVIDER}/listMethods`, {}, 'Client.MissingHeader', 400],
    [`/r1/${TAX_PROVIDER}/listMethods`, { 'x-road-client': 'AL-DEV/NJQV/L99999999Z/askush' }, 'Client.InvalidClientIdentifier', 400],
    [`/r1/${TAX_PROVIDER}/listMethods`, { 'x-road-client': 'AL-DEV/NJQV/L21603004L/taksat-vendore' }, 'Server.ClientProxy.SslAuthenticationFailed', 401],
    ['/r1/AL-DEV/NJQV/L99999999Z/askush/listMethods', { 'x-road-client': E_ALBANIA }, 'Server.ServerProxy.UnknownMember', 404],
    ['/r1/AL/NJQV/L21603004L/taksat-vendore/allowedMethods', { 'x-road-client': E_ALBANIA }, 'Server.ServerProxy.UnknownMember', 404],
    [`/r1/${TAX_PROVIDER}/listMethods/extra`, { 'x-road-client': E_ALBANIA }, 'Client.BadRequest', 400],
    [`/r1/${TAX_PROVIDER}/getOpenAPI`, { 'x-road-client': E_ALBANIA }, 'Client.BadRequest', 400],
    [`/r1/${TAX_PROVIDER}/getOpenAPI?serviceCode=nukEkziston`, { 'x-road-client': E_ALBANIA }, 'Server.ServerProxy.UnknownService', 404],
    [`/r1/${CIVIL_PROVIDER}/getOpenAPI?serviceCode=kerkoShtetas`, { 'x-road-client': E_ALBANIA }, 'Server.ServerProxy.ServiceType', 400],
  ]
  for (const [path, headers, code, status] of cases) {
    const res = await get(path, headers)
    t.equal(res.status, status, `${path} → ${status}`)
    t.equal(res.headers['x-road-error'], code)
    t.equal(res.json().type, code)
  }
  const post = await request(`${rig.url}/r1/${TAX_PROVIDER}/listMethods`, { method: 'POST', headers: { 'x-road-client': E_ALBANIA } })
  t.equal(post.statusCode, 405)
  t.equal(post.headers['x-road-error'], 'Client.InvalidHttpMethod')
  await post.body.dump()
})

t.test('getOpenAPI returns a valid OpenAPI 3.1 document built from the validating schemas', async t => {
  const res = await get(`/r1/${TAX_PROVIDER}/getOpenAPI?serviceCode=detyrimet`, { 'x-road-client': DURRES_SOCIAL })
  t.equal(res.status, 200)
  t.equal(res.headers['x-road-service'], `${TAX_PROVIDER}/getOpenAPI`)
  const doc = res.json()
  await validOpenApi(t, doc, 'getOpenAPI document')
  t.equal(doc.openapi, '3.1.0')
  t.same(doc.servers.map((s: any) => s.url), [`/r1/${TAX_PROVIDER}/detyrimet`], 'server URL is this node\'s r1 path, never the provider')
  assertNoInternalAddress(t, res.text, 'getOpenAPI')
  t.same(Object.keys(doc.paths).sort(), ['/pagesa', '/qytetare/{nid}/detyrime', '/subjekte/{nipt}/detyrime'])
  const op = doc.paths['/subjekte/{nipt}/detyrime'].get
  const nipt = op.parameters.find((p: any) => p.in === 'path' && p.name === 'nipt')
  t.same(nipt.schema, { $ref: '#/components/schemas/core.nipt' })
  t.equal(doc.components.schemas['core.nipt'].pattern, '^[A-M][0-9]{8}[A-Z]$', 'the library type that validates NIPTs, unchanged')
  t.same(op.parameters.filter((p: any) => p.in === 'query').map((p: any) => p.name), ['viti', 'vetemTePapaguara'])
  t.ok(op.parameters.some((p: any) => p.in === 'header' && p.name === 'X-Road-Client' && p.required), 'X-Road-Client is a required header')
  t.same(op.responses['200'].content['application/json'].schema, { $ref: '#/components/schemas/taksat-vendore.pergjigje' })
  t.same(doc.paths['/pagesa'].post.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/taksat-vendore.pagese' })
  t.same(doc.components.schemas['taksat-vendore.pergjigje'].properties.detyrime.items, { $ref: '#/components/schemas/taksat-vendore.detyrim' })
  t.equal(doc.info.title, 'Vërtetim për detyrimet e taksave dhe tarifave vendore', 'title from the catalogue metadata')

  // The same document, with the same schemas, accepts what the gateway accepts.
  const { Ajv } = await import('ajv')
  const addFormats = ((await import('ajv-formats')) as any).default
  const ajv = addFormats(new Ajv({ strict: false }))
  ajv.addSchema({ $id: 'doc', components: doc.components })
  const pergjigje = ajv.compile({ $ref: 'doc#/components/schemas/taksat-vendore.pergjigje' })
  const live = await get('/r1/AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet/subjekte/K81305012I/detyrime?viti=2026', { 'x-road-client': E_ALBANIA })
  t.equal(live.status, 200)
  t.ok(pergjigje(live.json()), 'a live provider answer validates against the documented response schema')
  t.notOk(pergjigje({ ...live.json(), totaliPapaguar: -1 }), 'and a broken one does not')
})

t.test('anonymiseServers reduces absolute server URLs to their path and keeps templates', async t => {
  const doc = anonymiseServers({ servers: [{ url: 'http://10.0.4.17:8443/api/v1' }, { url: 'https://{host}/api' }, { url: '/r1/x' }] })
  t.same(doc.servers, [{ url: '/api/v1' }, { url: 'https://{host}/api' }, { url: '/r1/x' }])
})

// ---- SOAP metaservices ------------------------------------------------------------------------

function soapRequest (client: string, serviceCode: string, body: string, version?: string): string {
  const c = client.split('/')
  const p = CIVIL_PROVIDER.split('/')
  return `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="${SOAP}" xmlns:xrd="${XRD}" xmlns:id="${ID}">
  <soapenv:Header>
    <xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>${c[0]}</id:xRoadInstance><id:memberClass>${c[1]}</id:memberClass><id:memberCode>${c[2]}</id:memberCode><id:subsystemCode>${c[3]}</id:subsystemCode></xrd:client>
    <xrd:service id:objectType="SERVICE"><id:xRoadInstance>${p[0]}</id:xRoadInstance><id:memberClass>${p[1]}</id:memberClass><id:memberCode>${p[2]}</id:memberCode><id:subsystemCode>${p[3]}</id:subsystemCode><id:serviceCode>${serviceCode}</id:serviceCode>${version === undefined ? '' : `<id:serviceVersion>${version}</id:serviceVersion>`}</xrd:service>
    <xrd:id>meta-${serviceCode}-1</xrd:id>
    <xrd:userId>AL-K16102045M</xrd:userId>
    <xrd:protocolVersion>4.0</xrd:protocolVersion>
  </soapenv:Header>
  <soapenv:Body>${body}</soapenv:Body>
</soapenv:Envelope>`
}

async function soap (envelope: string) {
  const res = await request(rig.url + '/', { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body: envelope })
  return { status: res.statusCode, headers: res.headers, bytes: Buffer.from(await res.body.arrayBuffer()) }
}

function listedServices (doc: XmlDocument, wrapper: string): string[] {
  return doc.find(`/s:Envelope/s:Body/xrd:${wrapper}/xrd:service`, NS).map(n =>
    (n as XmlElement).find('id:*', NS).map(p => p.content).join('/'))
}

t.test('SOAP listMethods: every SOAP service of the provider, headers echoed, requestHash set', async t => {
  const envelope = soapRequest(DURRES_SOCIAL, 'listMethods', '<xrd:listMethods/>')
  const res = await soap(envelope)
  t.equal(res.status, 200)
  t.match(res.headers['content-type'], /^text\/xml/)
  withDoc(res.bytes, doc => {
    t.same(listedServices(doc, 'listMethodsResponse'), ['AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas/v1'])
    const header = doc.get('/s:Envelope/s:Header', NS) as XmlElement
    const names = header.find('*').map(n => (n as XmlElement).name)
    t.same(names, ['client', 'service', 'id', 'userId', 'protocolVersion', 'requestHash'], 'request headers echoed in order, then requestHash')
    t.equal(doc.get('//xrd:id', NS)?.content, 'meta-listMethods-1')
    const hash = doc.get('//xrd:requestHash', NS)!.content
    t.equal(hash, createHash('sha512').update(envelope).digest('base64'), 'requestHash = SHA-512 of the request bytes')
    t.equal((doc.get('//xrd:service/id:serviceCode', NS) as XmlElement).content, 'listMethods', 'the echoed service header names the metaservice')
  })
  const tax = await soap(soapRequest(DURRES_SOCIAL, 'listMethods', '<xrd:listMethods/>').replace(/L01417001D<\/id:memberCode><id:subsystemCode>regjistri-civil/, 'L21603004L</id:memberCode><id:subsystemCode>taksat-vendore').replace('<id:memberClass>GOV</id:memberClass><id:memberCode>L21603004L', '<id:memberClass>NJQV</id:memberClass><id:memberCode>L21603004L'))
  withDoc(tax.bytes, doc => t.same(listedServices(doc, 'listMethodsResponse'), [], 'Tirana\'s tax subsystem has no SOAP services'))
})

t.test('SOAP allowedMethods depends on the caller', async t => {
  for (const [client, expected] of [
    [E_ALBANIA, ['AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas/v1']],
    [TIRANA_CIVIL, ['AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas/v1']],
    [UNGRANTED, []],
  ] as const) {
    const res = await soap(soapRequest(client, 'allowedMethods', '<xrd:allowedMethods/>'))
    t.equal(res.status, 200)
    withDoc(res.bytes, doc => t.same(listedServices(doc, 'allowedMethodsResponse'), expected, `${client}: ${expected.length} allowed`))
  }
})

/** Splits a multipart body into its parts: headers (lower-case names) and content. */
function multipart (contentType: string, body: Buffer): Array<{ headers: Record<string, string>; content: string }> {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)![1]
  const text = body.toString('utf8')
  t.ok(text.endsWith(`--${boundary}--\r\n`), 'closing boundary')
  return text.split(`--${boundary}`).slice(1, -1).map(chunk => {
    const [head, ...rest] = chunk.replace(/^\r\n/, '').split('\r\n\r\n')
    const headers = Object.fromEntries(head.split('\r\n').map(l => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]))
    return { headers, content: rest.join('\r\n\r\n').replace(/\r\n$/, '') }
  })
}

t.test('getWsdl: the WSDL as a MIME attachment, parseable, address anonymised, self-contained', async t => {
  const envelope = soapRequest(UNGRANTED, 'getWsdl', '<xrd:getWsdl><xrd:serviceCode>kerkoShtetas</xrd:serviceCode><xrd:serviceVersion>v1</xrd:serviceVersion></xrd:getWsdl>', 'v1')
  const res = await soap(envelope)
  t.equal(res.status, 200)
  const type = res.headers['content-type'] as string
  t.match(type, /^multipart\/related;/)
  t.match(type, /type="text\/xml"/)
  const parts = multipart(type, res.bytes)
  t.equal(parts.length, 2, 'SOAP part and WSDL attachment')
  t.match(parts[0].headers['content-type'], /^text\/xml/)
  t.equal(parts[0].headers['content-id'], '<soap-envelope>', 'the SOAP part comes first and is the root')
  withDoc(parts[0].content, doc => {
    t.equal(doc.get('/s:Envelope/s:Body/xrd:getWsdlResponse/xrd:serviceCode', NS)?.content, 'kerkoShtetas')
    t.equal(doc.get('/s:Envelope/s:Body/xrd:getWsdlResponse/xrd:serviceVersion', NS)?.content, 'v1')
    t.equal(doc.get('//xrd:requestHash', NS)?.content, createHash('sha512').update(envelope).digest('base64'))
  })
  const wsdl = parts[1].content
  t.match(parts[1].headers['content-type'], /^text\/xml/)
  assertNoInternalAddress(t, wsdl, 'the WSDL')
  withDoc(wsdl, doc => {
    t.equal(doc.root.name, 'definitions')
    const addresses = doc.find('//wsdl:port/soap:address/@location', NS).map(a => a.content)
    t.same(addresses, [ANONYMOUS_ENDPOINT], 'soap:address is http://example.org/xroad-endpoint')
    t.equal(doc.find('//xs:import[@schemaLocation]', NS).length, 0, 'no import points at a file the client cannot fetch')
    t.equal(doc.find('/wsdl:definitions/wsdl:types/xs:schema[@targetNamespace="http://ura.gov.al/demo/regjistri-civil/v1"]', NS).length, 1, 'the payload XSD is inlined')
    t.ok(doc.get('//xs:element[@name="kerkoShtetasResponse"]', NS), 'with the response element')
  })
  // The catalogue serves the same published WSDL.
  const published = await get('/catalogue/wsdl/AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas/v1')
  t.equal(published.text, wsdl)

  for (const [body, code] of [
    ['<xrd:getWsdl><xrd:serviceCode>nukEkziston</xrd:serviceCode></xrd:getWsdl>', 'Server.ServerProxy.UnknownService'],
    ['<xrd:getWsdl/>', 'Client.InvalidBody'],
  ]) {
    const bad = await soap(soapRequest(E_ALBANIA, 'getWsdl', body))
    t.equal(bad.status, 500)
    withDoc(bad.bytes, doc => t.equal(doc.get('//faultcode')?.content, code))
  }
})

t.test('metaservice codes are reserved for the node', async t => {
  const config = await demoConfig({
    'services.yaml': text => text.replace('code: detyrimet', 'code: listMethods'),
    'access.yaml': text => text.replace('taksat-vendore/detyrimet', 'taksat-vendore/listMethods'),
  })
  const err = await buildGateway({ config, logger: false }).then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof ConfigError, 'the configuration is refused')
  t.match((err as ConfigError).problems.map(p => p.message), [/service code 'listMethods' is reserved for an X-Road metaservice/])
})

// ---- OpenAPI of the node and Swagger UI -------------------------------------------------------

t.test('the node\'s own API is documented and Swagger UI is served locally', async t => {
  const res = await get('/docs/json')
  t.equal(res.status, 200)
  const doc = res.json()
  await validOpenApi(t, doc, '/docs/json')
  for (const path of ['/listClients', '/catalogue', '/healthz', '/r1/{xRoadInstance}/{memberClass}/{memberCode}/{subsystemCode}/allowedMethods', '/r1/{xRoadInstance}/{memberClass}/{memberCode}/{subsystemCode}/getOpenAPI']) {
    t.ok(doc.paths[path], `documents ${path}`)
  }
  t.notOk(doc.paths['/r1/*'], 'the r1 wildcard route is described by its calls, not by itself')
  t.ok(doc.paths['/'].post, 'the SOAP edge is documented')
  assertNoInternalAddress(t, res.text, '/docs/json')

  const ui = await get('/docs/', { accept: 'text/html' })
  t.equal(ui.status, 200)
  t.match(ui.text, /swagger-ui/)
  t.notMatch(ui.text, /https?:\/\/(?!127\.0\.0\.1)[^"']*\.(js|css)/, 'no asset is loaded from another host')
  const init = await get('/docs/static/swagger-initializer.js')
  t.equal(init.status, 200)
  t.match(init.text, /"configUrl":"\/docs\/services\.json"/, 'the UI reads its list of documents from the node when it opens')
  const listed = await get('/docs/services.json')
  t.equal(listed.status, 200)
  t.same(listed.json().urls.map((u: { url: string }) => u.url), ['/docs/json', '/catalogue/openapi/AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet'], 'the service documents are offered in the UI')
  const bundle = await request(`${rig.url}/docs/static/swagger-ui-bundle.js`)
  t.equal(bundle.statusCode, 200, 'the UI\'s code comes from the npm package')
  await bundle.body.dump()

  const serviceDoc = await get('/catalogue/openapi/AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet')
  await validOpenApi(t, serviceDoc.json(), 'catalogue OpenAPI link')
})

// ---- the catalogue ----------------------------------------------------------------------------

t.test('catalogue JSON: every published service with every field, filters and language', async t => {
  const all = await get('/catalogue')
  t.equal(all.status, 200)
  t.match(all.headers['content-type'], /^application\/json/)
  const body = all.json()
  t.equal(body.count, 2)
  assertNoInternalAddress(t, all.text, 'catalogue JSON')
  t.notMatch(all.text, /adapter|"url"/, 'no adapter settings')
  const tax = body.services.find((s: any) => s.id === 'AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet')
  t.same(tax.title, { sq: 'Vërtetim për detyrimet e taksave dhe tarifave vendore', en: 'Statement of local tax and fee obligations' }, 'both languages without lang')
  t.same(tax.processingTime, { min: 1, max: 24, unit: 'hours' })
  t.same(tax.fees[0].amount, 200)
  t.equal(tax.validity, 'calendar-year')
  t.same(tax.channel, ['online', 'assisted'])
  t.same(tax.legalBasis[0], { act: 'law', number: '9632', date: '2006-10-30', title: { sq: 'Për sistemin e taksave vendore', en: 'On the local tax system' } })
  t.same(tax.links, { page: '/catalogue/services/AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet', openapi: '/catalogue/openapi/AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet' })
  const civil = body.services.find((s: any) => s.type === 'soap')
  t.same(civil.links.wsdl, '/catalogue/wsdl/AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas/v1')
  t.equal(civil.municipalities, null, 'national service')
  t.equal(civil.fees, 'none')

  const ids = async (query: string): Promise<string[]> => (await get(`/catalogue?${query}`)).json().services.map((s: any) => s.id.split('/')[4])
  t.same(await ids('category=local-taxes'), ['detyrimet'])
  t.same(await ids('municipality=tirane'), ['detyrimet', 'kerkoShtetas'], 'Tirana: its own and the national services (accents ignored)')
  t.same(await ids('municipality=Durr%C3%ABs'), ['kerkoShtetas'], 'Durrës: only the national service')
  t.same(await ids('institution=L21603004L'), ['detyrimet'], 'by member code')
  t.same(await ids('institution=gjendjes%20civile'), ['kerkoShtetas'], 'by institution name')
  t.same(await ids('q=PRONES%20licence'), ['detyrimet'], 'text search over both languages, case and accents ignored')
  t.same(await ids('q=numrin%20personal'), ['detyrimet', 'kerkoShtetas'], 'every word must appear; both entries have them')
  t.same(await ids('q=nothing-like-this'), [])

  const en = (await get('/catalogue?lang=en&category=civil-status')).json()
  t.equal(en.language, 'en')
  t.equal(en.services[0].title, 'Confirmation of a citizen\'s personal data')
  t.equal(en.services[0].category.label, 'Civil status')

  const bad = await get('/catalogue?lang=fr')
  t.equal(bad.status, 400)
  t.equal(bad.headers['x-road-error'], 'Client.BadRequest')

  const one = await get('/catalogue/services/AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas/v1?lang=sq')
  t.equal(one.json().title, 'Vërtetimi i të dhënave personale të shtetasit')
  const missing = await get('/catalogue/services/AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas')
  t.equal(missing.status, 404)
  const missingHtml = await get('/catalogue/services/AL-DEV/X/Y/z/w', { accept: 'text/html' })
  t.equal(missingHtml.status, 404)
  t.match(missingHtml.text, /Shërbimi nuk u gjet/)
})

t.test('catalogue HTML: Albanian by default, English on request, escaped, self-contained', async t => {
  const sq = await get('/catalogue', { accept: 'text/html,application/xhtml+xml' })
  t.equal(sq.status, 200)
  t.match(sq.headers['content-type'], /^text\/html/)
  t.match(sq.headers['content-security-policy'], /default-src 'none'/)
  t.match(sq.text, /<html lang="sq">/)
  t.match(sq.text, /Katalogu i shërbimeve të integruara/)
  t.match(sq.text, /Vërtetim për detyrimet e taksave dhe tarifave vendore/)
  t.match(sq.text, /200 lekë \(ALL\)/)
  t.match(sq.text, /href="\/catalogue\/openapi\/AL-DEV\/NJQV\/L21603004L\/taksat-vendore\/detyrimet"/)
  t.notMatch(sq.text, /<script|<link|src="http/i, 'no scripts and no external assets')
  assertNoInternalAddress(t, sq.text, 'catalogue HTML')

  const en = await get('/catalogue?lang=en', { accept: 'text/html' })
  t.match(en.text, /<html lang="en">/)
  t.match(en.text, /Catalogue of integrated services/)
  t.match(en.text, /Statement of local tax and fee obligations/)

  const page = await get('/catalogue/services/AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet?lang=en', { accept: 'text/html' })
  for (const text of ['Legal basis', 'Law nr. 9632, of 30 October 2006, “On the local tax system”', 'Procedure steps', 'Required documents', 'Time needed', '1–24 hours', 'Until 31 December of the year of issue', 'Assisted by an official', 'Tiranë']) {
    t.match(page.text, text, `entry page shows ${text}`)
  }
})

// ---- catalogue metadata checks ----------------------------------------------------------------

t.test('a service missing one required catalogue field is left out and reported', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'ura-catalogue-'))
  for (const name of await readdir(DEMO_DIR)) {
    let text = (await readFile(join(DEMO_DIR, name), 'utf8')).replaceAll('../../schemas/', resolve(REPO, 'schemas') + '/')
    if (name === 'services.yaml') text = text.replace('      validity: calendar-year\n', '')
    await writeFile(join(dir, name), text)
  }
  t.notMatch(await readFile(join(dir, 'services.yaml'), 'utf8'), /calendar-year/, 'the field is gone')

  const { stdout } = await promisify(execFile)(process.execPath, [join(REPO, 'cli/main.ts'), 'config', 'check', dir])
  t.match(stdout, /: valid/, 'the configuration is still valid: the gap is a warning, not a failure')
  t.match(stdout, 'catalogue: 3 of 65 services published', 'every other demo service, bridged ones included, is published')
  t.match(stdout, 'note: 61 services have no catalogue metadata and are not published, among them AL-DEV/NJQV/K90115001N/gjendja-civile/ngjarje', 'the municipalities\' push targets are counted, not listed one by one')
  t.match(stdout, 'warning: AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet is not published, its catalogue metadata is incomplete:')
  t.match(stdout, "catalogue: missing required field 'validity'")

  const gapRig = await startRig({ config: await demoConfig({ 'services.yaml': text => text.replace('      validity: calendar-year\n', '') }) })
  try {
    const res = await request(`${gapRig.url}/catalogue`)
    const body = await res.body.json() as any
    t.same(body.services.map((s: any) => s.id), ['AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas/v1'], 'only the complete service is published')
    const call = await request(`${gapRig.url}/r1/AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet/subjekte/K81305012I/detyrime`, { headers: { 'x-road-client': E_ALBANIA } })
    t.equal(call.statusCode, 200, 'the unpublished service still works for its callers')
    await call.body.dump()
    const page = await request(`${gapRig.url}/catalogue/openapi/AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet`)
    t.equal(page.statusCode, 404, 'and has no public OpenAPI link')
    await page.body.dump()
  } finally {
    await gapRig.close()
  }
})

t.test('catalogue text is escaped in HTML', async t => {
  const evil = '<script>alert(1)</script> & "quotes"'
  const r = await startRig({ config: await demoConfig({ 'services.yaml': text => text.replace('sq: Vërtetimi i të dhënave personale të shtetasit', `sq: '${evil}'`) }) })
  try {
    const res = await request(`${r.url}/catalogue`, { headers: { accept: 'text/html' } })
    const html = await res.body.text()
    t.notOk(html.includes('<script>alert(1)</script>'), 'markup in metadata is not markup in the page')
    t.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;'), 'it is shown as text')
  } finally {
    await r.close()
  }
})

t.test('metaservice calls walk the same pipeline: rate-limited, and their headers logged like any exchange', async t => {
  const limited = await startRig({
    config: await demoConfig({ 'node.yaml': text => text.replace(/  dataDir: [^\n]*\n/, `  dataDir: ../../data\n  rateLimits:\n    clients:\n      ${DURRES_SOCIAL}: { perSecond: 0.01, burst: 2 }\n`) }),
    recorder,
  })
  t.teardown(() => limited.close())
  recorded.length = 0
  const call = async (): Promise<{ status: number; code: unknown }> => {
    const res = await request(`${limited.url}/r1/${TAX_PROVIDER}/listMethods`, { headers: { 'x-road-client': DURRES_SOCIAL, 'x-custom': 'kept' } })
    await res.body.dump()
    return { status: res.statusCode, code: res.headers['x-road-error'] }
  }
  t.same(await call(), { status: 200, code: undefined }, 'first call within the burst')
  // The request record covers the headers sent on (as for a service call), the response record the answer's.
  const [req, res] = recorded
  t.ok(req.headers !== undefined && req.headers.includes('x-custom') && req.headers.includes('X-Road-Request-Id'), `request headers logged: ${req.headers?.join(' ')}`)
  t.ok(res.headers !== undefined && res.headers.includes('x-road-request-hash') && res.headers.includes('content-type'), `response headers logged: ${res.headers?.join(' ')}`)

  const envelope = soapRequest(DURRES_SOCIAL, 'listMethods', '<xrd:listMethods/>')
  const soapRes = await request(limited.url + '/', { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body: envelope })
  await soapRes.body.dump()
  t.equal(soapRes.statusCode, 200, 'a SOAP metaservice call takes the second token')
  t.same(recorded.filter(r => r.phase === 'request').at(-1)?.headers, ['Content-Type', 'text/xml; charset=utf-8'], 'SOAP request headers logged as for a SOAP service call')
  t.same(await call(), { status: 429, code: 'Client.RateLimitExceeded' }, 'the bucket is empty: metaservices are rate-limited too')
  t.equal(recorded.length, 4, 'the refused call was not logged')
})
