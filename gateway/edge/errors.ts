/**
 * How the node answers with its own errors: every failure becomes an X-Road typed error (DESIGN §4)
 * and is rendered in the caller's protocol — REST as JSON `{type, message, detail}` with the
 * `X-Road-Error` header, SOAP as a SOAP 1.1 Fault. Fastify's own errors (body too large, bad
 * content length, undecodable URL) and unknown routes get the same shape.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { XRoadError, isXRoadError } from '../../protocol/errors.ts'
import { faultEnvelope } from '../../protocol/soap/fault.ts'
import { evidenceHeaders } from './rest/headers.ts'

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

/** Fastify's error handler: the error in the protocol the request came in. */
export function errorHandler (err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const ex = req.exchange
  const xerr = toXRoadError(err)
  ex.errorCode = xerr.code
  if (xerr.code === 'Server.ClientProxy.InternalError') req.log.error({ err, requestId: ex.requestId }, 'unexpected error')
  if (ex.protocol === 'soap') {
    if (xerr.retryAfterSeconds !== undefined) reply.header('retry-after', String(xerr.retryAfterSeconds))
    // Faults travel as 500 (SOAP 1.1 over HTTP), except a rate limit: 429 tells the client to slow down.
    return reply.code(xerr.status === 429 ? 429 : 500).header('content-type', 'text/xml; charset=utf-8').header('x-road-request-id', ex.requestId).send(faultEnvelope(xerr, ex.requestId))
  }
  return sendRestError(reply.headers(evidenceHeaders(ex)), xerr, ex.requestId)
}

/** No route: an unsupported REST protocol version, or no such endpoint. */
export function notFoundHandler (req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const versioned = /^\/r(\d+)\//.exec(req.raw.url ?? '')
  const err = versioned !== null && versioned[1] !== '1'
    ? new XRoadError('Client.InvalidProtocolVersion', `REST protocol version r${versioned[1]} is not supported; use r1`)
    : new XRoadError('Client.BadRequest', `No such endpoint: ${req.method} ${req.raw.url?.split('?')[0]}`)
  req.exchange.errorCode = err.code
  return sendRestError(reply, err, req.exchange.requestId)
}

/** Errors raised before routing (an undecodable URL) get the same X-Road shape as the rest. */
export function frameworkErrors (err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const xerr = err.code === 'FST_ERR_BAD_URL' ? new XRoadError('Client.BadRequest', 'The request URL is not validly percent-encoded') : toXRoadError(err)
  return sendRestError(reply, xerr, req.id)
}

export function toXRoadError (err: unknown): XRoadError {
  if (isXRoadError(err)) return err
  const e = err as { code?: string; statusCode?: number; message?: string }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new XRoadError('Client.RequestTooLarge', 'Request body exceeds the limit of this node')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new XRoadError('Client.BadRequest', 'Content-Length does not match the body')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new XRoadError('Client.InvalidContentType', e.message ?? 'Unsupported content type')
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new XRoadError('Client.BadRequest', e.message ?? 'Bad request')
  return new XRoadError('Server.ClientProxy.InternalError', 'Internal error in the node')
}
