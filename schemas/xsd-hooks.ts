/**
 * Post-validation hooks for the rules XSD 1.0 cannot state (check letters, check digits,
 * co-constraints between sibling elements). Hooks are keyed by type: after libxml2 has validated
 * an element, the element is walked along the schema model and every element (or attribute) whose
 * type is — or derives from — a hooked type gets that type's check. No element names are wired in;
 * a new message type that uses `al:NID` is checked without any change here.
 *
 * The walk reads elements through `HookElement`. libxml2's tree (`treeElement`) is the reference;
 * an edge that holds the document's text can pass the same element read from the text, which
 * spares a call into wasm and a wrapper object per node. A text walk that finds nothing wrong
 * settles the matter; one that finds a problem, or gives up, hands over to the tree walk, so every
 * violation is reported from the tree, with its line.
 */
import { XmlElement, type XsdValidator } from 'libxml2-wasm'
import { bashkiaByName } from './bashki.ts'
import { ibanProblem, nidProblem, niptProblem } from './checks.ts'
import { CORE_NS } from './generate.ts'
import type { FastNode, FastXsd } from './xsd-fast/validator.ts'
import { XSI, qname, textOf, type AttributeDecl, type ComplexTypeDef, type ElementDecl, type QName, type TypeDef, type XsdModel } from './xsd-model.ts'

export type TextCheck = (text: string) => string | undefined
export type ElementCheck = (el: HookElement) => string | undefined

export interface TypeHooks {
  /** Checks of a simple type's text (elements and attributes of that type). */
  text: Map<QName, TextCheck>
  /** Checks of a whole element of a complex type. */
  element: Map<QName, ElementCheck>
}

/** What the walk and the hooks read of one element, as libxml2 reports it. */
export interface HookElement {
  /** Namespace name ('' for none). */
  readonly ns: string
  /** Local name. */
  readonly name: string
  /** The text and CDATA directly inside (not in child elements). */
  text (): string
  /** All descendant text and CDATA, as libxml2's `content`. */
  content (): string
  /** The value of the attribute `{ns}name` ('' for no namespace), normalised as the parser does. */
  attribute (name: string, ns: string): string | undefined
  /** Child elements, in order. */
  children (): HookElement[]
}

/** The reference reader: an element of libxml2's tree. */
export function treeElement (el: XmlElement): HookElement {
  return new TreeElement(el)
}

class TreeElement implements HookElement {
  readonly el: XmlElement
  constructor (el: XmlElement) {
    this.el = el
  }

  get ns (): string { return this.el.namespaceUri ?? '' }
  get name (): string { return this.el.name }
  text (): string { return textOf(this.el) }
  content (): string { return this.el.content }
  attribute (name: string, ns: string): string | undefined {
    return this.el.attrs.find(a => a.name === name && (a.namespaceUri ?? '') === ns)?.value
  }

  children (): HookElement[] {
    const out: HookElement[] = []
    for (let c = this.el.firstChild; c !== null; c = c.next) if (c instanceof XmlElement) out.push(new TreeElement(c))
    return out
  }
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
function addressProblem (el: HookElement): string | undefined {
  let bashkia: string | undefined
  let qarku: string | undefined
  for (const c of el.children()) {
    if (c.ns !== CORE_NS) continue
    if (c.name === 'bashkia') bashkia = c.content()
    else if (c.name === 'qarku') qarku = c.content()
  }
  if (bashkia === undefined || qarku === undefined) return undefined
  const expected = bashkiaByName(bashkia)?.qarku
  return expected === undefined || expected === qarku ? undefined : `bashkia ${bashkia} lies in qarku ${expected}, not ${qarku}`
}

/** What an edge calls: validate against the XSD, then run the type hooks over the element. */
export interface LibraryXsd {
  readonly namespace: string
  /**
   * libxml2 validates `el`; the hooks then walk `text` when given (the same element read from the
   * document's text), else the tree. Throws libxml2's error or an `XsdHookError`.
   */
  validate (el: XmlElement, text?: HookElement): void
  /**
   * The fast path, without libxml2: true when the element read from the text (`node`, and `text`
   * for the hooks) is surely valid — the compiled validator (xsd-fast/) accepts it and the hooks
   * find nothing. False decides nothing: `validate` on libxml2's tree must then run.
   */
  accepts (node: FastNode, text: HookElement): boolean
  /** The hooks' findings alone, without libxml2 (for tests that hold two readers against each other). */
  hookProblems (el: HookElement): string[]
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

interface Problem<E> { message: string; at: E }

export function hookedXsd (namespace: string, validator: XsdValidator, model: XsdModel, hooks: TypeHooks, fast?: FastXsd): LibraryXsd {
  const walker = new HookWalker(model, hooks)
  const problems = <E extends HookElement>(el: E): Array<Problem<E>> => {
    const found: Array<Problem<E>> = []
    const decl = model.element(qname(el.ns, el.name))
    if (decl !== undefined) walker.walk(el, decl, found)
    return found
  }
  return {
    namespace,
    validate (el: XmlElement, text?: HookElement): void {
      validator.validate(el)
      if (text !== undefined) {
        let clean = false
        try {
          clean = problems(text).length === 0
        } catch {
          // The text reader met something it does not read like libxml2: the tree decides.
        }
        if (clean) return
      }
      const found = problems(new TreeElement(el))
      if (found.length > 0) throw new XsdHookError(found.map(p => ({ message: p.message, line: p.at.el.line, col: 0 })))
    },
    accepts (node: FastNode, text: HookElement): boolean {
      if (fast === undefined) return false
      try {
        // Anything a reader is not sure of (it throws) leaves the decision to libxml2.
        return fast.accepts(node) && problems(text).length === 0
      } catch {
        return false
      }
    },
    hookProblems: el => problems(el).map(p => p.message),
  }
}

/** What the walk does at an element of one type, worked out once (the model never changes). */
interface Plan {
  /** Checks of the element itself, in the order of its type's derivation chain. */
  checks: Array<{ text: TextCheck } | { element: ElementCheck }>
  /** Checks of a complex type's simple content. */
  contentChecks: TextCheck[]
  /** Attributes with checks. */
  attributes: Array<{ decl: AttributeDecl; checks: TextCheck[] }>
  /**
   * The child declarations whose type needs a walk, by local name. Declarations of one name and
   * namespace in a content model share their type (XSD's Element Declarations Consistent), so the
   * first match is the one the element belongs to.
   */
  wanted: Map<string, ElementDecl[]>
}

class HookWalker {
  private readonly model: XsdModel
  private readonly hooks: TypeHooks
  /** Per type: does anything at or below it carry a hook? Most subtrees can be skipped. */
  private readonly needed = new Map<TypeDef | QName, boolean>()
  /** Per type that needs a walk: what to check there. */
  private readonly plans = new Map<TypeDef | QName, Plan>()

  constructor (model: XsdModel, hooks: TypeHooks) {
    this.model = model
    this.hooks = hooks
  }

  walk<E extends HookElement> (el: E, declared: ElementDecl, problems: Array<Problem<E>>): void {
    const decl = this.model.resolve(declared)
    const type = this.model.typeOf(decl)
    // The type test first: it needs nothing from the element, and every read of a tree element is
    // a call into wasm.
    if (!this.needsWalk(type)) return
    const nil = el.attribute('nil', XSI)
    if (nil === 'true' || nil === '1') return
    const plan = this.plan(type)
    let text: string | undefined
    for (const check of plan.checks) report(problems, el, decl, 'text' in check ? check.text(text ??= el.text()) : check.element(el))
    for (const check of plan.contentChecks) report(problems, el, decl, check(text ??= el.text()))
    for (const { decl: attr, checks } of plan.attributes) {
      const value = el.attribute(attr.name, attr.ns)
      if (value === undefined) continue
      for (const check of checks) report(problems, el, decl, check(value), attr.name)
    }
    const wanted = plan.wanted
    if (wanted.size === 0) return
    for (const c of el.children() as E[]) {
      const candidates = wanted.get(c.name)
      if (candidates === undefined) continue
      const ns = c.ns
      const child = candidates.find(d => d.ns === ns)
      if (child !== undefined) this.walk(c, child, problems)
    }
  }

  private plan (type: TypeDef | QName): Plan {
    let plan = this.plans.get(type)
    if (plan !== undefined) return plan
    plan = { checks: [], contentChecks: [], attributes: [], wanted: new Map() }
    for (const name of this.model.chain(type)) {
      const text = this.hooks.text.get(name)
      if (text !== undefined) plan.checks.push({ text })
      const element = this.hooks.element.get(name)
      if (element !== undefined) plan.checks.push({ element })
    }
    const def = this.model.lookup(type)
    if (typeof def !== 'string' && def.kind === 'complex') {
      const textType = this.model.textTypeOf(def)
      if (textType !== undefined) plan.contentChecks = this.textChecks(textType)
      for (const decl of this.model.attributesOf(def)) {
        const checks = this.textChecks(this.model.typeOf(decl))
        if (checks.length > 0) plan.attributes.push({ decl, checks })
      }
      for (const d of this.model.childrenOf(def).map(c => this.model.resolve(c))) {
        if (!this.needsWalk(this.model.typeOf(d))) continue
        const same = plan.wanted.get(d.name)
        if (same === undefined) plan.wanted.set(d.name, [d])
        else same.push(d)
      }
    }
    this.plans.set(type, plan)
    return plan
  }

  private textChecks (type: TypeDef | QName): TextCheck[] {
    return this.model.chain(type).flatMap(name => this.hooks.text.get(name) ?? [])
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

function report<E> (problems: Array<Problem<E>>, at: E, decl: ElementDecl, problem: string | undefined, attribute?: string): void {
  if (problem === undefined) return
  problems.push({ message: `Element '{${decl.ns}}${decl.name}'${attribute === undefined ? '' : ` attribute '${attribute}'`}: ${problem}.`, at })
}
