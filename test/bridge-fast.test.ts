/**
 * The bridge's fast path for a SOAP provider's answer (adapters/bridge/soap-answer.ts): an answer
 * the text reader and the compiled XSD check can vouch for is mapped without libxml2, and gives the
 * JSON libxml2's path gives; every other answer — schema violations, malformed XML, Faults, wrong
 * names and namespaces, xsi:nil misuse, other encodings — gives exactly the typed error (code,
 * message, violations) it gave before, because it goes through libxml2 as before. The counters
 * show which path was taken, down to the demo's own call through the gateway.
 */
import { resolve } from 'node:path'
import t, { type Test } from 'tap'
import { XmlJsonMapper } from '../adapters/bridge/mapping.ts'
import { answerReads, readSoapAnswer } from '../adapters/bridge/soap-answer.ts'
import { TextJsonMapper } from '../adapters/bridge/text-mapping.ts'
import { SOAP_RESPONSE } from '../bench/fixtures.ts'
import { CITIZENS, FAULT_NID, INVALID_RESPONSE_NID } from '../demo/civil-registry-data.ts'
import { XRoadError } from '../protocol/errors.ts'
import { SOAP12_ENV, SOAP_ENV } from '../protocol/soap/namespaces.ts'
import { PROJECT_SCHEMA_DIR, SchemaLibrary } from '../schemas/library.ts'
import { XSI } from '../schemas/xsd-model.ts'
import { demoConfig, E_ALBANIA, startRig } from './support/gateway.ts'

const RC = 'http://ura.gov.al/demo/regjistri-civil/v1'
/** test/fixtures/bridge-fast.xsd: a nillable element and a core type, for xsi:nil and the type hooks. */
const TF = 'http://ura.gov.al/test/bridge-fast'
const library = await SchemaLibrary.load([PROJECT_SCHEMA_DIR, resolve(import.meta.dirname, 'fixtures')])
const mapper = new XmlJsonMapper(library.model)
const textMapper = new TextJsonMapper(library.model, mapper)

const envelope = (body: string, prolog = '<?xml version="1.0" encoding="UTF-8"?>'): string =>
  `${prolog}<s:Envelope xmlns:s="${SOAP_ENV}"><s:Header/><s:Body>${body}</s:Body></s:Envelope>`
const response = (inner: string, open = `<rc:kerkoShtetasResponse xmlns:rc="${RC}">`): string => `${open}${inner}</rc:kerkoShtetasResponse>`
const pergjigje = (inner: string): string => `<t:pergjigje xmlns:t="${TF}" xmlns:xsi="${XSI}">${inner}</t:pergjigje>`

interface Reading { outcome: string; fast: boolean }

/** One answer read by the bridge, the fast path allowed (`auto`) or not (`tree`): status and JSON, or the typed error. */
function read (bytes: Buffer, ns: string, name: string, reader: 'auto' | 'tree', enforce = true): Reading {
  const before = { ...answerReads }
  let outcome: string
  try {
    const { status, value } = readSoapAnswer(bytes, mapper.element(ns, name), { mapper, textMapper, xsd: library.xsd(ns)!, enforce }, 'req-1', reader)
    outcome = JSON.stringify({ status, value })
  } catch (err) {
    if (!(err instanceof XRoadError)) throw err
    outcome = JSON.stringify({ code: err.code, message: err.message, violations: err.violations })
  }
  const fast = answerReads.text === before.text + 1
  if (answerReads.text + answerReads.tree !== before.text + before.tree + 1) throw new Error('one reading, one count')
  return { outcome, fast }
}

/** Both paths over one answer: the same outcome; returns the fast path's reading. */
function both (t: Test, bytes: Buffer, label: string, ns = RC, name = 'kerkoShtetasResponse', enforce = true): Reading {
  const auto = read(bytes, ns, name, 'auto', enforce)
  const tree = read(bytes, ns, name, 'tree', enforce)
  t.equal(auto.outcome, tree.outcome, `${label}: the same outcome with and without the fast path`)
  t.notOk(tree.fast, `${label}: 'tree' never takes the fast path`)
  return auto
}

function citizenXml (c: typeof CITIZENS[number]): string {
  const adresa: Record<string, string> = { bashkia: c.adresa.bashkia, rruga: c.adresa.rruga }
  if (c.adresa.nrPallati !== undefined) adresa.nrPallati = c.adresa.nrPallati
  adresa.kodiPostar = c.adresa.kodiPostar
  const shtetas = {
    nid: c.nid, emri: c.emri, mbiemri: c.mbiemri, ...(c.atesia === undefined ? {} : { atesia: c.atesia }),
    datelindja: c.datelindja, gjinia: c.gjinia, vendlindja: c.vendlindja, adresa, gjendjaCivile: c.gjendjaCivile,
  }
  return mapper.toXml(mapper.element(RC, 'kerkoShtetasResponse'), { gjetur: true, shtetas })
}

t.test('valid answers: the same JSON, without libxml2', async t => {
  const answers: Array<[string, string | Buffer]> = [
    ['the bench\'s 2 KB answer (X-Road header, comments)', SOAP_RESPONSE],
    ['not found', envelope(response('<rc:gjetur>false</rc:gjetur>'))],
    ['no declaration, default namespace, whitespace and comments', `<Envelope xmlns="${SOAP_ENV}">\n <!-- x -->\n <Body>\n  <kerkoShtetasResponse xmlns="${RC}"> <gjetur>1</gjetur>\n </kerkoShtetasResponse>\n </Body>\n</Envelope>\n`],
    ['a BOM and references', `\ufeff${envelope(response('<rc:gjetur>true</rc:gjetur><rc:shtetas><rc:nid>I50314123V</rc:nid><rc:emri>Art&#97;n</rc:emri><rc:mbiemri>H&amp;x&#x68;a &lt;&gt;</rc:mbiemri><rc:datelindja>1985-03-14</rc:datelindja><rc:gjinia>M</rc:gjinia><rc:vendlindja>Tiran&#235;</rc:vendlindja><rc:adresa><rc:bashkia>Tiranë</rc:bashkia><rc:rruga>R\r\nr</rc:rruga><rc:kodiPostar>1001</rc:kodiPostar></rc:adresa><rc:gjendjaCivile>ve</rc:gjendjaCivile></rc:shtetas>'))}`],
    ...CITIZENS.map((c): [string, string] => [`citizen ${c.nid}`, envelope(citizenXml(c))]),
  ]
  for (const [label, xml] of answers) {
    const bytes = Buffer.isBuffer(xml) ? xml : Buffer.from(xml, 'utf8')
    const r = both(t, bytes, label)
    t.match(r.outcome, /^\{"status":200,"value":\{"gjetur":(true|false)/, `${label}: mapped`)
    t.ok(r.fast, `${label}: took the fast path`)
  }
  const nil = both(t, Buffer.from(envelope(pergjigje('<t:kod>a</t:kod><t:sasi xsi:nil="true"/>'))), 'xsi:nil on a nillable element', TF, 'pergjigje')
  t.equal(nil.outcome, '{"status":200,"value":{"kod":"a","sasi":null}}')
  t.ok(nil.fast, 'xsi:nil where the XSD allows it: fast path')
})

t.test('refused answers: the same typed errors as libxml2\'s path, which decides them', async t => {
  const nid = CITIZENS[0].nid
  const wrongLetter = nid.slice(0, -1) + (nid.endsWith('A') ? 'B' : 'A')
  const cases: Array<[string, string | Buffer, string, string?]> = [
    // schema violations
    ['elements out of order', envelope(response('<rc:shtetas/><rc:gjetur>true</rc:gjetur>')), 'Server.ServerProxy.InvalidResponse'],
    ['a required element missing', envelope(response('')), 'Server.ServerProxy.InvalidResponse'],
    ['an element the XSD does not declare', envelope(response('<rc:gjetur>true</rc:gjetur><rc:tjeter>x</rc:tjeter>')), 'Server.ServerProxy.InvalidResponse'],
    ['a boolean that is not one', envelope(response('<rc:gjetur>po</rc:gjetur>')), 'Server.ServerProxy.InvalidResponse'],
    ['a NID with a wrong check letter (type hook)', envelope(pergjigje(`<t:kod>a</t:kod><t:nid>${wrongLetter}</t:nid>`)), 'Server.ServerProxy.InvalidResponse', 'pergjigje'],
    ['an attribute the XSD does not declare', envelope(response('<rc:gjetur>true</rc:gjetur>', `<rc:kerkoShtetasResponse xmlns:rc="${RC}" a="1">`)), 'Server.ServerProxy.InvalidResponse'],
    // malformed
    ['an unclosed element', envelope(response('<rc:gjetur>true</rc:kerkoShtetasResponse>')), 'Server.ServerProxy.ServiceFailed.InvalidSoap'],
    ['an unknown entity', envelope(response('<rc:gjetur>&bogus;</rc:gjetur>')), 'Server.ServerProxy.ServiceFailed.InvalidSoap'],
    ['a truncated document', envelope(response('<rc:gjetur>true</rc:gjetur>')).slice(0, -12), 'Server.ServerProxy.ServiceFailed.InvalidSoap'],
    ['a DTD', `<!DOCTYPE s:Envelope []>${envelope(response('<rc:gjetur>true</rc:gjetur>'), '')}`, 'Server.ServerProxy.ServiceFailed.InvalidSoap'],
    ['a processing instruction', envelope(response('<?pi x?><rc:gjetur>true</rc:gjetur>')), 'Server.ServerProxy.ServiceFailed.InvalidSoap'],
    ['bytes that are not UTF-8', Buffer.concat([Buffer.from(envelope(response('<rc:gjetur>true</rc:gjetur><rc:shtetas><rc:nid>')), 'utf8'), Buffer.from([0xff, 0xfe]), Buffer.from('</rc:nid></rc:shtetas>')]), 'Server.ServerProxy.ServiceFailed.InvalidSoap'],
    // the envelope
    ['SOAP 1.2', envelope(response('<rc:gjetur>true</rc:gjetur>')).replace(SOAP_ENV, SOAP12_ENV), 'Server.ServerProxy.ServiceFailed.InvalidSoap'],
    ['two elements in the Body', envelope(response('<rc:gjetur>true</rc:gjetur>') + response('<rc:gjetur>true</rc:gjetur>')), 'Server.ServerProxy.ServiceFailed.InvalidSoap'],
    ['an empty Body', envelope(''), 'Server.ServerProxy.ServiceFailed.InvalidSoap'],
    ['a Header after the Body', envelope(response('<rc:gjetur>true</rc:gjetur>')).replace('<s:Header/>', '').replace('</s:Envelope>', '<s:Header/></s:Envelope>'), 'Server.ServerProxy.ServiceFailed.InvalidSoap'],
    // names and namespaces
    ['the response element in another namespace', envelope(response('<rc:gjetur>true</rc:gjetur>', '<rc:kerkoShtetasResponse xmlns:rc="urn:tjeter">')), 'Server.ServerProxy.InvalidResponse'],
    ['another element than the response', envelope(`<rc:kerkoShtetas xmlns:rc="${RC}"><rc:nid>${nid}</rc:nid></rc:kerkoShtetas>`), 'Server.ServerProxy.InvalidResponse'],
    ['a child in no namespace', envelope(response('<gjetur>true</gjetur>')), 'Server.ServerProxy.InvalidResponse'],
    // xsi:nil
    ['xsi:nil on an element that is not nillable', envelope(pergjigje('<t:kod xsi:nil="true"/>')), 'Server.ServerProxy.InvalidResponse', 'pergjigje'],
    ['xsi:nil with content', envelope(pergjigje('<t:kod>a</t:kod><t:sasi xsi:nil="true">5</t:sasi>')), 'Server.ServerProxy.InvalidResponse', 'pergjigje'],
  ]
  for (const [label, xml, code, name] of cases) {
    const bytes = Buffer.isBuffer(xml) ? xml : Buffer.from(xml, 'utf8')
    const r = both(t, bytes, label, name === undefined ? RC : TF, name ?? 'kerkoShtetasResponse')
    t.equal(JSON.parse(r.outcome).code, code, `${label}: ${code}`)
    t.notOk(r.fast, `${label}: decided by libxml2's path`)
  }
})

t.test('Faults and other encodings: libxml2\'s path, the same answer', async t => {
  const fault = (code: string): string => envelope(`<s:Fault><faultcode>s:${code}</faultcode><faultstring>Nuk u gjet</faultstring><detail><faultDetail>d-1</faultDetail></detail></s:Fault>`)
  for (const [code, status] of [['Client.NotFound', 400], ['Server', 500]] as const) {
    const r = both(t, Buffer.from(fault(code)), `a ${code} Fault`)
    t.equal(JSON.parse(r.outcome).status, status)
    t.notOk(r.fast)
  }
  const latin1 = Buffer.from(envelope(response('<rc:gjetur>true</rc:gjetur><rc:shtetas><rc:nid>I50314123V</rc:nid><rc:emri>Ëndër</rc:emri><rc:mbiemri>Çela</rc:mbiemri><rc:datelindja>1985-03-14</rc:datelindja><rc:gjinia>M</rc:gjinia><rc:vendlindja>Tiranë</rc:vendlindja><rc:adresa><rc:bashkia>Tiranë</rc:bashkia><rc:rruga>r</rc:rruga><rc:kodiPostar>1001</rc:kodiPostar></rc:adresa><rc:gjendjaCivile>ve</rc:gjendjaCivile></rc:shtetas>'), '<?xml version="1.0" encoding="ISO-8859-1"?>'), 'latin1')
  const r = both(t, latin1, 'ISO-8859-1')
  t.match(r.outcome, /"emri":"Ëndër"/, 'ISO-8859-1 maps, through libxml2')
  t.notOk(r.fast)
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(envelope(response('<rc:gjetur>true</rc:gjetur>'), '<?xml version="1.0" encoding="UTF-16"?>'), 'utf16le')])
  t.notOk(both(t, utf16, 'UTF-16').fast)
})

t.test('without response validation the fast path maps what it reads, as the tree path does', async t => {
  const outOfOrder = Buffer.from(envelope(response('<rc:shtetas><rc:nid>x</rc:nid><rc:emri>a</rc:emri><rc:mbiemri>b</rc:mbiemri><rc:datelindja>d</rc:datelindja><rc:gjinia>X</rc:gjinia><rc:vendlindja>v</rc:vendlindja><rc:adresa><rc:bashkia>b</rc:bashkia><rc:rruga>r</rc:rruga><rc:kodiPostar>k</rc:kodiPostar></rc:adresa><rc:gjendjaCivile>g</rc:gjendjaCivile></rc:shtetas><rc:gjetur>true</rc:gjetur>')))
  const r = both(t, outOfOrder, 'out of order, values outside their types', RC, 'kerkoShtetasResponse', false)
  t.match(r.outcome, /^\{"status":200,"value":\{"gjetur":true,"shtetas"/)
  t.ok(r.fast)
  t.notOk(both(t, outOfOrder, 'the same, enforced').fast)
})

t.test('the demo\'s REST → SOAP call takes the fast path through the gateway', async t => {
  const rig = await startRig({ config: await demoConfig({}, {}, { bridge: true }) })
  t.teardown(() => rig.close())
  const get = async (nid: string): Promise<{ status: number; text: string; text0: number; tree0: number }> => {
    const before = { ...answerReads }
    const res = await fetch(`${rig.url}/r1/AL-DEV/GOV/L01417001D/regjistri-civil/shtetasit/${nid}`, { headers: { 'X-Road-Client': E_ALBANIA } })
    return { status: res.status, text: await res.text(), text0: answerReads.text - before.text, tree0: answerReads.tree - before.tree }
  }
  const ok = await get(CITIZENS[0].nid)
  t.equal(ok.status, 200, ok.text)
  t.same([ok.text0, ok.tree0], [1, 0], 'a citizen: the answer was read without libxml2')
  const invalid = await get(INVALID_RESPONSE_NID)
  t.equal(invalid.status, 502)
  t.same([invalid.text0, invalid.tree0], [0, 1], 'an answer that breaks the XSD: libxml2 decides')
  const fault = await get(FAULT_NID)
  t.equal(fault.status, 500)
  t.same([fault.text0, fault.tree0], [0, 1], 'a Fault: libxml2\'s tree')
})
