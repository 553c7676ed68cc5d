/**
 * The civil-status events of the room ngjarje-civile (schemas/ngjarje-civile/v1.json), checked the way
 * the node checks them: through the shared schema library, so the core types' rules (NID check letter,
 * the 61 bashki, real calendar dates) apply to every event.
 */
import t from 'tap'
import { checkLetter } from '../schemas/checks.ts'
import { PROJECT_SCHEMA_DIR, SchemaLibrary } from '../schemas/library.ts'

const ID = 'https://ura.gov.al/schemas/ngjarje-civile/v1'
const lib = await SchemaLibrary.load([PROJECT_SCHEMA_DIR])
const validator = (type: string) => lib.compileBody({ $ref: `${ID}#/definitions/${type}` })

/** A personal number with its right check letter. */
const nid = (first9: string): string => first9 + checkLetter(first9)
/** The same number with a wrong check letter. */
const badNid = (first9: string): string => {
  const right = checkLetter(first9)
  return first9 + (right === 'A' ? 'B' : 'A')
}

const CHILD = nid('M50314123')
const MOTHER = nid('K05703045')
const FATHER = nid('J70911088')

const VALID: Record<string, Array<Record<string, unknown>>> = {
  lindje: [
    { nid: CHILD, emri: 'Ana', mbiemri: 'Hoxha', datelindja: '2025-03-14', gjinia: 'F', vendlindja: 'Tiranë', bashkia: 'Tiranë' },
    { nid: CHILD, emri: 'Ana', mbiemri: 'Hoxha', datelindja: '2025-03-14', gjinia: 'F', vendlindja: 'Durrës', prinderit: [MOTHER, FATHER], bashkia: 'Kamëz' },
  ],
  vdekje: [
    { nid: FATHER, dataVdekjes: '2025-11-02', bashkia: 'Vau i Dejës' },
  ],
  'ndryshim-vendbanimi': [
    { nid: MOTHER, ngaBashkia: 'Korçë', neBashkine: 'Tiranë', data: '2024-02-29', bashkia: 'Tiranë' },
    { nid: MOTHER, ngaBashkia: 'Korçë', neBashkine: 'Tiranë', data: '2024-02-29', adresa: 'Rruga e Kavajës, Pallati 12', bashkia: 'Tiranë' },
  ],
}

t.test('the schema is in the library under its $id', async t => {
  t.ok(lib.jsonIds.includes(ID))
  const definitions = Object.keys((lib.jsonSchema(ID) as { definitions: object }).definitions)
  t.same(definitions.filter(d => d !== 'emer'), ['lindje', 'vdekje', 'ndryshim-vendbanimi'])
})

t.test('valid events pass', async t => {
  for (const [type, events] of Object.entries(VALID)) {
    const validate = validator(type)
    for (const e of events) t.ok(validate(e), `${type} ${JSON.stringify(e)}: ${JSON.stringify(validate.errors)}`)
  }
})

/** Each bad event differs from a valid one in one way, named by `why`; `at` is where ajv must say it failed. */
const BAD: Array<{ type: string; why: string; event: Record<string, unknown>; at: string }> = [
  { type: 'lindje', why: 'wrong NID check letter', event: { ...VALID.lindje[0], nid: badNid('M50314123') }, at: '/nid' },
  { type: 'lindje', why: 'a parent with a wrong check letter', event: { ...VALID.lindje[1], prinderit: [MOTHER, badNid('J70911088')] }, at: '/prinderit/1' },
  { type: 'lindje', why: 'three parents', event: { ...VALID.lindje[1], prinderit: [MOTHER, FATHER, nid('K16102045')] }, at: '/prinderit' },
  { type: 'lindje', why: 'unknown bashki as place of birth', event: { ...VALID.lindje[0], vendlindja: 'Tirana' }, at: '/vendlindja' },
  { type: 'lindje', why: 'a day that does not exist', event: { ...VALID.lindje[0], datelindja: '2025-02-29' }, at: '/datelindja' },
  { type: 'lindje', why: 'an unknown gender', event: { ...VALID.lindje[0], gjinia: 'X' }, at: '/gjinia' },
  { type: 'lindje', why: 'an extra field', event: { ...VALID.lindje[0], atesia: 'Petrit' }, at: '' },
  { type: 'lindje', why: 'no municipality', event: { ...VALID.lindje[0], bashkia: undefined }, at: '' },
  { type: 'lindje', why: 'an empty first name', event: { ...VALID.lindje[0], emri: '' }, at: '/emri' },
  { type: 'vdekje', why: 'wrong NID check letter', event: { ...VALID.vdekje[0], nid: badNid('J70911088') }, at: '/nid' },
  { type: 'vdekje', why: 'unknown bashki', event: { ...VALID.vdekje[0], bashkia: 'Ura Vajgurore' }, at: '/bashkia' },
  { type: 'vdekje', why: 'an extra field', event: { ...VALID.vdekje[0], shkaku: 'x' }, at: '' },
  { type: 'vdekje', why: 'no date', event: { ...VALID.vdekje[0], dataVdekjes: undefined }, at: '' },
  { type: 'ndryshim-vendbanimi', why: 'unknown bashki left', event: { ...VALID['ndryshim-vendbanimi'][0], ngaBashkia: 'Korca' }, at: '/ngaBashkia' },
  { type: 'ndryshim-vendbanimi', why: 'unknown bashki of the new residence', event: { ...VALID['ndryshim-vendbanimi'][0], neBashkine: 'Prishtinë' }, at: '/neBashkine' },
  { type: 'ndryshim-vendbanimi', why: 'wrong NID check letter', event: { ...VALID['ndryshim-vendbanimi'][0], nid: badNid('K05703045') }, at: '/nid' },
  { type: 'ndryshim-vendbanimi', why: 'an extra field', event: { ...VALID['ndryshim-vendbanimi'][1], kodiPostar: '1001' }, at: '' },
  { type: 'ndryshim-vendbanimi', why: 'an address that is not text', event: { ...VALID['ndryshim-vendbanimi'][1], adresa: { rruga: 'x' } }, at: '/adresa' },
]

t.test('bad events fail, each for its own reason', async t => {
  for (const c of BAD) {
    const event = JSON.parse(JSON.stringify(c.event)) as Record<string, unknown>
    const validate = validator(c.type)
    t.notOk(validate(event), `${c.type}: ${c.why}`)
    t.ok((validate.errors ?? []).some(e => e.instancePath === c.at), `${c.type}: ${c.why} is reported at '${c.at}': ${JSON.stringify(validate.errors?.map(e => [e.instancePath, e.message]))}`)
  }
})

t.test('an event of one type is not an event of another', async t => {
  t.notOk(validator('vdekje')(VALID.lindje[0]))
  t.notOk(validator('lindje')(VALID['ndryshim-vendbanimi'][0]))
})
