/**
 * The SOAP 4.0 edge (DESIGN §4): `POST /` with `text/xml`. The byte cap is the node's body limit,
 * enforced by Fastify before any XML is parsed. The envelope is parsed once; the pipeline
 * (pipeline/walk.ts) then walks with the SOAP steps below: XSD validation, the SOAP request hash,
 * the provider request, and the provider's answer read back with the request's header echoed.
 * The request document is released as soon as the request is sealed, before the provider is called.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { OutboundRequest, ProviderResponse } from '../../../adapters/types.ts'
import { XRoadError, schemaMismatch } from '../../../protocol/errors.ts'
import { soapRequestHash } from '../../../protocol/request-hash.ts'
import type { ClientEntry, Registry, ServiceEntry } from '../../../registry/registry.ts'
import type { GatewayContext } from '../../context.ts'
import { checkResponse } from '../../pipeline/check-response.ts'
import type { Exchange, Peer } from '../../pipeline/exchange.ts'
import { walk, type Answer, type LocalAnswer, type ProtocolCall, type CallHints } from '../../pipeline/walk.ts'
import { peerOf } from '../client-cert.ts'
import { callHints } from '../hints.ts'
import { soapHeaders, soapMetaservice } from './metaservices.ts'
import { parseRequestEnvelope, type ParsedEnvelope } from './request.ts'
import { readProviderResponse, type EchoSource } from './response.ts'
import { bodyViolations } from './validate.ts'

export async function soapRoutes (app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  app.post('/', (req, reply) => walk(ctx, new SoapCall(ctx, req, reply)))
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: '/',
    handler: async () => { throw new XRoadError('Client.InvalidHttpMethod', 'SOAP requests must use POST') },
  })
}

class SoapCall implements ProtocolCall<FastifyReply> {
  readonly ex: Exchange
  readonly peer: Peer
  readonly hints: CallHints | undefined
  readonly body: Buffer
  private readonly ctx: GatewayContext
  private readonly req: FastifyRequest
  private readonly reply: FastifyReply
  private readonly contentType: string
  private envelope: ParsedEnvelope | undefined
  private echo: EchoSource | undefined

  constructor (ctx: GatewayContext, req: FastifyRequest, reply: FastifyReply) {
    this.ctx = ctx
    this.req = req
    this.reply = reply
    const ex = this.ex = req.exchange
    const contentType = this.contentType = req.headers['content-type'] ?? ''
    if (!/^text\/xml\s*(;|$)/i.test(contentType)) {
      throw new XRoadError('Client.InvalidContentType', `SOAP requests must be sent as text/xml, got '${contentType}'`)
    }
    const body = this.body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
    if (body.length === 0) throw new XRoadError('Client.MissingSoap', 'The request has no SOAP envelope')
    const envelope = this.envelope = parseRequestEnvelope(body)
    const h = envelope.header
    ex.clientId = h.client
    ex.serviceId = h.service
    ex.messageId = h.id
    ex.userId = h.userId
    ex.issue = h.issue
    ex.representedParty = h.representedParty
    if (!envelope.bodyName.startsWith(h.service!.serviceCode)) {
      this.release()
      throw new XRoadError('Client.InvalidBody', `Body element '${envelope.bodyName}' does not start with the service code '${h.service!.serviceCode}'`)
    }
    this.peer = peerOf(req.raw.socket, ctx.clientCertificates)
    this.hints = callHints(req.headers)
  }

  send (answer: Answer): FastifyReply {
    return this.reply.code(answer.status).headers(answer.headers).send(answer.body)
  }

  /** Frees the request document (libxml2 memory is manual); safe to call more than once. */
  release (): void {
    this.envelope?.dispose()
    this.envelope = undefined
  }

  metaservice (client: ClientEntry, registry: Registry): LocalAnswer | undefined {
    return soapMetaservice(registry, this.ctx.library, this.ex, client, this.envelope!)
  }

  validate (service: ServiceEntry): void {
    if (service.xsd === undefined) return
    const envelope = this.envelope!
    const violations = bodyViolations(service.xsd, envelope.bodyNode, envelope.bodyText, () => envelope.body)
    if (violations.length > 0) throw schemaMismatch('Client.InvalidBody', violations)
  }

  seal (): string[] {
    const ex = this.ex
    const envelope = this.envelope!
    // The SOAP request hash is the SHA-512 of the body: the message log's body digest as well.
    ex.requestHash = ex.requestBodyDigest = soapRequestHash(this.body)
    this.echo = { header: envelope.header, headerXml: envelope.headerXml, headerIsText: envelope.headerIsText, headerNamespaces: envelope.headerNamespaces, requestHash: ex.requestHash }
    const soapAction = this.req.headers.soapaction
    ex.requestHeaders = ['Content-Type', this.contentType, ...(typeof soapAction === 'string' ? ['SOAPAction', soapAction] : [])]
    this.release()
    return ex.requestHeaders
  }

  outbound (service: ServiceEntry, headers: string[]): OutboundRequest {
    return { method: 'POST', path: '', headers, body: this.body, timeoutMs: service.config.timeoutMs, exchange: this.ex }
  }

  answer (service: ServiceEntry, res: ProviderResponse): Answer {
    const ex = this.ex
    const response = readProviderResponse(res.body, this.echo!)
    let out: Buffer | undefined
    try {
      if (response.faultCode !== undefined) {
        ex.errorCode = response.faultCode
      } else {
        const xsd = service.xsd
        if (xsd !== undefined) checkResponse(service, ex, this.req.log, () => response.violations(xsd))
        out = response.build()
      }
    } finally {
      response.dispose()
    }
    // A provider Fault is passed on byte for byte (whatever its encoding); a rebuilt response is UTF-8.
    if (out !== undefined) return { status: 200, headers: soapHeaders('text/xml; charset=utf-8', ex), body: out }
    const resType = res.headers['content-type']
    return { status: res.status, headers: soapHeaders(typeof resType === 'string' ? resType : 'text/xml; charset=utf-8', ex), body: res.body }
  }
}
