/**
 * Onboarding from end to end, over HTTP on a bare Fastify instance with a real registry store and a
 * real CA: an institution applies (multipart form with its CSRs and sealed letter), follows its
 * application with the status token, a registration officer approves (member, subsystems, pinned
 * certificates, e-seal, operator account, access requests: one version), the applicant downloads its
 * certificates (→ active) and takes its one API token; the provider approves the access request; a
 * second application is rejected with a reason; expiry notices and revocation follow.
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { decideAccessRequest } from '../admin/onboarding/access.ts'
import { revokeCertificate } from '../admin/onboarding/certificates.ts'
import { commitTransform } from '../admin/onboarding/commit.ts'
import { expiringCertificates, expiryNotices } from '../admin/onboarding/expiry.ts'
import { caIssuer } from '../admin/onboarding/issuer.ts'
import { approveApplication, rejectApplication } from '../admin/onboarding/lifecycle.ts'
import { fingerprintOf, identityOf, profileOf, splitPemCertificates } from '../certs/pki.ts'
import { RevocationList } from '../certs/revocation.ts'
import { applicant, call, CIVIL, INSTANCE, parts, PDF, serve, submit, withCheckLetter } from './support/onboarding.ts'

const DAY = 24 * 60 * 60 * 1000
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex')

t.test('an institution applies, is approved, downloads its certificates and takes its API token', async t => {
  const { base, store, ca, audited } = await serve(t)
  const nipt = withCheckLetter('K81305012')
  const member = `${INSTANCE}/NJQV/${nipt}`
  const a = applicant(nipt, { systems: ['arkiva', 'portali'] })
  const v0 = (await store.current()).version

  const submitted = await submit(base, parts(a.fields))
  t.equal(submitted.status, 201, submitted.text)
  const { id, statusToken, statusUrl } = submitted.json
  t.match(id, /^ap-[0-9a-f]{20}$/)
  t.match(statusToken, /^uas_[A-Za-z0-9_-]{43}$/)
  t.equal(statusUrl, `/public/v1/applications/${id}`)
  t.equal(submitted.headers.location, statusUrl)
  t.equal(submitted.headers['cache-control'], 'no-store', 'an answer with a secret is never cached')

  let v = await store.current()
  t.equal(v.version, v0 + 1, 'one version for the submission')
  t.equal(v.who, `applicant:${id}`)
  const record = v.content.applications.find(x => x.id === id)!
  t.equal(record.state, 'submitted')
  t.equal(record.statusTokenSha256, sha256(statusToken), 'only the SHA-256 of the status token is kept')
  t.notMatch(JSON.stringify(v.content), statusToken, 'the token itself is nowhere in the registry')
  t.same(record.institution, { name: 'Bashkia Provë', nipt, memberClass: 'NJQV', memberCode: nipt })
  t.equal(record.employee.phone, '+355672123456', 'the phone number is kept in E.164')
  t.same(record.services, [CIVIL])
  t.same(record.letter, { sha256: createHash('sha256').update(PDF).digest('hex'), bytes: PDF.length, filename: 'kerkesa.pdf' })
  const blob = await store.getBlob(record.letter!.sha256)
  t.same(blob?.bytes, PDF, 'the sealed letter is stored as a blob')
  t.equal(blob?.mediaType, 'application/pdf')
  const told = v.content.outbox.filter(m => m.about === `application:${id}`)
  t.same(told.map(m => m.to).sort(), [['elira.hoxha@bashkia-prove.gov.al'], ['operators:registration-officer']], 'the applicant and the registration officers are told')

  const auth = { authorization: `Bearer ${statusToken}` }
  let status = await call(`${base}${statusUrl}`, { headers: auth })
  t.equal(status.status, 200)
  t.equal(status.json.state, 'submitted')
  t.same(status.json.systems, ['arkiva', 'portali'])
  t.notOk('employee' in status.json, 'no personal data in the status')
  t.equal((await call(`${base}${statusUrl}`)).json.type, 'Onboarding.InvalidStatusToken')
  t.equal((await call(`${base}${statusUrl}/certificates`, { headers: auth })).json.type, 'Onboarding.InvalidState', 'no certificates before approval')
  t.equal((await call(`${base}${statusUrl}/token`, { method: 'POST', headers: auth })).json.type, 'Onboarding.InvalidState', 'no API token before approval')

  // A second application for the same NIPT while the first waits: refused, nothing committed.
  const again = await submit(base, parts(applicant(nipt).fields))
  t.equal(again.json.type, 'Onboarding.ApplicationPending')
  t.equal((await store.current()).version, v0 + 1)

  // The registration officer approves: one version holds everything.
  const approved = await commitTransform(store, c => approveApplication(c, id, { instance: INSTANCE, by: 'op-ana', now: new Date(), issue: caIssuer(ca) }), { who: 'op-ana', why: `approve application ${id}` })
  v = await store.current()
  t.equal(v.version, v0 + 2, 'approval is one version')
  t.equal(approved.member, member)
  t.same(approved.clients, [`${member}/arkiva`, `${member}/portali`])
  const m = v.content.members.find(x => x.code === nipt)!
  t.equal(m.class, 'NJQV')
  t.equal(m.name, 'Bashkia Provë')
  const certs = v.content.certificates.filter(c => c.application === id)
  t.equal(certs.length, 3, 'two TLS certificates and an e-seal')
  for (const [i, code] of ['arkiva', 'portali'].entries()) {
    const c = certs.find(x => x.owner === `${member}/${code}`)!
    const x509 = new X509Certificate(c.pem)
    t.ok(x509.verify(ca.certificate.publicKey), `${code}: signed by the node's CA`)
    t.equal(identityOf(x509), `${member}/${code}`)
    t.equal(profileOf(x509), 'tls-client')
    t.ok(x509.publicKey.equals(createPublicKey(a.keys[code].privateKey)), `${code}: the applicant's own key`)
    t.same(m.subsystems[i], { code, name: `Sistemi ${code}`, connection: 'mtls', certificates: [fingerprintOf(x509)] }, `${code}: registered, pinning its certificate`)
  }
  const seal = new X509Certificate(certs.find(c => c.role === 'sign')!.pem)
  t.equal(identityOf(seal), member)
  t.equal(profileOf(seal), 'signing')
  const application = v.content.applications.find(x => x.id === id)!
  t.equal(application.state, 'issued')
  t.equal(application.decidedBy, 'op-ana')
  t.same(application.certificates, certs.map(c => c.serial))
  t.same(v.content.operators.find(o => o.id === `${nipt.toLowerCase()}-admin`), { id: `${nipt.toLowerCase()}-admin`, name: 'Elira Hoxha', roles: [{ role: 'service-administrator', member }] })
  const pending = v.content.accessRequests.filter(r => r.requestedBy === `applicant:${id}`)
  t.same(pending.map(r => [r.client, r.service, r.state]), [[`${member}/arkiva`, CIVIL, 'pending'], [`${member}/portali`, CIVIL, 'pending']], 'access asked for each system')
  t.ok(v.content.outbox.some(o => o.to.includes('operators:service-administrator:AL-DEV/GOV/L01417001D')), 'the provider is told')

  status = await call(`${base}${statusUrl}`, { headers: auth })
  t.equal(status.json.state, 'issued')
  t.equal(status.json.certificates.length, 3)

  // Certificates: a PEM bundle (with the CA), and the application is active.
  const bundle = await call(`${base}${statusUrl}/certificates`, { headers: auth })
  t.equal(bundle.status, 200)
  t.match(bundle.headers['content-type'], /application\/x-pem-file/)
  const pems = splitPemCertificates(bundle.text)
  t.same(pems.map(p => new X509Certificate(p).serialNumber), [...certs.map(c => c.serial), ca.certificate.serialNumber])
  v = await store.current()
  t.equal(v.version, v0 + 3)
  t.equal(v.content.applications.find(x => x.id === id)!.state, 'active')
  const asJson = await call(`${base}${statusUrl}/certificates`, { headers: { ...auth, accept: 'application/json' } })
  t.same(asJson.json.certificates.map((c: any) => c.serial), certs.map(c => c.serial))
  t.equal(asJson.json.ca, ca.pem)
  t.equal((await store.current()).version, v0 + 3, 'downloading again changes nothing')

  // The API token, once.
  const token = await call(`${base}${statusUrl}/token`, { method: 'POST', headers: auth })
  t.equal(token.status, 201, token.text)
  t.match(token.json.token, /^ura_t[0-9a-f]{16}_[0-9a-f]{64}$/)
  t.equal(token.json.token.split('_')[1], token.json.tokenId)
  v = await store.current()
  const operator = v.content.operators.find(o => o.id === token.json.operator)!
  t.same(operator.tokens?.map(x => [x.id, x.sha256]), [[token.json.tokenId, sha256(token.json.token)]], 'the SHA-256 of the whole token is kept')
  t.equal((await call(`${base}${statusUrl}/token`, { method: 'POST', headers: auth })).json.type, 'Onboarding.TokenAlreadyIssued')
  t.equal((await store.current()).version, v0 + 4)
  t.equal((await call(`${base}${statusUrl}`, { headers: auth })).json.tokenIssued, true)

  // The provider's service administrator approves one access request: the grant exists.
  const decided = await commitTransform(store, c => decideAccessRequest(c, pending[0].id, 'approve', { by: 'op-civil', now: new Date() }), { who: 'op-civil', why: 'access' })
  t.same(decided.grant, { service: CIVIL, clients: [`${member}/arkiva`], groups: [] })
  v = await store.current()
  t.ok(v.content.access.some(g => g.service === CIVIL && g.clients.length === 1 && g.clients[0] === `${member}/arkiva`))

  t.same(audited.map(e => [e.action, e.result, e.errorCode ?? null]), [
    ['application.submit', 'allowed', null],
    ['application.certificates', 'refused', 'Onboarding.InvalidState'],
    ['application.token', 'refused', 'Onboarding.InvalidState'],
    ['application.submit', 'refused', 'Onboarding.ApplicationPending'],
    ['application.certificates', 'allowed', null],
    ['application.token', 'allowed', null],
    ['application.token', 'refused', 'Onboarding.TokenAlreadyIssued'],
  ], 'public actions reach the audit trail, allowed and refused')
})

t.test('a rejected application says why, and gives no certificates', async t => {
  const { base, store } = await serve(t)
  // As a browser posts the form served by the same listener.
  const submitted = await submit(base, parts(applicant(withCheckLetter('M31518001')).fields), { origin: base, 'sec-fetch-site': 'same-origin' })
  t.equal(submitted.status, 201)
  const { id, statusToken } = submitted.json
  await commitTransform(store, c => rejectApplication(c, id, 'the letter is not sealed', { by: 'op-ana', now: new Date() }), { who: 'op-ana', why: 'reject' })
  const auth = { authorization: `Bearer ${statusToken}` }
  const status = await call(`${base}/public/v1/applications/${id}`, { headers: auth })
  t.equal(status.json.state, 'rejected')
  t.equal(status.json.reason, 'the letter is not sealed')
  t.equal((await call(`${base}/public/v1/applications/${id}/certificates`, { headers: auth })).json.type, 'Onboarding.InvalidState')
  const v = await store.current()
  t.notOk(v.content.members.some(m => m.code === 'M31518001P'), 'no member')
  t.ok(v.content.outbox.some(m => m.to[0] === 'elira.hoxha@bashkia-prove.gov.al' && m.body.includes('the letter is not sealed')), 'the applicant is told why')
  // Once rejected, the institution may apply again.
  t.equal((await submit(base, parts(applicant('M31518001P').fields))).status, 201)
})

t.test('expiry notices at 30/14/7/3/1 days, once each; revocation unpins and feeds the revocation list', async t => {
  const { base, store, ca } = await serve(t)
  const nipt = withCheckLetter('L52401017')
  const submitted = await submit(base, parts(applicant(nipt).fields))
  const { id } = submitted.json
  await commitTransform(store, c => approveApplication(c, id, { instance: INSTANCE, by: 'op-ana', now: new Date(), issue: caIssuer(ca, { days: 40 }) }), { who: 'op-ana', why: 'approve' })
  const { content } = await store.current()
  const mine = content.certificates.filter(c => c.application === id)
  const end = Date.parse(mine[0].notAfter)

  t.same(expiringCertificates(content, new Date(end - 31 * DAY)), [], 'nothing expires within 30 days yet')
  t.same(expiryNotices(content, new Date(end - 31 * DAY)).added, [])
  let c = content
  const stages: number[] = []
  for (const daysBefore of [29.5, 20, 13.9, 13, 6.5, 2.5, 2, 0.5]) {
    const { content: next, added } = expiryNotices(c, new Date(end - daysBefore * DAY))
    for (const n of added) stages.push(Number(n.key!.split(':')[2]))
    c = next
  }
  t.same(stages, [30, 30, 14, 14, 7, 7, 3, 3, 1, 1], 'each certificate gets each stage once')
  const notice = c.outbox.find(n => n.key?.endsWith(':7'))!
  t.ok(notice.to.includes('elira.hoxha@bashkia-prove.gov.al') && notice.to.includes(`operators:service-administrator:${INSTANCE}/NJQV/${nipt}`) && notice.to.includes('operators:security-officer'))
  const list = expiringCertificates(content, new Date(end - 6.5 * DAY))
  t.same(list.map(x => [x.owner, x.daysLeft, x.state]), [[`${INSTANCE}/NJQV/${nipt}/arkiva`, 6, 'expiring'], [`${INSTANCE}/NJQV/${nipt}`, 6, 'expiring']])
  t.same(expiringCertificates(content, new Date(end + DAY)).map(x => x.state), ['expired', 'expired'])
  await commitTransform(store, () => ({ content: c }), { who: 'ura', why: 'expiry notices' })

  // Revocation: entry in the node's revocation-list shape, unpinned, refused by a RevocationList.
  const tls = mine.find(x => x.role === 'tls')!
  const revoked = await commitTransform(store, k => revokeCertificate(k, { serial: tls.serial, reason: 'key compromise', by: 'op-sec', now: new Date() }), { who: 'op-sec', why: 'revoke' })
  t.same(revoked.unpinned, [`subsystem NJQV/${nipt}/arkiva`])
  const after = await store.current()
  t.same(after.content.members.find(m => m.code === nipt)!.subsystems[0].certificates, [], 'the subsystem pins nothing now')
  const file = join(await mkdtemp(join(tmpdir(), 'ura-revoked-')), 'revoked.json')
  await writeFile(file, JSON.stringify({ revoked: after.content.revocations }))
  const x509 = new X509Certificate(tls.pem)
  t.equal(new RevocationList(file).isRevoked(x509)?.reason, 'key compromise', 'the node\'s revocation list recognises the entry')
  t.same(expiringCertificates(after.content, new Date(end - DAY)).map(x => x.role), ['sign'], 'a revoked certificate no longer expires')
})

t.test('a form served from another origin posts when that origin is listed, and only then', async t => {
  const { base } = await serve(t, { origins: ['https://forma.example.al'] })
  const form = parts(applicant(withCheckLetter('L41526502')).fields)
  t.equal((await submit(base, form, { origin: base, 'sec-fetch-site': 'same-origin' })).json.type, 'Onboarding.CrossSiteRequest', 'the list replaces the own-host rule')
  t.equal((await submit(base, form, { origin: 'https://forma.example.al', 'sec-fetch-site': 'same-site' })).status, 201)
})
