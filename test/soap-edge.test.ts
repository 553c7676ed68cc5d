/**
 * The SOAP 4.0 edge end to end: real demo providers, a real gateway, raw HTTP from the outside.
 * Covers the happy path, the header echo and requestHash, every gateway-made Fault with its
 * code, schema validation both ways, provider failures, the byte cap and fault-code spelling.
 */
import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { createServer as createHttpServer, type ServerResponse } from 'node:http'
import { createServer as createTcpServer, type AddressInfo } from 'node:net'
import { request, type Dispatcher } from 'undici'
import { XmlC14NMode, XmlDocument, XmlElement } from 'libxml2-wasm'
import { startCivilRegistry, type CivilRegistry } from '../demo/civil-registry.ts'
import { FAULT_NID, FAULT_STRING, INVALID_RESPONSE_NID } from '../demo/civil-registry-data.ts'
import { normaliseFaultCode } from '../protocol/errors.ts'
import { parseRequestEnvelope } from '../gateway/edge/soap/request.ts'
import { readProviderResponse } from '../gateway/edge/soap/response.ts'
import { withDoc } from './support/xml.ts'
import { demoConfig, startRig, TIRANA_CIVIL, type Rig, UNGRANTED, UNGRANTED_MEMBER_YAML } from './support/gateway.ts'

const SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/'
const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope'
const XRD_NS = 'http://x-road.eu/xsd/xroad.xsd'
const ID_NS = 'http://x-road.eu/xsd/identifiers'
const RC_NS = 'http://ura.gov.al/demo/regjistri-civil/v1'
const SHA512 = 'http://www.w3.org/2001/04/xmlenc#sha512'
const NS = { s: SOAP_NS, xrd: XRD_NS, id: ID_NS, rc: RC_NS }

const CIVIL_V1 = 'AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas/v1'
const DEMO_CIVIL_URL = 'http://127.0.0.1:4402/regjistri-civil'
const GOOD_NID = 'I50314123V'
const REQUEST_LIMIT = 1024 * 1024


// ---- building requests ------------------------------------------------------------------------

function idParts (names: string[], values: string[]): string {
  return values.map((v, i) => `<id:${names[i]}>${v}</id:${names[i]}>`).join('')
}

/** `xrd:client` for `instance/class/code[/subsystem]`; the text is split, never validated here. */
function clientEl (key: string = TIRANA_CIVIL, objectType?: string): string {
  const parts = key.split('/')
  const type = objectType ?? (parts.length === 4 ? 'SUBSYSTEM' : 'MEMBER')
  return `<xrd:client id:objectType="${type}">${idParts(['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode'], parts)}</xrd:client>`
}

/** `xrd:service` for `instance/class/code/subsystem/serviceCode[/version]`. */
function serviceEl (text: string = CIVIL_V1): string {
  return `<xrd:service id:objectType="SERVICE">${idParts(['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode', 'serviceCode', 'serviceVersion'], text.split('/'))}</xrd:service>`
}

const field = (name: string, value: string): string => `<xrd:${name}>${value}</xrd:${name}>`

interface HeaderOptions {
  client?: string
  service?: string
  id?: string
  protocolVersion?: string
  omit?: Array<'client' | 'service' | 'id' | 'protocolVersion'>
}

function header (o: HeaderOptions = {}): string[] {
  const out: Record<string, string> = {
    client: clientEl(o.client),
    service: serviceEl(o.service),
    id: field('id', o.id ?? 'ura-edge-0001'),
    userId: field('userId', 'AL-K16102045M'),
    issue: field('issue', 'CERT-2026-0042'),
    protocolVersion: field('protocolVersion', o.protocolVersion ?? '4.0'),
  }
  for (const name of o.omit ?? []) delete out[name]
  return Object.values(out)
}

function kerko (nid: string = GOOD_NID, arsyeja?: string, wrapper = 'kerkoShtetas'): string {
  const purpose = arsyeja === undefined ? '' : `<rc:arsyeja>${arsyeja}</rc:arsyeja>`
  return `<rc:${wrapper}><rc:nid>${nid}</rc:nid>${purpose}</rc:${wrapper}>`
}

/** A SOAP 1.1 envelope; `null` leaves the Header or Body element out altogether. */
function envelope (headerEls: string[] | null = header(), body: string | null = kerko(), prolog = '<?xml version="1.0" encoding="UTF-8"?>\n'): string {
  const h = headerEls === null ? '' : `\n  <soapenv:Header>\n    ${headerEls.join('\n    ')}\n  </soapenv:Header>`
  const b = body === null ? '' : `\n  <soapenv:Body>${body}</soapenv:Body>`
  return `${prolog}<soapenv:Envelope xmlns:soapenv="${SOAP_NS}" xmlns:xrd="${XRD_NS}" xmlns:id="${ID_NS}" xmlns:rc="${RC_NS}">${h}${b}\n</soapenv:Envelope>\n`
}

// ---- talking to the gateway -------------------------------------------------------------------

interface Reply {
  status: number
  headers: Record<string, string>
  bytes: Buffer
  text: string
  ms: number
}

async function send (url: string, body: string | Buffer | undefined, opts: { contentType?: string; method?: string } = {}): Promise<Reply> {
  const started = performance.now()
  const headers: Record<string, string> = {}
  if (opts.contentType !== '') headers['content-type'] = opts.contentType ?? 'text/xml; charset=utf-8'
  const res = await request(url, { method: (opts.method ?? 'POST') as Dispatcher.HttpMethod, headers, ...(body === undefined ? {} : { body }) })
  const bytes = Buffer.from(await res.body.arrayBuffer())
  const flat: Record<string, string> = {}
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v
  return { status: res.statusCode, headers: flat, bytes, text: bytes.toString('utf8'), ms: performance.now() - started }
}

interface Fault { code: string; message: string; detail: string | undefined }

function readFault (bytes: Buffer): Fault {
  return withDoc(bytes, doc => {
    const fault = doc.get('/s:Envelope/s:Body/s:Fault', NS)
    if (!(fault instanceof XmlElement)) throw new Error(`not a SOAP Fault: ${bytes.toString('utf8').slice(0, 300)}`)
    return {
      code: fault.get('faultcode')?.content ?? '',
      message: fault.get('faultstring')?.content ?? '',
      detail: fault.get('detail/faultDetail')?.content,
    }
  })
}

/** A gateway-made Fault: HTTP 500, text/xml, the code, and the request id in both places. */
function expectFault (t: Test, res: Reply, code: string): Fault {
  t.equal(res.status, 500, 'HTTP 500')
  t.match(res.headers['content-type'], /^text\/xml\b/, 'text/xml')
  const fault = readFault(res.bytes)
  t.equal(fault.code, code, `faultcode ${code}`)
  const requestId = res.headers['x-road-request-id']
  t.match(requestId, /^[0-9a-f-]{36}$/, 'x-road-request-id header is set')
  t.equal(fault.detail, requestId, 'faultDetail is the request id')
  return fault
}

function headerChildren (doc: XmlDocument): XmlElement[] {
  return doc.find('/s:Envelope/s:Header/*', NS).filter((n): n is XmlElement => n instanceof XmlElement)
}

const canonical = (el: XmlElement): string => el.canonicalizeToString({ mode: XmlC14NMode.XML_C14N_EXCLUSIVE_1_0 })

function citizen (doc: XmlDocument, name: string): string | undefined {
  return doc.get(`/s:Envelope/s:Body/rc:kerkoShtetasResponse/rc:shtetas/rc:${name}`, NS)?.content
}

/** A port that was free a moment ago and has nothing listening on it now. */
async function closedPort (): Promise<number> {
  const srv = createTcpServer()
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address() as AddressInfo
  await new Promise<void>(resolve => srv.close(() => resolve()))
  return port
}

async function rigWith (t: Test, edits: Record<string, (text: string) => string>): Promise<Rig> {
  const rig = await startRig({ config: await demoConfig(edits) })
  t.teardown(() => rig.close())
  return rig
}

/** Edits the first service in services.yaml (the civil registry). */
const civilService = (edit: (text: string) => string) => ({ 'services.yaml': edit })

// ---- the shared rig: our own civil registry (to count lookups) plus the ungranted member -------

let civil: CivilRegistry
let rig: Rig
let url: string

t.before(async () => {
  civil = await startCivilRegistry({ port: 0 })
  const config = await demoConfig({ 'services.yaml': s => s.replace(DEMO_CIVIL_URL, civil.url) }, { 'arkiva.yaml': UNGRANTED_MEMBER_YAML })
  rig = await startRig({ config })
  url = `${rig.url}/`
})
t.teardown(async () => {
  await rig?.close()
  await civil?.close()
})

/** Runs a request that must fail before the provider: checks the Fault and that no lookup ran. */
async function refused (t: Test, body: string | Buffer | undefined, code: string, opts: { contentType?: string; method?: string } = {}): Promise<Fault> {
  const before = civil.stats.lookups
  const res = await send(url, body, opts)
  const fault = expectFault(t, res, code)
  t.equal(civil.stats.lookups, before, 'the provider was not called')
  return fault
}

// ---- 1. happy path ----------------------------------------------------------------------------

t.test('a good request returns the citizen from the provider', async t => {
  const before = civil.stats.lookups
  const res = await send(url, envelope(header(), kerko(GOOD_NID, 'Lëshim certifikate familjare')))
  t.equal(res.status, 200)
  t.match(res.headers['content-type'], /^text\/xml; charset=utf-8$/i)
  t.match(res.headers['x-road-request-id'], /^[0-9a-f-]{36}$/)
  t.equal(civil.stats.lookups, before + 1, 'exactly one lookup')
  withDoc(res.bytes, doc => {
    const wrapper = doc.get('/s:Envelope/s:Body/*', NS) as XmlElement
    t.equal(wrapper.name, 'kerkoShtetasResponse')
    t.equal(wrapper.namespaceUri, RC_NS)
    t.equal(doc.get('/s:Envelope/s:Body/rc:kerkoShtetasResponse/rc:gjetur', NS)?.content, 'true')
    t.equal(citizen(doc, 'nid'), GOOD_NID)
    t.equal(citizen(doc, 'emri'), 'Artan')
    t.equal(citizen(doc, 'mbiemri'), 'Hoxha')
    t.equal(citizen(doc, 'vendlindja'), 'Tiranë', 'non-ASCII text survives the rebuild')
    t.equal(citizen(doc, 'adresa/rc:rruga'), 'Rruga e Kavajës')
  })
})

t.test('an unknown citizen is a normal answer with gjetur=false', async t => {
  const res = await send(url, envelope(header(), kerko('A10101001R')))
  t.equal(res.status, 200)
  withDoc(res.bytes, doc => {
    t.equal(doc.get('/s:Envelope/s:Body/rc:kerkoShtetasResponse/rc:gjetur', NS)?.content, 'false')
    t.equal(doc.get('/s:Envelope/s:Body/rc:kerkoShtetasResponse/rc:shtetas', NS), null)
  })
})

// ---- 2. header echo and requestHash -----------------------------------------------------------

t.test('header echo keeps the request order and values; requestHash comes last', async t => {
  // Unusual order, prefixes declared on the Header (not the Envelope), and a forged requestHash.
  const forged = '<x:requestHash algorithmId="http://www.w3.org/2001/04/xmlenc#sha256">Zm9yZ2Vk</x:requestHash>'
  const els = [
    '<x:id>ura-edge-order-42</x:id>',
    '<x:protocolVersion>4.0</x:protocolVersion>',
    '<x:issue>CERT-2026-0099</x:issue>',
    forged,
    '<x:userId>AL-K16102045M</x:userId>',
    `<x:service i:objectType="SERVICE">${idParts(['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode', 'serviceCode', 'serviceVersion'], CIVIL_V1.split('/')).replaceAll('id:', 'i:')}</x:service>`,
    `<x:client i:objectType="SUBSYSTEM">${idParts(['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode'], TIRANA_CIVIL.split('/')).replaceAll('id:', 'i:')}</x:client>`,
  ]
  const text = '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<e:Envelope xmlns:e="${SOAP_NS}"><e:Header xmlns:x="${XRD_NS}" xmlns:i="${ID_NS}">${els.join('\n')}</e:Header>` +
    `<e:Body><k:kerkoShtetas xmlns:k="${RC_NS}"><k:nid>${GOOD_NID}</k:nid></k:kerkoShtetas></e:Body></e:Envelope>`
  const requestBytes = Buffer.from(text, 'utf8')
  const expectedHash = createHash('sha512').update(requestBytes).digest('base64')

  const res = await send(url, requestBytes)
  t.equal(res.status, 200, res.text.slice(0, 400))

  const sent = withDoc(requestBytes, doc => headerChildren(doc)
    .filter(e => !(e.name === 'requestHash' && e.namespaceUri === XRD_NS))
    .map(e => ({ name: e.name, ns: e.namespaceUri, c14n: canonical(e) })))
  t.same(sent.map(e => e.name), ['id', 'protocolVersion', 'issue', 'userId', 'service', 'client'], 'request as built')

  withDoc(res.bytes, doc => {
    const got = headerChildren(doc)
    t.equal(got.length, sent.length + 1, 'every request field once, plus one requestHash')
    t.same(got.slice(0, -1).map(e => e.name), sent.map(e => e.name), 'same order as the request')
    sent.forEach((want, i) => {
      t.equal(got[i].namespaceUri, want.ns, `${want.name} keeps its namespace`)
      t.equal(canonical(got[i]), want.c14n, `${want.name} is echoed with the same content`)
    })
    const hashes = got.filter(e => e.name === 'requestHash')
    t.equal(hashes.length, 1, 'the forged requestHash is not echoed')
    const hash = got[got.length - 1]
    t.equal(hash.name, 'requestHash', 'requestHash is last')
    t.equal(hash.namespaceUri, XRD_NS)
    t.equal(hash.attr('algorithmId')?.value, SHA512)
    t.equal(hash.content, expectedHash, 'SHA-512 of the exact request bytes')
    t.not(hash.content, 'Zm9yZ2Vk')
    t.equal(citizen(doc, 'nid'), GOOD_NID, 'the body still comes from the provider')
  })
})

t.test('the requestHash changes with a single byte of the request', async t => {
  const a = Buffer.from(envelope(header({ id: 'hash-a' })))
  const b = Buffer.from(envelope(header({ id: 'hash-b' })))
  const [ra, rb] = await Promise.all([send(url, a), send(url, b)])
  const hashOf = (r: Reply): string | undefined => withDoc(r.bytes, doc => doc.get('/s:Envelope/s:Header/xrd:requestHash', NS)?.content)
  t.equal(hashOf(ra), createHash('sha512').update(a).digest('base64'))
  t.equal(hashOf(rb), createHash('sha512').update(b).digest('base64'))
  t.not(hashOf(ra), hashOf(rb))
})

// ---- 3. gateway-made Faults -------------------------------------------------------------------

t.test('missing X-Road header fields', async t => {
  for (const name of ['client', 'service', 'id', 'protocolVersion'] as const) {
    await t.test(`without ${name}`, async t => {
      const fault = await refused(t, envelope(header({ omit: [name] })), 'Client.MissingHeaderField')
      t.match(fault.message, name)
    })
  }
  await t.test('without any Header', async t => {
    await refused(t, envelope(null), 'Client.MissingHeaderField')
  })
})

t.test('duplicate xrd:id', async t => {
  const fault = await refused(t, envelope([...header(), field('id', 'second-id')]), 'Client.DuplicateHeaderField')
  t.match(fault.message, 'id')
})

t.test('protocolVersion 3.1', async t => {
  const fault = await refused(t, envelope(header({ protocolVersion: '3.1' })), 'Client.InvalidProtocolVersion')
  t.match(fault.message, '3.1')
})

t.test('body wrapper that does not match the service code', async t => {
  const fault = await refused(t, envelope(header(), kerko(GOOD_NID, undefined, 'kerkoTjeter')), 'Client.InvalidBody')
  t.match(fault.message, 'kerkoTjeter')
})

t.test('malformed XML', async t => {
  const text = envelope().replace('</soapenv:Body>', '')
  const fault = await refused(t, text, 'Client.InvalidSoap')
  t.match(fault.message, /Malformed XML/)
})

t.test('not XML at all', async t => {
  await refused(t, 'this is not xml', 'Client.InvalidSoap')
})

t.test('DTDs are refused before parsing', async t => {
  await t.test('external entity (XXE)', async t => {
    const text = envelope(header(), kerko(GOOD_NID, '&e;'), '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n')
    const fault = await refused(t, text, 'Client.InvalidSoap')
    t.match(fault.message, /DTD/)
    t.notMatch(fault.message, /root:/, 'nothing from the file leaks')
  })
  await t.test('billion laughs', async t => {
    let dtd = '<!ENTITY l0 "lol">'
    for (let i = 1; i <= 9; i++) dtd += `<!ENTITY l${i} "${`&l${i - 1};`.repeat(10)}">`
    const text = envelope(header(), kerko(GOOD_NID, '&l9;'), `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE lolz [${dtd}]>\n`)
    const res = await send(url, text)
    expectFault(t, res, 'Client.InvalidSoap')
    t.ok(res.ms < 2000, `answered quickly (${Math.round(res.ms)} ms)`)
  })
  // The byte check for '<!DOCTYPE' only sees ASCII-compatible encodings. A UTF-16 document carries
  // its DTD past it; it should still be refused (SOAP forbids DTDs) and never reach the provider.
  await t.test('a DTD in a UTF-16 document', async t => {
    const text = envelope(header().map(e => e.replace('AL-K16102045M', '&e;')), kerko(),
      '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n')
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])
    const res = await send(url, bytes, { contentType: 'text/xml; charset=utf-16' })
    t.equal(res.status, 500)
    t.notMatch(res.text, /root:/, 'nothing from the file leaks')
    t.equal(readFault(res.bytes).code, 'Client.InvalidSoap', 'refused as a DTD')
    t.equal(res.headers['content-type'], 'text/xml; charset=utf-8', 'a gateway-made Fault, not a provider answer')
  })
  await t.test('the node still answers', async t => {
    const res = await send(url, envelope())
    t.equal(res.status, 200)
  })
})

t.test('content types', async t => {
  await t.test('application/json', async t => {
    await refused(t, '{"nid":"I50314123V"}', 'Client.InvalidContentType', { contentType: 'application/json' })
  })
  await t.test('SOAP 1.2 as application/soap+xml', async t => {
    const soap12 = envelope().replaceAll(SOAP_NS, SOAP12_NS)
    await refused(t, soap12, 'Client.InvalidContentType', { contentType: 'application/soap+xml; charset=utf-8' })
  })
  await t.test('no content type', async t => {
    await refused(t, envelope(), 'Client.InvalidContentType', { contentType: '' })
  })
  await t.test('text/xml with a charset and odd casing is accepted', async t => {
    const res = await send(url, envelope(), { contentType: 'Text/XML;charset=UTF-8' })
    t.equal(res.status, 200)
  })
})

t.test('a SOAP 1.2 envelope sent as text/xml', async t => {
  const fault = await refused(t, envelope().replaceAll(SOAP_NS, SOAP12_NS), 'Client.InvalidSoap')
  t.match(fault.message, /SOAP 1\.2/)
})

t.test('HTTP methods other than POST', async t => {
  for (const method of ['GET', 'PUT', 'DELETE']) {
    await t.test(method, async t => {
      await refused(t, undefined, 'Client.InvalidHttpMethod', { method, contentType: '' })
    })
  }
})

t.test('empty body', async t => {
  await refused(t, '', 'Client.MissingSoap')
})

t.test('envelope without a Body', async t => {
  await refused(t, envelope(header(), null), 'Client.MissingBody')
})

t.test('Body without an element', async t => {
  await refused(t, envelope(header(), ''), 'Client.MissingBody')
})

t.test('Body with two elements', async t => {
  const fault = await refused(t, envelope(header(), kerko() + kerko()), 'Client.InvalidSoap')
  t.match(fault.message, /exactly one element/)
})

t.test('client identifiers', async t => {
  await t.test('underscore in the subsystem code', async t => {
    const fault = await refused(t, envelope(header({ client: 'AL-DEV/NJQV/L21603004L/gjendja_civile' })), 'Client.InvalidClientIdentifier')
    t.match(fault.message, 'gjendja_civile')
  })
  await t.test('space in the subsystem code', async t => {
    await refused(t, envelope(header({ client: 'AL-DEV/NJQV/L21603004L/gjendja civile' })), 'Client.InvalidClientIdentifier')
  })
  await t.test('objectType MEMBER with a subsystem code', async t => {
    await refused(t, envelope([clientEl(TIRANA_CIVIL, 'MEMBER'), ...header({ omit: ['client'] })]), 'Client.InvalidClientIdentifier')
  })
  await t.test('unknown subsystem of a known member', async t => {
    const fault = await refused(t, envelope(header({ client: 'AL-DEV/NJQV/L21603004L/arkiva' })), 'Client.InvalidClientIdentifier')
    t.match(fault.message, 'not registered')
  })
  await t.test('a client of another instance', async t => {
    await refused(t, envelope(header({ client: 'AL-PROD/NJQV/L21603004L/gjendja-civile' })), 'Client.InvalidClientIdentifier')
  })
})

t.test('unknown service code', async t => {
  const body = kerko(GOOD_NID, undefined, 'kerkoProne')
  const fault = await refused(t, envelope(header({ service: 'AL-DEV/GOV/L01417001D/regjistri-civil/kerkoProne/v1' }), body), 'Server.ServerProxy.UnknownService')
  t.match(fault.message, 'kerkoProne')
})

t.test('unknown service version', async t => {
  await refused(t, envelope(header({ service: 'AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas/v9' })), 'Server.ServerProxy.UnknownService')
})

t.test('a REST service called over SOAP', async t => {
  const body = '<rc:detyrimet><rc:nid>I50314123V</rc:nid></rc:detyrimet>'
  const fault = await refused(t, envelope(header({ service: 'AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet' }), body), 'Server.ServerProxy.ServiceType')
  t.match(fault.message, /REST/)
})

t.test('a registered client without a grant', async t => {
  const fault = await refused(t, envelope(header({ client: UNGRANTED })), 'Server.ServerProxy.AccessDenied')
  t.match(fault.message, UNGRANTED)
})

t.test('an mTLS-only client over plain HTTP', async t => {
  await refused(t, envelope(header({ client: 'AL-DEV/NJQV/L21603004L/taksat-vendore' })), 'Server.ClientProxy.SslAuthenticationFailed')
})

t.test('a disabled service', async t => {
  const notice = 'Shërbimi është në mirëmbajtje deri në orën 18:00'
  const own = await rigWith(t, civilService(s => s.replace('bodyLogging: digest', `bodyLogging: digest\n    disabled: { notice: "${notice}" }`)))
  const res = await send(`${own.url}/`, envelope())
  const fault = expectFault(t, res, 'Server.ServerProxy.ServiceDisabled')
  t.match(fault.message, notice, 'the notice reaches the caller intact')
})

// ---- 4. request schema validation -------------------------------------------------------------

t.test('request XSD violations are all listed', async t => {
  const fault = await refused(t, envelope(header(), kerko('X123', 'a'.repeat(201))), 'Client.InvalidBody')
  t.match(fault.message, /nid/)
  t.match(fault.message, /'X123'/)
  t.match(fault.message, /arsyeja/)
  t.match(fault.message, /201/)
})

t.test('arsyeja of exactly 200 characters (multi-byte) passes', async t => {
  const res = await send(url, envelope(header(), kerko(GOOD_NID, 'ë'.repeat(200))))
  t.equal(res.status, 200, 'maxLength counts characters, not bytes')
})

// ---- 5. provider Fault ------------------------------------------------------------------------

t.test('a provider Fault is passed through unchanged', async t => {
  const text = envelope(header(), kerko(FAULT_NID))
  const before = civil.stats.lookups
  const res = await send(url, text)
  t.equal(res.status, 500)
  t.match(res.headers['x-road-request-id'], /^[0-9a-f-]{36}$/)
  t.equal(civil.stats.lookups, before + 1, 'the provider was called')
  const fault = readFault(res.bytes)
  t.equal(fault.message, FAULT_STRING, 'faultstring intact, UTF-8')
  t.match(fault.code, /Server$/)

  // Byte for byte what the provider says to the same request.
  const direct = await send(civil.url, text)
  t.equal(direct.status, 500)
  t.equal(res.text, direct.text, 'same bytes as the provider sent')
})

// ---- 6. response validation -------------------------------------------------------------------

t.test('a response breaking the schema', async t => {
  await t.test('enforce (default): InvalidResponse', async t => {
    const res = await send(url, envelope(header(), kerko(INVALID_RESPONSE_NID)))
    const fault = expectFault(t, res, 'Server.ServerProxy.InvalidResponse')
    t.match(fault.message, /gjinia/)
    t.notMatch(res.text, /Besnik/, 'none of the invalid record leaks')
  })
  await t.test('warn: passes through and is logged', async t => {
    const own = await rigWith(t, civilService(s => s.replace('bodyLogging: digest', 'bodyLogging: digest\n    responseValidation: warn')))
    const res = await send(`${own.url}/`, envelope(header(), kerko(INVALID_RESPONSE_NID)))
    t.equal(res.status, 200)
    withDoc(res.bytes, doc => {
      t.equal(citizen(doc, 'nid'), INVALID_RESPONSE_NID)
      t.equal(citizen(doc, 'gjinia'), 'X')
    })
    t.ok(own.logs.some(l => l.includes('provider response does not match its schema')), 'a warning is logged')
  })
})

// ---- 7. provider down / silent ----------------------------------------------------------------

t.test('provider unreachable', async t => {
  const port = await closedPort()
  const own = await rigWith(t, civilService(s => s.replace(DEMO_CIVIL_URL, `http://127.0.0.1:${port}/regjistri-civil`)))
  const res = await send(`${own.url}/`, envelope())
  expectFault(t, res, 'Server.ServerProxy.ServiceFailed.NetworkError')
})

t.test('provider that never answers', async t => {
  const held: ServerResponse[] = []
  const silent = createHttpServer((_req, res) => { held.push(res) })
  await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => {
    silent.closeAllConnections()
    silent.close(() => resolve())
  }))
  const { port } = silent.address() as AddressInfo
  const own = await rigWith(t, civilService(s => s
    .replace(DEMO_CIVIL_URL, `http://127.0.0.1:${port}/regjistri-civil`)
    .replace('timeoutMs: 5000', 'timeoutMs: 300')))
  const res = await send(`${own.url}/`, envelope())
  const fault = expectFault(t, res, 'Server.ServerProxy.ServiceFailed.Timeout')
  t.match(fault.message, '300')
  t.equal(held.length, 1, 'the request did reach the provider')
  t.ok(res.ms >= 250, `not before the deadline (${Math.round(res.ms)} ms)`)
  t.ok(res.ms < 2000, `soon after the deadline (${Math.round(res.ms)} ms)`)
})

// ---- odd providers ----------------------------------------------------------------------------

t.test('answers from a scripted provider', async t => {
  let answer: (request: Buffer) => { status: number; type: string; body: string | Buffer } = () => ({ status: 500, type: 'text/plain', body: 'unset' })
  const fake = createHttpServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const a = answer(Buffer.concat(chunks))
      res.writeHead(a.status, { 'content-type': a.type })
      res.end(a.body)
    })
  })
  await new Promise<void>(resolve => fake.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => {
    fake.closeAllConnections()
    fake.close(() => resolve())
  }))
  const { port } = fake.address() as AddressInfo
  const own = await rigWith(t, civilService(s => s.replace(DEMO_CIVIL_URL, `http://127.0.0.1:${port}/regjistri-civil`)))
  const ownUrl = `${own.url}/`
  const notFound = `<kerkoShtetasResponse xmlns="${RC_NS}"><gjetur>false</gjetur></kerkoShtetasResponse>`

  await t.test('not XML', async t => {
    answer = () => ({ status: 502, type: 'text/html', body: '<html><body>Bad Gateway</body>' })
    expectFault(t, await send(ownUrl, envelope()), 'Server.ServerProxy.ServiceFailed.InvalidSoap')
  })

  await t.test('a provider Fault in ISO-8859-1 is passed on byte for byte', async t => {
    const latin1 = Buffer.from(`<?xml version="1.0" encoding="ISO-8859-1"?><s:Envelope xmlns:s="${SOAP_NS}"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>Regjistri nuk është gati</faultstring></s:Fault></s:Body></s:Envelope>`, 'latin1')
    answer = () => ({ status: 500, type: 'text/xml; charset=ISO-8859-1', body: latin1 })
    const res = await send(ownUrl, envelope())
    t.equal(res.status, 500)
    t.equal(res.headers['content-type'], 'text/xml; charset=ISO-8859-1')
    t.equal(Buffer.compare(res.bytes, latin1), 0, 'the same bytes the provider sent')
  })

  await t.test('a provider echoing a different id', async t => {
    answer = () => ({
      status: 200,
      type: 'text/xml',
      body: `<s:Envelope xmlns:s="${SOAP_NS}" xmlns:xrd="${XRD_NS}"><s:Header><xrd:id>someone-else</xrd:id></s:Header><s:Body>${notFound}</s:Body></s:Envelope>`,
    })
    const fault = expectFault(t, await send(ownUrl, envelope()), 'Server.ClientProxy.InconsistentResponse')
    t.match(fault.message, 'id')
  })

  await t.test('a provider without a Header and with its own prefixes', async t => {
    answer = () => ({ status: 200, type: 'text/xml', body: `<S:Envelope xmlns:S="${SOAP_NS}"><S:Body>${notFound}</S:Body></S:Envelope>` })
    const text = envelope(header({ id: 'no-header-provider' }))
    const res = await send(ownUrl, text)
    t.equal(res.status, 200)
    withDoc(res.bytes, doc => {
      const names = headerChildren(doc).map(e => `${e.namespaceUri} ${e.name}`)
      t.same(names, ['client', 'service', 'id', 'userId', 'issue', 'protocolVersion', 'requestHash'].map(n => `${XRD_NS} ${n}`), 'the echo is built from the request alone')
      t.equal(doc.get('/s:Envelope/s:Header/xrd:requestHash', NS)?.content, createHash('sha512').update(text).digest('base64'))
      t.equal(doc.get('/s:Envelope/s:Body/rc:kerkoShtetasResponse/rc:gjetur', NS)?.content, 'false')
    })
  })

  // A provider envelope in the default namespace meets request headers that inherit a default
  // namespace: the echoed fields must stay X-Road elements, not turn into SOAP ones.
  await t.test('default-namespace provider envelope and default-namespace request headers', async t => {
    answer = () => ({ status: 200, type: 'text/xml', body: `<Envelope xmlns="${SOAP_NS}"><Body>${notFound}</Body></Envelope>` })
    const text = `<soapenv:Envelope xmlns:soapenv="${SOAP_NS}" xmlns="${XRD_NS}" xmlns:id="${ID_NS}" xmlns:rc="${RC_NS}"><soapenv:Header>` +
      header().map(e => e.replaceAll('xrd:', '')).join('') + `</soapenv:Header><soapenv:Body>${kerko()}</soapenv:Body></soapenv:Envelope>`
    const res = await send(ownUrl, text)
    t.equal(res.status, 200)
    withDoc(res.bytes, doc => {
      const els = headerChildren(doc)
      t.equal(els.length, 7)
      t.same(els.map(e => e.namespaceUri), els.map(() => XRD_NS), 'every echoed field is in the X-Road namespace')
    })
  })
})

// ---- 8. byte cap ------------------------------------------------------------------------------

/** A valid request padded with a trailing comment to exactly `size` bytes. */
function paddedRequest (size: number): Buffer {
  const base = Buffer.from(envelope())
  const pad = size - base.length - '<!---->'.length
  return Buffer.concat([base, Buffer.from(`<!--${'x'.repeat(pad)}-->`)])
}

t.test('request size limit', async t => {
  await t.test('exactly the limit is accepted', async t => {
    const body = paddedRequest(REQUEST_LIMIT)
    t.equal(body.length, REQUEST_LIMIT)
    const res = await send(url, body)
    t.equal(res.status, 200)
  })
  await t.test('one byte over is refused', async t => {
    const body = paddedRequest(REQUEST_LIMIT + 1)
    const fault = await refused(t, body, 'Client.RequestTooLarge')
    t.match(fault.message, /limit/)
  })
  await t.test('the node still answers', async t => {
    const res = await send(url, envelope())
    t.equal(res.status, 200)
  })
})

// ---- 9. still up after everything -------------------------------------------------------------

t.test('after all the bad input a good request still succeeds', async t => {
  const res = await send(url, envelope(header({ id: 'ura-edge-last' })))
  t.equal(res.status, 200)
  withDoc(res.bytes, doc => {
    t.equal(doc.get('/s:Envelope/s:Header/xrd:id', NS)?.content, 'ura-edge-last')
    t.equal(citizen(doc, 'emri'), 'Artan')
  })
  t.notOk(rig.logs.some(l => l.includes('Server.ClientProxy.InternalError')), 'no internal errors were logged')
})

// ---- 10. fault-code spelling ------------------------------------------------------------------

t.test('normaliseFaultCode', async t => {
  t.equal(normaliseFaultCode('server.serverproxy.access_denied'), 'Server.ServerProxy.AccessDenied')
  t.equal(normaliseFaultCode('server.serverproxy.service_failed.ssl_authentication_failed'), 'Server.ServerProxy.ServiceFailed.SslAuthenticationFailed')
  t.equal(normaliseFaultCode('client.invalid_soap'), 'Client.InvalidSoap')
  t.equal(normaliseFaultCode(' server.clientproxy.logging_failed \n'), 'Server.ClientProxy.LoggingFailed')
  for (const code of ['Server.ServerProxy.AccessDenied', 'Server.ServerProxy.ServiceFailed.Timeout', 'Client.InvalidClientIdentifier', 'Server.ClientProxy.SslAuthenticationFailed']) {
    t.equal(normaliseFaultCode(code), code, `${code} unchanged`)
  }
})

// ---- header echo copied as text: prefixes never resolve through the provider's envelope ----------

t.test('header echo copied from the request bytes keeps every namespace, whatever the provider envelope binds', t => {
  const client = `<client xmlns="${XRD_NS}" xmlns:i="${ID_NS}" i:objectType="SUBSYSTEM">${idParts(['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode'], TIRANA_CIVIL.split('/')).replaceAll('id:', 'i:')}</client>`
  const service = `<s:service i:objectType="SERVICE">${idParts(['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode', 'serviceCode', 'serviceVersion'], CIVIL_V1.split('/')).replaceAll('id:', 'i:')}</s:service>`
  const rest = '<s:id>ura-text-echo-1</s:id><!-- a comment with </e:Header> in it --><s:userId><![CDATA[AL-K16102045M]]></s:userId><s:protocolVersion>4.0</s:protocolVersion><plain a="x>y">no namespace</plain>'
  const body = `<e:Body><k:kerkoShtetas xmlns:k="${RC_NS}"><k:nid>${GOOD_NID}</k:nid></k:kerkoShtetas></e:Body>`
  // The request binds `s` to the X-Road namespace; `plain` is in no namespace.
  const request = `<?xml version="1.0" encoding="UTF-8"?>\n<e:Envelope xmlns:e="${SOAP_NS}" xmlns:s="${XRD_NS}" xmlns:i="${ID_NS}"><e:Header>\n  ${client}${service}${rest}\n</e:Header>${body}</e:Envelope>`
  const answer = `<k:kerkoShtetasResponse xmlns:k="${RC_NS}"><k:gjetur>false</k:gjetur></k:kerkoShtetasResponse>`
  const providers = {
    'envelope prefix rebound by the request': `<s:Envelope xmlns:s="${SOAP_NS}"><s:Body>${answer}</s:Body></s:Envelope>`,
    'envelope in the default namespace': `<Envelope xmlns="${SOAP_NS}"><Body>${answer}</Body></Envelope>`,
    'default namespace declared on a prefixed envelope': `<p:Envelope xmlns:p="${SOAP_NS}" xmlns="urn:other"><p:Body>${answer}</p:Body></p:Envelope>`,
  }
  const want = withDoc(request, doc => headerChildren(doc).map(e => `{${e.namespaceUri}}${e.name} ${canonical(e)}`))
  for (const [encoding, bytes] of [['UTF-8', Buffer.from(request, 'utf8')], ['UTF-16', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(request.replace('UTF-8', 'UTF-16'), 'utf16le')])]] as const) {
    const envelope = parseRequestEnvelope(bytes)
    envelope.doc.dispose()
    t.equal(envelope.headerIsText, encoding === 'UTF-8', `${encoding}: header ${encoding === 'UTF-8' ? 'copied as text' : 'canonicalised'}`)
    for (const [name, provider] of Object.entries(providers)) {
      const response = readProviderResponse(Buffer.from(provider), { ...envelope, requestHash: 'aGFzaA==' })
      const out = response.build()
      response.dispose()
      withDoc(out, doc => {
        const got = headerChildren(doc).map(e => `{${e.namespaceUri}}${e.name} ${canonical(e)}`)
        t.same(got.slice(0, -1), want, `${encoding}, ${name}: same elements, namespaces and content`)
        t.match(got.at(-1), `{${XRD_NS}}requestHash`, `${encoding}, ${name}: requestHash last`)
        t.equal(doc.root.namespaceUri, SOAP_NS)
        t.equal((doc.get('/s:Envelope/s:Body/*', NS) as XmlElement).name, 'kerkoShtetasResponse', `${encoding}, ${name}: provider body kept`)
      })
    }
  }
  t.end()
})
