/**
 * Store-and-forward, the delivering side: one attempt to hand a queued request to its provider.
 * Each attempt is an exchange of its own in the message log (a request record before it leaves,
 * a response record when the provider answered) with a fresh X-Road-Request-Id and the client's
 * X-Road-Id, sent through the service's adapter as it is now (timeout, retries, breaker).
 *
 * An answer is kept for the client unless it says "try later" (429, 502, 503, 504); those, no
 * answer at all, and a log that cannot record fail the attempt, and the queue retries with backoff.
 * A service that no longer exists ends the job at once (dead).
 */
import { randomUUID } from 'node:crypto'
import type { Job, Outcome } from '../../delivery/queue.ts'
import { isXRoadError } from '../../protocol/errors.ts'
import { loggedAttempt, observed, TRY_LATER, type AttemptObserver } from './attempt.ts'
import type { GatewayPipeline } from './context.ts'
import type { Exchange } from './exchange.ts'
import { readSpooled } from './spool.ts'

/** What the job keeps of a delivered request: the provider's answer, for the client to read. */
export interface KeptAnswer {
  status: number
  contentType: string | null
  body: string
  /** The attempt's X-Road-Request-Id (find it in the message log). */
  requestId: string
  at: string
}

export function deliverRequest (ctx: () => GatewayPipeline, observe?: AttemptObserver): (job: Job) => Promise<Outcome> {
  return observed(async job => attempt(ctx(), job), observe)
}

async function attempt (pipeline: GatewayPipeline, job: Job): Promise<Outcome> {
  let req
  try {
    req = readSpooled(job.payload)
  } catch (err) {
    return { ok: false, error: `unreadable job: ${(err as Error).message}`, retry: false }
  }
  const registry = pipeline.registry
  registry.hold()
  try {
    const service = registry.findService(req.serviceId)
    if (service === undefined) return { ok: false, error: `service ${req.service} no longer exists`, retry: false }
    if (service.config.disabled !== undefined) return { ok: false, error: `service ${req.service} is disabled: ${service.config.disabled.notice}` }
    const requestId = randomUUID()
    const headers = req.out.headers.slice()
    for (let i = 0; i < headers.length; i += 2) if (headers[i].toLowerCase() === 'x-road-request-id') headers[i + 1] = requestId
    const ex: Exchange = {
      protocol: req.protocol,
      requestId,
      messageId: req.messageId,
      clientId: req.clientId,
      serviceId: req.serviceId,
      service,
      ...(req.userId === null ? {} : { userId: req.userId }),
      ...(req.issue === null ? {} : { issue: req.issue }),
      ...(req.representedParty === null ? {} : { representedParty: req.representedParty }),
      ...(req.method === null ? {} : { method: req.method }),
      ...(req.path === null ? {} : { path: req.path }),
      ...(req.query === null ? {} : { query: req.query }),
      ...(req.requestHash === null ? {} : { requestHash: req.requestHash }),
      ...(req.bodyDigest === null ? {} : { requestBodyDigest: req.bodyDigest }),
      requestHeaders: headers,
      // An attempt in a FIFO chain holds back the next one of its key: its records do not wait.
      ...(job.key === null ? { delivery: true as const } : {}),
    }
    const body = req.body === null ? undefined : Buffer.from(req.body, 'base64')
    try {
      const res = await loggedAttempt(pipeline, ex, service, { method: req.out.method, path: req.out.path, headers, body, timeoutMs: req.out.timeoutMs, exchange: ex, ...(req.out.endpoint === undefined ? {} : { endpoint: req.out.endpoint }) })
      const type = res.headers['content-type']
      const contentType = typeof type === 'string' ? type : null
      if (TRY_LATER.has(res.status)) return { ok: false, error: `the provider answered ${res.status}` }
      const kept: KeptAnswer = { status: res.status, contentType, body: res.body.toString('base64'), requestId, at: new Date().toISOString() }
      return { ok: true, result: Buffer.from(JSON.stringify(kept)) }
    } catch (err) {
      return { ok: false, error: isXRoadError(err) ? `${err.code}: ${err.message}` : (err as Error).message }
    }
  } finally {
    registry.release()
  }
}
