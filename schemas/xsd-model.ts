/**
 * A small structural model of the library's XSDs: global elements and named types, with what the
 * JSON ↔ XML mapping and the post-validation hooks need to know — element order, namespaces,
 * occurrence, nillability, attributes, and the restriction chain of every simple type down to its
 * XML Schema built-in. libxml2 still does the validating; this model only describes shapes.
 *
 * It covers the XSD subset the library uses (sequence/choice/all, named and anonymous types,
 * element and attribute refs, simpleContent, complexContent extension/restriction). Anything
 * else (xs:any, groups, substitution groups, lists/unions) is recorded as unsupported and reported
 * when the mapping or a hook reaches it, not at load time.
 */
import { XmlCData, XmlElement, XmlText } from 'libxml2-wasm'

export const XS = 'http://www.w3.org/2001/XMLSchema'
export const XSI = 'http://www.w3.org/2001/XMLSchema-instance'

/** `{namespace}local` */
export type QName = string
export const qname = (ns: string, local: string): QName => `{${ns}}${local}`
export const localOf = (q: QName): string => q.slice(q.indexOf('}') + 1)
export const namespaceOf = (q: QName): string => q.slice(1, q.indexOf('}'))

export interface ElementDecl {
  /** Local name and namespace as the element appears in instances ('' = unqualified). */
  name: string
  ns: string
  ref?: QName
  typeName?: QName
  inlineType?: TypeDef
  minOccurs: number
  /** Effective: an element inside a repeated group counts as repeated. */
  maxOccurs: number
  nillable: boolean
  /** The first thing its declaration says that this model does not describe (`default`, `fixed`…). */
  extra?: string
}

export interface AttributeDecl {
  name: string
  ns: string
  ref?: QName
  typeName?: QName
  inlineType?: SimpleTypeDef
  required: boolean
}

export interface SimpleTypeDef {
  kind: 'simple'
  name?: QName
  /** Restriction base (named) or inline base. */
  base?: QName
  inlineBase?: SimpleTypeDef
  /** The restriction's facets as written (`enumeration`, `pattern`, `maxLength`…), in order. */
  facets?: Facet[]
  unsupported?: string
}

export interface Facet {
  name: string
  value: string
}

/**
 * A content model as written: groups nested as in the schema, each particle with its own
 * occurrence (the flattened `children` lose both). `other` stands for a particle this model does
 * not describe (xs:any, xs:group).
 */
export type Particle =
  | { kind: 'element', decl: ElementDecl, min: number, max: number }
  | { kind: 'sequence' | 'choice' | 'all', min: number, max: number, items: Particle[] }
  | { kind: 'other', what: string }

export interface ComplexTypeDef {
  kind: 'complex'
  name?: QName
  base?: QName
  derivation?: 'extension' | 'restriction'
  /** Child elements in document order (groups flattened). */
  children: ElementDecl[]
  attributes: AttributeDecl[]
  /** simpleContent: the text's simple type. */
  simpleContent?: QName | SimpleTypeDef
  /** The content model's group (undefined for an empty content model). */
  particle?: Particle
  /** The first thing its declaration says that this model does not describe (`abstract`, `block`…). */
  extra?: string
  unsupported?: string
}

export type TypeDef = SimpleTypeDef | ComplexTypeDef

/** JSON kinds of XML Schema built-ins; everything not listed is a string. */
const NUMERIC = new Set(['decimal', 'integer', 'int', 'long', 'short', 'byte', 'float', 'double', 'nonNegativeInteger', 'positiveInteger',
  'nonPositiveInteger', 'negativeInteger', 'unsignedLong', 'unsignedInt', 'unsignedShort', 'unsignedByte'])

export type JsonKind = 'string' | 'number' | 'boolean'

export class XsdModel {
  readonly elements = new Map<QName, ElementDecl>()
  readonly types = new Map<QName, TypeDef>()
  private readonly attributes = new Map<QName, AttributeDecl>()
  /** Top-level declarations this model does not describe (xs:redefine, xs:group…). */
  readonly extras: string[] = []

  /** Adds one schema document (its root must be xs:schema). */
  add (root: XmlElement): void {
    const tns = root.attr('targetNamespace')?.value ?? ''
    const ctx: SchemaContext = {
      tns,
      elementQualified: root.attr('elementFormDefault')?.value === 'qualified',
      attributeQualified: root.attr('attributeFormDefault')?.value === 'qualified',
    }
    for (const el of xsChildren(root)) {
      const name = el.attr('name')?.value
      if (!TOP_LEVEL.has(el.name)) this.extras.push(`xs:${el.name}`)
      if (el.name === 'element' && name !== undefined) this.elements.set(qname(tns, name), this.parseElement(el, ctx, true, 1))
      else if (el.name === 'complexType' && name !== undefined) this.types.set(qname(tns, name), { ...this.complexType(el, ctx), name: qname(tns, name) })
      else if (el.name === 'simpleType' && name !== undefined) this.types.set(qname(tns, name), { ...simpleType(el), name: qname(tns, name) })
      else if (el.name === 'attribute' && name !== undefined) this.attributes.set(qname(tns, name), this.parseAttribute(el, ctx, true))
    }
  }

  element (q: QName): ElementDecl | undefined {
    return this.elements.get(q)
  }

  /** A local declaration with its ref followed: the referenced global's type, the local occurrence. */
  resolve (decl: ElementDecl): ElementDecl {
    if (decl.ref === undefined) return decl
    const global = this.elements.get(decl.ref)
    if (global === undefined) throw new Error(`element ref ${decl.ref} is not declared in the schema library`)
    return { ...global, minOccurs: decl.minOccurs, maxOccurs: decl.maxOccurs }
  }

  resolveAttribute (decl: AttributeDecl): AttributeDecl {
    if (decl.ref === undefined) return decl
    const global = this.attributes.get(decl.ref)
    if (global === undefined) throw new Error(`attribute ref ${decl.ref} is not declared in the schema library`)
    return { ...global, required: decl.required }
  }

  /** The declared type of an element: named, inline, or xs:anyType when none is given. */
  typeOf (decl: ElementDecl | AttributeDecl): TypeDef | QName {
    if (decl.inlineType !== undefined) return decl.inlineType
    return decl.typeName ?? qname(XS, 'anyType')
  }

  /** Looks up a named type; built-ins stay as their QName. */
  lookup (t: TypeDef | QName): TypeDef | QName {
    if (typeof t !== 'string') return t
    if (namespaceOf(t) === XS) return t
    const def = this.types.get(t)
    if (def === undefined) throw new Error(`type ${t} is not declared in the schema library`)
    return def
  }

  /** Every type name on the derivation chain, from the type itself down to the built-in. */
  chain (t: TypeDef | QName): QName[] {
    const out: QName[] = []
    let cur: TypeDef | QName | undefined = t
    while (cur !== undefined && out.length < 64) {
      let def: TypeDef
      if (typeof cur === 'string') {
        out.push(cur)
        if (namespaceOf(cur) === XS) break
        def = this.lookup(cur) as TypeDef
      } else {
        def = cur
        if (def.name !== undefined) out.push(def.name)
      }
      cur = def.kind === 'simple' ? def.inlineBase ?? def.base : def.base ?? def.simpleContent
    }
    return out
  }

  /** How a simple type's text is written in JSON. */
  jsonKind (t: TypeDef | QName): JsonKind {
    const builtin = this.chain(t).at(-1)
    if (builtin === undefined || namespaceOf(builtin) !== XS) return 'string'
    const local = localOf(builtin)
    if (local === 'boolean') return 'boolean'
    return NUMERIC.has(local) ? 'number' : 'string'
  }

  /** Child elements of a complex type, base type's first for an extension. */
  childrenOf (t: ComplexTypeDef): ElementDecl[] {
    if (t.unsupported !== undefined) throw new Error(`type ${t.name ?? '(anonymous)'} uses ${t.unsupported}, which the mapping does not support`)
    if (t.base === undefined || t.derivation !== 'extension') return t.children
    const base = this.lookup(t.base)
    return typeof base !== 'string' && base.kind === 'complex' ? [...this.childrenOf(base), ...t.children] : t.children
  }

  attributesOf (t: ComplexTypeDef): AttributeDecl[] {
    const own = t.attributes.map(a => this.resolveAttribute(a))
    if (t.base === undefined || t.derivation !== 'extension') return own
    const base = this.lookup(t.base)
    return typeof base !== 'string' && base.kind === 'complex' ? [...this.attributesOf(base), ...own] : own
  }

  /** The text type of a complex type with simple content, if it has one. */
  textTypeOf (t: ComplexTypeDef): TypeDef | QName | undefined {
    if (t.simpleContent !== undefined) return t.simpleContent
    if (t.base === undefined) return undefined
    const base = this.lookup(t.base)
    if (typeof base === 'string') return base
    return base.kind === 'simple' ? base : this.textTypeOf(base)
  }

  // ---- parsing -------------------------------------------------------------------------------

  private parseElement (el: XmlElement, ctx: SchemaContext, global: boolean, groupMax: number): ElementDecl {
    const min = Number(el.attr('minOccurs')?.value ?? '1')
    const maxText = el.attr('maxOccurs')?.value ?? '1'
    const max = (maxText === 'unbounded' ? Infinity : Number(maxText)) * groupMax
    const ref = el.attr('ref')?.value
    if (ref !== undefined) return { name: '', ns: '', ref: resolveQName(el, ref), minOccurs: min, maxOccurs: max, nillable: false }
    const name = el.attr('name')?.value ?? ''
    const form = el.attr('form')?.value
    const qualified = global || (form === undefined ? ctx.elementQualified : form === 'qualified')
    const decl: ElementDecl = { name, ns: qualified ? ctx.tns : '', minOccurs: global ? 1 : min, maxOccurs: global ? 1 : max, nillable: el.attr('nillable')?.value === 'true' }
    const type = el.attr('type')?.value
    if (type !== undefined) decl.typeName = resolveQName(el, type)
    const extra = unmodelled(el, ELEMENT_ATTRIBUTES, ELEMENT_CHILDREN)
    if (extra !== undefined) decl.extra = extra
    for (const c of xsChildren(el)) {
      if (c.name === 'complexType') decl.inlineType = this.complexType(c, ctx)
      else if (c.name === 'simpleType') decl.inlineType = simpleType(c)
    }
    return decl
  }

  private parseAttribute (el: XmlElement, ctx: SchemaContext, global: boolean): AttributeDecl {
    const ref = el.attr('ref')?.value
    const required = el.attr('use')?.value === 'required'
    if (ref !== undefined) return { name: '', ns: '', ref: resolveQName(el, ref), required }
    const form = el.attr('form')?.value
    const qualified = global || (form === undefined ? ctx.attributeQualified : form === 'qualified')
    const decl: AttributeDecl = { name: el.attr('name')?.value ?? '', ns: qualified ? ctx.tns : '', required }
    const type = el.attr('type')?.value
    if (type !== undefined) decl.typeName = resolveQName(el, type)
    const inline = xsChildren(el).find(c => c.name === 'simpleType')
    if (inline !== undefined) decl.inlineType = simpleType(inline)
    return decl
  }

  private complexType (el: XmlElement, ctx: SchemaContext): ComplexTypeDef {
    const def: ComplexTypeDef = { kind: 'complex', children: [], attributes: [] }
    if (el.attr('mixed')?.value === 'true') def.unsupported = 'mixed content'
    const extra = unmodelled(el, COMPLEX_ATTRIBUTES)
    if (extra !== undefined) def.extra = extra
    const particles: Particle[] = []
    this.content(el, ctx, def, 1, particles)
    if (particles.length === 1) def.particle = particles[0]
    else if (particles.length > 1) def.particle = { kind: 'other', what: 'more than one top-level particle' }
    return def
  }

  /** Reads particles and attributes of a complexType (or of its extension/restriction). */
  private content (el: XmlElement, ctx: SchemaContext, def: ComplexTypeDef, groupMax: number, particles: Particle[]): void {
    for (const c of xsChildren(el)) {
      switch (c.name) {
        case 'sequence':
        case 'choice':
        case 'all': {
          const maxText = c.attr('maxOccurs')?.value ?? '1'
          const max = (maxText === 'unbounded' ? Infinity : Number(maxText)) * groupMax
          const optional = c.name === 'choice' || c.attr('minOccurs')?.value === '0'
          const before = def.children.length
          const group: Particle = { kind: c.name, ...occurrence(c), items: [] }
          const extra = unmodelled(c, GROUP_ATTRIBUTES, GROUP_CHILDREN)
          particles.push(extra === undefined ? group : { kind: 'other', what: extra })
          this.content(c, ctx, def, max, group.items)
          if (optional) for (const d of def.children.slice(before)) d.minOccurs = 0
          break
        }
        case 'element': {
          const decl = this.parseElement(c, ctx, false, groupMax)
          def.children.push(decl)
          particles.push({ kind: 'element', decl, ...occurrence(c) })
          break
        }
        case 'attribute':
          def.attributes.push(this.parseAttribute(c, ctx, false))
          break
        case 'complexContent':
        case 'simpleContent':
          for (const d of xsChildren(c)) {
            if (d.name !== 'extension' && d.name !== 'restriction') continue
            const base = resolveQName(d, d.attr('base')?.value ?? '')
            if (c.name === 'simpleContent') {
              def.simpleContent = d.name === 'extension' ? base : { kind: 'simple', base }
              this.content(d, ctx, def, groupMax, particles)
            } else {
              def.base = base
              def.derivation = d.name
              this.content(d, ctx, def, groupMax, particles)
            }
          }
          break
        case 'any':
        case 'group':
          particles.push({ kind: 'other', what: `xs:${c.name}` })
          def.unsupported ??= `xs:${c.name}`
          break
        case 'attributeGroup':
        case 'anyAttribute':
          def.unsupported ??= `xs:${c.name}`
          break
      }
    }
  }
}

interface SchemaContext {
  tns: string
  elementQualified: boolean
  attributeQualified: boolean
}

/** A particle's own occurrence, as written. */
function occurrence (el: XmlElement): { min: number; max: number } {
  const max = el.attr('maxOccurs')?.value ?? '1'
  return { min: Number(el.attr('minOccurs')?.value ?? '1'), max: max === 'unbounded' ? Infinity : Number(max) }
}

const TOP_LEVEL = new Set(['element', 'complexType', 'simpleType', 'attribute', 'import', 'include', 'annotation'])
const ELEMENT_ATTRIBUTES = new Set(['name', 'type', 'ref', 'minOccurs', 'maxOccurs', 'nillable', 'form', 'id'])
const ELEMENT_CHILDREN = new Set(['annotation', 'complexType', 'simpleType'])
const COMPLEX_ATTRIBUTES = new Set(['name', 'mixed', 'id'])
const GROUP_ATTRIBUTES = new Set(['minOccurs', 'maxOccurs', 'id'])
const GROUP_CHILDREN = new Set(['annotation', 'element', 'sequence', 'choice', 'any', 'group'])

/** The first attribute (or, given a list, child) of a schema element that the model does not describe. */
function unmodelled (el: XmlElement, attributes: Set<string>, children?: Set<string>): string | undefined {
  // Attributes in another namespace are annotations; libxml2-wasm gives '' for no namespace.
  for (const a of el.attrs) if ((a.namespaceUri ?? '') === '' && !attributes.has(a.name)) return `@${a.name}`
  if (children !== undefined) for (const c of xsChildren(el)) if (!children.has(c.name)) return `xs:${c.name}`
  return undefined
}

function simpleType (el: XmlElement): SimpleTypeDef {
  const def: SimpleTypeDef = { kind: 'simple' }
  for (const c of xsChildren(el)) {
    if (c.name === 'restriction') {
      const base = c.attr('base')?.value
      if (base !== undefined) def.base = resolveQName(c, base)
      const inline = xsChildren(c).find(d => d.name === 'simpleType')
      if (inline !== undefined) def.inlineBase = simpleType(inline)
      def.facets = xsChildren(c).filter(d => d.name !== 'simpleType' && d.name !== 'annotation').map(d => ({ name: d.name, value: d.attr('value')?.value ?? '' }))
    } else if (c.name === 'list' || c.name === 'union') {
      def.unsupported = `xs:${c.name}`
      def.base = qname(XS, 'string')
    }
  }
  return def
}

function xsChildren (el: XmlElement): XmlElement[] {
  const out: XmlElement[] = []
  for (let c = el.firstChild; c !== null; c = c.next) if (c instanceof XmlElement && c.namespaceUri === XS) out.push(c)
  return out
}

/** Resolves a `prefix:local` attribute value against the namespaces in scope at `el`. */
function resolveQName (el: XmlElement, value: string): QName {
  const colon = value.indexOf(':')
  const prefix = colon < 0 ? '' : value.slice(0, colon)
  const local = colon < 0 ? value : value.slice(colon + 1)
  for (let cur: XmlElement | null = el; cur !== null; cur = cur.parent) {
    const uri = cur.nsDeclarations[prefix]
    if (uri !== undefined) return qname(uri, local)
  }
  if (prefix === '') return qname('', local)
  throw new Error(`prefix '${prefix}' of '${value}' is not declared (line ${el.line})`)
}

/** The text content an element holds directly (text and CDATA children, not descendants). */
export function textOf (el: XmlElement): string {
  let text = ''
  for (let c = el.firstChild; c !== null; c = c.next) if (c instanceof XmlText || c instanceof XmlCData) text += c.content
  return text
}
