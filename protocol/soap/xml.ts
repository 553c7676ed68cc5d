/**
 * XML primitives of the X-Road SOAP profile, shared by the SOAP edge, the metaservices and the
 * bridge adapter: safe parsing (no DTD, no processing instructions, no entity substitution), the
 * envelope's parts, escaping, and the few X-Road elements written as text (identifiers, requestHash).
 */
import { XmlDocument, XmlElement, type XmlLibError } from 'libxml2-wasm'
import { XRoadError } from '../errors.ts'
import type { ClientId, ServiceId } from '../identifiers.ts'
import { SHA512_URI } from '../request-hash.ts'
import { SOAP12_ENV, SOAP_ENV, XROAD } from './namespaces.ts'

/** Escapes text for element content and double-quoted attributes. */
export function xmlEscape (text: string): string {
  return text.replace(/[<>&"]/g, c => c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : '&quot;')
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

/** `xmlns` attributes for a set of in-scope declarations (`''` is the default namespace), minus one prefix. */
export function nsAttributes (namespaces: Record<string, string>, skipPrefix?: string): string {
  let out = ''
  for (const [prefix, uri] of Object.entries(namespaces)) {
    if (prefix === skipPrefix) continue
    out += prefix === '' ? ` xmlns="${xmlEscape(uri)}"` : ` xmlns:${prefix}="${xmlEscape(uri)}"`
  }
  return out
}

/** The `requestHash` header element a response carries (SHA-512 of the request, base64). */
export function requestHashElement (requestHash: string): string {
  return `<requestHash xmlns="${XROAD}" algorithmId="${SHA512_URI}">${requestHash}</requestHash>`
}

/**
 * An X-Road identifier as `<xrd:{tag} id:objectType=…>` with its `id:` parts in schema order; the
 * `xrd` and `id` prefixes must be bound where it lands. The object type follows from the parts:
 * SERVICE with a service code, SUBSYSTEM with a subsystem code, MEMBER otherwise.
 */
export function identifierXml (tag: string, id: ClientId | ServiceId): string {
  const service = 'serviceCode' in id ? id : undefined
  const type = service !== undefined ? 'SERVICE' : id.subsystemCode === undefined ? 'MEMBER' : 'SUBSYSTEM'
  return `<xrd:${tag} id:objectType="${type}">` + part('xRoadInstance', id.instance) + part('memberClass', id.memberClass) +
    part('memberCode', id.memberCode) + part('subsystemCode', id.subsystemCode) +
    part('serviceCode', service?.serviceCode) + part('serviceVersion', service?.serviceVersion) + `</xrd:${tag}>`
}

function part (name: string, value: string | undefined): string {
  return value === undefined ? '' : `<id:${name}>${xmlEscape(value)}</id:${name}>`
}
