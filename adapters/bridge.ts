/**
 * `bridge`: the client speaks one protocol, the provider the other (DESIGN §6). The service's `type`
 * is what its clients speak — so the edges and the pipeline treat a bridged service like any other
 * service of that type — and `adapter.providerType` is what the provider speaks:
 *
 *  - `type: rest`, `providerType: soap`: each REST endpoint names the SOAP operation it becomes.
 *    Path parameters, query parameters and the JSON body are merged into the JSON form of the
 *    operation's request element, sent in an X-Road SOAP 4.0 envelope (the REST client's X-Road
 *    identity in its header), and the `…Response` element comes back as JSON.
 *  - `type: soap`, `providerType: rest`: the body element `{xsd}serviceCode` is read as JSON, its
 *    fields fill the configured path template, the rest become query parameters (GET, HEAD,
 *    DELETE) or the JSON body; the JSON answer becomes `{xsd}serviceCodeResponse`.
 *
 * The mapping rules are in bridge/mapping.ts; XML is mapped from its text (bridge/text-mapping.ts)
 * when that covers it, from libxml2's tree otherwise. A SOAP provider's answer is read as
 * bridge/soap-answer.ts says (the common one without libxml2 at all). Errors cross over as
 * described in bridge/faults.ts.
 */
import type { AdapterConfig, ServiceConfig } from '../config/types.ts'
import { XRoadError } from '../protocol/errors.ts'
import { clientKey, type ServiceId } from '../protocol/identifiers.ts'
import { envelopeParts, identifierXml, parseXml, xmlEscape } from '../protocol/soap/xml.ts'
import { SOAP_ENV, XROAD, XROAD_ID } from '../protocol/soap/namespaces.ts'
import { isJsonType, type SchemaLibrary } from '../schemas/library.ts'
import type { ElementDecl, XsdModel } from '../schemas/xsd-model.ts'
import { restErrorToFault } from './bridge/faults.ts'
import { XmlJsonMapper, mappingFailure } from './bridge/mapping.ts'
import { readSoapAnswer } from './bridge/soap-answer.ts'
import { TextJsonMapper } from './bridge/text-mapping.ts'
import { HttpPool } from './http-pool.ts'
import type { Adapter, AdapterFactory, CallIds, OutboundRequest, ProviderResponse } from './types.ts'

const mappers = new WeakMap<XsdModel, XmlJsonMapper>()
const textMappers = new WeakMap<XsdModel, TextJsonMapper>()

function mapperFor (library: SchemaLibrary): XmlJsonMapper {
  let mapper = mappers.get(library.model)
  if (mapper === undefined) mappers.set(library.model, mapper = new XmlJsonMapper(library.model))
  return mapper
}

function textMapperFor (library: SchemaLibrary): TextJsonMapper {
  let mapper = textMappers.get(library.model)
  if (mapper === undefined) textMappers.set(library.model, mapper = new TextJsonMapper(library.model, mapperFor(library)))
  return mapper
}

export const createBridgeAdapter: AdapterFactory = (config, context) => {
  const { service, library } = context
  if (service === undefined || library === undefined) throw new Error('the bridge adapter needs its service and the schema library')
  if (config.providerType === undefined || config.providerType === service.type) {
    throw new Error(`adapter.providerType must name the provider's protocol, the other one than the service type '${service.type}'`)
  }
  const http = new HttpPool(config.url, config.connections ?? 32, context.responseBytes)
  const send = config.providerType === 'soap'
    ? restToSoap(config, service, library, http)
    : soapToRest(config, service, library, http)
  return { kind: 'bridge', send, close: () => http.close() }
}

// ---- REST client → SOAP provider ----------------------------------------------------------------

interface Operation {
  request: ElementDecl
  response: ElementDecl
  name: string
  version?: string
  /** The HTTP headers of every call (the SOAPAction is the operation's). */
  headers: string[]
  /** The operation's X-Road service identifier as written last, and the service it was written for. */
  written?: { service: ServiceId; xml: string }
}

function restToSoap (config: AdapterConfig, service: ServiceConfig, library: SchemaLibrary, http: HttpPool): Adapter['send'] {
  const ns = config.namespace
  if (ns === undefined || config.operations === undefined) throw new Error('a bridge to a SOAP provider needs adapter.namespace and adapter.operations')
  const xsd = library.xsd(ns)
  if (xsd === undefined) throw new Error(`no XSD in the schema library has targetNamespace ${ns}`)
  const mapper = mapperFor(library)
  const textMapper = textMapperFor(library)
  const reader = { mapper, textMapper, xsd, enforce: service.responseValidation === 'enforce' }
  const operations = new Map<string, Operation>()
  for (const op of config.operations) {
    if (!(service.endpoints ?? []).some(e => e.method === op.method && e.path === op.path)) {
      throw new Error(`adapter.operations: ${op.method} ${op.path} is not one of the service's endpoints`)
    }
    operations.set(`${op.method} ${op.path}`, {
      request: mapper.element(ns, op.operation),
      response: mapper.element(ns, `${op.operation}Response`),
      name: op.operation,
      ...(op.version === undefined ? {} : { version: op.version }),
      headers: ['Content-Type', 'text/xml; charset=utf-8', 'SOAPAction', `"${op.soapAction ?? ''}"`],
    })
  }

  return async (req: OutboundRequest): Promise<ProviderResponse> => {
    const ex = need(req.exchange, 'exchange')
    const endpoint = need(req.endpoint, 'matched endpoint')
    const op = operations.get(`${endpoint.method} ${endpoint.template}`)
    if (op === undefined) throw new XRoadError('Server.ServerProxy.UnknownService', `No SOAP operation is bridged for ${endpoint.method} ${endpoint.template}`)

    const message = requestObject(endpoint.params, req.path, req.body)
    let bodyXml: string
    try {
      bodyXml = mapper.toXml(op.request, message)
    } catch (err) {
      throw mappingFailure(err, 'Client.InvalidBody', `The request cannot be expressed as ${op.name}`)
    }
    const envelope = requestEnvelope(ex, op, bodyXml)
    const res = await http.send({
      method: 'POST',
      path: '',
      headers: op.headers,
      body: Buffer.from(envelope, 'utf8'),
      timeoutMs: req.timeoutMs,
    })

    const answer = readSoapAnswer(res.body, op.response, reader, ex.requestId)
    return json(answer.status, answer.value, res.durationMs)
  }
}

/** Path parameters, query parameters and the JSON body, as one object; a name given twice is an error. */
function requestObject (params: Record<string, string>, path: string, body: Buffer | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const add = (key: string, value: unknown, from: string): void => {
    if (key in out) throw new XRoadError('Client.InvalidBody', `'${key}' is given twice (${from})`)
    out[key] = value
  }
  for (const [k, v] of Object.entries(params)) add(k, v, 'path')
  const q = path.indexOf('?')
  if (q >= 0) {
    const query = new Map<string, string[]>()
    for (const [k, v] of new URLSearchParams(path.slice(q + 1))) query.set(k, [...(query.get(k) ?? []), v])
    for (const [k, v] of query) add(k, v.length === 1 ? v[0] : v, 'query')
  }
  if (body !== undefined && body.length > 0) {
    let parsed: unknown
    try {
      parsed = JSON.parse(body.toString('utf8'))
    } catch (err) {
      throw new XRoadError('Client.InvalidBody', `Malformed JSON body: ${(err as Error).message}`)
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new XRoadError('Client.InvalidBody', 'A bridged request body must be a JSON object')
    for (const [k, v] of Object.entries(parsed)) add(k, v, 'body')
  }
  return out
}

/** X-Road SOAP 4.0 request: the REST client's identity and ids, the provider's operation as service. */
function requestEnvelope (ex: CallIds, op: Operation, bodyXml: string): string {
  const client = need(ex.clientId, 'client id')
  const service = need(ex.serviceId, 'service id')
  const opt = (tag: string, v: string | undefined): string => v === undefined ? '' : `<xrd:${tag}>${xmlEscape(v)}</xrd:${tag}>`
  return ENVELOPE_START + identifierXml('client', client) + operationXml(service, op) +
    opt('id', ex.messageId ?? ex.requestId) + opt('userId', ex.userId) + opt('issue', ex.issue) +
    '<xrd:protocolVersion>4.0</xrd:protocolVersion></SOAP-ENV:Header>' +
    `<SOAP-ENV:Body>${bodyXml}</SOAP-ENV:Body></SOAP-ENV:Envelope>`
}

const ENVELOPE_START = '<?xml version="1.0" encoding="UTF-8"?>' +
  `<SOAP-ENV:Envelope xmlns:SOAP-ENV="${SOAP_ENV}" xmlns:xrd="${XROAD}" xmlns:id="${XROAD_ID}"><SOAP-ENV:Header>`

/** The `<xrd:service>` of the operation: the same for every call of one service, so written once. */
function operationXml (service: ServiceId, op: Operation): string {
  const w = op.written
  if (w !== undefined && w.service.instance === service.instance && w.service.memberClass === service.memberClass &&
    w.service.memberCode === service.memberCode && w.service.subsystemCode === service.subsystemCode) return w.xml
  const xml = identifierXml('service', operationId(service, op))
  op.written = { service: { ...service }, xml }
  return xml
}

/** The provider's operation named as an X-Road service of the same provider. */
function operationId (service: ServiceId, op: Operation): ServiceId {
  const id: ServiceId = { instance: service.instance, memberClass: service.memberClass, memberCode: service.memberCode, serviceCode: op.name }
  if (service.subsystemCode !== undefined) id.subsystemCode = service.subsystemCode
  if (op.version !== undefined) id.serviceVersion = op.version
  return id
}

// ---- SOAP client → REST provider ----------------------------------------------------------------

const NO_BODY = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS'])

function soapToRest (config: AdapterConfig, service: ServiceConfig, library: SchemaLibrary, http: HttpPool): Adapter['send'] {
  const ns = service.xsd
  if (ns === undefined || config.request === undefined) throw new Error('a bridge to a REST provider needs the service xsd and adapter.request')
  const mapper = mapperFor(library)
  const textMapper = textMapperFor(library)
  const request = mapper.element(ns, service.code)
  const response = mapper.element(ns, `${service.code}Response`)
  const { method, path: template } = config.request
  const pathParams = [...template.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map(m => m[1])

  return async (req: OutboundRequest): Promise<ProviderResponse> => {
    const ex = need(req.exchange, 'exchange')
    const bytes = need(req.body, 'SOAP body')
    const doc = parseXml(bytes, 'Client.InvalidSoap')
    let message: Record<string, unknown>
    try {
      const { body } = envelopeParts(doc, 'Client.InvalidSoap')
      if (body.name !== request.name || (body.namespaceUri ?? '') !== request.ns) {
        throw new XRoadError('Client.InvalidBody', `This service takes {${request.ns}}${request.name}, not {${body.namespaceUri ?? ''}}${body.name}`)
      }
      try {
        // From the text when the text mapper covers it (the same JSON), from the tree otherwise.
        message = (textMapper.read(bytes, request)?.value ?? mapper.toJson(body, request)) as Record<string, unknown>
      } catch (err) {
        throw mappingFailure(err, 'Client.InvalidBody', `The request cannot be expressed in JSON`)
      }
    } finally {
      doc.dispose()
    }

    const rest = { ...message }
    let path = template
    for (const name of pathParams) {
      const v = rest[name]
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw new XRoadError('Client.InvalidBody', `'${name}' is needed for the provider path ${template}`)
      }
      path = path.replace(`{${name}}`, encodeURIComponent(String(v)))
      delete rest[name]
    }
    const headers = ['Accept', 'application/json', 'X-Road-Client', clientKey(need(ex.clientId, 'client id')), 'X-Road-Id', ex.messageId ?? ex.requestId, 'X-Road-Request-Id', ex.requestId]
    if (ex.userId !== undefined) headers.push('X-Road-UserId', ex.userId)
    if (ex.issue !== undefined) headers.push('X-Road-Issue', ex.issue)
    let body: Buffer | undefined
    if (NO_BODY.has(method)) {
      path += queryString(rest)
    } else {
      body = Buffer.from(JSON.stringify(rest), 'utf8')
      headers.push('Content-Type', 'application/json; charset=utf-8')
    }

    const res = await http.send({ method, path, headers, body, timeoutMs: req.timeoutMs })
    const contentType = header(res.headers['content-type'])
    if (res.status < 200 || res.status > 299) {
      return soap(500, restErrorToFault(res.status, contentType, res.body, ex.requestId), res.durationMs)
    }
    if (!isJsonType(contentType)) {
      throw new XRoadError('Server.ServerProxy.InvalidResponse', `Provider answered '${contentType ?? ''}', expected JSON`)
    }
    let xml: string
    try {
      xml = mapper.toXml(response, JSON.parse(res.body.toString('utf8')))
    } catch (err) {
      throw mappingFailure(err, 'Server.ServerProxy.InvalidResponse', `The provider response cannot be expressed as ${response.name}`)
    }
    return soap(200, `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="${SOAP_ENV}"><SOAP-ENV:Body>${xml}</SOAP-ENV:Body></SOAP-ENV:Envelope>`, res.durationMs)
  }
}

function queryString (fields: Record<string, unknown>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(fields)) {
    for (const item of Array.isArray(v) ? v : [v]) {
      if (item === null || item === undefined) continue
      if (typeof item === 'object') throw new XRoadError('Client.InvalidBody', `'${k}' is structured and cannot be a query parameter`)
      q.append(k, String(item))
    }
  }
  const text = q.toString()
  return text === '' ? '' : `?${text}`
}

// ---- shared ---------------------------------------------------------------------------------------

function need<T> (value: T | undefined, what: string): T {
  if (value === undefined) throw new XRoadError('Server.ClientProxy.InternalError', `The bridge was called without the ${what}`)
  return value
}

function header (v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

function json (status: number, value: unknown, durationMs: number): ProviderResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: Buffer.from(JSON.stringify(value), 'utf8'), durationMs }
}

function soap (status: number, xml: string, durationMs: number): ProviderResponse {
  return { status, headers: { 'content-type': 'text/xml; charset=utf-8' }, body: Buffer.from(xml, 'utf8'), durationMs }
}
