/**
 * The certificates page over real TLS: issuing from an uploaded CSR file (multipart) and from a
 * pasted PEM, a refusal shown next to the field with what was typed kept, the list sorted by expiry
 * with its badges, revoking with a reason and the revocations list; an observer sees no control and
 * is refused each form.
 */
import t, { type Test } from 'tap'
import { TIRANA, type AdminRig } from './support/admin.ts'
import type { ConsoleClient } from './support/console.ts'
import { formOf, signedIn, startConsoleRig } from './support/console-signins.ts'
import { csr } from './support/onboarding.ts'

const OWNER = `${TIRANA}/taksat-vendore`

let rig: AdminRig
let sec: ConsoleClient
t.before(async () => {
  rig = await startConsoleRig()
  sec = await signedIn(t, rig, 'sec')
})
t.teardown(() => rig.close())

/** Posts the issue form as a browser does (multipart), the CSR as a file or pasted. */
async function issue (t: Test, c: ConsoleClient, fields: Record<string, string>, file?: string): Promise<Awaited<ReturnType<ConsoleClient['send']>>> {
  const page = await c.get('/console/certificates?lang=sq')
  const state = formOf(page.text, '/console/certificates')
  t.ok(state, 'the issue form is there')
  const form = new FormData()
  for (const [k, v] of Object.entries({ ...state!, ...fields })) form.append(k, v)
  form.append('csrFile', new Blob(file === undefined ? [] : [file], { type: 'application/pkcs10' }), file === undefined ? '' : 'kerkesa.csr')
  return c.send('POST', '/console/certificates', form)
}

let serial = ''
t.test('issue from an uploaded CSR; the API has it; the list shows it with its badge', async t => {
  const made = await issue(t, sec, { role: 'tls', owner: OWNER, csr: '', days: '', _reason: 'certifikatë e re për taksat' }, csr(OWNER).pem)
  t.equal(made.status, 303)
  serial = /^\/console\/certificates\/([0-9A-F]+)$/.exec(made.location ?? '')?.[1] ?? ''
  t.ok(serial, 'redirected to the new certificate')
  const api = await rig.call('GET', `/admin/v1/certificates/${serial}`, { token: rig.tokens.sec })
  t.same([api.json.owner, api.json.role, api.json.state], [OWNER, 'tls', 'valid'])
  t.equal((await rig.store.current()).why, 'certifikatë e re për taksat')
  const page = await sec.get(made.location!)
  t.match(page.text, /Certifikata [0-9A-F]+ u lëshua/)
  t.match(page.text, /-----BEGIN CERTIFICATE-----/)
  const list = await sec.get('/console/certificates')
  t.match(list.text, new RegExp(`<code>${serial}</code></a></th><td>TLS i sistemit</td><td><code>${OWNER}</code></td><td>[^<]+</td><td><span class="badge ok">e vlefshme</span>`))
})

t.test('a pasted PEM that names another system is refused next to the field, what was typed kept; a short one shows expiring', async t => {
  const other = csr(`${TIRANA}/gjendja-civile`).pem
  const wrong = await issue(t, sec, { role: 'tls', owner: OWNER, csr: other, days: '', _reason: 'prova' })
  t.equal(wrong.status, 400)
  t.match(wrong.text, /Onboarding\.CsrSubjectMismatch/)
  t.match(wrong.text, /class="field invalid"><label for="i-file">/, 'the problem is by the CSR')
  t.match(wrong.text, 'BEGIN CERTIFICATE REQUEST', 'the pasted PEM is kept')
  t.match(wrong.text, /value="prova"/)
  const short = await issue(t, sec, { role: 'tls', owner: `${TIRANA}/gjendja-civile`, csr: other, days: '10', _reason: 'provë e shkurtër' })
  t.equal(short.status, 303)
  const list = await sec.get('/console/certificates')
  t.match(list.text, /<span class="badge warn">skadon për 9 ditë<\/span>/)
  t.ok(list.text.indexOf('skadon për 9 ditë') < list.text.indexOf(`<code>${serial}</code>`), 'sorted by expiry: the short one first')
  const en = await sec.get('/console/certificates?lang=en')
  t.match(en.text, /<span class="badge warn">expires in 9 days<\/span>/)
  await sec.get('/console/certificates?lang=sq')
})

t.test('revoke with a reason; the API and the revocations list have it', async t => {
  const page = await sec.get(`/console/certificates/${serial}`)
  const form = formOf(page.text, `/console/certificates/${serial}/revoke`)
  t.ok(form, 'a revoke form')
  const done = await sec.post(`/console/certificates/${serial}/revoke`, { ...form!, _reason: 'çelësi u humb' })
  t.equal(done.status, 303)
  const api = await rig.call('GET', `/admin/v1/certificates/${serial}`, { token: rig.tokens.sec })
  t.equal(api.json.state, 'revoked')
  t.equal(api.json.revocation.reason, 'çelësi u humb')
  const after = await sec.get(done.location!)
  t.match(after.text, /<span class="badge bad">e revokuar<\/span>/)
  t.notOk(formOf(after.text, `/console/certificates/${serial}/revoke`), 'no second revocation')
  const again = await sec.post(`/console/certificates/${serial}/revoke`, { ...form!, _reason: 'sërish' })
  t.equal(again.status, 412, 'a form from before the revocation is refused')
  const list = await sec.get('/console/certificates')
  t.match(list.text, new RegExp(`<h2>Revokimet</h2>[\\s\\S]*<code>${serial}</code>[\\s\\S]*çelësi u humb`))
})

t.test('an observer sees no issue or revoke control and is refused both', async t => {
  const obs = await signedIn(t, rig, 'obs')
  const list = await obs.get('/console/certificates')
  t.equal(list.status, 200)
  t.notOk(formOf(list.text, '/console/certificates'), 'no issue form')
  const certs = (await rig.call('GET', '/admin/v1/certificates?state=expiring', { token: rig.tokens.sec })).json.items as Array<{ serial: string }>
  const target = certs[0].serial
  const page = await obs.get(`/console/certificates/${target}`)
  t.equal(page.status, 200)
  t.notMatch(page.text, /action="\/console\/certificates\/[0-9A-F]+\/revoke"/, 'no revoke form')
  const v = (await rig.store.current()).version
  const form = new FormData()
  form.append('_csrf', obs.csrf)
  for (const [k, val] of Object.entries({ role: 'tls', owner: OWNER, csr: csr(OWNER).pem, _etag: '*', _reason: 'x' })) form.append(k, val)
  t.equal((await obs.send('POST', '/console/certificates', form)).status, 403)
  const etag = (await rig.call('GET', `/admin/v1/certificates/${target}`, { token: rig.tokens.sec })).headers.etag as string
  const revoke = await obs.post(`/console/certificates/${target}/revoke`, { _etag: etag, _reason: 'x' })
  t.equal(revoke.status, 403)
  t.match(revoke.text, /Admin\.Forbidden/)
  t.equal((await rig.store.current()).version, v, 'nothing changed')
})
