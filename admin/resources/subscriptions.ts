/**
 * Subscriptions on the admin API (`/admin/v1/subscriptions`), asked for and decided like access
 * requests: a member's service administrator asks for a room's events for one of its systems, the
 * room owner's service administrator approves (from that registry version on the subscription
 * receives events) or refuses with a reason, and the subscriber's side may withdraw it. A
 * subscription has two parties — the subscriber's member and the room owner's — and a
 * member-scoped operator sees those of either side of its member; the room's side decides, the
 * subscriber's side asks and withdraws.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { SubscriptionConfig } from '../../config/registry-sections.ts'
import type { RegistryContent } from '../../registry/store/index.ts'
import { commitChange } from '../change.ts'
import type { AdminContext } from '../context.ts'
import { etagOf } from '../etag.ts'
import { memberOfClient, PARAMS } from '../ids.ts'
import { decideSubscription, findSubscription, OnboardingError, requestSubscription, subscriptionParties, withdrawSubscription, withState, type RequestSubscriptionInput } from '../onboarding/index.ts'
import { authorize, grantFor } from '../roles.ts'
import { noBody, route, sendCreated, sendList, sendResource, snapshot } from '../route-kit.ts'
import { AdminError } from '../errors.ts'
import { OPTIONAL_REASON_BODY, REASON_BODY, SUBSCRIPTION_BODY } from '../schemas.ts'
import { defineState, deferred } from '../states.ts'

const TAG = 'Onboarding'
const STATES = ['pending', 'approved', 'refused', 'withdrawn']

/** The subscription with that id in `c`, or undefined (never throws: used before the caller is authorized). */
const lookup = (c: RegistryContent, id: unknown): SubscriptionConfig | undefined => typeof id === 'string' ? c.subscriptions.find(s => s.id === id) : undefined

// The state the audit trail digests (admin/states.ts): the subscription itself.
const subscriptionState = defineState('subscription', (c, id: string) => lookup(c, id))

/** A withdrawal's body: none, or `{reason}`; checked against OPTIONAL_REASON_BODY by hand, since a route's body schema would make a body required. */
function optionalReason (request: FastifyRequest): string | undefined {
  const b = request.body
  if (b === undefined) return undefined
  const props = OPTIONAL_REASON_BODY.properties as { reason: { maxLength: number } }
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new AdminError('Admin.InvalidBody', 'the body is none, or {reason}', { problems: [{ path: 'body', message: 'must be absent or an object' }] })
  const extra = Object.keys(b).find(k => k !== 'reason')
  if (extra !== undefined) throw new AdminError('Admin.InvalidBody', `unknown property '${extra.slice(0, 60)}': the body is none, or {reason}`, { problems: [{ path: `body.${extra.slice(0, 60)}`, message: 'unknown property' }] })
  const reason = (b as { reason?: unknown }).reason
  if (reason === undefined) return undefined
  if (typeof reason !== 'string' || reason.length === 0 || reason.length > props.reason.maxLength) throw new AdminError('Admin.InvalidBody', `the reason is text of 1 to ${props.reason.maxLength} characters`, { problems: [{ path: 'body.reason', message: `must be a string of 1 to ${props.reason.maxLength} characters` }] })
  return reason
}

export async function subscriptionRoutes (app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const idOf = (request: FastifyRequest): string => (request.params as { subscription: string }).subscription
  const target = (request: FastifyRequest): string | undefined => { const id = (request.params as { subscription?: unknown }).subscription; return typeof id === 'string' ? `subscription ${id}` : undefined }
  /** The member that acts on an existing subscription (a scoped operator of another member, or any for an unknown id, is refused first). */
  const side = (which: 'roomMember' | 'subscriberMember') => (request: FastifyRequest): string | undefined => {
    const s = lookup(snapshot(request).content, (request.params as { subscription?: unknown }).subscription)
    return s === undefined ? undefined : subscriptionParties(s)[which]
  }
  const tag = (id: string) => (c: RegistryContent) => ({ etag: etagOf(findSubscription(c, id)), allowAny: false })
  const params = { subscription: PARAMS.id }

  app.get('/subscriptions', route('subscription.list', {
    tag: TAG,
    authorize: 'list',
    querystring: {
      room: { type: 'string', maxLength: 300, description: 'only subscriptions to this room' },
      state: { type: 'string', enum: STATES, description: 'only subscriptions in this state' },
    },
  }), async (request, reply) => {
    const visible = request.visibleMembers
    const { room, state } = request.query as { room?: string; state?: string }
    const items = snapshot(request).content.subscriptions.map(withState).filter(s => {
      if (state !== undefined && s.state !== state) return false
      if (room !== undefined && s.room !== room) return false
      if (visible === undefined) return true
      const p = subscriptionParties(s)
      return visible.has(p.roomMember) || visible.has(p.subscriberMember)
    })
    return sendList(reply, items)
  })

  app.get('/subscriptions/:subscription', route('subscription.list', { tag: TAG, summary: 'read a subscription (either party)', params, target, authorize: 'manual' }), async (request, reply) => {
    const found = lookup(snapshot(request).content, idOf(request))
    if (found === undefined) {
      // Only an operator who could read any subscription learns that this one does not exist.
      authorize(request, 'subscription.list')
      throw new OnboardingError('Onboarding.UnknownSubscription', `there is no subscription ${idOf(request)}`)
    }
    const { roomMember, subscriberMember } = subscriptionParties(found)
    const either = grantFor(request.operator?.roles ?? [], 'subscription.list', subscriberMember) !== undefined ? subscriberMember : roomMember
    authorize(request, 'subscription.list', either)
    return sendResource(reply, withState(found))
  })

  app.post('/subscriptions', route('subscription.create', {
    tag: TAG,
    summary: 'ask for a room\'s events for one of a member\'s clients: pending until the room owner decides (approved at once when the room says autoApprove)',
    body: SUBSCRIPTION_BODY,
    status: 201,
    write: true,
    // The subscriber's member asks: a scoped operator asks for its own member's systems only.
    member: request => memberOfClient((request.body as { subscriber?: unknown } | undefined)?.subscriber),
    target: request => { const b = request.body as { subscriber?: unknown; room?: unknown } | undefined; return typeof b?.subscriber === 'string' && typeof b.room === 'string' ? `${b.subscriber} → ${b.room}` : undefined },
  }), async (request, reply) => {
    const body = request.body as Omit<RequestSubscriptionInput, 'by' | 'now'>
    const by = request.operator!.id
    let id = ''
    const v = await commitChange(ctx, request, {
      action: 'subscription.create',
      target: `${body.subscriber} → ${body.room}`,
      change: c => {
        const made = requestSubscription(c, { ...body, by, now: ctx.now() })
        id = made.id
        return made.content
      },
      after: deferred(() => subscriptionState(id)),
    })
    return sendCreated(reply, `/subscriptions/${id}`, findSubscription(v.content, id))
  })

  const change = async (request: FastifyRequest, action: string, make: (c: RegistryContent, id: string, by: string, now: Date) => RegistryContent): Promise<SubscriptionConfig> => {
    const id = idOf(request)
    const by = request.operator!.id
    const v = await commitChange(ctx, request, {
      action,
      target: `subscription ${id}`,
      precondition: tag(id),
      change: c => make(c, id, by, ctx.now()),
      before: subscriptionState(id),
      after: subscriptionState(id),
    })
    return findSubscription(v.content, id)
  }

  app.post('/subscriptions/:subscription/approve', route('subscription.decide', { tag: TAG, summary: 'approve a subscription to one\'s room: it receives events from this registry version on', params, write: true, member: side('roomMember'), target }), async (request, reply) => {
    noBody(request)
    return sendResource(reply, await change(request, 'subscription.decide', (c, id, by, now) => decideSubscription(c, id, 'approve', { by, now }).content))
  })

  app.post('/subscriptions/:subscription/refuse', route('subscription.decide', { tag: TAG, summary: 'refuse a subscription to one\'s room with a reason the subscriber sees', params, body: REASON_BODY, write: true, member: side('roomMember'), target }), async (request, reply) => {
    const { reason } = request.body as { reason: string }
    return sendResource(reply, await change(request, 'subscription.decide', (c, id, by, now) => decideSubscription(c, id, 'refuse', { by, now, reason }).content))
  })

  app.post('/subscriptions/:subscription/withdraw', route('subscription.withdraw', { tag: TAG, summary: 'withdraw a pending or approved subscription of one\'s client: it receives nothing more. Body: none, or `{reason}` the room owner sees', params, write: true, member: side('subscriberMember'), target }), async (request, reply) => {
    const reason = optionalReason(request)
    return sendResource(reply, await change(request, 'subscription.withdraw', (c, id, by, now) => withdrawSubscription(c, id, { by, now, ...(reason === undefined ? {} : { reason }) }).content))
  })
}
