/**
 * Store-and-forward, the accepting side (DESIGN §13): a request the client is told was accepted
 * becomes a job in the service's delivery queue, holding everything a later attempt needs to send
 * it exactly as the synchronous path would have (the provider request, and the ids and digests its
 * log records carry). The node answers 202 with X-Road-Id, the request hash and a Location to
 * follow; the job's id is the client and its X-Road-Id, so a client repeating a message id gets the
 * same delivery back.
 */
import { XRoadError } from '../../protocol/errors.ts'
import { parseClientText, serviceText, type ClientId, type ServiceId } from '../../protocol/identifiers.ts'
import type { OutboundRequest } from '../../adapters/types.ts'
import type { DeliveryQueue, QueueOptions } from '../../delivery/queue.ts'
import type { IdempotencyStore } from '../../delivery/idempotency.ts'
import type { ServiceDeliveryConfig } from '../../config/types.ts'
import type { ServiceEntry } from '../../registry/registry.ts'
import type { Exchange } from './exchange.ts'
import type { Answer } from './answer.ts'

/** What the pipeline needs for asynchronous exchange. */
export interface AsyncExchange {
  queue: DeliveryQueue
  idempotency: IdempotencyStore
  idempotencyWindowMs: number
  /** Queues defined by this node, with the options text they were defined with. */
  defined: Map<string, string>
}

/** The request as the job keeps it (JSON). Version 1. */
export interface SpooledRequest {
  v: 1
  protocol: 'rest' | 'soap'
  client: string
  clientId: ClientId
  service: string
  serviceId: ServiceId
  messageId: string
  method: string | null
  path: string | null
  query: string | null
  userId: string | null
  issue: string | null
  representedParty: string | null
  requestHash: string | null
  bodyDigest: string | null
  /** The provider request: adapter path, headers as forwarded, deadline, matched endpoint. */
  out: { method: string; path: string; headers: string[]; timeoutMs: number; endpoint?: OutboundRequest['endpoint'] }
  body: string | null
  acceptedAt: string
}

export const SERVICE_QUEUE_PREFIX = 'svc.'
export const DELIVERY_PATH = '/delivery/v1/'

export const queueOf = (service: ServiceEntry): string => SERVICE_QUEUE_PREFIX + serviceText(service.id)
/** One client's message: its id in the service's queue. */
export const jobIdOf = (client: string, messageId: string): string => `${client} ${messageId}`

export function queueOptions (d: ServiceDeliveryConfig): QueueOptions {
  return { retry: { ...d.retry }, ttlMs: d.ttlMs, fifo: d.fifo, keepMs: d.keepMs }
}

/** Defines (or updates) a queue the first time this node needs it, or when its options change. */
export async function defineOnce (d: AsyncExchange, queue: string, options: QueueOptions): Promise<void> {
  const text = JSON.stringify(options)
  if (d.defined.get(queue) === text) return
  await d.queue.define(queue, options)
  d.defined.set(queue, text)
}

export function spooled (ex: Exchange, out: OutboundRequest, body: Buffer | undefined): SpooledRequest {
  return {
    v: 1,
    protocol: ex.protocol,
    client: ex.client!.key,
    clientId: ex.clientId!,
    service: serviceText(ex.serviceId!),
    serviceId: ex.serviceId!,
    messageId: ex.messageId ?? ex.requestId,
    method: ex.method ?? null,
    path: ex.path ?? null,
    query: ex.query ?? null,
    userId: ex.userId ?? null,
    issue: ex.issue ?? null,
    representedParty: ex.representedParty ?? null,
    requestHash: ex.requestHash ?? null,
    bodyDigest: ex.requestBodyDigest ?? null,
    out: { method: out.method, path: out.path, headers: out.headers, timeoutMs: out.timeoutMs, ...(out.endpoint === undefined ? {} : { endpoint: out.endpoint }) },
    body: body === undefined || body.length === 0 ? null : body.toString('base64'),
    acceptedAt: new Date().toISOString(),
  }
}

export function readSpooled (payload: Buffer): SpooledRequest {
  const v = JSON.parse(payload.toString()) as SpooledRequest
  if (v.v !== 1) throw new Error(`unknown spooled request version ${String(v.v)}`)
  parseClientText(v.client)
  return v
}

/**
 * Makes the request durable and composes the 202. A message id this client already had accepted
 * for the service is not queued again: the answer names the existing delivery.
 */
export async function accept (d: AsyncExchange, ex: Exchange, service: ServiceEntry, delivery: ServiceDeliveryConfig, out: OutboundRequest, body: Buffer | undefined, opts: { orderingKey?: string; preferred: boolean }): Promise<Answer> {
  const job = spooled(ex, out, body)
  let state = 'queued'
  try {
    const queue = queueOf(service)
    await defineOnce(d, queue, queueOptions(delivery))
    const id = jobIdOf(job.client, job.messageId)
    const [fresh] = await d.queue.enqueue([{ queue, id, payload: Buffer.from(JSON.stringify(job)), ...(opts.orderingKey === undefined ? {} : { key: opts.orderingKey }) }])
    if (!fresh) state = (await d.queue.get(queue, id))?.state ?? state
  } catch (err) {
    throw new XRoadError('Server.ClientProxy.QueueFailed', `The request could not be queued for delivery: ${(err as Error).message}`, undefined, { cause: err })
  }
  ex.providerStatus = 202
  const location = DELIVERY_PATH + encodeURIComponent(job.messageId)
  const headers: Record<string, string> = { 'x-road-id': job.messageId, 'x-road-request-id': ex.requestId, location }
  if (ex.requestHash !== undefined) headers['x-road-request-hash'] = ex.requestHash
  if (opts.preferred) headers['preference-applied'] = 'respond-async'
  if (ex.protocol === 'soap') return { status: 202, headers, body: Buffer.alloc(0) }
  headers['content-type'] = 'application/json'
  return { status: 202, headers, body: Buffer.from(JSON.stringify({ id: job.messageId, state, location })) }
}

/** Failures that prove the provider never got the request: safe to queue instead (fallback). */
export function queueable (err: unknown): boolean {
  const code = (err as XRoadError).code
  return code === 'Server.ServerProxy.ServiceFailed.CircuitOpen' || code === 'Server.ServerProxy.ServiceFailed.Overloaded' ||
    code === 'Server.ServerProxy.ServiceFailed.NetworkError'
}
