/**
 * The hostile input corpus: hand-written and generated requests that a gateway on the public
 * administration's network will meet sooner or later. Each case is the exact bytes to write on a
 * fresh TCP connection (so framing attacks can be expressed) and the X-Road error codes that are
 * acceptable answers. `test/hostile.test.ts` sends them all and checks that each gets one of its
 * typed errors, that no provider sees any of them, and that the node stays up with flat memory.
 */
import { DEMO_ENVELOPE } from './http.ts'

export interface HostileCase {
  category: string
  name: string
  bytes: Buffer
  /** Any of these codes (X-Road-Error header or SOAP faultcode) is a correct answer. */
  codes: string[]
}

export const CLIENT = 'AL-DEV/GOV/K11503002N/e-albania'
/** Granted POST /pagesa in the hostile test's configuration. */
export const PAYER = 'AL-DEV/NJQV/M51305009K/ndihma-sociale'
export const TAX = '/r1/AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet'
export const GOOD_GET = `${TAX}/subjekte/K81305012I/detyrime`
export const GOOD_PAYMENT = JSON.stringify({ nipt: 'K81305012I', lloji: 'takse-biznesi', shuma: 15000, referenca: 'REF-123456' })

const BAD_REQUEST = ['Client.BadRequest']
const INVALID_SOAP = ['Client.InvalidSoap']
const INVALID_BODY = ['Client.InvalidBody']
const INVALID_CLIENT = ['Client.InvalidClientIdentifier']

type Header = [string, string]

/** An HTTP/1.1 request; Host, Connection: close and Content-Length are added unless `bare`. */
export function httpRequest (method: string, target: string, headers: Header[], body?: string | Buffer, bare = false): Buffer {
  const b = body === undefined ? Buffer.alloc(0) : typeof body === 'string' ? Buffer.from(body, 'utf8') : body
  const all: Header[] = bare ? headers : [['Host', 'ura.test'], ...headers, ['Connection', 'close']]
  if (!bare && body !== undefined && !headers.some(([n]) => /^(content-length|transfer-encoding)$/i.test(n))) all.push(['Content-Length', String(b.length)])
  const head = `${method} ${target} HTTP/1.1\r\n${all.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`
  return Buffer.concat([Buffer.from(head, 'latin1'), b])
}

const rest = (target: string, headers: Header[] = [['X-Road-Client', CLIENT]], method = 'GET', body?: string | Buffer): Buffer => httpRequest(method, target, headers, body)
const soapBytes = (xml: string | Buffer, type = 'text/xml; charset=utf-8'): Buffer => httpRequest('POST', '/', [['Content-Type', type]], xml)
const payment = (body: string | Buffer, type = 'application/json'): Buffer => httpRequest('POST', `${TAX}/pagesa`, [['X-Road-Client', PAYER], ['Content-Type', type]], body)

// ---- SOAP building blocks ---------------------------------------------------------------------

const ENV_OPEN = DEMO_ENVELOPE.slice(DEMO_ENVELOPE.indexOf('<soapenv:Envelope'), DEMO_ENVELOPE.indexOf('<soapenv:Header>'))
const HEADER = DEMO_ENVELOPE.slice(DEMO_ENVELOPE.indexOf('<soapenv:Header>'), DEMO_ENVELOPE.indexOf('<soapenv:Body>'))
const BODY = DEMO_ENVELOPE.slice(DEMO_ENVELOPE.indexOf('<soapenv:Body>'), DEMO_ENVELOPE.indexOf('</soapenv:Envelope>'))
const KERKO = BODY.replace('<soapenv:Body>', '').replace('</soapenv:Body>', '')

function envelope (parts: { open?: string; header?: string; body?: string; close?: string; prolog?: string } = {}): string {
  return (parts.prolog ?? '<?xml version="1.0" encoding="UTF-8"?>\n') + (parts.open ?? ENV_OPEN) + (parts.header ?? HEADER) + (parts.body ?? BODY) + (parts.close ?? '</soapenv:Envelope>')
}

const withHeader = (from: string, to: string): string => envelope({ header: HEADER.replace(from, to) })
const withKerko = (inner: string): string => envelope({ body: `<soapenv:Body>${inner}</soapenv:Body>` })

// ---- the corpus -------------------------------------------------------------------------------

function xxe (): HostileCase[] {
  const out: HostileCase[] = []
  const dtds: Array<[string, string]> = [
    ['external entity, file', '<!DOCTYPE soapenv:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'],
    ['external entity, network', '<!DOCTYPE soapenv:Envelope [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/leak">]>'],
    ['external entity, https', '<!DOCTYPE soapenv:Envelope [<!ENTITY xxe SYSTEM "https://attacker.invalid/x">]>'],
    ['parameter entity, network', '<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]>'],
    ['external DTD', '<!DOCTYPE soapenv:Envelope SYSTEM "http://127.0.0.1:9/evil.dtd">'],
    ['public external DTD', '<!DOCTYPE soapenv:Envelope PUBLIC "-//X//Y" "file:///etc/hostname">'],
    ['billion laughs', '<!DOCTYPE lolz [<!ENTITY lol "lol">' + Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('') + ']>'],
    ['quadratic blowup', `<!DOCTYPE q [<!ENTITY a "${'a'.repeat(50_000)}">]>`],
    ['internal entity only', '<!DOCTYPE soapenv:Envelope [<!ENTITY x "harmless">]>'],
    ['empty DTD', '<!DOCTYPE soapenv:Envelope>'],
    ['php filter scheme', '<!DOCTYPE x [<!ENTITY xxe SYSTEM "php://filter/resource=/etc/passwd">]>'],
    ['jar scheme', '<!DOCTYPE x [<!ENTITY xxe SYSTEM "jar:http://127.0.0.1:9/x.jar!/a">]>'],
  ]
  const uses = ['&xxe;', '&lol9;', '&a;', '&x;', '']
  for (const [name, dtd] of dtds) {
    for (const [where, nidText] of [['entity in body', uses.find(u => dtd.includes(u.slice(1, -1)) && u !== '') ?? ''], ['no reference', '']] as const) {
      const xml = envelope({ prolog: `<?xml version="1.0" encoding="UTF-8"?>\n${dtd}\n`, body: BODY.replace('I50314123V', nidText === '' ? 'I50314123V' : nidText) })
      out.push({ category: 'xxe', name: `${name} (${where})`, bytes: soapBytes(xml), codes: INVALID_SOAP })
    }
  }
  // A DTD written in UTF-16: not found by a byte search, found by the parser.
  const utf16 = Buffer.from('\ufeff<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + envelope({ prolog: '' }), 'utf16le')
  out.push({ category: 'xxe', name: 'external entity in a UTF-16 document', bytes: soapBytes(utf16), codes: INVALID_SOAP })
  // No DTD, other ways to make a parser fetch: XInclude, schemaLocation, stylesheet PI.
  out.push({ category: 'xxe', name: 'XInclude in the body', bytes: soapBytes(withKerko(`<rc:kerkoShtetas><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/></rc:kerkoShtetas>`)), codes: INVALID_BODY })
  out.push({ category: 'xxe', name: 'XInclude as the body element', bytes: soapBytes(withKerko('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="http://127.0.0.1:9/x"/>')), codes: INVALID_BODY })
  out.push({ category: 'xxe', name: 'entity reference without a DTD', bytes: soapBytes(envelope({ body: BODY.replace('I50314123V', '&xxe;') })), codes: INVALID_SOAP })
  return out
}

function nesting (): HostileCase[] {
  const out: HostileCase[] = []
  for (const depth of [300, 5_000, 100_000]) {
    out.push({ category: 'nesting', name: `JSON arrays ${depth} deep`, bytes: payment('['.repeat(depth) + ']'.repeat(depth)), codes: depth * 2 > 1024 * 1024 ? ['Client.RequestTooLarge'] : INVALID_BODY })
    const obj = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
    out.push({ category: 'nesting', name: `JSON objects ${depth} deep`, bytes: payment(obj), codes: obj.length > 1024 * 1024 ? ['Client.RequestTooLarge'] : INVALID_BODY })
    out.push({ category: 'nesting', name: `JSON nested inside a valid field, ${depth} deep`, bytes: payment(GOOD_PAYMENT.replace('"REF-123456"', '['.repeat(depth) + ']'.repeat(depth))), codes: INVALID_BODY })
    const xml = withKerko(`<rc:kerkoShtetas><rc:nid>I50314123V</rc:nid>${'<d>'.repeat(depth)}${'</d>'.repeat(depth)}</rc:kerkoShtetas>`)
    out.push({ category: 'nesting', name: `XML elements ${depth} deep in the body`, bytes: soapBytes(xml), codes: Buffer.byteLength(xml) > 1024 * 1024 ? ['Client.RequestTooLarge'] : [...INVALID_SOAP, ...INVALID_BODY] })
    const inHeader = envelope({ header: HEADER.replace('<xrd:protocolVersion>', `${'<x>'.repeat(depth)}${'</x>'.repeat(depth)}<xrd:protocolVersion>`) })
    out.push({ category: 'nesting', name: `XML elements ${depth} deep in the header`, bytes: soapBytes(inHeader), codes: Buffer.byteLength(inHeader) > 1024 * 1024 ? ['Client.RequestTooLarge'] : INVALID_SOAP })
  }
  return out
}

function hugeNames (): HostileCase[] {
  const out: HostileCase[] = []
  for (const size of [60_000, 500_000]) {
    const name = 'e'.repeat(size)
    out.push({ category: 'huge names', name: `element name of ${size} bytes`, bytes: soapBytes(withKerko(`<rc:kerkoShtetas><${name}/></rc:kerkoShtetas>`)), codes: [...INVALID_SOAP, ...INVALID_BODY] })
    out.push({ category: 'huge names', name: `attribute name of ${size} bytes`, bytes: soapBytes(withKerko(`<rc:kerkoShtetas ${name}="1"><rc:nid>I50314123V</rc:nid></rc:kerkoShtetas>`)), codes: [...INVALID_SOAP, ...INVALID_BODY] })
    out.push({ category: 'huge names', name: `namespace prefix of ${size} bytes`, bytes: soapBytes(withKerko(`<${name}:kerkoShtetas xmlns:${name}="http://ura.gov.al/demo/regjistri-civil/v1"/>`)), codes: [...INVALID_SOAP, ...INVALID_BODY] })
    out.push({ category: 'huge names', name: `attribute value of ${size} bytes`, bytes: soapBytes(withKerko(`<rc:kerkoShtetas a="${'v'.repeat(size)}"><rc:nid>I50314123V</rc:nid></rc:kerkoShtetas>`)), codes: INVALID_BODY })
    out.push({ category: 'huge names', name: `JSON key of ${size} bytes`, bytes: payment(GOOD_PAYMENT.replace('{', `{"${name}":1,`)), codes: INVALID_BODY })
    out.push({ category: 'huge names', name: `header element name of ${size} bytes`, bytes: soapBytes(envelope({ header: HEADER.replace('<xrd:protocolVersion>', `<${name}/><xrd:protocolVersion>`) })), codes: INVALID_SOAP })
  }
  const manyAttrs = Array.from({ length: 20_000 }, (_, i) => `a${i}="x"`).join(' ')
  out.push({ category: 'huge names', name: '20,000 attributes on one element', bytes: soapBytes(withKerko(`<rc:kerkoShtetas ${manyAttrs}><rc:nid>I50314123V</rc:nid></rc:kerkoShtetas>`)), codes: INVALID_BODY })
  out.push({ category: 'huge names', name: 'duplicate attributes', bytes: soapBytes(withKerko('<rc:kerkoShtetas a="1" a="2"><rc:nid>I50314123V</rc:nid></rc:kerkoShtetas>')), codes: INVALID_SOAP })
  out.push({ category: 'huge names', name: '50,000 sibling elements', bytes: soapBytes(withKerko(`<rc:kerkoShtetas>${'<rc:nid>I50314123V</rc:nid>'.repeat(30_000)}</rc:kerkoShtetas>`)), codes: INVALID_BODY })
  return out
}

function oversize (): HostileCase[] {
  const limit = 1024 * 1024
  const bigJson = GOOD_PAYMENT.replace('"REF-123456"', `"${'x'.repeat(limit)}"`)
  const bigXml = envelope().replace('</soapenv:Envelope>', `<!--${'x'.repeat(limit)}--></soapenv:Envelope>`)
  const chunked = (total: number): Buffer => {
    const piece = 'x'.repeat(64 * 1024)
    let body = ''
    for (let n = 0; n < total; n += piece.length) body += `${piece.length.toString(16)}\r\n${piece}\r\n`
    return Buffer.from(body + '0\r\n\r\n')
  }
  return [
    { category: 'oversize', name: 'REST body one MiB + 1 KiB', bytes: payment(bigJson), codes: ['Client.RequestTooLarge'] },
    { category: 'oversize', name: 'SOAP body one MiB + comment', bytes: soapBytes(bigXml), codes: ['Client.RequestTooLarge'] },
    { category: 'oversize', name: 'declared Content-Length of 10 GB, small body', bytes: httpRequest('POST', `${TAX}/pagesa`, [['X-Road-Client', PAYER], ['Content-Type', 'application/json'], ['Content-Length', '10000000000']], GOOD_PAYMENT), codes: ['Client.RequestTooLarge'] },
    { category: 'oversize', name: 'SOAP declared Content-Length over the limit', bytes: httpRequest('POST', '/', [['Content-Type', 'text/xml'], ['Content-Length', String(limit + 1)]], envelope()), codes: ['Client.RequestTooLarge'] },
    { category: 'oversize', name: 'chunked REST body over the limit', bytes: httpRequest('POST', `${TAX}/pagesa`, [['X-Road-Client', PAYER], ['Content-Type', 'application/json'], ['Transfer-Encoding', 'chunked']], chunked(limit + 65536)), codes: ['Client.RequestTooLarge'] },
    { category: 'oversize', name: 'chunked SOAP body over the limit', bytes: httpRequest('POST', '/', [['Content-Type', 'text/xml'], ['Transfer-Encoding', 'chunked']], chunked(limit + 65536)), codes: ['Client.RequestTooLarge'] },
    { category: 'oversize', name: 'one 20 KB header', bytes: rest(GOOD_GET, [['X-Road-Client', CLIENT], ['X-Pad', 'p'.repeat(20_000)]]), codes: ['Client.RequestHeaderTooLarge'] },
    { category: 'oversize', name: '20 KB X-Road-Client', bytes: rest(GOOD_GET, [['X-Road-Client', CLIENT + 'x'.repeat(20_000)]]), codes: ['Client.RequestHeaderTooLarge'] },
    { category: 'oversize', name: '200 headers', bytes: rest(GOOD_GET, [['X-Road-Client', CLIENT], ...Array.from({ length: 200 }, (_, i): Header => [`X-H${i}`, 'v'])]), codes: ['Client.RequestHeaderTooLarge'] },
    { category: 'oversize', name: '101 headers, each small', bytes: rest(GOOD_GET, [['X-Road-Client', CLIENT], ...Array.from({ length: 99 }, (_, i): Header => [`X-H${i}`, 'v'])]), codes: ['Client.RequestHeaderTooLarge'] },
    { category: 'oversize', name: '20 KB request target', bytes: rest(`${GOOD_GET}?q=${'a'.repeat(20_000)}`), codes: ['Client.RequestHeaderTooLarge'] },
    { category: 'oversize', name: 'SOAP with a 20 KB SOAPAction', bytes: httpRequest('POST', '/', [['Content-Type', 'text/xml'], ['SOAPAction', 'a'.repeat(20_000)]], envelope()), codes: ['Client.RequestHeaderTooLarge'] },
  ]
}

function invalidUtf8 (): HostileCase[] {
  const out: HostileCase[] = []
  const sequences: Array<[string, number[]]> = [
    ['lone continuation byte', [0x80]], ['truncated two-byte', [0xc3]], ['invalid lead 0xFF', [0xff]], ['invalid lead 0xFE', [0xfe]],
    ['overlong slash', [0xc0, 0xaf]], ['overlong NUL', [0xc0, 0x80]], ['UTF-16 surrogate', [0xed, 0xa0, 0x80]], ['beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['truncated four-byte', [0xf0, 0x9f, 0x98]], ['latin-1 ë', [0xeb]],
  ]
  for (const [name, bytes] of sequences) {
    const bad = Buffer.from(bytes)
    const [pre, post] = GOOD_PAYMENT.split('REF-123456')
    out.push({ category: 'invalid UTF-8', name: `JSON string: ${name}`, bytes: payment(Buffer.concat([Buffer.from(pre + 'REF-12'), bad, Buffer.from('3456' + post)])), codes: INVALID_BODY })
    const [sPre, sPost] = envelope().split('Lëshim certifikate')
    out.push({ category: 'invalid UTF-8', name: `XML text: ${name}`, bytes: soapBytes(Buffer.concat([Buffer.from(sPre), bad, Buffer.from(sPost)])), codes: INVALID_SOAP })
  }
  // In headers and the request target, bytes arrive as latin-1 and must fail identifier checks.
  out.push({ category: 'invalid UTF-8', name: 'X-Road-Client with raw 0xFF', bytes: Buffer.concat([httpRequest('GET', GOOD_GET, [['X-Road-Client', 'AL-DEV/GOV/K11503002N/e-alb\xffania']])]), codes: INVALID_CLIENT })
  out.push({ category: 'invalid UTF-8', name: 'X-Road-Client percent-encoded invalid UTF-8', bytes: rest(GOOD_GET, [['X-Road-Client', 'AL-DEV/GOV/K11503002N/e-alb%FFania']]), codes: INVALID_CLIENT })
  out.push({ category: 'invalid UTF-8', name: 'path segment percent-encoded invalid UTF-8', bytes: rest(`${TAX}/subjekte/%C3%28/detyrime`), codes: BAD_REQUEST })
  out.push({ category: 'invalid UTF-8', name: 'service id percent-encoded invalid UTF-8', bytes: rest('/r1/AL-DEV/NJQV/L21603004L/taksat-vendore/detyr%FFimet/subjekte/K81305012I/detyrime'), codes: BAD_REQUEST })
  return out
}

function contentTypes (): HostileCase[] {
  const out: HostileCase[] = []
  for (const type of ['application/json', 'text/plain', 'application/soap+xml; charset=utf-8', 'application/xml', 'multipart/related; type="application/xop+xml"; boundary=x', 'text/html', 'text/xmlx', 'xml', 'text/xml-external-parsed-entity', '', 'text/ xml', 'application/x-www-form-urlencoded']) {
    out.push({ category: 'content type', name: `SOAP as '${type}'`, bytes: soapBytes(envelope(), type), codes: ['Client.InvalidContentType'] })
  }
  for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/json', 'application/jsonx', 'application/javascript']) {
    out.push({ category: 'content type', name: `JSON body as '${type}'`, bytes: payment(GOOD_PAYMENT, type), codes: INVALID_BODY })
  }
  out.push({ category: 'content type', name: 'JSON body without a content type', bytes: httpRequest('POST', `${TAX}/pagesa`, [['X-Road-Client', PAYER]], GOOD_PAYMENT), codes: INVALID_BODY })
  out.push({ category: 'content type', name: 'XML sent to the JSON endpoint as application/json', bytes: payment(envelope()), codes: INVALID_BODY })
  out.push({ category: 'content type', name: 'JSON sent to the SOAP edge as text/xml', bytes: soapBytes(GOOD_PAYMENT), codes: INVALID_SOAP })
  return out
}

/** Characters outside `A-Z a-z 0-9 ' ( ) + , - . = ?`, as they would appear on the wire. */
const BAD_CHARS: Array<[string, string]> = [
  ['space', '%20'], ['underscore', '_'], ['hash', '%23'], ['NUL', '%00'], ['newline', '%0A'], ['carriage return', '%0D'], ['tab', '%09'],
  ['e with diaeresis', '%C3%AB'], ['Cyrillic a', '%D0%B0'], ['less-than', '%3C'], ['semicolon', ';'], ['asterisk', '*'], ['exclamation', '!'],
  ['at', '@'], ['dollar', '$'], ['ampersand', '&'], ['tilde', '~'], ['backslash', '%5C'], ['pipe', '|'], ['quote', '%22'], ['colon', ':'],
  ['percent', '%25'], ['zero-width space', '%E2%80%8B'], ['fullwidth A', '%EF%BC%A1'],
]

function identifiers (): HostileCase[] {
  const out: HostileCase[] = []
  for (const [name, ch] of BAD_CHARS) {
    out.push({ category: 'identifier characters', name: `X-Road-Client subsystem with ${name}`, bytes: rest(GOOD_GET, [['X-Road-Client', `AL-DEV/GOV/K11503002N/e-al${ch}bania`]]), codes: INVALID_CLIENT })
    out.push({ category: 'identifier characters', name: `service member code with ${name}`, bytes: rest(`/r1/AL-DEV/NJQV/L2160${ch}3004L/taksat-vendore/detyrimet/subjekte/K81305012I/detyrime`), codes: BAD_REQUEST })
  }
  for (const [name, ch] of BAD_CHARS.slice(0, 12)) {
    const xmlChar = decodeURIComponent(ch).replace('&', '&amp;').replace('<', '&lt;')
    if (xmlChar === '\u0000') continue // not representable in XML at all: covered by the invalid XML cases
    out.push({ category: 'identifier characters', name: `SOAP client subsystem with ${name}`, bytes: soapBytes(withHeader('gjendja-civile', `gjendja${xmlChar}civile`)), codes: INVALID_CLIENT })
    out.push({ category: 'identifier characters', name: `SOAP service code with ${name}`, bytes: soapBytes(withHeader('<id:serviceCode>kerkoShtetas', `<id:serviceCode>kerko${xmlChar}Shtetas`)), codes: [...BAD_REQUEST, ...INVALID_BODY] })
  }
  const shapes: Array<[string, string]> = [
    ['two parts', 'AL-DEV/GOV'], ['five parts', 'AL-DEV/GOV/K11503002N/e-albania/extra'], ['empty part', 'AL-DEV//K11503002N/e-albania'],
    ['trailing slash', 'AL-DEV/GOV/K11503002N/e-albania/'], ['leading slash', '/AL-DEV/GOV/K11503002N/e-albania'], ['only slashes', '///'],
    ['comma-joined two clients', `${CLIENT}, AL-DEV/NJQV/L21603004L/gjendja-civile`], ['encoded slash inside a part', 'AL-DEV/GOV/K11503002N%2Fe-albania/x'],
    ['malformed percent-encoding', 'AL-DEV/GOV/K11503002N/e-albania%'], ['overlong encoded slash', 'AL-DEV/GOV/K11503002N/e%C0%AFalbania'],
  ]
  for (const [name, value] of shapes) out.push({ category: 'identifier characters', name: `X-Road-Client ${name}`, bytes: rest(GOOD_GET, [['X-Road-Client', value]]), codes: INVALID_CLIENT })
  out.push({ category: 'identifier characters', name: 'empty X-Road-Client', bytes: rest(GOOD_GET, [['X-Road-Client', '']]), codes: ['Client.MissingHeader'] })
  out.push({ category: 'identifier characters', name: 'no X-Road-Client', bytes: rest(GOOD_GET, []), codes: ['Client.MissingHeader'] })
  return out
}

function pathTricks (): HostileCase[] {
  const tricks: Array<[string, string]> = [
    ['dot-dot', '/subjekte/../../../admin'], ['encoded dot-dot', '/subjekte/%2e%2e/%2e%2e/admin'], ['mixed-case encoded dot-dot', '/subjekte/%2E%2e/admin'],
    ['half-encoded dot-dot', '/subjekte/.%2e/admin'], ['single dot', '/subjekte/./K81305012I/detyrime'], ['encoded single dot', '/subjekte/%2e/K81305012I/detyrime'],
    ['encoded slash', '/subjekte/K81305012I%2F..%2Fadmin/detyrime'], ['lower-case encoded slash', '/subjekte/K81305012I%2fdetyrime'],
    ['encoded backslash', '/subjekte/..%5C..%5Cadmin/detyrime'], ['raw backslash', '/subjekte/..\\admin/detyrime'],
    ['double-encoded slash', '/subjekte/K81305012I%252F..%252Fadmin/detyrime'], ['double-encoded dot-dot', '/subjekte/%252e%252e/detyrime'],
    ['overlong UTF-8 dot', '/subjekte/%c0%ae%c0%ae/detyrime'], ['overlong UTF-8 slash', '/subjekte/K81305012I%c0%afadmin/detyrime'],
    ['encoded NUL', '/subjekte/K81305012I%00/detyrime'], ['lone percent', '/subjekte/K81305012I%/detyrime'], ['bad hex', '/subjekte/%zz/detyrime'],
    ['fullwidth dots', '/subjekte/%EF%BC%8E%EF%BC%8E/detyrime'], ['path parameter', '/subjekte/K81305012I;jsessionid=1/detyrime'],
    ['double slash', '/subjekte//K81305012I/detyrime'], ['trailing dot-dot', '/subjekte/K81305012I/detyrime/..'],
    ['dot-dot then target', '/qytetare/../subjekte/K81305012I/detyrime'], ['encoded question mark', '/subjekte/K81305012I%3F/detyrime'],
    ['unicode slash', '/subjekte/K81305012I%E2%88%95admin/detyrime'],
  ]
  const out: HostileCase[] = tricks.map(([name, path]) => ({
    category: 'path tricks',
    name,
    bytes: rest(TAX + path),
    codes: ['Client.BadRequest', 'Server.ServerProxy.AccessDenied', 'Server.ServerProxy.UnknownService', 'Client.InvalidBody'],
  }))
  const idTricks: Array<[string, string]> = [
    ['encoded slash in the instance', '/r1/AL-DEV%2FGOV/NJQV/L21603004L/taksat-vendore/detyrimet/x'],
    ['dot-dot as the service code', '/r1/AL-DEV/NJQV/L21603004L/taksat-vendore/../detyrimet'],
    ['encoded dot-dot as the subsystem', '/r1/AL-DEV/NJQV/L21603004L/%2e%2e/detyrimet/x'],
    ['empty member code', '/r1/AL-DEV/NJQV//taksat-vendore/detyrimet/x'],
    ['too few parts', '/r1/AL-DEV/NJQV/L21603004L/taksat-vendore'],
    ['r2 protocol', '/r2/AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet/x'],
    ['encoded r1', '/%72%31/AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet/x'],
    ['upper-case R1', '/R1/AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet/x'],
  ]
  for (const [name, target] of idTricks) {
    out.push({ category: 'path tricks', name, bytes: rest(target), codes: ['Client.BadRequest', 'Client.InvalidProtocolVersion', 'Server.ServerProxy.UnknownService'] })
  }
  return out
}

function duplicateHeaders (): HostileCase[] {
  const out: HostileCase[] = []
  const other = 'AL-DEV/NJQV/L21603004L/gjendja-civile'
  const pairs: Array<[string, Header[]]> = [
    ['X-Road-Client twice, same value', [['X-Road-Client', CLIENT], ['X-Road-Client', CLIENT]]],
    ['X-Road-Client twice, different values', [['X-Road-Client', CLIENT], ['X-Road-Client', other]]],
    ['X-Road-Client twice, different casing', [['X-Road-Client', CLIENT], ['x-road-client', other]]],
    ['X-Road-Client twice, upper case', [['X-ROAD-CLIENT', other], ['X-Road-Client', CLIENT]]],
    ['X-Road-Id twice', [['X-Road-Client', CLIENT], ['X-Road-Id', 'a'], ['X-Road-Id', 'b']]],
    ['X-Road-UserId twice', [['X-Road-Client', CLIENT], ['X-Road-UserId', 'AL-1'], ['X-Road-UserId', 'AL-2']]],
    ['X-Road-Issue twice', [['X-Road-Client', CLIENT], ['X-Road-Issue', '1'], ['X-Road-Issue', '2']]],
    ['X-Road-Represented-Party twice', [['X-Road-Client', CLIENT], ['X-Road-Represented-Party', 'COM/1'], ['X-Road-Represented-Party', 'COM/2']]],
    ['X-Road-Id three times', [['X-Road-Client', CLIENT], ['X-Road-Id', 'a'], ['X-Road-Id', 'a'], ['X-Road-Id', 'a']]],
  ]
  for (const [name, headers] of pairs) out.push({ category: 'duplicate headers', name, bytes: rest(GOOD_GET, headers), codes: BAD_REQUEST })
  const soapDup: Array<[string, string, string[]]> = [
    ['xrd:client twice', HEADER.replace('<xrd:service', HEADER.slice(HEADER.indexOf('<xrd:client'), HEADER.indexOf('<xrd:service')) + '<xrd:service'), ['Client.DuplicateHeaderField']],
    ['xrd:service twice', HEADER.replace('<xrd:id>', HEADER.slice(HEADER.indexOf('<xrd:service'), HEADER.indexOf('<xrd:id>')) + '<xrd:id>'), ['Client.DuplicateHeaderField']],
    ['xrd:id twice', HEADER.replace('<xrd:userId>', '<xrd:id>other</xrd:id><xrd:userId>'), ['Client.DuplicateHeaderField']],
    ['xrd:userId twice', HEADER.replace('<xrd:issue>', '<xrd:userId>AL-X</xrd:userId><xrd:issue>'), ['Client.DuplicateHeaderField']],
    ['xrd:issue twice', HEADER.replace('<xrd:protocolVersion>', '<xrd:issue>X</xrd:issue><xrd:protocolVersion>'), ['Client.DuplicateHeaderField']],
    ['xrd:protocolVersion twice', HEADER.replace('</soapenv:Header>', '<xrd:protocolVersion>4.0</xrd:protocolVersion></soapenv:Header>'), ['Client.DuplicateHeaderField']],
    ['memberCode twice in client', HEADER.replace('<id:memberCode>L21603004L</id:memberCode>', '<id:memberCode>L21603004L</id:memberCode><id:memberCode>K11503002N</id:memberCode>'), ['Client.DuplicateHeaderField']],
    ['serviceCode twice', HEADER.replace('<id:serviceCode>kerkoShtetas</id:serviceCode>', '<id:serviceCode>kerkoShtetas</id:serviceCode><id:serviceCode>other</id:serviceCode>'), ['Client.DuplicateHeaderField']],
    ['subsystemCode twice in client', HEADER.replace('<id:subsystemCode>gjendja-civile</id:subsystemCode>', '<id:subsystemCode>gjendja-civile</id:subsystemCode><id:subsystemCode>e-albania</id:subsystemCode>'), ['Client.DuplicateHeaderField']],
    ['two Header elements', HEADER + HEADER, INVALID_SOAP],
  ]
  for (const [name, header, codes] of soapDup) out.push({ category: 'duplicate headers', name: `SOAP ${name}`, bytes: soapBytes(envelope({ header })), codes })
  return out
}

function forgedClients (): HostileCase[] {
  const out: HostileCase[] = []
  const forged: Array<[string, string, string[]]> = [
    ['another instance', 'AL/GOV/K11503002N/e-albania', INVALID_CLIENT],
    ['test instance', 'AL-TEST/GOV/K11503002N/e-albania', INVALID_CLIENT],
    ['unregistered subsystem of a registered member', 'AL-DEV/GOV/K11503002N/admin', INVALID_CLIENT],
    ['unregistered member', 'AL-DEV/GOV/K99999999Z/e-albania', INVALID_CLIENT],
    ['wrong member class', 'AL-DEV/NJQV/K11503002N/e-albania', INVALID_CLIENT],
    ['lower-cased instance', 'al-dev/GOV/K11503002N/e-albania', INVALID_CLIENT],
    ['lower-cased member code', 'AL-DEV/GOV/k11503002n/e-albania', INVALID_CLIENT],
    ['the provider itself (mTLS only)', 'AL-DEV/NJQV/L21603004L/taksat-vendore', ['Server.ClientProxy.SslAuthenticationFailed']],
    ['a member without subsystem (mTLS only)', 'AL-DEV/GOV/K11503002N', ['Server.ClientProxy.SslAuthenticationFailed']],
    ['the civil registry (mTLS only)', 'AL-DEV/GOV/L01417001D/regjistri-civil', ['Server.ClientProxy.SslAuthenticationFailed']],
    ['a registered client without a grant', 'AL-DEV/NJQV/M51305009K/ndihma-sociale', ['Server.ServerProxy.AccessDenied']],
    ['Cyrillic lookalike member code', 'AL-DEV/GOV/K11503002N/e-%D0%B0lbania', INVALID_CLIENT],
    ['trailing dot', 'AL-DEV/GOV/K11503002N/e-albania.', INVALID_CLIENT],
  ]
  for (const [name, client, codes] of forged) out.push({ category: 'forged clients', name, bytes: rest(GOOD_GET, [['X-Road-Client', client]]), codes })
  // Grants are per method and path: a granted client stepping outside them.
  out.push({ category: 'forged clients', name: 'granted client, ungranted method', bytes: rest(`${TAX}/pagesa`, [['X-Road-Client', CLIENT], ['Content-Type', 'application/json']], 'POST', GOOD_PAYMENT), codes: ['Server.ServerProxy.AccessDenied'] })
  out.push({ category: 'forged clients', name: 'granted client, ungranted path', bytes: rest(`${TAX}/admin/users`), codes: ['Server.ServerProxy.AccessDenied'] })
  const soapForged: Array<[string, string, string[]]> = [
    ['another instance', '<id:xRoadInstance>AL</id:xRoadInstance>', INVALID_CLIENT],
    ['unregistered subsystem', '<id:subsystemCode>admin</id:subsystemCode>', INVALID_CLIENT],
    ['mTLS-only subsystem', '<id:subsystemCode>taksat-vendore</id:subsystemCode>', ['Server.ClientProxy.SslAuthenticationFailed']],
  ]
  for (const [name, part, codes] of soapForged) {
    const client = HEADER.slice(HEADER.indexOf('<xrd:client'), HEADER.indexOf('</xrd:client>'))
    const replaced = name === 'another instance' ? client.replace('<id:xRoadInstance>AL-DEV</id:xRoadInstance>', part) : client.replace('<id:subsystemCode>gjendja-civile</id:subsystemCode>', part)
    out.push({ category: 'forged clients', name: `SOAP ${name}`, bytes: soapBytes(envelope({ header: HEADER.replace(client, replaced) })), codes })
  }
  out.push({ category: 'forged clients', name: 'SOAP client objectType MEMBER with a subsystem', bytes: soapBytes(withHeader('<xrd:client id:objectType="SUBSYSTEM">', '<xrd:client id:objectType="MEMBER">')), codes: INVALID_CLIENT })
  out.push({ category: 'forged clients', name: 'SOAP client objectType SERVICE', bytes: soapBytes(withHeader('<xrd:client id:objectType="SUBSYSTEM">', '<xrd:client id:objectType="SERVICE">')), codes: INVALID_CLIENT })
  out.push({ category: 'forged clients', name: 'SOAP client in the wrong namespace', bytes: soapBytes(withHeader('<xrd:client id:objectType="SUBSYSTEM">', '<xrd:clientx id:objectType="SUBSYSTEM">').replace('</xrd:client>', '</xrd:clientx>')), codes: ['Client.MissingHeaderField'] })
  return out
}

function soapStructure (): HostileCase[] {
  const soap12 = 'http://www.w3.org/2003/05/soap-envelope'
  const cases: Array<[string, string, string[]]> = [
    ['two Bodies', envelope({ body: BODY + BODY }), INVALID_SOAP],
    ['no Body', envelope({ body: '' }), ['Client.MissingBody']],
    ['empty Body', envelope({ body: '<soapenv:Body/>' }), ['Client.MissingBody']],
    ['Body with whitespace only', envelope({ body: '<soapenv:Body>  \n </soapenv:Body>' }), ['Client.MissingBody']],
    ['Body with a comment only', envelope({ body: '<soapenv:Body><!-- nothing --></soapenv:Body>' }), ['Client.MissingBody']],
    ['Body with text only', envelope({ body: '<soapenv:Body>I50314123V</soapenv:Body>' }), ['Client.MissingBody']],
    ['Body with CDATA only', envelope({ body: '<soapenv:Body><![CDATA[<rc:kerkoShtetas/>]]></soapenv:Body>' }), ['Client.MissingBody']],
    ['Body with two elements', withKerko(KERKO + KERKO), INVALID_SOAP],
    ['Header after Body', envelope({ header: '', body: BODY + HEADER }), INVALID_SOAP],
    ['no Header', envelope({ header: '' }), ['Client.MissingHeaderField']],
    ['an unknown element in Envelope', envelope({ body: BODY + '<soapenv:Trailer/>' }), INVALID_SOAP],
    ['a foreign element in Envelope', envelope({ body: BODY + '<x:y xmlns:x="urn:x"/>' }), INVALID_SOAP],
    ['SOAP 1.2 namespace', envelope().replaceAll('http://schemas.xmlsoap.org/soap/envelope/', soap12), INVALID_SOAP],
    ['no namespace on Envelope', envelope().replace(' xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"', ' xmlns:soapenv="urn:not-soap"'), INVALID_SOAP],
    ['Envelope in the X-Road namespace', envelope().replace('xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"', 'xmlns:soapenv="http://x-road.eu/xsd/xroad.xsd"'), INVALID_SOAP],
    ['root is not Envelope', envelope().replaceAll('soapenv:Envelope', 'soapenv:Envelop'), INVALID_SOAP],
    ['body element in the wrong namespace', withKerko(KERKO.replaceAll('rc:', 'zz:').replace('<zz:kerkoShtetas>', '<zz:kerkoShtetas xmlns:zz="urn:wrong">')), INVALID_BODY],
    ['body element without namespace', withKerko('<kerkoShtetas><nid>I50314123V</nid></kerkoShtetas>'), INVALID_BODY],
    ['body element of another service', withKerko('<rc:fshiShtetas><rc:nid>I50314123V</rc:nid></rc:fshiShtetas>'), INVALID_BODY],
    ['body element named like the service with a suffix', withKerko('<rc:kerkoShtetasAdmin><rc:nid>I50314123V</rc:nid></rc:kerkoShtetasAdmin>'), INVALID_BODY],
    ['protocolVersion 3.1', withHeader('<xrd:protocolVersion>4.0', '<xrd:protocolVersion>3.1'), ['Client.InvalidProtocolVersion']],
    ['protocolVersion 5.0', withHeader('<xrd:protocolVersion>4.0', '<xrd:protocolVersion>5.0'), ['Client.InvalidProtocolVersion']],
    ['empty protocolVersion', withHeader('<xrd:protocolVersion>4.0', '<xrd:protocolVersion>'), ['Client.InvalidProtocolVersion']],
    ['missing xrd:id', withHeader('<xrd:id>7d1e5c2a-0b3f-4e8a-a6d4-91c2f0e8b357</xrd:id>', ''), ['Client.MissingHeaderField']],
    ['missing xrd:service', HEADER.includes('<xrd:service') ? envelope({ header: HEADER.slice(0, HEADER.indexOf('<xrd:service')) + HEADER.slice(HEADER.indexOf('<xrd:id>')) }) : '', ['Client.MissingHeaderField']],
    ['service objectType SUBSYSTEM', withHeader('<xrd:service id:objectType="SERVICE">', '<xrd:service id:objectType="SUBSYSTEM">'), BAD_REQUEST],
    ['service without serviceCode', withHeader('<id:serviceCode>kerkoShtetas</id:serviceCode>', ''), BAD_REQUEST],
    ['unclosed Envelope', envelope({ close: '' }), INVALID_SOAP],
    ['trailing garbage after Envelope', envelope() + '<extra/>', INVALID_SOAP],
    ['two root elements', envelope({ prolog: '' }) + envelope({ prolog: '' }), INVALID_SOAP],
    ['XML declaration not first', ' \n' + envelope(), INVALID_SOAP],
    ['declared encoding that does not exist', envelope({ prolog: '<?xml version="1.0" encoding="x-bogus-9"?>' }), INVALID_SOAP],
    ['XML 1.1 with a control character', envelope({ prolog: '<?xml version="1.1" encoding="UTF-8"?>' }).replace('Lëshim', 'L&#x1;shim'), [...INVALID_SOAP, ...INVALID_BODY]],
    ['character reference to NUL', envelope().replace('Lëshim', 'L&#0;shim'), INVALID_SOAP],
    ['processing instruction in the Body', withKerko('<?xml-stylesheet href="http://127.0.0.1:9/x.xsl"?>' + KERKO), INVALID_SOAP],
    ['processing instruction in the Header', envelope({ header: HEADER.replace('<xrd:id>', '<?php system("id") ?><xrd:id>') }), INVALID_SOAP],
    ['processing instruction before the Envelope', envelope({ prolog: '<?xml version="1.0"?><?xml-stylesheet href="file:///etc/passwd"?>' }), INVALID_SOAP],
    ['processing instruction after a UTF-8 BOM declaration', '\ufeff' + envelope().replace('<rc:nid>', '<?pi?><rc:nid>'), INVALID_SOAP],
  ]
  return cases.map(([name, xml, codes]) => ({ category: 'SOAP structure', name, bytes: soapBytes(xml), codes }))
}

function smuggling (): HostileCase[] {
  const body = GOOD_PAYMENT
  const start = `POST ${TAX}/pagesa HTTP/1.1\r\nHost: ura.test\r\nX-Road-Client: ${PAYER}\r\nContent-Type: application/json\r\n`
  const smuggled = `GET ${GOOD_GET} HTTP/1.1\r\nHost: ura.test\r\nX-Road-Client: ${CLIENT}\r\n\r\n`
  const chunk = (s: string): string => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n0\r\n\r\n`
  const raw: Array<[string, string]> = [
    ['CL.TE: Content-Length and chunked', `${start}Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(body)}${smuggled}`],
    ['TE.CL: chunked then Content-Length', `${start}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n${chunk(body)}${smuggled}`],
    ['two different Content-Lengths', `${start}Content-Length: ${body.length}\r\nContent-Length: 5\r\n\r\n${body}${smuggled}`],
    ['two equal Content-Lengths', `${start}Content-Length: ${body.length}\r\nContent-Length: ${body.length}\r\n\r\n${body}`],
    ['Content-Length list', `${start}Content-Length: ${body.length}, ${body.length}\r\n\r\n${body}`],
    ['negative Content-Length', `${start}Content-Length: -1\r\n\r\n${body}`],
    ['Content-Length with a plus sign', `${start}Content-Length: +${body.length}\r\n\r\n${body}`],
    ['Content-Length in hex', `${start}Content-Length: 0x${body.length.toString(16)}\r\n\r\n${body}`],
    ['Content-Length with a space inside', `${start}Content-Length: 1 2\r\n\r\n${body}`],
    ['Transfer-Encoding: xchunked', `${start}Transfer-Encoding: xchunked\r\n\r\n${chunk(body)}`],
    ['Transfer-Encoding with a space before the colon', `${start}Transfer-Encoding : chunked\r\n\r\n${chunk(body)}`],
    ['Transfer-Encoding chunked then identity', `${start}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n${chunk(body)}`],
    ['Transfer-Encoding: identity, chunked with Content-Length', `${start}Transfer-Encoding: identity, chunked\r\nContent-Length: 3\r\n\r\n${chunk(body)}`],
    ['Transfer-Encoding: chunked, identity', `${start}Transfer-Encoding: chunked, identity\r\n\r\n${chunk(body)}`],
    ['Transfer-Encoding with a vertical tab', `${start}Transfer-Encoding:\x0bchunked\r\n\r\n${chunk(body)}`],
    ['Transfer-Encoding folded onto a second line', `${start}Transfer-Encoding:\r\n chunked\r\n\r\n${chunk(body)}`],
    ['obsolete line folding of X-Road-Client', `GET ${GOOD_GET} HTTP/1.1\r\nHost: ura.test\r\nX-Road-Client: AL-DEV/GOV\r\n /K11503002N/e-albania\r\n\r\n`],
    ['invalid chunk size', `${start}Transfer-Encoding: chunked\r\n\r\nzz\r\n${body}\r\n0\r\n\r\n`],
    ['chunk size overflow', `${start}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n${body}\r\n0\r\n\r\n`],
    ['chunk without CRLF after data', `${start}Transfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}XX0\r\n\r\n`],
    ['bare LF line endings', `POST ${TAX}/pagesa HTTP/1.1\nHost: ura.test\nX-Road-Client: ${PAYER}\nContent-Type: application/json\nContent-Length: ${body.length}\n\n${body}`],
    ['bare CR in a header', `GET ${GOOD_GET} HTTP/1.1\r\nHost: ura.test\r\nX-Road-Client: ${CLIENT}\rX-Injected: 1\r\n\r\n`],
    ['NUL in a header value', `GET ${GOOD_GET} HTTP/1.1\r\nHost: ura.test\r\nX-Road-Client: ${CLIENT}\x00x\r\n\r\n`],
    ['space in a header name', `GET ${GOOD_GET} HTTP/1.1\r\nHost: ura.test\r\nX-Road Client: ${CLIENT}\r\n\r\n`],
    ['header without a colon', `GET ${GOOD_GET} HTTP/1.1\r\nHost: ura.test\r\nX-Road-Client ${CLIENT}\r\n\r\n`],
    ['HTTP/2 preface on the HTTP/1.1 port', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
    ['unknown HTTP version', `GET ${GOOD_GET} HTTP/9.9\r\nHost: ura.test\r\nX-Road-Client: ${CLIENT}\r\n\r\n`],
    ['garbage instead of a request line', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n'],
    ['HTTP/1.1 without Host', `GET ${GOOD_GET} HTTP/1.1\r\nX-Road-Client: ${CLIENT}\r\nConnection: close\r\n\r\n`],
    ['two Host headers', `GET ${GOOD_GET} HTTP/1.1\r\nHost: ura.test\r\nHost: evil.test\r\nX-Road-Client: ${CLIENT}\r\nConnection: close\r\n\r\n`],
    ['absolute-form target to another host', `GET http://evil.test${GOOD_GET} HTTP/1.1\r\nHost: ura.test\r\nX-Road-Client: ${CLIENT}\r\nConnection: close\r\n\r\n`],
    ['CONNECT tunnel', 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n'],
    ['asterisk-form OPTIONS', 'OPTIONS * HTTP/1.1\r\nHost: ura.test\r\nConnection: close\r\n\r\n'],
    ['unknown method', `PROPFIND ${GOOD_GET} HTTP/1.1\r\nHost: ura.test\r\nX-Road-Client: ${CLIENT}\r\nConnection: close\r\n\r\n`],
    ['TRACE', `TRACE ${GOOD_GET} HTTP/1.1\r\nHost: ura.test\r\nX-Road-Client: ${CLIENT}\r\nConnection: close\r\n\r\n`],
  ]
  return raw.map(([name, text]) => ({ category: 'smuggling', name, bytes: Buffer.from(text, 'latin1'), codes: ['Client.BadRequest', 'Client.InvalidHttpMethod', 'Client.InvalidBody', 'Client.RequestTooLarge'] }))
}

function jsonTricks (): HostileCase[] {
  const variants: Array<[string, string]> = [
    ['prototype pollution via __proto__', GOOD_PAYMENT.replace('{', '{"__proto__":{"admin":true},')],
    ['prototype pollution via constructor', GOOD_PAYMENT.replace('{', '{"constructor":{"prototype":{"admin":true}},')],
    ['number overflow', GOOD_PAYMENT.replace('15000', '1e400')],
    ['negative amount', GOOD_PAYMENT.replace('15000', '-1')],
    ['a string as the amount', GOOD_PAYMENT.replace('15000', '"15000"')],
    ['trailing comma', GOOD_PAYMENT.replace('}', ',}')],
    ['single quotes', GOOD_PAYMENT.replaceAll('"', "'")],
    ['comment inside', GOOD_PAYMENT.replace('{', '{/* x */')],
    ['two documents', GOOD_PAYMENT + GOOD_PAYMENT],
    ['BOM then JSON', '\ufeff' + GOOD_PAYMENT],
    ['empty object', '{}'],
    ['null', 'null'],
    ['a bare string', '"x"'],
    ['NaN', GOOD_PAYMENT.replace('15000', 'NaN')],
  ]
  return variants.map(([name, body]) => ({ category: 'JSON tricks', name, bytes: payment(body), codes: INVALID_BODY }))
}

export function hostileCorpus (): HostileCase[] {
  return [
    ...xxe(), ...nesting(), ...hugeNames(), ...oversize(), ...invalidUtf8(), ...contentTypes(), ...identifiers(),
    ...pathTricks(), ...duplicateHeaders(), ...forgedClients(), ...soapStructure(), ...smuggling(), ...jsonTricks(),
  ]
}
