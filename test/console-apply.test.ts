/**
 * The public application form and status page (`/apliko…`) over real TLS: the form in both
 * languages, NIPT and NID refused beside their fields with the typed values kept, the check step
 * showing each CSR's subject (and one naming another NIPT), a whole application sent through the
 * public API (the officer sees it, with the letter byte for byte), the status page before and after
 * approval, the certificate download, the console sign-in created once and then used, CSRF, the rate
 * limit, and no status token in any URL.
 */
import { X509Certificate } from 'node:crypto'
import t from 'tap'
import { createConsole } from '../admin/console/index.ts'
import { NIPT_PATTERN } from '../admin/console/pages/apply-checks.ts'
import { CONSOLE_PAGES, PUBLIC_PAGES } from '../admin/console/pages/index.ts'
import { publicOnboarding } from '../admin/public-onboarding.ts'
import { totpCode } from '../admin/totp.ts'
import { startAdminRig, type AdminRig } from './support/admin.ts'
import { ConsoleClient, type Page } from './support/console.ts'
import { csr, PDF, withCheckLetter } from './support/onboarding.ts'

let clock = Date.now()
const now = (): Date => new Date(clock)
let rig: AdminRig

const NIPT = withCheckLetter('K91200014')
const MEMBER = `AL-DEV/NJQV/${NIPT}`
const OTHER = withCheckLetter('K91200027')
const NID = 'I50314123V'

t.before(async () => {
  rig = await startAdminRig({ publicPlugins: [publicOnboarding()], console: createConsole({ pages: CONSOLE_PAGES, publicPages: PUBLIC_PAGES, now: () => clock }), now })
})
t.teardown(() => rig.close())

/** Every page any test read, to look for the status token in URLs at the end. */
const seen: Page[] = []
class Client extends ConsoleClient {
  override async send (method: string, path: string, body?: string | FormData, headers?: Record<string, string>): Promise<Page> {
    const page = await super.send(method, path, body, headers)
    seen.push(page)
    return page
  }
}
const client = (): Client => new Client(rig.url, rig.caPem)

const fieldsOf = (nipt: string): Record<string, string> => ({
  'institution.name': 'Bashkia Provë',
  'institution.nipt': nipt,
  'institution.memberClass': 'NJQV',
  'employee.name': 'Elira Hoxha',
  'employee.position': 'Përgjegjëse e IT',
  'employee.nid': NID,
  'employee.email': 'elira.hoxha@bashkia-prove.gov.al',
  'employee.phone': '+355 67 212 3456',
  'systems[0].code': 'arkiva',
  'systems[0].name': 'Arkiva',
  services: 'AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas',
})

function form (c: ConsoleClient, fields: Record<string, string>, files: Record<string, { text: string | Buffer; name: string; type: string }> = {}): FormData {
  const f = new FormData()
  f.append('_csrf', c.csrf)
  for (const [k, v] of Object.entries(fields)) f.append(k, v)
  for (const [k, v] of Object.entries(files)) f.append(k, new Blob([typeof v.text === 'string' ? v.text : new Uint8Array(v.text)], { type: v.type }), v.name)
  return f
}

const letter = { text: PDF, name: 'kerkesa.pdf', type: 'application/pdf' }
const pemFile = (pem: string, name = 'csr.pem'): { text: string; name: string; type: string } => ({ text: pem, name, type: 'application/x-pem-file' })

/** An input's attribute by its name. */
function inputOf (text: string, name: string): string {
  const m = new RegExp(`<(?:input|select|textarea)[^>]*name="${name.replace(/[[\].]/g, '\\$&')}"[^>]*>`).exec(text)
  return m?.[0] ?? ''
}

async function applications (): Promise<Array<{ id: string; institution?: { nipt: string } }>> {
  return (await rig.call('GET', '/admin/v1/applications', { token: rig.tokens.ro })).json.items
}

t.test('the form renders in Albanian and in English, every input labelled, NIPT and NID with the schema\'s patterns', async t => {
  const c = client()
  const sq = await c.get('/apliko')
  t.equal(sq.status, 200)
  t.match(sq.text, /<html lang="sq">/)
  t.match(sq.text, /ura · Aplikimi për anëtarësim/)
  t.match(sq.text, /<h1>Aplikim për anëtarësim<\/h1>/)
  t.match(sq.text, /enctype="multipart\/form-data"/)
  t.match(sq.headers['content-security-policy'], /default-src 'none'/)
  t.ok(inputOf(sq.text, 'institution.nipt').includes(`pattern="${NIPT_PATTERN}"`), 'the NIPT input has the core schema\'s pattern')
  t.match(inputOf(sq.text, 'employee.nid'), /pattern="\^\(\[A-T\]/)
  t.match(inputOf(sq.text, 'institution.name'), /required/)
  t.match(inputOf(sq.text, 'institution.name'), /maxlength="300"/)
  t.match(inputOf(sq.text, 'letter'), /type="file"[^>]*required/)
  t.match(inputOf(sq.text, 'systems[0].csr'), /type="file"/)
  const ids = [...sq.text.matchAll(/<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*id="([^"]+)"/g)].map(m => m[1])
  t.ok(ids.length >= 18)
  for (const id of ids) t.match(sq.text, `<label for="${id}">`, `input ${id} has a label`)
  t.equal([...sq.text.matchAll(/<fieldset>/g)].length, [...sq.text.matchAll(/<legend>/g)].length, 'every fieldset has its legend')
  const en = await c.get('/apliko?lang=en')
  t.match(en.text, /<html lang="en">/)
  t.match(en.text, /ura · Application to join/)
  t.match(en.text, /<h1>Application to join<\/h1>/)
  t.match(en.text, /The sealed letter/)
  await c.close()
})

t.test('a wrong NIPT and a wrong NID are refused beside their fields; the typed values stay; nothing is sent', async t => {
  const before = (await applications()).length
  const c = client()
  await c.get('/apliko')
  const bad = { ...fieldsOf('K91200014X'), 'employee.nid': 'I50314123A' }
  const page = await c.send('POST', '/apliko', form(c, { ...bad, step: 'submit' }, { 'systems[0].csr': pemFile(csr(`${MEMBER}/arkiva`).pem), letter }))
  t.equal(page.status, 400)
  const nipt = inputOf(page.text, 'institution.nipt')
  t.match(nipt, /value="K91200014X"/, 'the typed NIPT is kept')
  t.match(nipt, /aria-invalid="true"/)
  t.match(nipt, /aria-describedby="[^"]*f-institution-nipt-error/)
  t.match(page.text, /<p class="problem" id="f-institution-nipt-error">Shkronja e kontrollit nuk përputhet[^<]*should be/)
  t.match(inputOf(page.text, 'employee.nid'), /value="I50314123A"/)
  t.match(page.text, /<p class="problem" id="f-employee-nid-error">Shkronja e kontrollit nuk përputhet/)
  t.match(inputOf(page.text, 'employee.name'), /value="Elira Hoxha"/, 'other values are kept')
  t.match(inputOf(page.text, 'employee.email'), /value="elira.hoxha@bashkia-prove.gov.al"/)
  t.match(page.text, /zgjidhni përsëri letrën/, 'files must be chosen again, and the page says so')
  t.notMatch(page.text, /f-employee-name-error/, 'right fields carry no message')
  const shape = await c.send('POST', '/apliko?lang=en', form(c, { ...fieldsOf('12345'), step: 'check' }))
  t.equal(shape.status, 200)
  t.match(shape.text, /id="f-institution-nipt-error">A NIPT is a letter A–M/)
  t.equal((await applications()).length, before, 'no application was made')
  await c.close()
})

let applicationId = ''
let statusToken = ''

t.test('the check step shows each CSR\'s subject and flags one naming another NIPT; the submit gives a receipt once', async t => {
  const c = client()
  await c.get('/apliko')
  const system = csr(`${MEMBER}/arkiva`)
  const foreign = csr(`AL-DEV/NJQV/${OTHER}`)
  const check = await c.send('POST', '/apliko', form(c, { ...fieldsOf(NIPT), step: 'check' }, { 'systems[0].csr': pemFile(system.pem), sealCsr: pemFile(foreign.pem) }))
  t.equal(check.status, 200)
  t.match(check.text, `serialNumber=${MEMBER}/arkiva, CN=${MEMBER}/arkiva`, 'the subject is shown')
  t.match(check.text, `<span class="badge ok">Përputhet me ${MEMBER}/arkiva</span>`)
  t.match(check.text, `serialNumber=AL-DEV/NJQV/${OTHER}`)
  t.match(check.text, `<span class="badge bad">Nuk përputhet: duhet të emërtojë ${MEMBER}</span>`, 'the CSR naming another NIPT is flagged')
  t.notMatch(check.text, /Të gjitha CSR-të përputhen/)
  t.match(inputOf(check.text, 'institution.nipt'), `value="${NIPT}"`)
  const kept = /name="systems\[0\]\.csr\.kept" value="([^"]+)"/.exec(check.text)
  t.ok(kept, 'the system CSR rides along to the next step')

  // Submit from the check page: the system's CSR as kept, a right e-seal CSR chosen now, the letter.
  const seal = csr(MEMBER)
  const done = await c.send('POST', '/apliko', form(c, { ...fieldsOf(NIPT), 'systems[0].csr.kept': kept![1], step: 'submit' }, { sealCsr: pemFile(seal.pem), letter }))
  t.equal(done.status, 303, done.text.slice(0, 2000))
  t.equal(done.location, '/apliko/deftesa')
  const receipt = await c.get('/apliko/deftesa')
  t.equal(receipt.status, 200)
  const id = /<dt>Numri i aplikimit<\/dt><dd><code>(ap-[0-9a-f]+)<\/code>/.exec(receipt.text)
  const token = /<code class="secret">(uas_[A-Za-z0-9_-]{43})<\/code>/.exec(receipt.text)
  t.ok(id && token, 'the receipt shows the number and the status token')
  t.match(receipt.text, /shfaqet vetëm këtë herë/, 'with the instruction to keep it')
  applicationId = id![1]
  statusToken = token![1]
  t.equal((await c.get('/apliko/deftesa')).status, 404, 'the receipt is shown once')

  const officer = await rig.call('GET', `/admin/v1/applications/${applicationId}`, { token: rig.tokens.ro })
  t.equal(officer.status, 200)
  t.equal(officer.json.state, 'submitted')
  t.equal(officer.json.institution.nipt, NIPT)
  t.equal(officer.json.employee.nid, NID)
  t.equal(officer.json.systems[0].code, 'arkiva')
  t.equal(officer.json.systems[0].csr.trim(), system.pem.trim(), 'the CSR checked is the CSR sent')
  t.same(officer.json.services, ['AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas'])
  const pdf = await rig.call('GET', `/admin/v1/applications/${applicationId}/letter`, { token: rig.tokens.ro })
  t.equal(pdf.status, 200)
  t.equal(Buffer.from(pdf.text, 'latin1').equals(PDF), true, 'the letter is byte-identical')
  const trail = await rig.call('GET', '/admin/v1/audit?action=application.submit', { token: rig.tokens.sa })
  t.ok(trail.json.items.some((r: { operator: string }) => r.operator === `applicant:${applicationId}`), 'the public API recorded the submission')

  // The same NIPT again: the API's refusal lands beside the NIPT.
  const again = await c.send('POST', '/apliko', form(c, { ...fieldsOf(NIPT), step: 'submit' }, { 'systems[0].csr': pemFile(csr(`${MEMBER}/arkiva`).pem), letter }))
  t.equal(again.status, 409)
  t.match(again.text, /id="f-institution-nipt-error">[^<]*Onboarding.ApplicationPending/)
  await c.close()
})

t.test('the status page: submitted, then approved with the certificates to download and the console sign-in to create', async t => {
  const c = client()
  const ask = await c.get('/apliko/statusi')
  t.equal(ask.status, 200)
  t.match(inputOf(ask.text, 'token'), /type="password"/)
  t.match(ask.text, /<form method="post" action="\/apliko\/statusi"/)
  const wrong = await c.post('/apliko/statusi', { application: applicationId, token: `uas_${'x'.repeat(43)}` })
  t.equal(wrong.status, 401)
  t.match(wrong.text, /nuk është i saktë/)
  const submitted = await c.post('/apliko/statusi', { application: applicationId, token: statusToken })
  t.equal(submitted.status, 200)
  t.match(submitted.text, /<span class="badge warn">Dorëzuar — në pritje të vendimit<\/span> <code>submitted<\/code>/)
  t.notMatch(submitted.text, /certifikatat"/, 'no download before approval')
  t.notMatch(submitted.text, /action="\/apliko\/statusi\/hyrja"/)

  const read = await rig.call('GET', `/admin/v1/applications/${applicationId}`, { token: rig.tokens.ro })
  const approved = await rig.call('POST', `/admin/v1/applications/${applicationId}/approve`, { token: rig.tokens.ro, headers: { 'if-match': read.headers.etag as string, 'x-ura-reason': 'dokumentet në rregull' } })
  t.equal(approved.status, 200, approved.text)

  const issued = await c.post('/apliko/statusi?lang=en', { application: applicationId, token: statusToken })
  t.equal(issued.status, 200)
  t.match(issued.text, /Approved — the certificates are ready<\/span> <code>issued<\/code>/)
  t.match(issued.text, `<code>${MEMBER}/arkiva</code>`)
  t.match(issued.text, /action="\/apliko\/statusi\/certifikatat"/)
  const download = await c.post('/apliko/statusi/certifikatat', { application: applicationId, token: statusToken })
  t.equal(download.status, 200)
  t.match(download.headers['content-disposition'], `attachment; filename="${applicationId}-certifikatat.pem"`)
  t.match(download.headers['content-type'], /application\/x-pem-file/)
  const pems = download.text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []
  t.equal(pems.length, 3, 'the system\'s TLS certificate, the e-seal, the CA')
  const tls = new X509Certificate(pems[0]!)
  t.match(tls.subject, `CN=${MEMBER}/arkiva`, 'the PEM parses and names the system')
  const active = await c.post('/apliko/statusi', { application: applicationId, token: statusToken })
  t.match(active.text, /<code>active<\/code>/)

  // The console sign-in of the new member's operator: once.
  const username = 'elira.hoxha'
  const password = 'një fjalëkalim i gjatë 2026'
  const mismatch = await c.post('/apliko/statusi/hyrja', { application: applicationId, token: statusToken, username, password, password2: 'something else entirely' })
  t.equal(mismatch.status, 400)
  t.match(mismatch.text, /id="f-password-error">Dy fjalëkalimet nuk janë të njëjta/)
  const created = await c.post('/apliko/statusi/hyrja', { application: applicationId, token: statusToken, username, password, password2: password })
  t.equal(created.status, 201, created.text.slice(0, 3000))
  const secret = /<code class="secret">([A-Z2-7]{16,64})<\/code>/.exec(created.text)
  t.ok(secret, 'the TOTP secret is shown')
  t.match(created.text, `otpauth://totp/ura%3A${username}?secret=${secret![1]}`)
  t.match(created.text, /aplikacionin tuaj të autentifikimit/)
  const second = await c.post('/apliko/statusi/hyrja', { application: applicationId, token: statusToken, username: 'another.name', password, password2: password })
  t.equal(second.status, 409, 'a second creation is refused')
  t.match(second.text, /Onboarding.SignInAlreadySet/)
  const later = await c.post('/apliko/statusi', { application: applicationId, token: statusToken })
  t.match(later.text, /Hyrja në konsolë është krijuar tashmë/)
  t.notMatch(later.text, /action="\/apliko\/statusi\/hyrja"/)

  const operator = await rig.call('GET', `/admin/v1/operators/${NIPT.toLowerCase()}-admin`, { token: rig.tokens.sa })
  t.equal(operator.json.login.username, username)
  t.notMatch(operator.text, /scrypt|totpSecret/)
  const outbox = await rig.call('GET', '/admin/v1/outbox', { token: rig.tokens.sa })
  t.ok(outbox.json.items.some((n: { subject: string }) => n.subject === `Console sign-in set for operator ${NIPT.toLowerCase()}-admin`), 'the security officers are told')

  // Signing in with it: the operator lands on the console as the new member's service administrator.
  const s = client()
  await s.get('/console/signin')
  const first = await s.post('/console/signin', { username, password, next: '/console' })
  t.equal(first.status, 303)
  await s.get(first.location!)
  const code = await s.post('/console/signin/code', { code: totpCode(secret![1], now()), next: '/console' })
  t.equal(code.status, 303)
  t.equal(code.location, '/console')
  const home = await s.get('/console')
  t.equal(home.status, 200)
  t.match(home.text, /Elira Hoxha/)
  t.match(home.text, `service-administrator@${MEMBER}`)
  await s.close()
  await c.close()
})

t.test('the public API: the sign-in endpoint refuses a wrong token, a short password, and a second attempt', async t => {
  const send = async (token: string, fields: Record<string, string>): Promise<{ status: number; json: any }> => {
    const f = new FormData()
    for (const [k, v] of Object.entries(fields)) f.append(k, v)
    const r = new Response(f)
    const res = await rig.call('POST', `/public/v1/applications/${applicationId}/login`, { token, raw: Buffer.from(await r.arrayBuffer()), headers: { 'content-type': r.headers.get('content-type')! } })
    return { status: res.status, json: res.json }
  }
  t.equal((await send(`uas_${'y'.repeat(43)}`, { username: 'x.y', password: 'long enough password' })).json.type, 'Onboarding.InvalidStatusToken')
  const short = await send(statusToken, { username: 'x.y', password: 'short' })
  t.equal(short.status, 400)
  t.equal(short.json.type, 'Onboarding.InvalidSignIn')
  t.equal((await send(statusToken, { username: 'x.y', password: 'long enough password', extra: '1' })).json.type, 'Onboarding.InvalidSignIn')
  const twice = await send(statusToken, { username: 'x.y', password: 'long enough password' })
  t.equal(twice.status, 409)
  t.equal(twice.json.type, 'Onboarding.SignInAlreadySet')
})

t.test('forms without their CSRF token are refused', async t => {
  const c = client()
  await c.get('/apliko')
  const noToken = new FormData()
  for (const [k, v] of Object.entries(fieldsOf(withCheckLetter('K91200035')))) noToken.append(k, v)
  const refused = await c.send('POST', '/apliko', noToken)
  t.equal(refused.status, 403)
  t.match(refused.text, /Formulari ka skaduar/)
  const status = await c.post('/apliko/statusi', { application: applicationId, token: statusToken }, { csrf: false })
  t.equal(status.status, 403)
  const fresh = client()
  t.equal((await fresh.post('/apliko/statusi/certifikatat', { application: applicationId, token: statusToken })).status, 403, 'no session, no token')
  await c.close()
  await fresh.close()
})

t.test('the status token is never in a URL: not in a Location, a link or a form action', async t => {
  t.ok(seen.length > 10)
  for (const page of seen) {
    t.notOk(page.location?.includes(statusToken) === true || page.location?.includes('uas_') === true, `Location ${page.location ?? ''}`)
    for (const m of page.text.matchAll(/(?:href|action|src)="([^"]*)"/g)) if (m[1].includes('uas_')) t.fail(`a URL carries a token: ${m[1]}`)
  }
  const trail = await rig.call('GET', '/admin/v1/audit?action=application.login', { token: rig.tokens.sa })
  t.ok(trail.json.items.length >= 2, 'the sign-in creation and its refusals are in the audit trail')
  t.notMatch(JSON.stringify(trail.json), statusToken)
})

t.test('the pages\' form posts are rate-limited per address', async t => {
  const c = client()
  await c.get('/apliko/statusi')
  let limited: Page | undefined
  for (let i = 0; i < 30 && limited === undefined; i++) {
    const p = await c.post('/apliko/statusi', { application: 'ap-none', token: '' })
    if (p.status === 429) limited = p
  }
  t.ok(limited, 'the address is slowed down')
  t.match(limited!.headers['retry-after'], /^[0-9]+$/)
  t.match(limited!.text, /Admin.RateLimited/)
  t.equal((await c.get('/apliko/statusi')).status, 200, 'reading the pages is not limited')
  await c.close()
})
