/**
 * Publishing to a room (docs/pubsub.md): the event and one job per approved subscription that
 * covers its type are stored in one durable step, each job checked (never a fan-out that silently
 * drops a subscriber). Push subscriptions share one queue per subscription (`sub.<id>`), so FIFO
 * holds across event types (a birth before the same citizen's change of residence); pull
 * subscriptions get one queue per subscription and type (`pull.<id>.<type>`), as GovStack pulls by type.
 */
import type { NewJob } from '../../delivery/queue.ts'
import { sha512 } from '../../messagelog/record.ts'
import { orderingKeyOf, type EventTypeEntry, type RoomEntry, type SubscriptionEntry } from '../../registry/rooms.ts'
import { defineOnce, type AsyncExchange } from './spool.ts'

export const PUSH_QUEUE_PREFIX = 'sub.'
export const PULL_QUEUE_PREFIX = 'pull.'

export const pushQueueOf = (s: SubscriptionEntry): string => PUSH_QUEUE_PREFIX + s.config.id
export const pullQueueOf = (s: SubscriptionEntry, type: string): string => `${PULL_QUEUE_PREFIX}${s.config.id}.${type}`

/** What a subscription's job carries: enough to push the event as it was published. */
export interface EventJob {
  v: 1
  room: string
  subscription: string
  type: string
  id: string
  publisher: string
  publishedAt: string
  /** The event's JSON text as published. */
  data: string
  /** Base64 SHA-512 of `data` (the body digest of every push's request record: hashed once per event). Absent in jobs queued by an earlier ura. */
  digest?: string
}

export interface Published {
  id: string
  seq: number
  /** False when this id was already published (nothing new was queued). */
  stored: boolean
  subscribers: number
}

export async function publishEvent (d: AsyncExchange, room: RoomEntry, type: EventTypeEntry, event: { id: string; publisher: string; data: Buffer; parsed: unknown }): Promise<Published> {
  const subscribers = room.subscriptions.filter(s => s.types.has(type.name))
  const publishedAt = new Date()
  const jobs: NewJob[] = []
  const key = orderingKeyOf(type, event.parsed)
  const data = event.data.toString('utf8')
  const digest = sha512(event.data)
  for (const s of subscribers) {
    const queue = s.config.mode === 'push' ? pushQueueOf(s) : pullQueueOf(s, type.name)
    await defineOnce(d, queue, { retry: s.delivery.retry, ttlMs: s.delivery.ttlMs, fifo: s.delivery.fifo, keepMs: s.delivery.keepMs })
    const job: EventJob = { v: 1, room: room.key, subscription: s.config.id, type: type.name, id: event.id, publisher: event.publisher, publishedAt: publishedAt.toISOString(), data, digest }
    jobs.push({ queue, id: event.id, payload: Buffer.from(JSON.stringify(job)), ...(s.delivery.fifo && key !== undefined ? { key } : {}) })
  }
  const result = await d.queue.publish({ room: room.key, type: type.name, id: event.id, publisher: event.publisher, publishedAt, data: event.data }, jobs)
  return { id: event.id, seq: result.seq, stored: result.stored, subscribers: subscribers.length }
}

export function readEventJob (payload: Buffer): EventJob {
  const v = JSON.parse(payload.toString()) as EventJob
  if (v.v !== 1) throw new Error(`unknown event job version ${String(v.v)}`)
  return v
}
