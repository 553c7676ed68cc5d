/** Gateway-made REST errors: JSON `{type, message, detail}` and the `X-Road-Error` header. */
import type { FastifyReply } from 'fastify'
import type { XRoadError } from '../../protocol/errors.ts'

export function sendRestError (reply: FastifyReply, err: XRoadError, detail: string): FastifyReply {
  const body: Record<string, unknown> = { type: err.code, message: err.message, detail }
  if (err.violations !== undefined) body.violations = err.violations
  if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds))
  return reply
    .code(err.status)
    .header('x-road-error', err.code)
    .header('x-road-request-id', detail)
    .header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify(body))
}
