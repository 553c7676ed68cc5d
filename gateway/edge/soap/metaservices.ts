/**
 * SOAP metaservices (reference §3, X-Road PR-META): `listMethods`, `allowedMethods` and `getWsdl`.
 * The answer echoes the request's X-Road headers in order and adds `requestHash`, like any SOAP
 * exchange. getWsdl returns the WSDL as a MIME attachment: `multipart/related` with the SOAP
 * envelope as the first part and the (anonymised) WSDL as the second.
 */
import { randomUUID } from 'node:crypto'
import { XRoadError } from '../../../protocol/errors.ts'
import type { ServiceId } from '../../../protocol/identifiers.ts'
import { resolveService } from '../../pipeline/stages.ts'
import type { ClientEntry, Registry, ServiceEntry } from '../../../registry/registry.ts'
import type { SchemaLibrary } from '../../../schemas/library.ts'
import type { ParsedEnvelope } from './request.ts'
import { childElements, identifierXml, nsAttributes, requestHashElement, xmlEscape } from '../../../protocol/soap/xml.ts'
import { SOAP_ENV, XROAD, XROAD_ID } from '../../../protocol/soap/namespaces.ts'
import { soapMetaservice as soapMetaserviceCode } from '../../../protocol/metaservices.ts'
import type { Exchange } from '../../pipeline/exchange.ts'
import type { LocalAnswer } from '../../pipeline/walk.ts'
import { providerServices, requireProvider } from '../../meta/provider.ts'
import { publishedWsdl } from '../../catalogue/wsdl.ts'

function wrapper (name: string, content: string): string {
  return `<xrd:${name} xmlns:xrd="${XROAD}" xmlns:id="${XROAD_ID}">${content}</xrd:${name}>`
}

/** What the answer echoes of the request, read while its document is alive. */
interface Echo { prefix: string; headerXml: string; headerNamespaces: Record<string, string> }

/** The response envelope: the request's header elements in order, then requestHash; our body. */
function responseEnvelope (echo: Echo, requestHash: string, body: string): string {
  const { prefix } = echo
  const p = prefix === '' ? '' : `${prefix}:`
  const envNs = prefix === '' ? ` xmlns="${SOAP_ENV}"` : ` xmlns:${prefix}="${SOAP_ENV}"`
  const hash = requestHashElement(requestHash)
  return `<?xml version="1.0" encoding="UTF-8"?><${p}Envelope${envNs}><${p}Header${nsAttributes(echo.headerNamespaces, prefix)}>` +
    `${echo.headerXml}${hash}</${p}Header><${p}Body>${body}</${p}Body></${p}Envelope>`
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

function wsdlOf (registry: Registry, library: SchemaLibrary, id: ServiceId): { service: ServiceEntry; wsdl: string } {
  const found = registry.findService(id)
  // A disabled service is still described; unknown and REST services get their usual codes.
  const service = found !== undefined && found.config.type === 'soap' ? found : resolveService(registry, id, 'soap')
  const wsdl = publishedWsdl(service, library)
  if (wsdl === undefined) throw new XRoadError('Server.ServerProxy.UnknownService', `Service ${id.serviceCode} has no WSDL on this node`)
  return { service, wsdl }
}

/**
 * Stage 2 for the reserved codes: undefined for any other service. Called while the request document
 * is alive: the call is checked and its answer's body composed here; the envelope around it (which
 * carries the request hash) is written once the request is logged.
 */
export function soapMetaservice (registry: Registry, library: SchemaLibrary, ex: Exchange, client: ClientEntry, envelope: ParsedEnvelope): LocalAnswer | undefined {
  const serviceId = envelope.header.service!
  const code = soapMetaserviceCode(serviceId)
  if (code === undefined) return undefined
  const provider = requireProvider(registry, serviceId)
  let body: string
  let attachment: string | undefined
  if (code === 'getWsdl') {
    const wanted = requestedService(envelope, serviceId)
    attachment = wsdlOf(registry, library, wanted).wsdl
    const version = wanted.serviceVersion === undefined ? '' : `<xrd:serviceVersion>${xmlEscape(wanted.serviceVersion)}</xrd:serviceVersion>`
    body = wrapper('getWsdlResponse', `<xrd:serviceCode>${xmlEscape(wanted.serviceCode)}</xrd:serviceCode>${version}`)
  } else {
    const services = providerServices(registry, provider, 'soap')
      .filter(s => code === 'listMethods' || registry.isAllowed(client, s))
    body = wrapper(`${code}Response`, services.map(s => identifierXml('service', s.id)).join(''))
  }
  const echo: Echo = { prefix: envelope.doc.root.prefix, headerXml: envelope.headerXml, headerNamespaces: envelope.headerNamespaces }
  return () => {
    const xml = responseEnvelope(echo, ex.requestHash!, body)
    if (attachment === undefined) return { status: 200, headers: soapHeaders('text/xml; charset=utf-8', ex), body: Buffer.from(xml, 'utf8') }
    const boundary = `ura-${randomUUID()}`
    const type = `multipart/related; type="text/xml"; start="<soap-envelope>"; boundary="${boundary}"`
    return { status: 200, headers: soapHeaders(type, ex), body: multipartRelated(boundary, xml, attachment) }
  }
}

/** The headers of every SOAP answer the node sends. */
export function soapHeaders (contentType: string, ex: Exchange): Record<string, string> {
  return { 'content-type': contentType, 'x-road-request-id': ex.requestId }
}

/** SOAP with attachments: the envelope first (its root part), then the WSDL, both 8-bit UTF-8 text. */
function multipartRelated (boundary: string, envelope: string, wsdl: string): Buffer {
  const part = (id: string, content: string): string =>
    `--${boundary}\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\nContent-ID: <${id}>\r\n\r\n${content}\r\n`
  return Buffer.from(part('soap-envelope', envelope) + part('wsdl', wsdl) + `--${boundary}--\r\n`, 'utf8')
}
