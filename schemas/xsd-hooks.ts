/**
 * Post-validation hooks for the rules XSD 1.0 cannot state (check letters, check digits,
 * co-constraints between sibling elements). Hooks are keyed by type: after libxml2 has validated
 * an element, the tree is walked along the schema model and every element (or attribute) whose
 * type is — or derives from — a hooked type gets that type's check. No element names are wired in;
 * a new message type that uses `al:NID` is checked without any change here.
 */
import { XmlElement, type XsdValidator } from 'libxml2-wasm'
import { bashkiaByName } from './bashki.ts'
import { ibanProblem, nidProblem, niptProblem } from './checks.ts'
import { CORE_NS } from './generate.ts'
import { XSI, qname, textOf, type ComplexTypeDef, type ElementDecl, type QName, type TypeDef, type XsdModel } from './xsd-model.ts'

export type TextCheck = (text: string) => string | undefined
export type ElementCheck = (el: XmlElement) => string | undefined

export interface TypeHooks {
  /** Checks of a simple type's text (elements and attributes of that type). */
  text: Map<QName, TextCheck>
  /** Checks of a whole element of a complex type. */
  element: Map<QName, ElementCheck>
}

export interface HookOptions {
  /** Enforce the NIPT check letter (domain §2.2: very likely, not officially confirmed). Default on. */
  niptCheckLetter?: boolean
}

/** The core library's hooks: the XSD side of the ajv formats al-nid, al-nipt and al-iban. */
export function coreHooks (opts: HookOptions = {}): TypeHooks {
  const text = new Map<QName, TextCheck>([
    [qname(CORE_NS, 'NID'), nidProblem],
    [qname(CORE_NS, 'IBAN'), ibanProblem],
  ])
  if (opts.niptCheckLetter !== false) text.set(qname(CORE_NS, 'NIPT'), niptProblem)
  const element = new Map<QName, ElementCheck>([[qname(CORE_NS, 'Adresa'), addressProblem]])
  return { text, element }
}

/** bashkia and qarku of one address must belong together (the JSON side: bashkiaNeQark). */
function addressProblem (el: XmlElement): string | undefined {
  let bashkia: string | undefined
  let qarku: string | undefined
  for (let c = el.firstChild; c !== null; c = c.next) {
    if (!(c instanceof XmlElement) || c.namespaceUri !== CORE_NS) continue
    if (c.name === 'bashkia') bashkia = c.content
    else if (c.name === 'qarku') qarku = c.content
  }
  if (bashkia === undefined || qarku === undefined) return undefined
  const expected = bashkiaByName(bashkia)?.qarku
  return expected === undefined || expected === qarku ? undefined : `bashkia ${bashkia} lies in qarku ${expected}, not ${qarku}`
}

/** What an edge calls: validate against the XSD, then run the type hooks over the element's tree. */
export interface LibraryXsd {
  readonly namespace: string
  validate (el: XmlElement): void
}

/** Thrown with libxml2's error shape (`details`), so the edges list hook violations like XSD ones. */
export class XsdHookError extends Error {
  readonly details: Array<{ message: string; line: number; col: number }>
  constructor (details: Array<{ message: string; line: number; col: number }>) {
    super(details.map(d => d.message).join('; '))
    this.name = 'XsdHookError'
    this.details = details
  }
}

export function hookedXsd (namespace: string, validator: XsdValidator, model: XsdModel, hooks: TypeHooks): LibraryXsd {
  const walker = new HookWalker(model, hooks)
  return {
    namespace,
    validate (el: XmlElement): void {
      validator.validate(el)
      const decl = model.element(qname(el.namespaceUri ?? '', el.name))
      if (decl === undefined) return
      const problems: XsdHookError['details'] = []
      walker.walk(el, decl, problems)
      if (problems.length > 0) throw new XsdHookError(problems)
    },
  }
}

class HookWalker {
  private readonly model: XsdModel
  private readonly hooks: TypeHooks
  /** Per type: does anything at or below it carry a hook? Most subtrees can be skipped. */
  private readonly needed = new Map<TypeDef | QName, boolean>()
  /** Per type: derivation chain and the children worth walking into, computed once (the model never changes). */
  private readonly chains = new Map<TypeDef | QName, QName[]>()
  private readonly children = new Map<ComplexTypeDef, Map<string, ElementDecl[]>>()

  constructor (model: XsdModel, hooks: TypeHooks) {
    this.model = model
    this.hooks = hooks
  }

  walk (el: XmlElement, declared: ElementDecl, problems: XsdHookError['details']): void {
    const decl = this.model.resolve(declared)
    const type = this.model.typeOf(decl)
    // The type test first: it needs nothing from the element, and every read of the element is a
    // call into wasm.
    if (!this.needsWalk(type)) return
    if (el.attrs.some(a => a.name === 'nil' && a.namespaceUri === XSI && (a.value === 'true' || a.value === '1'))) return
    const where = `Element '{${decl.ns}}${decl.name}'`
    for (const name of this.chain(type)) {
      const textCheck = this.hooks.text.get(name)
      if (textCheck !== undefined) report(problems, el, where, textCheck(textOf(el)))
      const elementCheck = this.hooks.element.get(name)
      if (elementCheck !== undefined) report(problems, el, where, elementCheck(el))
    }
    const def = this.model.lookup(type)
    if (typeof def === 'string' || def.kind !== 'complex') return
    const textType = this.model.textTypeOf(def)
    if (textType !== undefined) {
      for (const name of this.chain(textType)) report(problems, el, where, this.hooks.text.get(name)?.(textOf(el)))
    }
    for (const attr of this.model.attributesOf(def)) {
      const a = el.attrs.find(x => x.name === attr.name && (x.namespaceUri ?? '') === attr.ns)
      if (a === undefined) continue
      for (const name of this.chain(this.model.typeOf(attr))) report(problems, el, `${where} attribute '${attr.name}'`, this.hooks.text.get(name)?.(a.value))
    }
    const wanted = this.wantedChildren(def)
    if (wanted.size === 0) return
    for (let c = el.firstChild; c !== null; c = c.next) {
      if (!(c instanceof XmlElement)) continue
      const candidates = wanted.get(c.name)
      if (candidates === undefined) continue
      const ns = c.namespaceUri ?? ''
      const child = candidates.find(d => d.ns === ns)
      if (child !== undefined) this.walk(c, child, problems)
    }
  }

  /**
   * The child declarations whose type needs a walk, by local name. Declarations of one name and
   * namespace in a content model share their type (XSD's Element Declarations Consistent), so the
   * first match is the one the element belongs to.
   */
  private wantedChildren (def: ComplexTypeDef): Map<string, ElementDecl[]> {
    let wanted = this.children.get(def)
    if (wanted === undefined) {
      wanted = new Map()
      for (const d of this.model.childrenOf(def).map(c => this.model.resolve(c))) {
        if (!this.needsWalk(this.model.typeOf(d))) continue
        const same = wanted.get(d.name)
        if (same === undefined) wanted.set(d.name, [d])
        else same.push(d)
      }
      this.children.set(def, wanted)
    }
    return wanted
  }

  private chain (type: TypeDef | QName): QName[] {
    let chain = this.chains.get(type)
    if (chain === undefined) this.chains.set(type, chain = this.model.chain(type))
    return chain
  }

  private needsWalk (type: TypeDef | QName): boolean {
    const known = this.needed.get(type)
    if (known !== undefined) return known
    this.needed.set(type, false) // recursion guard: a type that contains itself
    const chain = this.model.chain(type)
    let need = chain.some(n => this.hooks.text.has(n) || this.hooks.element.has(n))
    const def = this.model.lookup(type)
    if (!need && typeof def !== 'string' && def.kind === 'complex') need = this.complexNeeds(def)
    this.needed.set(type, need)
    return need
  }

  private complexNeeds (def: ComplexTypeDef): boolean {
    const text = this.model.textTypeOf(def)
    if (text !== undefined && this.needsWalk(text)) return true
    if (this.model.attributesOf(def).some(a => this.needsWalk(this.model.typeOf(a)))) return true
    return this.model.childrenOf(def).some(d => this.needsWalk(this.model.typeOf(this.model.resolve(d))))
  }
}

function report (problems: XsdHookError['details'], el: XmlElement, where: string, problem: string | undefined): void {
  if (problem !== undefined) problems.push({ message: `${where}: ${problem}.`, line: el.line, col: 0 })
}
