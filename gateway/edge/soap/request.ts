/**
 * Reads a SOAP 1.1 request envelope: the X-Road header block (reference §1.2) and the body's single
 * wrapper element. The common case is read from the text alone, after a strict well-formedness
 * check (protocol/soap/well-formed.ts), and libxml2's tree (no DTDs, no entity substitution) is parsed only if
 * something asks for it; everything else is parsed with libxml2 and read from its tree as before.
 */
import { XmlC14NMode, XmlComment, XmlDocument, XmlElement, XmlText } from 'libxml2-wasm'
import { XRoadError } from '../../../protocol/errors.ts'
import type { HookElement } from '../../../schemas/xsd-hooks.ts'
import { XROAD } from '../../../protocol/soap/namespaces.ts'
import { childElements, envelopeParts, parseXml } from '../../../protocol/soap/xml.ts'
import { headerContentRange } from './header-text.ts'
import type { FastNode } from '../../../schemas/xsd-fast/validator.ts'
import { LazyDocument } from './lazy-document.ts'
import { scanEnvelope, type EnvelopeScan } from './scan.ts'
import { TextElement } from './text-element.ts'
import { checkWellFormed, type CheckedDocument, type ScannedElement } from '../../../protocol/soap/well-formed.ts'
import { NotSure } from './xml-text.ts'
import { domFields, readXRoadHeader, type HeaderField, type XRoadSoapHeader } from '../../../protocol/soap/xroad-header.ts'

export type { XRoadSoapHeader } from '../../../protocol/soap/xroad-header.ts'

export interface ParsedEnvelope {
  /** libxml2's tree; parsed on first use when the request was read from its text alone. */
  readonly doc: XmlDocument
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
  /** The body element in libxml2's tree (parsed on first use, as `doc`). */
  readonly body: XmlElement
  /** The body element's local name. */
  bodyName: string
  /** The body element read from the request's text, for the XSD hooks; only when `readFromBytes`. */
  bodyText?: HookElement
  /** The body element for the compiled XSD check; only when libxml2 has not parsed the request. */
  bodyNode?: FastNode
  /** Frees libxml2's tree if it was parsed. */
  dispose: () => void
  /** The header was read from the request bytes rather than from libxml2's tree (see envelope-scan.ts). */
  readFromBytes: boolean
}

/**
 * Reads the request from its bytes when the scan covers it (envelope-scan.ts), from libxml2's tree
 * otherwise. `reader: 'tree'` skips the byte reader; tests hold the two against each other.
 */
export function parseRequestEnvelope (bytes: Buffer, reader: 'auto' | 'tree' = 'auto'): ParsedEnvelope {
  const checked = reader === 'auto' ? checkWellFormed(bytes) : undefined
  if (checked !== undefined) {
    // Well-formed, so libxml2 would parse it: what the scan reads, and the errors it raises, are
    // the same as after a parse.
    const read = fromScan(new LazyDocument(bytes, 'Client.InvalidSoap'), scanEnvelope(bytes, undefined, checked), checked)
    if (read !== undefined) return read
  }
  const doc = parseXml(bytes, 'Client.InvalidSoap')
  try {
    return (reader === 'auto' && checked === undefined ? requestFromBytes(doc, bytes) : undefined) ?? requestFromTree(doc, bytes)
  } catch (err) {
    doc.dispose()
    throw err
  }
}

/** The X-Road fields every request needs, and the one protocol version this node speaks. */
function requiredFields (header: XRoadSoapHeader): XRoadSoapHeader {
  for (const field of ['client', 'service', 'id', 'protocolVersion'] as const) {
    if (header[field] === undefined) throw new XRoadError('Client.MissingHeaderField', `Required X-Road header field '${field}' is missing`)
  }
  if (header.protocolVersion !== '4.0') throw new XRoadError('Client.InvalidProtocolVersion', `Unsupported protocolVersion '${header.protocolVersion}'; this node speaks 4.0`)
  return header
}

const isRequestHash = (f: HeaderField): boolean => f.name === 'requestHash' && f.ns === XROAD

/**
 * The common case without walking the tree: the scan has checked everything envelopeParts checks,
 * so the only errors left are the header's, raised by the same reader on the same facts. Undefined
 * (the tree reader takes over) for anything the scan does not cover, a Header whose text cannot
 * be copied as the echo, or a client-sent requestHash.
 */
export function requestFromBytes (doc: XmlDocument, bytes: Buffer): ParsedEnvelope | undefined {
  return fromScan(new LazyDocument(bytes, 'Client.InvalidSoap', doc), scanEnvelope(bytes), undefined)
}

/** `checked`: the request's checked text, when libxml2 has not parsed it (`doc` parses on demand). */
function fromScan (doc: LazyDocument, scan: EnvelopeScan | undefined, checked: CheckedDocument | undefined): ParsedEnvelope | undefined {
  if (scan?.header === undefined) return undefined
  const h = scan.header
  if (!h.clean || h.fields.some(isRequestHash)) return undefined
  try {
    return new TextEnvelope(doc, scan, requiredFields(readXRoadHeader(h.fields, true)), checked === undefined ? undefined : bodyNode(checked, scan))
  } catch (err) {
    if (err instanceof NotSure) return undefined
    throw err
  }
}

/**
 * A request read from its text. The tree is reached through the prototype's getters, so copying
 * the envelope's fields (`{ ...envelope }`) does not parse it.
 */
class TextEnvelope implements ParsedEnvelope {
  readonly header: XRoadSoapHeader
  readonly headerXml: string
  readonly headerIsText = true
  readonly headerNamespaces: Record<string, string>
  readonly bodyName: string
  readonly bodyText: HookElement
  readonly bodyNode?: FastNode
  readonly readFromBytes = true
  private readonly lazy: LazyDocument
  private element: XmlElement | undefined

  constructor (lazy: LazyDocument, scan: EnvelopeScan, header: XRoadSoapHeader, node: ScannedElement | undefined) {
    const h = scan.header!
    this.lazy = lazy
    this.header = header
    this.headerXml = scan.text.slice(h.contentStart, h.contentEnd)
    this.headerNamespaces = h.namespaces()
    this.bodyName = scan.body.name
    // The checked tree's element reads as libxml2 would, so the hooks read it too.
    this.bodyText = node ?? TextElement.body(scan)
    if (node !== undefined) this.bodyNode = node
  }

  get doc (): XmlDocument {
    return this.lazy.get()
  }

  get body (): XmlElement {
    return this.element ??= scannedBody(this.lazy.get())
  }

  dispose (): void {
    this.lazy.dispose()
    this.element = undefined
  }
}

/** The Body's one element in the checked tree: the scan has shown the Body is the Envelope's last element. */
export function bodyNode (checked: CheckedDocument, scan: EnvelopeScan): ScannedElement | undefined {
  const envelope = checked.root.elements
  const body = envelope[envelope.length - 1]
  // Never otherwise; should the two readers ever disagree, libxml2 validates.
  return body !== undefined && body.start === scan.bodyStart && body.elements.length === 1 ? body.elements[0] : undefined
}

/**
 * The body element, found with a handful of wrapper calls once a scan (envelope-scan.ts) has shown
 * the layout: the Envelope's last element is the Body, whose only element this is.
 */
export function scannedBody (doc: XmlDocument): XmlElement {
  return onlyElement(lastElement(doc.root))
}

/** The last child element; the scan has shown there is one. */
function lastElement (el: XmlElement): XmlElement {
  for (let c = el.lastChild; c != null; c = c.prev) if (c instanceof XmlElement) return c
  throw new Error('the envelope scan and the tree disagree')
}

/** The first child element; the scan has shown it is the only one. */
function onlyElement (el: XmlElement): XmlElement {
  for (let c = el.firstChild; c != null; c = c.next) if (c instanceof XmlElement) return c
  throw new Error('the envelope scan and the tree disagree')
}

function requestFromTree (doc: XmlDocument, bytes: Buffer): ParsedEnvelope {
  const parts = envelopeParts(doc, 'Client.InvalidSoap')
  if (parts.header === undefined) throw new XRoadError('Client.MissingHeaderField', 'The SOAP envelope has no Header with X-Road fields')
  const elements = childElements(parts.header)
  const header = requiredFields(readXRoadHeader(domFields(elements), true))
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
    bodyName: parts.body.name,
    readFromBytes: false,
    dispose: () => doc.dispose(),
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
