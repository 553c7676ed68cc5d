/**
 * The bridge: the JSON ↔ XML mapping rules (round trips of every demo message type and of the
 * edge cases: one-item arrays, types, nil vs empty, attributes, namespaces, Albanian text), faults
 * across the protocol line, and bridged calls end to end through the gateway in both directions.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { once } from 'node:events'
import { resolve } from 'node:path'
import t, { type Test } from 'tap'
import { XmlElement } from 'libxml2-wasm'
import { faultToRestError, restErrorToFault } from '../adapters/bridge/faults.ts'
import { MappingError, XmlJsonMapper } from '../adapters/bridge/mapping.ts'
import { ConfigError } from '../config/load.ts'
import { CITIZENS, FAULT_NID, FAULT_STRING, INVALID_RESPONSE_NID } from '../demo/civil-registry-data.ts'
import { BUSINESSES, FAILING_NIPT, MALFORMED_NIPT } from '../demo/tax-office-data.ts'
import { Registry } from '../registry/registry.ts'
import { PROJECT_SCHEMA_DIR, SchemaLibrary, xmlViolations } from '../schemas/library.ts'
import { withDoc } from './support/xml.ts'
import { demoConfig, DURRES_SOCIAL, E_ALBANIA, startRig } from './support/gateway.ts'

const RC = 'http://ura.gov.al/demo/regjistri-civil/v1'
const TV = 'http://ura.gov.al/demo/taksat-vendore/v1'
const BC = 'http://ura.gov.al/test/bridge-cases'
const CORE = 'http://ura.gov.al/schemas/core/v1'
const SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/'
const TAX_AGENCY = 'AL-DEV/GOV/K71908001C/kontrolli-tatimor'
const SHTETASIT = '/r1/AL-DEV/GOV/L01417001D/regjistri-civil/shtetasit'

const library = await SchemaLibrary.load([PROJECT_SCHEMA_DIR, resolve(import.meta.dirname, 'fixtures')])
const mapper = new XmlJsonMapper(library.model)

const withRoot = <T>(xml: string | Buffer, use: (root: XmlElement) => T): T => withDoc(xml, doc => use(doc.root))

function xsdProblems (ns: string, xml: string): string[] {
  return withRoot(xml, root => {
    try { library.xsd(ns)!.validate(root); return [] } catch (err) { return xmlViolations(err) }
  })
}

/** JSON → XML (valid against the XSD) → JSON must give back the same value, key order and types included. */
function roundTrip (t: Test, ns: string, element: string, value: unknown, label: string): string {
  const decl = mapper.element(ns, element)
  const xml = mapper.toXml(decl, value)
  t.same(xsdProblems(ns, xml), [], `${label}: the XML is valid`)
  const back = withRoot(xml, root => mapper.toJson(root, decl))
  t.equal(JSON.stringify(back), JSON.stringify(value), `${label}: JSON → XML → JSON is the identity`)
  return xml
}

/** A citizen record in the shape (and key order) of the XSD. */
function citizenJson (c: typeof CITIZENS[number]): Record<string, unknown> {
  const adresa: Record<string, string> = { bashkia: c.adresa.bashkia, rruga: c.adresa.rruga }
  if (c.adresa.nrPallati !== undefined) adresa.nrPallati = c.adresa.nrPallati
  adresa.kodiPostar = c.adresa.kodiPostar
  return {
    nid: c.nid, emri: c.emri, mbiemri: c.mbiemri, ...(c.atesia === undefined ? {} : { atesia: c.atesia }),
    datelindja: c.datelindja, gjinia: c.gjinia, vendlindja: c.vendlindja, adresa, gjendjaCivile: c.gjendjaCivile,
  }
}

/** What Tirana's tax office answers, computed the way it does. */
function taxAnswer (nipt: string, viti: number, unpaidOnly = false): Record<string, unknown> {
  const s = BUSINESSES[nipt]
  const detyrime = (s.detyrime[viti] ?? []).filter(d => !unpaidOnly || !d.paguar)
  const total = detyrime.filter(d => !d.paguar).reduce((sum, d) => sum + d.shuma, 0)
  return { subjekti: { id: s.id, emri: s.emri }, bashkia: 'Tiranë', viti, detyrime, totaliPapaguar: Math.round(total * 100) / 100 }
}

t.test('round trips of every demo message type', async t => {
  const jsonResponse = library.compileBody({ $ref: 'https://ura.gov.al/schemas/demo/regjistri-civil/v1#/definitions/kerkoShtetasResponse' })
  const taxResponse = library.compileBody({ $ref: 'https://ura.gov.al/schemas/demo/taksat-vendore/v1#/definitions/pergjigje' })
  roundTrip(t, RC, 'kerkoShtetas', { nid: 'I50314123V', arsyeja: 'Lëshim çertifikate familjare — ËÇ' }, 'kerkoShtetas')
  roundTrip(t, RC, 'kerkoShtetas', { nid: 'K16102045M' }, 'kerkoShtetas without arsyeja')
  roundTrip(t, RC, 'kerkoShtetasResponse', { gjetur: false }, 'not found')
  for (const c of CITIZENS) {
    const value = { gjetur: true, shtetas: citizenJson(c) }
    roundTrip(t, RC, 'kerkoShtetasResponse', value, `citizen ${c.nid}`)
    t.ok(jsonResponse(value), `citizen ${c.nid}: the JSON form matches the REST face's JSON Schema`)
  }
  roundTrip(t, TV, 'detyrimetSubjektit', { nipt: 'K81305012I', viti: 2026, vetemTePapaguara: true }, 'detyrimetSubjektit')
  roundTrip(t, TV, 'detyrimetSubjektit', { nipt: 'M31518001P' }, 'detyrimetSubjektit, only the NIPT')
  for (const [nipt, viti, unpaid] of [['K81305012I', 2026, false], ['K81305012I', 2025, false], ['M31518001P', 2026, true], ['M31518001P', 2026, false]] as const) {
    const value = taxAnswer(nipt, viti, unpaid)
    const xml = roundTrip(t, TV, 'detyrimetSubjektitResponse', value, `obligations ${nipt} ${viti}${unpaid ? ' unpaid' : ''}`)
    t.ok(taxResponse(value), 'the JSON form matches the REST service schema')
    t.equal(xml.split('<ns1:detyrime>').length - 1, (value.detyrime as unknown[]).length, 'one element per array item')
  }
})

t.test('edge cases of the mapping rules', async t => {
  const full = {
    '@versioni': 2,
    '@gjuha': 'sq',
    lista: ['Ëndërr'],
    numer: -5,
    shuma: 0.07,
    flamur: false,
    data: '2024-02-29',
    koha: '2026-03-14T09:30:00+01:00',
    shenim: null,
    bosh: '',
    vlera: { '@monedha': 'ALL', '#text': 12.5 },
    lokal: 'pa hapësirë emrash',
    adresa: { rruga: 'Rruga "Çajupi" <1> & 2', bashkia: 'Korçë', qarku: 'Korçë', kodiPostar: '7001' },
    grupe: [{ emri: 'ç', vlera: [] }, { emri: 'Ç', vlera: [7] }],
    nenshkrues: 'I50314123V',
  }
  const xml = roundTrip(t, BC, 'mesazh', full, 'all rules at once')
  withRoot(xml, root => {
    const kids = [...root.find('./*')] as XmlElement[]
    t.equal(kids.filter(k => k.name === 'lista').length, 1, 'a one-item array is one element')
    const shenim = kids.find(k => k.name === 'shenim')!
    t.equal(shenim.attrs.find(a => a.name === 'nil')?.value, 'true', 'null is xsi:nil')
    const bosh = kids.find(k => k.name === 'bosh')!
    t.equal(bosh.attrs.length, 0, 'empty string is an empty element, not nil')
    t.equal(bosh.content, '')
    t.equal(kids.find(k => k.name === 'lokal')!.namespaceUri ?? '', '', 'form="unqualified" has no namespace')
    const adresa = kids.find(k => k.name === 'adresa')!
    t.equal((adresa.firstChild as XmlElement).namespaceUri, CORE, 'children of a core type are in the core namespace')
    t.equal(root.attr('versioni')?.value, '2', 'attribute from @versioni')
    t.equal(kids.find(k => k.name === 'vlera')!.attr('monedha')?.value, 'ALL', 'attribute on simple content')
  })

  roundTrip(t, BC, 'mesazh', { lista: [], numer: 0, shuma: 0, flamur: true, data: '2026-01-01', koha: '2026-01-01T00:00:00Z', shenim: '', grupe: [] }, 'empty arrays, zero, true, empty string in a nillable element')
  roundTrip(t, BC, 'mesazh', { lista: ['a', 'b', '  '], numer: 2147483647, shuma: 18750.5, flamur: false, data: '2026-12-20', koha: '2026-12-20T23:59:59.999Z', bosh: 'rreshti 1\r\nrreshti 2\ttab', grupe: [] }, 'whitespace and CR survive')

  const decl = mapper.element(BC, 'mesazh')
  const base = `<b:mesazh xmlns:b="${BC}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`
  const json = (inner: string): unknown => withRoot(`${base}${inner}</b:mesazh>`, root => mapper.toJson(root, decl))
  t.same(json('<b:numer> 42 </b:numer><b:flamur>1</b:flamur><b:shenim/>'), { lista: [], numer: 42, flamur: true, shenim: '', grupe: [] }, 'XML lexical forms: spaces around numbers, 1 for true; an empty element is ""')
  t.same(json('<b:shenim xsi:nil="true"/><b:nenshkrues xsi:nil="1"/>'), { lista: [], shenim: null, grupe: [], nenshkrues: null }, 'xsi:nil is null')

  const fails = (what: string, fn: () => unknown, pattern: RegExp): void => {
    t.throws(fn, pattern, what)
    try { fn() } catch (err) { t.type(err, MappingError, `${what}: a MappingError`) }
  }
  fails('unknown property', () => mapper.toXml(decl, { numer: 1, ekstra: 2 }), /property 'ekstra' is not in the schema/)
  fails('array for a single element', () => mapper.toXml(decl, { numer: [1, 2] }), /does not repeat/)
  fails('null where not nillable', () => mapper.toXml(decl, { numer: null }), /not nillable/)
  fails('object for a simple type', () => mapper.toXml(decl, { numer: { a: 1 } }), /expected a simple value/)
  fails('non-finite number', () => mapper.toXml(decl, { numer: Infinity }), /no XML form/)
  fails('unknown element', () => json('<b:tjeter>1</b:tjeter>'), /tjeter is not in the schema/)
  fails('repeated single element', () => json('<b:numer>1</b:numer><b:numer>2</b:numer>'), /more than once/)
  fails('nil where not nillable', () => json('<b:numer xsi:nil="true"/>'), /not nillable/)
  fails('not a number', () => json('<b:numer>dy</b:numer>'), /'dy' is not a number/)
  fails('not a boolean', () => json('<b:flamur>po</b:flamur>'), /'po' is not a boolean/)
  t.equal(mapper.toXml(mapper.element(BC, 'mesazh'), { shuma: 1e21 }).includes('<ns1:shuma>1000000000000000000000</ns1:shuma>'), true, 'no exponent in decimals')
})

t.test('faults cross the protocol line and come back the same', async t => {
  const soapFault = `<s:Envelope xmlns:s="${SOAP_NS}"><s:Body><s:Fault><faultcode>s:Server.ServerProxy.ServiceFailed</faultcode>` +
    '<faultstring>Regjistri nuk është i disponueshëm — ËÇ</faultstring><detail><faultDetail>ngjarja-42</faultDetail></detail></s:Fault></s:Body></s:Envelope>'
  const rest = withRoot(soapFault, root => faultToRestError((root.get('//s:Fault', { s: SOAP_NS }) as XmlElement), 'req-1'))
  t.same(rest, { status: 500, body: { type: 'Server.ServerProxy.ServiceFailed', message: 'Regjistri nuk është i disponueshëm — ËÇ', detail: 'ngjarja-42' } })
  const again = restErrorToFault(rest.status, 'application/json', Buffer.from(JSON.stringify(rest.body)), 'req-2')
  const back = withRoot(again, root => faultToRestError(root.get('//s:Fault', { s: SOAP_NS }) as XmlElement, 'req-3'))
  t.same(back.body, rest.body, 'SOAP Fault → REST error → SOAP Fault keeps code, string and detail')

  const snake = `<s:Envelope xmlns:s="${SOAP_NS}"><s:Body><s:Fault><faultcode>client.bad_request</faultcode><faultstring>x</faultstring></s:Fault></s:Body></s:Envelope>`
  const client = withRoot(snake, root => faultToRestError(root.get('//s:Fault', { s: SOAP_NS }) as XmlElement, 'req-9'))
  t.same(client, { status: 400, body: { type: 'Client.BadRequest', message: 'x', detail: 'req-9' } }, 'snake_case codes are normalised; Client faults are 400; detail falls back to the request id')

  const plain = restErrorToFault(404, 'application/json', Buffer.from('{"gabim":"Subjekti nuk u gjet"}'), 'req-4')
  t.match(plain, /<faultcode>SOAP-ENV:Client<\/faultcode><faultstring>Subjekti nuk u gjet<\/faultstring>/)
  t.match(plain, /<faultDetail>req-4<\/faultDetail><httpStatus>404<\/httpStatus>/)
  t.match(restErrorToFault(503, 'text/html', Buffer.from('<h1>down</h1>'), 'r'), /SOAP-ENV:Server.*Provider answered HTTP 503/)
})

/** A provider that records requests and answers what the test says. */
async function recorder (answer: (req: IncomingMessage, body: string) => { status: number; type: string; body: string }) {
  const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = []
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body })
    const a = answer(req, body)
    res.writeHead(a.status, { 'content-type': a.type })
    res.end(a.body)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen, close: () => new Promise<void>(r => { server.closeAllConnections(); server.close(() => r()) }) }
}

function soapRequest (client: string, service: string, body: string, extra = ''): string {
  const part = (names: string[], values: string[]): string => names.map((n, i) => values[i] === undefined ? '' : `<id:${n}>${values[i]}</id:${n}>`).join('')
  const c = client.split('/')
  const s = service.split('/')
  return '<?xml version="1.0" encoding="UTF-8"?>' +
    `<s:Envelope xmlns:s="${SOAP_NS}" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:tv="${TV}"><s:Header>` +
    `<xrd:client id:objectType="SUBSYSTEM">${part(['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode'], c)}</xrd:client>` +
    `<xrd:service id:objectType="SERVICE">${part(['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode', 'serviceCode', 'serviceVersion'], s)}</xrd:service>` +
    `<xrd:id>ura-bridge-1</xrd:id><xrd:userId>AL-I50314123V</xrd:userId>${extra}<xrd:protocolVersion>4.0</xrd:protocolVersion></s:Header>` +
    `<s:Body>${body}</s:Body></s:Envelope>`
}

const TAX_SOAP = 'AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimetSubjektit/v1'
const detyrimet = (nipt: string, more = ''): string => `<tv:detyrimetSubjektit><tv:nipt>${nipt}</tv:nipt>${more}</tv:detyrimetSubjektit>`

t.test('bridged calls through the gateway', async t => {
  const rig = await startRig({ config: await demoConfig({}, {}, { bridge: true }) })
  t.teardown(() => rig.close())
  const rest = async (path: string, init: { method?: string; body?: string; client?: string; headers?: Record<string, string> } = {}) => {
    const res = await fetch(`${rig.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { 'X-Road-Client': init.client ?? E_ALBANIA, ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }), ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
    })
    return { status: res.status, headers: res.headers, text: await res.text() }
  }
  const soap = async (xml: string) => {
    const res = await fetch(`${rig.url}/`, { method: 'POST', headers: { 'Content-Type': 'text/xml; charset=utf-8' }, body: xml })
    return { status: res.status, text: await res.text() }
  }

  await t.test('REST client → SOAP provider: every citizen arrives as the same JSON', async t => {
    for (const c of CITIZENS) {
      const res = await rest(`${SHTETASIT}/${c.nid}?arsyeja=${encodeURIComponent('Vërtetim për çështje pronësie')}`, { headers: { 'X-Road-Id': `msg-${c.nid}` } })
      t.equal(res.status, 200, res.text)
      t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
      t.equal(res.text, JSON.stringify({ gjetur: true, shtetas: citizenJson(c) }), `${c.nid}: field for field, types and ë/ç intact`)
      t.equal(res.headers.get('x-road-id'), `msg-${c.nid}`)
      t.equal(res.headers.get('x-road-service'), 'AL-DEV/GOV/L01417001D/regjistri-civil/shtetasit')
      t.match(res.headers.get('x-road-request-hash'), /^[A-Za-z0-9+/]{86}==$/)
    }
  })

  await t.test('REST client → SOAP provider with a JSON body', async t => {
    const res = await rest(`${SHTETASIT}/kerko`, { method: 'POST', body: JSON.stringify({ nid: 'K16102045M', arsyeja: 'Çertifikatë' }) })
    t.equal(res.status, 200, res.text)
    t.same(JSON.parse(res.text).shtetas.mbiemri, 'Çela')
    const none = await rest(`${SHTETASIT}/A10101001R`)
    t.equal(none.text, '{"gjetur":false}', 'an unknown citizen is a normal answer')
  })

  await t.test('a SOAP Fault from the provider becomes the REST error shape', async t => {
    const res = await rest(`${SHTETASIT}/${FAULT_NID}`)
    t.equal(res.status, 500)
    t.equal(res.headers.get('x-road-error'), null, 'a provider error, not the node\'s')
    const body = JSON.parse(res.text)
    t.same(body, { type: 'Server', message: FAULT_STRING, detail: res.headers.get('x-road-request-id') })
  })

  await t.test('the provider\'s XML is held to its XSD before mapping', async t => {
    const res = await rest(`${SHTETASIT}/${INVALID_RESPONSE_NID}`)
    t.equal(res.status, 502)
    t.equal(res.headers.get('x-road-error'), 'Server.ServerProxy.InvalidResponse')
    t.match(res.text, /gjinia/)
    t.notMatch(res.text, /Besnik/)
  })

  await t.test('bad REST input never reaches the provider', async t => {
    const res = await rest(`${SHTETASIT}/I50314123A`)
    t.equal(res.status, 400)
    t.equal(res.headers.get('x-road-error'), 'Client.InvalidBody')
    t.match(res.text, /check letter does not match \(NID\)/)
    const extra = await rest(`${SHTETASIT}/kerko`, { method: 'POST', body: JSON.stringify({ nid: 'I50314123V', tjeter: 1 }) })
    t.equal(extra.headers.get('x-road-error'), 'Client.InvalidBody')
    const twice = await rest(`${SHTETASIT}/I50314123V?nid=I50314123V`)
    t.equal(twice.headers.get('x-road-error'), 'Client.InvalidBody', 'a query parameter the schema does not allow')
  })

  await t.test('SOAP client → REST provider', async t => {
    const res = await soap(soapRequest(TAX_AGENCY, TAX_SOAP, detyrimet('K81305012I', '<tv:viti>2026</tv:viti>')))
    t.equal(res.status, 200, res.text)
    withRoot(res.text, root => {
      const ns = { s: SOAP_NS, tv: TV, xrd: 'http://x-road.eu/xsd/xroad.xsd' }
      t.equal(root.get('//xrd:id', ns)?.content, 'ura-bridge-1', 'X-Road headers are echoed')
      t.ok(root.get('//xrd:requestHash', ns), 'requestHash is added')
      const response = root.get('//s:Body/tv:detyrimetSubjektitResponse', ns) as XmlElement
      t.same(mapper.toJson(response, mapper.element(TV, 'detyrimetSubjektitResponse')), taxAnswer('K81305012I', 2026), 'the municipality\'s JSON, as XML, maps back to the same JSON')
      t.equal(root.get('//tv:subjekti/tv:emri', ns)?.content, 'Furra e Bukës "Çajupi" sh.p.k.')
    })
    const one = await soap(soapRequest(TAX_AGENCY, TAX_SOAP, detyrimet('K81305012I', '<tv:viti>2025</tv:viti>')))
    t.equal(one.text.split('<ns1:detyrime>').length - 1, 1, 'one obligation, one element')
    const none = await soap(soapRequest(TAX_AGENCY, TAX_SOAP, detyrimet('M31518001P', '<tv:viti>2026</tv:viti><tv:vetemTePapaguara>true</tv:vetemTePapaguara>')))
    t.equal(none.status, 200)
    t.notMatch(none.text, /detyrime>/, 'no obligations, no elements')
    t.match(none.text, /<ns1:totaliPapaguar>0<\/ns1:totaliPapaguar>/)
  })

  await t.test('REST provider errors become SOAP Faults', async t => {
    const unknown = await soap(soapRequest(TAX_AGENCY, TAX_SOAP, detyrimet('L41526502B')))
    t.equal(unknown.status, 500)
    t.match(unknown.text, /<faultcode>SOAP-ENV:Client<\/faultcode><faultstring>Subjekti L41526502B nuk është i regjistruar në Bashkinë Tiranë<\/faultstring>/)
    t.match(unknown.text, /<httpStatus>404<\/httpStatus>/)
    const failing = await soap(soapRequest(TAX_AGENCY, TAX_SOAP, detyrimet(FAILING_NIPT)))
    t.match(failing.text, /<faultcode>SOAP-ENV:Server<\/faultcode><faultstring>Baza e të dhënave e taksave nuk përgjigjet<\/faultstring>/)
    const malformed = await soap(soapRequest(TAX_AGENCY, TAX_SOAP, detyrimet(MALFORMED_NIPT)))
    t.match(malformed.text, /<faultcode>Server.ServerProxy.InvalidResponse<\/faultcode>/, 'JSON that breaks the XSD is refused')
  })

  await t.test('SOAP input is checked by type before it is bridged', async t => {
    const res = await soap(soapRequest(TAX_AGENCY, TAX_SOAP, detyrimet('K81305012A')))
    t.match(res.text, /<faultcode>Client.InvalidBody<\/faultcode>/)
    t.match(res.text, /check letter of NIPT K81305012A should be I/)
  })

  await t.test('each face answers only its own protocol, and grants still apply', async t => {
    const restOnSoap = await rest('/r1/AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimetSubjektit/x', { client: TAX_AGENCY })
    t.equal(restOnSoap.headers.get('x-road-error'), 'Server.ServerProxy.ServiceType')
    const denied = await rest(`${SHTETASIT}/I50314123V`, { client: DURRES_SOCIAL })
    t.equal(denied.headers.get('x-road-error'), 'Server.ServerProxy.AccessDenied')
    const soapDenied = await soap(soapRequest(E_ALBANIA, TAX_SOAP, detyrimet('K81305012I')))
    t.match(soapDenied.text, /Server.ServerProxy.AccessDenied/)
  })
  t.notOk(rig.logs.some(l => l.includes('"level":50')), 'no internal errors were logged')
})

t.test('what the providers receive from the bridge', async t => {
  const soapProvider = await recorder(() => ({
    status: 200,
    type: 'text/xml; charset=utf-8',
    body: `<?xml version="1.0" encoding="UTF-8"?><e:Envelope xmlns:e="${SOAP_NS}"><e:Body><r:kerkoShtetasResponse xmlns:r="${RC}"><r:gjetur>false</r:gjetur></r:kerkoShtetasResponse></e:Body></e:Envelope>`,
  }))
  const restProvider = await recorder(() => ({ status: 200, type: 'application/json', body: JSON.stringify(taxAnswer('K81305012I', 2025)) }))
  t.teardown(async () => { await soapProvider.close(); await restProvider.close() })
  const config = await demoConfig({
    'bridge.yaml': text => text.replace('url: http://127.0.0.1:4402/regjistri-civil', `url: ${soapProvider.url}/rc`).replace('url: http://127.0.0.1:4401/api/v1', `url: ${restProvider.url}/api/v1`),
  }, {}, { bridge: true })
  const rig = await startRig({ config })
  t.teardown(() => rig.close())

  const res = await fetch(`${rig.url}${SHTETASIT}/I50314123V?arsyeja=${encodeURIComponent('Lëshim certifikate')}`, {
    headers: { 'X-Road-Client': E_ALBANIA, 'X-Road-Id': 'msg-77', 'X-Road-UserId': 'AL-K16102045M', 'X-Road-Issue': 'ÇËSHTJA-9' },
  })
  t.equal(res.status, 200)
  const sent = soapProvider.seen[0]
  t.equal(sent.url, '/rc')
  t.match(sent.headers['content-type'], /^text\/xml; charset=utf-8/)
  t.equal(sent.headers.soapaction, '""')
  withRoot(sent.body, root => {
    const ns = { s: SOAP_NS, x: 'http://x-road.eu/xsd/xroad.xsd', i: 'http://x-road.eu/xsd/identifiers', r: RC }
    const text = (p: string): string | undefined => root.get(p, ns)?.content
    t.equal(text('//x:client/@i:objectType'), 'SUBSYSTEM')
    t.equal(text('//x:client/i:subsystemCode'), 'e-albania', 'the REST client is the SOAP client')
    t.equal(text('//x:service/i:serviceCode'), 'kerkoShtetas', 'the operation is the SOAP service code')
    t.equal(text('//x:service/i:serviceVersion'), 'v1')
    t.equal(text('//x:service/i:subsystemCode'), 'regjistri-civil')
    t.equal(text('//x:id'), 'msg-77')
    t.equal(text('//x:userId'), 'AL-K16102045M')
    t.equal(text('//x:issue'), 'ÇËSHTJA-9')
    t.equal(text('//x:protocolVersion'), '4.0')
    t.equal(text('//s:Body/r:kerkoShtetas/r:nid'), 'I50314123V')
    t.equal(text('//s:Body/r:kerkoShtetas/r:arsyeja'), 'Lëshim certifikate', 'query parameter → element, UTF-8 intact')
  })

  const soapRes = await fetch(`${rig.url}/`, { method: 'POST', headers: { 'Content-Type': 'text/xml; charset=utf-8' }, body: soapRequest(TAX_AGENCY, TAX_SOAP, detyrimet('K81305012I', '<tv:viti>2025</tv:viti><tv:vetemTePapaguara>false</tv:vetemTePapaguara>'), '<xrd:issue>Ç-1</xrd:issue>') })
  t.equal(soapRes.status, 200)
  const got = restProvider.seen[0]
  t.equal(got.method, 'GET')
  t.equal(got.url, '/api/v1/subjekte/K81305012I/detyrime?viti=2025&vetemTePapaguara=false', 'path parameter from the element, the rest as query')
  t.equal(got.headers['x-road-client'], TAX_AGENCY)
  t.equal(got.headers['x-road-id'], 'ura-bridge-1')
  t.equal(got.headers['x-road-userid'], 'AL-I50314123V')
  t.match(got.headers['x-road-request-id'], /^[0-9a-f-]{36}$/)
  t.equal(got.headers.accept, 'application/json')
})

t.test('bridge configuration mistakes are reported at start', async t => {
  const build = async (edit: (text: string) => string): Promise<string> => {
    const config = await demoConfig({ 'bridge.yaml': edit }, {}, { bridge: true })
    try {
      const registry = await Registry.build(config, library)
      await registry.close()
      return ''
    } catch (err) {
      t.type(err, ConfigError)
      return (err as Error).message
    }
  }
  t.match(await build(s => s.replace('providerType: soap', 'providerType: rest\n      request: { method: GET, path: /x }')), /providerType must name the provider's protocol/)
  t.match(await build(s => s.replace('path: /kerko, operation', 'path: /kerko2, operation')), /POST \/kerko2 is not one of the service's endpoints/)
  t.match(await build(s => s.replace('operation: kerkoShtetas, version: v1 }\n        - { method: POST', 'operation: kerkoShtetasX, version: v1 }\n        - { method: POST')), /no global element \{http:\/\/ura.gov.al\/demo\/regjistri-civil\/v1\}kerkoShtetasX/)
  t.match(await build(s => s.replace('namespace: http://ura.gov.al/demo/regjistri-civil/v1', 'namespace: urn:nowhere')), /no XSD in the schema library has targetNamespace urn:nowhere/)
  await t.rejects(demoConfig({ 'bridge.yaml': s => s.replace('      providerType: rest\n', '') }, {}, { bridge: true }), /adapter: missing required property 'providerType'/, 'a bridge names its provider type')
  await t.rejects(demoConfig({ 'bridge.yaml': s => s.replace('      request: { method: GET, path: "/subjekte/{nipt}/detyrime" }\n', '') }, {}, { bridge: true }), /adapter: missing required property 'request'/, 'a bridge to REST names its request')
  await t.rejects(demoConfig({ 'bridge.yaml': s => s.replace('      namespace: http://ura.gov.al/demo/regjistri-civil/v1\n', '') }, {}, { bridge: true }), /adapter: missing required property 'namespace'/, 'a bridge to SOAP names its namespace')
})
