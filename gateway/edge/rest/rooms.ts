/**
 * Publish/subscribe rooms at the r1 edge, in the GovStack IM PubSub API 2.0 shape (docs/pubsub.md).
 * A room is a subsystem; its operations are the service codes `pub`, `pull` and `api` under it:
 *
 *   POST   /r1/{room}/pub/v1/{eventType}            publish → 201 {id}          (publishers only)
 *   GET    /r1/{room}/pub/v1/{eventType}/{id}       delivery status per subscriber (publishers)
 *   GET    /r1/{room}/pull/v1/{eventType}           next event, 204 when none    (pull subscribers)
 *   DELETE /r1/{room}/pull/v1/{eventType}/{id}      acknowledge                  (pull subscribers)
 *   GET    /r1/{room}/api/v1/eventType[/{name}]     event types and their schemas (any registered client)
 *   GET    /r1/{room}/api/v1/subs                   the caller's subscriptions to the room
 *
 * Like a metaservice, every check happens before the request is logged (who may, which type, the
 * event's schema and size); the answer is composed once it is logged, so each call is an exchange
 * in the message log. The event id is the call's X-Road-Id: publishing it again returns the same
 * id without a second fan-out, and the same id with a different event is refused.
 */
import type { FastifyRequest } from 'fastify'
import { XRoadError } from '../../../protocol/errors.ts'
import type { ClientEntry, Registry } from '../../../registry/registry.ts'
import { mayPublish, type EventTypeEntry, type RoomEntry } from '../../../registry/rooms.ts'
import type { Answer, LocalAnswer } from '../../pipeline/walk.ts'
import { publishEvent, pullQueueOf, pushQueueOf, readEventJob } from '../../pipeline/publish.ts'
import type { AsyncExchange } from '../../pipeline/spool.ts'
import { checkTransparencyEvent, TRANSPARENCY_SCHEMA_BASE } from '../../../schemas/transparency.ts'
import { evidenceHeaders } from './headers.ts'
import type { R1Target } from './target.ts'

const OPERATIONS = new Set(['pub', 'pull', 'api'])
/** How long a pulled event stays leased to its puller before it is offered again. */
export const PULL_LEASE_MS = 30_000

export function roomOperation (registry: Registry, delivery: AsyncExchange | undefined, req: FastifyRequest, client: ClientEntry, target: R1Target, body: Buffer | undefined): LocalAnswer | undefined {
  const sid = target.serviceId
  if (sid.subsystemCode === undefined || sid.serviceVersion !== undefined || !OPERATIONS.has(sid.serviceCode)) return undefined
  const room = registry.rooms.get(`${sid.instance}/${sid.memberClass}/${sid.memberCode}/${sid.subsystemCode}`)
  if (room === undefined) return undefined
  const parts = target.path.split('/').slice(1)
  if (parts[0] !== 'v1') throw new XRoadError('Server.ServerProxy.UnknownService', `Room ${room.key} has no operation ${sid.serviceCode}${target.path}; its API is version v1`)
  const ex = req.exchange
  // The room answers as the provider: its status goes into the response record.
  const json = (status: number, value: unknown, extra: Record<string, string> = {}): Answer => {
    ex.providerStatus = status
    return { status, headers: { ...evidenceHeaders(ex), 'content-type': 'application/json; charset=utf-8', ...extra }, body: Buffer.from(JSON.stringify(value)) }
  }
  const empty = (): Answer => {
    ex.providerStatus = 204
    return { status: 204, headers: evidenceHeaders(ex), body: Buffer.alloc(0) }
  }
  const queue = (): AsyncExchange => {
    if (delivery === undefined) throw new XRoadError('Server.ClientProxy.QueueFailed', 'This node runs without a delivery queue, so its rooms cannot take events')
    return delivery
  }
  const method = req.method
  const [, first, second, ...rest] = parts
  if (rest.length > 0) throw new XRoadError('Client.BadRequest', `No such room path: ${target.path}`)

  if (sid.serviceCode === 'api') {
    if (method !== 'GET') throw new XRoadError('Client.InvalidHttpMethod', 'The room API is read with GET here; subscriptions are requested through the admin API')
    if (first === 'eventType') {
      if (second === undefined) return () => json(200, [...room.types.values()].map(t => ({ eventType: t.name, schema: t.schema })))
      const type = eventType(room, second)
      return () => json(200, { eventType: type.name, schema: type.schema })
    }
    if (first === 'subs' && second === undefined) {
      return () => json(200, room.subscriptions.filter(s => s.config.subscriber === client.key).map(s => ({
        id: s.config.id, subscriberId: s.config.subscriber, eventTypes: s.config.eventTypes, delivery: s.config.mode.toUpperCase(),
        options: { TTL: Math.round(s.delivery.ttlMs / 1000), FIFO: s.delivery.fifo },
      })))
    }
    throw new XRoadError('Client.BadRequest', `No such room path: ${target.path}`)
  }

  if (first === undefined) throw new XRoadError('Client.BadRequest', `The event type is missing: ${sid.serviceCode}/v1/{eventType}`)
  const type = eventType(room, first)

  if (sid.serviceCode === 'pub') {
    if (!mayPublish(room, client.key)) throw new XRoadError('Server.ServerProxy.AccessDenied', `Request is not allowed: ${client.key} may not publish to room ${room.key}`)
    if (second === undefined) {
      if (method !== 'POST') throw new XRoadError('Client.InvalidHttpMethod', 'Events are published with POST')
      const parsed = eventBody(room, type, req, body)
      const d = queue()
      return async () => {
        const id = ex.messageId!
        const published = await publishEvent(d, room, type, { id, publisher: client.key, data: body!, parsed })
        if (!published.stored) {
          const earlier = await d.queue.event(room.key, id)
          if (earlier !== undefined && (earlier.type !== type.name || !earlier.data.equals(body!))) {
            throw new XRoadError('Client.IdempotencyKeyReused', `Event ${id} was already published with different content; publish a new event with a new X-Road-Id`)
          }
        }
        return json(201, { id }, { location: `/r1/${room.key}/pub/v1/${type.name}/${encodeURIComponent(id)}` })
      }
    }
    if (method !== 'GET') throw new XRoadError('Client.InvalidHttpMethod', 'An event\'s delivery status is read with GET')
    const d = queue()
    return async () => {
      const event = await d.queue.event(room.key, second)
      if (event === undefined || event.type !== type.name) throw new XRoadError('Client.MessageNotFound', `Room ${room.key} has no ${type.name} event ${second}`)
      const jobs = new Map((await d.queue.find(second)).map(j => [j.queue, j]))
      const deliveries = room.subscriptions.filter(s => s.types.has(type.name)).map(s => {
        const job = jobs.get(s.config.mode === 'push' ? pushQueueOf(s) : pullQueueOf(s, type.name))
        const state = job === undefined ? 'unknown' : job.state === 'delivered' ? 'delivered' : job.state === 'dead' ? 'dead' : 'retrying'
        return { subscription: s.config.id, subscriberId: s.config.subscriber, delivery: s.config.mode.toUpperCase(), state, attempts: job?.attempts ?? 0, ...(job?.lastError === null || job?.lastError === undefined || state === 'delivered' ? {} : { lastError: job.lastError }) }
      })
      const count = (s: string): number => deliveries.filter(x => x.state === s).length
      return json(200, {
        id: event.id, eventType: event.type, sequence: event.seq, publisherId: event.publisher, publishedAt: event.publishedAt.toISOString(),
        subscribers: deliveries.length, delivered: count('delivered'), retrying: count('retrying'), dead: count('dead'), deliveries,
      })
    }
  }

  // pull
  const mine = room.subscriptions.find(s => s.config.mode === 'pull' && s.config.subscriber === client.key && s.types.has(type.name))
  if (mine === undefined) throw new XRoadError('Server.ServerProxy.AccessDenied', `Request is not allowed: ${client.key} has no approved pull subscription to ${type.name} in room ${room.key}`)
  const d = queue()
  const name = pullQueueOf(mine, type.name)
  if (second === undefined) {
    if (method !== 'GET') throw new XRoadError('Client.InvalidHttpMethod', 'The next event is pulled with GET')
    return async () => {
      const job = await d.queue.fetch(name, PULL_LEASE_MS).catch(err => { if ((err as { code?: string }).code === 'Delivery.UnknownQueue') return undefined; throw err })
      if (job === undefined) return empty()
      const ev = readEventJob(job.payload)
      return json(200, { id: ev.id, eventType: ev.type, publisherId: ev.publisher, publishedAt: ev.publishedAt, attempt: job.attempts, data: JSON.parse(ev.data) as unknown })
    }
  }
  if (method !== 'DELETE') throw new XRoadError('Client.InvalidHttpMethod', 'A pulled event is acknowledged with DELETE')
  return async () => {
    const done = await d.queue.complete(name, second).catch(() => false)
    if (!done) throw new XRoadError('Client.DeliveryNotFound', `Event ${second} is not leased to ${client.key}: pull it first (a lease lasts ${PULL_LEASE_MS / 1000} s)`)
    return empty()
  }
}

function eventType (room: RoomEntry, name: string): EventTypeEntry {
  const type = room.types.get(name)
  if (type === undefined) throw new XRoadError('Server.ServerProxy.UnknownService', `Room ${room.key} has no event type ${name} (it has: ${[...room.types.keys()].join(', ')})`)
  return type
}

/** The event as JSON, within the room's size limit and valid against its type's schema. */
function eventBody (room: RoomEntry, type: EventTypeEntry, req: FastifyRequest, body: Buffer | undefined): unknown {
  const contentType = req.headers['content-type'] ?? ''
  if (!/^application\/(.+\+)?json\s*(;|$)/i.test(contentType)) throw new XRoadError('Client.InvalidContentType', `Events are JSON (application/json), got '${contentType}'`)
  if (body === undefined || body.length === 0) throw new XRoadError('Client.MissingBody', 'The event is missing')
  if (body.length > room.config.maxEventBytes) throw new XRoadError('Client.RequestTooLarge', `The event is ${body.length} bytes; room ${room.key} takes at most ${room.config.maxEventBytes}`)
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch (err) {
    throw new XRoadError('Client.InvalidBody', `The event is not JSON: ${(err as Error).message}`)
  }
  if (!type.validate(parsed)) {
    const violations = (type.validate.errors ?? []).map(e => `${e.instancePath === '' ? '/' : e.instancePath}: ${e.message ?? 'invalid'}`)
    throw new XRoadError('Client.InvalidBody', `The event does not match the ${type.name} schema: ${violations.join('; ')}`, violations)
  }
  // Transparency events carry rules a schema cannot state (Law 146/2014's comment period in working days).
  const ref = type.schema.$ref
  if (typeof ref === 'string' && ref.startsWith(TRANSPARENCY_SCHEMA_BASE)) {
    const violations = checkTransparencyEvent(type.name, parsed)
    if (violations.length > 0) throw new XRoadError('Client.InvalidBody', `The event breaks a rule of its type: ${violations.join('; ')}`, violations)
  }
  return parsed
}
