/**
 * The shared schema library: one table of cases gives the same verdict in JSON Schema (ajv + formats),
 * in XSD in process (libxml2 + type hooks) and — for everything but the hooks — in xmllint, here the
 * npm build of it (xmllint-wasm) so the suite needs no system package; `npm run conformance` repeats
 * the check with Debian's xmllint. The bashki code list is complete and the generated schemas are up
 * to date; hooks follow types.
 */
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import t from 'tap'
import { XmlDocument, XsdValidator } from 'libxml2-wasm'
import { validateXML } from 'xmllint-wasm'
import { BASHKI, QARQE, findBashkia } from '../schemas/bashki.ts'
import { normaliseIban, normaliseNipt, normalisePhone } from '../schemas/checks.ts'
import { CORE_NS, generatedFiles } from '../schemas/generate.ts'
import { PROJECT_SCHEMA_DIR, SchemaLibrary, xmlViolations } from '../schemas/library.ts'
import { CASES, type SchemaCase } from './support/schema-cases.ts'
import { CASES_NS as NS, CASES_XSD, caseDocument as instance, schemaFiles, validWithoutHooks, xmllintVerdicts } from './support/xmllint.ts'

const FIXTURES = resolve(import.meta.dirname, 'fixtures')
const CORE_ID = 'https://ura.gov.al/schemas/core/v1'

const lib = await SchemaLibrary.load([PROJECT_SCHEMA_DIR, FIXTURES])
const lenient = await SchemaLibrary.load([PROJECT_SCHEMA_DIR, FIXTURES], { niptCheckLetter: false })

function jsonValid (library: SchemaLibrary, c: SchemaCase): boolean {
  return library.compileBody({ $ref: `${CORE_ID}#/definitions/${c.type}` })(c.value)
}

function xsdProblems (library: SchemaLibrary, xml: string): string[] {
  const doc = XmlDocument.fromString(xml)
  try {
    library.xsd(NS)!.validate(doc.root)
    return []
  } catch (err) {
    return xmlViolations(err)
  } finally {
    doc.dispose()
  }
}

t.test('one table of cases, the same verdict in JSON Schema and XSD', async t => {
  for (const c of CASES) {
    const label = `${c.type} ${JSON.stringify(c.value)} (${c.why})`
    const expected = c.fails === undefined
    t.equal(jsonValid(lib, c), expected, `JSON Schema: ${label}`)
    const problems = xsdProblems(lib, instance(c))
    t.equal(problems.length === 0, expected, `XSD: ${label}${problems.length > 0 ? ' — ' + problems.join('; ') : ''}`)
  }
  t.ok(CASES.filter(c => c.fails === 'check').length >= 6 && CASES.filter(c => c.fails === 'format').length >= 30, 'the table covers both kinds of failure')
})

t.test('xmllint (WebAssembly build) agrees with the in-process XSD validator on every row but the hooks', async t => {
  // One xmllint run for the whole table: every case is a file of its own, the schema's imports
  // and includes sit at their relative places in xmllint's in-memory file system.
  const [schema, ...imported] = schemaFiles(CASES_XSD)
  const files = CASES.map((c, i) => ({ fileName: `case-${i}.xml`, contents: instance(c) }))
  const run = await validateXML({ xml: files, schema, preload: imported })
  t.equal(run.valid, CASES.every(validWithoutHooks), 'the overall verdict')
  const verdicts = xmllintVerdicts(run.rawOutput)
  t.equal(verdicts.size, CASES.length, 'xmllint gave a verdict for every case')
  CASES.forEach((c, i) => {
    t.equal(verdicts.get(files[i].fileName), validWithoutHooks(c), `xmllint: ${c.type} ${JSON.stringify(c.value)} (${c.why})`)
  })
  t.ok(imported.some(f => f.fileName.endsWith('al-core.xsd')) && imported.some(f => f.fileName.endsWith('bashki.include.xsd')), `the core schema and its code lists came along (${imported.map(f => f.fileName).join(', ')})`)
})

t.test('the NIPT check letter can be switched off, for both languages at once', async t => {
  for (const c of CASES.filter(c => c.type === 'nipt')) {
    const expected = c.fails !== 'format'
    t.equal(jsonValid(lenient, c), expected, `JSON: ${c.value}`)
    t.equal(xsdProblems(lenient, instance(c)).length === 0, expected, `XSD: ${c.value}`)
  }
  const nid = CASES.find(c => c.type === 'nid' && c.fails === 'check')!
  t.notOk(jsonValid(lenient, nid), 'NID check letters stay on')
})

t.test('JSON Schema patterns are the XSD patterns, anchored (none has a top-level alternation)', async t => {
  const json = JSON.parse(await readFile(join(PROJECT_SCHEMA_DIR, 'core/v1/al-core.json'), 'utf8')).definitions
  const xsd = XmlDocument.fromString(await readFile(join(PROJECT_SCHEMA_DIR, 'core/v1/al-core.xsd'), 'utf8'))
  t.teardown(() => xsd.dispose())
  const pairs: Record<string, string> = { nid: 'NID', nipt: 'NIPT', iban: 'IBAN', kodiPostar: 'KodiPostar', telefon: 'Telefon', telefonE164: 'TelefonE164', date: 'Data', dateTime: 'DataKohe' }
  for (const [def, type] of Object.entries(pairs)) {
    const pattern = xsd.get(`//xs:simpleType[@name='${type}']/xs:restriction/xs:pattern/@value`, { xs: 'http://www.w3.org/2001/XMLSchema' })?.content
    t.equal(json[def].pattern, `^${pattern}$`, `${def} ↔ al:${type}`)
  }
})

t.test('the bashki code list', async t => {
  t.equal(BASHKI.length, 61, '61 bashki')
  t.equal(QARQE.length, 12, '12 qarqe')
  const perQark = Object.fromEntries(QARQE.map(q => [q, BASHKI.filter(b => b.qarku === q).length]))
  t.same(perQark, { Berat: 5, Durrës: 3, Elbasan: 7, Fier: 6, Gjirokastër: 7, Korçë: 6, Kukës: 3, Lezhë: 3, Dibër: 4, Shkodër: 5, Tiranë: 5, Vlorë: 7 }, 'counts per qark as in Law 115/2014')
  t.same(Object.keys(perQark), ['Berat', 'Durrës', 'Elbasan', 'Fier', 'Gjirokastër', 'Korçë', 'Kukës', 'Lezhë', 'Dibër', 'Shkodër', 'Tiranë', 'Vlorë'], 'qarqe in ISO order (Dibër is AL-09)')
  t.equal(new Set(BASHKI.map(b => b.emri)).size, 61, 'names are unique')
  t.equal(new Set(BASHKI.map(b => b.lau)).size, 61, 'LAU codes are unique')
  t.same(BASHKI.map(b => b.n), Array.from({ length: 61 }, (_, i) => i + 1), 'sequence 1–61')
  for (const q of QARQE) {
    const members = BASHKI.filter(b => b.qarku === q)
    t.equal(new Set(members.map(b => b.iso)).size, 1, `${q}: one ISO code`)
    t.equal(new Set(members.map(b => b.lau.slice(0, 4))).size, 1, `${q}: one NUTS-3 prefix in the LAU codes`)
  }
  t.equal(findBashkia('Tirana')?.emri, 'Tiranë', 'definite form')
  t.equal(findBashkia('kucove')?.emri, 'Kuçovë', 'ASCII fold')
  t.equal(findBashkia('Ura Vajgurore')?.emri, 'Dimal', 'former name')
  t.equal(findBashkia('Fushe Arrez')?.emri, 'Fushë-Arrëz', 'hyphen as space')
  t.equal(findBashkia('Prishtinë'), undefined)
})

t.test('generated code-list schemas are up to date and complete', async t => {
  for (const [path, text] of Object.entries(generatedFiles())) {
    t.equal(await readFile(join(PROJECT_SCHEMA_DIR, path), 'utf8'), text, `schemas/${path} matches \`npm run schemas:generate\``)
  }
  const json = JSON.parse(generatedFiles()['core/v1/bashki.json']).definitions
  t.equal(json.bashkia.enum.length, 61)
  t.equal(json.qarku.enum.length, 12)
  const xsd = XmlDocument.fromString(generatedFiles()['core/v1/bashki.include.xsd'])
  t.teardown(() => xsd.dispose())
  const ns = { xs: 'http://www.w3.org/2001/XMLSchema' }
  t.equal(xsd.find("//xs:simpleType[@name='Bashkia']//xs:enumeration", ns).length, 61)
  t.equal(xsd.find("//xs:simpleType[@name='Qarku']//xs:enumeration", ns).length, 12)
})

t.test('the published core schema stands alone: the generated code lists are spliced in', async t => {
  const text = lib.xsdSource(CORE_NS)!
  t.notMatch(text, /xs:include/, 'no include left for a client to resolve')
  const doc = XmlDocument.fromString(text)
  t.teardown(() => doc.dispose())
  t.equal(doc.find("//xs:simpleType[@name='Bashkia']//xs:enumeration", { xs: 'http://www.w3.org/2001/XMLSchema' }).length, 61)
  const validator = XsdValidator.fromDoc(doc)
  t.teardown(() => validator.dispose())
  t.ok(validator, 'it compiles on its own, without the include file')
})

t.test('normalisers turn printed forms into the schema forms', async t => {
  t.equal(normalisePhone('+355 67 212 3456'), '+355672123456')
  t.equal(normalisePhone('069 212-3456'), '+355692123456')
  t.equal(normalisePhone('00355 4 222 2411'), '+35542222411')
  t.equal(normalisePhone('067212345'), undefined, 'too short')
  t.equal(normalisePhone('+38344123456'), undefined, 'not Albanian')
  t.equal(normaliseIban('al47 2121 1009 0000 0002 3569 8741'), 'AL47212110090000000235698741')
  t.equal(normaliseNipt('(AL) k22218003v'), 'K22218003V')
  t.equal(normaliseNipt('AL K22218003V'), 'K22218003V')
  t.equal(normaliseNipt('L41526502B'), 'L41526502B')
})

t.test('XSD hooks follow types, not element names', async t => {
  const doc = (femija: string, prindi: string, punedhenes: string[], llogaria: string, qarku: string): string =>
    `<c:regjistrim xmlns:c="${NS}" xmlns:al="${CORE_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" llogaria="${llogaria}">` +
    `<c:femija>${femija}</c:femija>${prindi}${punedhenes.map(p => `<c:punedhenes>${p}</c:punedhenes>`).join('')}` +
    `<c:banesa><al:rruga>Rruga Gjuhadol</al:rruga><al:bashkia>Shkodër</al:bashkia><al:qarku>${qarku}</al:qarku><al:kodiPostar>4001</al:kodiPostar></c:banesa></c:regjistrim>`
  const good = doc('M40101001J', '<c:prindi>I50314123V</c:prindi>', ['K81305012I', 'M31518001P'], 'AL47212110090000000235698741', 'Shkodër')
  t.same(xsdProblems(lib, good), [], 'all checks pass')
  t.same(xsdProblems(lib, doc('M40101001J', '<c:prindi xsi:nil="true"/>', [], 'AL47212110090000000235698741', 'Shkodër')), [], 'a nil element is not checked')

  const bad = doc('M40101001A', '<c:prindi>I50314123A</c:prindi>', ['K81305012I', 'K12345678A'], 'AL47212110090000000235698742', 'Lezhë')
  const problems = xsdProblems(lib, bad)
  t.equal(problems.length, 5, problems.join('\n'))
  t.match(problems.join('\n'), /femija'.*check letter of NID M40101001A should be J/, 'a type derived from al:NID is checked')
  t.match(problems.join('\n'), /attribute 'llogaria'.*mod-97/, 'an attribute of type al:IBAN is checked')
  t.match(problems.join('\n'), /prindi'.*should be V/)
  t.match(problems.join('\n'), /punedhenes'.*K12345678A should be/, 'the second item of a repeated element')
  t.match(problems.join('\n'), /banesa'.*Shkodër lies in qarku Shkodër, not Lezhë/, 'complex-type hook')
  t.match(problems[0], /^line 1:0: /, 'violations carry a line like libxml2 ones')

  const xsdFirst = xsdProblems(lib, doc('M40101001A', '<c:prindi>not-a-nid</c:prindi>', [], 'AL47212110090000000235698741', 'Shkodër'))
  t.ok(xsdFirst.length > 0 && xsdFirst.every(p => !/check letter/.test(p)), 'hooks run only after the XSD itself passes')
})

t.test('the demo message types are built on the core types', async t => {
  const rc = 'http://ura.gov.al/demo/regjistri-civil/v1'
  const kerko = (nid: string): string => `<rc:kerkoShtetas xmlns:rc="${rc}"><rc:nid>${nid}</rc:nid></rc:kerkoShtetas>`
  const check = (xml: string): string[] => {
    const d = XmlDocument.fromString(xml)
    try { lib.xsd(rc)!.validate(d.root); return [] } catch (err) { return xmlViolations(err) } finally { d.dispose() }
  }
  t.same(check(kerko('I50314123V')), [])
  t.match(check(kerko('I50314123A')).join(), /check letter of NID I50314123A should be V/)
  t.match(check(kerko('I01301001J')).join(), /pattern/)
  const tax = lib.compileBody({ $ref: 'https://ura.gov.al/schemas/demo/taksat-vendore/v1#/definitions/pagese' })
  t.ok(tax({ nipt: 'K81305012I', lloji: 'takse-biznesi', shuma: 15000, referenca: 'REF-000123' }))
  t.notOk(tax({ nipt: 'K81305012A', lloji: 'takse-biznesi', shuma: 15000, referenca: 'REF-000123' }), 'NIPT check letter in a demo message')
  t.match(JSON.stringify(tax.errors), /al-nipt/)
})
