/**
 * A hostile corpus against the authenticated admin API and its onboarding routes (applications,
 * access requests, certificates, outbox): malformed and oversized bodies, unknown fields, wrong types
 * and content types, prototype-pollution keys, huge arrays, path tricks (`..`, `%2e%2e`, encoded
 * slashes, NUL, overlong ids), bad If-Match values, forged and garbled tokens, wrong roles, and steps
 * out of order (approving a rejected application, deciding twice, revoking what is unknown or
 * revoked). Each is refused with its documented code in the one error shape, the registry does not
 * move, the refusal is in the audit trail, and the listener goes on answering.
 */
import { createHash, randomBytes } from 'node:crypto'
import { request as httpsRequest } from 'node:https'
import t from 'tap'
import { ADMIN_ERROR_STATUS } from '../admin/errors.ts'
import { caIssuer, issueCertificate, ONBOARDING_ERRORS, rejectApplication, revokeCertificate, submitApplication } from '../admin/onboarding/index.ts'
import { publicOnboarding } from '../admin/public-onboarding.ts'
import { createRootCa } from '../certs/pki.ts'
import { canonicalJson } from '../registry/store/content.ts'
import { CIVIL, E_ALBANIA_CLIENT, startAdminRig, TIRANA, type AdminRig, type Answer, type CallOptions } from './support/admin.ts'
import { applicant, csr, formBody, PDF, withCheckLetter } from './support/onboarding.ts'

const CODES: Record<string, number> = { ...ADMIN_ERROR_STATUS, ...ONBOARDING_ERRORS }
const SOCIAL = 'AL-DEV/NJQV/M51305009K/ndihma-sociale'
const TAXES = `${TIRANA}/taksat-vendore/detyrimet`
const CIVIL_SERVICE = `${CIVIL}/regjistri-civil/kerkoShtetas`

const seeded = { submitted: '', rejected: '', tirana: '', civil: '', revoked: '' }

let rig: AdminRig
t.before(async () => {
  rig = await startAdminRig({
    publicPlugins: [publicOnboarding()],
    seed: c => {
      const now = new Date()
      const letter = { sha256: createHash('sha256').update(PDF).digest('hex'), bytes: PDF.length }
      const a = submitApplication(c, { body: formBody(applicant(withCheckLetter('K80417052')).fields), letter, instance: 'AL-DEV', now })
      const b = submitApplication(a.content, { body: formBody(applicant(withCheckLetter('L90512064')).fields), letter, instance: 'AL-DEV', now })
      const rejected = rejectApplication(b.content, b.id, 'letra mungon', { by: 'ro', now })
      seeded.submitted = a.id
      seeded.rejected = b.id
      let next = rejected.content
      const issue = caIssuer(createRootCa())
      for (const [key, owner] of [['tirana', `${TIRANA}/taksat-vendore`], ['civil', `${CIVIL}/regjistri-civil`], ['revoked', `${TIRANA}/gjendja-civile`]] as const) {
        const made = issueCertificate(next, { csr: csr(owner).pem, role: 'tls', owner, by: 'sa', now, issue })
        seeded[key] = made.certificate.serial
        next = made.content
      }
      next = revokeCertificate(next, { serial: seeded.revoked, reason: 'zëvendësuar', by: 'sec', now }).content
      next.accessRequests.push(
        { id: 'ar-pending', client: SOCIAL, service: TAXES, purpose: 'ndihma ekonomike', state: 'pending', requestedBy: 'sa', requestedAt: now.toISOString() },
        { id: 'ar-decided', client: SOCIAL, service: CIVIL_SERVICE, purpose: 'verifikim', state: 'approved', requestedBy: 'sa', requestedAt: now.toISOString(), decidedBy: 'sa', decidedAt: now.toISOString() },
      )
      next.operators.push({ id: 'skaduar', name: 'Token i skaduar', roles: [{ role: 'system-administrator' }], tokens: [{ id: 'skaduar-test', sha256: 'b'.repeat(64), createdAt: '2025-01-01T00:00:00Z', expiresAt: '2025-02-01T00:00:00Z' }] })
      Object.assign(c, next)
    },
  })
  await rig.store.putBlob(PDF, 'application/pdf')
})
t.teardown(() => rig.close())

/** A request with its path sent byte for byte (no client-side normalisation of `..` or `%2e`). */
function rawPath (method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const url = new URL(rig.url)
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: url.hostname, port: url.port, method, path, headers, ca: rig.caPem }, res => {
      const chunks: Buffer[] = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json: unknown
        try { json = JSON.parse(text) } catch { json = undefined }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

interface Case { name: string; run: () => Promise<Answer>; status: number; type: string }

t.test('hostile requests to the admin API and its onboarding routes', async t => {
  const sa = rig.tokens.sa
  const etag = async (path: string): Promise<string> => (await rig.call('GET', path, { token: sa })).headers.etag as string
  const A = seeded.submitted
  const app = `/admin/v1/applications/${A}`
  const appTag = await etag(app)
  const rejectedTag = await etag(`/admin/v1/applications/${seeded.rejected}`)
  const pendingTag = await etag('/admin/v1/access-requests/ar-pending')
  const decidedTag = await etag('/admin/v1/access-requests/ar-decided')
  const tiranaCertTag = await etag(`/admin/v1/certificates/${seeded.tirana}`)
  const revokedTag = await etag(`/admin/v1/certificates/${seeded.revoked}`)
  const w = (ifMatch: string | null, reason: string | null = 'prova'): Record<string, string> => ({ ...(ifMatch === null ? {} : { 'if-match': ifMatch }), ...(reason === null ? {} : { 'x-ura-reason': reason }) })
  const as = (token: string, o: CallOptions = {}): CallOptions => ({ ...o, token })
  const call = (method: string, path: string, o: CallOptions = {}): Promise<Answer> => rig.call(method, path, { token: sa, ...o })
  const json = (headers: Record<string, string> = {}): Record<string, string> => ({ 'content-type': 'application/json', ...headers })
  const askBody = { client: SOCIAL, service: CIVIL_SERVICE, purpose: 'verifikim i gjendjes civile' }
  const ask = (body: unknown, o: CallOptions = {}): Promise<Answer> => call('POST', '/admin/v1/access-requests', { body, headers: w('*'), ...o })
  const issue = (body: unknown, o: CallOptions = {}): Promise<Answer> => call('POST', '/admin/v1/certificates', { body, headers: w('*'), ...o })
  const tiranaCsr = csr(`${TIRANA}/taksat-vendore`).pem
  const auth = { authorization: `Bearer ${sa}` }

  const cases: Case[] = [
    // Bodies: malformed, unknown fields, wrong types, sizes, media types.
    { name: 'truncated JSON', run: () => call('POST', `${app}/reject`, { raw: '{"reason": "x"', headers: json(w(appTag)) }), status: 400, type: 'Admin.InvalidBody' },
    { name: 'an unknown field beside the reason', run: () => call('POST', `${app}/reject`, { body: { reason: 'x', approve: true }, headers: w(appTag) }), status: 400, type: 'Admin.InvalidBody' },
    { name: 'no reason', run: () => call('POST', `${app}/reject`, { body: {}, headers: w(appTag) }), status: 400, type: 'Admin.InvalidBody' },
    { name: 'a number as the reason', run: () => call('POST', `${app}/reject`, { body: { reason: 42 }, headers: w(appTag) }), status: 400, type: 'Admin.InvalidBody' },
    { name: 'a reason of blanks', run: () => call('POST', `${app}/reject`, { body: { reason: '   ' }, headers: w(appTag) }), status: 400, type: 'Onboarding.ReasonRequired' },
    { name: 'a 2001-character reason', run: () => call('POST', `${app}/reject`, { body: { reason: 'x'.repeat(2001) }, headers: w(appTag) }), status: 400, type: 'Admin.InvalidBody' },
    { name: 'a reason as text/plain', run: () => call('POST', `${app}/reject`, { raw: 'reason=x', headers: { 'content-type': 'text/plain', ...w(appTag) } }), status: 415, type: 'Admin.UnsupportedMediaType' },
    { name: 'a reason as XML', run: () => call('POST', `${app}/reject`, { raw: '<reason>x</reason>', headers: { 'content-type': 'application/xml', ...w(appTag) } }), status: 415, type: 'Admin.UnsupportedMediaType' },
    { name: 'JSON declared as JSON with an empty body', run: () => call('POST', `${app}/reject`, { raw: '', headers: json(w(appTag)) }), status: 400, type: 'Admin.InvalidBody' },
    { name: 'a 2 MiB purpose', run: () => ask({ ...askBody, purpose: 'x'.repeat(2 * 1024 * 1024) }), status: 413, type: 'Admin.BodyTooLarge' },
    { name: '__proto__ in an access request', run: () => call('POST', '/admin/v1/access-requests', { raw: `{"__proto__":{"polluted":true},"client":"${SOCIAL}","service":"${CIVIL_SERVICE}","purpose":"x"}`, headers: json(w('*')) }), status: 400, type: 'Admin.InvalidBody' },
    { name: 'constructor.prototype in an access request', run: () => call('POST', '/admin/v1/access-requests', { raw: `{"constructor":{"prototype":{"polluted":true}},"client":"${SOCIAL}","service":"${CIVIL_SERVICE}","purpose":"x"}`, headers: json(w('*')) }), status: 400, type: 'Admin.InvalidBody' },
    { name: '__proto__ in a revocation', run: () => call('POST', `/admin/v1/certificates/${seeded.tirana}/revoke`, { raw: '{"reason":"x","__proto__":{"isAdmin":true}}', headers: json(w(tiranaCertTag)) }), status: 400, type: 'Admin.InvalidBody' },
    { name: '10 000 endpoints', run: () => ask({ ...askBody, service: TAXES, endpoints: Array.from({ length: 10000 }, () => ({ method: 'GET', path: '/a' })) }), status: 400, type: 'Admin.InvalidBody' },
    { name: 'an endpoint with an unknown method', run: () => ask({ ...askBody, service: TAXES, endpoints: [{ method: 'CONNECT', path: '/a' }] }), status: 400, type: 'Admin.InvalidBody' },
    { name: 'a client as a number', run: () => ask({ ...askBody, client: 7 }), status: 400, type: 'Admin.InvalidBody' },
    { name: 'a client that is a path', run: () => ask({ ...askBody, client: '../../etc/passwd' }), status: 400, type: 'Onboarding.UnknownClient' },
    { name: 'a body that is an array', run: () => ask([askBody]), status: 400, type: 'Admin.InvalidBody' },
    { name: 'a 3000-deep nesting', run: () => call('POST', '/admin/v1/access-requests', { raw: `{"client":"${SOCIAL}","service":"${CIVIL_SERVICE}","purpose":"x","x":${'['.repeat(3000)}${']'.repeat(3000)}}`, headers: json(w('*')) }), status: 400, type: 'Admin.InvalidBody' },
    { name: 'a body on approve', run: () => call('POST', `${app}/approve`, { body: { force: true }, headers: w(appTag) }), status: 400, type: 'Admin.InvalidBody' },
    { name: 'an array on approve', run: () => call('POST', `${app}/approve`, { body: [], headers: w(appTag) }), status: 400, type: 'Admin.InvalidBody' },

    // Access requests the registry cannot hold.
    { name: 'endpoints on a SOAP service', run: () => ask({ ...askBody, endpoints: [{ method: 'POST', path: '/' }] }), status: 400, type: 'Onboarding.InvalidRequest' },
    { name: 'an unregistered client', run: () => ask({ ...askBody, client: `${CIVIL}/nuk-ekziston` }), status: 400, type: 'Onboarding.UnknownClient' },
    { name: 'an undefined service', run: () => ask({ ...askBody, service: `${CIVIL}/regjistri-civil/fshiTeGjitha` }), status: 400, type: 'Onboarding.UnknownService' },
    { name: 'a request already pending', run: () => ask({ ...askBody, service: TAXES }), status: 409, type: 'Onboarding.DuplicateAccessRequest' },
    { name: 'access already granted', run: () => ask({ ...askBody, client: E_ALBANIA_CLIENT }), status: 409, type: 'Onboarding.AlreadyGranted' },
    { name: 'a request without If-Match', run: () => ask(askBody, { headers: w(null) }), status: 428, type: 'Admin.PreconditionRequired' },
    { name: 'a request without a reason', run: () => ask(askBody, { headers: w('*', null) }), status: 400, type: 'Admin.InvalidRequest' },
    { name: 'a 600-character reason', run: () => ask(askBody, { headers: w('*', 'x'.repeat(600)) }), status: 400, type: 'Admin.InvalidRequest' },

    // Steps out of order and bad preconditions.
    { name: 'approving a rejected application', run: () => call('POST', `/admin/v1/applications/${seeded.rejected}/approve`, { headers: w(rejectedTag) }), status: 409, type: 'Onboarding.InvalidState' },
    { name: 'rejecting a rejected application', run: () => call('POST', `/admin/v1/applications/${seeded.rejected}/reject`, { body: { reason: 'sërish' }, headers: w(rejectedTag) }), status: 409, type: 'Onboarding.InvalidState' },
    { name: 'approving an unknown application', run: () => call('POST', '/admin/v1/applications/ap-0000/approve', { headers: w('"x"') }), status: 404, type: 'Onboarding.UnknownApplication' },
    { name: 'reading an unknown application', run: () => call('GET', '/admin/v1/applications/ap-0000'), status: 404, type: 'Onboarding.UnknownApplication' },
    { name: 'approving with a weak If-Match', run: () => call('POST', `${app}/approve`, { headers: w(`W/${appTag}`) }), status: 412, type: 'Admin.PreconditionFailed' },
    { name: 'approving with another application\'s ETag', run: () => call('POST', `${app}/approve`, { headers: w(rejectedTag) }), status: 412, type: 'Admin.PreconditionFailed' },
    { name: 'approving with If-Match: *', run: () => call('POST', `${app}/approve`, { headers: w('*') }), status: 428, type: 'Admin.PreconditionRequired' },
    { name: 'approving with an empty If-Match', run: () => call('POST', `${app}/approve`, { headers: w(' , ') }), status: 428, type: 'Admin.PreconditionRequired' },
    { name: 'deciding a decided request again', run: () => call('POST', '/admin/v1/access-requests/ar-decided/approve', { headers: w(decidedTag) }), status: 409, type: 'Onboarding.InvalidState' },
    { name: 'refusing a decided request', run: () => call('POST', '/admin/v1/access-requests/ar-decided/refuse', { body: { reason: 'vonë' }, headers: w(decidedTag) }), status: 409, type: 'Onboarding.InvalidState' },
    { name: 'refusing with a reason of blanks', run: () => call('POST', '/admin/v1/access-requests/ar-pending/refuse', { body: { reason: ' \t ' }, headers: w(pendingTag) }), status: 400, type: 'Onboarding.ReasonRequired' },
    { name: 'deciding with If-Match: *', run: () => call('POST', '/admin/v1/access-requests/ar-pending/approve', { headers: w('*') }), status: 428, type: 'Admin.PreconditionRequired' },
    { name: 'deciding an unknown request', run: () => call('POST', '/admin/v1/access-requests/ar-nuk-ka/approve', { headers: w('"x"') }), status: 404, type: 'Onboarding.UnknownAccessRequest' },
    { name: 'revoking an unknown serial', run: () => call('POST', '/admin/v1/certificates/ABCDEF0123/revoke', { body: { reason: 'x' }, headers: w('"x"') }), status: 404, type: 'Onboarding.UnknownCertificate' },
    { name: 'revoking a revoked certificate', run: () => call('POST', `/admin/v1/certificates/${seeded.revoked}/revoke`, { body: { reason: 'sërish' }, headers: w(revokedTag) }), status: 409, type: 'Onboarding.AlreadyRevoked' },
    { name: 'revoking with the list\'s ETag', run: () => call('POST', `/admin/v1/certificates/${seeded.tirana}/revoke`, { body: { reason: 'x' }, headers: w('"v1"') }), status: 412, type: 'Admin.PreconditionFailed' },

    // Certificates from bad CSRs.
    { name: 'a CSR of garbage', run: () => issue({ role: 'tls', owner: `${TIRANA}/taksat-vendore`, csr: 'not a csr' }), status: 400, type: 'Onboarding.InvalidCsr' },
    { name: 'a CSR for another subsystem', run: () => issue({ role: 'tls', owner: `${TIRANA}/gjendja-civile`, csr: tiranaCsr }), status: 400, type: 'Onboarding.CsrSubjectMismatch' },
    { name: 'a certificate for an unregistered owner', run: () => issue({ role: 'tls', owner: `${TIRANA}/nuk-ekziston`, csr: csr(`${TIRANA}/nuk-ekziston`).pem }), status: 400, type: 'Onboarding.UnknownClient' },
    { name: 'an operator certificate for nobody', run: () => issue({ role: 'operator', owner: 'askush', csr: csr('x', { serialNumber: null, cn: 'askush' }).pem }), status: 400, type: 'Onboarding.UnknownClient' },
    { name: 'a root role', run: () => issue({ role: 'root', owner: TIRANA, csr: tiranaCsr }), status: 400, type: 'Admin.InvalidBody' },
    { name: 'a 100 000-day certificate', run: () => issue({ role: 'tls', owner: `${TIRANA}/taksat-vendore`, csr: tiranaCsr, days: 100000 }), status: 400, type: 'Admin.InvalidBody' },
    { name: 'a 9000-character CSR', run: () => issue({ role: 'sign', owner: TIRANA, csr: 'A'.repeat(9000) }), status: 400, type: 'Admin.InvalidBody' },

    // Paths and query strings.
    { name: 'application id ..', run: () => rawPath('GET', '/admin/v1/applications/..', auth), status: 400, type: 'Admin.InvalidRequest' },
    { name: 'application id %2e%2e', run: () => rawPath('POST', '/admin/v1/applications/%2e%2e/approve', { ...auth, ...w(appTag) }), status: 400, type: 'Admin.InvalidRequest' },
    { name: 'an encoded slash in a serial', run: () => rawPath('GET', '/admin/v1/certificates/..%2f..%2foperators', auth), status: 400, type: 'Admin.InvalidRequest' },
    { name: 'a NUL in a request id', run: () => rawPath('GET', '/admin/v1/access-requests/ar-pending%00', auth), status: 400, type: 'Admin.InvalidRequest' },
    { name: 'a 100-character application id', run: () => call('GET', `/admin/v1/applications/${'a'.repeat(100)}`), status: 400, type: 'Admin.InvalidRequest' },
    { name: 'a 5000-character request id', run: () => call('GET', `/admin/v1/access-requests/${'a'.repeat(5000)}`), status: 400, type: 'Admin.InvalidRequest' },
    { name: 'a serial that is not hexadecimal', run: () => call('GET', '/admin/v1/certificates/XYZ'), status: 400, type: 'Admin.InvalidRequest' },
    { name: 'an undecodable path', run: () => rawPath('GET', '/admin/v1/applications/%zz', auth), status: 400, type: 'Admin.InvalidRequest' },
    { name: 'an unknown state', run: () => call('GET', '/admin/v1/applications?state=hacked'), status: 400, type: 'Admin.InvalidRequest' },
    { name: 'an unknown query parameter', run: () => call('GET', '/admin/v1/certificates?sort=serial'), status: 400, type: 'Admin.InvalidRequest' },
    { name: 'an outbox page of 0', run: () => call('GET', '/admin/v1/outbox?limit=0'), status: 400, type: 'Admin.InvalidRequest' },
    { name: 'an outbox cursor that is no number', run: () => call('GET', '/admin/v1/outbox?before=-1'), status: 400, type: 'Admin.InvalidRequest' },
    { name: 'DELETE on an application', run: () => call('DELETE', app, { headers: w(appTag) }), status: 404, type: 'Admin.NotFound' },
    { name: 'approve with GET', run: () => call('GET', `${app}/approve`), status: 404, type: 'Admin.NotFound' },

    // Credentials.
    { name: 'a forged token for a real id', run: () => call('GET', '/admin/v1/outbox', { token: `ura_sa-test_${randomBytes(32).toString('hex')}` }), status: 401, type: 'Admin.Unauthenticated' },
    { name: 'a garbled token', run: () => call('GET', '/admin/v1/applications', { token: 'ura_' }), status: 401, type: 'Admin.Unauthenticated' },
    { name: 'a token with a second word', run: () => rig.call('GET', '/admin/v1/applications', { headers: { authorization: `Bearer ${sa} ${sa}` } }), status: 401, type: 'Admin.Unauthenticated' },
    { name: 'a token in the query string', run: () => rig.call('GET', `/admin/v1/applications?access_token=${sa}`), status: 401, type: 'Admin.Unauthenticated' },
    { name: 'an expired token', run: () => call('GET', '/admin/v1/outbox', { token: `ura_skaduar-test_${'0'.repeat(64)}` }), status: 401, type: 'Admin.Unauthenticated' },
    { name: 'the status token of an applicant', run: () => call('GET', '/admin/v1/applications', { token: `uas_${'A'.repeat(43)}` }), status: 401, type: 'Admin.Unauthenticated' },
    { name: 'no credential on approve', run: () => rig.call('POST', `${app}/approve`, { headers: w(appTag) }), status: 401, type: 'Admin.Unauthenticated' },

    // Roles.
    { name: 'an observer approves', run: () => call('POST', `${app}/approve`, as(rig.tokens.obs, { headers: w(appTag) })), status: 403, type: 'Admin.Forbidden' },
    { name: 'a service administrator reads an application', run: () => call('GET', app, as(rig.tokens.svc)), status: 403, type: 'Admin.Forbidden' },
    { name: 'a scoped administrator reads a letter', run: () => call('GET', `${app}/letter`, as(rig.tokens['svc-tirana'])), status: 403, type: 'Admin.Forbidden' },
    { name: 'a scoped administrator reads the outbox', run: () => call('GET', '/admin/v1/outbox', as(rig.tokens['svc-tirana'])), status: 403, type: 'Admin.Forbidden' },
    { name: 'a scoped administrator revokes another member\'s certificate', run: () => call('POST', `/admin/v1/certificates/${seeded.civil}/revoke`, as(rig.tokens['svc-tirana'], { body: { reason: 'x' }, headers: w('"x"') })), status: 403, type: 'Admin.Forbidden' },
    { name: 'a scoped administrator asks for another member\'s client', run: () => ask(askBody, as(rig.tokens['svc-tirana'])), status: 403, type: 'Admin.Forbidden' },
    { name: 'an observer issues a certificate', run: () => issue({ role: 'tls', owner: `${TIRANA}/taksat-vendore`, csr: tiranaCsr }, as(rig.tokens.obs)), status: 403, type: 'Admin.Forbidden' },
    { name: 'a registration officer decides access', run: () => call('POST', '/admin/v1/access-requests/ar-pending/refuse', as(rig.tokens.ro, { body: { reason: 'x' }, headers: w(pendingTag) })), status: 403, type: 'Admin.Forbidden' },
    { name: 'a scoped administrator issues an operator certificate', run: () => issue({ role: 'operator', owner: 'svc-tirana', csr: csr('x', { serialNumber: null, cn: 'svc-tirana' }).pem }, as(rig.tokens['svc-tirana'])), status: 403, type: 'Admin.Forbidden' },
  ]
  const hostile = cases
  t.ok(hostile.length >= 50, `${hostile.length} hostile cases`)

  const start = await rig.store.current()
  const seen = new Set<string>()
  const requestIds: string[] = []
  for (const c of hostile) {
    const before = (await rig.store.current()).version
    const answer = await c.run()
    t.equal(`${answer.status} ${answer.json?.type as string}`, `${c.status} ${c.type}`, `${c.name}: ${String(answer.json?.message ?? answer.text.slice(0, 200))}`)
    t.same(Object.keys(answer.json ?? {}).sort(), ['detail', 'message', 'type'], `${c.name}: {type, message, detail}`)
    t.equal(CODES[answer.json?.type], answer.status, `${c.name}: a documented code with its status`)
    t.equal(answer.json?.detail?.requestId, answer.headers['x-request-id'], `${c.name}: the detail names the request`)
    t.equal((await rig.store.current()).version, before, `${c.name}: the registry did not move`)
    t.equal((await rig.call('GET', '/admin/v1/me', { token: sa })).status, 200, `${c.name}: the listener still answers`)
    seen.add(c.type)
    if (typeof answer.json?.detail?.requestId === 'string') requestIds.push(answer.json.detail.requestId)
  }
  t.ok(seen.size >= 15, `${seen.size} different codes answered`)
  const end = await rig.store.current()
  t.equal(end.version, start.version, 'no refused request moved the registry')
  t.equal(canonicalJson(end.content), canonicalJson(start.content), 'nothing half-applied')
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was polluted')
  t.equal(({} as Record<string, unknown>).isAdmin, undefined, 'no prototype was polluted')

  // Every refusal under /admin/v1 that reached a route's scope is in the audit trail, with its code.
  const trail = await rig.trail.list({ limit: 100000 })
  const byRequest = new Map(trail.map(r => [r.requestId, r]))
  const missing = hostile.filter((c, i) => byRequest.get(requestIds[i])?.errorCode !== c.type).map(c => c.name)
  t.same(missing, ['a 5000-character request id', 'an undecodable path'], 'each refusal is recorded with its code (a URL the router refuses never reaches the API)')

  // And the steps done properly work: the provider's administrator decides, the officer approves.
  const decided = await rig.call('POST', '/admin/v1/access-requests/ar-pending/approve', as(rig.tokens['svc-tirana'], { headers: w(pendingTag) }))
  t.equal(decided.status, 200, decided.text)
  const approved = await call('POST', `${app}/approve`, { headers: w(appTag) })
  t.equal(approved.status, 200, approved.text)
  t.equal((await rig.store.current()).version, start.version + 2)
})
