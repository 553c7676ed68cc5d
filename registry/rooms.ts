/**
 * The publish/subscribe rooms of a registry snapshot (docs/pubsub.md): each room (a subsystem) with
 * its event types' compiled schemas, who may publish, and its approved subscriptions with their
 * delivery settings resolved (the subscription's own over the room's over the node's defaults).
 * Built with the snapshot, so a new registry version brings new rooms and subscriptions at once.
 */
import type { ValidateFunction } from 'ajv'
import type { RoomConfig, RoomRetry, SubscriptionConfig } from '../config/registry-sections.ts'
import { parseClientText, type ClientId, type ServiceId } from '../protocol/identifiers.ts'
import type { SchemaLibrary } from '../schemas/library.ts'

export interface EventTypeEntry {
  name: string
  schema: Record<string, unknown>
  validate: ValidateFunction
  /** The ordering key's JSON pointer, split into its reference tokens. */
  orderingKey?: string[]
}

export interface SubscriptionDelivery {
  retry: { limit: number; delayMs: number; backoff: boolean; maxDelayMs: number }
  ttlMs: number
  fifo: boolean
  keepMs: number
}

export interface SubscriptionEntry {
  config: SubscriptionConfig
  types: Set<string>
  delivery: SubscriptionDelivery
  /** A push subscription's service (`config.push.service`), parsed once with the snapshot. */
  pushService?: ServiceId
}

/** `AL/NJQV/L21603004L/gjendja-civile/ngjarje[/v1]` as a service id. */
function serviceIdOf (text: string): ServiceId {
  const parts = text.split('/')
  return { ...parseClientText(parts.slice(0, 4).join('/')), serviceCode: parts[4], ...(parts[5] === undefined ? {} : { serviceVersion: parts[5] }) }
}

export interface RoomEntry {
  id: ClientId
  key: string
  config: RoomConfig
  types: Map<string, EventTypeEntry>
  /** Approved subscriptions only. */
  subscriptions: SubscriptionEntry[]
}

export const ROOM_DEFAULTS: SubscriptionDelivery = {
  retry: { limit: 8, delayMs: 2000, backoff: true, maxDelayMs: 600_000 },
  // GovStack IM's default TTL for an undelivered event: one hour.
  ttlMs: 3_600_000,
  fifo: false,
  keepMs: 86_400_000,
}

const retryOf = (...layers: Array<RoomRetry | undefined>): SubscriptionDelivery['retry'] =>
  Object.assign({}, ROOM_DEFAULTS.retry, ...layers.map(l => Object.fromEntries(Object.entries(l ?? {}).filter(([, v]) => v !== undefined))))

export function buildRooms (rooms: RoomConfig[], subscriptions: SubscriptionConfig[], library: SchemaLibrary): Map<string, RoomEntry> {
  const out = new Map<string, RoomEntry>()
  for (const r of rooms) {
    const types = new Map<string, EventTypeEntry>()
    for (const e of r.eventTypes) {
      types.set(e.name, {
        name: e.name,
        schema: e.schema,
        validate: library.compileBody(e.schema),
        ...(e.orderingKey === undefined ? {} : { orderingKey: e.orderingKey.slice(1).split('/').map(t => t.replaceAll('~1', '/').replaceAll('~0', '~')) }),
      })
    }
    out.set(r.room, { id: parseClientText(r.room), key: r.room, config: r, types, subscriptions: [] })
  }
  for (const s of subscriptions) {
    if ((s.state ?? 'approved') !== 'approved') continue
    const room = out.get(s.room)
    if (room === undefined) continue
    room.subscriptions.push({
      config: s,
      types: new Set(s.eventTypes),
      delivery: {
        retry: retryOf(room.config.delivery?.retry, s.retry),
        ttlMs: s.ttlMs ?? room.config.delivery?.ttlMs ?? ROOM_DEFAULTS.ttlMs,
        fifo: s.fifo ?? false,
        keepMs: room.config.delivery?.keepMs ?? ROOM_DEFAULTS.keepMs,
      },
      ...(s.push === undefined ? {} : { pushService: serviceIdOf(s.push.service) }),
    })
  }
  return out
}

/** A client may publish when the room lists it, or its member. */
export function mayPublish (room: RoomEntry, client: string): boolean {
  const member = client.split('/').slice(0, 3).join('/')
  return room.config.publishers.includes(client) || room.config.publishers.includes(member)
}

/** The value at the event type's ordering key, as text; undefined when absent or not a scalar. */
export function orderingKeyOf (type: EventTypeEntry, event: unknown): string | undefined {
  if (type.orderingKey === undefined) return undefined
  let v: unknown = event
  for (const token of type.orderingKey) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<string, unknown>)[token]
  }
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined
}
