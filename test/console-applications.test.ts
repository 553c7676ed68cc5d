/**
 * The applications pages over real TLS: the queue by state; an application's detail with the
 * employee, each CSR's subject, key type and checks (✓ and ✗, in words), the sealed letter
 * downloaded through the console byte for byte; approval and rejection with a reason, seen in the
 * API; an observer reads but sees no control and is refused each form.
 */
import { createHash } from 'node:crypto'
import t from 'tap'
import type { AdminRig } from './support/admin.ts'
import type { ConsoleClient } from './support/console.ts'
import { formOf, signedIn, startConsoleRig } from './support/console-signins.ts'
import { applicant, csr, encode, parts, PDF, withCheckLetter } from './support/onboarding.ts'

const SEEDED = 'ap-seeded-wrong-csr'

let rig: AdminRig
let ro: ConsoleClient
t.before(async () => {
  rig = await startConsoleRig({
    // An application whose CSR names another system (the public form refuses it; a registry edited by hand may hold it).
    seed: c => {
      c.applications.push({
        id: SEEDED, state: 'submitted', submittedAt: '2026-01-02T10:00:00Z', statusTokenSha256: createHash('sha256').update('x').digest('hex'),
        institution: { name: 'Bashkia Gabim', nipt: withCheckLetter('J91234567'), memberClass: 'NJQV' },
        employee: { name: 'Besa Kola', position: 'IT', nid: 'I50314123V', email: 'besa@example.al', phone: '+355672123456' },
        systems: [{ code: 'arkiva', csr: csr('AL-DEV/NJQV/J00000000X/tjeter').pem }],
      })
    },
  })
  ro = await signedIn(t, rig, 'ro')
})
t.teardown(() => rig.close())

async function apply (nipt: string): Promise<string> {
  const form = await encode(parts(applicant(nipt, { systems: ['arkiva'], services: [] }).fields))
  const applied = await rig.call('POST', '/public/v1/applications', { raw: form.body, headers: { 'content-type': form.contentType } })
  if (applied.status !== 201) throw new Error(applied.text)
  return applied.json.id as string
}

t.test('the queue, the detail with CSR checks, the letter byte for byte, and approval with the certificates\' serials', async t => {
  const nipt = withCheckLetter('K61512033')
  const id = await apply(nipt)
  const list = await ro.get('/console/applications?state=submitted')
  t.equal(list.status, 200)
  t.match(list.text, `href="/console/applications/${id}"`)
  t.match(list.text, /<span class="badge warn">në pritje<\/span>/)
  t.notMatch((await ro.get('/console/applications?state=rejected')).text, id, 'filtered by state')

  const page = await ro.get(`/console/applications/${id}`)
  t.equal(page.status, 200)
  t.match(page.text, 'Elira Hoxha', 'the authorised employee')
  t.match(page.text, `serialNumber=AL-DEV/NJQV/${nipt}/arkiva, CN=AL-DEV/NJQV/${nipt}/arkiva`, 'the system CSR\'s subject')
  t.match(page.text, `serialNumber=AL-DEV/NJQV/${nipt}, CN=AL-DEV/NJQV/${nipt}`, 'the e-seal CSR\'s subject')
  t.match(page.text, /<td>ECDSA P-256<\/td>/)
  t.equal([...page.text.matchAll(/<span class="badge ok">✓ në rregull<\/span>/g)].length, 8, 'four checks for each of the two CSRs, passed')
  t.notMatch(page.text, /✗/)
  const en = await ro.get(`/console/applications/${id}?lang=en`)
  t.match(en.text, /✓ passed<\/span> CN names the id/)
  await ro.get('/console?lang=sq')

  const letter = await ro.get(`/console/applications/${id}/letter`)
  t.equal(letter.status, 200)
  t.equal(letter.headers['content-type'], 'application/pdf')
  t.match(letter.headers['content-disposition'], /^attachment; filename="ap[^"]*\.pdf"$/)
  t.equal(Buffer.from(letter.text, 'utf8').equals(PDF), true, 'byte-identical')

  const approve = formOf(page.text, `/console/applications/${id}/approve`)!
  t.ok(approve, 'a registration officer may approve')
  const done = await ro.post(`/console/applications/${id}/approve`, { ...approve, _reason: 'dokumentet në rregull' })
  t.equal(done.status, 303)
  const api = await rig.call('GET', `/admin/v1/applications/${id}`, { token: rig.tokens.ro })
  t.equal(api.json.state, 'issued')
  t.equal((await rig.store.current()).why, 'dokumentet në rregull')
  const after = await ro.get(done.location!)
  t.match(after.text, /u miratua/)
  for (const c of api.json.certificates as Array<{ serial: string }>) t.match(after.text, `<code>${c.serial}</code>`, `serial ${c.serial} shown`)
  t.notOk(formOf(after.text, `/console/applications/${id}/approve`), 'no decision on a decided application')
})

t.test('a CSR naming another id is marked ✗ with what it names', async t => {
  const page = await ro.get(`/console/applications/${SEEDED}`)
  t.equal(page.status, 200)
  t.match(page.text, /<span class="badge bad">✗ gabim<\/span> serialNumber emërton identifikuesin: <code>AL-DEV\/NJQV\/J00000000X\/tjeter<\/code>/)
  t.match(page.text, /<span class="badge bad">✗ gabim<\/span> CN emërton identifikuesin/)
  t.match(page.text, /Pa CSR për vulën/)
})

t.test('rejection needs a reason; with one, the API has it', async t => {
  const id = await apply(withCheckLetter('M41920087'))
  const page = await ro.get(`/console/applications/${id}`)
  const reject = formOf(page.text, `/console/applications/${id}/reject`)!
  const blank = await ro.post(`/console/applications/${id}/reject`, { ...reject, _reason: ' ' })
  t.equal(blank.status, 400)
  t.match(blank.text, /role="alert"/)
  t.equal((await rig.call('GET', `/admin/v1/applications/${id}`, { token: rig.tokens.ro })).json.state, 'submitted')
  const done = await ro.post(`/console/applications/${id}/reject`, { ...reject, _reason: 'NIPT-i nuk përputhet me QKB' })
  t.equal(done.status, 303)
  const api = await rig.call('GET', `/admin/v1/applications/${id}`, { token: rig.tokens.ro })
  t.same([api.json.state, api.json.reason, api.json.decidedBy], ['rejected', 'NIPT-i nuk përputhet me QKB', 'ro'])
  t.match((await ro.get(`/console/applications/${id}`)).text, /<span class="badge bad">refuzuar<\/span>/)
})

t.test('an observer reads without controls and is refused; a service administrator may not read', async t => {
  const obs = await signedIn(t, rig, 'obs')
  const page = await obs.get(`/console/applications/${SEEDED}`)
  t.equal(page.status, 200)
  t.notMatch(page.text, /action="\/console\/applications\//, 'no approve or reject form')
  const etag = (await rig.call('GET', `/admin/v1/applications/${SEEDED}`, { token: rig.tokens.ro })).headers.etag as string
  const v = (await rig.store.current()).version
  t.equal((await obs.post(`/console/applications/${SEEDED}/approve`, { _etag: etag, _reason: 'x' })).status, 403)
  t.equal((await obs.post(`/console/applications/${SEEDED}/reject`, { _etag: etag, _reason: 'x' })).status, 403)
  t.equal((await rig.store.current()).version, v, 'nothing changed')
  const svc = await signedIn(t, rig, 'svc')
  const refused = await svc.get('/console/applications')
  t.equal(refused.status, 403)
  t.match(refused.text, /Admin\.Forbidden/)
})
