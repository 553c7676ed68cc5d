/**
 * The console's institutions, services and officials pages over real TLS, driven as a browser
 * without scripts drives them: lists and details in both languages, a service created with its
 * catalogue metadata through the form (read back through the API), the card preview that saves
 * nothing, disabling with a notice and enabling, officials added (the API's NID problem shown on
 * the field) and removed, and what a Tirana-scoped service administrator and an observer may see
 * and do — posting a form they are not shown is refused by the API and changes nothing.
 */
import t, { type Test } from 'tap'
import { createConsole } from '../admin/console/index.ts'
import { CONSOLE_PAGES, PUBLIC_PAGES } from '../admin/console/pages/index.ts'
import { totpCode } from '../admin/totp.ts'
import { CIVIL, nid, startAdminRig, TIRANA, type AdminRig } from './support/admin.ts'
import { ConsoleClient } from './support/console.ts'

let rig: AdminRig
const clients: Record<string, ConsoleClient> = {}
const CIVIL_SERVICE = 'AL-DEV:GOV:L01417001D:regjistri-civil:kerkoShtetas@v1'
const TIRANA_SERVICE = 'AL-DEV:NJQV:L21603004L:taksat-vendore:detyrimet'
const page = (id: string): string => `/console/services/${encodeURIComponent(id)}`

t.before(async () => {
  rig = await startAdminRig({ console: createConsole({ pages: CONSOLE_PAGES, publicPages: PUBLIC_PAGES }) })
  for (const id of ['sa', 'svc-tirana', 'obs']) {
    const password = `correct horse ${id} battery`
    const etag = (await rig.call('GET', `/admin/v1/operators/${id}`, { token: rig.tokens.sa })).headers.etag as string
    const res = await rig.call('PUT', `/admin/v1/operators/${id}/login`, { token: rig.tokens.sa, body: { username: `${id}.user`, password }, headers: { 'x-ura-reason': 'console test', 'if-match': etag } })
    if (res.status !== 200) throw new Error(`login for ${id}: ${res.status} ${res.text}`)
    const c = new ConsoleClient(rig.url, rig.caPem)
    await c.get('/console/signin')
    const first = await c.post('/console/signin', { username: `${id}.user`, password, next: '/console' })
    await c.get(first.location!)
    const done = await c.post('/console/signin/code', { code: totpCode(res.json.totpSecret, new Date()), next: '/console' })
    if (done.status !== 303) throw new Error(`sign-in of ${id}: ${done.status}`)
    clients[id] = c
  }
})
t.teardown(async () => {
  for (const c of Object.values(clients)) await c.close()
  await rig.close()
})

/** The `_etag` a page's form carries (as the browser would send it). */
const tagIn = (re: RegExp, text: string): string => re.exec(text)![1].replaceAll('&quot;', '"')

const api = async (path: string): Promise<any> => (await rig.call('GET', `/admin/v1${path}`, { token: rig.tokens.sa })).json

t.test('institutions: the list filters by text, a member\'s page shows subsystems, certificates and grants, in sq and en', async t => {
  const c = clients.sa
  const list = await c.get('/console/institutions')
  t.equal(list.status, 200)
  t.match(list.text, /<h1>Institucionet<\/h1>/)
  t.match(list.text, /Bashkia Tiranë/)
  t.match(list.text, /taksat-vendore/)
  const filtered = await c.get('/console/institutions?q=durr')
  t.match(filtered.text, /Bashkia Durrës/)
  t.notMatch(filtered.text, /Bashkia Tiranë/, 'the filter leaves other members out')
  const en = await c.get('/console/institutions?lang=en')
  t.match(en.text, /<h1>Institutions<\/h1>/)
  const detail = await c.get('/console/institutions/AL-DEV%3ANJQV%3AL21603004L')
  t.equal(detail.status, 200)
  t.match(detail.text, /<h1>Bashkia Tiranë<\/h1>/)
  t.match(detail.text, /Certificates the node issued/)
  t.match(detail.text, /Who may call its services/)
  t.match(detail.text, /AL-DEV\/NJQV\/L21603004L\/taksat-vendore\/detyrimet/, 'the grants on its service')
  t.match(detail.text, /AL-DEV\/GOV\/K11503002N\/e-albania/, 'and who they name')
  t.match(detail.text, /What its systems may call/)
  t.match(detail.text, /through group <code>bashki-gjendje-civile<\/code>/, 'its civil-status office may call the registry through a group')
  t.match(detail.text, /Rename/)
  const sq = await c.get('/console/institutions/AL-DEV:NJQV:L21603004L?lang=sq')
  t.match(sq.text, /Kush mund të thërrasë shërbimet e tij/)
})

t.test('institutions: rename, add a subsystem and remove it, each with If-Match and a reason; a refusal keeps what was typed', async t => {
  const c = clients.sa
  const base = '/console/institutions/AL-DEV:NJQV:M51305009K'
  await c.get(base)
  const etag = tagIn(/action="[^"]*\/rename"><input type="hidden" name="_csrf" value="[^"]+"><input type="hidden" name="_etag" value="([^"]+)"/, (await c.get(base)).text)
  const renamed = await c.post(`${base}/rename`, { _etag: etag, _reason: 'official name', name: 'Bashkia Durrës (e ndryshuar)' })
  t.equal(renamed.status, 303)
  t.equal((await api('/members/AL-DEV:NJQV:M51305009K')).name, 'Bashkia Durrës (e ndryshuar)')
  t.match((await c.get(base)).text, /Emri i institucionit u ndryshua/, 'the flash after the redirect')

  const form = await c.get(base)
  const listTag = tagIn(/action="[^"]*\/subsystems"><input type="hidden" name="_csrf" value="[^"]+"><input type="hidden" name="_etag" value="([^"]+)"/, form.text)
  const bad = await c.post(`${base}/subsystems`, { _etag: listTag, _reason: 'new system', code: 'no spaces allowed', name: 'Arkiva', connection: 'mtls' })
  t.equal(bad.status, 400)
  t.match(bad.text, /class="field invalid"><label for="add-code">/, 'the problem is on the code field')
  t.match(bad.text, /value="no spaces allowed"/, 'what was typed is kept')
  const added = await c.post(`${base}/subsystems`, { _etag: listTag, _reason: 'new system', code: 'arkiva', name: 'Arkiva', connection: 'mtls' })
  t.equal(added.status, 303)
  t.ok((await api('/members/AL-DEV:NJQV:M51305009K/subsystems')).items.some((s: { code: string }) => s.code === 'arkiva'))

  const confirm = await c.get(`${base}/subsystems/arkiva/remove`)
  t.equal(confirm.status, 200)
  const subTag = tagIn(/name="_etag" value="([^"]+)"/, confirm.text)
  const removed = await c.post(`${base}/subsystems/arkiva/remove`, { _etag: subTag, _reason: 'not needed' })
  t.equal(removed.status, 303)
  t.notOk((await api('/members/AL-DEV:NJQV:M51305009K/subsystems')).items.some((s: { code: string }) => s.code === 'arkiva'))
})

t.test('services: the list and a detail with its catalogue card, in sq and en', async t => {
  const c = clients.sa
  const list = await c.get('/console/services')
  t.match(list.text, /<h1>Shërbimet<\/h1>/)
  t.match(list.text, /Vërtetimi i të dhënave personale të shtetasit/)
  t.match(list.text, /SOAP/)
  t.match(list.text, /badge ok">Aktiv/)
  t.match(list.text, /href="\/console\/services\/new"/)
  const detail = await c.get(`${page(TIRANA_SERVICE)}?lang=en`)
  t.equal(detail.status, 200)
  t.match(detail.text, /class="catalogue-card"/)
  t.match(detail.text, /Statement of local tax and fee obligations/)
  t.match(detail.text, /Local taxes and fees/, 'the category label from the catalogue\'s labels')
  t.match(detail.text, /Until 31 December of the year of issue/)
  t.match(detail.text, /200 lek \(ALL\)/)
  await c.get('/console/services?lang=sq')
})

const newService = {
  provider: `${TIRANA}/taksat-vendore`, code: 'leja-parkimit', version: '', type: 'rest', 'adapter.kind': 'rest', 'adapter.url': 'http://127.0.0.1:4401/api/parkim',
  title: '', timeoutMs: '5000', bodyLogging: 'digest', responseValidation: 'enforce',
  'catalogue.title.sq': 'Leja e parkimit për banorët', 'catalogue.title.en': 'Residents\' parking permit',
  'catalogue.description.sq': 'Leja vjetore e parkimit në rrugët e lagjes.', 'catalogue.description.en': 'The yearly permit to park in the streets of one\'s neighbourhood.',
  'catalogue.category': 'transport', 'catalogue.institution.sq': 'Bashkia Tiranë', 'catalogue.institution.en': 'Municipality of Tirana',
  'catalogue.municipalities': 'Tiranë', 'catalogue.legalBasis': 'law; 139/2015; 2015-12-17; Për vetëqeverisjen vendore; On local self-government',
  'catalogue.steps.sq': 'Aplikoni në e-Albania.\nMerrni lejen.', 'catalogue.steps.en': 'Apply on e-Albania.\nReceive the permit.',
  'catalogue.documents.sq': 'Leja e qarkullimit', 'catalogue.documents.en': 'The vehicle registration',
  'catalogue.processingTime.min': '1', 'catalogue.processingTime.max': '5', 'catalogue.processingTime.unit': 'working-days',
  'catalogue.fees': '1500; Leja vjetore; The yearly permit', 'catalogue.validity': 'period', 'catalogue.validity.value': '1', 'catalogue.validity.unit': 'years',
  'catalogue.channel': ['online', 'assisted'], 'catalogue.contact.email': 'parkimi@demo.ura.gov.al', _reason: 'a new municipal service',
}

t.test('services: preview shows the card with the typed title and saves nothing; saving creates the service with its metadata', async t => {
  const c = clients.sa
  const form = await c.get('/console/services/new')
  t.equal(form.status, 200)
  t.match(form.text, /<label for="f-catalogue-title-en">Titulli \(anglisht\)<\/label>/)
  const etag = tagIn(/name="_etag" value="([^"]+)"/, form.text)
  const before = (await api('/services')).items.length
  const preview = await c.post('/console/services/new', { ...newService, _etag: etag, _action: 'preview' })
  t.equal(preview.status, 200)
  t.match(preview.text, /Parashikimi i kartës/)
  t.match(preview.text, /<article class="catalogue-card"[^>]*><h3[^>]*>Leja e parkimit për banorët<\/h3>/, 'the card with the typed title')
  t.match(preview.text, /1\u00a0500 lekë \(ALL\) — Leja vjetore/)
  t.match(preview.text, /value="Residents&#39; parking permit"/, 'the form keeps what was typed')
  t.equal((await api('/services')).items.length, before, 'nothing saved')

  const saved = await c.post('/console/services/new', { ...newService, _etag: etag, _action: 'save' })
  t.equal(saved.status, 303)
  t.equal(saved.location, page('AL-DEV:NJQV:L21603004L:taksat-vendore:leja-parkimit'))
  const back = await api('/services/AL-DEV:NJQV:L21603004L:taksat-vendore:leja-parkimit')
  t.equal(back.adapter.url, 'http://127.0.0.1:4401/api/parkim')
  t.same(back.catalogue.title, { sq: 'Leja e parkimit për banorët', en: 'Residents\' parking permit' })
  t.same(back.catalogue.legalBasis, [{ act: 'law', number: '139/2015', date: '2015-12-17', title: { sq: 'Për vetëqeverisjen vendore', en: 'On local self-government' } }])
  t.same(back.catalogue.fees, [{ amount: 1500, currency: 'ALL', for: { sq: 'Leja vjetore', en: 'The yearly permit' } }])
  t.same(back.catalogue.validity, { value: 1, unit: 'years' })
  t.same(back.catalogue.channel, ['online', 'assisted'])
  t.same(back.catalogue.steps.map((s: { en: string }) => s.en), ['Apply on e-Albania.', 'Receive the permit.'])
  const shown = await c.get(saved.location!)
  t.match(shown.text, /Shërbimi u shtua/)
  t.notMatch(shown.text, /nuk e publikon/, 'complete metadata: published')

  // Editing: the form is filled from the service; a change keeps the rest of the adapter.
  const edit = await c.get(`${saved.location!}/edit`)
  t.match(edit.text, /value="Leja e parkimit për banorët"/)
  const editTag = tagIn(/name="_etag" value="([^"]+)"/, edit.text)
  const { provider: _p, code: _c, version: _v, type: _t, 'adapter.kind': _k, ...editable } = newService
  const changed = await c.post(`${saved.location!}/edit`, { ...editable, 'catalogue.title.en': 'Parking permit for residents', _etag: editTag, _action: 'save', _reason: 'clearer title' })
  t.equal(changed.status, 303)
  const after = await api('/services/AL-DEV:NJQV:L21603004L:taksat-vendore:leja-parkimit')
  t.equal(after.catalogue.title.en, 'Parking permit for residents')
  t.equal(after.adapter.kind, 'rest')
  const stale = await c.post(`${saved.location!}/edit`, { ...editable, 'catalogue.title.en': 'Another', _etag: editTag, _action: 'save', _reason: 'stale' })
  t.equal(stale.status, 412, 'a form made on an older version is refused')
  t.match(stale.text, /value="Another"/, 'and keeps what was typed')
})

t.test('services: disable with a notice for callers, then enable', async t => {
  const c = clients.sa
  const detail = await c.get(page(TIRANA_SERVICE))
  const etag = tagIn(/\/disable"><input type="hidden" name="_csrf" value="[^"]+"><input type="hidden" name="_etag" value="([^"]+)"/, detail.text)
  const empty = await c.post(`${page(TIRANA_SERVICE)}/disable`, { _etag: etag, _reason: 'maintenance', notice: ' ' })
  t.equal(empty.status, 400)
  t.match(empty.text, /class="field invalid"><label for="f-notice">/)
  const off = await c.post(`${page(TIRANA_SERVICE)}/disable`, { _etag: etag, _reason: 'maintenance', notice: 'Mirëmbajtje deri në orën 14:00.' })
  t.equal(off.status, 303)
  t.same((await api(`/services/${TIRANA_SERVICE}`)).disabled, { notice: 'Mirëmbajtje deri në orën 14:00.' })
  const shown = await c.get(page(TIRANA_SERVICE))
  t.match(shown.text, /Mirëmbajtje deri në orën 14:00\./)
  t.match(shown.text, /badge bad">I çaktivizuar/)
  const onTag = tagIn(/\/enable"><input type="hidden" name="_csrf" value="[^"]+"><input type="hidden" name="_etag" value="([^"]+)"/, shown.text)
  const on = await c.post(`${page(TIRANA_SERVICE)}/enable`, { _etag: onTag, _reason: 'done' })
  t.equal(on.status, 303)
  t.equal((await api(`/services/${TIRANA_SERVICE}`)).disabled, undefined)
})

t.test('officials: add one (a wrong NID check letter shown on the field), change the role, remove', async t => {
  const c = clients.sa
  const list = await c.get('/console/officials?member=AL-DEV:NJQV:L21603004L')
  t.match(list.text, /Arben Krasniqi/)
  t.match(list.text, /badge bad">I skaduar/, 'an official past the last day')
  const etag = tagIn(/action="\/console\/officials\/[^"]+"><input type="hidden" name="_csrf" value="[^"]+"><input type="hidden" name="_etag" value="([^"]+)"/, list.text)
  const good = nid('J', '90101001')
  const wrongLetter = good.slice(0, 9) + (good.endsWith('A') ? 'B' : 'A')
  const bad = await c.post('/console/officials/AL-DEV%3ANJQV%3AL21603004L', { _etag: etag, _reason: 'new clerk', nid: wrongLetter, name: 'Drita Hoxha', role: 'Nëpunëse', validUntil: '2030-12-31' })
  t.equal(bad.status, 422, 'the API\'s status: the registry would be invalid')
  t.match(bad.text, /class="field invalid"><label for="f-nid">/, 'the API\'s problem is on the NID field')
  t.match(bad.text, /value="Drita Hoxha"/)
  const added = await c.post('/console/officials/AL-DEV%3ANJQV%3AL21603004L', { _etag: etag, _reason: 'new clerk', nid: good, name: 'Drita Hoxha', role: 'Nëpunëse', validUntil: '2030-12-31' })
  t.equal(added.status, 303)
  t.ok((await api('/members/AL-DEV:NJQV:L21603004L/officials')).items.some((o: { nid: string }) => o.nid === good))

  const edit = await c.get(`/console/officials/AL-DEV:NJQV:L21603004L/${good}?lang=en`)
  t.match(edit.text, /Official Drita Hoxha/)
  const tag = tagIn(/name="_etag" value="([^"]+)"/, edit.text)
  const changed = await c.post(`/console/officials/AL-DEV:NJQV:L21603004L/${good}`, { _etag: tag, _reason: 'promoted', name: 'Drita Hoxha', role: 'Shefe e sektorit', validUntil: '2031-12-31' })
  t.equal(changed.status, 303)
  const now = await api(`/members/AL-DEV:NJQV:L21603004L/officials/${good}`)
  t.equal(now.role, 'Shefe e sektorit')
  const removeTag = tagIn(/\/remove"><input type="hidden" name="_csrf" value="[^"]+"><input type="hidden" name="_etag" value="([^"]+)"/, (await c.get(`/console/officials/AL-DEV:NJQV:L21603004L/${good}`)).text)
  const removed = await c.post(`/console/officials/AL-DEV:NJQV:L21603004L/${good}/remove`, { _etag: removeTag, _reason: 'left' })
  t.equal(removed.status, 303)
  t.notOk((await api('/members/AL-DEV:NJQV:L21603004L/officials')).items.some((o: { nid: string }) => o.nid === good))
})

async function refusedAndUnchanged (t: Test, c: ConsoleClient, path: string, fields: Record<string, string>, check: () => Promise<unknown>): Promise<void> {
  const before = await check()
  const res = await c.post(path, fields)
  t.equal(res.status, 403, `${path} refused`)
  t.match(res.text, /Admin\.Forbidden/)
  t.same(await check(), before, 'nothing changed')
}

t.test('a Tirana-scoped service administrator sees Tirana\'s services only, edits only those, and posting for another member is refused', async t => {
  const c = clients['svc-tirana']
  const list = await c.get('/console/services')
  t.equal(list.status, 200)
  t.match(list.text, /Vërtetim për detyrimet e taksave/)
  t.notMatch(list.text, /Vërtetimi i të dhënave personale të shtetasit/, 'not the civil registry\'s service')
  t.match(list.text, /href="[^"]*detyrimet\/edit"/)
  const own = await c.get(page(TIRANA_SERVICE))
  t.match(own.text, /\/edit"/)
  t.match(own.text, /Çaktivizo/)
  const other = await c.get(page(CIVIL_SERVICE))
  t.equal(other.status, 403, 'another member\'s service is not for this role to read')
  const form = await c.get(`${page(CIVIL_SERVICE)}/edit`)
  t.equal(form.status, 403)
  const civilTag = (await rig.call('GET', `/admin/v1/services/${CIVIL_SERVICE}`, { token: rig.tokens.sa })).headers.etag as string
  await refusedAndUnchanged(t, c, `${page(CIVIL_SERVICE)}/edit`, { _etag: civilTag, _reason: 'x', _action: 'save', 'adapter.url': 'http://evil.example/', timeoutMs: '5000', bodyLogging: 'digest', responseValidation: 'enforce' },
    () => api(`/services/${CIVIL_SERVICE}`))
  await refusedAndUnchanged(t, c, `${page(CIVIL_SERVICE)}/disable`, { _etag: civilTag, _reason: 'x', notice: 'no' }, () => api(`/services/${CIVIL_SERVICE}`))
  const newForm = await c.get('/console/services/new')
  t.match(newForm.text, /<option value="AL-DEV\/NJQV\/L21603004L\/taksat-vendore"/)
  t.notMatch(newForm.text, new RegExp(`<option value="${CIVIL}`), 'providers are its own member\'s only')
  const inst = await c.get('/console/institutions')
  t.notMatch(inst.text, /Drejtoria e Përgjithshme e Gjendjes Civile/)
})

t.test('an observer sees no create or edit controls and is refused when posting anyway', async t => {
  const c = clients.obs
  const list = await c.get('/console/services')
  t.equal(list.status, 200)
  t.notMatch(list.text, /\/console\/services\/new/)
  t.notMatch(list.text, /\/edit"/)
  const detail = await c.get(page(TIRANA_SERVICE))
  t.notMatch(detail.text, /<form method="post" action="[^"]*\/(disable|enable)"/)
  const inst = await c.get('/console/institutions/AL-DEV:NJQV:L21603004L')
  t.equal(inst.status, 200)
  t.notMatch(inst.text, /\/rename"|\/subsystems"|\/remove"/)
  const off = await c.get('/console/officials?member=AL-DEV:NJQV:L21603004L')
  t.notMatch(off.text, /<form method="post" action="\/console\/officials/)
  const tag = (await rig.call('GET', `/admin/v1/services/${TIRANA_SERVICE}`, { token: rig.tokens.sa })).headers.etag as string
  await refusedAndUnchanged(t, c, `${page(TIRANA_SERVICE)}/disable`, { _etag: tag, _reason: 'x', notice: 'closed' }, () => api(`/services/${TIRANA_SERVICE}`))
  await refusedAndUnchanged(t, c, '/console/services/new', { ...newService, code: 'observer-made', _etag: '*', _action: 'save' } as unknown as Record<string, string>, () => api('/services'))
  const memberTag = (await rig.call('GET', '/admin/v1/members/AL-DEV:NJQV:L21603004L', { token: rig.tokens.sa })).headers.etag as string
  await refusedAndUnchanged(t, c, '/console/institutions/AL-DEV:NJQV:L21603004L/rename', { _etag: memberTag, _reason: 'x', name: 'Renamed' }, () => api('/members/AL-DEV:NJQV:L21603004L'))
  await refusedAndUnchanged(t, c, '/console/officials/AL-DEV:NJQV:L21603004L', { _etag: '*', _reason: 'x', nid: nid('J', '90101002'), name: 'X', role: 'Y', validUntil: '2030-01-01' }, () => api('/members/AL-DEV:NJQV:L21603004L/officials'))
})
