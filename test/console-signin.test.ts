/**
 * Signing in to the console over real TLS: password and TOTP (RFC 6238) or the operator
 * certificate, the CSRF token on every form, the lockout after five failures, session expiry,
 * sign-out, the security headers of every page, and the console's API calls recognised only when
 * they come from the console itself. Each sign-in and refusal is in the audit trail.
 */
import t, { type Test } from 'tap'
import { createConsole } from '../admin/console/index.ts'
import { CONSOLE_PAGES, PUBLIC_PAGES } from '../admin/console/pages/index.ts'
import { totpCode } from '../admin/totp.ts'
import { startAdminRig, type AdminRig } from './support/admin.ts'
import { ConsoleClient } from './support/console.ts'

// Real time (certificates the rig issues are valid from now), moved forward by the tests.
let clock = Date.now()
const now = (): Date => new Date(clock)
let rig: AdminRig
const logins: Record<string, { password: string; totpSecret: string }> = {}

t.before(async () => {
  rig = await startAdminRig({ console: createConsole({ pages: CONSOLE_PAGES, publicPages: PUBLIC_PAGES, now: () => clock }), now })
  for (const id of ['sa', 'obs', 'ro']) {
    const password = `correct horse ${id} battery`
    const res = await rig.call('PUT', `/admin/v1/operators/${id}/login`, { token: rig.tokens.sa, body: { username: `${id}.user`, password }, headers: { 'x-ura-reason': 'console test', 'if-match': await etag(id) } })
    if (res.status !== 200) throw new Error(`login for ${id}: ${res.status} ${res.text}`)
    logins[id] = { password, totpSecret: res.json.totpSecret }
  }
})
t.teardown(() => rig.close())

async function etag (id: string): Promise<string> {
  return (await rig.call('GET', `/admin/v1/operators/${id}`, { token: rig.tokens.sa })).headers.etag as string
}

const client = (cert?: { key: string; cert: string }): ConsoleClient => new ConsoleClient(rig.url, rig.caPem, cert)

/** Signs `id` in with password and code; answers the client. */
async function signIn (t: Test, id: string, step = 0): Promise<ConsoleClient> {
  const c = client()
  await c.get('/console/signin')
  const first = await c.post('/console/signin', { username: `${id}.user`, password: logins[id].password, next: '/console' })
  t.equal(first.status, 303, 'password accepted')
  t.match(first.location, /^\/console\/signin\/code/)
  await c.get(first.location!)
  const code = totpCode(logins[id].totpSecret, new Date(clock + step * 30_000))
  const done = await c.post('/console/signin/code', { code, next: '/console' })
  t.equal(done.status, 303, 'code accepted')
  t.equal(done.location, '/console')
  return c
}

t.test('the API shows a sign-in exists, never its secrets; the answer setting it shows the TOTP secret once', async t => {
  const res = await rig.call('GET', '/admin/v1/operators/sa', { token: rig.tokens.sa })
  t.same(res.json.login, { username: 'sa.user', secondFactor: 'totp', setAt: new Date(clock).toISOString().replace(/\.\d{3}Z$/, 'Z') })
  t.notMatch(res.text, /scrypt|totpSecret/)
  // Nor do the registry's versions or the audit trail's before/after, which every observer may read.
  const node = await rig.call('GET', '/admin/v1/node', { token: rig.tokens.obs })
  const version = await rig.call('GET', `/admin/v1/versions/${node.json.registry.version}`, { token: rig.tokens.obs })
  t.equal(version.status, 200)
  t.ok(version.json.content.operators.some((o: { login?: { passwordHash: string } }) => o.login?.passwordHash === '(hidden)'))
  t.notMatch(version.text, /scrypt\$|[A-Z2-7]{32}/)
  const change = await rig.call('GET', '/admin/v1/audit?action=operator.login', { token: rig.tokens.obs })
  const detail = await rig.call('GET', `/admin/v1/audit/${change.json.items[0].seq}`, { token: rig.tokens.obs })
  t.equal(detail.json.verified, true)
  t.equal(detail.json.after.login.totpSecret, '(hidden)')
  t.notMatch(detail.text, /scrypt\$|[A-Z2-7]{32}/)
  const bad = await rig.call('PUT', '/admin/v1/operators/obs/login', { token: rig.tokens.sa, body: { username: 'sa.user', password: 'another long password' }, headers: { 'x-ura-reason': 'x', 'if-match': await etag('obs') } })
  t.equal(bad.status, 409, 'a username is one operator\'s')
  const short = await rig.call('PUT', '/admin/v1/operators/obs/login', { token: rig.tokens.sa, body: { username: 'obs.user', password: 'short' }, headers: { 'x-ura-reason': 'x', 'if-match': await etag('obs') } })
  t.equal(short.status, 400)
  const notAdmin = await rig.call('PUT', '/admin/v1/operators/obs/login', { token: rig.tokens.sec, body: { username: 'obs.user', password: 'another long password' }, headers: { 'x-ura-reason': 'x', 'if-match': await etag('obs') } })
  t.equal(notAdmin.status, 403, 'only a system administrator sets sign-ins')
})

t.test('pages need a session; the sign-in page is in Albanian by default, English on the switch, with strict headers', async t => {
  const c = client()
  const page = await c.get('/console/services')
  t.equal(page.status, 303)
  t.equal(page.location, '/console/signin?next=%2Fconsole%2Fservices')
  const form = await c.get('/console/signin')
  t.equal(form.status, 200)
  t.match(form.text, /<html lang="sq">/)
  t.match(form.text, /Hyrja në konsolë/)
  t.match(form.headers['content-security-policy'], /default-src 'none'; style-src 'self'/)
  t.notMatch(form.headers['content-security-policy'], /script-src|unsafe/)
  t.equal(form.headers['x-frame-options'], 'DENY')
  t.equal(form.headers['cache-control'], 'no-store')
  t.match(form.headers['set-cookie'], /__Host-ura-session=.*; Path=\/; Expires=.*; HttpOnly; Secure; SameSite=Strict/)
  const en = await c.get('/console/signin?lang=en')
  t.match(en.text, /<html lang="en">/)
  t.match(en.text, /Sign in to the console/)
  t.match((await c.get('/console/signin')).text, /<html lang="en">/, 'the choice is remembered')
  await c.close()
})

t.test('password, then TOTP code: the operator is in, the API sees the session, and the audit trail has it', async t => {
  const c = await signIn(t, 'sa')
  const home = await c.get('/console')
  t.equal(home.status, 200)
  t.match(home.text, /Test operator sa/)
  t.match(home.text, /system-administrator/)
  t.match(home.text, /href="\/console\/audit"/, 'the menu shows what the roles may read')
  const trail = await rig.call('GET', '/admin/v1/audit?action=session.open', { token: rig.tokens.sa })
  t.ok(trail.json.items.some((r: { operator: string; result: string }) => r.operator === 'sa' && r.result === 'allowed'))
  const reads = await rig.call('GET', '/admin/v1/audit?operator=sa&action=node.read', { token: rig.tokens.sa })
  t.ok(reads.json.items.length >= 1, 'the overview read the node through the API, as sa')
  // The same code a second time: refused (no replay), even in a new session.
  const again = client()
  await again.get('/console/signin')
  await again.post('/console/signin', { username: 'sa.user', password: logins.sa.password })
  await again.get('/console/signin/code')
  const replay = await again.post('/console/signin/code', { code: totpCode(logins.sa.totpSecret, now()) })
  t.equal(replay.status, 401)
  t.match(replay.text, /Kodi nuk është i saktë ose është përdorur tashmë/)
  const out = await c.post('/console/signout', {})
  t.equal(out.status, 303)
  t.equal((await c.get('/console')).status, 303, 'signed out: back to the sign-in')
  await c.close()
  await again.close()
})

t.test('forms without their CSRF token are refused before anything happens', async t => {
  const c = client()
  await c.get('/console/signin')
  const none = await c.post('/console/signin', { username: 'sa.user', password: logins.sa.password }, { csrf: false })
  t.equal(none.status, 403)
  t.match(none.text, /Formulari ka skaduar/)
  const forged = await c.post('/console/signin', { _csrf: 'x'.repeat(40), username: 'sa.user', password: logins.sa.password })
  t.equal(forged.status, 403)
  const fresh = client()
  const noSession = await fresh.post('/console/signin', { username: 'sa.user', password: logins.sa.password })
  t.equal(noSession.status, 403, 'no session, no token')
  await c.close()
  await fresh.close()
})

t.test('five failures lock the username for 15 minutes, whatever is typed next', async t => {
  const c = client()
  await c.get('/console/signin')
  for (let i = 0; i < 4; i++) {
    const bad = await c.post('/console/signin', { username: 'ro.user', password: 'wrong password here' })
    t.equal(bad.status, 401)
    t.match(bad.text, /Emri i përdoruesit ose fjalëkalimi nuk është i saktë/)
  }
  const fifth = await c.post('/console/signin', { username: 'ro.user', password: 'wrong password here' })
  t.equal(fifth.status, 429)
  const right = await c.post('/console/signin', { username: 'ro.user', password: logins.ro.password })
  t.equal(right.status, 429, 'locked: even the right password')
  t.match(right.text, /bllokuar deri më/)
  const unknown = await c.post('/console/signin', { username: 'nobody', password: 'whatever it is' })
  t.equal(unknown.status, 401, 'an unknown username is answered like a wrong password')
  clock += 16 * 60_000
  const later = await c.post('/console/signin', { username: 'ro.user', password: logins.ro.password })
  t.equal(later.status, 303, 'the lock opens after 15 minutes')
  await c.close()
})

t.test('sessions end after 30 idle minutes', async t => {
  const c = await signIn(t, 'obs', 1)
  t.equal((await c.get('/console')).status, 200)
  clock += 29 * 60_000
  t.equal((await c.get('/console')).status, 200, 'still in after 29 minutes')
  clock += 31 * 60_000
  const gone = await c.get('/console')
  t.equal(gone.status, 303)
  t.match(gone.location, /^\/console\/signin/)
  await c.close()
})

t.test('the operator certificate signs in; unpinning it ends the session at the next request', async t => {
  const cert = rig.operatorCertificate('Vëzhguesi me certifikatë')
  const pin = await rig.call('PUT', '/admin/v1/operators/obs/certificates', { token: rig.tokens.sa, body: { certificates: [cert.fingerprint] }, headers: { 'x-ura-reason': 'test', 'if-match': (await rig.call('GET', '/admin/v1/operators/obs', { token: rig.tokens.sa })).headers.etag as string } })
  t.equal(pin.status, 200)
  const c = client({ key: cert.key, cert: cert.cert })
  await c.get('/console/signin')
  const inn = await c.post('/console/signin/certificate', {})
  t.equal(inn.status, 303)
  const home = await c.get('/console')
  t.equal(home.status, 200)
  t.match(home.text, /observer/)
  const withoutCert = client()
  await withoutCert.get('/console/signin')
  const refused = await withoutCert.post('/console/signin/certificate', {})
  t.equal(refused.status, 401)
  t.match(refused.text, /Certifikata nuk u pranua/)
  const unpin = await rig.call('PUT', '/admin/v1/operators/obs/certificates', { token: rig.tokens.sa, body: { certificates: [] }, headers: { 'x-ura-reason': 'test', 'if-match': (await rig.call('GET', '/admin/v1/operators/obs', { token: rig.tokens.sa })).headers.etag as string } })
  t.equal(unpin.status, 200)
  const after = await c.get('/console')
  t.equal(after.status, 401, 'the API refuses the session of an unpinned certificate')
  t.match(after.text, /no longer pinned/)
  await c.close()
  await withoutCert.close()
})

t.test('the session header from the network is refused by the API', async t => {
  const res = await rig.call('GET', '/admin/v1/me', { headers: { 'x-ura-session': 'guess.guess' } })
  t.equal(res.status, 401)
  t.equal(res.json.type, 'Admin.Unauthenticated')
  const unknownPath = await client().get('/console/nowhere')
  t.equal(unknownPath.status, 303, 'unknown console paths need a session too')
})

// Last in the file: it spends this address's sign-in budget.
t.test('one address may post 60 sign-in steps at once, then one a second', async t => {
  const c = client()
  await c.get('/console/signin')
  let first429 = 0
  let retryAfter: unknown
  for (let i = 1; i <= 80 && first429 === 0; i++) {
    const res = await c.post('/console/signin/code', { code: '000000' })
    if (res.status === 429) { first429 = i; retryAfter = res.headers['retry-after'] }
  }
  t.ok(first429 > 30 && first429 <= 61, `refused from about the 61st post (at ${first429}; earlier tests used some)`)
  t.equal(retryAfter, '1')
  const page = await c.post('/console/signin', { username: 'sa.user', password: logins.sa.password })
  t.equal(page.status, 429, 'the password step too, before any scrypt work')
  t.match(page.text, /Admin\.RateLimited/)
  await c.close()
})
