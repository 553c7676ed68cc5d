/**
 * Subscriptions to publish/subscribe rooms, asked for and decided like access requests: a member's
 * service administrator asks for one of its systems to receive some of a room's event types (by
 * push to one of its own services, or by pull); the room owner's service administrator approves or
 * refuses it with a reason (or the room approves every request at once with `autoApprove`); the
 * subscriber's side may withdraw it. Only an approved subscription receives events. Pure
 * transformations of registry content with notices to both sides; who may do what is the admin
 * API's business (`subscriptionParties` names the members).
 */
import type { SubscriptionConfig as Stored } from '../../config/registry-sections.ts'
import { memberOf } from '../../protocol/identifiers.ts'
import type { RegistryContent } from '../../registry/store/index.ts'
import { registeredClients } from './access.ts'
import { OnboardingError } from './errors.ts'
import { randomId } from './ids.ts'
import { toMemberRole, withNotices, type Notice } from './outbox.ts'

const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/
const CLIENT = /^[^/]+(\/[^/]+){2,3}$/
/** What a room's own schema says of a subscription's id: the slug stays inside it. */
const SLUG_MAX = 56

/** What the subscriber's side asks for (the fields of a stored subscription it chooses), and who asks when. */
export type RequestSubscriptionInput = Pick<Stored, 'room' | 'eventTypes' | 'subscriber' | 'mode' | 'push' | 'fifo' | 'purpose'> & { by: string; now: Date }

/** A subscription with its state spelt out: one without a `state` (written by hand in YAML) is approved, as the rooms read it. */
export const withState = (s: Stored): Stored => s.state === undefined ? { ...s, state: 'approved' } : s
const live = (s: Stored): boolean => { const st = withState(s).state; return st === 'pending' || st === 'approved' }

const withoutInstance = (id: string): string => id.split('/').slice(1).join('/')


const serviceDefined = (content: RegistryContent, service: string): boolean => content.services.some(s => `${s.provider}/${s.code}` === service)

/** Two subscriptions would deliver an event twice to the same place: same room and subscriber, a type in common, the same way. */
function overlaps (a: Pick<Stored, 'room' | 'subscriber' | 'eventTypes' | 'mode' | 'push'>, b: Pick<Stored, 'room' | 'subscriber' | 'eventTypes' | 'mode' | 'push'>): boolean {
  if (a.room !== b.room || a.subscriber !== b.subscriber || a.mode !== b.mode) return false
  if (a.mode === 'push' && (a.push?.service !== b.push?.service || (a.push?.path ?? '') !== (b.push?.path ?? ''))) return false
  return a.eventTypes.some(t => b.eventTypes.includes(t))
}

/** A readable id from the subscriber and the room (`m51305009k-gjendja-civile.l21603004l-transparenca`), made unique with a suffix. */
export function subscriptionSlug (content: RegistryContent, subscriber: string, room: string): string {
  const clean = (parts: string[]): string => parts.join('-').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')
  const base = `${clean(subscriber.split('/').slice(2))}.${clean(room.split('/').slice(2))}`.slice(0, SLUG_MAX).replace(/[.-]+$/, '')
  const taken = new Set(content.subscriptions.map(s => s.id))
  const first = ID.test(base) ? base : randomId('sub')
  if (!taken.has(first)) return first
  for (let n = 2; n < 1000; n++) {
    const next = `${first}-${n}`
    if (!taken.has(next)) return next
  }
  return randomId('sub')
}

/** Everything a subscription names must still be there (asked for, and again when approved). */
function checkReferences (content: RegistryContent, s: Pick<Stored, 'room' | 'eventTypes' | 'subscriber' | 'mode' | 'push'>): void {
  const room = content.rooms.find(r => r.room === s.room)
  if (room === undefined) throw new OnboardingError('Onboarding.UnknownRoom', `room ${String(s.room).slice(0, 300)} is not defined on this node`)
  const unknown = s.eventTypes.filter(t => !room.eventTypes.some(e => e.name === t))
  if (unknown.length > 0) throw new OnboardingError('Onboarding.UnknownEventType', `room ${s.room} has no event type ${unknown.slice(0, 10).join(', ')} (it has ${room.eventTypes.map(e => e.name).join(', ')})`)
  if (!CLIENT.test(s.subscriber) || !registeredClients(content).has(withoutInstance(s.subscriber))) throw new OnboardingError('Onboarding.UnknownClient', `${s.subscriber.slice(0, 300)} is not a registered member or subsystem`)
  if (s.subscriber.split('/')[0] !== s.room.split('/')[0]) throw new OnboardingError('Onboarding.UnknownClient', `${s.subscriber} is not in the instance of room ${s.room}`)
  if (s.mode === 'push') {
    const service = s.push?.service
    if (service === undefined) throw new OnboardingError('Onboarding.InvalidRequest', 'a push subscription names the service that receives the events (push.service)')
    if (!serviceDefined(content, service)) throw new OnboardingError('Onboarding.UnknownService', `service ${service.slice(0, 300)} is not defined on this node`)
    if (memberOf(service) !== memberOf(s.subscriber)) throw new OnboardingError('Onboarding.ForeignPushService', `events for ${s.subscriber} are pushed to a service of its own member, not to ${service}`)
  } else if (s.push !== undefined) {
    throw new OnboardingError('Onboarding.InvalidRequest', 'a pull subscription has no push service')
  }
}

/** A system asks for a room's events: pending until the room owner decides, approved at once when the room says `autoApprove`. */
export function requestSubscription (content: RegistryContent, input: RequestSubscriptionInput): { content: RegistryContent; id: string; subscription: Stored } {
  const eventTypes = Array.isArray(input.eventTypes) ? [...new Set(input.eventTypes)] : []
  if (eventTypes.length === 0) throw new OnboardingError('Onboarding.InvalidRequest', 'a subscription names at least one event type')
  if (input.mode !== 'push' && input.mode !== 'pull') throw new OnboardingError('Onboarding.InvalidRequest', `the mode is push or pull, not '${String(input.mode).slice(0, 40)}'`)
  const purpose = typeof input.purpose === 'string' ? input.purpose.trim() : ''
  if (purpose.length > 2000) throw new OnboardingError('Onboarding.InvalidRequest', 'the purpose is longer than 2000 characters')
  const push = input.push === undefined ? undefined : { service: input.push.service, ...(input.push.path === undefined ? {} : { path: input.push.path }) }
  const wanted = { room: input.room, eventTypes, subscriber: input.subscriber, mode: input.mode, ...(push === undefined ? {} : { push }) }
  checkReferences(content, wanted)
  const twin = content.subscriptions.map(withState).find(s => live(s) && overlaps(s, wanted))
  if (twin !== undefined) throw new OnboardingError('Onboarding.DuplicateSubscription', `${input.subscriber} already has subscription ${twin.id} (${twin.state}) to ${twin.eventTypes.filter(t => eventTypes.includes(t)).join(', ')} of ${input.room} by ${input.mode}`)
  const room = content.rooms.find(r => r.room === input.room)!
  const at = input.now.toISOString()
  const id = subscriptionSlug(content, input.subscriber, input.room)
  const auto = room.autoApprove === true
  const subscription: Stored = {
    id,
    ...wanted,
    ...(input.fifo === undefined ? {} : { fifo: input.fifo }),
    ...(purpose === '' ? {} : { purpose }),
    state: auto ? 'approved' : 'pending',
    requestedBy: input.by,
    requestedAt: at,
    ...(auto ? { decidedBy: 'autoApprove', decidedAt: at } : {}),
  }
  const next = { ...content, subscriptions: [...content.subscriptions, subscription] }
  const what = `${eventTypes.join(', ')} of ${input.room} by ${input.mode}${push === undefined ? '' : ` to ${push.service}${push.path ?? ''}`}`
  const because = purpose === '' ? '' : `: ${purpose}`
  const notices: Notice[] = auto
    ? [
        { to: [toMemberRole('service-administrator', memberOf(input.room))], subject: `Subscription ${id} to ${input.room} approved by the room`, body: `${input.subscriber} now receives ${what}${because}. The room approves every request (autoApprove); filed by ${input.by}.`, about: `subscription:${id}` },
        { to: [toMemberRole('service-administrator', memberOf(input.subscriber))], subject: `Subscription ${id} approved`, body: `${input.subscriber} now receives ${what} (the room approves every request; filed by ${input.by}).`, about: `subscription:${id}` },
      ]
    : [
        { to: [toMemberRole('service-administrator', memberOf(input.room))], subject: `Subscription requested to ${input.room}`, body: `${input.subscriber} asks to receive ${what}${because}. Subscription ${id}, filed by ${input.by}.`, about: `subscription:${id}` },
        { to: [toMemberRole('service-administrator', memberOf(input.subscriber))], subject: `Subscription ${id} filed`, body: `${input.by} asked for ${input.subscriber} to receive ${what}. The room owner's service administrator decides.`, about: `subscription:${id}` },
      ]
  return { content: withNotices(next, notices, input.now).content, id, subscription }
}

/** The subscription with that id; Onboarding.UnknownSubscription otherwise. */
export function findSubscription (content: RegistryContent, id: unknown): Stored {
  const found = typeof id === 'string' && ID.test(id) ? content.subscriptions.find(s => s.id === id) : undefined
  if (found === undefined) throw new OnboardingError('Onboarding.UnknownSubscription', `there is no subscription ${typeof id === 'string' ? id.slice(0, 80) : ''}`)
  return withState(found)
}

/** The members on each side: the room owner's decides, the subscriber's withdraws. */
export function subscriptionParties (s: Pick<Stored, 'room' | 'subscriber'>): { roomMember: string; subscriberMember: string } {
  return { roomMember: memberOf(s.room), subscriberMember: memberOf(s.subscriber) }
}

export interface DecideSubscriptionInput {
  /** Required to refuse, optional otherwise. */
  reason?: string
  by: string
  now: Date
}

const reasonOf = (input: DecideSubscriptionInput): string => {
  const reason = typeof input.reason === 'string' ? input.reason.trim() : ''
  if (reason.length > 2000) throw new OnboardingError('Onboarding.InvalidRequest', 'the reason is longer than 2000 characters')
  return reason
}

/** The room owner decides a pending subscription: approved, it receives the events published from the next version on. */
export function decideSubscription (content: RegistryContent, id: string, decision: 'approve' | 'refuse', input: DecideSubscriptionInput): { content: RegistryContent; subscription: Stored } {
  const s = findSubscription(content, id)
  if (decision !== 'approve' && decision !== 'refuse') throw new OnboardingError('Onboarding.InvalidRequest', `the decision is approve or refuse, not '${String(decision).slice(0, 40)}'`)
  const reason = reasonOf(input)
  if (decision === 'refuse' && reason === '') throw new OnboardingError('Onboarding.ReasonRequired', 'refusing a subscription needs a reason, shown to the subscriber')
  if (s.state !== 'pending') throw new OnboardingError('Onboarding.InvalidState', `subscription ${id} is ${s.state}, not pending`)
  if (decision === 'approve') {
    checkReferences(content, s)
    const twin = content.subscriptions.map(withState).find(o => o.id !== id && o.state === 'approved' && overlaps(o, s))
    if (twin !== undefined) throw new OnboardingError('Onboarding.DuplicateSubscription', `subscription ${twin.id} already delivers these events to ${s.subscriber}`)
  }
  const decided: Stored = { ...s, state: decision === 'approve' ? 'approved' : 'refused', decidedBy: input.by, decidedAt: input.now.toISOString(), ...(reason === '' ? {} : { reason }) }
  const next = { ...content, subscriptions: content.subscriptions.map(o => o.id === id ? decided : o) }
  const verdict = decision === 'approve' ? 'approved' : `refused: ${reason}`
  const notices: Notice[] = [
    { to: [toMemberRole('service-administrator', memberOf(s.subscriber))], subject: `Subscription ${id} to ${s.room} ${decision === 'approve' ? 'approved' : 'refused'}`, body: `Subscription ${id} of ${s.subscriber} to ${s.eventTypes.join(', ')} was ${verdict} (by ${input.by}).`, about: `subscription:${id}` },
    { to: [toMemberRole('service-administrator', memberOf(s.room))], subject: `Subscription ${id} decided`, body: `${s.subscriber} → ${s.room}: ${verdict} (by ${input.by}).`, about: `subscription:${id}` },
  ]
  return { content: withNotices(next, notices, input.now).content, subscription: decided }
}

/**
 * The subscriber's side withdraws a pending or approved subscription. Withdrawn, it receives nothing
 * more: deliveries already queued for it end dead ("no longer approved") when their turn comes.
 */
export function withdrawSubscription (content: RegistryContent, id: string, input: DecideSubscriptionInput): { content: RegistryContent; subscription: Stored } {
  const s = findSubscription(content, id)
  const reason = reasonOf(input)
  if (s.state !== 'pending' && s.state !== 'approved') throw new OnboardingError('Onboarding.InvalidState', `subscription ${id} is ${s.state}: only a pending or approved one can be withdrawn`)
  const withdrawn: Stored = { ...s, state: 'withdrawn', withdrawnBy: input.by, withdrawnAt: input.now.toISOString(), ...(reason === '' ? {} : { reason }) }
  const next = { ...content, subscriptions: content.subscriptions.map(o => o.id === id ? withdrawn : o) }
  const why = reason === '' ? '' : `: ${reason}`
  const notices: Notice[] = [
    { to: [toMemberRole('service-administrator', memberOf(s.room))], subject: `Subscription ${id} to ${s.room} withdrawn`, body: `${s.subscriber} no longer receives ${s.eventTypes.join(', ')} (withdrawn by ${input.by}, was ${s.state})${why}.`, about: `subscription:${id}` },
    { to: [toMemberRole('service-administrator', memberOf(s.subscriber))], subject: `Subscription ${id} withdrawn`, body: `${input.by} withdrew subscription ${id} of ${s.subscriber} to ${s.room}${why}.`, about: `subscription:${id}` },
  ]
  return { content: withNotices(next, notices, input.now).content, subscription: withdrawn }
}
