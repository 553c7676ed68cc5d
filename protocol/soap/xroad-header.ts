/**
 * The X-Road header fields (reference §1.2) read from the SOAP Header's child elements. The rules
 * live here once; the elements come either from libxml2's tree (`domFields`, the reference) or
 * from the request bytes (envelope-scan.ts), which only has to present the same few facts about
 * each element.
 */
import { XmlElement } from 'libxml2-wasm'
import { XRoadError } from '../errors.ts'
import { checkClientId, checkServiceId, type ClientId, type ServiceId } from '../identifiers.ts'
import { XROAD, XROAD_ID, XROAD_REPR } from './namespaces.ts'

export interface XRoadSoapHeader {
  client?: ClientId
  service?: ServiceId
  id?: string
  userId?: string
  issue?: string
  protocolVersion?: string
  representedParty?: string
}

/** What the reader needs to know about one element, as libxml2 would report it. */
export interface HeaderField {
  /** Namespace name ('' for none). */
  readonly ns: string
  /** Local name. */
  readonly name: string
  /** The element's `content`: all descendant text and CDATA, untrimmed. */
  text (): string
  /** Child elements, in order. */
  parts (): HeaderField[]
  /**
   * The `objectType` attribute as the DOM reader finds it: the one in the namespace the prefix
   * `id` is bound to where the element stands (or in no namespace when `id` is unbound), else the
   * one in the identifiers namespace.
   */
  objectType (): string | undefined
}

/** The reference: elements from libxml2's tree, each fact read through its wrappers. */
export function domFields (elements: XmlElement[]): HeaderField[] {
  return elements.map(domField)
}

function domField (el: XmlElement): HeaderField {
  return {
    ns: el.namespaceUri,
    name: el.name,
    text: () => el.content,
    parts: () => {
      const out: HeaderField[] = []
      // `!= null`: libxml2-wasm nodes without siblings support (processing instructions) end the walk.
      for (let c = el.firstChild; c != null; c = c.next) if (c instanceof XmlElement) out.push(domField(c))
      return out
    },
    objectType: () => el.attr('objectType', 'id')?.value ?? el.attrs.find(a => a.name === 'objectType' && a.namespaceUri === XROAD_ID)?.value,
  }
}

const FIELDS = ['client', 'service', 'id', 'userId', 'issue', 'protocolVersion', 'representedParty']

/**
 * Reads X-Road fields from header elements. `strict` (requests) refuses duplicates and malformed
 * identifiers; responses are read leniently, only to compare them with the request.
 */
export function readXRoadHeader (elements: HeaderField[], strict: boolean): XRoadSoapHeader {
  const header: XRoadSoapHeader = {}
  for (const el of elements) {
    const ns = el.ns
    const field = ns === XROAD ? el.name : ns === XROAD_REPR && el.name === 'representedParty' ? 'representedParty' : undefined
    if (field === undefined) continue
    if (!FIELDS.includes(field)) continue
    if ((header as Record<string, unknown>)[field] !== undefined) {
      if (strict) throw new XRoadError('Client.DuplicateHeaderField', `X-Road header field '${field}' appears more than once`)
      continue
    }
    if (field === 'client') header.client = readClient(el, strict)
    else if (field === 'service') header.service = readService(el, strict)
    else if (field === 'representedParty') header.representedParty = readParty(el)
    else (header as Record<string, string>)[field] = el.text().trim()
  }
  return header
}

function idParts (el: HeaderField): Record<string, string> {
  const parts: Record<string, string> = {}
  for (const child of el.parts()) {
    if (child.ns !== XROAD_ID) continue
    if (parts[child.name] !== undefined) throw new XRoadError('Client.DuplicateHeaderField', `Identifier part '${child.name}' appears more than once in ${el.name}`)
    parts[child.name] = child.text().trim()
  }
  return parts
}

function readClient (el: HeaderField, strict: boolean): ClientId {
  const p = idParts(el)
  const type = el.objectType()
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

function readService (el: HeaderField, strict: boolean): ServiceId {
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
  const type = el.objectType()
  if (type !== 'SERVICE') throw new XRoadError('Client.BadRequest', `service objectType must be SERVICE, got '${type ?? ''}'`)
  if (id.instance === undefined || id.memberClass === undefined || id.memberCode === undefined || id.serviceCode === undefined) {
    throw new XRoadError('Client.BadRequest', 'service needs xRoadInstance, memberClass, memberCode and serviceCode')
  }
  return checkServiceId(id)
}

function readParty (el: HeaderField): string {
  const parts: Record<string, string> = {}
  for (const child of el.parts()) parts[child.name] = child.text().trim()
  return parts.partyClass === undefined ? parts.partyCode ?? '' : `${parts.partyClass}/${parts.partyCode ?? ''}`
}
