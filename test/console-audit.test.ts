/**
 * The console's audit trail and configuration versions, driven over real TLS as operators use them:
 * changes made through the API appear in the trail, filtered and paged; a record's page shows what
 * changed; two versions compare; a rollback is asked twice and only the confirmation changes the
 * registry; roles without the right see neither the control nor get the change.
 */
import t, { type Test } from 'tap'
import { createConsole } from '../admin/console/index.ts'
import { CONSOLE_PAGES, PUBLIC_PAGES } from '../admin/console/pages/index.ts'
import { totpCode } from '../admin/totp.ts'
import { canonicalJson } from '../registry/store/content.ts'
import { CIVIL, startAdminRig, TIRANA, type AdminRig } from './support/admin.ts'
import { ConsoleClient, type Page } from './support/console.ts'

let rig: AdminRig
const clients: Record<string, ConsoleClient> = {}
/** Registry versions: before the test's changes, after ro's, after sa's. */
let v0 = 0
let vRo = 0
let vSa = 0

const reason = (text: string): Record<string, string> => ({ 'x-ura-reason': Buffer.from(text, 'utf8').toString('latin1') })
const etagOf = async (path: string): Promise<string> => (await rig.call('GET', path, { token: rig.tokens.sa })).headers.etag as string
const version = async (): Promise<number> => (await rig.store.current()).version
const unescape = (s: string): string => s.replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>')

/** The audit table's rows: the record number and each cell's text. */
function rows (page: Page): Array<{ seq: number; cells: string[] }> {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(page.text)?.[1] ?? ''
  return body.split('<tr>').slice(1).map(tr => ({
    seq: Number(/href="\/console\/audit\/(\d+)"/.exec(tr)![1]),
    cells: [...tr.matchAll(/<td>([\s\S]*?)<\/td>/g)].map(m => unescape(m[1].replace(/<[^>]+>/g, '')).trim()),
  }))
}

t.before(async () => {
  rig = await startAdminRig({ console: createConsole({ pages: CONSOLE_PAGES, publicPages: PUBLIC_PAGES }) })
  for (const id of ['sa', 'obs', 'svc-tirana']) {
    const password = `correct horse ${id} battery`
    const res = await rig.call('PUT', `/admin/v1/operators/${id}/login`, { token: rig.tokens.sa, body: { username: `${id}.user`, password }, headers: { ...reason('console test'), 'if-match': await etagOf(`/admin/v1/operators/${id}`) } })
    if (res.status !== 200) throw new Error(`login for ${id}: ${res.status} ${res.text}`)
    const c = new ConsoleClient(rig.url, rig.caPem)
    await c.get('/console/signin')
    await c.post('/console/signin', { username: `${id}.user`, password, next: '/console' })
    await c.get('/console/signin/code')
    const done = await c.post('/console/signin/code', { code: totpCode(res.json.totpSecret, new Date()), next: '/console' })
    if (done.status !== 303) throw new Error(`sign-in of ${id}: ${done.status}`)
    clients[id] = c
  }
  // The changes the pages show: one by the registration officer, one by the administrator, one refusal.
  v0 = await version()
  const tirana = `/admin/v1/members/${TIRANA.replaceAll('/', ':')}`
  const civil = `/admin/v1/members/${CIVIL.replaceAll('/', ':')}`
  const ro = await rig.call('PATCH', tirana, { token: rig.tokens.ro, body: { name: 'Bashkia e Tiranës' }, headers: { ...reason('emri zyrtar'), 'if-match': await etagOf(tirana) } })
  if (ro.status !== 200) throw new Error(ro.text)
  vRo = await version()
  const sa = await rig.call('PATCH', civil, { token: rig.tokens.sa, body: { name: 'Drejtoria e Gjendjes Civile' }, headers: { ...reason('emri i plotë'), 'if-match': await etagOf(civil) } })
  if (sa.status !== 200) throw new Error(sa.text)
  vSa = await version()
  const refused = await rig.call('PATCH', tirana, { token: rig.tokens.obs, body: { name: 'x' }, headers: { ...reason('x'), 'if-match': await etagOf(tirana) } })
  if (refused.status !== 403) throw new Error(refused.text)
})
t.teardown(async () => {
  for (const c of Object.values(clients)) await c.close()
  await rig.close()
})

t.test('the audit page lists the changes with time, operator, role, action, target and a result in words', async t => {
  t.equal(vRo, v0 + 1)
  t.equal(vSa, v0 + 2)
  const page = await clients.sa.get('/console/audit?action=member.update')
  t.equal(page.status, 200)
  t.match(page.text, /<html lang="sq">/)
  t.match(page.text, /<h1>Gjurma e auditimit<\/h1>/)
  t.match(page.text, /orën e Tiranës \(Europe\/Tirane\)/, 'the page says which time the filter reads')
  const list = rows(page)
  t.same(list.map(r => r.cells.slice(2)), [
    ['ro', 'registration-officer', 'member.update', TIRANA, 'lejuar'],
    ['sa', 'system-administrator', 'member.update', CIVIL, 'lejuar'],
    ['obs', 'none', 'member.update', TIRANA, 'refuzuar · Admin.Forbidden'],
  ])
  t.ok(list.every(r => /2\d{3}/.test(r.cells[1])), 'each with its time')
  t.match(page.text, /<span class="badge bad">refuzuar · <code>Admin.Forbidden<\/code><\/span>/)
  const en = await clients.sa.get('/console/audit?action=member.update&lang=en')
  t.match(en.text, /<h1>Audit trail<\/h1>/)
  t.match(en.text, /Tirana time \(Europe\/Tirane\)/)
  t.match(en.text, /<span class="badge ok">allowed<\/span>/)
  t.match(en.text, /refused · <code>Admin.Forbidden<\/code>/)
  await clients.sa.get('/console/audit?lang=sq')
})

t.test('filters by operator, action and time; keyset paging follows next', async t => {
  const byRo = rows(await clients.sa.get('/console/audit?operator=ro'))
  t.ok(byRo.length >= 1)
  t.ok(byRo.every(r => r.cells[2] === 'ro'), 'only the registration officer\'s records')
  t.ok(byRo.some(r => r.cells[4] === 'member.update'))
  const logins = rows(await clients.sa.get('/console/audit?action=operator.login'))
  t.equal(logins.length, 3, 'the three sign-ins set for the test')
  t.ok(logins.every(r => r.cells[4] === 'operator.login'))

  // Tirana's clock an hour ahead: nothing yet; an hour back: everything of the test.
  const tirana = (ms: number): string => new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Tirane', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).format(new Date(ms)).replace(' ', 'T')
  t.equal(rows(await clients.sa.get(`/console/audit?action=member.update&from=${tirana(Date.now() + 3_600_000)}`)).length, 0)
  t.equal(rows(await clients.sa.get(`/console/audit?action=member.update&from=${tirana(Date.now() - 3_600_000)}&to=${tirana(Date.now() + 3_600_000)}`)).length, 3)
  const bad = await clients.sa.get('/console/audit?from=2025-13-40T99:00')
  t.equal(bad.status, 400, 'a time that is not one is refused beside the form')
  t.match(bad.text, /aria-invalid="true"/)
  const badAction = await clients.sa.get('/console/audit?action=Not%20An%20Action')
  t.equal(badAction.status, 400, 'a filter the API refuses is shown with its message')
  t.match(badAction.text, /class="notice bad"/)

  const seen: number[] = []
  let path: string | undefined = '/console/audit?action=member.update&limit=1'
  while (path !== undefined) {
    const page = await clients.sa.get(path)
    const list = rows(page)
    t.equal(list.length, 1, 'one record a page')
    seen.push(...list.map(r => r.seq))
    const next = /<a href="([^"]+)" rel="next">/.exec(page.text)
    path = next === null ? undefined : unescape(next[1])
    if (path !== undefined) t.match(path, /action=member.update.*limit=1.*after=\d+|after=\d+/)
  }
  t.equal(seen.length, 3, 'three pages, then no next link')
  t.same([...seen].sort((a, b) => a - b), seen, 'oldest first, none repeated')
  t.equal(new Set(seen).size, 3)
})

t.test('a record\'s page shows its fields and what changed, checked against the signed digests, with the registry version it made', async t => {
  const [roRecord, , refused] = rows(await clients.sa.get('/console/audit?action=member.update'))
  const page = await clients.sa.get(`/console/audit/${roRecord.seq}?lang=en`)
  t.equal(page.status, 200)
  t.match(page.text, new RegExp(`<h1>Audit record ${roRecord.seq}</h1>`))
  t.match(page.text, /<dt>Role<\/dt><dd><code>registration-officer<\/code><\/dd>/)
  t.match(page.text, /Digest \(SHA-512\) of the state before/)
  t.match(page.text, new RegExp(`Registry version ${vRo}, by ro: “emri zyrtar”`))
  t.match(page.text, /<span class="badge ok">verified: the states match the record&#39;s digests<\/span>/, 'the states shown are the ones the trail signed')
  t.match(page.text, /<span class="diff-del">− +&quot;name&quot;: &quot;Bashkia Tiranë&quot;/, 'the old name, marked removed in words and class')
  t.match(page.text, /<span class="diff-add">\+ +&quot;name&quot;: &quot;Bashkia e Tiranës&quot;/, 'the new name, marked added')
  t.notMatch(page.text, /Drejtoria e Gjendjes Civile/, 'not the next version\'s change')
  const sq = await clients.sa.get(`/console/audit/${roRecord.seq}?lang=sq`)
  t.match(sq.text, /Para dhe pas/)
  const refusal = await clients.sa.get(`/console/audit/${refused.seq}`)
  t.match(refusal.text, /Ky veprim nuk ndryshoi gjendje/)
  t.equal((await clients.sa.get('/console/audit/999999')).status, 404)
  t.equal((await clients.sa.get('/console/audit/x1')).status, 404)
})

t.test('versions: the list says who, when and why; two versions compare', async t => {
  const page = await clients.sa.get('/console/versions?lang=en')
  t.equal(page.status, 200)
  t.match(page.text, /<h1>Configuration versions<\/h1>/)
  t.match(page.text, new RegExp(`<th scope="row">${vSa} <span class="badge ok">current</span></th><td>sa</td><td>[^<]+</td><td>emri i plotë</td>`))
  t.match(page.text, new RegExp(`<th scope="row">${vRo}</th><td>ro</td><td>[^<]+</td><td>emri zyrtar</td>`))
  t.match(page.text, new RegExp(`action="/console/versions/${vRo}/rollback"`), 'the administrator sees the rollback control')
  const diff = await clients.sa.get(`/console/versions/diff?a=${v0}&b=${vRo}`)
  t.equal(diff.status, 200)
  t.match(diff.text, new RegExp(`From version ${v0} to version ${vRo}`))
  t.match(diff.text, /<h3>Members<\/h3><ul class="diff-list"><li>± <code>AL-DEV\/NJQV\/L21603004L<\/code> <span class="muted">\(changed\)<\/span><\/li><\/ul>/)
  t.notMatch(diff.text, /L01417001D/, 'only what changed between the two')
  const sq = await clients.sa.get(`/console/versions/diff?a=${v0}&b=${vSa}&lang=sq`)
  t.match(sq.text, /<h3>Anëtarët<\/h3>/)
  t.match(sq.text, /L01417001D/)
  t.equal((await clients.sa.get('/console/versions/diff?a=x&b=1')).status, 400)
  t.equal((await clients.sa.get('/console/versions/diff?a=1&b=999999')).status, 404, 'the API\'s answer for a version that does not exist')
})

t.test('a rollback is asked first, done only on confirmation, with the reason', async t => {
  const sa = clients.sa
  await sa.get('/console/versions')
  const ask = await sa.post(`/console/versions/${v0}/rollback`, {})
  t.equal(ask.status, 200, 'the first post shows a confirmation')
  t.equal(await version(), vSa, 'nothing changed yet')
  t.match(ask.text, new RegExp(`<h1>Të kthehet regjistri te versioni ${v0}\\?</h1>`))
  t.match(ask.text, /<li>± <code>AL-DEV\/NJQV\/L21603004L<\/code>/, 'what will change: both members')
  t.match(ask.text, /<li>± <code>AL-DEV\/GOV\/L01417001D<\/code>/)
  t.match(ask.text, new RegExp(`<form method="post" action="/console/versions/${v0}/rollback/confirm">`))
  t.match(ask.text, /name="_reason" required/)
  const etag = unescape(/name="_etag" value="([^"]+)"/.exec(ask.text)![1])
  t.equal(etag, `"v${vSa}"`, 'the confirmation carries the current version\'s tag')

  const noReason = await sa.post(`/console/versions/${v0}/rollback/confirm`, { _etag: etag, _reason: '' })
  t.equal(noReason.status, 400, 'no reason: the confirmation again, with the API\'s status')
  t.equal(await version(), vSa)
  const done = await sa.post(`/console/versions/${v0}/rollback/confirm`, { _etag: etag, _reason: 'kthim pas provës' })
  t.equal(done.status, 303)
  t.equal(done.location, '/console/versions')
  const after = await sa.get('/console/versions')
  t.match(after.text, new RegExp(`class="notice ok" role="status">U krijua versioni ${vSa + 1} me përmbajtjen e versionit ${v0}\\.`))
  const current = await rig.store.current()
  t.equal(current.version, vSa + 1, 'one new version')
  t.same({ who: current.who, why: current.why }, { who: 'sa', why: 'kthim pas provës' })
  t.equal(canonicalJson(current.content), canonicalJson((await rig.store.version(v0)).content), 'its content is the earlier version\'s')

  // A confirmation made on a version that is no longer current: asked again, nothing done.
  const stale = await sa.post(`/console/versions/${v0}/rollback/confirm`, { _etag: etag, _reason: 'again' })
  t.equal(stale.status, 412)
  t.match(stale.text, new RegExp(`name="_etag" value="&quot;v${vSa + 1}&quot;"`), 'the page again, on the current version')
  t.equal(await version(), vSa + 1)
})

t.test('an observer sees no rollback control and its confirmation is refused by the API', async (t: Test) => {
  const obs = clients.obs
  const page = await obs.get('/console/versions')
  t.equal(page.status, 200)
  t.notMatch(page.text, /rollback/)
  t.notMatch(page.text, /Kthe regjistrin te versioni/)
  const before = await version()
  const post = await obs.post(`/console/versions/${v0}/rollback/confirm`, { _etag: `"v${before}"`, _reason: 'prova' })
  t.equal(post.status, 403)
  t.match(post.text, /Admin.Forbidden/)
  t.equal(await version(), before, 'no new version')
  const audit = await obs.get('/console/audit?action=version.rollback')
  t.equal(audit.status, 200, 'observers read the trail')
  t.ok(rows(audit).some(r => r.cells[2] === 'obs' && /refuzuar · Admin.Forbidden/.test(r.cells[6])), 'the refusal is in the trail')
})

t.test('a scoped service administrator may not read the trail: the 403 page', async t => {
  const page = await clients['svc-tirana'].get('/console/audit')
  t.equal(page.status, 403)
  t.match(page.text, /Nuk keni të drejtë për këtë veprim/)
  t.match(page.text, /Admin.Forbidden/)
  t.notMatch(page.text, /href="\/console\/audit"/, 'nor is it in the menu')
  const versions = await clients['svc-tirana'].get('/console/versions')
  t.equal(versions.status, 403, 'version.list is node-wide: a scoped role does not read it')
})
