/**
 * Parses a SOAP 1.1 request envelope once (libxml2, no DTDs, no entity substitution) and reads the
 * X-Road header block (reference §1.2) and the body's single wrapper element.
 */
import { XmlC14NMode, XmlComment, XmlDocument, XmlElement, XmlText, type XmlLibError } from 'libxml2-wasm'
import { XRoadError } from '../errors.ts'
import { checkClientId, checkServiceId, type ClientId, type ServiceId } from '../identifiers.ts'
import { SOAP12_ENV, SOAP_ENV, XROAD, XROAD_ID, XROAD_REPR } from './namespaces.ts'
import { headerContentRange } from './header-text.ts'

export interface XRoadSoapHeader {
  client?: ClientId
  service?: ServiceId
  id?: string
  userId?: string
  issue?: string
  protocolVersion?: string
  representedParty?: string
}

export interface ParsedEnvelope {
  doc: XmlDocument
  header: XRoadSoapHeader
  /**
   * The request's header elements in order (a client-sent requestHash is left out): either the
   * Header's content copied from the request bytes (`headerIsText`), whose prefixes resolve through
   * `headerNamespaces`, or each element in exclusive canonical form, which declares every namespace
   * it uses and can be placed in any envelope.
   */
  headerXml: string
  /** True when `headerXml` is copied text that needs all of `headerNamespaces` in scope. */
  headerIsText: boolean
  /** Namespace declarations in scope at the request's Header, to re-declare where the echo lands. */
  headerNamespaces: Record<string, string>
  body: XmlElement
}

const DOCTYPE = Buffer.from('<!DOCTYPE')
const PI_START = Buffer.from('<?')

/** Whether the bytes may hold a processing instruction besides a leading XML declaration. */
function mayHoldPI (bytes: Buffer): boolean {
  // UTF-16 (BOM or a leading NUL byte) hides '<?' from a byte search: always look.
  if (bytes[0] === 0xfe || bytes[0] === 0xff || bytes[0] === 0x00 || bytes[1] === 0x00) return true
  let at = bytes.indexOf(PI_START)
  if (at !== -1 && at <= 3) at = bytes.indexOf(PI_START, at + 2) // the declaration, after an optional UTF-8 BOM
  return at !== -1
}

export function parseXml (bytes: Buffer, code: 'Client.InvalidSoap' | 'Server.ServerProxy.ServiceFailed.InvalidSoap'): XmlDocument {
  // SOAP forbids DTDs (SOAP 1.1 §3). The byte check refuses the common case before any parsing;
  // the parsed-document check catches DTDs in other encodings (UTF-16). libxml2 runs without entity
  // substitution or external loading either way.
  if (bytes.includes(DOCTYPE)) throw new XRoadError(code, 'A SOAP message must not contain a DTD')
  let doc: XmlDocument
  try {
    doc = XmlDocument.fromBuffer(bytes)
  } catch (err) {
    const d = (err as XmlLibError).details?.[0]
    throw new XRoadError(code, `Malformed XML${d === undefined ? '' : ` at line ${d.line}:${d.col}: ${d.message.trim()}`}`)
  }
  if (doc.dtd !== null) {
    doc.dispose()
    throw new XRoadError(code, 'A SOAP message must not contain a DTD')
  }
  // SOAP 1.1 §3 forbids processing instructions too (and the tree walk below cannot step over them).
  if (mayHoldPI(bytes) && doc.find('//processing-instruction()').length > 0) {
    doc.dispose()
    throw new XRoadError(code, 'A SOAP message must not contain processing instructions')
  }
  return doc
}

export function childElements (el: XmlElement): XmlElement[] {
  const out: XmlElement[] = []
  // `!= null`: libxml2-wasm nodes without siblings support (processing instructions) end the walk.
  for (let c = el.firstChild; c != null; c = c.next) if (c instanceof XmlElement) out.push(c)
  return out
}

/** Envelope, optional Header, exactly one Body with exactly one element — or a typed error. */
export function envelopeParts (doc: XmlDocument, code: 'Client.InvalidSoap' | 'Server.ServerProxy.ServiceFailed.InvalidSoap'): { header?: XmlElement; body: XmlElement; prefix: string } {
  const root = doc.root
  if (root.name !== 'Envelope' || root.namespaceUri !== SOAP_ENV) {
    const what = root.namespaceUri === SOAP12_ENV ? 'SOAP 1.2 is not supported; use SOAP 1.1' : `root element must be {${SOAP_ENV}}Envelope, got {${root.namespaceUri}}${root.name}`
    throw new XRoadError(code, what)
  }
  let header: XmlElement | undefined
  let body: XmlElement | undefined
  for (const el of childElements(root)) {
    if (el.namespaceUri !== SOAP_ENV) throw new XRoadError(code, `Unexpected element ${el.name} in Envelope`)
    if (el.name === 'Header' && header === undefined && body === undefined) header = el
    else if (el.name === 'Body' && body === undefined) body = el
    else throw new XRoadError(code, `Unexpected or repeated ${el.name} in Envelope`)
  }
  if (body === undefined) throw new XRoadError(code === 'Client.InvalidSoap' ? 'Client.MissingBody' : code, 'The SOAP envelope has no Body')
  const content = childElements(body)
  if (content.length !== 1) {
    throw new XRoadError(code === 'Client.InvalidSoap' ? (content.length === 0 ? 'Client.MissingBody' : 'Client.InvalidSoap') : code,
      `The SOAP Body must hold exactly one element, found ${content.length}`)
  }
  return { ...(header === undefined ? {} : { header }), body: content[0], prefix: root.prefix }
}

export function parseRequestEnvelope (bytes: Buffer): ParsedEnvelope {
  const doc = parseXml(bytes, 'Client.InvalidSoap')
  try {
    const parts = envelopeParts(doc, 'Client.InvalidSoap')
    if (parts.header === undefined) throw new XRoadError('Client.MissingHeaderField', 'The SOAP envelope has no Header with X-Road fields')
    const elements = childElements(parts.header)
    const header = readXRoadHeader(elements, true)
    for (const field of ['client', 'service', 'id', 'protocolVersion'] as const) {
      if (header[field] === undefined) throw new XRoadError('Client.MissingHeaderField', `Required X-Road header field '${field}' is missing`)
    }
    if (header.protocolVersion !== '4.0') throw new XRoadError('Client.InvalidProtocolVersion', `Unsupported protocolVersion '${header.protocolVersion}'; this node speaks 4.0`)
    const echo = elements.filter(e => !(e.name === 'requestHash' && e.namespaceUri === XROAD))
    // Copying the Header's text is exact and far cheaper than c14n; it needs UTF-8 bytes and a
    // Header of elements, comments and whitespace only (headerContentRange checks both).
    const range = echo.length === elements.length ? headerContentRange(bytes) : undefined
    return {
      doc,
      header,
      headerIsText: range !== undefined,
      headerXml: range !== undefined
        ? bytes.toString('utf8', range.start, range.end)
        : echo.length === elements.length && onlyElementsAndSpace(parts.header) ? innerCanonical(parts.header) : echo.map(canonical).join(''),
      headerNamespaces: parts.header.namespaces,
      body: parts.body,
    }
  } catch (err) {
    doc.dispose()
    throw err
  }
}

const canonical = (el: XmlElement): string => el.canonicalizeToString({ mode: XmlC14NMode.XML_C14N_EXCLUSIVE_1_0 })

/**
 * The Header's children in exclusive canonical form, from one canonicalisation of the Header (a
 * c14n call costs about as much for one small element as for the whole Header, and a request has
 * six or more). Exclusive c14n declares on each child the namespaces it uses, so every child stands
 * alone; whitespace between them is kept, which changes nothing a reader of the echo sees.
 */
function innerCanonical (header: XmlElement): string {
  const text = canonical(header)
  // The start tag ends at the first '>' (c14n escapes '>' in attribute values); the end tag is last.
  return text.slice(text.indexOf('>') + 1, text.lastIndexOf('</'))
}

/** True when the element holds only child elements and whitespace (no stray text, PIs or CDATA). */
function onlyElementsAndSpace (el: XmlElement): boolean {
  for (let c = el.firstChild; c != null; c = c.next) {
    if (c instanceof XmlElement || c instanceof XmlComment) continue
    if (!(c instanceof XmlText) || c.content.trim() !== '') return false
  }
  return true
}

/**
 * Reads X-Road fields from header elements. `strict` (requests) refuses duplicates and malformed
 * identifiers; responses are read leniently, only to compare them with the request.
 */
export function readXRoadHeader (elements: XmlElement[], strict: boolean): XRoadSoapHeader {
  const header: XRoadSoapHeader = {}
  for (const el of elements) {
    const ns = el.namespaceUri
    const field = ns === XROAD ? el.name : ns === XROAD_REPR && el.name === 'representedParty' ? 'representedParty' : undefined
    if (field === undefined) continue
    if (!['client', 'service', 'id', 'userId', 'issue', 'protocolVersion', 'representedParty'].includes(field)) continue
    if ((header as Record<string, unknown>)[field] !== undefined) {
      if (strict) throw new XRoadError('Client.DuplicateHeaderField', `X-Road header field '${field}' appears more than once`)
      continue
    }
    if (field === 'client') header.client = readClient(el, strict)
    else if (field === 'service') header.service = readService(el, strict)
    else if (field === 'representedParty') header.representedParty = readParty(el)
    else (header as Record<string, string>)[field] = el.content.trim()
  }
  return header
}

function idParts (el: XmlElement): Record<string, string> {
  const parts: Record<string, string> = {}
  for (const child of childElements(el)) {
    if (child.namespaceUri !== XROAD_ID) continue
    if (parts[child.name] !== undefined) throw new XRoadError('Client.DuplicateHeaderField', `Identifier part '${child.name}' appears more than once in ${el.name}`)
    parts[child.name] = child.content.trim()
  }
  return parts
}

function objectType (el: XmlElement): string | undefined {
  return el.attr('objectType', 'id')?.value ?? el.attrs.find(a => a.name === 'objectType' && a.namespaceUri === XROAD_ID)?.value
}

function readClient (el: XmlElement, strict: boolean): ClientId {
  const p = idParts(el)
  const type = objectType(el)
  const id: ClientId = { instance: p.xRoadInstance, memberClass: p.memberClass, memberCode: p.memberCode, ...(p.subsystemCode === undefined ? {} : { subsystemCode: p.subsystemCode }) }
  if (!strict) return id
  if (type !== 'MEMBER' && type !== 'SUBSYSTEM') throw new XRoadError('Client.InvalidClientIdentifier', `client objectType must be MEMBER or SUBSYSTEM, got '${type ?? ''}'`)
  if (id.instance === undefined || id.memberClass === undefined || id.memberCode === undefined) {
    throw new XRoadError('Client.InvalidClientIdentifier', 'client needs xRoadInstance, memberClass and memberCode')
  }
  if ((type === 'SUBSYSTEM') !== (id.subsystemCode !== undefined)) {
    throw new XRoadError('Client.InvalidClientIdentifier', `client objectType ${type} does not match its parts`)
  }
  return checkClientId(id)
}

function readService (el: XmlElement, strict: boolean): ServiceId {
  const p = idParts(el)
  const id: ServiceId = {
    instance: p.xRoadInstance,
    memberClass: p.memberClass,
    memberCode: p.memberCode,
    serviceCode: p.serviceCode,
    ...(p.subsystemCode === undefined ? {} : { subsystemCode: p.subsystemCode }),
    ...(p.serviceVersion === undefined ? {} : { serviceVersion: p.serviceVersion }),
  }
  if (!strict) return id
  if (objectType(el) !== 'SERVICE') throw new XRoadError('Client.BadRequest', `service objectType must be SERVICE, got '${objectType(el) ?? ''}'`)
  if (id.instance === undefined || id.memberClass === undefined || id.memberCode === undefined || id.serviceCode === undefined) {
    throw new XRoadError('Client.BadRequest', 'service needs xRoadInstance, memberClass, memberCode and serviceCode')
  }
  return checkServiceId(id)
}

function readParty (el: XmlElement): string {
  const parts: Record<string, string> = {}
  for (const child of childElements(el)) parts[child.name] = child.content.trim()
  return parts.partyClass === undefined ? parts.partyCode ?? '' : `${parts.partyClass}/${parts.partyCode ?? ''}`
}
