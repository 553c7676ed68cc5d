/**
 * The REST r1 edge (DESIGN §4): `{METHOD} /r1/{serviceId}[/path][?query]` with X-Road headers.
 * Identify → resolve → authorise → validate → record → forward → validate response → record → reply.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { XRoadError } from '../../../protocol/errors.ts'
import { clientKey, parseClientHeader, serviceText, type ClientId } from '../../../protocol/identifiers.ts'
import { ParseCache } from '../parse-cache.ts'
import { evidenceHeaders, flattenHeaders, forwardableRequestHeaders, forwardableResponseHeaders } from './headers.ts'
import { peerOf } from '../client-cert.ts'
import { authorise, identify, resolveService } from '../../pipeline/stages.ts'
import { recordRequest, recordResponse } from '../../pipeline/record.ts'
import { bodyDigest, restRequestHash } from '../../../protocol/request-hash.ts'
import { parseR1Target } from './target.ts'
import { restMetaservice } from '../../../protocol/metaservices.ts'
import { answerRestMetaservice } from './metaservices.ts'
import { findEndpoint, responseViolations, validateRequest } from './validate.ts'
import type { GatewayContext } from '../../context.ts'

/** Parsed X-Road-Client values: the same few on almost every request. */
const CLIENT_IDS = new ParseCache<ClientId>()

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

/** Optional X-Road request headers: carried to the provider and logged, each at most once. */
const SINGLE_HEADERS = new Set(['x-road-client', 'x-road-id', 'x-road-userid', 'x-road-issue', 'x-road-represented-party'])

export async function r1Routes (app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  app.route({ method: [...METHODS], url: '/r1/*', handler: (req, reply) => handleR1(ctx, req, reply) })
}

async function handleR1 (ctx: GatewayContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const ex = req.exchange
  const raw = req.raw.rawHeaders
  const target = parseR1Target(req.raw.url ?? '')
  ex.serviceId = target.serviceId
  ex.method = req.method
  ex.path = target.path

  // One pass over the raw headers: repeated X-Road headers are refused, never merged.
  const single: Record<string, string | undefined> = {}
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase()
    if (!SINGLE_HEADERS.has(name)) continue
    if (single[name] !== undefined) throw new XRoadError('Client.BadRequest', `Header ${name} is repeated; send it once`)
    single[name] = raw[i + 1]
  }
  const clientHeader = single['x-road-client']
  if (clientHeader === undefined || clientHeader.trim() === '') throw new XRoadError('Client.MissingHeader', 'The X-Road-Client header is required')
  ex.clientId = CLIENT_IDS.get(clientHeader.trim(), parseClientHeader)
  ex.messageId = single['x-road-id']
  ex.userId = single['x-road-userid']
  ex.issue = single['x-road-issue']
  ex.representedParty = single['x-road-represented-party']

  const client = ex.client = identify(ctx.registry, ex.clientId, peerOf(req.raw.socket, ctx.clientCertificates))
  // Metaservice codes are reserved: answered by the node, never resolved to a provider's service.
  if (restMetaservice(target.serviceId) !== undefined) return answerRestMetaservice(ctx, req, reply, client, target)
  const service = ex.service = resolveService(ctx.registry, target.serviceId, 'rest')
  authorise(ctx.registry, client, service, req.method, target.path === '' ? '/' : target.path)
  ctx.rateLimiter.take(client.key)

  const body = Buffer.isBuffer(req.body) ? req.body : undefined
  const contentType = req.headers['content-type']
  const match = findEndpoint(service, req.method, target.path)
  if (service.endpoints.length > 0 && match === undefined) {
    throw new XRoadError('Server.ServerProxy.UnknownService', `Service SERVICE:${serviceText(service.id)} has no endpoint ${req.method} ${target.path === '' ? '/' : target.path}`)
  }
  if (match !== undefined) validateRequest(match.endpoint, match.params, target.query, contentType, body)

  // The header part that the request hash covers is exactly what is forwarded (reference §2.4).
  const headers = forwardableRequestHeaders(raw)
  headers.push('X-Road-Request-Id', ex.requestId)
  if (ex.messageId === undefined) {
    ex.messageId = crypto.randomUUID()
    headers.push('X-Road-Id', ex.messageId)
  }
  const digest = bodyDigest(body)
  ex.requestHash = restRequestHash(req.method, req.raw.url ?? '', headers, digest)
  if (digest !== undefined) ex.requestBodyDigest = digest.toString('base64')
  ex.query = target.query
  ex.requestHeaders = headers

  await recordRequest(ctx.recorder, ex, body)
  const res = await service.adapter.send({
    method: req.method,
    path: target.rawPath + target.query,
    headers,
    body: body !== undefined && body.length > 0 ? body : undefined,
    timeoutMs: service.config.timeoutMs,
    exchange: ex,
    ...(match === undefined ? {} : { endpoint: { method: match.endpoint.method, template: match.endpoint.template, params: match.params } }),
  })
  ex.providerStatus = res.status
  ex.providerMs = res.durationMs

  if (match !== undefined && service.config.responseValidation !== 'off') {
    const resType = res.headers['content-type']
    const violations = responseViolations(match.endpoint, res.status, typeof resType === 'string' ? resType : undefined, res.body)
    if (violations.length > 0) {
      if (service.config.responseValidation === 'enforce') {
        throw new XRoadError('Server.ServerProxy.InvalidResponse', `Provider response does not match the service schema: ${violations.join('; ')}`, violations)
      }
      req.log.warn({ requestId: ex.requestId, service: serviceText(service.id), violations }, 'provider response does not match its schema')
    }
  }
  const responseHeaders = Object.assign(forwardableResponseHeaders(res.headers), evidenceHeaders(ex))
  ex.responseHeaders = flattenHeaders(responseHeaders)
  await recordResponse(ctx.recorder, ex, res.body)

  return reply.code(res.status).headers(responseHeaders).send(res.body)
}
