/**
 * Pub/sub push (docs/pubsub.md): one attempt to hand an event to a subscriber's own service, as an
 * exchange from the room to that service through its adapter, logged like any exchange. The event
 * id is the X-Road-Id of every attempt (the subscriber's key for dropping a repeat), and the event
 * travels as CloudEvents binary-mode headers plus its JSON body.
 *
 * 2xx delivers; 429/502/503/504, other 5xx and no answer are retried with the subscription's
 * backoff; another 4xx is the subscriber refusing this event: dead at once, re-drivable. A
 * subscription that was withdrawn, or a push service that is gone, ends its jobs (dead).
 */
import { randomUUID } from 'node:crypto'
import type { Job, Outcome } from '../../delivery/queue.ts'
import { isXRoadError } from '../../protocol/errors.ts'
import { loggedAttempt, observed, TRY_LATER, type AttemptObserver } from './attempt.ts'
import type { GatewayPipeline } from './context.ts'
import type { Exchange } from './exchange.ts'
import { readEventJob } from './publish.ts'

export function pushEvent (ctx: () => GatewayPipeline, observe?: AttemptObserver): (job: Job) => Promise<Outcome> {
  return observed(async job => attempt(ctx(), job), observe)
}

async function attempt (pipeline: GatewayPipeline, job: Job): Promise<Outcome> {
  let ev
  try {
    ev = readEventJob(job.payload)
  } catch (err) {
    return { ok: false, error: `unreadable job: ${(err as Error).message}`, retry: false }
  }
  const registry = pipeline.registry
  registry.hold()
  try {
    const room = registry.rooms.get(ev.room)
    const sub = room?.subscriptions.find(s => s.config.id === ev.subscription)
    if (room === undefined || sub === undefined) return { ok: false, error: `subscription ${ev.subscription} is no longer approved`, retry: false }
    const target = sub.config.push
    const serviceId = sub.pushService
    if (target === undefined || serviceId === undefined) return { ok: false, error: `subscription ${ev.subscription} is not a push subscription`, retry: false }
    const service = registry.findService(serviceId)
    if (service === undefined) return { ok: false, error: `push service ${target.service} is not defined`, retry: false }
    const requestId = randomUUID()
    const body = Buffer.from(ev.data)
    const headers = [
      'content-type', 'application/json',
      'X-Road-Client', ev.room,
      'X-Road-Id', ev.id,
      'X-Road-Request-Id', requestId,
      'ce-specversion', '1.0',
      'ce-id', ev.id,
      'ce-type', ev.type,
      'ce-source', ev.room,
      'ce-time', ev.publishedAt,
    ]
    const ex: Exchange = {
      protocol: 'rest',
      requestId,
      messageId: ev.id,
      clientId: room.id,
      serviceId,
      service,
      method: 'POST',
      path: target.path ?? '',
      query: '',
      requestHeaders: headers,
      ...(ev.digest === undefined ? {} : { requestBodyDigest: ev.digest }),
      // An attempt in a FIFO chain holds back the next one of its key: its records do not wait.
      ...(job.key === null ? { delivery: true as const } : {}),
    }
    try {
      const res = await loggedAttempt(pipeline, ex, service, { method: 'POST', path: target.path ?? '', headers, body, timeoutMs: service.config.timeoutMs, exchange: ex })
      if (res.status >= 200 && res.status < 300) return { ok: true }
      if (TRY_LATER.has(res.status) || res.status >= 500) return { ok: false, error: `the subscriber answered ${res.status}` }
      return { ok: false, error: `the subscriber refused the event (${res.status})`, retry: false }
    } catch (err) {
      return { ok: false, error: isXRoadError(err) ? `${err.code}: ${err.message}` : (err as Error).message }
    }
  } finally {
    registry.release()
  }
}
