/**
 * One pass over the bytes of a SOAP envelope that libxml2 has already parsed without error: the
 * Envelope/Header/Body layout, the Header's elements with their namespaces and content, and the
 * body element's name, without touching libxml2's tree. Walking that tree costs a call into wasm,
 * a wrapper object and a UTF-8 decode for every node and every name; a request's Header alone has
 * some fifty nodes.
 *
 * The scan only covers the shape a correct message has: UTF-8, an Envelope holding an optional
 * Header and then a Body with exactly one element, and nothing but whitespace and comments between
 * them. Anything else — including every message the edge refuses — yields `undefined`, and the
 * caller reads the tree as before, so the tree reader keeps deciding what is acceptable.
 */
import { SOAP_ENV, XROAD_ID } from '../../../protocol/soap/namespaces.ts'
import type { HeaderField } from '../../../protocol/soap/xroad-header.ts'
import { BANG, BRACKET, GT, LT, QUESTION, SLASH, attributeValue, elementText, isSpace, NotSure, readStartTag, skipMisc, skipSpecial, tagEnd, type RawAttribute, type StartTag } from './xml-text.ts'
import { utf8ContentStart } from '../../../protocol/soap/text-reader.ts'

/** Positions are indices into `EnvelopeScan.text`. */
export interface HeaderScan {
  /** Index of the Header start tag's '<'. */
  start: number
  contentStart: number
  contentEnd: number
  /** The index after the Header end tag. */
  end: number
  /** The content is elements, comments and whitespace only (it can be copied as the echo). */
  clean: boolean
  /** Namespace declarations in scope at the Header, in libxml2's order (the Header's own first). */
  namespaces: () => Record<string, string>
  fields: HeaderField[]
  /**
   * The content is the request's Header content, character for character, under the same
   * namespace bindings (see `echoedHeader`): its X-Road fields are the request's, so they were not
   * read (`fields` is empty).
   */
  echoed?: true
}

/** A request's Header content as text and as UTF-8, and the namespace bindings in force there. */
export interface RequestHeaderText {
  text: string
  bytes: Buffer
  namespaces: Record<string, string>
}

export interface EnvelopeScan {
  /** The document decoded from UTF-8, from `contentStart` on. */
  text: string
  /** Byte offset where the content starts, after a BOM and the XML declaration. */
  contentStart: number
  /** Every character is one byte (indices are byte offsets from `contentStart`). */
  ascii: boolean
  /** The Envelope element's prefix ('' when it is in the default namespace). */
  prefix: string
  /** The Envelope start tag declares a default namespace (`xmlns="…"`, empty or not). */
  declaresDefault: boolean
  header?: HeaderScan
  /** Index of the Body start tag's '<'. */
  bodyStart: number
  /** The Body's one element. */
  body: BodyElement
}

/** The Body's one element: its name, and where it lies for a reader of its content. */
export interface BodyElement {
  ns: string
  name: string
  tag: StartTag
  /** Declarations in scope inside it, its own included. */
  scope: Scope | undefined
  /** Index of its end tag's '<' (of the index after its start tag when it is empty). */
  contentEnd: number
}

/** In-scope namespace declarations: one frame per element that declares any, innermost first. */
export interface Scope {
  readonly decls: ReadonlyArray<readonly [prefix: string, uri: string]>
  readonly parent: Scope | undefined
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace'

export function lookup (scope: Scope | undefined, prefix: string): string | undefined {
  for (let s = scope; s !== undefined; s = s.parent) {
    for (const [p, uri] of s.decls) if (p === prefix) return uri
  }
  return undefined
}

const isDeclaration = (name: string): boolean => name === 'xmlns' || name.startsWith('xmlns:')

/** The scope inside an element with these attributes. */
export function declare (scope: Scope | undefined, attrs: RawAttribute[]): Scope | undefined {
  let decls: Array<readonly [string, string]> | undefined
  for (const a of attrs) {
    if (!isDeclaration(a.name)) continue
    const prefix = a.name === 'xmlns' ? '' : a.name.slice(6)
    // libxml2 keeps no declaration of `xml` in its lists; such documents are not worth the care.
    if (prefix === 'xml' || prefix === 'xmlns') throw new NotSure('declaration of a reserved prefix')
    ;(decls ??= []).push([prefix, attributeValue(a.raw)])
  }
  return decls === undefined ? scope : { decls, parent: scope }
}

/** Local name and namespace of a qualified element name. */
export function resolve (scope: Scope | undefined, qname: string): { ns: string; name: string } {
  const colon = qname.indexOf(':')
  if (colon === -1) return { ns: lookup(scope, '') ?? '', name: qname }
  const prefix = qname.slice(0, colon)
  const name = qname.slice(colon + 1)
  const ns = prefix === 'xml' ? undefined : lookup(scope, prefix)
  if (ns === undefined || colon === 0 || name === '' || name.includes(':')) throw new NotSure(`element name ${qname}`)
  return { ns, name }
}

/** libxml2's `namespaces` of an element: its own declarations, then each ancestor's not yet seen. */
function namespaceList (scope: Scope | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (let s = scope; s !== undefined; s = s.parent) {
    for (const [prefix, uri] of s.decls) if (!Object.hasOwn(out, prefix)) out[prefix] = uri
  }
  return out
}

/** A Header element (or one of its children) read from the text. */
class TextField implements HeaderField {
  readonly ns: string
  readonly name: string
  readonly contentStart: number
  contentEnd: number
  readonly children: TextField[] = []
  /** Declarations in scope here, the element's own included. */
  readonly scope: Scope | undefined
  private readonly src: string
  private readonly attrs: RawAttribute[]

  constructor (src: string, tag: StartTag, scope: Scope | undefined) {
    const { ns, name } = resolve(scope, tag.name)
    this.ns = ns
    this.name = name
    this.src = src
    this.scope = scope
    this.attrs = tag.attrs
    this.contentStart = tag.end
    this.contentEnd = tag.end
  }

  text (): string {
    return elementText(this.src, this.contentStart, this.contentEnd)
  }

  parts (): HeaderField[] {
    return this.children
  }

  objectType (): string | undefined {
    // As `el.attr('objectType', 'id')`: the prefix `id` names the namespace to look in, and an
    // unbound `id` means no namespace at all; then any objectType in the identifiers namespace.
    const idNs = lookup(this.scope, 'id')
    const found = this.attribute('objectType', idNs ?? '') ?? this.attribute('objectType', XROAD_ID)
    return found === undefined ? undefined : attributeValue(found.raw)
  }

  private attribute (local: string, ns: string): RawAttribute | undefined {
    return findAttribute(this.attrs, this.scope, local, ns)
  }
}

/** The attribute `{ns}local` ('' for no namespace) among an element's, with `scope` in force there. */
export function findAttribute (attrs: RawAttribute[], scope: Scope | undefined, local: string, ns: string): RawAttribute | undefined {
  for (const a of attrs) {
    if (isDeclaration(a.name)) continue
    const colon = a.name.indexOf(':')
    if ((colon === -1 ? a.name : a.name.slice(colon + 1)) !== local) continue
    const prefix = colon === -1 ? '' : a.name.slice(0, colon)
    const attrNs = prefix === '' ? '' : prefix === 'xml' ? XML_NS : lookup(scope, prefix)
    if (attrNs === undefined) throw new NotSure(`attribute ${a.name}`)
    if (attrNs === ns) return a
  }
  return undefined
}


function scanHeader (src: string, at: number, tag: StartTag, scope: Scope | undefined): HeaderScan | undefined {
  const fields: TextField[] = []
  const namespaces = (): Record<string, string> => namespaceList(scope)
  if (tag.empty) return { start: at, contentStart: tag.end, contentEnd: tag.end, end: tag.end, clean: true, namespaces, fields }
  let clean = true
  let depth = 1 // open elements, the Header included
  let field: TextField | undefined
  let i = tag.end
  for (;;) {
    const lt = src.indexOf('<', i)
    if (lt === -1) return undefined
    if (depth === 1 && clean) for (let k = i; k < lt; k++) if (!isSpace(src.charCodeAt(k))) { clean = false; break }
    const next = src.charCodeAt(lt + 1)
    if (next === BANG) {
      if (depth === 1 && src.charCodeAt(lt + 2) === BRACKET) clean = false // CDATA directly in the Header
      i = skipSpecial(src, lt)
      if (i === -1) return undefined
    } else if (next === QUESTION) {
      return undefined
    } else if (next === SLASH) {
      const close = src.indexOf('>', lt)
      if (close === -1) return undefined
      depth--
      if (depth === 0) return { start: at, contentStart: tag.end, contentEnd: lt, end: close + 1, clean, namespaces, fields }
      if (depth === 1) field!.contentEnd = lt
      else if (depth === 2) field!.children[field!.children.length - 1].contentEnd = lt
      i = close + 1
    } else if (depth <= 2) {
      const t = readStartTag(src, lt)
      if (t === undefined) return undefined
      if (depth === 1) {
        field = new TextField(src, t, declare(scope, t.attrs))
        fields.push(field)
      } else {
        field!.children.push(new TextField(src, t, declare(field!.scope, t.attrs)))
      }
      if (!t.empty) depth++
      i = t.end
    } else {
      i = tagEnd(src, lt)
      if (i === -1) return undefined
      if (src.charCodeAt(i - 2) !== SLASH) depth++
    }
  }
}

/**
 * A provider answer's Header whose content is the request's Header content as sent, under the same
 * namespace bindings, without reading its elements: the same characters in the same context are
 * the same elements with the same text. The request's content is a run of complete elements,
 * comments and whitespace, so when the Header's end tag follows it, that end tag closes the Header.
 * Undefined when anything differs (the caller reads the Header).
 */
function echoedHeader (doc: Doc, at: number, tag: StartTag, scope: Scope | undefined, request: RequestHeaderText): HeaderScan | undefined {
  if (tag.empty) return undefined
  const src = doc.src
  // Compared as bytes: comparing a one-byte with a two-byte string goes character by character.
  const from = doc.contentStart + (doc.ascii ? tag.end : Buffer.byteLength(src.slice(0, tag.end), 'utf8'))
  const length = request.bytes.length
  if (from + length > doc.bytes.length || doc.bytes.compare(request.bytes, 0, length, from, from + length) !== 0) return undefined
  const contentEnd = tag.end + request.text.length
  if (src.charCodeAt(contentEnd) !== LT || src.charCodeAt(contentEnd + 1) !== SLASH || !src.startsWith(tag.name, contentEnd + 2)) return undefined
  let close = contentEnd + 2 + tag.name.length
  while (isSpace(src.charCodeAt(close))) close++
  if (src.charCodeAt(close) !== GT) return undefined
  // Bindings are compared as lists of plain properties, where a prefix `__proto__` cannot appear.
  for (let s = scope; s !== undefined; s = s.parent) if (s.decls.some(([prefix]) => prefix === '__proto__')) return undefined
  const namespaces = namespaceList(scope)
  const keys = Object.keys(namespaces)
  if (keys.length !== Object.keys(request.namespaces).length || keys.some(k => !Object.hasOwn(request.namespaces, k) || request.namespaces[k] !== namespaces[k])) return undefined
  return { start: at, contentStart: tag.end, contentEnd, end: close + 1, clean: true, namespaces: () => namespaces, fields: [], echoed: true }
}

/** The Body's only element and the index after the Body; undefined unless there is exactly one. */
function scanBody (src: string, tag: StartTag, scope: Scope | undefined): { element: BodyElement; end: number } | undefined {
  if (tag.empty) return undefined
  let element: BodyElement | undefined
  let depth = 1
  let i = tag.end
  for (;;) {
    const lt = src.indexOf('<', i)
    if (lt === -1) return undefined
    const next = src.charCodeAt(lt + 1)
    if (next === BANG) {
      i = skipSpecial(src, lt)
      if (i === -1) return undefined
    } else if (next === QUESTION) {
      return undefined
    } else if (next === SLASH) {
      const close = src.indexOf('>', lt)
      if (close === -1) return undefined
      if (--depth === 0) return element === undefined ? undefined : { element, end: close + 1 }
      if (depth === 1) element!.contentEnd = lt
      i = close + 1
    } else if (depth === 1) {
      if (element !== undefined) return undefined // a second element
      const t = readStartTag(src, lt)
      if (t === undefined) return undefined
      const inner = declare(scope, t.attrs)
      element = { ...resolve(inner, t.name), tag: t, scope: inner, contentEnd: t.end }
      if (!t.empty) depth++
      i = t.end
    } else {
      i = tagEnd(src, lt)
      if (i === -1) return undefined
      if (src.charCodeAt(i - 2) !== SLASH) depth++
    }
  }
}

/**
 * The envelope's layout from its bytes, or undefined when it is not the plain shape described above.
 * `request`: a provider answer's Header that repeats this request Header is not read (`echoed`).
 * `decoded`: the text and content start the well-formedness check (protocol/soap/well-formed.ts) already has.
 */
export function scanEnvelope (bytes: Buffer, request?: RequestHeaderText, decoded?: { src: string, contentStart: number }): EnvelopeScan | undefined {
  const contentStart = decoded?.contentStart ?? utf8ContentStart(bytes)
  if (contentStart === -1) return undefined
  try {
    const src = decoded?.src ?? bytes.toString('utf8', contentStart)
    return scan({ src, bytes, contentStart, ascii: src.length === bytes.length - contentStart }, request)
  } catch (err) {
    if (err instanceof NotSure) return undefined
    throw err
  }
}

/** The document being scanned: its text from `contentStart` on, and its bytes. */
interface Doc {
  src: string
  bytes: Buffer
  contentStart: number
  /** Every character is one byte. */
  ascii: boolean
}

function scan (doc: Doc, request: RequestHeaderText | undefined): EnvelopeScan | undefined {
  const { src, contentStart, ascii } = doc
  let i = skipMisc(src, 0)
  if (i === -1) return undefined
  const env = readStartTag(src, i)
  if (env === undefined || env.empty) return undefined
  const envScope = declare(undefined, env.attrs)
  const root = resolve(envScope, env.name)
  if (root.name !== 'Envelope' || root.ns !== SOAP_ENV) return undefined
  let header: HeaderScan | undefined
  let body: BodyElement | undefined
  let bodyStart = -1
  i = env.end
  for (;;) {
    i = skipMisc(src, i) // text, CDATA or a PI among the Envelope's children: not the plain shape
    if (i === -1) return undefined
    if (src.charCodeAt(i + 1) === SLASH) break
    const tag = readStartTag(src, i)
    if (tag === undefined) return undefined
    const scope = declare(envScope, tag.attrs)
    const el = resolve(scope, tag.name)
    if (el.ns !== SOAP_ENV) return undefined
    if (el.name === 'Header' && header === undefined && body === undefined) {
      header = (request === undefined ? undefined : echoedHeader(doc, i, tag, scope, request)) ?? scanHeader(src, i, tag, scope)
      if (header === undefined) return undefined
      i = header.end
    } else if (el.name === 'Body' && body === undefined) {
      const found = scanBody(src, tag, scope)
      if (found === undefined) return undefined
      body = found.element
      bodyStart = i
      i = found.end
    } else {
      return undefined
    }
  }
  if (body === undefined) return undefined
  const colon = env.name.indexOf(':')
  return {
    text: src,
    contentStart,
    ascii,
    prefix: colon === -1 ? '' : env.name.slice(0, colon),
    declaresDefault: env.attrs.some(a => a.name === 'xmlns'),
    ...(header === undefined ? {} : { header }),
    bodyStart,
    body,
  }
}

/** Byte offset in the scanned document of an index into `scan.text`. */
export function byteOffset (scan: EnvelopeScan, index: number): number {
  return scan.contentStart + (scan.ascii ? index : Buffer.byteLength(scan.text.slice(0, index), 'utf8'))
}
