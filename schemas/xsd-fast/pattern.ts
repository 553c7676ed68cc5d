/**
 * XSD `pattern` facets as JavaScript regular expressions, for the subset whose meaning is certain:
 * literal characters, character classes of single characters and ranges, `.`, `\s`, the
 * single-character escapes, groups, alternation and the quantifiers. `\d` becomes `[0-9]`, which
 * matches fewer strings than XSD's Unicode digits: a translated pattern may refuse what XSD
 * accepts (the caller then asks libxml2), never the other way round. Anything else — `\p{…}`,
 * `\w`, `\i`, `\c`, class subtraction, `^` or `$` (literal in XSD, read differently by some
 * engines) — is not translated (`undefined`).
 */

/** Characters that stand for themselves in XSD but must be escaped in a JavaScript pattern. */
const JS_SYNTAX = new Set(['^', '$', '\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '/', '-'])
/** XSD's single-character escapes (`\n`, `\|`…) and the characters they stand for. */
const SINGLE_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', '|': '|', '.': '.', '-': '-', '^': '^', '?': '?', '*': '*', '+': '+', '{': '{', '}': '}', '(': '(', ')': ')', '[': '[', ']': ']' }

class Untranslatable extends Error {}

/**
 * A single character written for a JavaScript pattern with the `u` flag; `-` is escaped only in a
 * class (the `u` flag refuses `\-` outside one).
 */
function literal (ch: string, inClass = false): string {
  if (ch === '\n') return '\\n'
  if (ch === '\r') return '\\r'
  if (ch === '\t') return '\\t'
  if (ch === '-') return inClass ? '\\-' : '-'
  return JS_SYNTAX.has(ch) ? `\\${ch}` : ch
}

class Translator {
  private readonly chars: string[]
  private i = 0

  constructor (pattern: string) {
    this.chars = Array.from(pattern) // by code point, as XSD reads it
  }

  run (): string {
    const out = this.regExp()
    if (this.i !== this.chars.length) throw new Untranslatable('unbalanced parenthesis')
    return out
  }

  private peek (): string | undefined {
    return this.chars[this.i]
  }

  private regExp (): string {
    let out = this.branch()
    while (this.peek() === '|') {
      this.i++
      out += '|' + this.branch()
    }
    return out
  }

  private branch (): string {
    let out = ''
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek()) out += this.atom() + this.quantifier()
    return out
  }

  private quantifier (): string {
    const c = this.peek()
    if (c === '?' || c === '*' || c === '+') {
      this.i++
      return c
    }
    if (c !== '{') return ''
    let text = ''
    for (this.i++; this.peek() !== '}'; this.i++) {
      if (this.peek() === undefined) throw new Untranslatable('unterminated quantifier')
      text += this.peek()
    }
    this.i++
    const m = /^([0-9]{1,6})(,([0-9]{1,6})?)?$/.exec(text)
    if (m === null || (m[3] !== undefined && Number(m[3]) < Number(m[1]))) throw new Untranslatable(`quantifier {${text}}`)
    return `{${text}}`
  }

  private atom (): string {
    const c = this.chars[this.i++]
    switch (c) {
      case '(': {
        const inner = this.regExp()
        if (this.chars[this.i++] !== ')') throw new Untranslatable('unterminated group')
        return `(?:${inner})`
      }
      case '[': return this.charClass()
      case '.': return '[^\\n\\r]'
      case '\\': {
        const e = this.escape(false, false)
        return isSet(e) ? `[${e}]` : e
      }
      case '?': case '*': case '+': case '{': case '}': case ']': case ')':
        throw new Untranslatable(`'${c}' out of place`)
      case '^': case '$':
        throw new Untranslatable(`'${c}'`)
      default: return literal(c)
    }
  }

  /** After a backslash; in a negated class `\d` would widen the set, so it is refused there. */
  private escape (inClass: boolean, negated: boolean): string {
    const e = this.chars[this.i++]
    if (e !== undefined && Object.hasOwn(SINGLE_ESCAPES, e)) return literal(SINGLE_ESCAPES[e], inClass)
    if (e === 's') return '\\t\\n\\r '
    if (e === 'd' && !negated) return '0-9'
    throw new Untranslatable(`escape \\${e ?? ''}`)
  }

  private charClass (): string {
    let negated = false
    if (this.peek() === '^') {
      negated = true
      this.i++
    }
    let out = ''
    let first = true
    for (;;) {
      const c = this.chars[this.i++]
      if (c === undefined) throw new Untranslatable('unterminated class')
      if (c === ']' && !first) break
      if (c === '[' || c === ']') throw new Untranslatable('bracket in a class')
      if (c === '-' && !first && this.peek() !== ']') throw new Untranslatable('class subtraction or a stray dash')
      let from: string | undefined
      if (c === '\\') {
        const e = this.escape(true, negated)
        if (isSet(e)) { out += e; first = false; continue } // \s or \d: a set, not a range end
        from = e
      } else {
        from = literal(c, true)
      }
      if (this.peek() === '-' && this.chars[this.i + 1] !== ']' && this.chars[this.i + 1] !== undefined) {
        this.i++
        const endChar = this.chars[this.i++]
        if (endChar === '[' || endChar === '\\') throw new Untranslatable('range end')
        if (codeOf(c === '\\' ? unescape(from) : c) > codeOf(endChar)) throw new Untranslatable('empty range')
        out += `${from}-${literal(endChar, true)}`
      } else {
        out += from
      }
      first = false
    }
    if (out === '') throw new Untranslatable('empty class')
    return `[${negated ? '^' : ''}${out}]`
  }
}

/** What `escape` gives for `\s` and `\d` (class contents), as against one escaped character. */
const isSet = (js: string): boolean => js.length > 2

const unescape = (js: string): string => js === '\\n' ? '\n' : js === '\\r' ? '\r' : js === '\\t' ? '\t' : js.startsWith('\\') ? js.slice(1) : js
const codeOf = (ch: string): number => ch.codePointAt(0)!

/** The pattern as an anchored JavaScript regular expression, or undefined when not translated. */
export function translatePattern (pattern: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${new Translator(pattern).run()})$`, 'u')
  } catch (err) {
    if (err instanceof Untranslatable || err instanceof SyntaxError) return undefined
    throw err
  }
}
