/**
 * Finds the SOAP Header's content in the request bytes, so the header echo can be copied as text
 * instead of canonicalised element by element through libxml2 (the costliest step of a SOAP
 * request after parsing). Runs only on bytes libxml2 has already parsed without error, so it can
 * rely on well-formedness; anything it does not recognise makes it give up (`undefined`) and the
 * caller falls back to canonicalisation. It never decides whether a message is acceptable.
 */

import { APOS, BANG, GT, LT, QUESTION, QUOT, SLASH, isSpace } from './xml-text.ts'

const COMMENT_OPEN = Buffer.from('<!--')
const COMMENT_CLOSE = Buffer.from('-->')
const CDATA_OPEN = Buffer.from('<![CDATA[')
const CDATA_CLOSE = Buffer.from(']]>')
const DECL_CLOSE = Buffer.from('?>')

export interface ByteRange { start: number; end: number }


const startsWith = (bytes: Buffer, at: number, what: Buffer): boolean =>
  bytes.length >= at + what.length && bytes.compare(what, 0, what.length, at, at + what.length) === 0

/** The byte after a start or end tag beginning at `at` ('>' may appear inside quoted attribute values). */
function tagEnd (bytes: Buffer, at: number): number {
  let quote = 0
  for (let i = at + 1; i < bytes.length; i++) {
    const b = bytes[i]
    if (quote !== 0) { if (b === quote) quote = 0 } else if (b === QUOT || b === APOS) quote = b
    else if (b === GT) return i + 1
  }
  return -1
}

/** The qualified name of the tag starting at `at` (after '<' or '</'). */
function tagName (bytes: Buffer, at: number): string {
  let i = at
  while (i < bytes.length && !isSpace(bytes[i]) && bytes[i] !== GT && bytes[i] !== SLASH) i++
  return bytes.toString('latin1', at, i)
}

/** Steps over whitespace and comments; -1 on anything else that is not a tag start. */
function skipMisc (bytes: Buffer, at: number): number {
  let i = at
  for (;;) {
    while (i < bytes.length && isSpace(bytes[i])) i++
    if (!startsWith(bytes, i, COMMENT_OPEN)) return bytes[i] === LT && bytes[i + 1] !== QUESTION && bytes[i + 1] !== BANG ? i : -1
    const close = bytes.indexOf(COMMENT_CLOSE, i + 4)
    if (close === -1) return -1
    i = close + 3
  }
}

/** Only UTF-8 bytes can be copied into the UTF-8 response as they are. */
function utf8Start (bytes: Buffer): number {
  let i = 0
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3
  if (startsWith(bytes, i, Buffer.from('<?xml'))) {
    const close = bytes.indexOf(DECL_CLOSE, i)
    if (close === -1) return -1
    const encoding = /encoding\s*=\s*["']([^"']*)["']/.exec(bytes.toString('latin1', i, close))?.[1]
    if (encoding !== undefined && encoding.toLowerCase() !== 'utf-8') return -1
    i = close + 2
  } else if (bytes[i] !== LT && !isSpace(bytes[i])) {
    return -1 // UTF-16 and other encodings without a declaration
  }
  return i
}

/**
 * Where the Header's content lies when the Header is the Envelope's first child and holds only
 * elements, comments and whitespace; `undefined` otherwise (caller canonicalises instead).
 */
export function headerContentRange (bytes: Buffer): ByteRange | undefined {
  let i = utf8Start(bytes)
  if (i === -1) return undefined
  i = skipMisc(bytes, i)
  if (i === -1) return undefined
  i = tagEnd(bytes, i) // the Envelope start tag
  if (i === -1 || bytes[i - 2] === SLASH) return undefined
  i = skipMisc(bytes, i)
  if (i === -1) return undefined
  const name = tagName(bytes, i + 1)
  if (name !== 'Header' && !name.endsWith(':Header')) return undefined
  i = tagEnd(bytes, i)
  if (i === -1 || bytes[i - 2] === SLASH) return undefined
  const start = i
  let depth = 1
  while (i < bytes.length) {
    const lt = bytes.indexOf(LT, i)
    if (lt === -1) return undefined
    // Text directly inside the Header must be whitespace (stray text is not echoed as it was).
    if (depth === 1) for (let k = i; k < lt; k++) if (!isSpace(bytes[k])) return undefined
    if (startsWith(bytes, lt, COMMENT_OPEN)) {
      const close = bytes.indexOf(COMMENT_CLOSE, lt + 4)
      if (close === -1) return undefined
      i = close + 3
      continue
    }
    if (startsWith(bytes, lt, CDATA_OPEN)) {
      if (depth === 1) return undefined
      const close = bytes.indexOf(CDATA_CLOSE, lt + 9)
      if (close === -1) return undefined
      i = close + 3
      continue
    }
    if (bytes[lt + 1] === QUESTION || bytes[lt + 1] === BANG) return undefined
    const end = tagEnd(bytes, lt)
    if (end === -1) return undefined
    if (bytes[lt + 1] === SLASH) {
      depth--
      if (depth === 0) return tagName(bytes, lt + 2) === name ? { start, end: lt } : undefined
    } else if (bytes[end - 2] !== SLASH) {
      depth++
    }
    i = end
  }
  return undefined
}
