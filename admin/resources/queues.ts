/**
 * The node's delivery queues as operators see them (`/admin/v1/queues`): how many jobs each queue
 * holds per state and how old its oldest waiting job is; a queue's jobs (dead letters, say) without
 * their payloads; one job, its payload only for operators who may read message bodies; and
 * re-driving dead jobs back to `queued`, a change that needs a reason and is recorded in the audit
 * trail. A store-and-forward queue (`svc.<service>`) belongs to the service's provider member, so a
 * member-scoped operator sees and acts on its own member's queues only; every other queue (a
 * pub/sub subscription's, `sub.<id>`) is for global roles.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { QueueError, type DeliveryQueue, type Job, type QueueStats } from '../../delivery/queue.ts'
import { reasonOf } from '../change.ts'
import type { AdminContext } from '../context.ts'
import { AdminError } from '../errors.ts'
import { memberOfClient } from '../ids.ts'
import { recordAction } from '../record.ts'
import { grantFor } from '../roles.ts'
import { route } from '../route-kit.ts'

const TAG = 'Delivery queues'
/** Store-and-forward queues are named after their service (gateway/pipeline/spool.ts). */
export const SERVICE_QUEUE_PREFIX = 'svc.'
export const JOB_STATES = ['queued', 'active', 'retry', 'delivered', 'dead'] as const
export const DEFAULT_JOB_LIMIT = 50
export const MAX_JOB_LIMIT = 500
const MAX_REDRIVE_IDS = 1000

const QUEUE = { type: 'string', minLength: 1, maxLength: 1300, description: 'the queue\'s name (`svc.<service id>`, `sub.<subscription id>`), URL-encoded: its slashes as %2F' }
const JOB_ID = { type: 'string', minLength: 1, maxLength: 1300, description: 'the job\'s id (for store-and-forward: the client id, a space and the X-Road-Id), URL-encoded' }

export const REDRIVE_BODY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ids: { type: 'array', minItems: 1, maxItems: MAX_REDRIVE_IDS, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 1300 }, description: 'these dead jobs only; absent: every dead job of the queue' },
  },
}

/** The member a queue belongs to: a store-and-forward queue's provider; undefined for every other queue (node-wide). */
export function queueMember (queue: unknown): string | undefined {
  if (typeof queue !== 'string' || !queue.startsWith(SERVICE_QUEUE_PREFIX)) return undefined
  return memberOfClient(queue.slice(SERVICE_QUEUE_PREFIX.length))
}

/** The node's delivery queue, or 503 Admin.QueueUnavailable when the node gave the admin API none. */
function queueOf (ctx: AdminContext): DeliveryQueue {
  if (ctx.deliveryQueue === undefined) throw new AdminError('Admin.QueueUnavailable', 'this node gives the admin API no delivery queue')
  return ctx.deliveryQueue
}

/** One call on the queue store; its failure is 503 Admin.QueueUnavailable, an undefined queue 404 Admin.UnknownQueue. */
async function onQueue<T> (ctx: AdminContext, use: (queue: DeliveryQueue) => Promise<T>): Promise<T> {
  const queue = queueOf(ctx)
  try {
    return await use(queue)
  } catch (err) {
    if (err instanceof AdminError) throw err
    if (err instanceof QueueError && err.code === 'Delivery.UnknownQueue') throw unknownQueue(err.message)
    throw new AdminError('Admin.QueueUnavailable', `the delivery queue cannot be read: ${(err as Error).message}`, {}, { cause: err })
  }
}

const unknownQueue = (name: string): AdminError => new AdminError('Admin.UnknownQueue', `no delivery queue is named ${name}`, { queue: name })

/** A queue's counts, or 404 Admin.UnknownQueue when no queue has that name. */
async function statsOf (ctx: AdminContext, name: string): Promise<QueueStats> {
  const stats = (await onQueue(ctx, q => q.stats())).find(s => s.queue === name)
  if (stats === undefined) throw unknownQueue(name)
  return stats
}

function queueView (s: QueueStats): Record<string, unknown> {
  const member = queueMember(s.queue)
  return {
    queue: s.queue,
    ...(member === undefined ? {} : { member }),
    counts: { queued: s.queued, active: s.active, retry: s.retry, delivered: s.delivered, dead: s.dead },
    oldestMs: s.oldestMs,
  }
}

/** A job as listed: what it is and where it stands, the sizes of its payload and result, never their bytes. */
function jobView (j: Job): Record<string, unknown> {
  return {
    queue: j.queue,
    id: j.id,
    key: j.key,
    state: j.state,
    attempts: j.attempts,
    createdAt: j.createdAt.toISOString(),
    nextAt: j.nextAt.toISOString(),
    finishedAt: j.finishedAt?.toISOString() ?? null,
    lastError: j.lastError,
    payloadBytes: j.payload.length,
    resultBytes: j.result?.length ?? null,
  }
}

/** Whether the operator may read the bytes a job carries: `log.bodies` for the queue's member (global grants only for other queues). */
function readsPayload (request: FastifyRequest, queue: string): boolean {
  return grantFor(request.operator?.roles ?? [], 'log.bodies', queueMember(queue)) !== undefined
}

export async function queueRoutes (app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const nameOf = (request: FastifyRequest): string => (request.params as { queue: string }).queue
  const member = (request: FastifyRequest): string | undefined => queueMember((request.params as { queue?: unknown }).queue)
  const target = (request: FastifyRequest): string | undefined => { const q = (request.params as { queue?: unknown }).queue; return typeof q === 'string' ? `queue ${q}` : undefined }

  app.get('/queues', route('queue.read', { tag: TAG, summary: 'the delivery queues with their jobs counted per state and the age of the oldest waiting job', authorize: 'list' }), async request => {
    const visible = request.visibleMembers
    const all = await onQueue(ctx, q => q.stats())
    const items = all
      .filter(s => visible === undefined || visible.has(queueMember(s.queue) ?? ''))
      .sort((a, b) => a.queue.localeCompare(b.queue))
      .map(queueView)
    return { items }
  })

  app.get('/queues/:queue', route('queue.read', { tag: TAG, summary: 'one delivery queue\'s counts', params: { queue: QUEUE }, member, target }), async request => {
    return queueView(await statsOf(ctx, nameOf(request)))
  })

  app.get('/queues/:queue/jobs', route('queue.read', {
    tag: TAG,
    summary: 'a delivery queue\'s jobs, oldest first, without their payloads',
    params: { queue: QUEUE },
    querystring: {
      state: { type: 'string', enum: JOB_STATES, description: 'jobs in this state only (`dead`: the dead letters)' },
      limit: { type: 'string', pattern: '^([1-9][0-9]?|[1-4][0-9]{2}|500)$', description: `at most this many (default ${DEFAULT_JOB_LIMIT}, at most ${MAX_JOB_LIMIT})` },
    },
    member,
    target,
  }), async request => {
    const name = nameOf(request)
    await statsOf(ctx, name)
    const q = request.query as { state?: typeof JOB_STATES[number]; limit?: string }
    const limit = Number(q.limit ?? DEFAULT_JOB_LIMIT)
    const jobs = await onQueue(ctx, store => store.list({ queue: name, ...(q.state === undefined ? {} : { state: q.state }), limit }))
    return { queue: name, items: jobs.map(jobView) }
  })

  app.get('/queues/:queue/jobs/:id', route('queue.read', {
    tag: TAG,
    summary: 'one job; its payload and result (base64) only for operators who may read message bodies (log.bodies)',
    params: { queue: QUEUE, id: JOB_ID },
    member,
    target: request => { const p = request.params as { queue?: unknown; id?: unknown }; return typeof p.queue === 'string' && typeof p.id === 'string' ? `queue ${p.queue} job ${p.id}` : undefined },
  }), async request => {
    const name = nameOf(request)
    const id = (request.params as { id: string }).id
    await statsOf(ctx, name)
    const job = await onQueue(ctx, q => q.get(name, id))
    if (job === undefined) throw new AdminError('Admin.NotFound', `queue ${name} holds no job ${id}`)
    const withBytes = readsPayload(request, name)
    return {
      ...jobView(job),
      ...(withBytes ? { payload: job.payload.toString('base64'), result: job.result?.toString('base64') ?? null } : {}),
    }
  })

  app.post('/queues/:queue/redrive', route('queue.redrive', {
    tag: TAG,
    summary: 'put dead jobs (all, or the ones named) back to queued with their attempts reset; needs X-Ura-Reason',
    params: { queue: QUEUE },
    body: REDRIVE_BODY,
    reason: true,
    member,
    target,
  }), async request => {
    const name = nameOf(request)
    const reason = reasonOf(request)
    const body = (request.body ?? {}) as { ids?: string[] }
    const before = await statsOf(ctx, name)
    const redriven = await onQueue(ctx, q => q.redrive(name, body.ids))
    request.log.info({ requestId: request.id, operator: request.operator?.id, queue: name, ids: body.ids?.length ?? 'all', redriven, reason }, 'dead jobs re-driven')
    const after = { queue: name, ids: body.ids ?? null, redriven, reason }
    try {
      // The trail digests the state before (the queue's dead count) and after (what was re-driven, and why).
      await recordAction(ctx, request, { result: 'allowed', before: { queue: name, dead: before.dead }, after })
    } catch (err) {
      request.adminAction!.audited = true
      throw new AdminError('Admin.AuditFailed', `${redriven} job${redriven === 1 ? ' was' : 's were'} re-driven, but the audit record could not be written`, { redriven }, { cause: err })
    }
    return { queue: name, redriven }
  })
}
