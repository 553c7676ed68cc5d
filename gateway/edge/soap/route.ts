/**
 * The SOAP 4.0 edge (DESIGN §4): `POST /` with `text/xml`. The byte cap is the node's body limit,
 * enforced by Fastify before any XML is parsed.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { XRoadError } from '../../../protocol/errors.ts'
import { serviceText } from '../../../protocol/identifiers.ts'
import { peerOf } from '../client-cert.ts'
import { authorise, identify, resolveService } from '../../pipeline/stages.ts'
import { recordRequest, recordResponse } from '../../pipeline/record.ts'
import { soapRequestHash } from '../../../protocol/request-hash.ts'
import { parseRequestEnvelope } from './request.ts'
import { readProviderResponse } from './response.ts'
import { xmlViolations } from '../../../schemas/library.ts'
import { soapMetaservice } from '../../../protocol/metaservices.ts'
import { answerSoapMetaservice } from './metaservices.ts'
import type { GatewayContext } from '../../context.ts'

export async function soapRoutes (app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  app.post('/', (req, reply) => handleSoap(ctx, req, reply))
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: '/',
    handler: async () => { throw new XRoadError('Client.InvalidHttpMethod', 'SOAP requests must use POST') },
  })
}

async function handleSoap (ctx: GatewayContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const ex = req.exchange
  const contentType = req.headers['content-type'] ?? ''
  if (!/^text\/xml\s*(;|$)/i.test(contentType)) {
    throw new XRoadError('Client.InvalidContentType', `SOAP requests must be sent as text/xml, got '${contentType}'`)
  }
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
  if (body.length === 0) throw new XRoadError('Client.MissingSoap', 'The request has no SOAP envelope')

  const envelope = parseRequestEnvelope(body)
  let echo
  try {
    const h = envelope.header
    ex.clientId = h.client
    ex.serviceId = h.service
    ex.messageId = h.id
    ex.userId = h.userId
    ex.issue = h.issue
    ex.representedParty = h.representedParty
    const serviceId = h.service!
    if (!envelope.body.name.startsWith(serviceId.serviceCode)) {
      throw new XRoadError('Client.InvalidBody', `Body element '${envelope.body.name}' does not start with the service code '${serviceId.serviceCode}'`)
    }
    const client = ex.client = identify(ctx.registry, h.client!, peerOf(req.raw.socket, ctx.clientCertificates))
    // Metaservice codes are reserved: answered by the node while the request document is alive.
    if (soapMetaservice(serviceId) !== undefined) return await answerSoapMetaservice(ctx, req, reply, client, envelope, body)
    const service = ex.service = resolveService(ctx.registry, serviceId, 'soap')
    authorise(ctx.registry, client, service)
    ctx.rateLimiter.take(client.key)
    if (service.xsd !== undefined) {
      try {
        service.xsd.validate(envelope.body)
      } catch (err) {
        const violations = xmlViolations(err)
        throw new XRoadError('Client.InvalidBody', `Request body does not match the service schema: ${violations.join('; ')}`, violations)
      }
    }
    // The SOAP request hash is the SHA-512 of the body: the message log's body digest as well.
    ex.requestHash = ex.requestBodyDigest = soapRequestHash(body)
    echo = { header: h, headerXml: envelope.headerXml, headerIsText: envelope.headerIsText, headerNamespaces: envelope.headerNamespaces, requestHash: ex.requestHash }
  } finally {
    envelope.doc.dispose()
  }

  const service = ex.service!
  const soapAction = req.headers.soapaction
  ex.requestHeaders = ['Content-Type', contentType, ...(typeof soapAction === 'string' ? ['SOAPAction', soapAction] : [])]
  await recordRequest(ctx.recorder, ex, body)
  const res = await service.adapter.send({
    method: 'POST',
    path: '',
    headers: ['Content-Type', contentType, ...(typeof soapAction === 'string' ? ['SOAPAction', soapAction] : [])],
    body,
    timeoutMs: service.config.timeoutMs,
    exchange: ex,
  })
  ex.providerStatus = res.status
  ex.providerMs = res.durationMs

  const response = readProviderResponse(res.body, echo)
  let out: Buffer | undefined
  try {
    if (response.faultCode !== undefined) {
      ex.errorCode = response.faultCode
    } else if (service.xsd !== undefined && service.config.responseValidation !== 'off') {
      const violations = response.withBody(el => {
        try {
          service.xsd!.validate(el)
          return []
        } catch (err) {
          return xmlViolations(err)
        }
      })
      if (violations.length > 0) {
        if (service.config.responseValidation === 'enforce') {
          throw new XRoadError('Server.ServerProxy.InvalidResponse', `Provider response does not match the service schema: ${violations.join('; ')}`, violations)
        }
        req.log.warn({ requestId: ex.requestId, service: serviceText(service.id), violations }, 'provider response does not match its schema')
      }
    }
    out = response.faultCode === undefined ? response.build() : undefined
  } finally {
    response.dispose()
  }
  // A provider Fault is passed on byte for byte (whatever its encoding); a rebuilt response is UTF-8.
  const bytes = out ?? res.body
  const resType = res.headers['content-type']
  const answerType = out === undefined && typeof resType === 'string' ? resType : 'text/xml; charset=utf-8'
  ex.responseHeaders = ['content-type', answerType, 'x-road-request-id', ex.requestId]
  await recordResponse(ctx.recorder, ex, bytes)
  return reply
    .code(out === undefined ? res.status : 200)
    .header('content-type', answerType)
    .header('x-road-request-id', ex.requestId)
    .send(bytes)
}
