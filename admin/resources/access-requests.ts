/**
 * Access requests on the admin API (`/admin/v1/access-requests`): a client's service administrator
 * asks for a service for one of its member's systems, the provider's service administrator approves
 * (the allow grant appears in the same registry version) or refuses with a reason. A request has two
 * parties — the client's member and the provider's — and a member-scoped operator sees the requests
 * of either side of its member, but only the provider's side decides.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AccessRequestRecord } from '../../config/registry-sections.ts'
import type { RegistryContent } from '../../registry/store/index.ts'
import { commitChange } from '../change.ts'
import type { AdminContext } from '../context.ts'
import { etagOf } from '../etag.ts'
import { memberOfClient, PARAMS } from '../ids.ts'
import { decideAccessRequest, findAccessRequest, OnboardingError, requestAccess, type Endpoint } from '../onboarding/index.ts'
import { authorize, grantFor } from '../roles.ts'
import { noBody, route, sendCreated, sendList, sendResource, snapshot } from '../route-kit.ts'
import { ACCESS_REQUEST_BODY, REASON_BODY } from '../schemas.ts'
import { defineState, deferred } from '../states.ts'

const TAG = 'Onboarding'
const STATES = ['pending', 'approved', 'refused', 'withdrawn']

/** The members on each side of a request. */
const partiesOf = (r: AccessRequestRecord): { client: string; provider: string } => ({ client: memberOfClient(r.client)!, provider: memberOfClient(r.service)! })

/** The request with that id in `c`, or undefined (never throws: used before the caller is authorized). */
const lookup = (c: RegistryContent, id: unknown): AccessRequestRecord | undefined => typeof id === 'string' ? c.accessRequests.find(r => r.id === id) : undefined

// The states the audit trail digests (admin/states.ts).
const accessRequestState = defineState('access-request', (c, id: string) => lookup(c, id))
/** After a decision: the request and the grants of its service (an approval adds one). */
const decisionState = defineState('access-request-decision', (c, id: string) => ({ request: lookup(c, id), grants: c.access.filter(g => g.service === lookup(c, id)?.service) }))

export async function accessRequestRoutes (app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const idOf = (request: FastifyRequest): string => (request.params as { request: string }).request
  const target = (request: FastifyRequest): string | undefined => { const id = (request.params as { request?: unknown }).request; return typeof id === 'string' ? `access request ${id}` : undefined }
  /** The provider's member decides: a scoped operator of another member (or any, for an unknown id) is refused before anything else. */
  const providerOf = (request: FastifyRequest): string | undefined => {
    const r = lookup(snapshot(request).content, (request.params as { request?: unknown }).request)
    return r === undefined ? undefined : partiesOf(r).provider
  }
  const tag = (id: string) => (c: RegistryContent) => ({ etag: etagOf(findAccessRequest(c, id)), allowAny: false })
  const params = { request: PARAMS.id }

  app.get('/access-requests', route('access-request.list', {
    tag: TAG,
    authorize: 'list',
    querystring: { state: { type: 'string', enum: STATES, description: 'only requests in this state' } },
  }), async (request, reply) => {
    const visible = request.visibleMembers
    const { state } = request.query as { state?: string }
    const items = snapshot(request).content.accessRequests.filter(r => {
      if (state !== undefined && r.state !== state) return false
      if (visible === undefined) return true
      const p = partiesOf(r)
      return visible.has(p.provider) || visible.has(p.client)
    })
    return sendList(reply, items)
  })

  app.get('/access-requests/:request', route('access-request.list', { tag: TAG, summary: 'read an access request (either party)', params, target, authorize: 'manual' }), async (request, reply) => {
    const r = lookup(snapshot(request).content, idOf(request))
    if (r === undefined) {
      // Only an operator who could read any request learns that this one does not exist.
      authorize(request, 'access-request.list')
      throw new OnboardingError('Onboarding.UnknownAccessRequest', `there is no access request ${idOf(request)}`)
    }
    const { provider, client } = partiesOf(r)
    const either = grantFor(request.operator?.roles ?? [], 'access-request.list', client) !== undefined ? client : provider
    authorize(request, 'access-request.list', either)
    return sendResource(reply, r)
  })

  app.post('/access-requests', route('access-request.create', {
    tag: TAG,
    body: ACCESS_REQUEST_BODY,
    status: 201,
    write: true,
    // The client's member asks: a scoped operator asks for its own member's systems only.
    member: request => memberOfClient((request.body as { client?: unknown } | undefined)?.client),
    target: request => { const b = request.body as { client?: unknown; service?: unknown } | undefined; return typeof b?.client === 'string' && typeof b.service === 'string' ? `${b.client} → ${b.service}` : undefined },
  }), async (request, reply) => {
    const body = request.body as { client: string; service: string; endpoints?: Endpoint[]; purpose: string }
    const by = request.operator!.id
    let id = ''
    const v = await commitChange(ctx, request, {
      action: 'access-request.create',
      target: `${body.client} → ${body.service}`,
      change: c => {
        const made = requestAccess(c, { ...body, by, now: ctx.now() })
        id = made.id
        return made.content
      },
      after: deferred(() => accessRequestState(id)),
    })
    return sendCreated(reply, `/access-requests/${id}`, findAccessRequest(v.content, id))
  })

  const decide = (decision: 'approve' | 'refuse') => async (request: FastifyRequest): Promise<{ record: AccessRequestRecord; content: RegistryContent }> => {
    const id = idOf(request)
    const reason = decision === 'refuse' ? (request.body as { reason: string }).reason : undefined
    const by = request.operator!.id
    const v = await commitChange(ctx, request, {
      action: 'access-request.decide',
      target: `access request ${id}`,
      precondition: tag(id),
      change: c => decideAccessRequest(c, id, decision, { by, now: ctx.now(), ...(reason === undefined ? {} : { reason }) }).content,
      before: accessRequestState(id),
      after: decisionState(id),
    })
    return { record: findAccessRequest(v.content, id), content: v.content }
  }

  app.post('/access-requests/:request/approve', route('access-request.decide', { tag: TAG, summary: 'approve an access request: the allow grant is added in the same version', params, write: true, member: providerOf, target }), async (request, reply) => {
    noBody(request)
    const { record, content } = await decide('approve')(request)
    const grant = content.access.find(g => g.service === record.service && g.clients.length === 1 && g.clients[0] === record.client && g.effect !== 'deny')
    const answer = sendResource(reply, { ...record, ...(grant === undefined ? {} : { grant }) })
    // The ETag is the request's, as GET answers it; the grant rides along.
    reply.header('etag', etagOf(record))
    return answer
  })

  app.post('/access-requests/:request/refuse', route('access-request.decide', { tag: TAG, summary: 'refuse an access request with a reason the client sees', params, body: REASON_BODY, write: true, member: providerOf, target }), async (request, reply) => {
    const { record } = await decide('refuse')(request)
    return sendResource(reply, record)
  })
}
