/**
 * Reading an XML document from its text, for documents libxml2 has already parsed without error:
 * well-formedness is taken for granted (tags are closed and nested, names and references are
 * legal, every '<' outside comments, CDATA and attribute values starts markup), so the readers stay
 * small and fast. They decide nothing about acceptability. Whatever they do not read exactly as
 * libxml2 does — another encoding, XML 1.1, processing instructions, entities other than the five
 * predefined ones, reserved prefixes — throws `TextUnsure`, and the caller reads libxml2's tree.
 *
 * Text is one JS string decoded from the UTF-8 bytes at once; indices are string indices.
 */

/** Thrown by a reader meeting something it does not decode exactly like libxml2. */
export class TextUnsure extends Error {
  constructor (what: string) {
    super(`the text reader does not cover ${what}`)
    this.name = 'TextUnsure'
  }
}

const LT = 0x3c
const GT = 0x3e
const SLASH = 0x2f
const QUOT = 0x22
const APOS = 0x27
const EQUALS = 0x3d
const BANG = 0x21
const QUESTION = 0x3f

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d

/**
 * Where the document's content starts (after a UTF-8 BOM and the XML declaration), or -1 unless
 * the bytes are UTF-8: an encoding declared as anything but UTF-8, a UTF-16 BOM, or no declaration
 * and no '<' or whitespace up front. Only UTF-8 text can be read, and copied into a UTF-8 answer,
 * as it is.
 */
export function utf8ContentStart (bytes: Buffer): number {
  // Every encoding libxml2 recognises without a BOM or declaration (UTF-16, UCS-4) puts a NUL
  // byte among the first four; NUL is never a legal character, so UTF-8 has none there.
  for (let k = 0; k < 4 && k < bytes.length; k++) if (bytes[k] === 0) return -1
  let i = 0
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3
  if (bytes[i] === LT && bytes[i + 1] === QUESTION && bytes[i + 2] === 0x78 && bytes[i + 3] === 0x6d && bytes[i + 4] === 0x6c && isSpace(bytes[i + 5])) {
    const close = bytes.indexOf('?>', i)
    if (close === -1) return -1
    const encoding = /encoding\s*=\s*["']([^"']*)["']/.exec(bytes.toString('latin1', i, close))?.[1]
    if (encoding !== undefined && encoding.toLowerCase() !== 'utf-8') return -1
    return close + 2
  }
  return bytes[i] === LT || isSpace(bytes[i]) ? i : -1
}

/** The document as a string, from after the XML declaration on; undefined unless it is UTF-8 XML 1.0. */
export function utf8Document (bytes: Buffer): string | undefined {
  const start = utf8ContentStart(bytes)
  if (start === -1) return undefined
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
  if (start > bom && !/^<\?xml\s+version\s*=\s*(["'])1\.0\1/.test(bytes.toString('latin1', bom, start))) return undefined
  return bytes.toString('utf8', start)
}

/** One attribute as written: qualified name, value between the quotes (references unexpanded). */
export interface RawAttribute {
  readonly name: string
  readonly raw: string
}

export interface StartTag {
  /** Qualified name. */
  readonly name: string
  readonly attrs: readonly RawAttribute[]
  /** The index after the '>'. */
  readonly end: number
  /** `<x/>` */
  readonly empty: boolean
}

const NO_ATTRIBUTES: RawAttribute[] = []

/** The start tag whose '<' is at `at`. */
export function readStartTag (src: string, at: number): StartTag {
  // In a well-formed tag a character at or below U+0020 can only be XML whitespace.
  const n = src.length
  let i = at + 1
  let c = src.charCodeAt(i)
  while (c > 0x20 && c !== GT && c !== SLASH && i < n) c = src.charCodeAt(++i)
  const name = src.slice(at + 1, i)
  let attrs = NO_ATTRIBUTES
  for (;;) {
    while (c <= 0x20 && i < n) c = src.charCodeAt(++i)
    if (c === GT) return { name, attrs, end: i + 1, empty: false }
    if (c === SLASH) return { name, attrs, end: i + 2, empty: true }
    const from = i
    while (c > 0x20 && c !== EQUALS && i < n) c = src.charCodeAt(++i)
    const attrName = src.slice(from, i)
    while (c !== QUOT && c !== APOS && i < n) c = src.charCodeAt(++i)
    const close = src.indexOf(c === QUOT ? '"' : "'", i + 1)
    if (close === -1 || i >= n) throw new TextUnsure('a start tag')
    if (attrs === NO_ATTRIBUTES) attrs = []
    attrs.push({ name: attrName, raw: src.slice(i + 1, close) })
    i = close + 1
    c = src.charCodeAt(i)
  }
}

/** The index after the start or end tag whose '<' is at `at` ('>' may stand in quoted values). */
export function tagEnd (src: string, at: number): number {
  let quote = 0
  for (let i = at + 1; i < src.length; i++) {
    const c = src.charCodeAt(i)
    if (quote !== 0) { if (c === quote) quote = 0 } else if (c === QUOT || c === APOS) quote = c
    else if (c === GT) return i + 1
  }
  throw new TextUnsure('an unterminated tag')
}

/** What starts at a '<': an element, an end tag, a comment or CDATA; anything else is not covered. */
export type Markup = 'element' | 'end' | 'comment' | 'cdata'

export function markupAt (src: string, lt: number): Markup {
  const next = src.charCodeAt(lt + 1)
  if (next === SLASH) return 'end'
  if (next === BANG) {
    if (src.startsWith('<!--', lt)) return 'comment'
    if (src.startsWith('<![CDATA[', lt)) return 'cdata'
    throw new TextUnsure('a markup declaration')
  }
  if (next === QUESTION) throw new TextUnsure('a processing instruction')
  return 'element'
}

/** The index after the comment or CDATA section at `lt`. */
export function skipSpecial (src: string, lt: number, kind: 'comment' | 'cdata'): number {
  const close = kind === 'comment' ? src.indexOf('-->', lt + 4) : src.indexOf(']]>', lt + 9)
  if (close === -1) throw new TextUnsure(`an unterminated ${kind}`)
  return close + 3
}

/** The index after the element whose start tag is `tag` (its end tag included). */
export function skipElement (src: string, tag: StartTag): number {
  if (tag.empty) return tag.end
  let depth = 1
  let i = tag.end
  for (;;) {
    const lt = src.indexOf('<', i)
    if (lt === -1) throw new TextUnsure('an unclosed element')
    const kind = markupAt(src, lt)
    if (kind === 'comment' || kind === 'cdata') { i = skipSpecial(src, lt, kind); continue }
    if (kind === 'end') {
      // An end tag holds a name and whitespace only.
      i = src.indexOf('>', lt + 2) + 1
      if (--depth === 0) return i
    } else {
      i = tagEnd(src, lt)
      if (src.charCodeAt(i - 2) !== SLASH) depth++
    }
  }
}

/**
 * The index after the Header whose start tag is `tag`: its end tag is the first `</name>` unless a
 * comment, a CDATA section or an element of the same name comes first (then every tag is walked).
 */
function skipHeader (src: string, tag: StartTag): number {
  if (tag.empty) return tag.end
  const close = src.indexOf(`</${tag.name}`, tag.end)
  const after = src.charCodeAt(close + 2 + tag.name.length)
  if (close === -1 || !(after === GT || isSpace(after))) return skipElement(src, tag)
  for (let lt = src.indexOf('<', tag.end); lt < close; lt = src.indexOf('<', lt + 1)) {
    if (src.charCodeAt(lt + 1) === BANG || src.startsWith(tag.name, lt + 1)) return skipElement(src, tag)
  }
  return src.indexOf('>', close) + 1
}

// ---- namespaces ---------------------------------------------------------------------------------

/** In-scope namespace declarations: one frame per element that declares any, innermost first. */
export interface Scope {
  readonly prefixes: readonly string[]
  readonly uris: readonly string[]
  readonly parent: Scope | undefined
}

export function lookupPrefix (scope: Scope | undefined, prefix: string): string | undefined {
  for (let s = scope; s !== undefined; s = s.parent) {
    const k = s.prefixes.indexOf(prefix)
    if (k !== -1) return s.uris[k]
  }
  return undefined
}

export const isNamespaceDeclaration = (name: string): boolean => name.startsWith('xmlns') && (name.length === 5 || name.charCodeAt(5) === 0x3a)

/** The scope inside an element with these attributes. */
export function declare (scope: Scope | undefined, attrs: readonly RawAttribute[]): Scope | undefined {
  let prefixes: string[] | undefined
  let uris: string[] | undefined
  for (const a of attrs) {
    if (!isNamespaceDeclaration(a.name)) continue
    const prefix = a.name.length === 5 ? '' : a.name.slice(6)
    if (prefix === 'xml' || prefix === 'xmlns') throw new TextUnsure('a declaration of a reserved prefix')
    ;(prefixes ??= []).push(prefix)
    ;(uris ??= []).push(attributeValue(a.raw))
  }
  return prefixes === undefined ? scope : { prefixes, uris: uris!, parent: scope }
}

/** Namespace and local name of a qualified name; attributes without a prefix have no namespace. */
export function resolveName (scope: Scope | undefined, qname: string, attribute: boolean): { ns: string; local: string } {
  const colon = qname.indexOf(':')
  if (colon === -1) return { ns: attribute ? '' : lookupPrefix(scope, '') ?? '', local: qname }
  const prefix = qname.slice(0, colon)
  const ns = prefix === 'xml' || prefix === 'xmlns' ? undefined : lookupPrefix(scope, prefix)
  // An undeclared prefix, an empty namespace name (`xmlns:p=""`) or a second colon is not ours to judge.
  if (ns === undefined || ns === '' || colon === 0 || qname.indexOf(':', colon + 1) !== -1) throw new TextUnsure(`the name ${qname}`)
  return { ns, local: qname.slice(colon + 1) }
}

// ---- character data -----------------------------------------------------------------------------

const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' }

/** Expands character references and the five predefined entities. */
function expand (raw: string): string {
  let out = ''
  let from = 0
  for (let amp = raw.indexOf('&'); amp !== -1; amp = raw.indexOf('&', from)) {
    const semi = raw.indexOf(';', amp)
    if (semi === -1) throw new TextUnsure('an unterminated reference')
    const ref = raw.slice(amp + 1, semi)
    let value: string | undefined
    if (ref.charCodeAt(0) === 0x23) {
      const code = /^#x[0-9a-fA-F]{1,6}$/.test(ref) ? parseInt(ref.slice(2), 16) : /^#[0-9]{1,7}$/.test(ref) ? parseInt(ref.slice(1), 10) : -1
      if (code > 0 && code <= 0x10ffff) value = String.fromCodePoint(code)
    } else if (Object.hasOwn(PREDEFINED, ref)) {
      value = PREDEFINED[ref]
    }
    if (value === undefined) throw new TextUnsure(`the reference &${ref};`)
    out += raw.slice(from, amp) + value
    from = semi + 1
  }
  return from === 0 ? raw : out + raw.slice(from)
}

/** Text between tags as the parser reports it: line ends as LF (XML §2.11), references expanded. */
export function textValue (raw: string): string {
  const text = raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw
  return text.includes('&') ? expand(text) : text
}

/** A CDATA section's content (`raw` without `<![CDATA[` and `]]>`): line ends as LF, nothing expanded. */
export function cdataValue (raw: string): string {
  return raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw
}

/**
 * An attribute value as the parser reports it (XML §3.3.3; without a DTD every attribute is CDATA):
 * every literal whitespace character becomes a space, CR LF as one; references are expanded
 * afterwards, so `&#10;` stays a line feed.
 */
export function attributeValue (raw: string): string {
  const spaced = /[\t\n\r]/.test(raw) ? raw.replace(/\r\n|[\t\n\r]/g, ' ') : raw
  return spaced.includes('&') ? expand(spaced) : spaced
}

/**
 * The character data between `start` and `end` (an element's content): with `own`, only the text
 * and CDATA directly inside, as the schema model's `textOf` reads it; otherwise every descendant's
 * too, as libxml2's `content`. Comments count for nothing.
 */
export function contentText (src: string, start: number, end: number, own: boolean): string {
  let out = ''
  let depth = 0
  let i = start
  while (i < end) {
    let lt = src.indexOf('<', i)
    if (lt === -1 || lt > end) lt = end
    if (lt > i && (depth === 0 || !own)) out += textValue(src.slice(i, lt))
    if (lt === end) break
    const kind = markupAt(src, lt)
    if (kind === 'comment' || kind === 'cdata') {
      i = skipSpecial(src, lt, kind)
      if (kind === 'cdata' && (depth === 0 || !own)) out += cdataValue(src.slice(lt + 9, i - 3))
      continue
    }
    i = tagEnd(src, lt)
    if (kind === 'end') depth--
    else if (src.charCodeAt(i - 2) !== SLASH) depth++
  }
  return out
}

// ---- the SOAP envelope --------------------------------------------------------------------------

/** Steps over whitespace and comments from `at`; the index of the next '<' of anything else. */
function skipMisc (src: string, at: number): number {
  let i = at
  for (;;) {
    while (i < src.length && isSpace(src.charCodeAt(i))) i++
    if (src.charCodeAt(i) !== LT) throw new TextUnsure('text outside the elements of an envelope')
    if (!src.startsWith('<!--', i)) return i
    i = skipSpecial(src, i, 'comment')
  }
}

export interface BodyContent {
  tag: StartTag
  /** Declarations in scope inside the element, its own included. */
  scope: Scope | undefined
  ns: string
  local: string
}

/**
 * The first element inside the Body of a SOAP envelope `{envelopeNs}Envelope`, reached through
 * whitespace, comments and at most one Header before the Body. The caller has checked the envelope
 * on libxml2's tree; anything laid out otherwise is not covered.
 */
export function soapBodyContent (src: string, envelopeNs: string): BodyContent {
  const envTag = readStartTag(src, skipMisc(src, 0))
  const envScope = declare(undefined, envTag.attrs)
  const env = resolveName(envScope, envTag.name, false)
  if (env.local !== 'Envelope' || env.ns !== envelopeNs || envTag.empty) throw new TextUnsure('this envelope')
  let at = skipMisc(src, envTag.end)
  let tag = readStartTag(src, at)
  let scope = declare(envScope, tag.attrs)
  let name = resolveName(scope, tag.name, false)
  if (name.local === 'Header' && name.ns === envelopeNs) {
    at = skipMisc(src, skipHeader(src, tag))
    tag = readStartTag(src, at)
    scope = declare(envScope, tag.attrs)
    name = resolveName(scope, tag.name, false)
  }
  if (name.local !== 'Body' || name.ns !== envelopeNs || tag.empty) throw new TextUnsure('this envelope')
  // Text beside the body's element (whitespace, or anything libxml2 accepted) is stepped over.
  let i = tag.end
  for (;;) {
    const lt = src.indexOf('<', i)
    if (lt === -1) throw new TextUnsure('an empty Body')
    const kind = markupAt(src, lt)
    if (kind === 'end') throw new TextUnsure('an empty Body')
    if (kind === 'element') {
      const content = readStartTag(src, lt)
      const inner = declare(scope, content.attrs)
      const { ns, local } = resolveName(inner, content.name, false)
      return { tag: content, scope: inner, ns, local }
    }
    i = skipSpecial(src, lt, kind)
  }
}
