/**
 * Access requests: a client system asks for a service; the provider's service administrator
 * approves (an allow grant for exactly that client, service and endpoints appears in the same
 * version) or refuses with a reason. Notices go to both sides. Pure transformations of registry
 * content; who may do what is the admin API's business (`accessRequestParties` names the members).
 */
import type { AccessRequestRecord as Stored } from '../../config/registry-sections.ts'
import type { GrantConfig } from '../../config/types.ts'
import { memberOf } from '../../protocol/identifiers.ts'
import type { RegistryContent } from '../../registry/store/index.ts'
import { OnboardingError } from './errors.ts'
import { randomId } from './ids.ts'
import { toMemberRole, withNotices, type Notice } from './outbox.ts'

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', '*'])
const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/

export interface Endpoint { method: string; path: string }

export interface RequestAccessInput {
  /** The client id asking (a registered member or subsystem). */
  client: string
  /** `provider/code` of a defined service, as grants name it. */
  service: string
  /** REST only: the endpoints asked for; absent = the whole service. */
  endpoints?: Endpoint[]
  purpose: string
  by: string
  now: Date
}

/**
 * Registered clients without their instance part (content does not name its instance): a request's
 * client is matched on the rest, and must be in the instance of the service it asks for.
 */
export function registeredClients (content: RegistryContent): Set<string> {
  const out = new Set<string>()
  for (const m of content.members) {
    out.add(`${m.class}/${m.code}`)
    for (const s of m.subsystems) out.add(`${m.class}/${m.code}/${s.code}`)
  }
  return out
}

const withoutInstance = (id: string): string => id.split('/').slice(1).join('/')

function checkEndpoints (endpoints: unknown): Endpoint[] | undefined {
  if (endpoints === undefined) return undefined
  if (!Array.isArray(endpoints) || endpoints.length === 0 || endpoints.length > 50) throw new OnboardingError('Onboarding.InvalidRequest', 'endpoints must be a list of 1 to 50 {method, path}')
  return endpoints.map((e: unknown, i) => {
    const { method, path } = (e ?? {}) as Record<string, unknown>
    if (typeof e !== 'object' || e === null || Object.keys(e).some(k => k !== 'method' && k !== 'path')) throw new OnboardingError('Onboarding.InvalidRequest', `endpoints[${i}] must be {method, path}`)
    if (typeof method !== 'string' || !METHODS.has(method)) throw new OnboardingError('Onboarding.InvalidRequest', `endpoints[${i}].method must be one of ${[...METHODS].join(', ')}`)
    if (typeof path !== 'string' || !path.startsWith('/') || path.length > 500 || /[\s\u0000-\u001f]/.test(path)) throw new OnboardingError('Onboarding.InvalidRequest', `endpoints[${i}].path must be a path starting with /`)
    return { method, path }
  })
}

const sameEndpoints = (a: Endpoint[] | undefined, b: Endpoint[] | undefined): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)

/** A client asks for a service (pending until the provider decides). */
export function requestAccess (content: RegistryContent, input: RequestAccessInput): { content: RegistryContent; id: string } {
  const { client, service } = input
  if (typeof client !== 'string' || !registeredClients(content).has(withoutInstance(client)) || !/^[^/]+(\/[^/]+){2,3}$/.test(client)) {
    throw new OnboardingError('Onboarding.UnknownClient', `${String(client).slice(0, 300)} is not a registered member or subsystem`)
  }
  const defined = typeof service === 'string' ? content.services.find(s => `${s.provider}/${s.code}` === service) : undefined
  if (defined === undefined) throw new OnboardingError('Onboarding.UnknownService', `service ${String(service).slice(0, 300)} is not defined on this node`)
  if (client.split('/')[0] !== service.split('/')[0]) throw new OnboardingError('Onboarding.UnknownClient', `${client} is not in the instance of ${service}`)
  const endpoints = checkEndpoints(input.endpoints)
  if (endpoints !== undefined && defined.type !== 'rest') throw new OnboardingError('Onboarding.InvalidRequest', 'endpoints can be asked for on REST services only')
  const purpose = typeof input.purpose === 'string' ? input.purpose.trim() : ''
  if (purpose === '' || purpose.length > 2000) throw new OnboardingError('Onboarding.InvalidRequest', 'an access request needs a purpose (at most 2000 characters)')
  if (content.accessRequests.some(r => r.state === 'pending' && r.client === client && r.service === service && sameEndpoints(r.endpoints, endpoints))) {
    throw new OnboardingError('Onboarding.DuplicateAccessRequest', `${client} already asked for ${service}; the request waits for the provider`)
  }
  if (content.access.some(g => g.service === service && g.effect !== 'deny' && g.clients.includes(client) && g.endpoints === undefined)) {
    throw new OnboardingError('Onboarding.AlreadyGranted', `${client} may already call every endpoint of ${service}`)
  }
  const id = randomId('ar')
  const request: Stored = {
    id,
    client,
    service,
    ...(endpoints === undefined ? {} : { endpoints }),
    purpose,
    state: 'pending',
    requestedBy: input.by,
    requestedAt: input.now.toISOString(),
  }
  const next = { ...content, accessRequests: [...content.accessRequests, request] }
  const what = endpoints === undefined ? service : `${service} (${endpoints.map(e => `${e.method} ${e.path}`).join(', ')})`
  const notices: Notice[] = [
    { to: [toMemberRole('service-administrator', memberOf(service))], subject: `Access requested to ${service}`, body: `${client} asks for access to ${what}: ${purpose}. Request ${id}, filed by ${input.by}.`, about: `access-request:${id}` },
    { to: [toMemberRole('service-administrator', memberOf(client))], subject: `Access request ${id} filed`, body: `${input.by} asked for ${client} to call ${what}. The provider's service administrator decides.`, about: `access-request:${id}` },
  ]
  return { content: withNotices(next, notices, input.now).content, id }
}

/** The access request with that id; Onboarding.UnknownAccessRequest otherwise. */
export function findAccessRequest (content: RegistryContent, id: unknown): Stored {
  const found = typeof id === 'string' && ID.test(id) ? content.accessRequests.find(r => r.id === id) : undefined
  if (found === undefined) throw new OnboardingError('Onboarding.UnknownAccessRequest', `there is no access request ${typeof id === 'string' ? id.slice(0, 80) : ''}`)
  return found
}

/** The members on each side of a request: the provider's service administrator decides it. */
export function accessRequestParties (content: RegistryContent, id: string): { client: string; clientMember: string; service: string; providerMember: string } {
  const r = findAccessRequest(content, id)
  return { client: r.client, clientMember: memberOf(r.client), service: r.service, providerMember: memberOf(r.service) }
}

export interface DecideAccessInput {
  /** Required to refuse; optional to approve. */
  reason?: string
  by: string
  now: Date
}

/** The provider decides: approve adds an allow grant for exactly that client, service and endpoints. */
export function decideAccessRequest (content: RegistryContent, id: string, decision: 'approve' | 'refuse', input: DecideAccessInput): { content: RegistryContent; request: Stored; grant?: GrantConfig } {
  const request = findAccessRequest(content, id)
  if (decision !== 'approve' && decision !== 'refuse') throw new OnboardingError('Onboarding.InvalidRequest', `the decision is approve or refuse, not '${String(decision).slice(0, 40)}'`)
  const reason = typeof input.reason === 'string' ? input.reason.trim() : ''
  if (reason.length > 2000) throw new OnboardingError('Onboarding.InvalidRequest', 'the reason is longer than 2000 characters')
  if (decision === 'refuse' && reason === '') throw new OnboardingError('Onboarding.ReasonRequired', 'refusing access needs a reason, shown to the client')
  if (request.state !== 'pending') throw new OnboardingError('Onboarding.InvalidState', `access request ${id} is ${request.state}, not pending`)
  const at = input.now.toISOString()
  const decided: Stored = { ...request, state: decision === 'approve' ? 'approved' : 'refused', decidedBy: input.by, decidedAt: at, ...(reason === '' ? {} : { reason }) }
  let next: RegistryContent = { ...content, accessRequests: content.accessRequests.map(r => r.id === id ? decided : r) }
  let grant: GrantConfig | undefined
  if (decision === 'approve') {
    if (!content.services.some(s => `${s.provider}/${s.code}` === request.service)) throw new OnboardingError('Onboarding.UnknownService', `service ${request.service} is no longer defined`)
    if (!registeredClients(content).has(withoutInstance(request.client))) throw new OnboardingError('Onboarding.UnknownClient', `${request.client} is no longer registered`)
    grant = { service: request.service, clients: [request.client], groups: [], ...(request.endpoints === undefined ? {} : { endpoints: request.endpoints.map(e => ({ ...e })) }) }
    next = { ...next, access: [...next.access, grant] }
  }
  const verdict = decision === 'approve' ? 'approved' : `refused: ${reason}`
  const notices: Notice[] = [
    { to: [toMemberRole('service-administrator', memberOf(request.client))], subject: `Access to ${request.service} ${decision === 'approve' ? 'approved' : 'refused'}`, body: `Request ${id} for ${request.client} was ${verdict} (by ${input.by}).`, about: `access-request:${id}` },
    { to: [toMemberRole('service-administrator', memberOf(request.service))], subject: `Access request ${id} decided`, body: `${request.client} → ${request.service}: ${verdict} (by ${input.by}).`, about: `access-request:${id}` },
  ]
  return { content: withNotices(next, notices, input.now).content, request: decided, ...(grant === undefined ? {} : { grant }) }
}
