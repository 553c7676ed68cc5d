/**
 * `GET /delivery/v1/{messageId}` and `…/response`: where a client follows a request the node
 * accepted with 202 (store-and-forward). The caller is identified like an exchange (X-Road-Client,
 * proven by its client certificate over mutual TLS) and sees only its own messages: the job id is
 * the client and the X-Road-Id, so another client asking the same id finds nothing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Job } from '../../delivery/queue.ts'
import { XRoadError } from '../../protocol/errors.ts'
import type { GatewayContext } from '../context.ts'
import type { KeptAnswer } from '../pipeline/deliver.ts'
import { DELIVERY_PATH, jobIdOf, readSpooled, SERVICE_QUEUE_PREFIX } from '../pipeline/spool.ts'
import { identify } from '../pipeline/stages.ts'
import { peerOf } from './client-cert.ts'
import { readXRoadHeaders } from './rest/headers.ts'

export async function deliveryStatusRoutes (app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  app.get<{ Params: { id: string } }>(`${DELIVERY_PATH}:id`, async (req, reply) => {
    const job = await ownJob(ctx, req)
    const spooled = readSpooled(job.payload)
    const kept = job.result === null ? undefined : JSON.parse(job.result.toString()) as KeptAnswer
    const status: Record<string, unknown> = {
      id: spooled.messageId,
      service: spooled.service,
      state: job.state === 'active' ? 'delivering' : job.state,
      attempts: job.attempts,
      acceptedAt: spooled.acceptedAt,
    }
    if (job.state === 'queued' || job.state === 'retry') status.nextAttemptAt = job.nextAt.toISOString()
    if (job.finishedAt !== null) status.finishedAt = job.finishedAt.toISOString()
    if (job.lastError !== null && job.state !== 'delivered') status.lastError = job.lastError
    if (kept !== undefined) status.response = { status: kept.status, contentType: kept.contentType, requestId: kept.requestId, at: kept.at, location: `${DELIVERY_PATH}${encodeURIComponent(spooled.messageId)}/response` }
    return reply.header('cache-control', 'no-store').send(status)
  })

  app.get<{ Params: { id: string } }>(`${DELIVERY_PATH}:id/response`, async (req, reply) => {
    const job = await ownJob(ctx, req)
    if (job.result === null) throw new XRoadError('Client.DeliveryNotFound', `Message ${req.params.id} has no answer yet (state: ${job.state})`)
    const kept = JSON.parse(job.result.toString()) as KeptAnswer
    reply.code(kept.status).header('cache-control', 'no-store').header('x-road-id', req.params.id).header('x-road-request-id', kept.requestId)
    if (kept.contentType !== null) reply.header('content-type', kept.contentType)
    return reply.send(Buffer.from(kept.body, 'base64'))
  })
}

async function ownJob (ctx: GatewayContext, req: FastifyRequest<{ Params: { id: string } }>): Promise<Job> {
  const delivery = ctx.delivery
  const caller = identify(ctx.registry, readXRoadHeaders(req.raw.rawHeaders).client, peerOf(req.raw.socket, ctx.clientCertificates))
  const jobs = delivery === undefined ? [] : await delivery.queue.find(jobIdOf(caller.key, req.params.id))
  const job = jobs.filter(j => j.queue.startsWith(SERVICE_QUEUE_PREFIX)).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0]
  if (job === undefined) throw new XRoadError('Client.DeliveryNotFound', `No request with X-Road-Id ${req.params.id} was accepted for delivery from ${caller.key}`)
  return job
}
