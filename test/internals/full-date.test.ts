import { test } from 'tap'
import { fullFormats } from 'ajv-formats/dist/formats.js'
import { isFullDate } from '../../schemas/full-date.ts'

// The reference: the regular-expression check of ajv-formats that isFullDate replaces.
const reference = (fullFormats.date as { validate: (s: string) => boolean }).validate

test('isFullDate means exactly what ajv-formats\' date means', async t => {
  const cases: string[] = []
  for (const year of ['0000', '0004', '1900', '2000', '2023', '2024', '2100', '9999']) {
    for (let month = 0; month <= 13; month++) {
      for (let day = 0; day <= 32; day++) cases.push(`${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`)
    }
  }
  cases.push('', '2024-1-01', '2024-01-1', '24-01-01', '2024/01/01', '2024-01-01 ', ' 2024-01-01', '2024-01-01T00:00:00Z',
    '202a-01-01', '2024-0a-01', '2024-01-0a', '２０２４-01-01', '٢٠٢٤-01-01', '2024_01_01', '2024--1-01', '-024-01-01',
    '2024-01-01\n', '+2024-01-01', '2024-00-00', '2024-02-29', '2023-02-29', '1900-02-29', '2000-02-29')
  let disagreements = 0
  for (const c of cases) {
    if (isFullDate(c) !== reference(c)) {
      disagreements++
      t.fail(`'${c}': ours ${isFullDate(c)}, ajv-formats ${reference(c)}`)
    }
  }
  t.equal(disagreements, 0, `${cases.length} strings`)
  t.ok(isFullDate('2024-02-29'))
  t.notOk(isFullDate('2023-02-29'))
  t.notOk(isFullDate('2024-04-31'))
})
