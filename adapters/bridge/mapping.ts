/**
 * JSON ↔ XML for the bridge, driven by the XSD model of the service (schemas/xsd-model.ts).
 * The rules, so that nothing depends on guessing from the data:
 *
 *  - A message element is the JSON object of its content; the wrapper's own name is not in the JSON.
 *  - A child element is the property named by its local name. Its namespace comes from the XSD
 *    (elementFormDefault / form / ref), never from the JSON.
 *  - An element that may repeat (maxOccurs > 1, also through a repeated group) is always an array —
 *    `[]` when absent, `[x]` with one item. Other elements are single values.
 *  - Simple types keep their JSON type: xs:boolean (and types restricting it) ↔ true/false, the
 *    numeric built-ins ↔ numbers, everything else (dates included) ↔ the lexical string as is.
 *  - An attribute is the property `@name`; the text of an element with simple content and
 *    attributes is `#text`.
 *  - `xsi:nil="true"` ↔ null (only where the XSD says nillable); an empty element ↔ "" (string
 *    types) or {} (complex types); an absent element ↔ an absent property.
 *  - A JSON property the XSD does not declare is an error, never silently dropped.
 */
import { XmlCData, XmlElement, XmlText } from 'libxml2-wasm'
import { XRoadError } from '../../protocol/errors.ts'
import { XSI, XsdModel, qname, textOf, type AttributeDecl, type ComplexTypeDef, type ElementDecl, type JsonKind, type QName, type TypeDef } from '../../schemas/xsd-model.ts'

export class MappingError extends Error {
  readonly problems: string[]
  constructor (problems: string[]) {
    super(problems.join('; '))
    this.name = 'MappingError'
    this.problems = problems
  }
}

/** A mapping's problems as the node's error `code` ('`what`: problem; problem'); anything else as it is. */
export function mappingFailure (err: unknown, code: 'Client.InvalidBody' | 'Server.ServerProxy.InvalidResponse', what: string): unknown {
  if (!(err instanceof MappingError)) return err
  return new XRoadError(code, `${what}: ${err.problems.join('; ')}`, err.problems)
}

export interface ChildRule { decl: ElementDecl; key: string; repeated: boolean }
export interface AttrRule { decl: AttributeDecl; key: string; kind: JsonKind }
export interface ComplexRules {
  children: ChildRule[]
  byName: Map<string, ChildRule>
  /** The same rules by local name alone (a reader from text compares the namespace itself). */
  byLocal: Map<string, ChildRule[]>
  /** Every JSON property the type has: attributes, `#text`, children. */
  keys: Set<string>
  attributes: AttrRule[]
  /** JSON kind of the text, for simple content. */
  text?: JsonKind
}

export type Shape = { simple: JsonKind } | { complex: ComplexRules }

const XSI_NIL = 'nil'

export class XmlJsonMapper {
  private readonly model: XsdModel
  private readonly shapes = new Map<TypeDef | QName, Shape>()
  private readonly prefixes = new Map<QName, Map<string, string>>()
  /** The `xmlns:…` attributes of each prefix map, as written on a message element. */
  private readonly declarations = new WeakMap<Map<string, string>, string>()

  constructor (model: XsdModel) {
    this.model = model
  }

  /** The global element `{ns}name`, or a readable error naming what the library has. */
  element (ns: string, name: string): ElementDecl {
    const decl = this.model.element(qname(ns, name))
    if (decl === undefined) throw new Error(`no global element {${ns}}${name} in the schema library`)
    return decl
  }

  // ---- XML → JSON ------------------------------------------------------------------------------

  toJson (el: XmlElement, declared: ElementDecl): unknown {
    const problems: string[] = []
    const value = this.readElement(el, declared, problems, `/${el.name}`)
    if (problems.length > 0) throw new MappingError(problems)
    return value
  }

  private readElement (el: XmlElement, declared: ElementDecl, problems: string[], at: string): unknown {
    const decl = this.model.resolve(declared)
    if (isNil(el)) {
      if (!decl.nillable) problems.push(`${at}: xsi:nil on an element that is not nillable`)
      return null
    }
    const shape = this.shape(this.model.typeOf(decl))
    if ('simple' in shape) return fromText(textOf(el), shape.simple, at, problems)
    const rules = shape.complex
    const out: Record<string, unknown> = {}
    for (const a of el.attrs) {
      if (a.namespaceUri === XSI) continue
      const rule = rules.attributes.find(r => r.decl.name === a.name && r.decl.ns === (a.namespaceUri ?? ''))
      if (rule === undefined) { problems.push(`${at}: attribute '${a.name}' is not in the schema`); continue }
      out[rule.key] = fromText(a.value, rule.kind, `${at}/@${a.name}`, problems)
    }
    if (rules.text !== undefined) out['#text'] = fromText(textOf(el), rules.text, at, problems)
    for (const c of rules.children) if (c.repeated) out[c.key] = []
    for (let n = el.firstChild; n !== null; n = n.next) {
      if (!(n instanceof XmlElement)) {
        if (rules.text === undefined && (n instanceof XmlText || n instanceof XmlCData) && n.content.trim() !== '') problems.push(`${at}: text in an element of element-only content`)
        continue
      }
      const rule = rules.byName.get(`{${n.namespaceUri ?? ''}}${n.name}`)
      if (rule === undefined) { problems.push(`${at}: element {${n.namespaceUri ?? ''}}${n.name} is not in the schema`); continue }
      const value = this.readElement(n, rule.decl, problems, `${at}/${n.name}`)
      if (rule.repeated) (out[rule.key] as unknown[]).push(value)
      else if (rule.key in out) problems.push(`${at}/${n.name}: appears more than once`)
      else out[rule.key] = value
    }
    return ordered(out, rules)
  }

  // ---- JSON → XML ------------------------------------------------------------------------------

  /** Serialises `value` as the global element `declared`, declaring every namespace it uses. */
  toXml (declared: ElementDecl, value: unknown): string {
    const decl = this.model.resolve(declared)
    const prefixes = this.prefixesFor(decl)
    const problems: string[] = []
    const out: string[] = []
    let decls = this.declarations.get(prefixes)
    if (decls === undefined) {
      decls = ''
      for (const [ns, prefix] of prefixes) decls += ` xmlns:${prefix}="${escapeAttr(ns)}"`
      this.declarations.set(prefixes, decls)
    }
    this.writeElement(decl, value, prefixes, out, problems, `/${decl.name}`, decls)
    if (problems.length > 0) throw new MappingError(problems)
    return out.join('')
  }

  private writeElement (declared: ElementDecl, value: unknown, prefixes: Map<string, string>, out: string[], problems: string[], at: string, nsDecls = ''): void {
    const decl = this.model.resolve(declared)
    const tag = decl.ns === '' ? decl.name : `${prefixes.get(decl.ns)}:${decl.name}`
    if (value === null) {
      if (!decl.nillable) { problems.push(`${at}: null for an element that is not nillable`); return }
      out.push(`<${tag}${nsDecls} xmlns:xsi="${XSI}" xsi:nil="true"/>`)
      return
    }
    const shape = this.shape(this.model.typeOf(decl))
    if ('simple' in shape) {
      const text = toText(value, at, problems)
      if (text !== undefined) out.push(`<${tag}${nsDecls}>${escapeText(text)}</${tag}>`)
      return
    }
    if (typeof value !== 'object' || Array.isArray(value)) { problems.push(`${at}: expected an object`); return }
    const rules = shape.complex
    const obj = value as Record<string, unknown>
    let attrs = ''
    for (const rule of rules.attributes) {
      const v = obj[rule.key]
      if (v === undefined) continue
      const text = toText(v, `${at}/${rule.key}`, problems)
      if (text === undefined) continue
      const name = rule.decl.ns === '' ? rule.decl.name : `${prefixes.get(rule.decl.ns)}:${rule.decl.name}`
      attrs += ` ${name}="${escapeAttr(text)}"`
    }
    for (const key of Object.keys(obj)) if (!rules.keys.has(key)) problems.push(`${at}: property '${key}' is not in the schema`)
    out.push(`<${tag}${nsDecls}${attrs}>`)
    if (rules.text !== undefined && obj['#text'] !== undefined) {
      const text = toText(obj['#text'], `${at}/#text`, problems)
      if (text !== undefined) out.push(escapeText(text))
    }
    for (const rule of rules.children) {
      const v = obj[rule.key]
      if (v === undefined) continue
      if (Array.isArray(v)) {
        if (!rule.repeated) { problems.push(`${at}/${rule.key}: an array for an element that does not repeat`); continue }
        v.forEach((item, i) => this.writeElement(rule.decl, item, prefixes, out, problems, `${at}/${rule.key}/${i}`))
      } else {
        // A single value for a repeating element is one item (query parameters arrive that way).
        this.writeElement(rule.decl, v, prefixes, out, problems, `${at}/${rule.key}`)
      }
    }
    out.push(`</${tag}>`)
  }

  // ---- shapes ----------------------------------------------------------------------------------

  /** What the mapping does with an element of this type, worked out once per type. */
  shape (type: TypeDef | QName): Shape {
    const known = this.shapes.get(type)
    if (known !== undefined) return known
    const def = this.model.lookup(type)
    if (typeof def === 'string' || def.kind === 'simple') {
      const shape = { simple: this.model.jsonKind(type) }
      this.shapes.set(type, shape)
      return shape
    }
    const rules: ComplexRules = { children: [], byName: new Map(), byLocal: new Map(), attributes: [], keys: new Set() }
    const shape = { complex: rules }
    this.shapes.set(type, shape) // before recursing: types may contain themselves
    this.fill(def, rules)
    return shape
  }

  private fill (def: ComplexTypeDef, rules: ComplexRules): void {
    for (const d of this.model.childrenOf(def)) {
      const decl = this.model.resolve(d)
      const rule = { decl, key: decl.name, repeated: d.maxOccurs > 1 }
      rules.children.push(rule)
      rules.byName.set(`{${decl.ns}}${decl.name}`, rule)
      const same = rules.byLocal.get(decl.name)
      if (same === undefined) rules.byLocal.set(decl.name, [rule])
      else same.push(rule)
    }
    for (const a of this.model.attributesOf(def)) rules.attributes.push({ decl: a, key: `@${a.name}`, kind: this.model.jsonKind(this.model.typeOf(a)) })
    const text = this.model.textTypeOf(def)
    if (text !== undefined) rules.text = this.model.jsonKind(text)
    rules.keys = new Set([...rules.children.map(c => c.key), ...rules.attributes.map(a => a.key), ...(rules.text === undefined ? [] : ['#text'])])
  }

  /** One prefix per namespace reachable from an element (`ns1`, `ns2`, … in order of first use). */
  private prefixesFor (decl: ElementDecl): Map<string, string> {
    const key = qname(decl.ns, decl.name)
    const known = this.prefixes.get(key)
    if (known !== undefined) return known
    const found = new Map<string, string>()
    const seen = new Set<TypeDef | QName>()
    const visit = (d: ElementDecl): void => {
      const r = this.model.resolve(d)
      if (r.ns !== '' && !found.has(r.ns)) found.set(r.ns, `ns${found.size + 1}`)
      const type = this.model.typeOf(r)
      if (seen.has(type)) return
      seen.add(type)
      const shape = this.shape(type)
      if ('simple' in shape) return
      for (const a of shape.complex.attributes) if (a.decl.ns !== '' && !found.has(a.decl.ns)) found.set(a.decl.ns, `ns${found.size + 1}`)
      for (const c of shape.complex.children) visit(c.decl)
    }
    visit(decl)
    this.prefixes.set(key, found)
    return found
  }
}

/** The properties in the XSD's order: attributes, `#text`, then the child elements. */
export function ordered (out: Record<string, unknown>, rules: ComplexRules): Record<string, unknown> {
  const result: Record<string, unknown> = {}
  for (const a of rules.attributes) if (a.key in out) result[a.key] = out[a.key]
  if ('#text' in out) result['#text'] = out['#text']
  for (const c of rules.children) if (c.key in out) result[c.key] = out[c.key]
  return result
}

/** The `xsi:nil` value that makes an element nil (`true` or `1`, surrounding whitespace allowed). */
export function isNilValue (value: string): boolean {
  const v = value.trim()
  return v === 'true' || v === '1'
}

function isNil (el: XmlElement): boolean {
  for (const a of el.attrs) if (a.name === XSI_NIL && a.namespaceUri === XSI) return isNilValue(a.value)
  return false
}

/** An element's or attribute's text as its JSON kind; a problem is added when the text is not of that kind. */
export function fromText (text: string, kind: JsonKind, at: string, problems: string[]): unknown {
  if (kind === 'string') return text
  const t = text.trim()
  if (kind === 'boolean') {
    if (t === 'true' || t === '1') return true
    if (t === 'false' || t === '0') return false
    problems.push(`${at}: '${text}' is not a boolean`)
    return text
  }
  const n = Number(t)
  if (t === '' || !Number.isFinite(n)) { problems.push(`${at}: '${text}' is not a number`); return text }
  return n
}

function toText (value: unknown, at: string, problems: string[]): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) { problems.push(`${at}: ${value} has no XML form`); return undefined }
    const text = String(value)
    // xs:decimal has no exponent form.
    return /e/i.test(text) ? value.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 }) : text
  }
  problems.push(`${at}: expected a simple value, got ${Array.isArray(value) ? 'an array' : typeof value}`)
  return undefined
}

export function escapeText (text: string): string {
  return text.replace(/[&<>\r]/g, c => c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;')
}

export function escapeAttr (text: string): string {
  return text.replace(/[&<"\r\n\t]/g, c => c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '"' ? '&quot;' : c === '\r' ? '&#13;' : c === '\n' ? '&#10;' : '&#9;')
}
