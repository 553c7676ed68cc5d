/**
 * Reading pieces of an XML document straight from its text, for documents libxml2 has already
 * parsed without error. Well-formedness is taken for granted (every '<' outside comments, CDATA
 * and attribute values starts markup; tags are closed; references are legal), so these helpers can
 * stay small. They decide nothing about acceptability: a caller meeting something they do not
 * cover (`NotSure`, `-1`, `undefined`) falls back to libxml2's tree.
 *
 * They work on one JS string decoded from the UTF-8 bytes at once: string scanning and slicing
 * stay inside the JIT, where a call into Buffer per tag or name costs more than the scan itself.
 */

/** Character codes of the markup the readers look for (the same numbers as the bytes in UTF-8). */
export const LT = 0x3c
export const GT = 0x3e
export const SLASH = 0x2f
export const QUOT = 0x22
export const APOS = 0x27
export const EQUALS = 0x3d
export const BANG = 0x21
export const QUESTION = 0x3f
export const BRACKET = 0x5b

/** Thrown by readers meeting something they do not decode exactly like libxml2. */
export class NotSure extends Error {
  constructor (what: string) {
    super(`text reader gives up: ${what}`)
    this.name = 'NotSure'
  }
}

export const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d

/** The index after a start or end tag beginning at `at` ('>' may appear inside quoted attribute values). */
export function tagEnd (src: string, at: number): number {
  let quote = 0
  for (let i = at + 1; i < src.length; i++) {
    const c = src.charCodeAt(i)
    if (quote !== 0) { if (c === quote) quote = 0 } else if (c === QUOT || c === APOS) quote = c
    else if (c === GT) return i + 1
  }
  return -1
}

/** Steps over a comment or CDATA section at `lt` (a '<!'); -1 for anything else (a DTD). */
export function skipSpecial (src: string, lt: number): number {
  if (src.startsWith('<!--', lt)) {
    const close = src.indexOf('-->', lt + 4)
    return close === -1 ? -1 : close + 3
  }
  if (src.startsWith('<![CDATA[', lt)) {
    const close = src.indexOf(']]>', lt + 9)
    return close === -1 ? -1 : close + 3
  }
  return -1
}

/** Steps over whitespace and comments; -1 on anything else that is not a start or end tag. */
export function skipMisc (src: string, at: number): number {
  let i = at
  for (;;) {
    while (i < src.length && isSpace(src.charCodeAt(i))) i++
    if (src.charCodeAt(i) !== LT) return -1
    const next = src.charCodeAt(i + 1)
    if (next === 0x3f) return -1 // '<?'
    if (next !== 0x21) return i // not '<!'
    if (!src.startsWith('<!--', i)) return -1
    const close = src.indexOf('-->', i + 4)
    if (close === -1) return -1
    i = close + 3
  }
}

/** One attribute as written: its qualified name and its value between the quotes, unexpanded. */
export interface RawAttribute {
  name: string
  raw: string
}

export interface StartTag {
  /** Qualified name. */
  name: string
  attrs: RawAttribute[]
  /** The index after '>'. */
  end: number
  /** An empty-element tag (`<x/>`). */
  empty: boolean
}

const NO_ATTRIBUTES: RawAttribute[] = []

/** Reads the start tag at `at` (a '<' followed by a name); undefined if it is not laid out as expected. */
export function readStartTag (src: string, at: number): StartTag | undefined {
  // Within a well-formed tag, a character at or below U+0020 can only be XML whitespace.
  const n = src.length
  let i = at + 1
  let c = src.charCodeAt(i)
  while (c > 0x20 && c !== GT && c !== SLASH && i < n) c = src.charCodeAt(++i)
  const name = src.slice(at + 1, i)
  let attrs = NO_ATTRIBUTES
  for (;;) {
    while (c <= 0x20 && i < n) c = src.charCodeAt(++i)
    if (c === GT) return { name, attrs, end: i + 1, empty: false }
    if (c === SLASH) return src.charCodeAt(i + 1) === GT ? { name, attrs, end: i + 2, empty: true } : undefined
    const nameStart = i
    while (c > 0x20 && c !== EQUALS && i < n) c = src.charCodeAt(++i)
    const attrName = src.slice(nameStart, i)
    while (c <= 0x20 && i < n) c = src.charCodeAt(++i)
    if (c !== EQUALS) return undefined
    c = src.charCodeAt(++i)
    while (c <= 0x20 && i < n) c = src.charCodeAt(++i)
    if (c !== QUOT && c !== APOS) return undefined
    const close = src.indexOf(c === QUOT ? '"' : "'", i + 1)
    if (close === -1) return undefined
    if (attrs === NO_ATTRIBUTES) attrs = []
    attrs.push({ name: attrName, raw: src.slice(i + 1, close) })
    i = close + 1
    c = src.charCodeAt(i)
  }
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' }

/** Replaces character references and the five predefined entities; anything else is not ours to expand. */
function expandReferences (raw: string): string {
  let out = ''
  let from = 0
  for (let amp = raw.indexOf('&'); amp !== -1; amp = raw.indexOf('&', from)) {
    const semi = raw.indexOf(';', amp)
    if (semi === -1) throw new NotSure('unterminated reference')
    const ref = raw.slice(amp + 1, semi)
    let value: string | undefined
    if (ref.startsWith('#')) {
      const code = /^#x[0-9a-fA-F]+$/.test(ref) ? parseInt(ref.slice(2), 16) : /^#[0-9]+$/.test(ref) ? parseInt(ref.slice(1), 10) : -1
      // libxml2 has already refused characters XML does not allow; the range check only keeps
      // fromCodePoint from throwing should that ever not hold.
      if (code >= 0 && code <= 0x10ffff) value = String.fromCodePoint(code)
    } else if (Object.hasOwn(PREDEFINED, ref)) {
      value = PREDEFINED[ref]
    }
    if (value === undefined) throw new NotSure(`reference &${ref};`)
    out += raw.slice(from, amp) + value
    from = semi + 1
  }
  return from === 0 ? raw : out + raw.slice(from)
}

/** Character data as the parser reports it: line ends normalised to LF (XML §2.11), references expanded. */
function characterData (raw: string, references: boolean): string {
  const text = raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw
  return references && text.includes('&') ? expandReferences(text) : text
}

/**
 * What libxml2 returns as an element's `content` for the content between `start` and `end`: the
 * text of every descendant text and CDATA node, in order; comments and tags contribute nothing.
 * With `own`, only the element's own text and CDATA children count, as the schema model's
 * `textOf` reads them (not the text inside child elements).
 */
export function elementText (src: string, start: number, end: number, own = false): string {
  let out = ''
  let depth = 0 // open child elements
  let i = start
  while (i < end) {
    let lt = src.indexOf('<', i)
    if (lt === -1 || lt > end) lt = end
    if (lt > i && (depth === 0 || !own)) out += characterData(src.slice(i, lt), true)
    if (lt === end) break
    const next = src.charCodeAt(lt + 1)
    if (next === 0x21) { // '<!'
      const close = skipSpecial(src, lt)
      if (close === -1 || close > end) throw new NotSure('markup declaration')
      if (src.charCodeAt(lt + 2) === 0x5b && (depth === 0 || !own)) out += characterData(src.slice(lt + 9, close - 3), false) // CDATA
      i = close
    } else if (next === 0x3f) {
      throw new NotSure('processing instruction')
    } else {
      i = tagEnd(src, lt)
      if (i === -1 || i > end) throw new NotSure('tag')
      if (next === SLASH) depth--
      else if (src.charCodeAt(i - 2) !== SLASH) depth++
    }
  }
  return out
}

/**
 * An attribute value as the parser reports it (XML §3.3.3, every attribute being CDATA without a
 * DTD): each literal whitespace character becomes a space (CR LF counting as one), references are
 * expanded afterwards, so `&#10;` stays a line feed.
 */
export function attributeValue (raw: string): string {
  const spaced = /[\t\n\r]/.test(raw) ? raw.replace(/\r\n|[\t\n\r]/g, ' ') : raw
  return spaced.includes('&') ? expandReferences(spaced) : spaced
}
