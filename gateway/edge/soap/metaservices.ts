/**
 * SOAP metaservices (reference §3, X-Road PR-META): `listMethods`, `allowedMethods` and `getWsdl`.
 * The answer echoes the request's X-Road headers in order and adds `requestHash`, like any SOAP
 * exchange. getWsdl returns the WSDL as a MIME attachment: `multipart/related` with the SOAP
 * envelope as the first part and the (anonymised) WSDL as the second.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { XRoadError } from '../../../protocol/errors.ts'
import type { ServiceId } from '../../../protocol/identifiers.ts'
import { resolveService } from '../../pipeline/stages.ts'
import { recordRequest, recordResponse } from '../../pipeline/record.ts'
import type { ClientEntry, ServiceEntry } from '../../../registry/registry.ts'
import { soapRequestHash } from '../../../protocol/request-hash.ts'
import type { GatewayContext } from '../../context.ts'
import type { ParsedEnvelope } from './request.ts'
import { childElements, identifierXml, nsAttributes, requestHashElement, xmlEscape } from '../../../protocol/soap/xml.ts'
import { SOAP_ENV, XROAD, XROAD_ID } from '../../../protocol/soap/namespaces.ts'
import { soapMetaservice } from '../../../protocol/metaservices.ts'
import { providerServices, requireProvider } from '../../meta/provider.ts'
import { publishedWsdl } from '../../catalogue/wsdl.ts'

function wrapper (name: string, content: string): string {
  return `<xrd:${name} xmlns:xrd="${XROAD}" xmlns:id="${XROAD_ID}">${content}</xrd:${name}>`
}

/** The response envelope: the request's header elements in order, then requestHash; our body. */
function responseEnvelope (envelope: ParsedEnvelope, requestHash: string, body: string): string {
  const prefix = envelope.doc.root.prefix
  const p = prefix === '' ? '' : `${prefix}:`
  const envNs = prefix === '' ? ` xmlns="${SOAP_ENV}"` : ` xmlns:${prefix}="${SOAP_ENV}"`
  const hash = requestHashElement(requestHash)
  return `<?xml version="1.0" encoding="UTF-8"?><${p}Envelope${envNs}><${p}Header${nsAttributes(envelope.headerNamespaces, prefix)}>` +
    `${envelope.headerXml}${hash}</${p}Header><${p}Body>${body}</${p}Body></${p}Envelope>`
}

/** `getWsdl` names the service by code and optional version, as children of the body element. */
function requestedService (envelope: ParsedEnvelope, provider: ServiceId): ServiceId {
  const fields: Record<string, string> = {}
  for (const el of childElements(envelope.body)) fields[el.name] = el.content.trim()
  if (fields.serviceCode === undefined || fields.serviceCode === '') throw new XRoadError('Client.InvalidBody', 'getWsdl needs a serviceCode element')
  const id: ServiceId = { instance: provider.instance, memberClass: provider.memberClass, memberCode: provider.memberCode, serviceCode: fields.serviceCode }
  if (provider.subsystemCode !== undefined) id.subsystemCode = provider.subsystemCode
  if (fields.serviceVersion !== undefined && fields.serviceVersion !== '') id.serviceVersion = fields.serviceVersion
  return id
}

function wsdlOf (ctx: GatewayContext, id: ServiceId): { service: ServiceEntry; wsdl: string } {
  const found = ctx.registry.findService(id)
  // A disabled service is still described; unknown and REST services get their usual codes.
  const service = found !== undefined && found.config.type === 'soap' ? found : resolveService(ctx.registry, id, 'soap')
  const wsdl = publishedWsdl(service, ctx.library)
  if (wsdl === undefined) throw new XRoadError('Server.ServerProxy.UnknownService', `Service ${id.serviceCode} has no WSDL on this node`)
  return { service, wsdl }
}

/** Called by the SOAP edge while the request document is still alive. */
export async function answerSoapMetaservice (ctx: GatewayContext, req: FastifyRequest, reply: FastifyReply, client: ClientEntry, envelope: ParsedEnvelope, requestBytes: Buffer): Promise<FastifyReply> {
  const ex = req.exchange
  const serviceId = envelope.header.service!
  const code = soapMetaservice(serviceId)!
  const provider = requireProvider(ctx.registry, serviceId)
  ex.requestHash = soapRequestHash(requestBytes)

  let body: string
  let attachment: string | undefined
  if (code === 'getWsdl') {
    const wanted = requestedService(envelope, serviceId)
    const { wsdl } = wsdlOf(ctx, wanted)
    attachment = wsdl
    const version = wanted.serviceVersion === undefined ? '' : `<xrd:serviceVersion>${xmlEscape(wanted.serviceVersion)}</xrd:serviceVersion>`
    body = wrapper('getWsdlResponse', `<xrd:serviceCode>${xmlEscape(wanted.serviceCode)}</xrd:serviceCode>${version}`)
  } else {
    const services = providerServices(ctx.registry, provider, 'soap')
      .filter(s => code === 'listMethods' || ctx.registry.isAllowed(client, s))
    body = wrapper(`${code}Response`, services.map(s => identifierXml('service', s.id)).join(''))
  }
  const xml = responseEnvelope(envelope, ex.requestHash, body)

  await recordRequest(ctx.recorder, ex, requestBytes)
  let bytes: Buffer
  let contentType: string
  if (attachment === undefined) {
    bytes = Buffer.from(xml, 'utf8')
    contentType = 'text/xml; charset=utf-8'
  } else {
    const boundary = `ura-${randomUUID()}`
    bytes = multipartRelated(boundary, xml, attachment)
    contentType = `multipart/related; type="text/xml"; start="<soap-envelope>"; boundary="${boundary}"`
  }
  await recordResponse(ctx.recorder, ex, bytes)
  return reply.code(200).header('content-type', contentType).header('x-road-request-id', ex.requestId).send(bytes)
}

/** SOAP with attachments: the envelope first (its root part), then the WSDL, both 8-bit UTF-8 text. */
function multipartRelated (boundary: string, envelope: string, wsdl: string): Buffer {
  const part = (id: string, content: string): string =>
    `--${boundary}\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\nContent-ID: <${id}>\r\n\r\n${content}\r\n`
  return Buffer.from(part('soap-envelope', envelope) + part('wsdl', wsdl) + `--${boundary}--\r\n`, 'utf8')
}
