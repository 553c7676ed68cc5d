/**
 * The roles matrix (admin/roles.ts) against the running admin API: every route is called by an
 * operator of each of the five roles, and by a service administrator scoped to Bashkia Tiranë on
 * Tirana's entries and on the civil registry's. Each call the matrix allows succeeds (and is undone
 * straight in the store); each it forbids gets 403 Admin.Forbidden and changes nothing. Every change
 * the walk made is then read back from the audit trail with its states, which digest to exactly
 * what the trail signed. The table in docs/admin-api.md is the one the matrix generates.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import t from 'tap'
import { caIssuer, issueCertificate, submitApplication } from '../admin/onboarding/index.ts'
import { ACTIONS, rolesTable, ROLES_TABLE_BEGIN, ROLES_TABLE_END, type ActionRule } from '../admin/roles.ts'
import { createRootCa } from '../certs/pki.ts'
import type { RoleGrant } from '../config/registry-sections.ts'
import { CIVIL, E_ALBANIA_CLIENT, nid, startAdminRig, TEST_OPERATORS, TIRANA, type AdminRig } from './support/admin.ts'
import { logExchange } from './support/message-log.ts'
import { applicant, csr, formBody, PDF, withCheckLetter } from './support/onboarding.ts'

const SPARE_MEMBER = 'AL-DEV/NJQV/J61902003J'
const p = (id: string): string => id.replaceAll('/', ':')

interface Target {
  member: string
  official: string
  /** A pending access request for one of the member's services, and a certificate of its spare subsystem (seeded). */
  request: string
  service: string
  serial: string
  /** The member's room with one of its event types, and a pending pull subscription of its spare subsystem to it (seeded). */
  room: string
  eventType: string
  subscription: string
  /** A CSR for the member's spare subsystem. */
  csr: string
  /** An exchange with one of the member's services in the message log, and its request record (body kept). */
  message: string
  bodySeq: number
}
const TARGETS: Record<string, Target> = {
  tirana: { member: TIRANA, official: 'K16102045M', request: 'ar-tirana', room: `${TIRANA}/transparenca`, eventType: 'vendim', subscription: 'sub-tirana', service: `${TIRANA}/taksat-vendore/detyrimet`, serial: '', csr: csr(`${TIRANA}/rezerve`).pem, message: 'mesazh-tirana', bodySeq: 0 },
  civil: { member: CIVIL, official: nid('A', '11223344'), request: 'ar-civil', room: `${CIVIL}/ngjarje-civile`, eventType: 'lindje', subscription: 'sub-civil', service: `${CIVIL}/regjistri-civil/kerkoShtetas`, serial: '', csr: csr(`${CIVIL}/rezerve`).pem, message: 'mesazh-civil', bodySeq: 0 },
}
/** The submitted application the onboarding routes are walked on (seeded). */
let application = ''
const letterSha256 = createHash('sha256').update(PDF).digest('hex')

interface Call {
  path: string
  body?: unknown
  /** Where the If-Match of a write comes from: a path to GET, or `*`. Reads have none. */
  ifMatch?: string
  status: number
  /** The member the call acts on, for member-scoped roles. */
  member?: string
  /** A change outside the registry: X-Ura-Reason without If-Match. */
  reason?: true
}

interface Case {
  method: string
  url: string
  /** The route filters by the members the operator may see (any scoped grant of an allowed role will do). */
  list?: boolean
  /** Depends on the target member (run on Tirana's and on the civil registry's entries). */
  targeted?: boolean
  call (target: Target): Call
}

const spareService = (m: string): string => `${p(m)}:rezerve:rezerve`
/** Each target member's store-and-forward queue (its spare service's), holding one job. */
const queueName = (x: Target): string => `svc.${x.member}/rezerve/rezerve`
const queueParam = (x: Target): string => encodeURIComponent(queueName(x))
const JOB_ID = `${E_ALBANIA_CLIENT} mesazh-radhe`
const serviceBody = (m: string, code: string): Record<string, unknown> => ({ provider: `${m}/rezerve`, code, type: 'rest', adapter: { kind: 'rest', url: 'http://127.0.0.1:9/prova' } })
const right = (m: string): unknown[] => {
  const [, memberClass, memberCode] = m.split('/')
  return [{ memberClass, memberCode, applicationId: 'rezerve', serviceId: 'rezerve', rights: [{ memberClass: 'GOV', memberCode: 'K11503002N', applicationId: 'e-albania' }] }]
}

const CASES: Case[] = [
  { method: 'GET', url: '/admin/v1/me', call: () => ({ path: '/admin/v1/me', status: 200 }) },
  { method: 'GET', url: '/admin/v1/node', call: () => ({ path: '/admin/v1/node', status: 200 }) },

  { method: 'GET', url: '/admin/v1/members', list: true, call: () => ({ path: '/admin/v1/members', status: 200 }) },
  { method: 'GET', url: '/admin/v1/members/:member', targeted: true, call: x => ({ path: `/admin/v1/members/${p(x.member)}`, status: 200, member: x.member }) },
  { method: 'POST', url: '/admin/v1/members', call: () => ({ path: '/admin/v1/members', body: { class: 'NJQV', code: 'K62103002E', name: 'Bashkia Korçë' }, ifMatch: '*', status: 201, member: 'AL-DEV/NJQV/K62103002E' }) },
  { method: 'PATCH', url: '/admin/v1/members/:member', call: () => ({ path: `/admin/v1/members/${p(SPARE_MEMBER)}`, body: { name: 'Bashkia e Shkodrës' }, ifMatch: `/admin/v1/members/${p(SPARE_MEMBER)}`, status: 200, member: SPARE_MEMBER }) },
  { method: 'DELETE', url: '/admin/v1/members/:member', call: () => ({ path: `/admin/v1/members/${p(SPARE_MEMBER)}`, ifMatch: `/admin/v1/members/${p(SPARE_MEMBER)}`, status: 204, member: SPARE_MEMBER }) },

  { method: 'GET', url: '/admin/v1/members/:member/subsystems', targeted: true, call: x => ({ path: `/admin/v1/members/${p(x.member)}/subsystems`, status: 200, member: x.member }) },
  { method: 'GET', url: '/admin/v1/members/:member/subsystems/:subsystem', targeted: true, call: x => ({ path: `/admin/v1/members/${p(x.member)}/subsystems/rezerve`, status: 200, member: x.member }) },
  { method: 'POST', url: '/admin/v1/members/:member/subsystems', targeted: true, call: x => ({ path: `/admin/v1/members/${p(x.member)}/subsystems`, body: { code: 'prova', connection: 'http' }, ifMatch: '*', status: 201, member: x.member }) },
  { method: 'PATCH', url: '/admin/v1/members/:member/subsystems/:subsystem', targeted: true, call: x => ({ path: `/admin/v1/members/${p(x.member)}/subsystems/rezerve`, body: { name: 'Sistemi rezervë', certificates: ['ab'.repeat(32)] }, ifMatch: `/admin/v1/members/${p(x.member)}/subsystems/rezerve`, status: 200, member: x.member }) },
  { method: 'DELETE', url: '/admin/v1/members/:member/subsystems/:subsystem', targeted: true, call: x => ({ path: `/admin/v1/members/${p(x.member)}/subsystems/bosh`, ifMatch: `/admin/v1/members/${p(x.member)}/subsystems/bosh`, status: 204, member: x.member }) },

  { method: 'GET', url: '/admin/v1/members/:member/officials', targeted: true, call: x => ({ path: `/admin/v1/members/${p(x.member)}/officials`, status: 200, member: x.member }) },
  { method: 'GET', url: '/admin/v1/members/:member/officials/:nid', targeted: true, call: x => ({ path: `/admin/v1/members/${p(x.member)}/officials/${x.official}`, status: 200, member: x.member }) },
  { method: 'POST', url: '/admin/v1/members/:member/officials', targeted: true, call: x => ({ path: `/admin/v1/members/${p(x.member)}/officials`, body: { nid: nid('B', '55667788'), name: 'Elira Kola', role: 'Specialiste', validUntil: '2027-06-30' }, ifMatch: '*', status: 201, member: x.member }) },
  { method: 'PUT', url: '/admin/v1/members/:member/officials/:nid', targeted: true, call: x => ({ path: `/admin/v1/members/${p(x.member)}/officials/${x.official}`, body: { name: 'Emër i ri', role: 'Nëpunës', validUntil: '2029-12-31' }, ifMatch: `/admin/v1/members/${p(x.member)}/officials/${x.official}`, status: 200, member: x.member }) },
  { method: 'DELETE', url: '/admin/v1/members/:member/officials/:nid', targeted: true, call: x => ({ path: `/admin/v1/members/${p(x.member)}/officials/${x.official}`, ifMatch: `/admin/v1/members/${p(x.member)}/officials/${x.official}`, status: 204, member: x.member }) },

  { method: 'GET', url: '/admin/v1/services', list: true, call: () => ({ path: '/admin/v1/services', status: 200 }) },
  { method: 'GET', url: '/admin/v1/services/:service', targeted: true, call: x => ({ path: `/admin/v1/services/${spareService(x.member)}`, status: 200, member: x.member }) },
  { method: 'POST', url: '/admin/v1/services', targeted: true, call: x => ({ path: '/admin/v1/services', body: serviceBody(x.member, 'prova'), ifMatch: '*', status: 201, member: x.member }) },
  { method: 'PUT', url: '/admin/v1/services/:service', targeted: true, call: x => ({ path: `/admin/v1/services/${spareService(x.member)}`, body: { ...serviceBody(x.member, 'rezerve'), timeoutMs: 7000 }, ifMatch: `/admin/v1/services/${spareService(x.member)}`, status: 200, member: x.member }) },
  { method: 'PATCH', url: '/admin/v1/services/:service', targeted: true, call: x => ({ path: `/admin/v1/services/${spareService(x.member)}`, body: { catalogue: { category: 'prova' } }, ifMatch: `/admin/v1/services/${spareService(x.member)}`, status: 200, member: x.member }) },
  { method: 'POST', url: '/admin/v1/services/:service/disable', targeted: true, call: x => ({ path: `/admin/v1/services/${spareService(x.member)}/disable`, body: { notice: 'Mirëmbajtje' }, ifMatch: `/admin/v1/services/${spareService(x.member)}`, status: 200, member: x.member }) },
  { method: 'POST', url: '/admin/v1/services/:service/enable', targeted: true, call: x => ({ path: `/admin/v1/services/${spareService(x.member)}/enable`, ifMatch: `/admin/v1/services/${spareService(x.member)}`, status: 200, member: x.member }) },
  { method: 'DELETE', url: '/admin/v1/services/:service', targeted: true, call: x => ({ path: `/admin/v1/services/${spareService(x.member)}`, ifMatch: `/admin/v1/services/${spareService(x.member)}`, status: 204, member: x.member }) },

  { method: 'GET', url: '/admin/v1/groups', call: () => ({ path: '/admin/v1/groups', status: 200 }) },
  { method: 'GET', url: '/admin/v1/groups/:group', call: () => ({ path: '/admin/v1/groups/rezerve', status: 200 }) },
  { method: 'POST', url: '/admin/v1/groups', call: () => ({ path: '/admin/v1/groups', body: { name: 'prova', clients: [E_ALBANIA_CLIENT] }, ifMatch: '*', status: 201 }) },
  { method: 'PUT', url: '/admin/v1/groups/:group', call: () => ({ path: '/admin/v1/groups/rezerve', body: { clients: [E_ALBANIA_CLIENT] }, ifMatch: '/admin/v1/groups/rezerve', status: 200 }) },
  { method: 'DELETE', url: '/admin/v1/groups/:group', call: () => ({ path: '/admin/v1/groups/rezerve', ifMatch: '/admin/v1/groups/rezerve', status: 204 }) },

  { method: 'GET', url: '/admin/v1/grants', list: true, call: () => ({ path: '/admin/v1/grants', status: 200 }) },
  { method: 'GET', url: '/admin/v1/grants/:service', targeted: true, call: x => ({ path: `/admin/v1/grants/${spareService(x.member)}`, status: 200, member: x.member }) },
  { method: 'PUT', url: '/admin/v1/grants/:service', targeted: true, call: x => ({ path: `/admin/v1/grants/${spareService(x.member)}`, body: { entries: [{ clients: [E_ALBANIA_CLIENT], endpoints: [{ method: 'GET', path: '/*' }] }] }, ifMatch: `/admin/v1/grants/${spareService(x.member)}`, status: 200, member: x.member }) },
  { method: 'DELETE', url: '/admin/v1/grants/:service', targeted: true, call: x => ({ path: `/admin/v1/grants/${spareService(x.member)}`, ifMatch: `/admin/v1/grants/${spareService(x.member)}`, status: 204, member: x.member }) },
  { method: 'GET', url: '/admin/v1/rights/allow', list: true, call: () => ({ path: '/admin/v1/rights/allow', status: 200 }) },
  { method: 'GET', url: '/admin/v1/rights/deny', list: true, call: () => ({ path: '/admin/v1/rights/deny', status: 200 }) },
  { method: 'PATCH', url: '/admin/v1/rights/allow', targeted: true, call: x => ({ path: '/admin/v1/rights/allow', body: right(x.member), ifMatch: '*', status: 200, member: x.member }) },
  { method: 'PATCH', url: '/admin/v1/rights/deny', targeted: true, call: x => ({ path: '/admin/v1/rights/deny', body: right(x.member), ifMatch: '*', status: 200, member: x.member }) },

  { method: 'GET', url: '/admin/v1/operators', call: () => ({ path: '/admin/v1/operators', status: 200 }) },
  { method: 'GET', url: '/admin/v1/operators/:operator', call: () => ({ path: '/admin/v1/operators/rezerve', status: 200 }) },
  { method: 'POST', url: '/admin/v1/operators', call: () => ({ path: '/admin/v1/operators', body: { id: 'prova', name: 'Operator prove', roles: [{ role: 'observer' }] }, ifMatch: '*', status: 201 }) },
  { method: 'PATCH', url: '/admin/v1/operators/:operator', call: () => ({ path: '/admin/v1/operators/rezerve', body: { roles: [{ role: 'service-administrator', member: TIRANA }] }, ifMatch: '/admin/v1/operators/rezerve', status: 200 }) },
  { method: 'PUT', url: '/admin/v1/operators/:operator/certificates', call: () => ({ path: '/admin/v1/operators/rezerve/certificates', body: { certificates: ['cd'.repeat(32)] }, ifMatch: '/admin/v1/operators/rezerve', status: 200 }) },
  { method: 'PUT', url: '/admin/v1/operators/:operator/login', call: () => ({ path: '/admin/v1/operators/rezerve/login', body: { username: 'rezerve.user', password: 'a long enough password' }, ifMatch: '/admin/v1/operators/rezerve', status: 200 }) },
  { method: 'DELETE', url: '/admin/v1/operators/:operator/login', call: () => ({ path: '/admin/v1/operators/rezerve/login', ifMatch: '/admin/v1/operators/rezerve', status: 200 }) },
  { method: 'DELETE', url: '/admin/v1/operators/:operator', call: () => ({ path: '/admin/v1/operators/rezerve', ifMatch: '/admin/v1/operators/rezerve', status: 204 }) },
  { method: 'GET', url: '/admin/v1/operators/:operator/tokens', call: () => ({ path: '/admin/v1/operators/rezerve/tokens', status: 200 }) },
  { method: 'GET', url: '/admin/v1/operators/:operator/tokens/:token', call: () => ({ path: '/admin/v1/operators/rezerve/tokens/rezerve-token', status: 200 }) },
  { method: 'POST', url: '/admin/v1/operators/:operator/tokens', call: () => ({ path: '/admin/v1/operators/rezerve/tokens', body: { label: 'prova' }, ifMatch: '*', status: 201 }) },
  { method: 'DELETE', url: '/admin/v1/operators/:operator/tokens/:token', call: () => ({ path: '/admin/v1/operators/rezerve/tokens/rezerve-token', ifMatch: '/admin/v1/operators/rezerve/tokens/rezerve-token', status: 204 }) },

  { method: 'GET', url: '/admin/v1/versions', call: () => ({ path: '/admin/v1/versions', status: 200 }) },
  { method: 'GET', url: '/admin/v1/versions/:version', call: () => ({ path: '/admin/v1/versions/1', status: 200 }) },
  { method: 'GET', url: '/admin/v1/versions/:version/diff/:other', call: () => ({ path: '/admin/v1/versions/1/diff/1', status: 200 }) },
  { method: 'POST', url: '/admin/v1/versions/:version/rollback', call: () => ({ path: '/admin/v1/versions/1/rollback', ifMatch: '/admin/v1/versions', status: 200 }) },
  { method: 'GET', url: '/admin/v1/audit', call: () => ({ path: '/admin/v1/audit?limit=5', status: 200 }) },

  { method: 'GET', url: '/admin/v1/applications', call: () => ({ path: '/admin/v1/applications?state=submitted', status: 200 }) },
  { method: 'GET', url: '/admin/v1/applications/:application', call: () => ({ path: `/admin/v1/applications/${application}`, status: 200 }) },
  { method: 'GET', url: '/admin/v1/applications/:application/letter', call: () => ({ path: `/admin/v1/applications/${application}/letter`, status: 200 }) },
  { method: 'POST', url: '/admin/v1/applications/:application/approve', call: () => ({ path: `/admin/v1/applications/${application}/approve`, ifMatch: `/admin/v1/applications/${application}`, status: 200 }) },
  { method: 'POST', url: '/admin/v1/applications/:application/reject', call: () => ({ path: `/admin/v1/applications/${application}/reject`, body: { reason: 'letra nuk është e vulosur' }, ifMatch: `/admin/v1/applications/${application}`, status: 200 }) },

  { method: 'GET', url: '/admin/v1/access-requests', list: true, call: () => ({ path: '/admin/v1/access-requests?state=pending', status: 200 }) },
  { method: 'GET', url: '/admin/v1/access-requests/:request', targeted: true, call: x => ({ path: `/admin/v1/access-requests/${x.request}`, status: 200, member: x.member }) },
  { method: 'POST', url: '/admin/v1/access-requests', targeted: true, call: x => ({ path: '/admin/v1/access-requests', body: { client: `${x.member}/rezerve`, service: `${CIVIL}/regjistri-civil/kerkoShtetas`, purpose: 'verifikim i gjendjes civile' }, ifMatch: '*', status: 201, member: x.member }) },
  { method: 'POST', url: '/admin/v1/access-requests/:request/approve', targeted: true, call: x => ({ path: `/admin/v1/access-requests/${x.request}/approve`, ifMatch: `/admin/v1/access-requests/${x.request}`, status: 200, member: x.member }) },
  { method: 'POST', url: '/admin/v1/access-requests/:request/refuse', targeted: true, call: x => ({ path: `/admin/v1/access-requests/${x.request}/refuse`, body: { reason: 'pa bazë ligjore' }, ifMatch: `/admin/v1/access-requests/${x.request}`, status: 200, member: x.member }) },

  { method: 'GET', url: '/admin/v1/subscriptions', list: true, call: () => ({ path: '/admin/v1/subscriptions?state=pending', status: 200 }) },
  { method: 'GET', url: '/admin/v1/subscriptions/:subscription', targeted: true, call: x => ({ path: `/admin/v1/subscriptions/${x.subscription}`, status: 200, member: x.member }) },
  { method: 'POST', url: '/admin/v1/subscriptions', targeted: true, call: x => ({ path: '/admin/v1/subscriptions', body: { room: x.room, eventTypes: [x.eventType], subscriber: `${x.member}/bosh`, mode: 'pull' }, ifMatch: '*', status: 201, member: x.member }) },
  { method: 'POST', url: '/admin/v1/subscriptions/:subscription/approve', targeted: true, call: x => ({ path: `/admin/v1/subscriptions/${x.subscription}/approve`, ifMatch: `/admin/v1/subscriptions/${x.subscription}`, status: 200, member: x.member }) },
  { method: 'POST', url: '/admin/v1/subscriptions/:subscription/refuse', targeted: true, call: x => ({ path: `/admin/v1/subscriptions/${x.subscription}/refuse`, body: { reason: 'jo për këtë sistem' }, ifMatch: `/admin/v1/subscriptions/${x.subscription}`, status: 200, member: x.member }) },
  { method: 'POST', url: '/admin/v1/subscriptions/:subscription/withdraw', targeted: true, call: x => ({ path: `/admin/v1/subscriptions/${x.subscription}/withdraw`, ifMatch: `/admin/v1/subscriptions/${x.subscription}`, status: 200, member: x.member }) },

  { method: 'GET', url: '/admin/v1/certificates', list: true, call: () => ({ path: '/admin/v1/certificates', status: 200 }) },
  { method: 'GET', url: '/admin/v1/certificates/:serial', targeted: true, call: x => ({ path: `/admin/v1/certificates/${x.serial}`, status: 200, member: x.member }) },
  { method: 'POST', url: '/admin/v1/certificates', targeted: true, call: x => ({ path: '/admin/v1/certificates', body: { role: 'tls', owner: `${x.member}/rezerve`, csr: x.csr }, ifMatch: '*', status: 201, member: x.member }) },
  { method: 'POST', url: '/admin/v1/certificates/:serial/revoke', targeted: true, call: x => ({ path: `/admin/v1/certificates/${x.serial}/revoke`, body: { reason: 'çelësi u komprometua' }, ifMatch: `/admin/v1/certificates/${x.serial}`, status: 200, member: x.member }) },
  { method: 'GET', url: '/admin/v1/revocations', call: () => ({ path: '/admin/v1/revocations', status: 200 }) },
  { method: 'GET', url: '/admin/v1/outbox', call: () => ({ path: '/admin/v1/outbox?limit=5', status: 200 }) },
  { method: 'GET', url: '/admin/v1/audit/:seq', call: () => ({ path: '/admin/v1/audit/1', status: 200 }) },

  { method: 'GET', url: '/admin/v1/log', list: true, call: () => ({ path: '/admin/v1/log?limit=5', status: 200 }) },
  { method: 'GET', url: '/admin/v1/log/:messageId', targeted: true, call: x => ({ path: `/admin/v1/log/${x.message}`, status: 200, member: x.member }) },
  { method: 'GET', url: '/admin/v1/log/:messageId/evidence', targeted: true, call: x => ({ path: `/admin/v1/log/${x.message}/evidence`, status: 200, member: x.member }) },
  { method: 'GET', url: '/admin/v1/log/:messageId/records/:seq/body', targeted: true, call: x => ({ path: `/admin/v1/log/${x.message}/records/${x.bodySeq}/body`, status: 200, member: x.member }) },
  { method: 'GET', url: '/admin/v1/traffic', list: true, call: () => ({ path: '/admin/v1/traffic', status: 200 }) },

  { method: 'GET', url: '/admin/v1/queues', list: true, call: () => ({ path: '/admin/v1/queues', status: 200 }) },
  { method: 'GET', url: '/admin/v1/queues/:queue', targeted: true, call: x => ({ path: `/admin/v1/queues/${queueParam(x)}`, status: 200, member: x.member }) },
  { method: 'GET', url: '/admin/v1/queues/:queue/jobs', targeted: true, call: x => ({ path: `/admin/v1/queues/${queueParam(x)}/jobs?state=queued`, status: 200, member: x.member }) },
  { method: 'GET', url: '/admin/v1/queues/:queue/jobs/:id', targeted: true, call: x => ({ path: `/admin/v1/queues/${queueParam(x)}/jobs/${encodeURIComponent(JOB_ID)}`, status: 200, member: x.member }) },
  { method: 'POST', url: '/admin/v1/queues/:queue/redrive', targeted: true, call: x => ({ path: `/admin/v1/queues/${queueParam(x)}/redrive`, body: {}, reason: true, status: 200, member: x.member }) },
]

/** What the matrix says, read straight from its data. */
function allowed (roles: RoleGrant[], action: string, c: Case, call: Call): boolean {
  const rule = (ACTIONS as Record<string, ActionRule>)[action]
  return roles.some(g => {
    if (!(rule.roles as readonly string[]).includes(g.role)) return false
    if (g.member === undefined || rule.scope === 'any') return true
    return rule.scope === 'member' && (c.list === true || g.member === call.member)
  })
}

/** Actions that change something other than the registry. */
const NOT_REGISTRY = new Set(['queue.redrive'])

let rig: AdminRig
t.before(async () => {
  rig = await startAdminRig({
    messageLog: true,
    delivery: true,
    seed: c => {
      for (const m of c.members) {
        const id = `AL-DEV/${m.class}/${m.code}`
        if (id !== TIRANA && id !== CIVIL) continue
        m.subsystems.push({ code: 'rezerve', connection: 'http' }, { code: 'bosh', connection: 'http' })
        c.services.push({ ...serviceBody(id, 'rezerve') } as never)
        if (id === CIVIL) m.officials = [{ nid: TARGETS.civil.official, name: 'Mira Hoxha', role: 'Nëpunëse', validUntil: '2028-01-31' }]
      }
      c.members.push({ class: 'NJQV', code: 'J61902003J', name: 'Bashkia Shkodër', subsystems: [] })
      c.groups.rezerve = []
      c.operators.push({ id: 'rezerve', name: 'Operator rezervë', roles: [{ role: 'observer' }], tokens: [{ id: 'rezerve-token', sha256: 'e'.repeat(64), createdAt: '2026-01-01T00:00:00Z' }] })
      // Onboarding: a submitted application, and per target member a pending access request to one of
      // its services and a certificate of its spare subsystem.
      const now = new Date()
      const submitted = submitApplication(c, { body: formBody(applicant(withCheckLetter('K72301041')).fields), letter: { sha256: letterSha256, bytes: PDF.length }, instance: 'AL-DEV', now })
      application = submitted.id
      Object.assign(c, submitted.content)
      const issue = caIssuer(createRootCa())
      for (const x of Object.values(TARGETS)) {
        c.accessRequests.push({ id: x.request, client: E_ALBANIA_CLIENT, service: x.service, purpose: 'prova', state: 'pending', requestedBy: 'ealbania-admin', requestedAt: now.toISOString() })
        // Each target member owns a room (the demo's rooms file is not part of this rig's seed).
        c.rooms.push({ room: x.room, publishers: [], eventTypes: [{ name: x.eventType, schema: { type: 'object' } }], maxEventBytes: 65536, autoApprove: false })
        c.subscriptions.push({ id: x.subscription, room: x.room, eventTypes: [x.eventType], subscriber: `${x.member}/rezerve`, mode: 'pull', state: 'pending', requestedBy: 'test', requestedAt: now.toISOString() })
        const issued = issueCertificate(c, { csr: csr(`${x.member}/rezerve`).pem, role: 'tls', owner: `${x.member}/rezerve`, by: 'test', now, issue })
        x.serial = issued.certificate.serial
        Object.assign(c, issued.content)
      }
    },
  })
  await rig.store.putBlob(PDF, 'application/pdf')
  for (const x of Object.values(TARGETS)) {
    await rig.queue!.define(queueName(x), { retry: { limit: 0, delayMs: 1000, backoff: false, maxDelayMs: 1000 }, ttlMs: 0, fifo: false, keepMs: 3_600_000 })
    await rig.queue!.enqueue([{ queue: queueName(x), id: JOB_ID, payload: Buffer.from('{"njoftim":1}') }])
  }
  for (const x of Object.values(TARGETS)) {
    await logExchange(rig.log!.recorder, { messageId: x.message, client: E_ALBANIA_CLIENT, service: x.service, at: new Date(), body: '{"pyetje":1}', keepBody: true })
    x.bodySeq = (await rig.log!.store.byMessageId(x.message))[0].seq
  }
})
t.teardown(() => rig.close())

t.test('every route of the admin API has a case here, and every action of the matrix a route', async t => {
  const routes = rig.admin.routes.map(r => `${r.method} ${r.url}`).sort()
  t.same(CASES.map(c => `${c.method} ${c.url}`).sort(), routes, 'one case per route')
  const routed = new Set(rig.admin.routes.map(r => r.action))
  t.same(Object.keys(ACTIONS).filter(a => !routed.has(a)), [], 'no action without a route')
})

t.test('each role may do what the matrix says and nothing else; forbidden calls change nothing', async t => {
  const actionOf = new Map(rig.admin.routes.map(r => [`${r.method} ${r.url}`, r.action]))
  let walked = 0
  for (const c of CASES) {
    const action = actionOf.get(`${c.method} ${c.url}`)!
    const runs: Array<[string, Target]> = Object.keys(TEST_OPERATORS).map(op => [op, TARGETS.tirana])
    if (c.targeted === true) runs.push(['svc-tirana', TARGETS.civil])
    for (const [op, target] of runs) {
      const call = c.call(target)
      const expect = allowed(TEST_OPERATORS[op], action, c, call)
      const before = await rig.store.current()
      const headers: Record<string, string> = {}
      if (call.reason === true) headers['x-ura-reason'] = `matrix: ${op} ${action}`
      if (call.ifMatch !== undefined) {
        headers['x-ura-reason'] = `matrix: ${op} ${action}`
        headers['if-match'] = call.ifMatch === '*' ? '*' : (await rig.call('GET', call.ifMatch, { token: rig.tokens.sa })).headers.etag as string
      }
      const res = await rig.call(c.method, call.path, { token: rig.tokens[op], headers, ...(call.body === undefined ? {} : { body: call.body }) })
      const after = await rig.store.current()
      const what = `${op} ${c.method} ${call.path} (${action})`
      walked++
      if (expect) {
        t.equal(res.status, call.status, `${what}: allowed`, { body: res.text.slice(0, 300) })
        // Undone in the store, so every call starts from the same registry.
        if (after.version !== before.version) await rig.store.commit(before.content, { who: 'test', why: 'undo', expectedVersion: after.version })
      } else {
        t.equal(res.status, 403, `${what}: forbidden`, { body: res.text.slice(0, 300) })
        t.equal(res.json?.type, 'Admin.Forbidden', `${what}: Admin.Forbidden`)
        t.equal(after.version, before.version, `${what}: nothing changed`)
      }
    }
  }
  t.ok(walked >= 300, `${walked} calls`)
})

t.test('every change of the walk reads back from the audit trail with the states it signed', async t => {
  // Re-driving a delivery queue changes the queue, not the registry: its states are digested, but no version holds them.
  const changes = (await rig.trail.list({ limit: 100000 })).filter(r => (r.beforeDigest !== null || r.afterDigest !== null) && !NOT_REGISTRY.has(r.action))
  const actions = new Set<string>()
  for (const r of changes) {
    const res = await rig.call('GET', `/admin/v1/audit/${r.seq}`, { token: rig.tokens.sa })
    t.equal(res.status, 200, res.text.slice(0, 300))
    t.same([res.json.states, res.json.verified], ['reconstructed', true], `record ${r.seq} (${r.action} on ${r.target})`, { note: res.json.note })
    t.ok(r.registryBase !== null, `record ${r.seq} names the version it was made on`)
    actions.add(r.action)
  }
  const changing = Object.keys(ACTIONS).filter(a => !NOT_REGISTRY.has(a)).filter(a => CASES.some(c => c.method !== 'GET' && rig.admin.routes.some(r => r.action === a && r.method === c.method && r.url === c.url)))
  t.same(changing.filter(a => !actions.has(a)), [], 'every action that changes the registry was checked')
})

t.test('docs/admin-api.md holds the table the matrix generates', async t => {
  const page = readFileSync(resolve(import.meta.dirname, '../docs/admin-api.md'), 'utf8')
  const from = page.indexOf(ROLES_TABLE_BEGIN)
  const to = page.indexOf(ROLES_TABLE_END)
  t.ok(from >= 0 && to > from, 'the page has the markers')
  t.equal(page.slice(from + ROLES_TABLE_BEGIN.length, to).trim(), rolesTable(), 'regenerate it from rolesTable() in admin/roles.ts when the matrix changes')
})
