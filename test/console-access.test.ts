/**
 * The access rights page over real TLS: the clients × services matrix (endpoint columns for REST
 * services) in Albanian and English, filtered; a cell set to allow, deny or nothing through the
 * admin API keeping every other grant of the service; a stale form refused and shown again; access
 * requests asked by e-Albania's scoped service administrator for a newly registered municipality's
 * service, approved and refused by that municipality's administrator; and the roles: an observer
 * sees no control and is refused each form, Tirana's administrator cannot grant on the civil
 * registry's service.
 */
import t, { type Test } from 'tap'
import { tokenSha256 } from '../admin/auth.ts'
import { CIVIL, E_ALBANIA_CLIENT, TIRANA, type AdminRig } from './support/admin.ts'
import type { ConsoleClient } from './support/console.ts'
import { formOf, signedIn, startConsoleRig } from './support/console-signins.ts'
import { applicant, encode, parts, withCheckLetter } from './support/onboarding.ts'

const E_ALBANIA = 'AL-DEV/GOV/K11503002N'
const KERKO = `${CIVIL}/regjistri-civil/kerkoShtetas`
const TAXES = `${TIRANA}/taksat-vendore/detyrimet`
const DURRES = 'AL-DEV/NJQV/M51305009K/ndihma-sociale'

let rig: AdminRig
t.before(async () => {
  rig = await startConsoleRig({
    seed: c => { c.operators.push({ id: 'svc-ealbania', name: 'e-Albania', roles: [{ role: 'service-administrator', member: E_ALBANIA }], tokens: [{ id: 'svc-ealbania-test', sha256: tokenSha256('x'.repeat(40)), createdAt: '2026-01-01T00:00:00Z' }] }) },
  })
})
t.teardown(() => rig.close())

let sa: ConsoleClient
t.before(async () => { sa = await signedIn(t, rig, 'sa') })

const grantsOf = async (service: string): Promise<Array<{ clients: string[]; groups: string[]; endpoints?: Array<{ method: string; path: string }>; effect?: string }>> =>
  (await rig.call('GET', `/admin/v1/grants/${service.replaceAll('/', ':')}`, { token: rig.tokens.sa })).json.entries

/** Posts the cell form of `client` in the column of `service` (and endpoint) on the page. */
async function postCell (t: Test, c: ConsoleClient, page: string, client: string, service: string, endpoint: { method: string; path: string } | undefined, change: string, reason = 'prova'): Promise<ReturnType<ConsoleClient['post']>> {
  const f = formOf(page, '/console/access/grant', `name="client" value="${client}"`, `name="service" value="${service}"`, `name="method" value="${endpoint?.method ?? ''}"`, `name="path" value="${endpoint?.path ?? ''}"`)
  t.ok(f, `the cell form of ${client} on ${service} ${endpoint?.path ?? ''}`)
  return c.post('/console/access/grant', { ...f!, change, _reason: reason })
}

t.test('the matrix shows allow, through-group and endpoint rights in both languages, and filters', async t => {
  const sq = await sa.get('/console/access')
  t.equal(sq.status, 200)
  t.match(sq.text, /<h1>Të drejtat e aksesit<\/h1>/)
  t.match(sq.text, /<th scope="col">Klienti<\/th>/)
  t.match(sq.text, /<code>GET \/subjekte\/\*\/detyrime<\/code>/, 'a column per endpoint of the REST service')
  const row = (text: string, client: string): string => new RegExp(`<tr><th scope="row"><code>${client}</code></th>([\\s\\S]*?)</tr>`).exec(text)?.[1] ?? ''
  t.match(row(sq.text, E_ALBANIA_CLIENT), /<span class="badge ok">lejuar<\/span>/)
  t.match(row(sq.text, `${TIRANA}/gjendja-civile`), /lejuar · nëpërmjet grupit bashki-gjendje-civile/, 'a right through a group says so')
  t.match(row(sq.text, DURRES), /<span class="vh">asgjë<\/span>/, 'an empty cell says nothing in words too')
  const en = await sa.get('/console/access?lang=en')
  t.match(en.text, /<h1>Access rights<\/h1>/)
  t.match(row(en.text, E_ALBANIA_CLIENT), /<span class="badge ok">allowed<\/span>/)
  const tirana = await sa.get(`/console/access?provider=${encodeURIComponent(TIRANA)}`)
  t.notMatch(tirana.text, /kerkoShtetas<\/code>/, 'filtered by provider: the civil registry\'s column is gone')
  t.match(tirana.text, /detyrimet<\/code>/)
  const durres = await sa.get(`/console/access?clientMember=${encodeURIComponent('AL-DEV/NJQV/M51305009K')}&lang=sq`)
  t.match(durres.text, /<th scope="row"><code>AL-DEV\/NJQV\/M51305009K\/ndihma-sociale<\/code>/)
  t.notMatch(durres.text, /<th scope="row"><code>AL-DEV\/GOV/, 'filtered by client institution')
  const q = await sa.get('/console/access?q=e-alb')
  t.equal([...q.text.matchAll(/<th scope="row">/g)].length, 1, 'filtered by text')
})

t.test('grant, deny an endpoint and remove from the matrix: the API has exactly that, other grants intact', async t => {
  const before = await grantsOf(TAXES)
  const page = await sa.get('/console/access')
  const allowed = await postCell(t, sa, page.text, DURRES, TAXES, undefined, 'allow', 'Durrësi mbledh taksat')
  t.equal(allowed.status, 303)
  t.equal(allowed.location, '/console/access?provider=&clientMember=&q=')
  const after = await grantsOf(TAXES)
  // (the API writes an entry's empty group list out: the same grant)
  const normal = before.map(e => ({ ...e, groups: e.groups ?? [] }))
  t.same(after.slice(0, before.length), normal, 'e-Albania\'s endpoint grant is untouched')
  t.same(after.at(-1), { clients: [DURRES], groups: [] }, 'a whole-service allow for Durrës')
  const flash = await sa.get(allowed.location!)
  t.match(flash.text, /role="status">Aksesi i AL-DEV\/NJQV\/M51305009K\/ndihma-sociale te .* u ndryshua/)
  t.equal((await rig.store.current()).why, 'Durrësi mbledh taksat', 'the reason is the version\'s')

  const denied = await postCell(t, sa, flash.text, E_ALBANIA_CLIENT, TAXES, { method: 'POST', path: '/pagesa' }, 'deny')
  t.equal(denied.status, 303)
  const withDeny = await grantsOf(TAXES)
  t.same(withDeny[0], normal[0], 'the GET endpoints allow is kept')
  t.same(withDeny.at(-1), { clients: [E_ALBANIA_CLIENT], groups: [], endpoints: [{ method: 'POST', path: '/pagesa' }], effect: 'deny' })
  const shown = await sa.get('/console/access?q=e-albania&lang=en')
  t.match(shown.text, /<span class="badge bad">denied<\/span>/, 'the deny shows as text')

  const page2 = await sa.get('/console/access')
  const gone = await postCell(t, sa, page2.text, DURRES, TAXES, undefined, 'remove', 'Durrësi nuk ka më nevojë')
  t.equal(gone.status, 303)
  t.notOk((await grantsOf(TAXES)).some(e => e.clients.includes(DURRES)), 'revoked')
})

t.test('a form made on an older page is refused and shown again with what was typed', async t => {
  const old = await sa.get('/console/access')
  t.equal((await postCell(t, sa, old.text, DURRES, KERKO, undefined, 'allow')).status, 303)
  const stale = await postCell(t, sa, old.text, DURRES, KERKO, undefined, 'deny', 'arsye e shtypur')
  t.equal(stale.status, 412)
  t.match(stale.text, /role="alert"/)
  t.match(stale.text, /Admin\.PreconditionFailed/)
  t.match(stale.text, /value="arsye e shtypur"/, 'the reason typed is kept')
  t.match(stale.text, /<option value="deny" selected>/, 'the choice is kept')
  const again = formOf(stale.text, '/console/access/grant')!
  t.equal((await sa.post('/console/access/grant', { ...again, client: DURRES, change: 'deny', _reason: 'arsye e shtypur' })).status, 303, 'the form shown again is on the current ETag')
  t.ok((await grantsOf(KERKO)).some(e => e.effect === 'deny' && e.clients.includes(DURRES)))
  const bad = await sa.post('/console/access/grant', { ...formOf((await sa.get(`/console/access/grant?service=${encodeURIComponent(KERKO)}`)).text, '/console/access/grant')!, client: 'jo-nje-id', change: 'allow', _reason: 'x' })
  t.equal(bad.status, 400)
  t.match(bad.text, /class="field invalid"><label for="g-client">/, 'the problem is next to the client field')
})

t.test('an observer sees the matrix without controls and is refused each form', async t => {
  const obs = await signedIn(t, rig, 'obs')
  const page = await obs.get('/console/access')
  t.equal(page.status, 200)
  t.match(page.text, /lejuar/)
  t.notMatch(page.text, /action="\/console\/access\/grant"/, 'no cell forms')
  t.notMatch(page.text, /action="\/console\/access\/requests"/, 'no request form')
  t.notMatch(page.text, /Shto një klient/)
  const v = (await rig.store.current()).version
  const etag = (await rig.call('GET', `/admin/v1/grants/${TAXES.replaceAll('/', ':')}`, { token: rig.tokens.sa })).headers.etag as string
  const grant = await obs.post('/console/access/grant', { client: DURRES, service: TAXES, method: '', path: '', change: 'allow', _etag: etag, _reason: 'x', back: '/console/access' })
  t.equal(grant.status, 403)
  t.match(grant.text, /Admin\.Forbidden/)
  t.equal((await rig.store.current()).version, v, 'no grant changed')
  t.equal((await obs.post('/console/access/requests', { client: E_ALBANIA_CLIENT, service: TAXES, purpose: 'x', _etag: '*', _reason: 'x' })).status, 403)
  const asked = await rig.call('POST', '/admin/v1/access-requests', { token: rig.tokens.sa, body: { client: DURRES, service: TAXES, purpose: 'ndihma sociale' }, headers: { 'if-match': '*', 'x-ura-reason': 'x' } })
  t.equal(asked.status, 201)
  const pending = await obs.get('/console/access')
  t.match(pending.text, asked.json.id, 'the observer sees the pending request')
  t.notMatch(pending.text, `action="/console/access/requests/${asked.json.id as string}/approve"`, 'without decision forms')
  const v1 = (await rig.store.current()).version
  const etagOf = (await rig.call('GET', `/admin/v1/access-requests/${asked.json.id as string}`, { token: rig.tokens.sa })).headers.etag as string
  t.equal((await obs.post(`/console/access/requests/${asked.json.id as string}/approve`, { _etag: etagOf, _reason: 'x' })).status, 403)
  t.equal((await obs.post(`/console/access/requests/${asked.json.id as string}/refuse`, { _etag: etagOf, _reason: 'x' })).status, 403)
  t.equal((await rig.store.current()).version, v1, 'no decision')
})

t.test('Tirana\'s service administrator changes Tirana\'s grants only', async t => {
  const tirana = await signedIn(t, rig, 'svc-tirana')
  const page = await tirana.get('/console/access')
  t.equal(page.status, 200)
  t.ok(formOf(page.text, '/console/access/grant', `name="service" value="${TAXES}"`), 'a control on its own service')
  t.notOk(formOf(page.text, '/console/access/grant', `name="service" value="${KERKO}"`), 'none on the civil registry\'s')
  const etag = (await rig.call('GET', `/admin/v1/grants/${KERKO.replaceAll('/', ':')}`, { token: rig.tokens.sa })).headers.etag as string
  const v = (await rig.store.current()).version
  const posted = await tirana.post('/console/access/grant', { client: `${TIRANA}/gjendja-civile`, service: KERKO, method: '', path: '', change: 'allow', _etag: etag, _reason: 'x', back: '/console/access' })
  t.equal(posted.status, 403)
  t.equal((await tirana.get(`/console/access/grant?service=${encodeURIComponent(KERKO)}`)).status, 403)
  t.equal((await rig.store.current()).version, v)
})

t.test('e-Albania asks for a new municipality\'s service; its administrator approves one request and refuses another', async t => {
  // A municipality applies, is approved, and publishes two services.
  const nipt = withCheckLetter('K61512033')
  const member = `AL-DEV/NJQV/${nipt}`
  const form = await encode(parts(applicant(nipt, { systems: ['arkiva'], services: [] }).fields))
  const applied = await rig.call('POST', '/public/v1/applications', { raw: form.body, headers: { 'content-type': form.contentType } })
  t.equal(applied.status, 201)
  const read = await rig.call('GET', `/admin/v1/applications/${applied.json.id as string}`, { token: rig.tokens.ro })
  t.equal((await rig.call('POST', `/admin/v1/applications/${applied.json.id as string}/approve`, { token: rig.tokens.ro, headers: { 'if-match': read.headers.etag as string, 'x-ura-reason': 'ok' } })).status, 200)
  for (const code of ['dokumente', 'regjistrat']) {
    const s = await rig.call('POST', '/admin/v1/services', { token: rig.tokens.sa, body: { provider: `${member}/arkiva`, code, type: 'rest', adapter: { kind: 'rest', url: 'http://127.0.0.1:9/x' } }, headers: { 'if-match': '*', 'x-ura-reason': 'shërbim i ri' } })
    t.equal(s.status, 201)
  }
  const dokumente = `${member}/arkiva/dokumente`
  const regjistrat = `${member}/arkiva/regjistrat`

  const ea = await signedIn(t, rig, 'svc-ealbania')
  const page = await ea.get('/console/access')
  t.equal(page.status, 200)
  t.match(page.text, /<option>AL-DEV\/GOV\/K11503002N\/e-albania<\/option>/, 'its own system to ask for')
  t.notMatch(page.text, /<option>AL-DEV\/NJQV\/L21603004L/, 'not another member\'s')
  const ask = formOf(page.text, '/console/access/requests')!
  const unknown = await ea.post('/console/access/requests', { ...ask, client: E_ALBANIA_CLIENT, service: `${member}/arkiva/nuk-ka`, endpoints: '', purpose: 'qëllimi i shtypur', _reason: 'kërkesë' })
  t.equal(unknown.status, 400)
  t.match(unknown.text, /class="field invalid"><label for="ask-service">/, 'the API\'s problem is next to the service')
  t.match(unknown.text, /qëllimi i shtypur<\/textarea>/, 'what was typed is kept')
  for (const service of [dokumente, regjistrat]) {
    const asked = await ea.post('/console/access/requests', { ...ask, client: E_ALBANIA_CLIENT, service, endpoints: '', purpose: 'dokumente për qytetarët', _reason: 'kërkesë' })
    t.equal(asked.status, 303)
    t.match((await ea.get('/console/access')).text, /u dërgua te ofruesi/)
  }
  const requests = (await rig.call('GET', '/admin/v1/access-requests?state=pending', { token: rig.tokens.sa })).json.items as Array<{ id: string; service: string; client: string; requestedBy: string }>
  const mine = requests.filter(r => r.requestedBy === 'svc-ealbania')
  t.same(mine.map(r => [r.client, r.service]), [[E_ALBANIA_CLIENT, dokumente], [E_ALBANIA_CLIENT, regjistrat]])
  t.notOk(formOf(page.text, `/console/access/requests/${mine[0].id}/approve`), 'the client\'s side does not decide')

  const admin = await signedIn(t, rig, `${nipt.toLowerCase()}-admin`)
  const provider = await admin.get('/console/access')
  t.equal(provider.status, 200)
  const approve = formOf(provider.text, `/console/access/requests/${mine[0].id}/approve`)
  t.ok(approve, 'the provider sees the request with its decision forms')
  t.equal((await admin.post(`/console/access/requests/${mine[0].id}/approve`, { ...approve!, _reason: 'e-Albania shërben qytetarët' })).status, 303)
  const granted = await grantsOf(dokumente)
  t.same(granted, [{ clients: [E_ALBANIA_CLIENT], groups: [] }], 'the grant is in the API')
  const matrix = await admin.get('/console/access')
  t.match(matrix.text, /Kërkesa .* u miratua/)
  t.match(matrix.text, /<span class="badge ok">miratuar<\/span>/, 'among the latest decisions')

  const refuse = formOf(matrix.text, `/console/access/requests/${mine[1].id}/refuse`)!
  const blank = await admin.post(`/console/access/requests/${mine[1].id}/refuse`, { ...refuse, _reason: '' })
  t.equal(blank.status, 400, 'refusing needs a reason')
  t.match(blank.text, /role="alert"/)
  t.equal((await admin.post(`/console/access/requests/${mine[1].id}/refuse`, { ...refuse, _reason: 'regjistrat nuk jepen jashtë bashkisë' })).status, 303)
  const refused = await rig.call('GET', `/admin/v1/access-requests/${mine[1].id}`, { token: rig.tokens.sa })
  t.equal(refused.json.state, 'refused')
  t.equal(refused.json.reason, 'regjistrat nuk jepen jashtë bashkisë')
  t.same(await grantsOf(regjistrat), [], 'no grant')
})
