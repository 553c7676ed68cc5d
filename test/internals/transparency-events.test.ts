/**
 * The transparency event schemas (schemas/transparency/v1) as the schema library compiles them, and
 * the rule they cannot state: a consultation's comment period of 20 to 40 Albanian working days
 * (Law 146/2014), counted by schemas/working-days.ts with the public holidays left out.
 */
import t from 'tap'
import { PROJECT_SCHEMA_DIR, SchemaLibrary, ajvViolations } from '../../schemas/library.ts'
import { checkTransparencyEvent, TRANSPARENCY_EVENT_TYPES, TRANSPARENCY_SCHEMA_IDS } from '../../schemas/transparency.ts'
import { FIXED_HOLIDAYS, isWorkingDay, workingDaysAfter } from '../../schemas/working-days.ts'
import { sampleEvent } from '../support/transparency.ts'

const lib = await SchemaLibrary.load([PROJECT_SCHEMA_DIR])
const validator = (type: keyof typeof TRANSPARENCY_SCHEMA_IDS) => lib.compileBody({ $ref: TRANSPARENCY_SCHEMA_IDS[type] })
const violations = (type: keyof typeof TRANSPARENCY_SCHEMA_IDS, data: unknown): string[] => {
  const v = validator(type)
  return v(data) ? [] : ajvViolations('event', v.errors)
}

t.test('the library holds a schema for every event type, and the samples pass it', async t => {
  for (const type of TRANSPARENCY_EVENT_TYPES) {
    t.ok(lib.jsonSchema(TRANSPARENCY_SCHEMA_IDS[type]), `${type} schema loaded`)
    t.same(violations(type, sampleEvent(type)), [], `a ${type} sample is valid`)
    t.same(checkTransparencyEvent(type, sampleEvent(type)), [], `and breaks no rule beyond the schema`)
  }
})

t.test('personal data cannot be published', async t => {
  const v = sampleEvent('vendim')
  t.match(violations('vendim', { ...v, personalData: true }).join('\n'), /personalData: must be equal to constant/, 'personalData: true refused')
  const { personalData: _, ...without } = v
  t.match(violations('vendim', without).join('\n'), /missing required property 'personalData'/, 'the assertion is required')
  t.match(violations('vendim', { ...v, nid: 'J00101999W' }).join('\n'), /unknown property 'nid'/, 'no extra field at the top')
  t.match(violations('konsultim', { ...sampleEvent('konsultim'), organ: { sq: 'Bashkia', email: 'a@b.al' } }).join('\n'), /organ: unknown property 'email'/, 'nor inside a nested object')
  t.match(violations('njoftim', { ...sampleEvent('njoftim'), dokument: { url: 'https://tirana.al/a.pdf', mediaType: 'application/pdf', author: 'X' } }).join('\n'), /dokument: unknown property 'author'/, 'nor in a document')
})

t.test('the schema checks each field', async t => {
  const v = sampleEvent('vendim')
  t.match(violations('vendim', { ...v, bashkia: 'Tirana' }).join('\n'), /bashkia: must be one of/, 'the official municipality name')
  t.match(violations('vendim', { ...v, titull: { en: 'Only English' } }).join('\n'), /titull: missing required property 'sq'/, 'an Albanian title')
  t.match(violations('vendim', { ...v, titull: { sq: '   ' } }).join('\n'), /titull\/sq: must match pattern/, 'not blank')
  t.match(violations('vendim', { ...v, dokument: { url: 'http://tirana.al/a.pdf', mediaType: 'application/pdf' } }).join('\n'), /dokument\/url: must match pattern/, 'documents over https only')
  t.match(violations('vendim', { ...v, dokument: { url: 'https://tirana.al/a.pdf', mediaType: 'pdf' } }).join('\n'), /dokument\/mediaType: must match pattern/, 'a real media type')
  t.match(violations('vendim', { ...v, data: '2026-02-30' }).join('\n'), /data: must match format "date"/, 'a real date')
  t.match(violations('vendim', { ...v, lloji: 'ligj' }).join('\n'), /lloji: must be one of vendim, rregullore, urdher/, 'known kinds')
  const { numri: _, ...noNumber } = v
  t.match(violations('vendim', noNumber).join('\n'), /missing required property 'numri'/, 'a decision has its number')
  t.match(violations('konsultim', { ...sampleEvent('konsultim'), faza: 'mbyllur' }).join('\n'), /missing required property 'raport'/, 'a closed consultation carries its report')
  t.same(violations('konsultim', { ...sampleEvent('konsultim'), faza: 'mbyllur', raport: { url: 'https://tirana.al/raport.pdf', mediaType: 'application/pdf' } }), [], 'and is valid with it')
  t.match(violations('njoftim', { ...sampleEvent('njoftim'), ngjarja: '2026-03-10 18:00' }).join('\n'), /ngjarja: must match pattern/, 'a date-time with its zone')
})

t.test('working days: Monday to Friday less the fixed-date holidays', async t => {
  t.equal(isWorkingDay('2026-03-02'), true, 'a Monday')
  t.equal(isWorkingDay('2026-03-07'), false, 'a Saturday')
  t.equal(isWorkingDay('2026-03-08'), false, 'a Sunday')
  t.equal(isWorkingDay('2026-05-01'), false, '1 May (a Friday in 2026)')
  t.equal(isWorkingDay('2026-10-19'), false, '19 October (a Monday in 2026)')
  t.equal(isWorkingDay('2026-12-08'), false, '8 December')
  t.equal(isWorkingDay('2027-01-01'), false, 'New Year')
  t.equal(FIXED_HOLIDAYS.length, 10, 'ten fixed-date holidays')
  t.throws(() => isWorkingDay('2026-02-30'), RangeError, 'not a date')
  t.equal(workingDaysAfter('2026-02-02', '2026-02-02'), 0, 'the first day does not count')
  t.equal(workingDaysAfter('2026-02-02', '2026-02-03'), 1, 'the last day does')
  t.equal(workingDaysAfter('2026-02-02', '2026-03-02'), 20, 'four weeks of February')
  t.equal(workingDaysAfter('2026-03-02', '2026-02-02'), 0, 'backwards is nothing')
  t.equal(workingDaysAfter('2026-04-06', '2026-05-04'), 19, '1 May is not counted')
  t.equal(workingDaysAfter('2026-10-05', '2026-11-02'), 19, '19 October is not counted')
  t.equal(workingDaysAfter('2026-01-01', '9999-12-31', 40), 41, 'a far date stops counting past the cap')
})

t.test('the comment period of a consultation (Law 146/2014)', async t => {
  const k = (fillon: string, mbaron: string, data = fillon) => checkTransparencyEvent('konsultim', { ...sampleEvent('konsultim'), data, fillon, mbaron })
  t.match(k('2026-02-02', '2026-02-27'), [/is 19 working days; Law 146\/2014 requires at least 20/], '19 working days: too short')
  t.same(k('2026-02-02', '2026-03-02'), [], '20 working days: enough')
  t.same(k('2026-02-02', '2026-03-30'), [], '40 working days: the longest allowed')
  t.match(k('2026-02-02', '2026-03-31'), [/more than 40 working days/], '41: too long')
  t.match(k('2026-04-06', '2026-05-04'), [/19 working days/], 'a holiday inside the period is not a working day')
  t.same(k('2026-04-06', '2026-05-05'), [], 'one more day makes it 20')
  t.match(k('2026-02-02', '2026-01-15'), [/is 0 working days/], 'an end before the start')
  t.match(k('2026-02-02', '2026-03-02', '2026-02-10'), [/starts on 2026-02-02, before the consultation is announced \(data 2026-02-10\)/], 'comments cannot open before the notice')
  t.same(checkTransparencyEvent('vendim', sampleEvent('vendim')), [], 'a decision has no period')
  t.match(checkTransparencyEvent('lajm', {}), [/lajm: not a transparency event type/], 'an unknown type')
  t.same(checkTransparencyEvent('konsultim', { fillon: 'soon' }), [], 'malformed fields are the schema\'s to report')
})
