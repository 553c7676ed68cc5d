/**
 * A strict, one-pass well-formedness check of a message's text, for a subset of XML, that also
 * builds the light element tree the fast XSD validator reads (schemas/xsd-fast/). It replaces
 * libxml2's parse on the common path; it answers `undefined` for anything outside the subset or
 * anything wrong, and the caller then parses with libxml2 exactly as before, so every refusal and
 * its message still come from libxml2.
 *
 * The subset: UTF-8 (no byte sequence decoded as U+FFFD), an optional XML declaration (version
 * 1.0), elements and attributes with ASCII names (`NCName` or `prefix:NCName`), namespace
 * declarations with absolute URIs of plain characters (`scheme://host[:port]/path`, `urn:a:b`), character data, the five predefined entity
 * references and character references to legal characters, comments, and whitespace and comments
 * around the root element. Not in it: DTDs (nor the text `<!DOCTYPE` anywhere, which the edge
 * refuses even in a comment), processing instructions, CDATA sections, the `xml` and
 * `xmlns` prefixes in names, non-ASCII names, more than 64 levels of elements, more than 32
 * attributes on one element, names over 200 characters, documents over 1 MiB.
 */
import { SOAP_ENV } from './namespaces.ts'
import { attributeValue, contentText, isNamespaceDeclaration, lookupPrefix, resolveName, utf8ContentStart, type RawAttribute, type Scope } from './text-reader.ts'

const MAX_DEPTH = 64
const MAX_NAME = 200
/** Attributes are compared pairwise for duplicates: more than this many on one element is left to libxml2. */
const MAX_ATTRIBUTES = 32
const MAX_BYTES = 1 << 20

/** Characters XML does not allow, and U+FFFD (what the decoder puts for bytes that are not UTF-8). */
const BAD_CHARS = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFD-\uFFFF]/

/** Per ASCII character: what it is in a name, and in character data. */
const NAME_START = 1
const NAME_CHAR = 2
const ASCII = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f) ASCII[c] = NAME_START | NAME_CHAR
  else if ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e) ASCII[c] = NAME_CHAR
}
/** Character data: 0 plain, 1 whitespace, 2 needs a look ('&', ']', characters XML does not allow). */
const TEXT = new Uint8Array(128).fill(2, 0, 0x20)
TEXT[0x20] = TEXT[0x09] = TEXT[0x0a] = TEXT[0x0d] = 1
TEXT[0x26] = TEXT[0x5d] = TEXT[0x3c] = 2
/**
 * A namespace name the subset takes: an absolute URI of plain characters (no '%', '?', '#', '&',
 * spaces or brackets), either `scheme://host[:port][/path]` or `scheme:path` (as `urn:a:b`).
 */
const NAMESPACE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:(?:\/\/[A-Za-z0-9\-._~!$'()*+,;=]+(?::[0-9]+)?(?:\/[A-Za-z0-9\-._~!$'()*+,;=:@/]*)?|(?!\/\/)[A-Za-z0-9\-._~!$'()*+,;=:@/]*)$/
/** parseXml (protocol/soap/xml.ts) refuses these bytes anywhere, comments included. */
const DOCTYPE = Buffer.from('<!DOCTYPE')
const DECLARATION = /^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:"1\.0"|'1\.0')(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:"[A-Za-z][A-Za-z0-9._-]*"|'[A-Za-z][A-Za-z0-9._-]*'))?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\r\n]*\?>$/

const EMPTY: ScannedElement[] = []
const NO_ATTRIBUTES: RawAttribute[] = []

/**
 * One element of the checked document, as the compiled XSD check (`FastNode` in
 * schemas/xsd-fast/validator.ts) and the type hooks (`HookElement` in schemas/xsd-hooks.ts) read
 * it — it has both shapes, without importing them (protocol/ imports nothing of ura). The check has
 * shown the subset holds, so it reads as libxml2 would.
 */
export class ScannedElement {
  readonly ns: string
  readonly name: string
  /** Qualified name as written. */
  readonly qname: string
  /** Index of '<' of the start tag. */
  readonly start: number
  readonly contentStart: number
  contentEnd: number
  readonly attrs: RawAttribute[]
  readonly attributeCount: number
  readonly scope: Scope | undefined
  elements: ScannedElement[] = EMPTY
  /** A child element or comment inside. */
  markup = false
  /** Character data other than literal whitespace directly inside. */
  unblank = false
  private readonly src: string

  constructor (src: string, start: number, qname: string, ns: string, attrs: RawAttribute[], attributeCount: number, scope: Scope | undefined, contentStart: number) {
    this.src = src
    this.start = start
    this.qname = qname
    const colon = qname.indexOf(':')
    this.name = colon === -1 ? qname : qname.slice(colon + 1)
    this.ns = ns
    this.attrs = attrs
    this.attributeCount = attributeCount
    this.scope = scope
    this.contentStart = contentStart
    this.contentEnd = contentStart
  }

  get empty (): boolean { return this.contentEnd === this.contentStart }
  get textOnly (): boolean { return !this.markup }
  get blank (): boolean { return !this.unblank }

  /** The character data directly inside (for a FastNode, only read when `textOnly`). */
  text (): string {
    return contentText(this.src, this.contentStart, this.contentEnd, this.markup)
  }

  content (): string {
    return contentText(this.src, this.contentStart, this.contentEnd, false)
  }

  children (): ScannedElement[] {
    return this.elements
  }

  attribute (name: string, ns: string): string | undefined {
    // The check has bound every prefix (and refused `xml:`), so every name resolves.
    for (const a of this.attrs) {
      if (isNamespaceDeclaration(a.name)) continue
      const n = resolveName(this.scope, a.name, true)
      if (n.local === name && n.ns === ns) return attributeValue(a.raw)
    }
    return undefined
  }
}

export interface CheckedDocument {
  /** The text from `contentStart` on (as scanEnvelope decodes it). */
  src: string
  /** Byte offset of the content after a BOM and the XML declaration. */
  contentStart: number
  root: ScannedElement
}

/**
 * The Body's one element when the checked envelope is laid out as `envelopeParts` (xml.ts) requires
 * — `{SOAP_ENV}Envelope`, an optional Header, one Body holding exactly one element — else
 * undefined, and libxml2's tree says what is wrong, as before.
 */
export function envelopeBody (root: ScannedElement): ScannedElement | undefined {
  if (root.name !== 'Envelope' || root.ns !== SOAP_ENV) return undefined
  let header: ScannedElement | undefined
  let body: ScannedElement | undefined
  for (const el of root.elements) {
    if (el.ns !== SOAP_ENV) return undefined
    if (el.name === 'Header' && header === undefined && body === undefined) header = el
    else if (el.name === 'Body' && body === undefined) body = el
    else return undefined
  }
  return body?.elements.length === 1 ? body.elements[0] : undefined
}

class Outside extends Error {}

const isNameStart = (c: number): boolean => c < 128 && (ASCII[c] & NAME_START) !== 0
const isNameChar = (c: number): boolean => c < 128 && (ASCII[c] & NAME_CHAR) !== 0
const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d

/**
 * The document's element tree when the bytes are a well-formed document of the subset, else
 * undefined (outside the subset, or not well-formed: libxml2 will say which).
 */
export function checkWellFormed (bytes: Buffer): CheckedDocument | undefined {
  if (bytes.length > MAX_BYTES || bytes.includes(DOCTYPE)) return undefined
  const contentStart = utf8ContentStart(bytes)
  if (contentStart === -1) return undefined
  const declStart = bytes[0] === 0xef ? 3 : 0
  if (contentStart > declStart && !DECLARATION.test(bytes.toString('latin1', declStart, contentStart))) return undefined
  const src = bytes.toString('utf8', contentStart)
  try {
    return { src, contentStart, root: new Checker(src).document() }
  } catch (err) {
    if (err instanceof Outside) return undefined
    throw err
  }
}

class Checker {
  private readonly src: string
  private i = 0

  constructor (src: string) {
    this.src = src
  }

  private fail (): never {
    throw new Outside()
  }

  document (): ScannedElement {
    this.misc()
    if (this.src.charCodeAt(this.i) !== 0x3c || !isNameStart(this.src.charCodeAt(this.i + 1))) this.fail()
    const root = this.element()
    this.misc()
    if (this.i !== this.src.length) this.fail()
    return root
  }

  /** Whitespace and comments. */
  private misc (): void {
    const src = this.src
    for (;;) {
      while (isSpace(src.charCodeAt(this.i))) this.i++
      if (!src.startsWith('<!--', this.i)) return
      this.comment()
    }
  }

  private comment (): void {
    const close = this.src.indexOf('--', this.i + 4)
    // The first '--' must end the comment (so the text does not end with '-' either).
    if (close === -1 || this.src.charCodeAt(close + 2) !== 0x3e) this.fail()
    // Tags and names hold only the characters they are checked for, character data and attribute
    // values are checked in their loops: comments are the one place left to look.
    if (close > this.i + 4 && BAD_CHARS.test(this.src.slice(this.i + 4, close))) this.fail()
    this.i = close + 3
  }

  /** A qualified name at `i`: NCName or NCName ':' NCName, ASCII only. */
  private qname (): string {
    const src = this.src
    const from = this.i
    if (!isNameStart(src.charCodeAt(this.i))) this.fail()
    let colon = -1
    for (this.i++; ; this.i++) {
      const c = src.charCodeAt(this.i)
      if (isNameChar(c)) continue
      if (c === 0x3a && colon === -1 && isNameStart(src.charCodeAt(this.i + 1))) {
        colon = this.i
        continue
      }
      break
    }
    if (this.i - from > MAX_NAME) this.fail()
    return src.slice(from, this.i)
  }

  /** Character data from `from` up to the next '<' (returned): references and ']]>' checked. */
  private charData (from: number, el: ScannedElement): number {
    const src = this.src
    const n = src.length
    let unblank = false
    let k = from
    for (; k < n; k++) {
      const c = src.charCodeAt(k)
      if (c < 128) {
        const kind = TEXT[c]
        if (kind === 1) continue
        if (c === 0x3c) break
        unblank = true
        if (kind === 0) continue
        if (c === 0x26) k = this.reference(k) - 1
        else if (c !== 0x5d || src.startsWith(']]>', k)) this.fail() // ']]>' or a character XML does not allow
      } else {
        unblank = true
        if (c >= 0xfffd) this.fail()
      }
    }
    if (k === n) this.fail()
    if (unblank) el.unblank = true
    return k
  }

  /** A reference at `amp`; returns the index after its ';'. */
  private reference (amp: number): number {
    const src = this.src
    const semi = src.indexOf(';', amp)
    if (semi === -1 || semi - amp > 10) this.fail()
    const ref = src.slice(amp + 1, semi)
    if (ref === 'lt' || ref === 'gt' || ref === 'amp' || ref === 'quot' || ref === 'apos') return semi + 1
    const code = /^#x[0-9a-fA-F]{1,6}$/.test(ref) ? parseInt(ref.slice(2), 16) : /^#[0-9]{1,7}$/.test(ref) ? parseInt(ref.slice(1), 10) : -1
    const legal = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff)
    if (!legal) this.fail()
    return semi + 1
  }

  /** An attribute value from after its opening quote to the closing one (returned): no '<', legal references. */
  private attributeValue (from: number, quote: number): number {
    const src = this.src
    const n = src.length
    for (let k = from; k < n; k++) {
      const c = src.charCodeAt(k)
      if (c === quote) return k
      if (c < 128) {
        if (TEXT[c] !== 2) continue
        if (c === 0x26) k = this.reference(k) - 1
        else if (c !== 0x5d) this.fail() // '<' or a character XML does not allow
      } else if (c >= 0xfffd) {
        this.fail()
      }
    }
    return this.fail()
  }

  /** The root element at `i` and everything inside it, iteratively. */
  private element (): ScannedElement {
    const src = this.src
    const stack: ScannedElement[] = []
    let root: ScannedElement | undefined
    for (;;) {
      // At '<' of a start tag.
      const el = this.startTag(stack.length === 0 ? undefined : stack[stack.length - 1])
      if (stack.length > 0) {
        const parent = stack[stack.length - 1]
        parent.markup = true
        if (parent.elements === EMPTY) parent.elements = []
        parent.elements.push(el)
      } else {
        root = el
      }
      if (src.charCodeAt(this.i - 2) !== 0x2f) {
        if (stack.length >= MAX_DEPTH) this.fail()
        stack.push(el)
      }
      // Content until the next start tag, or until the stack is empty.
      while (stack.length > 0) {
        const top = stack[stack.length - 1]
        const lt = this.i = this.charData(this.i, top)
        const next = src.charCodeAt(lt + 1)
        if (next === 0x2f) { // '</'
          // The end tag's name is the start tag's, compared in place (startsWith leaves the JIT).
          const length = top.qname.length
          for (let j = 0; j < length; j++) if (src.charCodeAt(lt + 2 + j) !== src.charCodeAt(top.start + 1 + j)) this.fail()
          const after = src.charCodeAt(lt + 2 + length)
          if (isNameChar(after) || after === 0x3a) this.fail()
          this.i = lt + 2 + length
          while (isSpace(src.charCodeAt(this.i))) this.i++
          if (src.charCodeAt(this.i) !== 0x3e) this.fail()
          this.i++
          top.contentEnd = lt
          stack.pop()
        } else if (next === 0x21) { // '<!'
          if (!src.startsWith('<!--', lt)) this.fail() // CDATA, DOCTYPE
          this.comment()
          top.markup = true
        } else if (isNameStart(next)) {
          break
        } else {
          this.fail() // '<?' and anything else
        }
      }
      if (stack.length === 0) return root!
    }
  }

  /** The start tag at `i`; leaves `i` after its '>'. */
  private startTag (parent: ScannedElement | undefined): ScannedElement {
    const src = this.src
    const start = this.i
    this.i++
    const qname = this.qname()
    let attrs = NO_ATTRIBUTES
    let plain = 0
    let prefixes: string[] | undefined
    let uris: string[] | undefined
    for (;;) {
      let spaced = false
      while (isSpace(src.charCodeAt(this.i))) {
        this.i++
        spaced = true
      }
      const c = src.charCodeAt(this.i)
      if (c === 0x3e) {
        this.i++
        break
      }
      if (c === 0x2f) {
        if (src.charCodeAt(this.i + 1) !== 0x3e) this.fail()
        this.i += 2
        break
      }
      if (!spaced) this.fail()
      const name = this.qname()
      while (isSpace(src.charCodeAt(this.i))) this.i++
      if (src.charCodeAt(this.i) !== 0x3d) this.fail()
      this.i++
      while (isSpace(src.charCodeAt(this.i))) this.i++
      const quote = src.charCodeAt(this.i)
      if (quote !== 0x22 && quote !== 0x27) this.fail()
      const close = this.attributeValue(this.i + 1, quote)
      const raw = src.slice(this.i + 1, close)
      this.i = close + 1
      if (attrs.length >= MAX_ATTRIBUTES) this.fail()
      for (const a of attrs) if (a.name === name) this.fail()
      if (attrs === NO_ATTRIBUTES) attrs = []
      attrs.push({ name, raw })
      if (name === 'xmlns' || name.startsWith('xmlns:')) {
        const prefix = name === 'xmlns' ? '' : name.slice(6)
        if (prefix === 'xml' || prefix === 'xmlns' || raw.includes('&')) this.fail()
        if (!(prefix === '' && raw === '') && !NAMESPACE_URI.test(raw)) this.fail()
        ;(prefixes ??= []).push(prefix)
        ;(uris ??= []).push(raw)
      } else {
        plain++
      }
    }
    const scope = prefixes === undefined ? parent?.scope : { prefixes, uris: uris!, parent: parent?.scope }
    const ns = this.namespace(qname, scope, true)
    if (plain > 0) this.checkAttributes(attrs, scope)
    return new ScannedElement(src, start, qname, ns, attrs, plain, scope, this.i)
  }

  /** The namespace of a name; an unbound or reserved prefix is outside the subset. */
  private namespace (qname: string, scope: Scope | undefined, element: boolean): string {
    const colon = qname.indexOf(':')
    if (colon === -1) return element ? lookupPrefix(scope, '') ?? '' : ''
    const prefix = qname.slice(0, colon)
    if (prefix === 'xml' || prefix === 'xmlns') this.fail()
    const ns = lookupPrefix(scope, prefix)
    if (ns === undefined || ns === '') this.fail()
    return ns
  }

  /** Attributes (declarations aside) have distinct expanded names. */
  private checkAttributes (attrs: RawAttribute[], scope: Scope | undefined): void {
    const seen: string[] = []
    for (const a of attrs) {
      if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) continue
      const colon = a.name.indexOf(':')
      const key = `{${this.namespace(a.name, scope, false)}}${colon === -1 ? a.name : a.name.slice(colon + 1)}`
      if (seen.includes(key)) this.fail()
      seen.push(key)
    }
  }
}
