/**
 * XML → JSON for the bridge in one pass over the text of a SOAP envelope, by the rules of
 * mapping.ts and its XSD-driven shapes, without walking libxml2's tree (a call into wasm and a
 * wrapper object per node, name and attribute).
 *
 * It reads documents libxml2 has parsed without error, or that the well-formedness check
 * (protocol/soap/well-formed.ts) has accepted, and covers what it reads with certainty: UTF-8 XML
 * 1.0 whose Body element maps without a single problem. Anything else — an
 * encoding, a construct the text reader does not cover (protocol/soap/text-reader.ts), an element
 * or attribute the XSD does not declare, a value not of its type, xsi:nil where the XSD does not
 * allow it — yields `undefined`, and the caller maps libxml2's tree as before, so every error and
 * its message stays the tree mapper's.
 *
 * The element read comes back too, as the XSD type hooks read elements (`HookElement`): the hooks
 * can walk it instead of the tree. An element whose children were not read (a nil element) gives
 * up when asked for them, and the hooks walk the tree.
 */
import { SOAP_ENV } from '../../protocol/soap/namespaces.ts'
import {
  TextUnsure, attributeValue, cdataValue, contentText, declare, isNamespaceDeclaration, markupAt, readStartTag, resolveName,
  skipElement, skipSpecial, soapBodyContent, tagEnd, textValue, utf8Document, type BodyContent, type RawAttribute, type Scope, type StartTag,
} from '../../protocol/soap/text-reader.ts'
import type { HookElement } from '../../schemas/xsd-hooks.ts'
import { XSI, type ElementDecl, type XsdModel } from '../../schemas/xsd-model.ts'
import { fromText, isNilValue, ordered, type ChildRule, type ComplexRules, type XmlJsonMapper } from './mapping.ts'

export interface TextMapped {
  /** The JSON of the Body's element: deep-equal to the tree mapper's. */
  value: unknown
  /** The same element, for the XSD type hooks. */
  element: HookElement
}

export class TextJsonMapper {
  private readonly shapes: XmlJsonMapper
  private readonly model: XsdModel

  /** `shapes`: the tree mapper whose rules (and cache of them) this one follows. */
  constructor (model: XsdModel, shapes: XmlJsonMapper) {
    this.model = model
    this.shapes = shapes
  }

  /** The Body element of the SOAP 1.1 envelope in `bytes` as JSON, if it is `declared` and covered. */
  read (bytes: Buffer, declared: ElementDecl): TextMapped | undefined {
    const src = utf8Document(bytes)
    return src === undefined ? undefined : this.map(src, declared, () => soapBodyContent(src, SOAP_ENV))
  }

  /**
   * The element whose start tag begins at `start` in `src`, found by a reader that has checked the
   * document (`scope`: the declarations in force inside it, its own included).
   */
  readElement (src: string, start: number, scope: Scope | undefined, declared: ElementDecl): TextMapped | undefined {
    return this.map(src, declared, () => {
      const tag = readStartTag(src, start)
      return { tag, scope, ...resolveName(scope, tag.name, false) }
    })
  }

  private map (src: string, declared: ElementDecl, find: () => BodyContent): TextMapped | undefined {
    try {
      const body = find()
      const decl = this.model.resolve(declared)
      if (body.local !== decl.name || body.ns !== decl.ns) return undefined
      const pass = new Pass(src, this.model, this.shapes)
      const element = pass.element(body.tag, body.scope, body.ns, body.local, decl)
      return { value: pass.value, element }
    } catch {
      // TextUnsure, a problem the tree mapper reports, or anything unforeseen: the tree decides.
      return undefined
    }
  }
}

/** One reading: `pos` and `value` carry each element's end and JSON back to its parent. */
class Pass {
  pos = 0
  value: unknown
  /** Problems `fromText` finds: any one ends the reading. */
  private readonly problems: string[] = []
  private readonly src: string
  private readonly model: XsdModel
  private readonly shapes: XmlJsonMapper

  constructor (src: string, model: XsdModel, shapes: XmlJsonMapper) {
    this.src = src
    this.model = model
    this.shapes = shapes
  }

  /** Reads the element whose start tag is `tag`; leaves its JSON in `value` and its end in `pos`. */
  element (tag: StartTag, scope: Scope | undefined, ns: string, local: string, declared: ElementDecl): TextNode {
    const src = this.src
    const decl = this.model.resolve(declared)
    const node = new TextNode(src, ns, local, tag, scope)
    const nil = nilAttribute(tag.attrs, scope)
    if (nil !== undefined && isNilValue(nil)) {
      if (!decl.nillable) throw new TextUnsure('xsi:nil on an element that is not nillable')
      this.pos = skipElement(src, tag)
      node.contentEnd = tag.empty ? tag.end : src.lastIndexOf('<', this.pos - 1)
      this.value = null
      return node // its children stay unread
    }
    const shape = this.shapes.shape(this.model.typeOf(decl))
    const problems = this.problems

    if ('simple' in shape) {
      this.pos = tag.end
      const text = tag.empty ? '' : this.ownText(tag, node)
      node.kids = []
      this.value = fromText(text, shape.simple, '', problems)
      if (problems.length > 0) throw new TextUnsure('a value not of its type')
      return node
    }

    const rules = shape.complex
    const out: Record<string, unknown> = {}
    for (const a of tag.attrs) {
      if (isNamespaceDeclaration(a.name)) continue
      const name = resolveName(scope, a.name, true)
      if (name.ns === XSI) continue
      const rule = rules.attributes.find(r => r.decl.name === name.local && r.decl.ns === name.ns)
      if (rule === undefined || rule.key in out) throw new TextUnsure('an attribute the schema does not declare')
      out[rule.key] = fromText(attributeValue(a.raw), rule.kind, '', problems)
    }
    for (const c of rules.children) if (c.repeated) out[c.key] = []
    const kids: TextNode[] = []
    let text = ''
    let i = tag.end
    if (tag.empty) {
      this.pos = tag.end
    } else {
      for (;;) {
        const lt = src.indexOf('<', i)
        if (lt === -1) throw new TextUnsure('an unclosed element')
        if (lt > i) text += this.charData(textValue(src.slice(i, lt)), rules.text !== undefined)
        const kind = markupAt(src, lt)
        if (kind === 'comment') { i = skipSpecial(src, lt, kind); continue }
        if (kind === 'cdata') {
          i = skipSpecial(src, lt, kind)
          text += this.charData(cdataValue(src.slice(lt + 9, i - 3)), rules.text !== undefined)
          continue
        }
        if (kind === 'end') {
          node.contentEnd = lt
          this.pos = tagEnd(src, lt)
          break
        }
        const childTag = readStartTag(src, lt)
        const childScope = declare(scope, childTag.attrs)
        const child = resolveName(childScope, childTag.name, false)
        const rule = childRule(rules, child.ns, child.local)
        kids.push(this.element(childTag, childScope, child.ns, child.local, rule.decl))
        if (rule.repeated) (out[rule.key] as unknown[]).push(this.value)
        else if (rule.key in out) throw new TextUnsure('an element that appears more than once')
        else out[rule.key] = this.value
        i = this.pos
      }
    }
    if (rules.text !== undefined) out['#text'] = fromText(text, rules.text, '', problems)
    if (problems.length > 0) throw new TextUnsure('a value not of its type')
    node.kids = kids
    this.value = ordered(out, rules)
    return node
  }

  /** The text of an element of simple type, which has no child elements. */
  private ownText (tag: StartTag, node: TextNode): string {
    const src = this.src
    let text = ''
    let i = tag.end
    for (;;) {
      const lt = src.indexOf('<', i)
      if (lt === -1) throw new TextUnsure('an unclosed element')
      if (lt > i) text += textValue(src.slice(i, lt))
      const kind = markupAt(src, lt)
      if (kind === 'comment') { i = skipSpecial(src, lt, kind); continue }
      if (kind === 'cdata') { i = skipSpecial(src, lt, kind); text += cdataValue(src.slice(lt + 9, i - 3)); continue }
      if (kind === 'element') throw new TextUnsure('an element inside an element of simple type')
      node.contentEnd = lt
      this.pos = tagEnd(src, lt)
      return text
    }
  }

  /** Character data in a complex element: kept as its text, or whitespace where only elements may stand. */
  private charData (text: string, keep: boolean): string {
    if (keep) return text
    if (text.trim() !== '') throw new TextUnsure('text in an element of element-only content')
    return ''
  }
}

/** The rule `byName` holds for `{ns}local` (the last declared of that name, as a map keeps it). */
function childRule (rules: ComplexRules, ns: string, local: string): ChildRule {
  const candidates = rules.byLocal.get(local)
  if (candidates !== undefined) {
    for (let k = candidates.length - 1; k >= 0; k--) if (candidates[k].decl.ns === ns) return candidates[k]
  }
  throw new TextUnsure('an element the schema does not declare')
}

function nilAttribute (attrs: readonly RawAttribute[], scope: Scope | undefined): string | undefined {
  for (const a of attrs) {
    if (a.name.endsWith(':nil') && resolveName(scope, a.name, true).ns === XSI) return attributeValue(a.raw)
  }
  return undefined
}

/** An element as read from the text, for the XSD type hooks. */
class TextNode implements HookElement {
  readonly ns: string
  readonly name: string
  contentEnd: number
  /** Child elements, once read; a nil element's are not. */
  kids: TextNode[] | undefined
  private readonly src: string
  private readonly tag: StartTag
  private readonly scope: Scope | undefined

  constructor (src: string, ns: string, name: string, tag: StartTag, scope: Scope | undefined) {
    this.src = src
    this.ns = ns
    this.name = name
    this.tag = tag
    this.scope = scope
    this.contentEnd = tag.end
  }

  text (): string {
    return contentText(this.src, this.tag.end, this.contentEnd, true)
  }

  content (): string {
    return contentText(this.src, this.tag.end, this.contentEnd, false)
  }

  attribute (name: string, ns: string): string | undefined {
    for (const a of this.tag.attrs) {
      if (isNamespaceDeclaration(a.name)) continue
      const n = resolveName(this.scope, a.name, true)
      if (n.local === name && n.ns === ns) return attributeValue(a.raw)
    }
    return undefined
  }

  children (): HookElement[] {
    if (this.kids === undefined) throw new TextUnsure('the children of an element that was not read')
    return this.kids
  }
}
