/**
 * The onboarding transformations one by one, as pure functions over registry content: each returns
 * new content and leaves its argument alone (inputs are frozen here), each refuses a wrong state or
 * bad input with its own code, and what each returns is content the registry store accepts.
 */
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { accessRequestParties, decideAccessRequest, requestAccess } from '../admin/onboarding/access.ts'
import { checkApplication, checkLetter } from '../admin/onboarding/application.ts'
import { issueCertificate, revokeCertificate, type Issue } from '../admin/onboarding/certificates.ts'
import { commitTransform } from '../admin/onboarding/commit.ts'
import { OnboardingError, type OnboardingErrorCode } from '../admin/onboarding/errors.ts'
import { expiringCertificates, expiryNotices } from '../admin/onboarding/expiry.ts'
import { caIssuer } from '../admin/onboarding/issuer.ts'
import { approveApplication, issueApplicantToken, markActive, rejectApplication, submitApplication } from '../admin/onboarding/lifecycle.ts'
import { withNotices } from '../admin/onboarding/outbox.ts'
import { createRootCa, fingerprintOf } from '../certs/pki.ts'
import { importDir, type RegistryContent } from '../registry/store/index.ts'
import { applicant, CIVIL, csr, DEMO, formBody as body, freshStore, INSTANCE, PDF, TAXES, withCheckLetter } from './support/onboarding.ts'

const DAY = 24 * 60 * 60 * 1000
const NOW = new Date('2026-03-02T09:00:00.000Z')
const LETTER = { sha256: 'a'.repeat(64), bytes: 100, filename: 'kerkesa.pdf' }
const ca = createRootCa()
const issue = caIssuer(ca)

function freeze<T> (value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) freeze(v)
  }
  return value
}

function refuses (t: Test, run: () => unknown, code: OnboardingErrorCode, what: string): void {
  try {
    run()
    t.fail(`${what}: expected ${code}, nothing was thrown`)
  } catch (err) {
    if (!(err instanceof OnboardingError)) throw err
    t.equal(err.type, code, `${what}: ${err.message}`)
  }
}

const demo = freeze(await importDir(DEMO))

function submitted (content: RegistryContent, nine = 'K81305012', opts: Parameters<typeof applicant>[1] = {}): { content: RegistryContent; id: string; statusToken: string; nipt: string } {
  const nipt = withCheckLetter(nine)
  const r = submitApplication(content, { body: body(applicant(nipt, opts).fields), letter: LETTER, instance: INSTANCE, now: NOW })
  return { ...r, content: freeze(r.content), nipt }
}

t.test('a CSR made by OpenSSL is read like one made by ura cert request', async t => {
  const nipt = withCheckLetter('K33804402')
  const id = `${INSTANCE}/NJQV/${nipt}/arkiva`
  const dir = await mkdtemp(join(tmpdir(), 'ura-openssl-'))
  let pem: string
  try {
    pem = execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-utf8',
      '-subj', `/C=AL/O=Bashkia Provë/serialNumber=${id.replaceAll('/', '\\/')}/CN=${id.replaceAll('/', '\\/')}`], { stdio: ['ignore', 'pipe', 'ignore'] }).toString()
  } catch {
    t.fail('openssl is not installed: this test reads a CSR it makes (apt-get install openssl)')
    return
  }
  const fields = { ...applicant(nipt).fields, 'systems[0].csr': pem }
  const checked = checkApplication(body(fields), { instance: INSTANCE, content: demo })
  t.same(checked.clientIds, [id])
})

t.test('the application lifecycle refuses wrong states, and never changes its argument', async t => {
  const s = submitted(demo)
  t.equal(demo.applications.length, 0, 'the frozen input is untouched')
  refuses(t, () => markActive(s.content, s.id, { now: NOW }), 'Onboarding.InvalidState', 'active before issued')
  refuses(t, () => issueApplicantToken(s.content, s.id, { statusToken: s.statusToken, now: NOW }), 'Onboarding.InvalidState', 'token before approval')
  refuses(t, () => approveApplication(s.content, 'ap-nope', { instance: INSTANCE, by: 'ana', now: NOW, issue }), 'Onboarding.UnknownApplication', 'unknown id')
  refuses(t, () => approveApplication(s.content, '../x', { instance: INSTANCE, by: 'ana', now: NOW, issue }), 'Onboarding.UnknownApplication', 'a path as id')
  refuses(t, () => rejectApplication(s.content, s.id, '   ', { by: 'ana', now: NOW }), 'Onboarding.ReasonRequired', 'reject without a reason')
  refuses(t, () => rejectApplication(s.content, s.id, 'x'.repeat(2001), { by: 'ana', now: NOW }), 'Onboarding.InvalidRequest', 'reject with an endless reason')

  // The member appears (another way) before approval: approval refuses.
  const taken = freeze({ ...s.content, members: [...s.content.members, { class: 'NJQV', code: s.nipt, name: 'x', subsystems: [] }] })
  refuses(t, () => approveApplication(taken, s.id, { instance: INSTANCE, by: 'ana', now: NOW, issue }), 'Onboarding.MemberExists', 'member registered meanwhile')
  const opTaken = freeze({ ...s.content, operators: [{ id: `${s.nipt.toLowerCase()}-admin`, name: 'x', roles: [{ role: 'observer' as const }] }] })
  refuses(t, () => approveApplication(opTaken, s.id, { instance: INSTANCE, by: 'ana', now: NOW, issue }), 'Onboarding.OperatorExists', 'operator id taken')
  // An issuer that signs something else is caught before anything is recorded.
  const rogue: Issue = (_csr, profile) => caIssuer(ca)(csr('AL-DEV/GOV/K11503002N/e-albania').pem, profile)
  refuses(t, () => approveApplication(s.content, s.id, { instance: INSTANCE, by: 'ana', now: NOW, issue: rogue }), 'Onboarding.InternalError', 'a CA that issues for another id')

  const approved = approveApplication(s.content, s.id, { instance: INSTANCE, by: 'ana', now: NOW, issue })
  freeze(approved.content)
  refuses(t, () => approveApplication(approved.content, s.id, { instance: INSTANCE, by: 'ana', now: NOW, issue }), 'Onboarding.InvalidState', 'approve twice')
  refuses(t, () => rejectApplication(approved.content, s.id, 'late', { by: 'ana', now: NOW }), 'Onboarding.InvalidState', 'reject after approval')
  refuses(t, () => issueApplicantToken(approved.content, s.id, { statusToken: 'uas_' + 'A'.repeat(43), now: NOW }), 'Onboarding.InvalidStatusToken', 'wrong status token')
  refuses(t, () => issueApplicantToken(approved.content, s.id, { statusToken: s.statusToken + 'x', now: NOW }), 'Onboarding.InvalidStatusToken', 'a longer token')
  const token = issueApplicantToken(approved.content, s.id, { statusToken: s.statusToken, now: NOW })
  freeze(token.content)
  refuses(t, () => issueApplicantToken(token.content, s.id, { statusToken: s.statusToken, now: NOW }), 'Onboarding.TokenAlreadyIssued', 'a second token')
  const active = markActive(token.content, s.id, { now: NOW })
  refuses(t, () => markActive(active.content, s.id, { now: NOW }), 'Onboarding.InvalidState', 'active twice')
  t.equal(active.content.applications[0].state, 'active')
  t.equal(token.content.applications[0].state, 'issued', 'each step left the one before alone')

  const rejected = rejectApplication(s.content, s.id, 'no seal on the letter', { by: 'ana', now: NOW })
  refuses(t, () => approveApplication(rejected.content, s.id, { instance: INSTANCE, by: 'ana', now: NOW, issue }), 'Onboarding.InvalidState', 'approve a rejected application')

  // Too many open applications.
  refuses(t, () => submitApplication(s.content, { body: body(applicant(withCheckLetter('M31518001')).fields), letter: LETTER, instance: INSTANCE, now: NOW, maxOpen: 1 }), 'Onboarding.TooManyApplications', 'the open-application cap')

  // Every step's content is content the store accepts.
  const store = await freshStore(t)
  for (const [why, c] of [['submitted', s.content], ['approved', approved.content], ['token', token.content], ['active', active.content]] as const) {
    const v = (await store.current()).version
    await store.commit(c, { who: 'test', why, expectedVersion: v })
  }
  t.pass('the store accepted every step')
})

t.test('a service asked for that is gone by approval is left out and said so', async t => {
  const s = submitted(demo, 'K81305012', { services: [CIVIL, TAXES] })
  const gone = freeze({ ...s.content, services: s.content.services.filter(x => `${x.provider}/${x.code}` !== TAXES), access: s.content.access.filter(g => g.service !== TAXES) })
  const approved = approveApplication(gone, s.id, { instance: INSTANCE, by: 'ana', now: NOW, issue })
  t.same(approved.content.accessRequests.map(r => r.service), [CIVIL])
  t.ok(approved.content.outbox.some(m => m.body.includes(`not asked for: ${TAXES}`)))
})

t.test('access requests: asked, decided by the provider, refused when wrong', async t => {
  const client = 'AL-DEV/NJQV/M51305009K/ndihma-sociale'
  const base = { by: 'op-durres', now: NOW, purpose: 'ndihma ekonomike' }
  refuses(t, () => requestAccess(demo, { ...base, client: 'AL-DEV/NJQV/M51305009K/nope', service: TAXES }), 'Onboarding.UnknownClient', 'unregistered client')
  refuses(t, () => requestAccess(demo, { ...base, client: 'OTHER/NJQV/M51305009K/ndihma-sociale', service: TAXES }), 'Onboarding.UnknownClient', 'client of another instance')
  refuses(t, () => requestAccess(demo, { ...base, client, service: `${TAXES}-x` }), 'Onboarding.UnknownService', 'unknown service')
  refuses(t, () => requestAccess(demo, { ...base, client, service: CIVIL, endpoints: [{ method: 'GET', path: '/x' }] }), 'Onboarding.InvalidRequest', 'endpoints on a SOAP service')
  refuses(t, () => requestAccess(demo, { ...base, client, service: TAXES, endpoints: [{ method: 'BREW', path: '/x' }] }), 'Onboarding.InvalidRequest', 'an unknown method')
  refuses(t, () => requestAccess(demo, { ...base, client, service: TAXES, endpoints: [{ method: 'GET', path: 'x' }] }), 'Onboarding.InvalidRequest', 'a relative path')
  refuses(t, () => requestAccess(demo, { ...base, client, service: TAXES, endpoints: [] }), 'Onboarding.InvalidRequest', 'no endpoints')
  refuses(t, () => requestAccess(demo, { ...base, client, service: TAXES, purpose: '' }), 'Onboarding.InvalidRequest', 'no purpose')
  refuses(t, () => requestAccess(demo, { ...base, client: 'AL-DEV/GOV/K11503002N/e-albania', service: CIVIL }), 'Onboarding.AlreadyGranted', 'already granted the whole service')

  const endpoints = [{ method: 'GET', path: '/subjekte/*/detyrime' }]
  const asked = requestAccess(demo, { ...base, client, service: TAXES, endpoints })
  freeze(asked.content)
  t.same(accessRequestParties(asked.content, asked.id), { client, clientMember: 'AL-DEV/NJQV/M51305009K', service: TAXES, providerMember: 'AL-DEV/NJQV/L21603004L' })
  t.same(asked.content.outbox.map(m => m.to[0]), ['operators:service-administrator:AL-DEV/NJQV/L21603004L', 'operators:service-administrator:AL-DEV/NJQV/M51305009K'], 'both sides are told')
  refuses(t, () => requestAccess(asked.content, { ...base, client, service: TAXES, endpoints }), 'Onboarding.DuplicateAccessRequest', 'the same request twice')
  refuses(t, () => decideAccessRequest(asked.content, 'ar-nope', 'approve', { by: 'op-tirana', now: NOW }), 'Onboarding.UnknownAccessRequest', 'unknown request')
  refuses(t, () => decideAccessRequest(asked.content, asked.id, 'maybe' as 'approve', { by: 'op-tirana', now: NOW }), 'Onboarding.InvalidRequest', 'neither approve nor refuse')
  refuses(t, () => decideAccessRequest(asked.content, asked.id, 'refuse', { by: 'op-tirana', now: NOW }), 'Onboarding.ReasonRequired', 'refuse without a reason')

  const approved = decideAccessRequest(asked.content, asked.id, 'approve', { by: 'op-tirana', now: NOW })
  t.same(approved.grant, { service: TAXES, clients: [client], groups: [], endpoints })
  t.equal(approved.content.access.length, demo.access.length + 1, 'exactly one grant added')
  t.equal(approved.request.state, 'approved')
  refuses(t, () => decideAccessRequest(approved.content, asked.id, 'refuse', { by: 'op-tirana', now: NOW, reason: 'late' }), 'Onboarding.InvalidState', 'decided twice')

  const refused = decideAccessRequest(asked.content, asked.id, 'refuse', { by: 'op-tirana', now: NOW, reason: 'no legal basis' })
  t.equal(refused.grant, undefined)
  t.equal(refused.content.access.length, demo.access.length, 'no grant')
  t.equal(refused.request.reason, 'no legal basis')

  const store = await freshStore(t)
  await store.commit(approved.content, { who: 'test', why: 'grant', expectedVersion: 1 })
  t.pass('the store accepts the grant')
})

t.test('certificates: issued for registered owners with matching subjects, pinned, revoked once', async t => {
  const sub = 'AL-DEV/NJQV/L21603004L/taksat-vendore'
  const base = { by: 'op-sec', now: NOW, issue }
  refuses(t, () => issueCertificate(demo, { ...base, role: 'tls', owner: 'AL-DEV/NJQV/L21603004L/nope', csr: csr('AL-DEV/NJQV/L21603004L/nope').pem }), 'Onboarding.UnknownClient', 'tls for an unregistered subsystem')
  refuses(t, () => issueCertificate(demo, { ...base, role: 'sign', owner: sub, csr: csr(sub).pem }), 'Onboarding.UnknownClient', 'an e-seal for a subsystem')
  refuses(t, () => issueCertificate(demo, { ...base, role: 'tls', owner: sub, csr: csr('AL-DEV/NJQV/M51305009K/ndihma-sociale').pem }), 'Onboarding.CsrSubjectMismatch', 'a CSR for another subsystem')
  refuses(t, () => issueCertificate(demo, { ...base, role: 'tls', owner: sub, csr: 'garbage' }), 'Onboarding.InvalidCsr', 'garbage')
  refuses(t, () => issueCertificate(demo, { ...base, role: 'operator', owner: 'op-nobody', csr: csr('x', { serialNumber: null, cn: 'op-nobody' }).pem }), 'Onboarding.UnknownClient', 'an unknown operator')
  refuses(t, () => issueCertificate(demo, { ...base, role: 'root' as 'tls', owner: sub, csr: csr(sub).pem }), 'Onboarding.InvalidRequest', 'an unknown role')

  // The demo subsystem pins nothing: it stays so (a pin would lock out its current certificate).
  const unpinned = issueCertificate(demo, { ...base, role: 'tls', owner: sub, csr: csr(sub).pem })
  t.equal(unpinned.content.members.find(m => m.code === 'L21603004L')!.subsystems[0].certificates, undefined)
  t.equal(unpinned.certificate.owner, sub)

  // A subsystem that pins gets the new pin; an operator gets its certificate pinned.
  const pinned = freeze({
    ...demo,
    members: demo.members.map(m => m.code !== 'L21603004L' ? m : { ...m, subsystems: m.subsystems.map(s => s.code === 'taksat-vendore' ? { ...s, certificates: ['ab'.repeat(32)] } : s) }),
    operators: [{ id: 'op-ana', name: 'Ana', roles: [{ role: 'security-officer' as const }] }],
  })
  const tls = issueCertificate(pinned, { ...base, role: 'tls', owner: sub, csr: csr(sub).pem })
  t.same(tls.content.members.find(m => m.code === 'L21603004L')!.subsystems[0].certificates, ['ab'.repeat(32), tls.certificate.fingerprint])
  refuses(t, () => issueCertificate(pinned, { ...base, role: 'operator', owner: 'op-ana', csr: csr(sub).pem }), 'Onboarding.CsrSubjectMismatch', 'an operator CSR carrying a client id')
  refuses(t, () => issueCertificate(pinned, { ...base, role: 'operator', owner: 'op-ana', csr: csr('x', { serialNumber: null, cn: 'op-ben' }).pem }), 'Onboarding.CsrSubjectMismatch', 'an operator CSR for another operator')
  const op = issueCertificate(tls.content, { ...base, role: 'operator', owner: 'op-ana', csr: csr('x', { serialNumber: null, cn: 'op-ana' }).pem })
  t.same(op.content.operators[0].certificates, [op.certificate.fingerprint])
  t.equal(op.certificate.fingerprint, fingerprintOf(new X509Certificate(op.certificate.pem)))
  const seal = issueCertificate(op.content, { ...base, role: 'sign', owner: 'AL-DEV/NJQV/L21603004L', csr: csr('AL-DEV/NJQV/L21603004L').pem })
  freeze(seal.content)

  const store = await freshStore(t)
  await store.commit(seal.content, { who: 'test', why: 'issued', expectedVersion: 1 })

  refuses(t, () => revokeCertificate(seal.content, { serial: 'zz', reason: 'x', by: 'op-sec', now: NOW }), 'Onboarding.InvalidRequest', 'not a serial')
  refuses(t, () => revokeCertificate(seal.content, { serial: 'ABCDEF', reason: 'x', by: 'op-sec', now: NOW }), 'Onboarding.UnknownCertificate', 'a serial never issued')
  refuses(t, () => revokeCertificate(seal.content, { serial: tls.certificate.serial, reason: '', by: 'op-sec', now: NOW }), 'Onboarding.ReasonRequired', 'no reason')
  const revoked = revokeCertificate(seal.content, { serial: tls.certificate.serial.toLowerCase().match(/.{2}/g)!.join(':'), reason: 'superseded', by: 'op-sec', now: NOW })
  t.same(revoked.content.members.find(m => m.code === 'L21603004L')!.subsystems[0].certificates, ['ab'.repeat(32)], 'unpinned, the other pin kept')
  t.same(revoked.revocation, { serial: tls.certificate.serial, issuer: ca.certificate.subject, subject: new X509Certificate(tls.certificate.pem).subject, revokedAt: NOW.toISOString(), reason: 'superseded', revokedBy: 'op-sec' })
  refuses(t, () => revokeCertificate(revoked.content, { serial: tls.certificate.serial, reason: 'again', by: 'op-sec', now: NOW }), 'Onboarding.AlreadyRevoked', 'revoked twice')
  const opRevoked = revokeCertificate(revoked.content, { serial: op.certificate.serial, reason: 'left', by: 'op-sec', now: NOW })
  t.same(opRevoked.unpinned, ['operator op-ana'])
  t.same(opRevoked.content.operators[0].certificates, [])
  await store.commit(opRevoked.content, { who: 'test', why: 'revoked', expectedVersion: 2 })
})

t.test('expiry: a renewed certificate is out of use; a late run sends the current stage only', async t => {
  const owner = 'AL-DEV/NJQV/L21603004L/taksat-vendore'
  const short = (days: number): Issue => caIssuer(ca, { days })
  const first = issueCertificate(demo, { by: 'op', now: NOW, issue: short(20), role: 'tls', owner, csr: csr(owner).pem })
  // Thirteen days left and nothing sent yet: the 14-day stage only (a node that was down sends no backlog).
  const late = expiryNotices(first.content, new Date(Date.now() + 7 * DAY))
  t.same(late.added.map(n => n.key), [`expiry:${first.certificate.serial}:14`], 'only the stage reached now')
  t.same(expiryNotices(late.content, new Date(Date.now() + 7 * DAY)).added, [], 'once')
  const renewed = issueCertificate(first.content, { by: 'op', now: NOW, issue: short(365), role: 'tls', owner, csr: csr(owner).pem })
  t.same(expiringCertificates(renewed.content, new Date()), [], 'a renewed certificate is not expiring')
  t.same(expiryNotices(renewed.content, new Date(Date.now() + 5 * DAY)).added, [])
  t.equal(expiringCertificates(first.content, new Date()).length, 1)
})

t.test('the outbox keeps a key once and caps long text', async t => {
  const once = withNotices(demo, [{ to: ['a@b.al'], subject: 's'.repeat(400), body: 'b', key: 'k' }, { to: ['a@b.al'], subject: 'again', body: 'b', key: 'k' }], NOW)
  t.equal(once.added.length, 1)
  t.equal(once.added[0].subject.length, 300)
  t.same(withNotices(once.content, [{ to: ['a@b.al'], subject: 'x', body: 'b', key: 'k' }], NOW).added, [])
})

t.test('the letter: a PDF by its bytes, capped', async t => {
  t.doesNotThrow(() => checkLetter(PDF, 'application/pdf'))
  t.doesNotThrow(() => checkLetter(PDF, ''))
  refuses(t, () => checkLetter(Buffer.from('<html>%%EOF'), 'application/pdf'), 'Onboarding.LetterNotPdf', 'HTML')
  refuses(t, () => checkLetter(PDF, 'text/html'), 'Onboarding.LetterNotPdf', 'declared HTML')
  refuses(t, () => checkLetter(Buffer.concat([PDF.subarray(0, 20), Buffer.alloc(2000)])), 'Onboarding.LetterNotPdf', 'truncated')
  refuses(t, () => checkLetter(Buffer.alloc(5 * 1024 * 1024 + 1)), 'Onboarding.LetterTooLarge', 'over 5 MiB')
})

t.test('commitTransform retries once on a stale version, then answers Busy', async t => {
  const store = await freshStore(t)
  let runs = 0
  // Another client commits while the transformation runs, once: the retry succeeds.
  const result = await commitTransform(store, c => {
    runs++
    if (runs === 1) void store.commit(c, { who: 'other', why: 'race', expectedVersion: 1 })
    return { content: { ...c, outbox: [...c.outbox] }, n: runs }
  }, { who: 'test', why: 'retry' })
  t.equal(result.n, 2)
  t.equal(result.version, 3)
  // Every attempt loses: Busy, and only the other client's versions are there.
  let head = 3
  let err: unknown
  try {
    await commitTransform(store, c => {
      void store.commit(c, { who: 'other', why: 'race', expectedVersion: head++ })
      return { content: c }
    }, { who: 'test', why: 'lost' })
  } catch (e) { err = e }
  t.equal((err as OnboardingError | undefined)?.type, 'Onboarding.Busy')
  t.same((await store.list()).slice(3).map(v => v.who), ['other', 'other'])
})
