/**
 * Onboarding as operators run it, over HTTPS on the real admin listener with its public endpoints
 * mounted: an institution applies; a registration officer lists and reads the application, downloads
 * the sealed letter and approves it (member, subsystems and certificates from the node's CA in one
 * registry version); the applicant downloads its certificates and takes its API token; with that
 * token the new member's service administrator publishes a service; e-Albania's service
 * administrator asks for access, another member's cannot decide it, the new member's approves and
 * the grant is in the registry; a security officer revokes a certificate; the outbox tells it all,
 * newest first; the applicant's actions are in the admin audit trail.
 */
import { randomBytes, sign, verify, X509Certificate } from 'node:crypto'
import t, { type Test } from 'tap'
import { tokenSha256 } from '../admin/auth.ts'
import { publicOnboarding } from '../admin/public-onboarding.ts'
import { Keystore } from '../certs/keystore.ts'
import { splitPemCertificates } from '../certs/pki.ts'
import { E_ALBANIA_CLIENT, startAdminRig, TIRANA, type AdminRig, type Answer } from './support/admin.ts'
import { TEST_PASSPHRASE } from './support/gateway.ts'
import { applicant, encode, parts, PDF, withCheckLetter } from './support/onboarding.ts'

const E_ALBANIA = 'AL-DEV/GOV/K11503002N'
const EALBANIA_TOKEN = `ura_svc-ealbania-test_${randomBytes(32).toString('hex')}`
const NIPT = withCheckLetter('K61512033')
const MEMBER = `AL-DEV/NJQV/${NIPT}`

let rig: AdminRig
t.before(async () => {
  rig = await startAdminRig({
    publicPlugins: [publicOnboarding()],
    seed: c => {
      c.operators.push({ id: 'svc-ealbania', name: 'e-Albania', roles: [{ role: 'service-administrator', member: E_ALBANIA }], tokens: [{ id: 'svc-ealbania-test', sha256: tokenSha256(EALBANIA_TOKEN), createdAt: '2026-01-01T00:00:00Z' }] })
    },
  })
})
t.teardown(() => rig.close())

const version = async (): Promise<number> => (await rig.store.current()).version
const as = (operator: string): { token: string } => ({ token: rig.tokens[operator] })
const write = (ifMatch: string, why = 'prova'): Record<string, string> => ({ 'if-match': ifMatch, 'x-ura-reason': why })
const ok = (t: Test, res: Answer, status: number, what: string): void => { t.equal(res.status, status, `${what}: ${status}`, { body: res.text.slice(0, 500) }) }

t.test('apply, approve, take the certificates and the token, publish a service, grant access through a request, revoke', async t => {
  // The institution applies on the public endpoint of the admin listener.
  const a = applicant(NIPT, { systems: ['arkiva'] })
  const form = await encode(parts(a.fields))
  const v0 = await version()
  const applied = await rig.call('POST', '/public/v1/applications', { raw: form.body, headers: { 'content-type': form.contentType } })
  ok(t, applied, 201, 'apply')
  const { id, statusToken } = applied.json as { id: string; statusToken: string }
  t.equal(await version(), v0 + 1)
  const statusAuth = { authorization: `Bearer ${statusToken}` }

  // The registration officer lists and reads it: personal data in the application, not in the list.
  const list = await rig.call('GET', '/admin/v1/applications?state=submitted', as('ro'))
  ok(t, list, 200, 'list')
  const summary = list.json.items.find((x: { id: string }) => x.id === id)
  t.equal(summary?.state, 'submitted')
  t.notOk('employee' in summary, 'no personal data in the list')
  t.same((await rig.call('GET', '/admin/v1/applications?state=rejected', as('ro'))).json.items, [], 'filtered by state')
  const read = await rig.call('GET', `/admin/v1/applications/${id}`, as('ro'))
  ok(t, read, 200, 'read')
  t.equal(read.json.employee.email, 'elira.hoxha@bashkia-prove.gov.al', 'the employee is in the application')
  t.notOk('statusTokenSha256' in read.json, 'never the status token\'s hash')
  t.equal((await rig.call('GET', `/admin/v1/applications/${id}`, as('svc'))).status, 403, 'a service administrator may not read applications')

  const letter = await rig.call('GET', read.json.letter.href, as('ro'))
  ok(t, letter, 200, 'letter')
  t.equal(letter.headers['content-type'], 'application/pdf')
  t.equal(letter.text, PDF.toString('latin1'), 'the sealed letter as sent')
  t.match(letter.headers['content-disposition'], `filename="${id}.pdf"`)

  // Approval: one version with the member, its subsystem and certificates from the node's CA.
  const before = await version()
  t.equal((await rig.call('POST', `/admin/v1/applications/${id}/approve`, { ...as('ro'), headers: write('"stale"') })).json.type, 'Admin.PreconditionFailed', 'If-Match is checked')
  const approved = await rig.call('POST', `/admin/v1/applications/${id}/approve`, { ...as('ro'), headers: write(read.headers.etag as string, 'dokumentet në rregull') })
  ok(t, approved, 200, 'approve')
  t.equal(approved.json.state, 'issued')
  t.equal(approved.json.member, MEMBER)
  t.equal(await version(), before + 1, 'approval is one version')
  const v = await rig.store.current()
  t.equal(v.who, 'ro')
  t.equal(v.why, 'dokumentet në rregull')
  const member = v.content.members.find(m => m.code === NIPT)
  t.same(member?.subsystems.map(s => [s.code, s.connection]), [['arkiva', 'mtls']], 'the member and its subsystem are registered')
  const ca = new X509Certificate(rig.caPem)
  const issued = v.content.certificates.filter(c => c.application === id)
  t.same(issued.map(c => [c.role, c.owner]), [['tls', `${MEMBER}/arkiva`], ['sign', MEMBER]])
  for (const c of issued) t.ok(new X509Certificate(c.pem).verify(ca.publicKey), `${c.role}: signed by the node's CA`)
  t.same(member?.subsystems[0].certificates, [issued[0].fingerprint], 'the subsystem pins its certificate')

  // The applicant takes its certificates (with the node's CA) and its one API token.
  const bundle = await rig.call('GET', `/public/v1/applications/${id}/certificates`, { headers: statusAuth })
  ok(t, bundle, 200, 'certificates')
  t.same(splitPemCertificates(bundle.text).map(p => new X509Certificate(p).serialNumber), [...issued.map(c => c.serial), ca.serialNumber])
  const taken = await rig.call('POST', `/public/v1/applications/${id}/token`, { headers: statusAuth })
  ok(t, taken, 201, 'token')
  const memberToken = taken.json.token as string

  // With that token, the new member's service administrator publishes a service of its subsystem.
  const me = await rig.call('GET', '/admin/v1/me', { token: memberToken })
  t.same(me.json.roles, [{ role: 'service-administrator', member: MEMBER }])
  const service = { provider: `${MEMBER}/arkiva`, code: 'dokumente', type: 'rest', adapter: { kind: 'rest', url: 'http://127.0.0.1:9/dokumente' } }
  const serviceText = `${MEMBER}/arkiva/dokumente`
  ok(t, await rig.call('POST', '/admin/v1/services', { token: memberToken, body: service, headers: write('*') }), 201, 'publish a service')
  t.equal((await rig.call('POST', '/admin/v1/services', { token: memberToken, body: { ...service, provider: `${TIRANA}/x` }, headers: write('*') })).status, 403, 'not for another member')

  // e-Albania's service administrator asks for access for its system.
  const asked = await rig.call('POST', '/admin/v1/access-requests', { token: EALBANIA_TOKEN, body: { client: E_ALBANIA_CLIENT, service: serviceText, purpose: 'dokumente të arkivës për qytetarët' }, headers: write('*') })
  ok(t, asked, 201, 'access request')
  const requestId = asked.json.id as string
  t.equal(asked.headers.location, `/admin/v1/access-requests/${requestId}`)
  t.equal((await rig.call('POST', '/admin/v1/access-requests', { token: EALBANIA_TOKEN, body: { client: `${TIRANA}/taksat-vendore`, service: serviceText, purpose: 'x' }, headers: write('*') })).status, 403, 'not for another member\'s client')
  t.same((await rig.call('GET', '/admin/v1/access-requests?state=pending', { token: EALBANIA_TOKEN })).json.items.map((r: { id: string }) => r.id), [requestId], 'the client side sees its request')

  // Another member's service administrator cannot decide it; the provider's does.
  const pending = await rig.call('GET', `/admin/v1/access-requests/${requestId}`, { token: memberToken })
  ok(t, pending, 200, 'the provider reads the request')
  const untouched = await version()
  const foreign = await rig.call('POST', `/admin/v1/access-requests/${requestId}/approve`, { ...as('svc-tirana'), headers: write(pending.headers.etag as string) })
  t.equal(foreign.status, 403)
  t.equal(foreign.json.type, 'Admin.Forbidden')
  t.equal((await rig.call('POST', `/admin/v1/access-requests/${requestId}/approve`, { token: EALBANIA_TOKEN, headers: write(pending.headers.etag as string) })).status, 403, 'nor the client\'s')
  t.equal(await version(), untouched, 'nothing changed')
  const granted = await rig.call('POST', `/admin/v1/access-requests/${requestId}/approve`, { token: memberToken, headers: write(pending.headers.etag as string, 'e-Albania shërben qytetarët') })
  ok(t, granted, 200, 'approve the request')
  t.equal(granted.json.state, 'approved')
  t.equal(await version(), untouched + 1, 'one version')
  t.ok((await rig.store.current()).content.access.some(g => g.service === serviceText && g.clients.includes(E_ALBANIA_CLIENT)), 'the grant is in the registry')
  const grants = await rig.call('GET', `/admin/v1/grants/${serviceText.replaceAll('/', ':')}`, { token: memberToken })
  t.match(grants.text, E_ALBANIA_CLIENT, 'and in the admin API')

  // A security officer revokes the system's certificate: a revocations entry, unpinned.
  const listed = await rig.call('GET', `/admin/v1/certificates?owner=${encodeURIComponent(`${MEMBER}/arkiva`)}`, as('sec'))
  ok(t, listed, 200, 'certificates')
  t.same(listed.json.items.map((c: { serial: string; state: string; daysLeft: number }) => [c.serial, c.state, c.daysLeft >= 364]), [[issued[0].serial, 'valid', true]], 'with days left and state')
  t.same((await rig.call('GET', '/admin/v1/certificates', { token: EALBANIA_TOKEN })).json.items, [], 'a scoped operator sees its own member\'s only')
  const cert = await rig.call('GET', `/admin/v1/certificates/${issued[0].serial}`, as('sec'))
  const revoked = await rig.call('POST', `/admin/v1/certificates/${issued[0].serial}/revoke`, { ...as('sec'), body: { reason: 'çelësi u humb' }, headers: write(cert.headers.etag as string) })
  ok(t, revoked, 200, 'revoke')
  t.equal(revoked.json.state, 'revoked')
  t.same(revoked.json.unpinned, [`subsystem NJQV/${NIPT}/arkiva`])
  const after = await rig.store.current()
  t.same(after.content.revocations.map(r => [r.serial, r.reason, r.revokedBy]), [[issued[0].serial, 'çelësi u humb', 'sec']])
  t.same((await rig.call('GET', '/admin/v1/revocations', as('obs'))).json.items.map((r: { serial: string }) => r.serial), [issued[0].serial])

  // The outbox, newest first, in pages.
  const page1 = await rig.call('GET', '/admin/v1/outbox?limit=2', as('ro'))
  ok(t, page1, 200, 'outbox')
  t.equal(page1.json.items[0].about, `certificate:${issued[0].serial}`, 'the newest notice first: the revocation')
  t.equal(page1.json.items.length, 2)
  const page2 = await rig.call('GET', `/admin/v1/outbox?limit=100&before=${page1.json.next as string}`, as('ro'))
  const all = [...page1.json.items, ...page2.json.items]
  t.equal(all.length, after.content.outbox.length, 'the pages hold every notice once')
  t.same(all.map((m: { position: number }) => m.position), after.content.outbox.map((_m, i) => i + 1).reverse())
  const toApplicant = (await rig.call('GET', `/admin/v1/outbox?to=${encodeURIComponent('elira.hoxha@bashkia-prove.gov.al')}`, as('ro'))).json.items
  t.same(toApplicant.map((m: { subject: string }) => m.subject.split(':')[0]).reverse(), [`Application ${id} received`, `Application ${id} approved`, `API token issued for operator ${NIPT.toLowerCase()}-admin`].map(s => s.split(':')[0]), 'what the applicant was told, in order')

  // The applicant's actions are in the admin audit trail, under its application.
  const audited = await rig.trail.list({ operator: `applicant:${id}` })
  t.same(audited.map(r => [r.action, r.result]), [['application.submit', 'allowed'], ['application.certificates', 'allowed'], ['application.token', 'allowed']])
  const approval = await rig.trail.list({ action: 'application.approve' })
  t.same(approval.map(r => [r.operator, r.role, r.result]), [['ro', 'registration-officer', 'refused'], ['ro', 'registration-officer', 'allowed']])
})

t.test('a rejected application cannot be approved; the public endpoints answer in the admin API\'s shape', async t => {
  const form = await encode(parts(applicant(withCheckLetter('M41920087')).fields))
  const applied = await rig.call('POST', '/public/v1/applications', { raw: form.body, headers: { 'content-type': form.contentType } })
  ok(t, applied, 201, 'apply')
  const id = applied.json.id as string
  const read = await rig.call('GET', `/admin/v1/applications/${id}`, as('ro'))
  const rejected = await rig.call('POST', `/admin/v1/applications/${id}/reject`, { ...as('ro'), body: { reason: 'NIPT-i nuk përputhet me QKB' }, headers: write(read.headers.etag as string) })
  ok(t, rejected, 200, 'reject')
  t.equal(rejected.json.reason, 'NIPT-i nuk përputhet me QKB')
  const v = await version()
  const again = await rig.call('POST', `/admin/v1/applications/${id}/approve`, { ...as('ro'), headers: write(rejected.headers.etag as string) })
  t.equal(again.status, 409)
  t.same(Object.keys(again.json).sort(), ['detail', 'message', 'type'])
  t.equal(again.json.type, 'Onboarding.InvalidState')
  t.equal(again.json.detail.requestId, again.headers['x-request-id'])
  t.equal(await version(), v, 'nothing changed')
  const status = await rig.call('GET', `/public/v1/applications/${id}`, { headers: { authorization: `Bearer ${applied.json.statusToken as string}` } })
  t.equal(status.json.state, 'rejected')
  const wrong = await rig.call('GET', `/public/v1/applications/${id}`, { headers: { authorization: 'Bearer uas_nope' } })
  t.equal(wrong.status, 401)
  t.same({ type: wrong.json.type, requestId: wrong.json.detail.requestId }, { type: 'Onboarding.InvalidStatusToken', requestId: wrong.headers['x-request-id'] })
  const refused = await rig.trail.list({ operator: `applicant:${id}`, action: 'application.submit' })
  t.equal(refused.length, 1, 'the submission is in the trail')
  t.same((await rig.trail.list({ action: 'application.approve', target: `application ${id}` })).map(r => [r.result, r.errorCode]), [['refused', 'Onboarding.InvalidState']], 'the refusal too, with its code')
})

t.test('without an e-seal CSR the node makes the member\'s seal key at approval and signs with it', async t => {
  const nipt = withCheckLetter('L72016044')
  const member = `AL-DEV/NJQV/${nipt}`
  const fields = { ...applicant(nipt).fields }
  delete fields.sealCsr
  const form = await encode(parts(fields))
  const applied = await rig.call('POST', '/public/v1/applications', { raw: form.body, headers: { 'content-type': form.contentType } })
  ok(t, applied, 201, 'apply without a seal CSR')
  const id = applied.json.id as string
  const read = await rig.call('GET', `/admin/v1/applications/${id}`, as('ro'))
  t.equal(read.json.sealCsr, undefined, 'the application carries no seal CSR')
  const approved = await rig.call('POST', `/admin/v1/applications/${id}/approve`, { ...as('ro'), headers: write(read.headers.etag as string) })
  ok(t, approved, 200, 'approve')
  const content = (await rig.store.current()).content
  const seal = content.certificates.find(c => c.owner === member && c.role === 'sign')
  t.ok(seal, 'an e-seal certificate was issued to the member')
  // A fresh view of the data directory, as the batch signer has: the key is there and matches the certificate.
  const keystore = new Keystore(rig.dataDir, { passphrase: TEST_PASSPHRASE })
  const identity = keystore.signingIdentity(member)
  t.equal(identity.certificate.serialNumber.replace(/^0+/, ''), seal!.serial.replace(/^0+/, ''), 'the keystore holds the issued seal')
  const signature = sign(null, Buffer.from('prova'), identity.key)
  t.ok(verify(null, Buffer.from('prova'), new X509Certificate(seal!.pem).publicKey, signature), 'and its key signs for it')
  t.equal(identity.chainPem.length, 2, 'the chain ends with the node CA')
})
