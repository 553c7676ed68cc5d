/**
 * The XSD type hooks read the SOAP body from the envelope's text when the edge has scanned it, and
 * from libxml2's tree otherwise. The tree reader is the reference: on every body below — written by
 * hand to hit one construct each, or generated from a fixed seed — both readers must find the same
 * problems, and the edge's validation must report the same violations either way. The text reader
 * must also actually answer for the common shapes, so that a change which makes it give up
 * everywhere cannot pass unnoticed.
 */
import { resolve } from 'node:path'
import t, { type Test } from 'tap'
import { SOAP_REQUEST, SOAP_RESPONSE } from '../../bench/fixtures.ts'
import { parseRequestEnvelope } from '../../gateway/edge/soap/request.ts'
import { readProviderResponse, type EchoSource } from '../../gateway/edge/soap/response.ts'
import { PROJECT_SCHEMA_DIR, SchemaLibrary, xsdViolations } from '../../schemas/library.ts'
import { treeElement, type HookElement, type LibraryXsd } from '../../schemas/xsd-hooks.ts'
import { seededRandom as random } from '../support/seeded-random.ts'

const SOAP = 'http://schemas.xmlsoap.org/soap/envelope/'
const XRD = 'http://x-road.eu/xsd/xroad.xsd'
const ID = 'http://x-road.eu/xsd/identifiers'
const XSI = 'http://www.w3.org/2001/XMLSchema-instance'
const CASES = 'http://ura.gov.al/test/core-cases'
const CORE = 'http://ura.gov.al/schemas/core/v1'
const RC = 'http://ura.gov.al/demo/regjistri-civil/v1'

const library = await SchemaLibrary.load([PROJECT_SCHEMA_DIR, resolve(import.meta.dirname, '../fixtures')])

const HEADER = `<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>AL-DEV</id:xRoadInstance><id:memberClass>NJQV</id:memberClass><id:memberCode>L21603004L</id:memberCode><id:subsystemCode>gjendja-civile</id:subsystemCode></xrd:client>` +
  `<xrd:service id:objectType="SERVICE"><id:xRoadInstance>AL-DEV</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>L01417001D</id:memberCode><id:subsystemCode>regjistri-civil</id:subsystemCode><id:serviceCode>regjistrim</id:serviceCode></xrd:service>` +
  '<xrd:id>msg-1</xrd:id><xrd:protocolVersion>4.0</xrd:protocolVersion>'

/** A request envelope around `body`; `envAttrs` and `bodyAttrs` may declare what the body relies on. */
function envelope (body: string, envAttrs = '', bodyAttrs = ''): Buffer {
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenv="${SOAP}" xmlns:xrd="${XRD}" xmlns:id="${ID}"${envAttrs}>\n` +
    `<soapenv:Header>${HEADER}</soapenv:Header>\n<soapenv:Body${bodyAttrs}>\n  ${body}\n</soapenv:Body>\n</soapenv:Envelope>\n`, 'utf8')
}

interface Run { text: string[] | 'gave up'; tree: string[]; edge: string[]; reference: string[] }

/** Both readers on one envelope: the hooks' findings, and the edge's whole verdict with and without the text. */
function run (xsd: LibraryXsd, bytes: Buffer): Run {
  const e = parseRequestEnvelope(bytes)
  try {
    if (e.bodyText === undefined) throw new Error('the request was not read from its bytes')
    let text: Run['text']
    try {
      text = xsd.hookProblems(e.bodyText)
    } catch {
      text = 'gave up'
    }
    return { text, tree: xsd.hookProblems(treeElement(e.body)), edge: xsdViolations(xsd, e.body, e.bodyText), reference: xsdViolations(xsd, e.body) }
  } finally {
    e.doc.dispose()
  }
}

/** Both readers agree; returns whether the text reader answered itself. */
function same (t: Test, xsd: LibraryXsd, name: string, bytes: Buffer): boolean {
  const r = run(xsd, bytes)
  if (r.text !== 'gave up') t.same(r.text, r.tree, `${name}: same hook problems`)
  t.same(r.edge, r.reference, `${name}: same violations at the edge`)
  return r.text !== 'gave up'
}

const c = (local: string): string => `c:${local}`
const regjistrim = (inner: string, attrs = ''): string => `<c:regjistrim xmlns:c="${CASES}" xmlns:al="${CORE}"${attrs}>${inner}</c:regjistrim>`
const BANESA = '<c:banesa><al:rruga>Rruga Gjuhadol</al:rruga><al:bashkia>Shkodër</al:bashkia><al:qarku>Shkodër</al:qarku><al:kodiPostar>4001</al:kodiPostar></c:banesa>'
const GOOD = `<${c('femija')}>M40101001J</${c('femija')}><c:prindi>I50314123V</c:prindi><c:punedhenes>K81305012I</c:punedhenes>${BANESA}`

/** Hand-written bodies of the test schema, one construct each. All of them are read from the text. */
const BODIES: Array<{ name: string; body: string; envAttrs?: string; bodyAttrs?: string; problems: number }> = [
  { name: 'all valid', body: regjistrim(GOOD, ' llogaria="AL47212110090000000235698741"'), problems: 0 },
  { name: 'every hook fails', body: regjistrim('<c:femija>M40101001A</c:femija><c:prindi>I50314123A</c:prindi><c:punedhenes>K81305012I</c:punedhenes><c:punedhenes>K12345678A</c:punedhenes>' + BANESA.replace('<al:qarku>Shkodër', '<al:qarku>Lezhë'), ' llogaria="AL47212110090000000235698742"'), problems: 5 },
  { name: 'nil element', body: regjistrim(`<c:femija>M40101001J</c:femija><c:prindi xmlns:xsi="${XSI}" xsi:nil="true"/>`), problems: 0 },
  { name: 'nil written 1, xsi declared on the Envelope', body: regjistrim('<c:femija>M40101001J</c:femija><c:prindi x:nil="1"/>'), envAttrs: ` xmlns:x="${XSI}"`, problems: 0 },
  { name: 'nil false is checked', body: regjistrim(`<c:femija>M40101001J</c:femija><c:prindi xmlns:xsi="${XSI}" xsi:nil="false">I50314123A</c:prindi>`), problems: 1 },
  { name: 'nil with spaces is not nil', body: regjistrim(`<c:femija>M40101001J</c:femija><c:prindi xmlns:xsi="${XSI}" xsi:nil=" true">I50314123A</c:prindi>`), problems: 1 },
  { name: 'nil in another namespace', body: regjistrim('<c:femija>M40101001J</c:femija><c:prindi xmlns:o="urn:o" o:nil="true">I50314123A</c:prindi>'), problems: 1 },
  { name: 'default namespace, declared on the Body', body: `<regjistrim xmlns:al="${CORE}"><femija>M40101001A</femija><prindi>I50314123V</prindi></regjistrim>`, bodyAttrs: ` xmlns="${CASES}"`, problems: 1 },
  { name: 'prefixes declared on the Envelope', body: '<q:regjistrim><q:femija>M40101001A</q:femija><q:prindi>I50314123V</q:prindi><q:banesa><k:rruga>R</k:rruga><k:bashkia>Tiranë</k:bashkia><k:qarku>Durrës</k:qarku><k:kodiPostar>1001</k:kodiPostar></q:banesa></q:regjistrim>', envAttrs: ` xmlns:q="${CASES}" xmlns:k="${CORE}"`, problems: 2 },
  { name: 'prefix rebound inside', body: regjistrim(`<c:femija>M40101001J</c:femija><c:prindi xmlns:c="urn:other">I50314123A</c:prindi>`), problems: 0 },
  { name: 'character references and CDATA in values', body: regjistrim('<c:femija>M4010&#x31;001A</c:femija><c:prindi><![CDATA[I503]]>14123&#65;</c:prindi>', ' llogaria="AL4721211009&#48;000000235698742"'), problems: 3 },
  { name: 'comments inside values', body: regjistrim('<c:femija>M401<!-- x -->01001A</c:femija><c:prindi>I50314123V<!-- <c:x> --></c:prindi>'), problems: 1 },
  { name: 'whitespace around a value', body: regjistrim('<c:femija>\n M40101001A\r\n</c:femija><c:prindi>I50314123V</c:prindi>'), problems: 1 },
  { name: 'attribute value with whitespace and references', body: regjistrim('<c:femija>M40101001J</c:femija><c:prindi>I50314123V</c:prindi>', " llogaria='\tAL47212110090000000235698741&#10;'"), problems: 1 },
  { name: 'address with comments and CDATA', body: regjistrim('<c:femija>M40101001J</c:femija><c:prindi>I50314123V</c:prindi><c:banesa><al:rruga>R</al:rruga><al:bashkia>Shko<!-- -->dër</al:bashkia><al:qarku><![CDATA[Lezhë]]></al:qarku><al:kodiPostar>4001</al:kodiPostar></c:banesa>'), problems: 1 },
  { name: 'address parts in another namespace', body: regjistrim('<c:femija>M40101001J</c:femija><c:prindi>I50314123V</c:prindi><c:banesa><al:rruga>R</al:rruga><al:bashkia>Shkodër</al:bashkia><o:qarku xmlns:o="urn:o">Lezhë</o:qarku><al:kodiPostar>4001</al:kodiPostar></c:banesa>'), problems: 0 },
  { name: 'empty elements and odd tag layout', body: regjistrim('<c:femija\n>M40101001A</c:femija\n><c:prindi a="x/>y" b=\'>\'>I50314123A</c:prindi ><c:punedhenes/>'), problems: 2 },
  { name: 'elements the schema does not know', body: regjistrim('<c:femija>M40101001A<c:extra>I50314123A</c:extra></c:femija><c:tjeter><c:prindi>I50314123A</c:prindi></c:tjeter>'), problems: 1 },
  { name: 'unknown body element', body: `<c:panjohur xmlns:c="${CASES}"><c:femija>M40101001A</c:femija></c:panjohur>`, problems: 0 },
  { name: 'non-ASCII text and CR LF', body: regjistrim('<c:femija>M40101001J</c:femija>\r\n<c:prindi>I50314123V</c:prindi>\r\n<c:banesa><al:rruga>Rr. "Çajupi" 𝄞</al:rruga><al:bashkia>Vau i Dejës</al:bashkia><al:qarku>Shkodër</al:qarku><al:kodiPostar>4001</al:kodiPostar></c:banesa>'), problems: 0 },
]

t.test('hand-written bodies: both readers find the same problems', async t => {
  const xsd = library.xsd(CASES)!
  for (const b of BODIES) {
    const bytes = envelope(b.body, b.envAttrs, b.bodyAttrs)
    t.ok(same(t, xsd, b.name, bytes), `${b.name}: read from the text`)
    t.equal(run(xsd, bytes).tree.length, b.problems, `${b.name}: ${b.problems} problem(s)`)
  }
})

t.test('the edge reports hook violations from the tree, with their lines', async t => {
  const xsd = library.xsd(CASES)!
  const r = run(xsd, envelope(regjistrim('\n<c:femija>M40101001A</c:femija>\n<c:prindi>I50314123V</c:prindi>')))
  t.same(r.edge, r.reference)
  t.match(r.edge, [/^line 6:0: Element '\{http:\/\/ura\.gov\.al\/test\/core-cases\}femija': check letter of NID M40101001A should be J\.$/])
})

t.test('the demo registry: the bench request and response, and a wrong check letter', async t => {
  const xsd = library.xsd(RC)!
  t.ok(same(t, xsd, 'bench request', SOAP_REQUEST))
  const bad = Buffer.from(SOAP_REQUEST.toString('utf8').replace('I50314123V', 'I50314123A'))
  t.ok(same(t, xsd, 'wrong NID', bad))
  t.match(run(xsd, bad).edge, [/check letter of NID I50314123A should be V/])

  const e = parseRequestEnvelope(SOAP_REQUEST)
  const echo: EchoSource = { header: e.header, headerXml: e.headerXml, headerIsText: e.headerIsText, headerNamespaces: e.headerNamespaces, requestHash: 'aGFzaA==' }
  e.doc.dispose()
  for (const [name, bytes] of [['bench response', SOAP_RESPONSE], ['response with a wrong NID', Buffer.from(SOAP_RESPONSE.toString('utf8').replace('I50314123V', 'I50314123A'))]] as const) {
    const res = readProviderResponse(bytes, echo)
    try {
      res.withBody((el, text) => {
        t.ok(text !== undefined, `${name}: the answer offers its text`)
        t.same(xsd.hookProblems(text!), xsd.hookProblems(treeElement(el)), `${name}: same hook problems`)
        t.same(xsdViolations(xsd, el, text), xsdViolations(xsd, el), `${name}: same violations`)
      })
    } finally {
      res.dispose()
    }
  }
})

t.test('a text reader that gives up leaves the verdict to the tree', async t => {
  const xsd = library.xsd(CASES)!
  // An element in the reserved xml namespace is not something the text reader resolves.
  const bytes = envelope(regjistrim('<c:femija>M40101001A</c:femija><c:prindi>I50314123V</c:prindi><xml:banesa/>'))
  const r = run(xsd, bytes)
  t.same(r.edge, r.reference)
  const refusing: HookElement = { ns: CASES, name: 'regjistrim', text: () => '', content: () => '', attribute: () => undefined, children: () => { throw new Error('gave up') } }
  const e = parseRequestEnvelope(envelope(regjistrim('<c:femija>M40101001A</c:femija><c:prindi>I50314123V</c:prindi>')))
  try {
    t.match(xsdViolations(xsd, e.body, refusing), [/check letter of NID M40101001A should be J/], 'the tree found what the text reader could not read')
  } finally {
    e.doc.dispose()
  }
})

// ---- generated bodies -------------------------------------------------------------------------------

/** A value as a client might write it: references, CDATA, comments, padding. */
function spell (r: ReturnType<typeof random>, value: string): string {
  const chars = (text: string): string => {
    let out = ''
    for (const ch of text) out += r.chance(0.1) ? `&#x${ch.codePointAt(0)!.toString(16)};` : r.chance(0.05) ? `&#${ch.codePointAt(0)};` : ch
    return out
  }
  let out = r.chance(0.1) ? `<![CDATA[${value.slice(0, 3)}]]>${chars(value.slice(3))}` : r.chance(0.1) ? `${chars(value.slice(0, 1))}<!-- c -->${chars(value.slice(1))}` : chars(value)
  if (r.chance(0.1)) out = r.pick([' ', '\n', '\r\n\t']) + out
  return out
}

function generatedBody (seed: number): { body: string; envAttrs: string } {
  const r = random(seed)
  const p = r.pick(['c', 'q', ''])
  const a = r.pick(['al', 'k'])
  const tag = (n: string): string => p === '' ? n : `${p}:${n}`
  const onEnvelope = r.chance(0.3)
  const decl = `${p === '' ? ` xmlns="${CASES}"` : ` xmlns:${p}="${CASES}"`} xmlns:${a}="${CORE}"`
  const nid = (): string => r.pick(['M40101001J', 'M40101001A', 'I50314123V', 'I50314123A'])
  const el = (n: string, content: string, attrs = ''): string => r.chance(0.05) ? `<${tag(n)}${attrs}/>` : `<${tag(n)}${attrs}>${content}</${tag(n)}${r.chance(0.1) ? ' ' : ''}>`
  const nil = r.chance(0.15) ? ` xmlns:xsi="${XSI}" xsi:nil=${r.pick(['"true"', "'1'", '"false"', '" true"'])}` : ''
  const parts = [
    el('femija', spell(r, nid())),
    el('prindi', nil.includes('nil="true"') || nil.includes("'1'") ? '' : spell(r, nid()), nil),
    ...Array.from({ length: r.pick([0, 1, 2]) }, () => el('punedhenes', spell(r, r.pick(['K81305012I', 'K12345678A', 'M31518001P'])))),
    ...(r.chance(0.6) ? [el('banesa', `<${a}:rruga>R</${a}:rruga><${a}:bashkia>${spell(r, r.pick(['Shkodër', 'Tiranë', 'Vau i Dejës']))}</${a}:bashkia>` +
      (r.chance(0.8) ? `<${a}:qarku>${spell(r, r.pick(['Shkodër', 'Tiranë', 'Lezhë']))}</${a}:qarku>` : '') + `<${a}:kodiPostar>4001</${a}:kodiPostar>`)] : []),
    ...(r.chance(0.1) ? ['<!-- between -->'] : []),
  ]
  const attrs = r.chance(0.5) ? ` llogaria=${r.pick(['"AL47212110090000000235698741"', "'AL47212110090000000235698742'", '"AL4721211009&#48;000000235698741"'])}` : ''
  const ws = (): string => r.pick(['', '\n  ', ' ', '\r\n'])
  return { body: `<${tag('regjistrim')}${onEnvelope ? '' : decl}${attrs}>${parts.map(x => ws() + x).join('')}${ws()}</${tag('regjistrim')}>`, envAttrs: onEnvelope ? decl : '' }
}

t.test('generated bodies: both readers agree, and the text reader answers', async t => {
  const xsd = library.xsd(CASES)!
  let answered = 0
  let withProblems = 0
  const N = 400
  for (let seed = 1; seed <= N; seed++) {
    const { body, envAttrs } = generatedBody(seed)
    const bytes = envelope(body, envAttrs)
    if (same(t, xsd, `seed ${seed}`, bytes)) answered++
    if (run(xsd, bytes).tree.length > 0) withProblems++
  }
  t.equal(answered, N, `the text reader answered ${answered} of ${N}`)
  t.ok(withProblems > N * 0.3 && withProblems < N * 0.95, `both verdicts occur (${withProblems} of ${N} with problems)`)
})
