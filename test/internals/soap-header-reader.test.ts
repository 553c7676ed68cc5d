/**
 * The SOAP edge reads requests and provider responses from their bytes when it can, and from
 * libxml2's tree otherwise. The tree reader is the reference: on every envelope below — written
 * by hand to hit one construct each, or generated from a fixed seed — both readers must give the
 * same result or the same error. The byte reader must also actually run for the common shapes,
 * so that a change which makes it give up everywhere cannot pass unnoticed.
 */
import t, { type Test } from 'tap'
import { XmlC14NMode, XmlElement, type XmlDocument } from 'libxml2-wasm'
import { SOAP_REQUEST, SOAP_RESPONSE } from '../../bench/fixtures.ts'
import { XRoadError } from '../../protocol/errors.ts'
import { parseRequestEnvelope, requestFromBytes } from '../../gateway/edge/soap/request.ts'
import { parseXml } from '../../protocol/soap/xml.ts'
import { readProviderResponse, responseFromBytes, type EchoSource } from '../../gateway/edge/soap/response.ts'
import { scanEnvelope } from '../../gateway/edge/soap/scan.ts'
import { DEMO_ENVELOPE } from '../support/http.ts'
import { withDoc } from '../support/xml.ts'
import { seededRandom as random } from '../support/seeded-random.ts'

const SOAP = 'http://schemas.xmlsoap.org/soap/envelope/'
const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope'
const XRD = 'http://x-road.eu/xsd/xroad.xsd'
const ID = 'http://x-road.eu/xsd/identifiers'
const REPR = 'http://x-road.eu/xsd/representation.xsd'
const RC = 'http://ura.gov.al/demo/regjistri-civil/v1'

const exclusive = (el: XmlElement): string => el.canonicalizeToString({ mode: XmlC14NMode.XML_C14N_EXCLUSIVE_1_0 })

function failure (err: unknown): { error: Record<string, unknown> } {
  const e = err as { name?: string; code?: string; message?: string }
  return { error: { name: e.name, code: e.code, message: e.message } }
}

// ---- requests ---------------------------------------------------------------------------------

/**
 * Whether the byte reader settles the message itself (an answer, or an X-Road error raised on what
 * it read) instead of handing it to the tree reader. An unparseable message settles nothing.
 */
function settledByBytes (bytes: Buffer, code: Parameters<typeof parseXml>[1], read: (doc: XmlDocument) => unknown): boolean {
  let doc: XmlDocument
  try {
    doc = parseXml(bytes, code)
  } catch {
    return false
  }
  try {
    return read(doc) !== undefined // what it returns lives in `doc`, freed below
  } catch (err) {
    if (err instanceof XRoadError) return true
    throw err
  } finally {
    doc.dispose()
  }
}

interface RequestRun { outcome: unknown; fromBytes: boolean }

function readRequest (bytes: Buffer, reader: 'auto' | 'tree'): RequestRun {
  try {
    const e = parseRequestEnvelope(bytes, reader)
    try {
      return {
        fromBytes: e.readFromBytes,
        outcome: {
          header: e.header,
          headerXml: e.headerXml,
          headerIsText: e.headerIsText,
          // In order: the echo re-declares them in this order.
          headerNamespaces: Object.entries(e.headerNamespaces),
          body: { ns: e.body.namespaceUri, name: e.body.name, line: e.body.line, c14n: exclusive(e.body) },
        },
      }
    } finally {
      e.doc.dispose()
    }
  } catch (err) {
    return { fromBytes: false, outcome: failure(err) }
  }
}

/** Both readers agree; returns whether the byte reader settled the request. */
function sameRequest (t: Test, name: string, xml: string | Buffer): boolean {
  const bytes = typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml
  const auto = readRequest(bytes, 'auto')
  const tree = readRequest(bytes, 'tree')
  t.same(auto.outcome, tree.outcome, name)
  t.equal(JSON.stringify(auto.outcome), JSON.stringify(tree.outcome), `${name}: same order too`)
  const settled = settledByBytes(bytes, 'Client.InvalidSoap', doc => requestFromBytes(doc, bytes))
  // An answer from the edge's entry point says which reader gave it; it must be the byte reader's
  // whenever that one can settle the request.
  if (!('error' in (auto.outcome as object))) t.equal(auto.fromBytes, settled, `${name}: the edge uses the byte reader when it can`)
  return settled
}

const CLIENT = ['AL-DEV', 'NJQV', 'L21603004L', 'gjendja-civile']
const SERVICE = ['AL-DEV', 'GOV', 'L01417001D', 'regjistri-civil', 'kerkoShtetas', 'v1']
const CLIENT_PARTS = ['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode']
const SERVICE_PARTS = ['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode', 'serviceCode', 'serviceVersion']

const parts = (p: string, names: string[], values: string[]): string => values.map((v, i) => `<${p}${names[i]}>${v}</${p}${names[i]}>`).join('')

/** A plain request with prefixes soapenv/xrd/id on the Envelope; `header` replaces the Header's content. */
function request (header?: string, opts: { body?: string; envAttrs?: string; prolog?: string; headerAttrs?: string } = {}): string {
  const h = header ?? [
    `<xrd:client id:objectType="SUBSYSTEM">${parts('id:', CLIENT_PARTS, CLIENT)}</xrd:client>`,
    `<xrd:service id:objectType="SERVICE">${parts('id:', SERVICE_PARTS, SERVICE)}</xrd:service>`,
    '<xrd:id>msg-1</xrd:id>', '<xrd:userId>AL-K16102045M</xrd:userId>', '<xrd:issue>CERT-1</xrd:issue>', '<xrd:protocolVersion>4.0</xrd:protocolVersion>',
  ].join('\n    ')
  return `${opts.prolog ?? '<?xml version="1.0" encoding="UTF-8"?>\n'}<soapenv:Envelope xmlns:soapenv="${SOAP}" xmlns:xrd="${XRD}" xmlns:id="${ID}" xmlns:rc="${RC}"${opts.envAttrs ?? ''}>\n` +
    `  <soapenv:Header${opts.headerAttrs ?? ''}>\n    ${h}\n  </soapenv:Header>\n` +
    `  <soapenv:Body>${opts.body ?? '<rc:kerkoShtetas><rc:nid>I50314123V</rc:nid></rc:kerkoShtetas>'}</soapenv:Body>\n</soapenv:Envelope>\n`
}

const CLIENT_EL = `<xrd:client id:objectType="SUBSYSTEM">${parts('id:', CLIENT_PARTS, CLIENT)}</xrd:client>`
const SERVICE_EL = `<xrd:service id:objectType="SERVICE">${parts('id:', SERVICE_PARTS, SERVICE)}</xrd:service>`
const REST = '<xrd:id>msg-1</xrd:id><xrd:protocolVersion>4.0</xrd:protocolVersion>'
const withFields = (...els: string[]): string => request(els.join(''))

/** Hand-written requests, one construct each. `fast`: the byte reader must answer it itself. */
const REQUESTS: Array<{ name: string; xml: string | Buffer; fast?: boolean }> = [
  { name: 'demo envelope', xml: DEMO_ENVELOPE, fast: true },
  { name: 'bench fixture', xml: SOAP_REQUEST, fast: true },
  { name: 'plain request', xml: request(), fast: true },
  { name: 'no XML declaration', xml: request(undefined, { prolog: '' }), fast: true },
  { name: 'declaration in single quotes, lower-case encoding', xml: request(undefined, { prolog: "<?xml version='1.0' encoding='utf-8' standalone='yes'?>" }), fast: true },
  { name: 'UTF-8 BOM', xml: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(request())]), fast: true },
  { name: 'CRLF line ends everywhere', xml: request().replaceAll('\n', '\r\n'), fast: true },
  { name: 'comments around and inside', xml: `<!-- a -->${request(undefined, { prolog: '' }).replace('<soapenv:Body>', '<!-- b --><soapenv:Body><!-- c -->').replace('</soapenv:Envelope>', '<!-- d --></soapenv:Envelope><!-- e -->')}`, fast: true },
  { name: 'values with surrounding whitespace', xml: withFields(CLIENT_EL, SERVICE_EL, '<xrd:id>\n\t msg-1 \r\n</xrd:id>', '<xrd:protocolVersion> 4.0\t</xrd:protocolVersion>'), fast: true },
  { name: 'character references', xml: withFields(CLIENT_EL.replace('NJQV', '&#x4E;&#74;QV'), SERVICE_EL, '<xrd:id>m&#x1F600;&#128512;-&#x0000041;</xrd:id>', '<xrd:protocolVersion>&#52;.0</xrd:protocolVersion>'), fast: true },
  { name: 'references to markup characters', xml: withFields(CLIENT_EL, SERVICE_EL, '<xrd:id>&#60;x&#x3C;/y&#62; &#38;amp; &#13;&#x9;</xrd:id>', '<xrd:protocolVersion>4.0</xrd:protocolVersion>'), fast: true },
  { name: 'markup inside comments and CDATA', xml: withFields(`<!-- </soapenv:Header> <xrd:id>x</xrd:id> -->`, CLIENT_EL, SERVICE_EL, '<xrd:id><![CDATA[</xrd:id><soapenv:Body>]]></xrd:id>', '<xrd:protocolVersion>4.0</xrd:protocolVersion>'), fast: true },
  { name: 'namespace name written with references', xml: withFields(CLIENT_EL, SERVICE_EL, `<q:id xmlns:q="&#x68;ttp://x-road.eu/xsd/xroad&#46;xsd">m</q:id>`, '<xrd:protocolVersion>4.0</xrd:protocolVersion>'), fast: true },
  { name: 'the five predefined entities', xml: withFields(CLIENT_EL, SERVICE_EL, '<xrd:id>&lt;&gt;&amp;&apos;&quot;</xrd:id>', '<xrd:userId>a&amp;amp;b</xrd:userId>', '<xrd:protocolVersion>4.0</xrd:protocolVersion>'), fast: true },
  { name: 'CDATA in values', xml: withFields(CLIENT_EL.replace('>L21603004L<', '><![CDATA[L21603004L]]><'), SERVICE_EL, '<xrd:id><![CDATA[ <msg> & 1 ]]></xrd:id>', '<xrd:protocolVersion><![CDATA[4.]]>0</xrd:protocolVersion>'), fast: true },
  { name: 'CDATA with CR LF', xml: withFields(CLIENT_EL, SERVICE_EL, '<xrd:id><![CDATA[a\r\nb\rc]]>&#13;&#10;d</xrd:id>', '<xrd:protocolVersion>4.0</xrd:protocolVersion>'), fast: true },
  { name: 'comments inside fields and parts', xml: withFields(CLIENT_EL.replace('>NJQV<', '>NJ<!-- x -->QV<'), SERVICE_EL, '<xrd:id><!--a-->msg<!-- b -->-1<!----></xrd:id>', '<xrd:protocolVersion>4.0<!-- v --></xrd:protocolVersion>'), fast: true },
  { name: 'elements nested inside a field', xml: withFields(CLIENT_EL, SERVICE_EL, '<xrd:id>m<b>s<i a="1>">g</i></b>-1<br/></xrd:id>', '<xrd:protocolVersion>4.0</xrd:protocolVersion>'), fast: true },
  { name: 'non-ASCII text and names', xml: withFields(CLIENT_EL, SERVICE_EL, '<xrd:id>ëçÇ–€𝄞</xrd:id>', '<xrd:userId>Përdorues</xrd:userId>', '<xrd:protocolVersion>4.0</xrd:protocolVersion>', '<xrd:përshkrim>x</xrd:përshkrim>'), fast: true },
  { name: 'member client', xml: withFields(`<xrd:client id:objectType="MEMBER">${parts('id:', CLIENT_PARTS, CLIENT.slice(0, 3))}</xrd:client>`, SERVICE_EL, REST), fast: true },
  { name: 'service without subsystem and version', xml: withFields(CLIENT_EL, `<xrd:service id:objectType="SERVICE">${parts('id:', ['xRoadInstance', 'memberClass', 'memberCode', 'serviceCode'], ['AL-DEV', 'GOV', 'L01417001D', 'kerkoShtetas'])}</xrd:service>`, REST), fast: true },
  { name: 'Header declares the prefixes', xml: `<e:Envelope xmlns:e="${SOAP}"><e:Header xmlns:xrd="${XRD}" xmlns:id="${ID}">${CLIENT_EL}${SERVICE_EL}${REST}</e:Header><e:Body><k xmlns="${RC}"/></e:Body></e:Envelope>`, fast: true },
  { name: 'every element declares its own prefixes', xml: request([CLIENT_EL, SERVICE_EL, REST].join('').replaceAll('<xrd:', `<q:`).replaceAll('</xrd:', '</q:').replace(/<q:(\w+)/g, `<q:$1 xmlns:q="${XRD}"`)), fast: true },
  { name: 'default namespace on the fields', xml: request([CLIENT_EL, SERVICE_EL, REST].join('').replaceAll('xrd:', ''), { headerAttrs: ` xmlns="${XRD}"` }), fast: true },
  { name: 'default namespace on the Envelope, prefixed X-Road', xml: `<Envelope xmlns="${SOAP}" xmlns:xrd="${XRD}" xmlns:id="${ID}"><Header>${CLIENT_EL}${SERVICE_EL}${REST}</Header><Body><k:k xmlns:k="${RC}"/></Body></Envelope>`, fast: true },
  { name: 'default namespace for the identifier parts', xml: withFields(`<xrd:client xmlns="${ID}" xmlns:id="${ID}" id:objectType="SUBSYSTEM">${parts('', CLIENT_PARTS, CLIENT)}</xrd:client>`, SERVICE_EL, REST), fast: true },
  { name: 'xmlns="" undeclares the default', xml: request(`<xrd:client id:objectType="SUBSYSTEM">${parts('id:', CLIENT_PARTS, CLIENT)}<subsystemCode xmlns="">x</subsystemCode></xrd:client>${SERVICE_EL}${REST}`, { envAttrs: ` xmlns="${ID}"`, headerAttrs: ' xmlns=""' }), fast: true },
  { name: 'prefix rebound on the Header', xml: request([CLIENT_EL, SERVICE_EL, REST].join(''), { headerAttrs: ' xmlns:rc="urn:other" xmlns:xrd="urn:not-x-road" xmlns:x="' + XRD + '"' }), fast: true },
  { name: 'envelope prefix rebound on a field', xml: withFields(CLIENT_EL, SERVICE_EL, `<soapenv:id xmlns:soapenv="${XRD}">m</soapenv:id>`, '<xrd:protocolVersion>4.0</xrd:protocolVersion>'), fast: true },
  { name: 'X-Road prefix rebound on a field', xml: withFields(CLIENT_EL, SERVICE_EL, `<xrd:id xmlns:xrd="urn:not-x-road">not-a-field</xrd:id>`, REST), fast: true },
  { name: 'id prefix bound elsewhere, parts in another prefix', xml: request(`<xrd:client xmlns:id="urn:nope" xmlns:i="${ID}" i:objectType="SUBSYSTEM">${parts('i:', CLIENT_PARTS, CLIENT)}</xrd:client>${SERVICE_EL}${REST}`), fast: true },
  { name: 'id prefix bound elsewhere, objectType in it', xml: request(`<xrd:client xmlns:id="urn:nope" xmlns:i="${ID}" id:objectType="SUBSYSTEM">${parts('i:', CLIENT_PARTS, CLIENT)}</xrd:client>${SERVICE_EL}${REST}`), fast: true },
  { name: 'id prefix bound elsewhere, both objectTypes', xml: request(`<xrd:client xmlns:id="urn:nope" xmlns:i="${ID}" i:objectType="MEMBER" id:objectType="SUBSYSTEM">${parts('i:', CLIENT_PARTS, CLIENT)}</xrd:client>${SERVICE_EL}${REST}`), fast: true },
  { name: 'objectType without a prefix, id unbound', xml: `<s:Envelope xmlns:s="${SOAP}"><s:Header><x:client xmlns:x="${XRD}" objectType="SUBSYSTEM">${parts('i:', CLIENT_PARTS, CLIENT).replaceAll(/<i:(\w+)>/g, `<i:$1 xmlns:i="${ID}">`)}</x:client>` +
    `<x:service xmlns:x="${XRD}" objectType="SERVICE">${parts('', SERVICE_PARTS, SERVICE).replaceAll(/<(\w+)>/g, `<$1 xmlns="${ID}">`)}</x:service><x:id xmlns:x="${XRD}">m</x:id><x:protocolVersion xmlns:x="${XRD}">4.0</x:protocolVersion></s:Header><s:Body><k/></s:Body></s:Envelope>`, fast: true },
  { name: 'objectType without a prefix, id bound', xml: withFields(CLIENT_EL.replace('id:objectType', 'objectType'), SERVICE_EL, REST), fast: true },
  { name: 'objectType in another prefix for the identifiers namespace', xml: request(`<xrd:client xmlns:o="${ID}" o:objectType="SUBSYSTEM">${parts('id:', CLIENT_PARTS, CLIENT)}</xrd:client>${SERVICE_EL}${REST}`), fast: true },
  { name: 'objectType attribute with whitespace and references', xml: withFields(CLIENT_EL.replace('"SUBSYSTEM"', '"SUB&#83;YSTEM"'), SERVICE_EL.replace('"SERVICE"', "'\tSERVICE\r\n'"), REST), fast: true },
  { name: 'objectType value with entity', xml: withFields(CLIENT_EL.replace('"SUBSYSTEM"', '"SUB&amp;SYSTEM"'), SERVICE_EL, REST), fast: true },
  { name: 'missing objectType', xml: withFields(CLIENT_EL.replace(' id:objectType="SUBSYSTEM"', ''), SERVICE_EL, REST), fast: true },
  { name: 'wrong objectType for client', xml: withFields(CLIENT_EL.replace('SUBSYSTEM', 'SERVICE'), SERVICE_EL, REST), fast: true },
  { name: 'MEMBER with a subsystem', xml: withFields(CLIENT_EL.replace('SUBSYSTEM', 'MEMBER'), SERVICE_EL, REST), fast: true },
  { name: 'wrong objectType for service', xml: withFields(CLIENT_EL, SERVICE_EL.replace('"SERVICE"', '"service"'), REST), fast: true },
  { name: 'attributes laid out oddly', xml: withFields(CLIENT_EL.replace(' id:objectType="SUBSYSTEM"', '\n\t id:objectType\n=\t\'SUBSYSTEM\'  a="x/>"\n'), SERVICE_EL, REST.replace('</xrd:id>', '</xrd:id\n >')), fast: true },
  { name: 'duplicate field', xml: withFields(CLIENT_EL, SERVICE_EL, REST, '<xrd:id>again</xrd:id>'), fast: true },
  { name: 'duplicate client', xml: withFields(CLIENT_EL, CLIENT_EL, SERVICE_EL, REST), fast: true },
  { name: 'duplicate identifier part', xml: withFields(CLIENT_EL.replace('<id:memberClass>', '<id:memberClass>X</id:memberClass><id:memberClass>'), SERVICE_EL, REST), fast: true },
  { name: 'identifier parts named like Object members', xml: withFields(CLIENT_EL.replace('<id:memberClass>', '<id:constructor>c</id:constructor><id:memberClass>'), SERVICE_EL, REST), fast: true },
  { name: 'identifier part __proto__', xml: withFields(CLIENT_EL.replace('<id:memberClass>', '<id:__proto__>c</id:__proto__><id:memberClass>'), SERVICE_EL, REST), fast: true },
  { name: 'unknown identifier part and other-namespace part', xml: withFields(CLIENT_EL.replace('<id:memberClass>', `<id:extra>c</id:extra><o:memberClass xmlns:o="urn:o">Z</o:memberClass><id:memberClass>`), SERVICE_EL, REST), fast: true },
  { name: 'missing identifier part', xml: withFields(CLIENT_EL.replace(/<id:memberCode>.*?<\/id:memberCode>/, ''), SERVICE_EL, REST), fast: true },
  { name: 'empty identifier part', xml: withFields(CLIENT_EL.replace(/<id:memberCode>.*?<\/id:memberCode>/, '<id:memberCode/>'), SERVICE_EL, REST), fast: true },
  { name: 'bad characters in an identifier', xml: withFields(CLIENT_EL.replace('gjendja-civile', 'gjendja civile'), SERVICE_EL, REST), fast: true },
  { name: 'missing client', xml: withFields(SERVICE_EL, REST), fast: true },
  { name: 'missing protocolVersion', xml: withFields(CLIENT_EL, SERVICE_EL, '<xrd:id>m</xrd:id>'), fast: true },
  { name: 'protocolVersion 3.1', xml: withFields(CLIENT_EL, SERVICE_EL, '<xrd:id>m</xrd:id><xrd:protocolVersion>3.1</xrd:protocolVersion>'), fast: true },
  { name: 'empty fields', xml: withFields(CLIENT_EL, SERVICE_EL, '<xrd:id/><xrd:userId></xrd:userId><xrd:protocolVersion>4.0</xrd:protocolVersion>'), fast: true },
  { name: 'representedParty', xml: withFields(CLIENT_EL, SERVICE_EL, REST, `<repr:representedParty xmlns:repr="${REPR}"><repr:partyClass>COM</repr:partyClass><repr:partyCode> 123 </repr:partyCode></repr:representedParty>`), fast: true },
  { name: 'representedParty code only, parts in any namespace', xml: withFields(CLIENT_EL, SERVICE_EL, REST, `<representedParty xmlns="${REPR}"><partyCode xmlns="urn:any">9</partyCode></representedParty>`), fast: true },
  { name: 'representedParty in the X-Road namespace', xml: withFields(CLIENT_EL, SERVICE_EL, REST, '<xrd:representedParty><xrd:partyClass>A</xrd:partyClass><xrd:partyClass>B</xrd:partyClass></xrd:representedParty>'), fast: true },
  { name: 'extra non-X-Road header elements', xml: withFields(`<wsse:Security xmlns:wsse="urn:wsse" a='1' b="&amp;"><wsse:Token>t<x/>y</wsse:Token></wsse:Security>`, CLIENT_EL, '<plain>text</plain>', SERVICE_EL, REST, '<xrd:unknownField>u</xrd:unknownField>'), fast: true },
  { name: 'empty Header', xml: request('').replace(/<soapenv:Header>\s*<\/soapenv:Header>/, '<soapenv:Header/>'), fast: true },
  { name: 'Body element in the default namespace', xml: request(undefined, { body: `<kerkoShtetas xmlns="${RC}"><nid>I50314123V</nid></kerkoShtetas>` }), fast: true },
  { name: 'Body with text and comments around its element', xml: request(undefined, { body: ' text <!-- c --><rc:kerkoShtetas/> more ' }), fast: true },
  { name: 'empty body element', xml: request(undefined, { body: '<rc:kerkoShtetas/>' }), fast: true },
  { name: 'Envelope attributes', xml: request(undefined, { envAttrs: ` soapenv:encodingStyle="urn:enc" data-x='y'` }), fast: true },
  { name: 'large body', xml: request(undefined, { body: `<rc:kerkoShtetas>${'<rc:nid a="&lt;&gt;">I50314123V</rc:nid><![CDATA[<x>]]><!-- <y> -->'.repeat(3000)}</rc:kerkoShtetas>` }), fast: true },
  // What the tree reader decides alone: the byte reader gives up and both answer alike.
  { name: 'client-sent requestHash', xml: withFields(CLIENT_EL, SERVICE_EL, REST, '<xrd:requestHash algorithmId="x">Zm9v</xrd:requestHash>'), fast: false },
  { name: 'text directly in the Header', xml: withFields(CLIENT_EL, 'stray', SERVICE_EL, REST), fast: false },
  { name: 'CDATA directly in the Header', xml: withFields(CLIENT_EL, '<![CDATA[ ]]>', SERVICE_EL, REST), fast: false },
  { name: 'text in the Envelope', xml: request().replace('<soapenv:Body>', 'junk<soapenv:Body>'), fast: false },
  { name: 'ISO-8859-1', xml: Buffer.from(request().replace('UTF-8', 'ISO-8859-1').replace('msg-1', 'msg-ë'), 'latin1'), fast: false },
  { name: 'UTF-16 with BOM', xml: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(request().replace('UTF-8', 'UTF-16'), 'utf16le')]), fast: false },
  { name: 'UTF-16 without BOM', xml: Buffer.from(request().replace('UTF-8', 'UTF-16'), 'utf16le'), fast: false },
  { name: 'UTF-16BE with BOM', xml: Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(request().replace('UTF-8', 'UTF-16'), 'utf16le').swap16()]), fast: false },
  { name: 'xml prefix declared', xml: request(undefined, { envAttrs: ' xmlns:xml="http://www.w3.org/XML/1998/namespace"' }), fast: false },
  { name: 'xml:lang on fields', xml: withFields(CLIENT_EL.replace('<xrd:client', '<xrd:client xml:lang="sq"'), SERVICE_EL, REST), fast: true },
  { name: 'element in the xml namespace', xml: withFields(CLIENT_EL, '<xml:foo>x</xml:foo>', SERVICE_EL, REST), fast: false },
  // Refused by the envelope checks, which the byte reader leaves to the tree reader.
  { name: 'SOAP 1.2', xml: request().replace(SOAP, SOAP12), fast: false },
  { name: 'wrong root', xml: `<Envelope xmlns="urn:x"><Body><k/></Body></Envelope>`, fast: false },
  { name: 'no Header', xml: request().replace(/<soapenv:Header>[\s\S]*<\/soapenv:Header>/, ''), fast: false },
  { name: 'no Body', xml: request().replace(/<soapenv:Body>.*<\/soapenv:Body>/, ''), fast: false },
  { name: 'empty Body', xml: request(undefined, { body: '' }), fast: false },
  { name: 'Body with two elements', xml: request(undefined, { body: '<rc:a/><rc:b/>' }), fast: false },
  { name: 'two Bodies', xml: request().replace('</soapenv:Envelope>', '<soapenv:Body><rc:x/></soapenv:Body></soapenv:Envelope>'), fast: false },
  { name: 'Header after Body', xml: request().replace(/(<soapenv:Header>[\s\S]*<\/soapenv:Header>)([\s\S]*<\/soapenv:Body>)/, '$2$1'), fast: false },
  { name: 'two Headers', xml: request().replace('<soapenv:Body>', '<soapenv:Header/><soapenv:Body>'), fast: false },
  { name: 'element from another namespace in the Envelope', xml: request().replace('<soapenv:Body>', '<rc:extra/><soapenv:Body>'), fast: false },
  { name: 'Body in another namespace', xml: request().replaceAll('soapenv:Body', 'rc:Body'), fast: false },
  { name: 'processing instruction', xml: request().replace('<soapenv:Body>', '<?pi x?><soapenv:Body>'), fast: false },
  { name: 'DTD', xml: request(undefined, { prolog: '<?xml version="1.0"?><!DOCTYPE soapenv:Envelope>' }), fast: false },
  { name: 'undefined entity', xml: withFields(CLIENT_EL, SERVICE_EL, '<xrd:id>&nope;</xrd:id>'), fast: false },
  { name: 'malformed', xml: request().replace('</xrd:id>', ''), fast: false },
  { name: 'invalid UTF-8', xml: Buffer.concat([Buffer.from(request().split('msg-1')[0]), Buffer.from([0xc3, 0x28]), Buffer.from(request().split('msg-1')[1])]), fast: false },
]

t.test('hand-written requests: both readers agree', async t => {
  for (const c of REQUESTS) {
    const fromBytes = sameRequest(t, c.name, c.xml)
    if (c.fast === true) t.ok(fromBytes, `${c.name}: read from the bytes`)
    if (c.fast === false) t.notOk(fromBytes, `${c.name}: left to the tree reader`)
  }
})

// ---- generated requests ---------------------------------------------------------------------------

/** Writes a value the way a client might: references, CDATA, comments, padding, line ends. */
function spell (r: ReturnType<typeof random>, value: string): string {
  const chars = (text: string): string => {
    let out = ''
    for (const ch of text) {
      const form = r.pick(['plain', 'plain', 'plain', 'plain', 'hex', 'dec'] as const)
      out += form === 'hex' ? `&#x${ch.codePointAt(0)!.toString(16)};` : form === 'dec' ? `&#${ch.codePointAt(0)};` : ch === '&' ? '&amp;' : ch === '<' ? '&lt;' : ch
    }
    return out
  }
  let out = r.chance(0.1) ? `<![CDATA[${value}]]>` : r.chance(0.1) ? `${chars(value.slice(0, 1))}<!-- c -->${chars(value.slice(1))}` : chars(value)
  if (r.chance(0.15)) out = r.pick([' ', '\n  ', '\t', '\r\n ']) + out + r.pick([' ', '\n', '\r\n', '\t'])
  return out
}

function generatedRequest (seed: number): string {
  const r = random(seed)
  const env = r.pick(['soapenv', 'SOAP-ENV', 's', ''])
  const xp = r.pick(['xrd', 'x', 'soapenv', ''].filter(p => p !== env || p === 'soapenv'))
  const ip = r.pick(['id', 'i', 'ident'])
  const xrdAt = xp === '' && env === '' ? 'field' : r.pick(['envelope', 'header', 'field'] as const)
  const idAt = r.pick(['envelope', 'header', 'field'] as const)
  const ws = (): string => r.pick(['', '\n    ', ' ', '\t', '\r\n  '])
  const q = (v: string): string => r.chance(0.2) ? `'${v}'` : `"${v}"`
  const xDecl = (p: string, uri: string): string => p === '' ? ` xmlns=${q(uri)}` : ` xmlns:${p}=${q(uri)}`
  const envTag = (n: string): string => env === '' ? n : `${env}:${n}`
  // The X-Road prefix may collide with the envelope prefix only when declared below the Envelope.
  const xrdWhere = xp === env ? 'field' : xrdAt
  const fieldDecl = (xrdWhere === 'field' ? xDecl(xp, XRD) : '') + (idAt === 'field' ? xDecl(ip, ID) : '')
  const f = (name: string, content: string, attrs = ''): string => {
    const tag = xp === '' ? name : `${xp}:${name}`
    return `<${tag}${fieldDecl}${attrs}>${content}</${tag}${r.chance(0.1) ? ' ' : ''}>`
  }
  const typeAttr = (value: string): string => {
    const style = r.chance(0.85) ? 'prefixed' : r.pick(['unprefixed', 'other', 'none'] as const)
    if (style === 'none') return ''
    if (style === 'unprefixed') return ` objectType=${q(value)}`
    if (style === 'other') return ` xmlns:ot="${ID}" ot:objectType=${q(value)}`
    return ` ${ip}:objectType=${q(value)}`
  }
  const idParts = (names: string[], values: string[]): string => names.map((n, k) => values[k] === undefined ? '' : `${ws()}<${ip}:${n}>${spell(r, values[k])}</${ip}:${n}>`).join('') +
    (r.chance(0.03) ? `<${ip}:${names[0]}>dup</${ip}:${names[0]}>` : '')
  const member = r.chance(0.2)
  const client = f('client', idParts(CLIENT_PARTS, member ? CLIENT.slice(0, 3) : CLIENT), typeAttr(r.chance(0.95) ? (member ? 'MEMBER' : 'SUBSYSTEM') : r.pick(['MEMBER', 'SUBSYSTEM', 'SERVICE', ''])))
  const service = f('service', idParts(SERVICE_PARTS, r.chance(0.8) ? SERVICE : SERVICE.slice(0, 5)), typeAttr(r.chance(0.95) ? 'SERVICE' : 'CLIENT'))
  const fields = [
    ...(r.chance(0.98) ? [client] : []),
    ...(r.chance(0.98) ? [service] : []),
    ...(r.chance(0.98) ? [f('id', spell(r, r.pick(['msg-1', 'a&b', 'ë€', 'x y'])))] : []),
    ...(r.chance(0.6) ? [f('userId', spell(r, 'AL-K16102045M'))] : []),
    ...(r.chance(0.4) ? [f('issue', spell(r, 'CERT & 1'))] : []),
    ...(r.chance(0.98) ? [f('protocolVersion', spell(r, r.chance(0.95) ? '4.0' : '3.1'))] : []),
    ...(r.chance(0.2) ? [`<rp:representedParty xmlns:rp="${REPR}"><rp:partyClass>${spell(r, 'COM')}</rp:partyClass><rp:partyCode>${spell(r, '12')}</rp:partyCode></rp:representedParty>`] : []),
    ...(r.chance(0.2) ? [`<o:other xmlns:o="urn:other" o:a=${q('1>2')}><o:deep><o:deeper/>text</o:deep></o:other>`] : []),
    ...(r.chance(0.1) ? [`<!-- between fields -->`] : []),
    ...(r.chance(0.03) ? [f('id', 'second')] : []),
    ...(r.chance(0.03) ? [f('requestHash', 'Zm9v')] : []),
  ]
  for (let k = fields.length - 1; k > 0; k--) { // shuffle
    const j = Math.floor(r.pick([0, 0.25, 0.5, 0.75, 0.99]) * (k + 1))
    ;[fields[k], fields[j]] = [fields[j], fields[k]]
  }
  const envDecls = xDecl(env, SOAP) + (xrdWhere === 'envelope' ? xDecl(xp, XRD) : '') + (idAt === 'envelope' ? xDecl(ip, ID) : '') + (r.chance(0.3) ? xDecl('rc', RC) : '')
  const headerDecls = (xrdWhere === 'header' ? xDecl(xp, XRD) : '') + (idAt === 'header' ? xDecl(ip, ID) : '') + (r.chance(0.1) ? ' xmlns:rc="urn:rebound"' : '')
  const body = r.pick([`<k:kerkoShtetas xmlns:k="${RC}"><k:nid>I50314123V</k:nid></k:kerkoShtetas>`, `<kerkoShtetas xmlns="${RC}"/>`, `${ws()}<k:kerkoShtetas xmlns:k="${RC}" a='x'>t</k:kerkoShtetas>${ws()}`])
  const prolog = r.pick(['', '<?xml version="1.0" encoding="UTF-8"?>\n', "<?xml version='1.0'?>", '<!-- first -->'])
  return `${prolog}<${envTag('Envelope')}${envDecls}>${ws()}<${envTag('Header')}${headerDecls}>${fields.map(x => ws() + x).join('')}${ws()}</${envTag('Header')}>${ws()}` +
    `<${envTag('Body')}>${body}</${envTag('Body')}>${ws()}</${envTag('Envelope')}>`
}

t.test('generated requests: both readers agree, and most are read from the bytes', async t => {
  let fromBytes = 0
  const N = 600
  for (let seed = 1; seed <= N; seed++) if (sameRequest(t, `seed ${seed}`, generatedRequest(seed))) fromBytes++
  t.ok(fromBytes > N * 0.9, `byte reader answered ${fromBytes} of ${N}`)
})

// ---- responses --------------------------------------------------------------------------------------

function echoOf (xml: string | Buffer): EchoSource {
  const e = parseRequestEnvelope(typeof xml === 'string' ? Buffer.from(xml) : xml, 'tree')
  e.doc.dispose()
  return { header: e.header, headerXml: e.headerXml, headerIsText: e.headerIsText, headerNamespaces: e.headerNamespaces, requestHash: 'aGFzaA==' }
}

/** What a client of the answer can see: the Envelope, each Header element, and the Body element. */
function answerView (bytes: Buffer): unknown {
  return withDoc(bytes, doc => {
    const root = doc.root
    const children = (el: XmlElement): XmlElement[] => {
      const out: XmlElement[] = []
      for (let c = el.firstChild; c != null; c = c.next) if (c instanceof XmlElement) out.push(c)
      return out
    }
    const [header, body] = children(root)
    return {
      declaration: bytes.toString('latin1', 0, 38),
      encoding: doc.encoding,
      envelope: { ns: root.namespaceUri, name: root.name, attrs: root.attrs.map(a => [a.namespaceUri, a.name, a.value]) },
      header: { ns: header.namespaceUri, name: header.name, children: children(header).map(e => [e.namespaceUri, e.name, exclusive(e)]) },
      body: { ns: body.namespaceUri, name: body.name, content: children(body).map(exclusive) },
      count: children(root).length,
    }
  })
}

interface ResponseRun { outcome: unknown; spliced: boolean }

function readResponse (bytes: Buffer, echo: EchoSource, reader: 'auto' | 'tree'): ResponseRun {
  try {
    const r = readProviderResponse(bytes, echo, reader)
    try {
      const body = r.withBody(el => ({ ns: el.namespaceUri, name: el.name, line: el.line, c14n: exclusive(el) }))
      const out = r.build()
      return { spliced: r.spliced, outcome: { faultCode: r.faultCode, body, answer: r.faultCode === undefined ? answerView(out) : out.toString('base64') } }
    } finally {
      r.dispose()
    }
  } catch (err) {
    return { spliced: false, outcome: failure(err) }
  }
}

function sameResponse (t: Test, name: string, xml: string | Buffer, echo: EchoSource): boolean {
  const bytes = typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml
  const auto = readResponse(bytes, echo, 'auto')
  const tree = readResponse(bytes, echo, 'tree')
  t.same(auto.outcome, tree.outcome, name)
  const settled = settledByBytes(bytes, 'Server.ServerProxy.ServiceFailed.InvalidSoap', doc => responseFromBytes(doc, bytes, echo))
  if (!('error' in (auto.outcome as object))) t.equal(auto.spliced, settled, `${name}: the edge splices when it can`)
  return settled
}

const ANSWER = `<k:kerkoShtetasResponse xmlns:k="${RC}"><k:gjetur>false</k:gjetur></k:kerkoShtetasResponse>`
const ECHO_PLAIN = echoOf(request())
const ECHO_TRICKY = echoOf(`<?xml version="1.0"?><e:Envelope xmlns:e="${SOAP}" xmlns:s="${XRD}" xmlns:i="${ID}"><e:Header>` +
  `<client xmlns="${XRD}" i:objectType="SUBSYSTEM">${parts('i:', CLIENT_PARTS, CLIENT)}</client>` +
  `<s:service i:objectType="SERVICE">${parts('i:', SERVICE_PARTS, SERVICE)}</s:service><s:id>msg-1</s:id><!-- c --><s:protocolVersion>4.0</s:protocolVersion><plain a="x>y">no namespace</plain>` +
  `</e:Header><e:Body><k:kerkoShtetas xmlns:k="${RC}"/></e:Body></e:Envelope>`)
const ECHO_DEFAULT = echoOf(`<soapenv:Envelope xmlns:soapenv="${SOAP}" xmlns="${XRD}" xmlns:id="${ID}"><soapenv:Header>` +
  [CLIENT_EL, SERVICE_EL, REST].join('').replaceAll('xrd:', '') + `</soapenv:Header><soapenv:Body><k xmlns="${RC}"/></soapenv:Body></soapenv:Envelope>`)
const ECHO_CANONICAL = echoOf(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(request().replace('UTF-8', 'UTF-16'), 'utf16le')]))

/** Provider answers. `fast`: spliced from the bytes for every echo source. */
const RESPONSES: Array<{ name: string; xml: string | Buffer; fast?: boolean }> = [
  { name: 'bench fixture', xml: SOAP_RESPONSE, fast: true },
  { name: 'echo of the plain request', xml: request().replace('<rc:kerkoShtetas><rc:nid>I50314123V</rc:nid></rc:kerkoShtetas>', ANSWER), fast: true },
  { name: 'no Header', xml: `<s:Envelope xmlns:s="${SOAP}"><s:Body>${ANSWER}</s:Body></s:Envelope>`, fast: true },
  { name: 'empty Header', xml: `<s:Envelope xmlns:s="${SOAP}"><s:Header/><s:Body>${ANSWER}</s:Body></s:Envelope>`, fast: true },
  { name: 'default-namespace envelope', xml: `<Envelope xmlns="${SOAP}"><Body>${ANSWER}</Body></Envelope>`, fast: true },
  { name: 'default namespace declared on a prefixed envelope', xml: `<p:Envelope xmlns:p="${SOAP}" xmlns="urn:other"><p:Body>${ANSWER}</p:Body></p:Envelope>`, fast: true },
  { name: 'envelope prefix the request binds elsewhere', xml: `<s:Envelope xmlns:s="${SOAP}"><s:Body>${ANSWER}</s:Body></s:Envelope>`, fast: true },
  { name: 'envelope prefix xrd', xml: `<xrd:Envelope xmlns:xrd="${SOAP}"><xrd:Body>${ANSWER}</xrd:Body></xrd:Envelope>`, fast: true },
  { name: 'body relying on Envelope declarations', xml: `<s:Envelope xmlns:s="${SOAP}" xmlns:k="${RC}" xmlns="urn:d"><s:Body><k:kerkoShtetasResponse><k:gjetur>false</k:gjetur><plain/></k:kerkoShtetasResponse></s:Body></s:Envelope>`, fast: true },
  { name: 'Body attributes and declarations', xml: `<s:Envelope xmlns:s="${SOAP}"><s:Body xmlns:k="${RC}" s:id="b1"><k:kerkoShtetasResponse><k:gjetur>false</k:gjetur></k:kerkoShtetasResponse></s:Body></s:Envelope>`, fast: true },
  { name: 'Envelope attributes', xml: `<s:Envelope xmlns:s="${SOAP}" s:encodingStyle="urn:e&amp;1" plain='a"b'><s:Body>${ANSWER}</s:Body></s:Envelope>`, fast: true },
  { name: 'BOM, comments and whitespace everywhere', xml: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`<?xml version="1.0" encoding="utf-8"?>\n<!-- a -->\n<s:Envelope xmlns:s="${SOAP}">\n <!-- b --> <s:Header> <!-- h --> </s:Header>\n<!-- c --><s:Body> ${ANSWER} <!-- d --></s:Body>\n</s:Envelope>\n<!-- e -->\n`)]), fast: true },
  { name: 'provider header with other elements', xml: `<s:Envelope xmlns:s="${SOAP}"><s:Header><o:x xmlns:o="urn:o">y</o:x>text</s:Header><s:Body>${ANSWER}</s:Body></s:Envelope>`, fast: true },
  { name: 'provider echoes matching fields', xml: `<s:Envelope xmlns:s="${SOAP}" xmlns:x="${XRD}"><s:Header><x:id> msg-1 </x:id><x:protocolVersion>9</x:protocolVersion></s:Header><s:Body>${ANSWER}</s:Body></s:Envelope>`, fast: true },
  { name: 'provider echoes a different id', xml: `<s:Envelope xmlns:s="${SOAP}" xmlns:x="${XRD}"><s:Header><x:id>other</x:id></s:Header><s:Body>${ANSWER}</s:Body></s:Envelope>`, fast: true },
  { name: 'provider echoes a different client', xml: `<s:Envelope xmlns:s="${SOAP}" xmlns:x="${XRD}" xmlns:i="${ID}"><s:Header><x:client i:objectType="MEMBER">${parts('i:', CLIENT_PARTS, ['AL-DEV', 'GOV', 'X'])}</x:client></s:Header><s:Body>${ANSWER}</s:Body></s:Envelope>`, fast: true },
  { name: 'provider echoes a client with duplicate parts', xml: `<s:Envelope xmlns:s="${SOAP}" xmlns:x="${XRD}" xmlns:i="${ID}"><s:Header><x:client>${parts('i:', CLIENT_PARTS, CLIENT)}<i:memberCode>Z</i:memberCode></x:client></s:Header><s:Body>${ANSWER}</s:Body></s:Envelope>`, fast: true },
  { name: 'provider echoes fields twice (first counts)', xml: `<s:Envelope xmlns:s="${SOAP}" xmlns:x="${XRD}"><s:Header><x:userId>AL-K16102045M</x:userId><x:userId>someone</x:userId></s:Header><s:Body>${ANSWER}</s:Body></s:Envelope>`, fast: true },
  { name: 'provider echo with references and CDATA', xml: `<s:Envelope xmlns:s="${SOAP}" xmlns:x="${XRD}"><s:Header><x:id>m&#115;g-<![CDATA[1]]></x:id><x:issue>CERT-<!-- -->1</x:issue></s:Header><s:Body>${ANSWER}</s:Body></s:Envelope>`, fast: true },
  { name: 'non-ASCII before and after the Header', xml: `<!-- ë --><s:Envelope xmlns:s="${SOAP}" a="€"><s:Header><o xmlns="urn:e">ë</o></s:Header><s:Body><k:r xmlns:k="${RC}">Tiranë 𝄞</k:r></s:Body></s:Envelope>`, fast: true },
  { name: 'CRLF line ends', xml: `<s:Envelope xmlns:s="${SOAP}">\r\n<s:Header>\r\n</s:Header>\r\n<s:Body>\r\n<k:r xmlns:k="${RC}">a\r\nb</k:r>\r\n</s:Body>\r\n</s:Envelope>\r\n`, fast: true },
  { name: 'XML declaration version 1.0 with standalone', xml: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><s:Envelope xmlns:s="${SOAP}"><s:Body>${ANSWER}</s:Body></s:Envelope>`, fast: true },
  // Left to the tree reader.
  { name: 'Fault', xml: `<s:Envelope xmlns:s="${SOAP}"><s:Body><s:Fault><faultcode>s:Server.Oops</faultcode><faultstring>no</faultstring></s:Fault></s:Body></s:Envelope>`, fast: false },
  { name: 'Fault in ISO-8859-1', xml: Buffer.from(`<?xml version="1.0" encoding="ISO-8859-1"?><s:Envelope xmlns:s="${SOAP}"><s:Body><s:Fault><faultcode>Server</faultcode><faultstring>është</faultstring></s:Fault></s:Body></s:Envelope>`, 'latin1'), fast: false },
  { name: 'ISO-8859-1 answer', xml: Buffer.from(`<?xml version="1.0" encoding="ISO-8859-1"?><s:Envelope xmlns:s="${SOAP}"><s:Body><k:r xmlns:k="${RC}">Tiranë</k:r></s:Body></s:Envelope>`, 'latin1'), fast: false },
  { name: 'UTF-16 answer', xml: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`<?xml version="1.0" encoding="UTF-16"?><s:Envelope xmlns:s="${SOAP}"><s:Body>${ANSWER}</s:Body></s:Envelope>`, 'utf16le')]), fast: false },
  { name: 'text in the Envelope', xml: `<s:Envelope xmlns:s="${SOAP}">x<s:Body>${ANSWER}</s:Body></s:Envelope>`, fast: false },
  { name: 'SOAP 1.2 answer', xml: `<s:Envelope xmlns:s="${SOAP12}"><s:Body>${ANSWER}</s:Body></s:Envelope>`, fast: false },
  { name: 'Body with two elements', xml: `<s:Envelope xmlns:s="${SOAP}"><s:Body>${ANSWER}${ANSWER}</s:Body></s:Envelope>`, fast: false },
  { name: 'no Body', xml: `<s:Envelope xmlns:s="${SOAP}"><s:Header/></s:Envelope>`, fast: false },
  { name: 'not XML', xml: '<html><body>Bad Gateway</body>', fast: false },
]

t.test('hand-written responses: both readers agree, whatever the request looked like', async t => {
  for (const [echoName, echo] of Object.entries({ plain: ECHO_PLAIN, tricky: ECHO_TRICKY, 'default namespace': ECHO_DEFAULT, canonical: ECHO_CANONICAL })) {
    for (const c of RESPONSES) {
      const spliced = sameResponse(t, `${c.name} (${echoName} request)`, c.xml, echo)
      if (c.fast === true) t.ok(spliced, `${c.name} (${echoName} request): spliced`)
      if (c.fast === false) t.notOk(spliced, `${c.name} (${echoName} request): left to the tree reader`)
    }
  }
})

t.test('an answer whose Header repeats the request Header as sent is not read again', async t => {
  const sent = (echo: EchoSource): { text: string; bytes: Buffer; namespaces: Record<string, string> } => ({ text: echo.headerXml, bytes: Buffer.from(echo.headerXml), namespaces: echo.headerNamespaces })
  const echoed = (xml: string | Buffer, echo: EchoSource): boolean | undefined => scanEnvelope(typeof xml === 'string' ? Buffer.from(xml) : xml, sent(echo))?.header?.echoed
  const answer = request().replace('<rc:kerkoShtetas><rc:nid>I50314123V</rc:nid></rc:kerkoShtetas>', ANSWER)
  const benchEcho = echoOf(SOAP_REQUEST)
  t.equal(echoed(SOAP_RESPONSE, benchEcho), true, 'the bench answer repeats the bench request Header')
  t.equal(echoed(answer, ECHO_PLAIN), true, 'same text, same bindings')
  t.equal(echoed(answer.replace('</soapenv:Header>', '</soapenv:Header\n >'), ECHO_PLAIN), true, 'whitespace in the end tag')
  const cases: Array<{ name: string; xml: string; echoed: boolean }> = [
    { name: 'same text, the X-Road prefix bound elsewhere', xml: answer.replace(`xmlns:xrd="${XRD}"`, 'xmlns:xrd="urn:not-x-road"'), echoed: false },
    { name: 'same text, one binding more', xml: answer.replace('<soapenv:Header>', '<soapenv:Header xmlns:o="urn:o">'), echoed: false },
    { name: 'the same text and one element more', xml: answer.replace('</soapenv:Header>', '<o:x xmlns:o="urn:o"/></soapenv:Header>'), echoed: false },
    { name: 'another id', xml: answer.replace('<xrd:id>msg-1</xrd:id>', '<xrd:id>msg-2</xrd:id>'), echoed: false },
    { name: 'empty-element Header', xml: answer.replace(/<soapenv:Header>[\s\S]*<\/soapenv:Header>/, '<soapenv:Header/>'), echoed: false },
  ]
  for (const c of cases) {
    t.equal(echoed(c.xml, ECHO_PLAIN) === true, c.echoed, `${c.name}: ${c.echoed ? 'not read' : 'read'}`)
    sameResponse(t, c.name, c.xml, ECHO_PLAIN)
  }
  // The same characters under swapped bindings are other fields: the answer echoes id 'other'.
  const swapping = request(`${CLIENT_EL}${SERVICE_EL}<xrd:id>msg-1</xrd:id><q:id>other</q:id><xrd:protocolVersion>4.0</xrd:protocolVersion>`, { envAttrs: ' xmlns:q="urn:q"' })
  const echo = echoOf(swapping)
  const swapped = swapping.replace(`xmlns:xrd="${XRD}"`, 'xmlns:xrd="urn:q"').replace('xmlns:q="urn:q"', `xmlns:q="${XRD}"`).replace('<rc:kerkoShtetas><rc:nid>I50314123V</rc:nid></rc:kerkoShtetas>', ANSWER)
  t.equal(echoed(swapped, echo), undefined, 'swapped bindings: read')
  t.equal(echoed(swapping.replace('<rc:kerkoShtetas><rc:nid>I50314123V</rc:nid></rc:kerkoShtetas>', ANSWER), echo), true, 'as sent: not read')
  sameResponse(t, 'swapped bindings', swapped, echo)
  // A prefix named like an object property is bound in no list of bindings: such answers are read.
  const proto = request(`${CLIENT_EL}${SERVICE_EL}<__proto__:id>other</__proto__:id><xrd:id>msg-1</xrd:id><xrd:protocolVersion>4.0</xrd:protocolVersion>`, { envAttrs: ' xmlns:__proto__="urn:q"' })
  // Read as the edge reads it (from the bytes), so its bindings are listed the way the answer's are.
  const read = parseRequestEnvelope(Buffer.from(proto))
  read.doc.dispose()
  t.ok(read.readFromBytes, 'the request is read from its bytes')
  const protoEcho: EchoSource = { header: read.header, headerXml: read.headerXml, headerIsText: read.headerIsText, headerNamespaces: read.headerNamespaces, requestHash: 'aGFzaA==' }
  const protoSwapped = proto.replace('xmlns:__proto__="urn:q"', `xmlns:__proto__="${XRD}"`).replace('<rc:kerkoShtetas><rc:nid>I50314123V</rc:nid></rc:kerkoShtetas>', ANSWER)
  t.equal(echoed(protoSwapped, protoEcho), undefined, 'a __proto__ prefix: read')
  sameResponse(t, 'a __proto__ prefix rebound', protoSwapped, protoEcho)
  t.match(readResponse(Buffer.from(protoSwapped), protoEcho, 'auto').outcome, { error: { code: 'Server.ClientProxy.InconsistentResponse' } }, 'the rebound id is caught')
  t.match(readResponse(Buffer.from(swapped), echo, 'auto').outcome, { error: { code: 'Server.ClientProxy.InconsistentResponse', message: /id/ } }, 'the swapped id is caught')
})

t.test('generated requests meet generated answers', async t => {
  let spliced = 0
  let tried = 0
  for (let seed = 1; seed <= 150; seed++) {
    const xml = generatedRequest(seed)
    let echo: EchoSource
    try {
      echo = echoOf(xml)
    } catch {
      continue // a request the edge refuses never gets an answer
    }
    const r = random(seed * 7919)
    const env = r.pick(['s', 'soapenv', 'xrd', 'x', 'i', ''])
    const tag = (n: string): string => env === '' ? n : `${env}:${n}`
    const decl = env === '' ? ` xmlns="${SOAP}"` : ` xmlns:${env}="${SOAP}"`
    const header = r.pick(['', `<${tag('Header')}/>`, `<${tag('Header')}>${xml.match(/<[^>]*Header[^>]*>([\s\S]*)<\/[^>]*Header>/)?.[1] ?? ''}</${tag('Header')}>`])
    const answer = `<${tag('Envelope')}${decl}${r.chance(0.5) ? ` xmlns:xrd="${XRD}" xmlns:id="${ID}" xmlns:x="${XRD}" xmlns:i="${ID}" xmlns:ident="${ID}"` : ''}>${header}<${tag('Body')}>${ANSWER}</${tag('Body')}></${tag('Envelope')}>`
    tried++
    if (sameResponse(t, `seed ${seed}`, answer, echo)) spliced++
  }
  t.ok(spliced > tried * 0.5, `spliced ${spliced} of ${tried}`)
})
