/**
 * docs/errors.md documents every error code of the node with its HTTP status: the exchange side's
 * (protocol/errors.ts), the admin API's (admin/errors.ts) and onboarding's (admin/onboarding/errors.ts).
 * This test holds the page's tables against the code's tables, so neither can change without the other.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import t from 'tap'
import { ADMIN_ERROR_STATUS } from '../../admin/errors.ts'
import { ONBOARDING_ERRORS } from '../../admin/onboarding/errors.ts'
import { ERROR_STATUS as EXCHANGE_ERROR_STATUS } from '../../protocol/errors.ts'

/** Every code the node answers with: exchange, admin API and onboarding alike. */
const ERROR_STATUS: Record<string, number> = { ...EXCHANGE_ERROR_STATUS, ...ADMIN_ERROR_STATUS }

const PAGE = resolve(import.meta.dirname, '../../docs/errors.md')

/** Table rows of the page whose first cell is a code in backticks and whose second is a status. */
function documentedCodes (markdown: string): { codes: Map<string, number>; repeated: string[] } {
  const codes = new Map<string, number>()
  const repeated: string[] = []
  for (const line of markdown.split('\n')) {
    const row = /^\|\s*`([A-Za-z][A-Za-z.]*)`\s*\|\s*(\d{3})\s*\|/.exec(line)
    if (row === null) continue
    if (codes.has(row[1])) repeated.push(row[1])
    codes.set(row[1], Number(row[2]))
  }
  return { codes, repeated }
}

/** Every disagreement between the page and a code table, one sentence each. */
function differences (markdown: string, table: Record<string, number>): string[] {
  const { codes, repeated } = documentedCodes(markdown)
  const out: string[] = []
  for (const [code, status] of Object.entries(table)) {
    const documented = codes.get(code)
    if (documented === undefined) out.push(`${code} (${status}) is missing from docs/errors.md`)
    else if (documented !== status) out.push(`${code}: docs/errors.md says ${documented}, the code says ${status}`)
  }
  for (const code of codes.keys()) {
    if (!Object.hasOwn(table, code)) out.push(`docs/errors.md lists ${code}, which the code does not have`)
  }
  for (const code of repeated) out.push(`docs/errors.md lists ${code} more than once`)
  return out
}

const page = readFileSync(PAGE, 'utf8')
const CODES: Record<string, number> = { ...ERROR_STATUS, ...ONBOARDING_ERRORS }

t.test('docs/errors.md lists exactly the codes of ERROR_STATUS, ADMIN_ERROR_STATUS and ONBOARDING_ERRORS, with their statuses', async t => {
  t.ok(documentedCodes(page).codes.size > 0, 'the page has a table of codes')
  t.ok(documentedCodes(page).codes.has('Onboarding.InvalidNipt'), 'the onboarding table is read too')
  t.same(differences(page, CODES), [])
})

t.test('the comparison notices a change on either side', async t => {
  const table: Record<string, number> = { ...CODES }

  const added = { ...table, 'Server.ServerProxy.SomethingNew': 500 }
  t.same(differences(page, added), ['Server.ServerProxy.SomethingNew (500) is missing from docs/errors.md'], 'a new code')

  const removed = { ...table }
  delete removed['Client.MessageNotFound']
  t.same(differences(page, removed), ['docs/errors.md lists Client.MessageNotFound, which the code does not have'], 'a removed code')

  const changed = { ...table, 'Server.ServerProxy.AccessDenied': 401 }
  t.same(differences(page, changed), ['Server.ServerProxy.AccessDenied: docs/errors.md says 403, the code says 401'], 'a changed status')

  const editedPage = page.replace(/^\| `Client\.RequestTimeout` \| 408 \|/m, '| `Client.RequestTimeout` | 504 |')
  t.not(editedPage, page, 'the page row was found')
  t.same(differences(editedPage, table), ['Client.RequestTimeout: docs/errors.md says 504, the code says 408'], 'a changed status on the page')

  const repeatedRow = page + '\n| `Client.BadRequest` | 400 | again |\n'
  t.same(differences(repeatedRow, table), ['docs/errors.md lists Client.BadRequest more than once'], 'a repeated row')
})
