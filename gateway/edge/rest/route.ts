/**
 * The REST r1 edge (DESIGN §4): `{METHOD} /r1/{serviceId}[/path][?query]` with X-Road headers. It
 * reads the target and the X-Road headers, then walks the pipeline (pipeline/walk.ts) with the REST
 * steps below: endpoint and JSON Schema checks, the REST request hash, the provider request and the
 * answer with its evidence headers. Metaservice codes are answered by ./metaservices.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { OutboundRequest, ProviderResponse } from '../../../adapters/types.ts'
import { XRoadError } from '../../../protocol/errors.ts'
import { serviceText } from '../../../protocol/identifiers.ts'
import type { ClientEntry, Registry, RestEndpoint, ServiceEntry } from '../../../registry/registry.ts'
import type { GatewayContext } from '../../context.ts'
import { checkResponse } from '../../pipeline/check-response.ts'
import type { Exchange, Peer } from '../../pipeline/exchange.ts'
import { walk, type Answer, type LocalAnswer, type ProtocolCall, type CallHints } from '../../pipeline/walk.ts'
import { peerOf } from '../client-cert.ts'
import { callHints } from '../hints.ts'
import { evidenceHeaders, forwardableResponseHeaders, prepareForward, readXRoadHeaders } from './headers.ts'
import { restMetaservice } from './metaservices.ts'
import { roomOperation } from './rooms.ts'
import { parseR1Target, type R1Target } from './target.ts'
import { findEndpoint, responseViolations, validateRequest } from './validate.ts'

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

export async function r1Routes (app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  app.route({
    method: [...METHODS],
    url: '/r1/*',
    handler: (req, reply) => walk(ctx, new RestCall(ctx, req, reply)),
  })
}

class RestCall implements ProtocolCall<FastifyReply> {
  readonly ex: Exchange
  readonly peer: Peer
  readonly hints: CallHints | undefined
  readonly body: Buffer | undefined
  readonly method: string
  readonly path: string
  private readonly ctx: GatewayContext
  private readonly req: FastifyRequest
  private readonly reply: FastifyReply
  private readonly target: R1Target
  private match: { endpoint: RestEndpoint; params: Record<string, string> } | undefined

  constructor (ctx: GatewayContext, req: FastifyRequest, reply: FastifyReply) {
    this.ctx = ctx
    this.req = req
    this.reply = reply
    const ex = this.ex = req.exchange
    const target = this.target = parseR1Target(req.raw.url ?? '')
    ex.serviceId = target.serviceId
    ex.method = this.method = req.method
    ex.path = target.path
    ex.query = target.query
    const h = readXRoadHeaders(req.raw.rawHeaders)
    ex.clientId = h.client
    ex.messageId = h.id
    ex.userId = h.userId
    ex.issue = h.issue
    ex.representedParty = h.representedParty
    this.path = target.path === '' ? '/' : target.path
    this.body = Buffer.isBuffer(req.body) ? req.body : undefined
    this.peer = peerOf(req.raw.socket, ctx.clientCertificates)
    this.hints = callHints(req.headers)
  }

  metaservice (client: ClientEntry, registry: Registry): LocalAnswer | undefined {
    return restMetaservice(registry, this.ctx.library, this.req, client, this.target) ??
      roomOperation(registry, this.ctx.delivery, this.req, client, this.target, this.body)
  }

  validate (service: ServiceEntry): void {
    const match = this.match = findEndpoint(service, this.method, this.target.path)
    if (match === undefined) {
      if (service.endpoints.length > 0) throw new XRoadError('Server.ServerProxy.UnknownService', `Service SERVICE:${serviceText(service.id)} has no endpoint ${this.method} ${this.path}`)
      return
    }
    validateRequest(match.endpoint, match.params, this.target.query, this.req.headers['content-type'], this.body)
  }

  seal (): string[] {
    return prepareForward(this.ex, this.method, this.req.raw.url ?? '', this.req.raw.rawHeaders, this.body)
  }

  outbound (service: ServiceEntry, headers: string[]): OutboundRequest {
    const match = this.match
    return {
      method: this.method,
      path: this.target.rawPath + this.target.query,
      headers,
      body: this.body !== undefined && this.body.length > 0 ? this.body : undefined,
      timeoutMs: service.config.timeoutMs,
      exchange: this.ex,
      ...(match === undefined ? {} : { endpoint: { method: match.endpoint.method, template: match.endpoint.template, params: match.params } }),
    }
  }

  answer (service: ServiceEntry, res: ProviderResponse): Answer {
    const match = this.match
    if (match !== undefined) {
      checkResponse(service, this.ex, this.req.log, () => {
        const type = res.headers['content-type']
        return responseViolations(match.endpoint, res.status, typeof type === 'string' ? type : undefined, res.body)
      })
    }
    return { status: res.status, headers: evidenceHeaders(this.ex, forwardableResponseHeaders(res.headers)), body: res.body }
  }

  send (answer: Answer): FastifyReply {
    return this.reply.code(answer.status).headers(answer.headers).send(answer.body)
  }
}
