/**
 * The SOAP edge's fast path (protocol/soap/well-formed.ts and schemas/xsd-fast/) may only ever accept: whatever it
 * accepts, libxml2 must accept too — the text must parse, and the body must be valid against the
 * XSD with the type hooks. These tests hold it against libxml2 on hand-written documents that hit
 * one construct each and on documents generated from fixed seeds (mutated envelopes, bodies with
 * tricky values and shapes, and simple types with every compiled facet), and check that the fast
 * path really answers for the common messages, so a change that makes it give up everywhere cannot
 * pass unnoticed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t, { type Test } from 'tap'
import { XmlDocument, XmlElement, XmlText } from 'libxml2-wasm'
import { SOAP_REQUEST, SOAP_RESPONSE } from '../../bench/fixtures.ts'
import { parseRequestEnvelope } from '../../gateway/edge/soap/request.ts'
import { readProviderResponse, type EchoSource } from '../../gateway/edge/soap/response.ts'
import { bodyViolations } from '../../gateway/edge/soap/validate.ts'
import { checkWellFormed, type ScannedElement } from '../../protocol/soap/well-formed.ts'
import { parseXml } from '../../protocol/soap/xml.ts'
import { PROJECT_SCHEMA_DIR, SchemaLibrary, xsdViolations } from '../../schemas/library.ts'
import { translatePattern } from '../../schemas/xsd-fast/pattern.ts'
import { FastXsd } from '../../schemas/xsd-fast/validator.ts'
import { textOf } from '../../schemas/xsd-model.ts'
import { CASES } from '../support/schema-cases.ts'
import { seededRandom as random } from '../support/seeded-random.ts'

const SOAP = 'http://schemas.xmlsoap.org/soap/envelope/'
const XRD = 'http://x-road.eu/xsd/xroad.xsd'
const ID = 'http://x-road.eu/xsd/identifiers'
const XSI = 'http://www.w3.org/2001/XMLSchema-instance'
const RC = 'http://ura.gov.al/demo/regjistri-civil/v1'
const TV = 'http://ura.gov.al/demo/taksat-vendore/v1'
const CASES_NS = 'http://ura.gov.al/test/core-cases'
const BRIDGE_NS = 'http://ura.gov.al/test/bridge-cases'

const library = await SchemaLibrary.load([PROJECT_SCHEMA_DIR, resolve(import.meta.dirname, '../fixtures')])

const escape = (v: string): string => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

// ---- well-formedness ---------------------------------------------------------------------------

function libxml2Parses (bytes: Buffer): boolean {
  try {
    parseXml(bytes, 'Client.InvalidSoap').dispose()
    return true
  } catch {
    return false
  }
}

/** The checked tree read as libxml2's tree is: names, namespaces, attributes, children, text. */
function sameTree (a: ScannedElement, b: XmlElement): string | undefined {
  if (a.ns !== (b.namespaceUri ?? '') || a.name !== b.name) return `element {${a.ns}}${a.name} against {${b.namespaceUri}}${b.name}`
  const attrs = b.attrs
  if (attrs.length !== a.attributeCount) return `attributes of ${a.name}`
  for (const attr of attrs) if (a.attribute(attr.name, attr.namespaceUri ?? '') !== attr.value) return `attribute ${attr.name} of ${a.name}`
  const kids: XmlElement[] = []
  for (let c = b.firstChild; c != null; c = c.next) {
    if (c instanceof XmlElement) kids.push(c)
    else if (a.blank && c instanceof XmlText && !/^[ \t\n\r]*$/.test(c.content)) return `text directly inside ${a.name}`
  }
  if (kids.length !== a.elements.length) return `children of ${a.name}`
  // As the type hooks read it: all text, and the element's own text.
  if (a.content() !== b.content) return `text of ${a.name}: ${JSON.stringify(a.content())} against ${JSON.stringify(b.content)}`
  if (a.text() !== textOf(b)) return `own text of ${a.name}: ${JSON.stringify(a.text())} against ${JSON.stringify(textOf(b))}`
  if (a.children().length !== kids.length) return `children() of ${a.name}`
  for (let k = 0; k < kids.length; k++) {
    const problem = sameTree(a.elements[k], kids[k])
    if (problem !== undefined) return problem
  }
  return undefined
}

/** Checks the one rule (accepted ⇒ libxml2 parses it, to the same tree); returns whether it was accepted. */
function checkAgrees (t: Test, name: string, bytes: Buffer): boolean {
  const checked = checkWellFormed(bytes)
  if (checked === undefined) return false
  let doc: XmlDocument
  try {
    doc = parseXml(bytes, 'Client.InvalidSoap')
  } catch (err) {
    t.fail(`${name}: accepted by the check, refused by libxml2 (${(err as Error).message})`)
    return true
  }
  try {
    const problem = sameTree(checked.root, doc.root)
    if (problem !== undefined) t.fail(`${name}: ${problem}`)
  } finally {
    doc.dispose()
  }
  return true
}

const ENV = (body: string, header = `<xrd:id>m</xrd:id>`, envAttrs = ''): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope xmlns:s="${SOAP}" xmlns:xrd="${XRD}" xmlns:id="${ID}"${envAttrs}><s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`

/** Documents, each hitting one construct; `ok`: the check must accept it (else it must refuse or libxml2 accept). */
const DOCUMENTS: Array<{ name: string; xml: string | Buffer; ok?: boolean }> = [
  { name: 'bench request', xml: SOAP_REQUEST, ok: true },
  { name: 'bench response', xml: SOAP_RESPONSE, ok: true },
  { name: 'plain', xml: ENV('<a xmlns="urn:a">x</a>'), ok: true },
  { name: 'no declaration, BOM', xml: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<a/>')]), ok: true },
  { name: 'declaration with standalone', xml: '<?xml version="1.0" encoding="utf-8" standalone="no"?><a/>', ok: true },
  { name: 'declaration in single quotes', xml: "<?xml version='1.0'?>\n<a/>", ok: true },
  { name: 'references', xml: '<a b="&lt;&#x41;&#66;&quot;">&amp;&#x1F600;&#13;&gt;</a>', ok: true },
  { name: 'CRLF in text and attributes', xml: '<a b="1\r\n2\t3">x\r\ny\rz</a>', ok: true },
  { name: 'comments everywhere', xml: '<!-- a --><a><!--b--><c/><!-- - --></a><!---->', ok: true },
  { name: 'empty default namespace', xml: '<a xmlns="urn:a"><b xmlns=""/></a>', ok: true },
  { name: 'whitespace in tags', xml: '<a \n b = "1"\t></a\n>', ok: true },
  { name: 'non-ASCII text', xml: '<a b="€">Tiranë 𝄞</a>', ok: true },
  { name: '> in text and attributes', xml: '<a b=">">x > y ]] ]></a>', ok: true },
  { name: 'version 1.1', xml: '<?xml version="1.1"?><a/>', ok: false },
  { name: 'encoding ISO-8859-1', xml: Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><a>ë</a>', 'latin1'), ok: false },
  { name: 'unknown declaration attribute', xml: '<?xml version="1.0" foo="bar"?><a/>', ok: false },
  { name: 'DTD', xml: '<!DOCTYPE a><a/>', ok: false },
  { name: 'PI', xml: '<a><?pi x?></a>', ok: false },
  { name: 'CDATA', xml: '<a><![CDATA[x]]></a>', ok: false },
  { name: 'unbound prefix', xml: '<a><p:b/></a>', ok: false },
  { name: 'unbound attribute prefix', xml: '<a p:b="1"/>', ok: false },
  { name: 'empty prefixed namespace', xml: '<a xmlns:p=""/>', ok: false },
  { name: 'relative namespace name', xml: '<a xmlns="a b"/>', ok: false },
  { name: 'xml prefix', xml: '<a xml:lang="sq"/>', ok: false },
  { name: 'duplicate attribute', xml: '<a b="1" b="2"/>', ok: false },
  { name: 'duplicate expanded attribute', xml: '<a xmlns:p="urn:x" xmlns:q="urn:x" p:b="1" q:b="2"/>', ok: false },
  { name: 'attributes without space', xml: '<a b="1"c="2"/>', ok: false },
  { name: 'mismatched end tag', xml: '<a><b></a></b>', ok: false },
  { name: 'end tag with another prefix', xml: '<p:a xmlns:p="urn:x" xmlns:q="urn:x"></q:a>', ok: false },
  { name: 'end tag longer', xml: '<a></ab>', ok: false },
  { name: 'unclosed', xml: '<a><b>', ok: false },
  { name: 'two roots', xml: '<a/><b/>', ok: false },
  { name: 'text after the root', xml: '<a/>x', ok: false },
  { name: 'text before the root', xml: 'x<a/>', ok: false },
  { name: 'undefined entity', xml: '<a>&nbsp;</a>', ok: false },
  { name: 'reference to NUL', xml: '<a>&#0;</a>', ok: false },
  { name: 'reference to a surrogate', xml: '<a>&#xD800;</a>', ok: false },
  { name: 'reference beyond Unicode', xml: '<a>&#x110000;</a>', ok: false },
  { name: 'bare ampersand', xml: '<a>a & b</a>', ok: false },
  { name: '< in an attribute', xml: '<a b="<"/>', ok: false },
  { name: ']]> in text', xml: '<a>]]></a>', ok: false },
  { name: '-- in a comment', xml: '<a><!-- a -- b --></a>', ok: false },
  { name: 'comment ending in ---', xml: '<a><!-- a ---></a>', ok: false },
  { name: 'control character', xml: '<a>\u0001</a>', ok: false },
  { name: 'control character in a comment', xml: '<a><!-- \u0007 --></a>', ok: false },
  { name: 'U+FFFE', xml: '<a>\uFFFE</a>', ok: false },
  { name: 'broken UTF-8', xml: Buffer.concat([Buffer.from('<a>'), Buffer.from([0xc3, 0x28]), Buffer.from('</a>')]), ok: false },
  { name: 'encoded surrogate', xml: Buffer.concat([Buffer.from('<a>'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('</a>')]), ok: false },
  { name: 'UTF-16', xml: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<a/>', 'utf16le')]), ok: false },
  { name: 'non-ASCII name', xml: '<përshkrim/>', ok: false },
  { name: 'name with two colons', xml: '<a xmlns:p="urn:x"><p:b:c/></a>', ok: false },
  { name: 'name starting with a digit', xml: '<1a/>', ok: false },
  { name: 'space before the declaration', xml: ' <?xml version="1.0"?><a/>', ok: false },
  { name: 'unquoted attribute', xml: '<a b=1/>', ok: false },
  { name: 'end tag with attributes', xml: '<a></a b="1">', ok: false },
  { name: '32 attributes', xml: `<a ${Array.from({ length: 32 }, (_, k) => `a${k}="1"`).join(' ')}/>`, ok: true },
  { name: '33 attributes (compared pairwise: left to libxml2)', xml: `<a ${Array.from({ length: 33 }, (_, k) => `a${k}="1"`).join(' ')}/>`, ok: false },
]

t.test('hand-written documents: what the check accepts, libxml2 parses to the same tree', async t => {
  for (const d of DOCUMENTS) {
    const bytes = typeof d.xml === 'string' ? Buffer.from(d.xml, 'utf8') : d.xml
    const accepted = checkAgrees(t, d.name, bytes)
    if (d.ok === true) t.ok(accepted, `${d.name}: accepted`)
    if (d.ok === false) t.notOk(accepted, `${d.name}: left to libxml2`)
    if (d.ok === false && accepted === false && !libxml2Parses(bytes)) t.pass(`${d.name}: libxml2 refuses it too`)
  }
})

/** Snippets a mutation puts in: markup, references, names, bytes that are not UTF-8. */
const SNIPPETS = ['<', '>', '&', '&amp;', '&#0;', '&#x41;', '&#xD800;', '&bogus;', ']]>', '--', '<!--x-->', '<![CDATA[x]]>', '<?pi?>', '<!DOCTYPE a>',
  '"', "'", ' ', '=', '/', ':', 'p:', 'xmlns:p="urn:p"', ' xmlns="urn:d"', ' xmlns:q=""', 'xml:', '</a>', '<b/>', '\u0001', '\uFFFE', '\uFFFD', 'é', '\r\n', '\t',
  ' a="1"', ' a="1" a="2"', '<x:y>', '</x:y>']
const BYTES = [[0xc3, 0x28], [0xff], [0xed, 0xa0, 0x80], [0xe2, 0x82]]

function mutate (base: Buffer, seed: number): Buffer {
  const r = random(seed)
  let bytes = base
  const edits = 1 + Math.floor(r.pick([0, 1, 2]))
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r.pick(Array.from({ length: 64 }, (_, k) => k / 64)) * bytes.length)
    const kind = r.pick(['insert', 'insert', 'delete', 'replace', 'bytes'])
    const snippet = kind === 'bytes' ? Buffer.from(r.pick(BYTES)) : Buffer.from(r.pick(SNIPPETS), 'utf8')
    const cut = kind === 'delete' || kind === 'replace' ? 1 + Math.floor(r.pick([0, 1, 2, 5])) : 0
    bytes = Buffer.concat([bytes.subarray(0, at), kind === 'delete' ? Buffer.alloc(0) : snippet, bytes.subarray(Math.min(bytes.length, at + cut))])
  }
  return bytes
}

t.test('mutated envelopes: whatever the check accepts, libxml2 parses to the same tree', async t => {
  const bases = [SOAP_REQUEST, SOAP_RESPONSE, Buffer.from(ENV('<k:a xmlns:k="urn:k" b="1"><k:c>x &amp; y</k:c><!-- c --><d/></k:a>'))]
  let accepted = 0
  let refusedByBoth = 0
  const N = 3000
  for (let seed = 1; seed <= N; seed++) {
    const bytes = mutate(bases[seed % bases.length], seed)
    if (checkAgrees(t, `seed ${seed}`, bytes)) accepted++
    else if (!libxml2Parses(bytes)) refusedByBoth++
  }
  t.ok(accepted > N * 0.05, `the check accepted ${accepted} of ${N}`)
  t.ok(refusedByBoth > N * 0.3, `${refusedByBoth} of ${N} refused by both`)
})

// ---- patterns and simple types ------------------------------------------------------------------

const PATTERNS = ['[0-9]{4}-[0-9]{2}-[0-9]{2}', '[A-M][0-9]{8}[A-Z]', '(\\+355|00355|0)(6[78][2-9][0-9]{6}|69[0-9]{7})', '\\d+', '[\\d]{2,3}', '[^a]+', '[^\\s]+',
  'a.c', '\\s*x', '[a-z-]+', '[-a]b', '(ab|c){2,3}', 'x?y*z+', '[\\-+]?[0-9]{1,3}', '\\.', 'é+', '[À-ÿ]+', '.', '.*', 'a{0}b', '[a\\]]', '\\p{Lu}+', '$x', 'a^',
  '[a-z-[aeiou]]+', '\\w+', '(a|)', 'a|b|', '\\|\\\\', '[\\n\\t ]']
const VALUES = ['', ' ', 'a', 'b', 'ab', 'abab', 'abcab', 'c', 'cc', 'ccc', 'abc', 'xyz', 'z', 'yz', 'x', '  x', '\tx', '123', '٣٤', '12', '1234', '+12', '-1', '-12', '1.5',
  'é', 'éé', 'À', 'ÿ', 'Ā', '𝄞', '𝄞𝄞', 'a\nb', 'a c', '-', '--', '-a', '-ab', 'ab-', 'a]', ']', '|\\', '.', '\n', '\t', 'A', 'ABC', 'x$', '$x', 'a^', 'aa',
  '2024-02-29', '2023-02-29', '0000-01-01', '2024-13-01', '2024-01-01Z', '2024-01-01T10:00:00', '2024-01-01T24:00:00', '2024-01-01T23:59:59.5+13:59', '2024-01-01T10:00:00+14:00',
  '2024-01-01T10:00:00-05:30', ' 2024-01-01', '1985-03-14', '0', '01', '-0', '+1', '1.', '.5', '1.50', '127', '128', '-128', '-129', '255', '256', '2147483647', '2147483648',
  '1000000000000', '1000000000000.00', '1000000000000.01', '99999999999999999999', '0.001', '12.345', 'true', 'false', '1', 'TRUE', ' true', 'M', 'F', 'm',
  'K12345678A', '0692123456', '+355672123456', 'L41526502B', 'I50314123V', 'Tiranë', 'Tirane']

/** Simple types, each written as an XSD restriction; every compiled facet and some that are not. */
const TYPES: Array<[base: string, facets: string]> = [
  ['string', ''], ['string', '<xs:maxLength value="2"/>'], ['string', '<xs:minLength value="2"/><xs:maxLength value="3"/>'], ['string', '<xs:length value="2"/>'],
  ['string', '<xs:enumeration value="a"/><xs:enumeration value="ab"/><xs:enumeration value=" x"/>'], ['string', '<xs:whiteSpace value="collapse"/>'],
  ['token', ''], ['normalizedString', ''], ['boolean', ''], ['boolean', '<xs:pattern value="true|1"/>'], ['decimal', ''], ['decimal', '<xs:fractionDigits value="2"/>'],
  ['decimal', '<xs:totalDigits value="3"/>'], ['decimal', '<xs:minInclusive value="0"/><xs:maxInclusive value="1000000000000"/><xs:fractionDigits value="2"/>'],
  ['decimal', '<xs:minExclusive value="-1.5"/><xs:maxExclusive value="12.345"/>'], ['decimal', '<xs:enumeration value="1.5"/>'], ['integer', ''], ['int', ''],
  ['int', '<xs:minInclusive value="2015"/><xs:maxInclusive value="2100"/>'], ['long', ''], ['short', ''], ['byte', ''], ['nonNegativeInteger', ''], ['positiveInteger', ''],
  ['nonPositiveInteger', ''], ['negativeInteger', ''], ['unsignedByte', ''], ['unsignedLong', ''], ['date', ''], ['date', '<xs:pattern value="[0-9]{4}-[0-9]{2}-[0-9]{2}"/>'],
  ['dateTime', ''], ['time', ''], ['anyURI', ''],
  ...PATTERNS.map((p): [string, string] => ['string', `<xs:pattern value="${escape(p).replace(/"/g, '&quot;')}"/>`]),
  ['string', '<xs:pattern value="a+"/><xs:pattern value="b+"/>'],
]

t.test('patterns: a translated pattern never matches what XSD refuses', async t => {
  const translated = PATTERNS.filter(p => translatePattern(p) !== undefined)
  t.ok(translated.length >= 20, `${translated.length} of ${PATTERNS.length} patterns translated`)
  for (const p of ['\\p{Lu}+', '$x', 'a^', '[a-z-[aeiou]]+', '\\w+']) t.equal(translatePattern(p), undefined, `${p}: not translated`)
})

t.test('simple types: whatever the compiled check accepts, libxml2 accepts', async t => {
  const ns = 'urn:ura:test:fast-simple'
  const dir = await mkdtemp(join(tmpdir(), 'ura-fast-xsd-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  // One type derived twice as well: facets of both steps apply.
  const types = TYPES.map(([base, facets], k) => `<xs:simpleType name="T${k}"><xs:restriction base="xs:${base}">${facets}</xs:restriction></xs:simpleType>`).join('\n')
  const elements = TYPES.map((_, k) => `<xs:element name="e${k}" type="t:T${k}"/>`).join('\n')
  await writeFile(join(dir, 'fast.xsd'), `<?xml version="1.0"?>\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="${ns}" targetNamespace="${ns}" elementFormDefault="qualified">\n${types}\n${elements}\n` +
    '<xs:simpleType name="Twice"><xs:restriction base="t:T1"><xs:pattern value="[a-c]*"/></xs:restriction></xs:simpleType><xs:element name="twice" type="t:Twice"/>\n' +
    // What the model does not describe is never compiled: values fixed or defaulted, abstract types.
    '<xs:element name="fixed" type="xs:string" fixed="a"/><xs:element name="defaulted" type="xs:int" default="1"/>' +
    '<xs:complexType name="Abstract" abstract="true"><xs:sequence><xs:element name="x" type="xs:string"/></xs:sequence></xs:complexType><xs:element name="abstract" type="t:Abstract"/>' +
    '<xs:element name="inner"><xs:complexType><xs:sequence><xs:element name="x" type="xs:string" fixed="a"/></xs:sequence></xs:complexType></xs:element>\n</xs:schema>\n')
  const lib = await SchemaLibrary.load([dir])
  const xsd = lib.xsd(ns)!
  const fast = new FastXsd(lib.model, ns)
  let accepted = 0
  let agreedRefusals = 0
  for (const name of [...TYPES.map((_, k) => `e${k}`), 'twice']) {
    for (const value of VALUES) {
      const bytes = Buffer.from(`<t:${name} xmlns:t="${ns}">${escape(value).replace(/\r/g, '&#13;')}</t:${name}>`)
      const checked = checkWellFormed(bytes)!
      const doc = XmlDocument.fromBuffer(bytes)
      try {
        const reference = xsdViolations(xsd, doc.root)
        if (fast.accepts(checked.root)) {
          accepted++
          t.same(reference, [], `${name} (${TYPES[Number(name.slice(1))]?.join(' ') ?? 'twice'}) ${JSON.stringify(value)}: accepted by libxml2 too`)
        } else if (reference.length > 0) {
          agreedRefusals++
        }
      } finally {
        doc.dispose()
      }
    }
  }
  t.ok(accepted > 500, `the compiled checks accepted ${accepted} values`)
  t.ok(agreedRefusals > 1000, `${agreedRefusals} values refused by both`)
  t.notOk(fast.covers('e6'), 'xs:token is not compiled')
  for (const name of ['fixed', 'defaulted', 'abstract']) t.notOk(fast.covers(name), `${name}: not compiled`)
  const inner = checkWellFormed(Buffer.from(`<t:inner xmlns:t="${ns}"><t:x>b</t:x></t:inner>`))!.root
  t.notOk(fast.accepts(inner), 'a fixed value inside: left to libxml2')
  t.ok(fast.covers('e0'), 'xs:string is compiled')
})

// ---- bodies against the library's XSDs ------------------------------------------------------------

const HEADER = `<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>AL-DEV</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>K11503002N</id:memberCode><id:subsystemCode>portali</id:subsystemCode></xrd:client>` +
  `<xrd:service id:objectType="SERVICE"><id:xRoadInstance>AL-DEV</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>L01417001D</id:memberCode><id:subsystemCode>regjistri-civil</id:subsystemCode><id:serviceCode>kerkoShtetas</id:serviceCode></xrd:service>` +
  '<xrd:id>msg-1</xrd:id><xrd:protocolVersion>4.0</xrd:protocolVersion>'

interface BodyRun { fast: boolean; edge: string[]; reference: string[] }

/** A request around `body`: the edge's verdict, the reference (libxml2's tree), and whether the fast path settled it. */
function runBody (ns: string, body: string, envAttrs = ''): BodyRun | undefined {
  const bytes = Buffer.from(ENV(body, HEADER, envAttrs))
  let e
  try {
    e = parseRequestEnvelope(bytes)
  } catch {
    return undefined // not a request the edge reads (malformed): no validation to compare
  }
  try {
    const xsd = library.xsd(ns)!
    const fast = e.bodyNode !== undefined && e.bodyText !== undefined && xsd.accepts(e.bodyNode, e.bodyText)
    const edge = bodyViolations(xsd, e.bodyNode, e.bodyText, () => e.body)
    return { fast, edge, reference: xsdViolations(xsd, e.body) }
  } finally {
    e.dispose()
  }
}

function bodyAgrees (t: Test, name: string, ns: string, body: string, envAttrs = ''): BodyRun | undefined {
  const run = runBody(ns, body, envAttrs)
  if (run === undefined) return undefined
  if (run.fast) t.same(run.reference, [], `${name}: accepted by the fast path, so by libxml2`)
  t.same(run.edge, run.reference, `${name}: the edge reports what libxml2 reports`)
  return run
}

const SHTETAS = ['<r:nid>I50314123V</r:nid>', '<r:emri>Artan</r:emri>', '<r:mbiemri>Hoxha</r:mbiemri>', '<r:atesia>Petrit</r:atesia>', '<r:datelindja>1985-03-14</r:datelindja>',
  '<r:gjinia>M</r:gjinia>', '<r:vendlindja>Tiranë</r:vendlindja>',
  '<r:adresa><r:bashkia>Tiranë</r:bashkia><r:rruga>Rruga e Kavajës</r:rruga><r:nrPallati>24/1</r:nrPallati><r:kodiPostar>1001</r:kodiPostar></r:adresa>', '<r:gjendjaCivile>martuar</r:gjendjaCivile>']
const RESPONSE_OF = (shtetas: string[], found = 'true'): string => `<r:kerkoShtetasResponse xmlns:r="${RC}"><r:gjetur>${found}</r:gjetur><r:shtetas>${shtetas.join('')}</r:shtetas></r:kerkoShtetasResponse>`

/** Hand-written bodies; `fast`: the fast path must accept it, false: it must leave it to libxml2. */
const BODIES: Array<{ name: string; ns: string; body: string; envAttrs?: string; fast: boolean }> = [
  { name: 'request', ns: RC, body: `<rc:kerkoShtetas xmlns:rc="${RC}"><rc:nid>I50314123V</rc:nid><rc:arsyeja>Lëshim</rc:arsyeja></rc:kerkoShtetas>`, fast: true },
  { name: 'request in the default namespace', ns: RC, body: `<kerkoShtetas xmlns="${RC}">\n  <nid>I50314123V</nid>\n  <!-- c -->\n</kerkoShtetas>`, fast: true },
  { name: 'request, prefix bound on the Envelope', ns: RC, body: '<q:kerkoShtetas><q:nid>I50314123V</q:nid></q:kerkoShtetas>', envAttrs: ` xmlns:q="${RC}"`, fast: true },
  { name: 'response', ns: RC, body: RESPONSE_OF(SHTETAS), fast: true },
  { name: 'response, not found', ns: RC, body: `<r:kerkoShtetasResponse xmlns:r="${RC}"><r:gjetur>0</r:gjetur></r:kerkoShtetasResponse>`, fast: true },
  { name: 'references in values', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}"><r:nid>&#73;50314123V</r:nid><r:arsyeja>a &amp; b &lt; c</r:arsyeja></r:kerkoShtetas>`, fast: true },
  { name: 'wrong check letter (hook)', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}"><r:nid>I50314123A</r:nid></r:kerkoShtetas>`, fast: false },
  { name: 'NID with spaces', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}"><r:nid> I50314123V</r:nid></r:kerkoShtetas>`, fast: false },
  { name: 'arsyeja 201 characters', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}"><r:nid>I50314123V</r:nid><r:arsyeja>${'ë'.repeat(201)}</r:arsyeja></r:kerkoShtetas>`, fast: false },
  { name: 'arsyeja 200 characters', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}"><r:nid>I50314123V</r:nid><r:arsyeja>${'ë'.repeat(200)}</r:arsyeja></r:kerkoShtetas>`, fast: true },
  { name: 'arsyeja 200 characters outside the BMP', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}"><r:nid>I50314123V</r:nid><r:arsyeja>${'𝄞'.repeat(200)}</r:arsyeja></r:kerkoShtetas>`, fast: true },
  { name: 'wrong order', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}"><r:arsyeja>x</r:arsyeja><r:nid>I50314123V</r:nid></r:kerkoShtetas>`, fast: false },
  { name: 'repeated element', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}"><r:nid>I50314123V</r:nid><r:nid>I50314123V</r:nid></r:kerkoShtetas>`, fast: false },
  { name: 'missing element', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}"><r:arsyeja>x</r:arsyeja></r:kerkoShtetas>`, fast: false },
  { name: 'unknown element', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}"><r:nid>I50314123V</r:nid><r:tjeter/></r:kerkoShtetas>`, fast: false },
  { name: 'child in no namespace', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}"><nid>I50314123V</nid></r:kerkoShtetas>`, fast: false },
  { name: 'child in another namespace with the same prefix rebound', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}"><r:nid xmlns:r="urn:other">I50314123V</r:nid></r:kerkoShtetas>`, fast: false },
  { name: 'text between children', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}">x<r:nid>I50314123V</r:nid></r:kerkoShtetas>`, fast: false },
  { name: 'child inside a simple value', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}"><r:nid>I50314123V<r:x/></r:nid></r:kerkoShtetas>`, fast: false },
  { name: 'comment inside a simple value', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}"><r:nid>I503<!-- c -->14123V</r:nid></r:kerkoShtetas>`, fast: false },
  { name: 'attribute on the body element', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}" a="1"><r:nid>I50314123V</r:nid></r:kerkoShtetas>`, fast: false },
  { name: 'xsi:nil on an element that is not nillable', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}" xmlns:xsi="${XSI}"><r:nid xsi:nil="true"/></r:kerkoShtetas>`, fast: false },
  { name: 'xsi:type', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}" xmlns:xsi="${XSI}" xmlns:xs="http://www.w3.org/2001/XMLSchema"><r:nid xsi:type="xs:string">I50314123V</r:nid></r:kerkoShtetas>`, fast: false },
  { name: 'body in another namespace', ns: RC, body: `<r:kerkoShtetas xmlns:r="urn:other"><r:nid>I50314123V</r:nid></r:kerkoShtetas>`, fast: false },
  { name: 'unknown body element', ns: RC, body: `<r:kerko xmlns:r="${RC}"/>`, fast: false },
  { name: 'CDATA in a value', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}"><r:nid><![CDATA[I50314123V]]></r:nid></r:kerkoShtetas>`, fast: false },
  { name: 'empty body element', ns: RC, body: `<r:kerkoShtetas xmlns:r="${RC}"/>`, fast: false },
  { name: 'bad date', ns: RC, body: RESPONSE_OF(SHTETAS.map(s => s.replace('1985-03-14', '1985-02-29'))), fast: false },
  { name: 'leap day', ns: RC, body: RESPONSE_OF(SHTETAS.map(s => s.replace('1985-03-14', '2000-02-29'))), fast: true },
  { name: 'enumeration with a space', ns: RC, body: RESPONSE_OF(SHTETAS.map(s => s.replace('>M<', '>M <'))), fast: false },
  { name: 'bashkia in another case', ns: RC, body: RESPONSE_OF(SHTETAS.map(s => s.replace('<r:bashkia>Tiranë', '<r:bashkia>tiranë'))), fast: false },
  { name: 'boolean in capitals', ns: RC, body: RESPONSE_OF(SHTETAS, 'TRUE'), fast: false },
  { name: 'boolean with whitespace', ns: RC, body: RESPONSE_OF(SHTETAS, ' true '), fast: false },
  { name: 'optional element left out', ns: RC, body: RESPONSE_OF(SHTETAS.filter(s => !s.includes('atesia'))), fast: true },
  { name: 'postal code 0999', ns: RC, body: RESPONSE_OF(SHTETAS.map(s => s.replace('1001', '0999'))), fast: false },
  { name: 'taksat: obligations repeated', ns: TV, body: `<t:detyrimetSubjektitResponse xmlns:t="${TV}"><t:subjekti><t:id>1</t:id><t:emri>A</t:emri></t:subjekti><t:bashkia>Durrës</t:bashkia><t:viti>2024</t:viti>` +
    `${'<t:detyrime><t:lloji>tatim-toke</t:lloji><t:pershkrimi>x</t:pershkrimi><t:shuma>10.50</t:shuma><t:paguar>false</t:paguar><t:afati>2024-03-31</t:afati></t:detyrime>'.repeat(3)}<t:totaliPapaguar>31.5</t:totaliPapaguar></t:detyrimetSubjektitResponse>`, fast: true },
  { name: 'taksat: three fraction digits', ns: TV, body: `<t:detyrimetSubjektitResponse xmlns:t="${TV}"><t:subjekti><t:id>1</t:id><t:emri>A</t:emri></t:subjekti><t:bashkia>Durrës</t:bashkia><t:viti>2024</t:viti><t:totaliPapaguar>31.505</t:totaliPapaguar></t:detyrimetSubjektitResponse>`, fast: false },
  { name: 'taksat: year out of range', ns: TV, body: `<t:detyrimetSubjektit xmlns:t="${TV}"><t:nipt>L41526502B</t:nipt><t:viti>2014</t:viti></t:detyrimetSubjektit>`, fast: false },
  { name: 'taksat: request', ns: TV, body: `<t:detyrimetSubjektit xmlns:t="${TV}"><t:nipt>L41526502B</t:nipt><t:viti>2024</t:viti><t:vetemTePapaguara>1</t:vetemTePapaguara></t:detyrimetSubjektit>`, fast: true },
  { name: 'core cases: nillable element nil', ns: CASES_NS, body: `<c:regjistrim xmlns:c="${CASES_NS}" xmlns:xsi="${XSI}"><c:femija>K16102045M</c:femija><c:prindi xsi:nil="true"/></c:regjistrim>`, fast: false },
  { name: 'core cases: address with bashkia and qarku apart (hook)', ns: CASES_NS, body: `<c:adresa xmlns:c="${CASES_NS}" xmlns:al="http://ura.gov.al/schemas/core/v1"><al:rruga>x</al:rruga><al:bashkia>Tiranë</al:bashkia><al:qarku>Durrës</al:qarku><al:kodiPostar>1001</al:kodiPostar></c:adresa>`, fast: false },
  { name: 'core cases: address', ns: CASES_NS, body: `<c:adresa xmlns:c="${CASES_NS}" xmlns:al="http://ura.gov.al/schemas/core/v1"><al:rruga>x</al:rruga><al:bashkia>Tiranë</al:bashkia><al:qarku>Tiranë</al:qarku><al:kodiPostar>1001</al:kodiPostar></c:adresa>`, fast: true },
  { name: 'bridge cases: attributes and simple content are left to libxml2', ns: BRIDGE_NS, body: `<b:mesazh xmlns:b="${BRIDGE_NS}"><b:numer>1</b:numer><b:shuma>1</b:shuma><b:flamur>true</b:flamur><b:data>2024-01-01</b:data><b:koha>2024-01-01T10:00:00Z</b:koha></b:mesazh>`, fast: false },
]

t.test('hand-written bodies: the fast path accepts only what libxml2 accepts, and the edge reports what libxml2 reports', async t => {
  for (const b of BODIES) {
    const run = bodyAgrees(t, b.name, b.ns, b.body, b.envAttrs)
    t.ok(run !== undefined, `${b.name}: read`)
    if (run !== undefined) t.equal(run.fast, b.fast, `${b.name}: ${b.fast ? 'fast path' : 'left to libxml2'}`)
  }
})

t.test('core type values: every row of the shared case table, through the fast path and libxml2', async t => {
  let fast = 0
  for (const c of CASES) {
    if (typeof c.value !== 'string') continue
    const run = bodyAgrees(t, `${c.type} ${JSON.stringify(c.value)}`, CASES_NS, `<c:${c.type} xmlns:c="${CASES_NS}">${escape(c.value)}</c:${c.type}>`)
    if (run === undefined) continue
    if (run.fast) fast++
    if (c.fails === undefined) t.same(run.edge, [], `${c.type} ${c.value}: valid`)
    else t.not(run.edge.length, 0, `${c.type} ${c.value}: refused`)
  }
  t.ok(fast > 20, `the fast path accepted ${fast} rows`)
})

/** A generated kerkoShtetasResponse: valid values or tricky ones, elements dropped, repeated, moved or foreign. */
function generatedResponse (seed: number): string {
  const r = random(seed)
  const values: Record<string, string[]> = {
    nid: ['I50314123V', 'K16102045M', 'I50314123A', 'i50314123V', 'I5031412V', ' I50314123V', 'I50314123V\n'],
    emri: ['Artan', '', 'Ëndrit', 'a &amp; b', 'x&#10;y'],
    datelindja: ['1985-03-14', '2000-02-29', '1900-02-29', '1985-3-14', '1985-03-14Z', '85-03-14', ' 1985-03-14'],
    gjinia: ['M', 'F', 'm', 'X', ''],
    bashkia: ['Tiranë', 'Durrës', 'Tirana', 'Tiranë ', 'Kuçovë'],
    kodiPostar: ['1001', '0999', '10010', '1a01'],
    gjendjaCivile: ['martuar', 'beqar', 'Martuar', 've', 'vejan'],
    gjetur: ['true', 'false', '1', '0', 'yes', 'True'],
  }
  const value = (name: string, valid: string): string => r.chance(0.25) && values[name] !== undefined ? r.pick(values[name]) : valid
  const el = (name: string, valid: string): string => `<r:${name}>${value(name, valid)}</r:${name}>`
  const address = [el('bashkia', 'Tiranë'), el('rruga', 'Rruga 1'), ...(r.chance(0.5) ? [el('nrPallati', '2')] : []), el('kodiPostar', '1001')]
  const shtetas = [el('nid', 'I50314123V'), el('emri', 'Artan'), el('mbiemri', 'Hoxha'), ...(r.chance(0.5) ? [el('atesia', 'Petrit')] : []), el('datelindja', '1985-03-14'),
    el('gjinia', 'M'), el('vendlindja', 'Tiranë'), `<r:adresa>${shapeOf(r, address).join('')}</r:adresa>`, el('gjendjaCivile', 'martuar')]
  const ws = (): string => r.pick(['', '', ' ', '\n  ', '<!-- c -->'])
  const parts = [el('gjetur', 'true'), ...(r.chance(0.8) ? [`<r:shtetas>${shapeOf(r, shtetas).map(s => ws() + s).join('')}</r:shtetas>`] : [])]
  const attrs = r.chance(0.1) ? r.pick([` xmlns:xsi="${XSI}" xsi:nil="false"`, ' a="1"', ` xmlns:o="urn:o" o:a="1"`]) : ''
  return `<r:kerkoShtetasResponse xmlns:r="${RC}"${attrs}>${shapeOf(r, parts).join('')}</r:kerkoShtetasResponse>`
}

/** Mostly the list as it is; sometimes an element dropped, repeated, swapped or foreign. */
function shapeOf (r: ReturnType<typeof random>, list: string[]): string[] {
  const out = [...list]
  if (!r.chance(0.15) || out.length === 0) return out
  const k = Math.floor(r.pick(Array.from({ length: out.length }, (_, i) => i)))
  switch (r.pick(['drop', 'repeat', 'swap', 'foreign', 'unknown'])) {
    case 'drop': out.splice(k, 1); break
    case 'repeat': out.splice(k, 0, out[k]); break
    case 'swap': if (k + 1 < out.length) [out[k], out[k + 1]] = [out[k + 1], out[k]]; break
    case 'foreign': out[k] = out[k].replace(/<r:(\w+)/, '<o:$1 xmlns:o="urn:o"').replace(/<\/r:(\w+)>$/, '</o:$1>'); break
    case 'unknown': out.splice(k, 0, '<r:tjeter>x</r:tjeter>'); break
  }
  return out
}

t.test('generated bodies: the fast path accepts only what libxml2 accepts, and answers for most valid ones', async t => {
  let valid = 0
  let fast = 0
  let invalid = 0
  const N = 800
  for (let seed = 1; seed <= N; seed++) {
    const run = bodyAgrees(t, `seed ${seed}`, RC, generatedResponse(seed))
    if (run === undefined) continue
    if (run.reference.length === 0) valid++
    else invalid++
    if (run.fast) fast++
  }
  t.ok(invalid > N * 0.2, `${invalid} of ${N} invalid`)
  t.ok(fast > valid * 0.8, `the fast path accepted ${fast} of ${valid} valid bodies`)
})

// ---- the edge ---------------------------------------------------------------------------------

t.test('the bench messages take the fast path: no libxml2 tree is built for them', async t => {
  const xsd = library.xsd(RC)!
  const e = parseRequestEnvelope(SOAP_REQUEST)
  t.ok(e.bodyNode !== undefined && xsd.accepts(e.bodyNode, e.bodyText!), 'the request body is accepted without libxml2')
  t.equal(e.bodyName, 'kerkoShtetas')
  const echo: EchoSource = { header: e.header, headerXml: e.headerXml, headerIsText: e.headerIsText, headerNamespaces: e.headerNamespaces, requestHash: 'aGFzaA==' }
  e.dispose()
  const r = readProviderResponse(SOAP_RESPONSE, echo)
  t.same(r.violations(xsd), [], 'the response body is valid')
  t.ok(r.spliced)
  const out = r.build()
  r.dispose()
  t.ok(libxml2Parses(out), 'the spliced answer parses')
  // An invalid answer still gets libxml2's own words.
  const bad = readProviderResponse(Buffer.from(SOAP_RESPONSE.toString('utf8').replace('<rc:gjinia>M</rc:gjinia>', '<rc:gjinia>X</rc:gjinia>')), echo)
  t.match(bad.violations(xsd), [/line \d+:\d+: .*gjinia.*\[facet 'enumeration'\]/], 'libxml2 reports the violation, with its line')
  bad.dispose()
})
