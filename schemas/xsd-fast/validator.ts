/**
 * A fast, partial XSD validator compiled from the schema model (xsd-model.ts), for elements read
 * from a document's text without a libxml2 tree. It only ever accepts: `accepts` is true when the
 * element is surely valid against the namespace's XSD, and false when it is not, or when anything
 * on the way is outside the subset compiled here — then libxml2 decides, as it always did.
 *
 * The subset: global elements of the namespace; complex types with element-only content written
 * as sequences and choices with occurrences (content.ts), no attributes but `xsi:nil` on nillable
 * elements; simple types as simple.ts compiles them. Declarations with anything the model does not
 * describe (`default`, `fixed`, `abstract`, substitution groups, identity constraints, xs:any,
 * groups, mixed, simple or complex content derivations, attributes) are not compiled.
 */
import { XSI, qname, type ElementDecl, type QName, type TypeDef, type XsdModel } from '../xsd-model.ts'
import { compileContent } from './content.ts'
import { compileSimple } from './simple.ts'

/** An element as the fast validator reads it (the SOAP edge reads it from the message text). */
export interface FastNode {
  /** Namespace name ('' for none) and local name. */
  readonly ns: string
  readonly name: string
  /** Attributes other than namespace declarations. */
  readonly attributeCount: number
  /** The value of the attribute `{ns}name` ('' for no namespace), normalised as a parser does. */
  attribute (name: string, ns: string): string | undefined
  /** Child elements, in order. */
  readonly elements: readonly FastNode[]
  /** Nothing at all between the start and end tag (or an empty-element tag). */
  readonly empty: boolean
  /** The content is character data only: no element, comment or other markup. */
  readonly textOnly: boolean
  /** The character data directly inside is whitespace only, written without references. */
  readonly blank: boolean
  /** The character data (references expanded, line ends normalised); only read when `textOnly`. */
  text (): string
}

type Check = (node: FastNode) => boolean

const NEVER: Check = () => false

export class FastXsd {
  private readonly model: XsdModel
  private readonly namespace: string
  private readonly roots = new Map<string, Check>()
  private readonly types = new Map<TypeDef | QName, Check>()
  private readonly elements = new Map<ElementDecl, Check>()
  private readonly resolved = new Map<ElementDecl, ElementDecl>()

  constructor (model: XsdModel, namespace: string) {
    this.model = model
    this.namespace = namespace
  }

  /** True only if `node` is surely valid against the namespace's XSD. */
  accepts (node: FastNode): boolean {
    return node.ns === this.namespace && this.root(node.name)(node)
  }

  /** Whether the global element of this local name is compiled at all (its own type, not every part). */
  covers (name: string): boolean {
    return this.root(name) !== NEVER
  }

  private root (name: string): Check {
    let check = this.roots.get(name)
    if (check === undefined) {
      const decl = this.model.extras.length === 0 ? this.model.element(qname(this.namespace, name)) : undefined
      check = decl === undefined ? NEVER : this.compiled(() => this.element(decl))
      this.roots.set(name, check)
    }
    return check
  }

  /** A schema the model cannot follow (a dangling ref) leaves the decision to libxml2. */
  private compiled (build: () => Check): Check {
    try {
      return build()
    } catch {
      return NEVER
    }
  }

  private resolve (decl: ElementDecl): ElementDecl {
    let r = this.resolved.get(decl)
    if (r === undefined) this.resolved.set(decl, r = this.model.resolve(decl))
    return r
  }

  private element (decl: ElementDecl): Check {
    const known = this.elements.get(decl)
    if (known !== undefined) return known
    if (decl.extra !== undefined) {
      this.elements.set(decl, NEVER)
      return NEVER
    }
    const ref = { check: NEVER }
    this.elements.set(decl, node => ref.check(node)) // a type that contains itself
    const type = this.type(this.model.typeOf(decl))
    const nillable = decl.nillable
    ref.check = type === NEVER
      ? NEVER
      : node => {
        if (node.attributeCount === 0) return type(node)
        if (!nillable || node.attributeCount !== 1) return false
        const nil = node.attribute('nil', XSI)
        if (nil === 'true') return node.empty
        return nil === 'false' && type(node)
      }
    return ref.check
  }

  private type (t: TypeDef | QName): Check {
    const known = this.types.get(t)
    if (known !== undefined) return known
    const ref = { check: NEVER }
    this.types.set(t, node => ref.check(node))
    ref.check = this.compiled(() => this.typeCheck(t))
    return ref.check
  }

  private typeCheck (t: TypeDef | QName): Check {
    const def = this.model.lookup(t)
    if (typeof def === 'string' || def.kind === 'simple') {
      const value = compileSimple(this.model, def)
      if (value === undefined) return NEVER
      return node => node.textOnly && value(node.text())
    }
    if (def.unsupported !== undefined || def.extra !== undefined || def.base !== undefined || def.simpleContent !== undefined || def.attributes.length > 0) return NEVER
    if (def.particle === undefined) return node => node.empty
    const automaton = compileContent(def.particle, d => this.resolve(d))
    if (automaton === undefined) return NEVER
    const { steps, accepting } = automaton
    const children = new Map<ElementDecl, Check>()
    const childCheck = (d: ElementDecl): Check => {
      let c = children.get(d)
      if (c === undefined) children.set(d, c = this.element(d))
      return c
    }
    return node => {
      if (!node.blank) return false
      let state = 0
      for (const child of node.elements) {
        const candidates = steps[state].get(child.name)
        if (candidates === undefined) return false
        const step = candidates.length === 1 ? (candidates[0].ns === child.ns ? candidates[0] : undefined) : candidates.find(s => s.ns === child.ns)
        if (step === undefined) return false
        for (const d of step.decls) if (!childCheck(d)(child)) return false
        state = step.to
      }
      return accepting[state]
    }
  }
}
