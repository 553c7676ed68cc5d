/**
 * Simple types as JavaScript checks, for the built-ins and facets whose meaning can be stated
 * exactly: `string` with length, enumeration and pattern facets; `boolean`; `decimal` and the
 * integer types with range, digit and pattern facets; `date` and `dateTime` with patterns. A check
 * answers true only when the value is surely valid. Lexical forms with any room for a difference in
 * reading (whitespace to collapse, a leading `+` or zeros, a time zone on a date, more than 18
 * digits) answer false, and the caller asks libxml2; so do all types this module does not compile
 * (`undefined`).
 */
import { XS, namespaceOf, localOf, type Facet, type QName, type SimpleTypeDef, type TypeDef, type XsdModel } from '../xsd-model.ts'
import { translatePattern } from './pattern.ts'

export type ValueCheck = (value: string) => boolean

type Family = 'string' | 'boolean' | 'decimal' | 'integer' | 'date' | 'dateTime'

/** Integer built-ins and their inclusive ranges (undefined: unbounded on that side). */
const INTEGERS: Record<string, [string | undefined, string | undefined]> = {
  integer: [undefined, undefined],
  long: ['-9223372036854775808', '9223372036854775807'],
  int: ['-2147483648', '2147483647'],
  short: ['-32768', '32767'],
  byte: ['-128', '127'],
  nonNegativeInteger: ['0', undefined],
  positiveInteger: ['1', undefined],
  nonPositiveInteger: [undefined, '0'],
  negativeInteger: [undefined, '-1'],
  unsignedLong: ['0', '18446744073709551615'],
  unsignedInt: ['0', '4294967295'],
  unsignedShort: ['0', '65535'],
  unsignedByte: ['0', '255'],
}

const FAMILY: Record<string, Family> = { string: 'string', boolean: 'boolean', decimal: 'decimal', date: 'date', dateTime: 'dateTime' }
for (const name of Object.keys(INTEGERS)) FAMILY[name] = 'integer'

/** The restriction steps from the type down to its built-in, or undefined if the chain leaves the subset. */
function steps (model: XsdModel, type: TypeDef | QName): { builtin: string; facets: Facet[][] } | undefined {
  const facets: Facet[][] = []
  let cur: TypeDef | QName | undefined = type
  for (let n = 0; n < 32 && cur !== undefined; n++) {
    if (typeof cur === 'string') {
      if (namespaceOf(cur) === XS) return Object.hasOwn(FAMILY, localOf(cur)) ? { builtin: localOf(cur), facets } : undefined
      const def: TypeDef | undefined = model.types.get(cur)
      if (def === undefined) return undefined
      cur = def
      continue
    }
    if (cur.kind !== 'simple' || cur.unsupported !== undefined) return undefined
    const simple: SimpleTypeDef = cur
    if (simple.facets !== undefined && simple.facets.length > 0) facets.push(simple.facets)
    cur = simple.inlineBase ?? simple.base
  }
  return undefined
}

/** The check of a simple type, or undefined when the type is outside the subset. */
export function compileSimple (model: XsdModel, type: TypeDef | QName): ValueCheck | undefined {
  const chain = steps(model, type)
  if (chain === undefined) return undefined
  const family = FAMILY[chain.builtin]
  const checks: ValueCheck[] = []
  const base = lexical(family, chain.builtin)
  if (base === undefined) return undefined
  checks.push(base)
  for (const step of chain.facets) {
    const patterns: RegExp[] = []
    const enumeration: string[] = []
    for (const f of step) {
      if (f.name === 'pattern') {
        const re = translatePattern(f.value)
        if (re === undefined) return undefined
        patterns.push(re)
      } else if (f.name === 'enumeration') {
        if (family !== 'string') return undefined // compared in the value space, not as text
        enumeration.push(f.value)
      } else {
        const check = facetCheck(family, f)
        if (check === undefined) return undefined
        checks.push(check)
      }
    }
    // Patterns of one step are alternatives; each step's facets all apply.
    if (patterns.length === 1) checks.push(v => patterns[0].test(v))
    else if (patterns.length > 1) checks.push(v => patterns.some(p => p.test(v)))
    if (enumeration.length > 0) {
      const allowed = new Set(enumeration)
      checks.push(v => allowed.has(v))
    }
  }
  if (checks.length === 1) return checks[0]
  return v => {
    for (const check of checks) if (!check(v)) return false
    return true
  }
}

const BOOLEAN = new Set(['true', 'false', '1', '0'])
const DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/
const INTEGER = /^-?(0|[1-9][0-9]*)$/
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/
const DATE_TIME = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])?$/

/** At most this many digits: well inside what libxml2 keeps exactly. */
const MAX_DIGITS = 18

/** The built-in's own lexical check. */
function lexical (family: Family, builtin: string): ValueCheck | undefined {
  switch (family) {
    case 'string': return builtin === 'string' ? () => true : undefined
    case 'boolean': return v => BOOLEAN.has(v)
    case 'decimal': return v => DECIMAL.test(v) && digits(v) <= MAX_DIGITS && v !== '-0' && !v.startsWith('-0.')
    case 'integer': {
      const [min, max] = INTEGERS[builtin]
      return v => INTEGER.test(v) && v.length <= MAX_DIGITS && v !== '-0' &&
        (min === undefined || compareDecimal(v, min) >= 0) && (max === undefined || compareDecimal(v, max) <= 0)
    }
    case 'date': return v => {
      const m = DATE.exec(v)
      return m !== null && validDay(Number(m[1]), Number(m[2]), Number(m[3]))
    }
    case 'dateTime': return v => {
      const m = DATE_TIME.exec(v)
      return m !== null && validDay(Number(m[1]), Number(m[2]), Number(m[3]))
    }
  }
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function validDay (year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  return day <= (month === 2 && leap ? 29 : DAYS[month - 1])
}

const digits = (v: string): number => v.length - (v.startsWith('-') ? 1 : 0) - (v.includes('.') ? 1 : 0)

/** Characters as XSD counts them (code points). */
function length (v: string): number {
  let n = v.length
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) n--
  }
  return n
}

/** One facet other than pattern and enumeration. */
function facetCheck (family: Family, f: Facet): ValueCheck | undefined {
  switch (f.name) {
    case 'length':
    case 'minLength':
    case 'maxLength': {
      if (family !== 'string' || !/^[0-9]{1,9}$/.test(f.value)) return undefined
      const n = Number(f.value)
      return f.name === 'length' ? v => length(v) === n : f.name === 'minLength' ? v => length(v) >= n : v => length(v) <= n
    }
    case 'minInclusive':
    case 'maxInclusive':
    case 'minExclusive':
    case 'maxExclusive': {
      if ((family !== 'decimal' && family !== 'integer') || !DECIMAL.test(f.value)) return undefined
      const bound = f.value
      if (f.name === 'minInclusive') return v => compareDecimal(v, bound) >= 0
      if (f.name === 'maxInclusive') return v => compareDecimal(v, bound) <= 0
      if (f.name === 'minExclusive') return v => compareDecimal(v, bound) > 0
      return v => compareDecimal(v, bound) < 0
    }
    case 'fractionDigits':
    case 'totalDigits': {
      if ((family !== 'decimal' && family !== 'integer') || !/^[0-9]{1,3}$/.test(f.value)) return undefined
      const n = Number(f.value)
      // Counted as written, which is never fewer than in the value (trailing or leading zeros).
      if (f.name === 'fractionDigits') return v => { const dot = v.indexOf('.'); return dot === -1 || v.length - dot - 1 <= n }
      return v => digits(v) <= n
    }
    default:
      return undefined // whiteSpace and anything else: not compiled
  }
}

/** Compares two decimals written as DECIMAL allows (no leading zeros, no '+'). */
export function compareDecimal (a: string, b: string): number {
  const na = a.startsWith('-')
  const nb = b.startsWith('-')
  if (na !== nb) return isZero(a) && isZero(b) ? 0 : na ? -1 : 1
  const m = magnitude(na ? a.slice(1) : a, na ? b.slice(1) : b)
  return na ? -m : m
}

const isZero = (v: string): boolean => /^-?0(\.0+)?$/.test(v)

function magnitude (a: string, b: string): number {
  const [ai, af = ''] = a.split('.')
  const [bi, bf = ''] = b.split('.')
  if (ai.length !== bi.length) return ai.length < bi.length ? -1 : 1
  if (ai !== bi) return ai < bi ? -1 : 1
  const fa = af.replace(/0+$/, '')
  const fb = bf.replace(/0+$/, '')
  const n = Math.max(fa.length, fb.length)
  const pa = fa.padEnd(n, '0')
  const pb = fb.padEnd(n, '0')
  return pa === pb ? 0 : pa < pb ? -1 : 1
}
