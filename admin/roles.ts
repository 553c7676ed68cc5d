/**
 * Who may do what through the admin API, written once as data: every action with the roles that
 * may take it (after X-Road's five security-server roles) and how a role scoped to one member
 * applies. The routes enforce it through `authorize`, the OpenAPI document names each route's roles
 * from it, and the table in docs/admin-api.md is generated from it (a test holds the page to it).
 */
import type { FastifyRequest } from 'fastify'
import { OPERATOR_ROLES, type OperatorRole, type RoleGrant } from '../config/registry-sections.ts'
import { AdminError } from './errors.ts'
import './context.ts'

/**
 * How a member-scoped role grant counts for an action:
 * - `member`: the action is on one member's own things (its subsystems, services, grants on them…);
 *   a scoped grant counts for its member only, a global grant for every member;
 * - `node`: the action is on the node as a whole; only global grants count;
 * - `any`: every grant of a listed role counts, scoped or not (reading who one is, the node's status).
 */
export type ActionScope = 'member' | 'node' | 'any'

export interface ActionRule {
  roles: readonly OperatorRole[]
  scope: ActionScope
  summary: string
}

const SA = 'system-administrator'
const RO = 'registration-officer'
const SVC = 'service-administrator'
const SEC = 'security-officer'
const OBS = 'observer'
const ALL = [SA, RO, SVC, SEC, OBS] as const

export const ACTIONS = {
  'me.read': { roles: ALL, scope: 'any', summary: 'the calling operator and the roles this request may use' },
  'node.read': { roles: ALL, scope: 'any', summary: 'node status: registry version and store, audit trail head' },

  'member.list': { roles: ALL, scope: 'member', summary: 'list members' },
  'member.read': { roles: ALL, scope: 'member', summary: 'read a member' },
  'member.create': { roles: [SA, RO], scope: 'member', summary: 'register a member' },
  'member.update': { roles: [SA, RO], scope: 'member', summary: 'change a member\'s name' },
  'member.delete': { roles: [SA, RO], scope: 'member', summary: 'remove a member' },

  'subsystem.list': { roles: ALL, scope: 'member', summary: 'list a member\'s subsystems' },
  'subsystem.read': { roles: ALL, scope: 'member', summary: 'read a subsystem' },
  'subsystem.create': { roles: [SA, RO, SVC], scope: 'member', summary: 'add a subsystem' },
  'subsystem.update': { roles: [SA, RO, SVC], scope: 'member', summary: 'change a subsystem: name, connection, pinned certificate fingerprints' },
  'subsystem.delete': { roles: [SA, RO, SVC], scope: 'member', summary: 'remove a subsystem' },

  'official.list': { roles: ALL, scope: 'member', summary: 'list a member\'s officials' },
  'official.read': { roles: ALL, scope: 'member', summary: 'read an official' },
  'official.create': { roles: [SA, SVC], scope: 'member', summary: 'add an official' },
  'official.update': { roles: [SA, SVC], scope: 'member', summary: 'change an official (role, validUntil)' },
  'official.delete': { roles: [SA, SVC], scope: 'member', summary: 'remove an official' },

  'service.list': { roles: ALL, scope: 'member', summary: 'list services' },
  'service.read': { roles: ALL, scope: 'member', summary: 'read a service' },
  'service.create': { roles: [SA, SVC], scope: 'member', summary: 'add a service' },
  'service.update': { roles: [SA, SVC], scope: 'member', summary: 'change a service, its catalogue metadata included' },
  'service.delete': { roles: [SA, SVC], scope: 'member', summary: 'remove a service' },
  'service.disable': { roles: [SA, SVC], scope: 'member', summary: 'disable a service with a notice for its callers' },
  'service.enable': { roles: [SA, SVC], scope: 'member', summary: 'enable a disabled service' },

  'group.list': { roles: ALL, scope: 'any', summary: 'list groups' },
  'group.read': { roles: ALL, scope: 'any', summary: 'read a group' },
  'group.create': { roles: [SA, SVC], scope: 'node', summary: 'add a group' },
  'group.update': { roles: [SA, SVC], scope: 'node', summary: 'change a group\'s clients' },
  'group.delete': { roles: [SA, SVC], scope: 'node', summary: 'remove a group' },

  'grant.list': { roles: ALL, scope: 'member', summary: 'list access rights (grants), also in the GovStack shape' },
  'grant.read': { roles: ALL, scope: 'member', summary: 'read the grants of a service' },
  'grant.update': { roles: [SA, SVC], scope: 'member', summary: 'replace the grants of a service (allow and deny, per service or endpoint)' },
  'grant.delete': { roles: [SA, SVC], scope: 'member', summary: 'remove every grant of a service' },
  'grant.allow': { roles: [SA, SVC], scope: 'member', summary: 'allow clients a service (GovStack rights/allow)' },
  'grant.deny': { roles: [SA, SVC], scope: 'member', summary: 'deny clients a service (GovStack rights/deny)' },

  'operator.list': { roles: [SA, SEC, OBS], scope: 'node', summary: 'list operators' },
  'operator.read': { roles: [SA, SEC, OBS], scope: 'node', summary: 'read an operator' },
  'operator.create': { roles: [SA], scope: 'node', summary: 'add an operator' },
  'operator.update': { roles: [SA], scope: 'node', summary: 'change an operator\'s name, roles, or disable it' },
  'operator.delete': { roles: [SA], scope: 'node', summary: 'remove an operator' },
  'operator.login': { roles: [SA], scope: 'node', summary: 'set or remove an operator\'s console sign-in: username, password, new TOTP secret (shown once)' },
  'operator.certificates': { roles: [SA, SEC], scope: 'node', summary: 'set the operator certificate fingerprints of an operator' },
  'token.list': { roles: [SA, SEC, OBS], scope: 'node', summary: 'list an operator\'s API tokens (never their secrets)' },
  'token.create': { roles: [SA], scope: 'node', summary: 'create an API token (its secret is shown once)' },
  'token.delete': { roles: [SA, SEC], scope: 'node', summary: 'withdraw an API token' },

  'version.list': { roles: ALL, scope: 'node', summary: 'list registry versions' },
  'version.read': { roles: ALL, scope: 'node', summary: 'read a registry version, or the diff between two' },
  'version.rollback': { roles: [SA], scope: 'node', summary: 'make a new version with an earlier version\'s content' },

  'audit.list': { roles: [SA, SEC, OBS], scope: 'node', summary: 'read the audit trail' },

  'application.list': { roles: [SA, RO, OBS], scope: 'node', summary: 'list onboarding applications (without personal data)' },
  'application.read': { roles: [SA, RO, OBS], scope: 'node', summary: 'read an onboarding application, its employee and sealed letter included' },
  'application.approve': { roles: [SA, RO], scope: 'node', summary: 'approve an application: member, subsystems, certificates and operator in one version' },
  'application.reject': { roles: [SA, RO], scope: 'node', summary: 'reject an application with a reason' },
  'certificate.list': { roles: ALL, scope: 'member', summary: 'list and read certificates the node issued, with their expiry' },
  'certificate.issue': { roles: [SA, RO, SEC], scope: 'member', summary: 'issue a certificate from a CSR: a system\'s TLS, a member\'s e-seal, an operator\'s' },
  'certificate.revoke': { roles: [SA, RO, SEC], scope: 'member', summary: 'revoke a certificate with a reason' },
  'revocation.list': { roles: ALL, scope: 'node', summary: 'list revoked certificates' },
  'access-request.list': { roles: [SA, SVC, OBS], scope: 'member', summary: 'list and read access requests for a member\'s services or from its clients' },
  'access-request.create': { roles: [SA, SVC], scope: 'member', summary: 'ask for access to a service for one of a member\'s clients' },
  'access-request.decide': { roles: [SA, SVC], scope: 'member', summary: 'approve or refuse an access request for one\'s service' },
  'subscription.list': { roles: [SA, SVC, OBS], scope: 'member', summary: 'list and read subscriptions of a member\'s clients or to its rooms' },
  'subscription.create': { roles: [SA, SVC], scope: 'member', summary: 'ask for a room\'s events for one of a member\'s clients (push to its own service, or pull)' },
  'subscription.decide': { roles: [SA, SVC], scope: 'member', summary: 'approve or refuse a subscription to one\'s room' },
  'subscription.withdraw': { roles: [SA, SVC], scope: 'member', summary: 'withdraw a pending or approved subscription of one\'s client' },
  'outbox.list': { roles: [SA, RO, OBS], scope: 'node', summary: 'read the outbox of notices' },

  'log.read': { roles: [SA, SVC, SEC, OBS], scope: 'member', summary: 'search the message log, read an exchange\'s records (without bodies) and download its evidence' },
  'log.bodies': { roles: [SA, SEC], scope: 'member', summary: 'read the message bodies the log kept (in records, evidence and as a download)' },
  'queue.read': { roles: [SA, SVC, SEC, OBS], scope: 'member', summary: 'the delivery queues, their counts and jobs (payloads only with log.bodies)' },
  'queue.redrive': { roles: [SA], scope: 'member', summary: 'put a delivery queue\'s dead jobs back to queued, with a reason' },
  'traffic.read': { roles: ALL, scope: 'member', summary: 'traffic per service from the message log, open circuit breakers, certificates expiring soon' },
} as const satisfies Record<string, ActionRule>

export type AdminActionName = keyof typeof ACTIONS

export function ruleOf (action: string): ActionRule {
  const rule = (ACTIONS as Record<string, ActionRule>)[action]
  if (rule === undefined) throw new Error(`'${action}' is not an admin action (admin/roles.ts)`)
  return rule
}

/** How a role grant is named in the audit trail: `role` or `role@member`. */
export function grantName (g: RoleGrant): string {
  return g.member === undefined ? g.role : `${g.role}@${g.member}`
}

/** The grant (global first) under which `roles` may take `action` on `member`; undefined when none may. */
export function grantFor (roles: readonly RoleGrant[], action: string, member?: string): RoleGrant | undefined {
  const rule = ruleOf(action)
  const listed = roles.filter(g => (rule.roles as readonly string[]).includes(g.role))
  const global = listed.find(g => g.member === undefined)
  if (global !== undefined) return global
  if (rule.scope === 'any') return listed[0]
  if (rule.scope === 'member' && member !== undefined) return listed.find(g => g.member === member)
  return undefined
}

function state (request: FastifyRequest, action: string, member?: string): NonNullable<FastifyRequest['adminAction']> {
  request.adminAction ??= { action, target: member ?? null, role: '', audited: false }
  request.adminAction.action = action
  return request.adminAction
}

function forbidden (request: FastifyRequest, action: string, member?: string): AdminError {
  const op = request.operator!
  const roles = op.roles.map(grantName).join(', ')
  return new AdminError('Admin.Forbidden', `operator ${op.id} (${roles}) may not ${action}${member === undefined ? '' : ` for ${member}`}`, { action, ...(member === undefined ? {} : { member }) })
}

/**
 * Throws Admin.Forbidden (recorded in the audit trail under `action` when the answer is sent) unless
 * one of the operator's roles allows `action`, globally or scoped to `member`; returns the grant used.
 */
export function authorize (request: FastifyRequest, action: string, member?: string): RoleGrant {
  const st = state(request, action, member)
  const op = request.operator
  if (op === undefined) throw new AdminError('Admin.Unauthenticated', 'no operator is identified on this request')
  const grant = grantFor(op.roles, action, member)
  if (grant === undefined) throw forbidden(request, action, member)
  // The first grant names the role; later checks in the same request (a second member) keep it.
  if (st.role === '') st.role = grantName(grant)
  return grant
}

/**
 * For list routes of member-scoped actions: `undefined` when the operator may see every member's
 * entries, else the members it may see (its scoped grants for the action). Forbidden when none.
 */
export function visibleMembers (request: FastifyRequest, action: string): Set<string> | undefined {
  const st = state(request, action)
  const op = request.operator
  if (op === undefined) throw new AdminError('Admin.Unauthenticated', 'no operator is identified on this request')
  const rule = ruleOf(action)
  const listed = op.roles.filter(g => (rule.roles as readonly string[]).includes(g.role))
  const global = listed.find(g => g.member === undefined)
  if (global !== undefined || (rule.scope === 'any' && listed.length > 0)) {
    if (st.role === '') st.role = grantName(global ?? listed[0])
    return undefined
  }
  const scoped = rule.scope === 'member' ? listed.filter(g => g.member !== undefined) : []
  if (scoped.length === 0) throw forbidden(request, action)
  if (st.role === '') st.role = scoped.map(grantName).join(',')
  return new Set(scoped.map(g => g.member!))
}

// ---- the table in docs/admin-api.md ------------------------------------------------------------

const SCOPE_TEXT: Record<ActionScope, string> = {
  member: 'its own member\'s',
  node: 'no',
  any: 'yes',
}

/** The roles table as Markdown (docs/admin-api.md holds exactly this between its markers). */
export function rolesTable (): string {
  const head = ['action', 'what', ...OPERATOR_ROLES, 'scoped role']
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  for (const [action, rule] of Object.entries(ACTIONS) as Array<[string, ActionRule]>) {
    const cells = OPERATOR_ROLES.map(r => (rule.roles.includes(r) ? '✓' : ''))
    lines.push(`| \`${action}\` | ${rule.summary} | ${cells.join(' | ')} | ${SCOPE_TEXT[rule.scope]} |`)
  }
  return lines.join('\n')
}

export const ROLES_TABLE_BEGIN = '<!-- roles table: generated from admin/roles.ts -->'
export const ROLES_TABLE_END = '<!-- end of roles table -->'
