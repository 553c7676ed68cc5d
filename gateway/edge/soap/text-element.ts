/**
 * The Body's element read from the envelope's text, for the XSD type hooks (schemas/xsd-hooks.ts):
 * its name, attributes, text and, on demand, its child elements. The hooks walk it instead of
 * libxml2's tree, where every node costs a call into wasm and a wrapper object.
 *
 * Like every text reader here it relies on libxml2 having parsed the document without error, and
 * throws NotSure on anything it does not read exactly as libxml2 does; the hooks then walk the tree.
 */
import type { HookElement } from '../../../schemas/xsd-hooks.ts'
import { declare, findAttribute, resolve, type BodyElement, type EnvelopeScan, type Scope } from './scan.ts'
import { BANG, NotSure, QUESTION, SLASH, attributeValue, elementText, readStartTag, skipSpecial, tagEnd, type RawAttribute, type StartTag } from './xml-text.ts'

export class TextElement implements HookElement {
  readonly name: string
  private readonly src: string
  private readonly qname: string
  private readonly attrs: RawAttribute[]
  private readonly scope: Scope | undefined
  private readonly contentStart: number
  private readonly contentEnd: number
  private namespace: string | undefined

  constructor (src: string, tag: StartTag, scope: Scope | undefined, contentEnd: number) {
    this.src = src
    this.qname = tag.name
    const colon = tag.name.indexOf(':')
    this.name = colon === -1 ? tag.name : tag.name.slice(colon + 1)
    this.attrs = tag.attrs
    this.scope = scope
    this.contentStart = tag.end
    this.contentEnd = contentEnd
  }

  /** The scanned envelope's body element. */
  static body (scan: EnvelopeScan): TextElement {
    const b: BodyElement = scan.body
    return new TextElement(scan.text, b.tag, b.scope, b.contentEnd)
  }

  get ns (): string {
    return this.namespace ??= resolve(this.scope, this.qname).ns
  }

  text (): string {
    return elementText(this.src, this.contentStart, this.contentEnd, true)
  }

  content (): string {
    return elementText(this.src, this.contentStart, this.contentEnd)
  }

  attribute (name: string, ns: string): string | undefined {
    const a = findAttribute(this.attrs, this.scope, name, ns)
    return a === undefined ? undefined : attributeValue(a.raw)
  }

  children (): TextElement[] {
    const src = this.src
    const end = this.contentEnd
    const out: TextElement[] = []
    let open: { tag: StartTag; scope: Scope | undefined } | undefined
    let depth = 0 // open elements inside this one
    let i = this.contentStart
    for (;;) {
      const lt = src.indexOf('<', i)
      if (lt === -1 || lt >= end) break
      const next = src.charCodeAt(lt + 1)
      if (next === BANG) {
        i = skipSpecial(src, lt)
        if (i === -1) throw new NotSure('markup declaration')
      } else if (next === QUESTION) {
        throw new NotSure('processing instruction')
      } else if (next === SLASH) {
        i = src.indexOf('>', lt) + 1
        if (i === 0) throw new NotSure('end tag')
        if (--depth === 0) out.push(new TextElement(src, open!.tag, open!.scope, lt))
      } else if (depth === 0) {
        const tag = readStartTag(src, lt)
        if (tag === undefined) throw new NotSure('start tag')
        const scope = declare(this.scope, tag.attrs)
        if (tag.empty) out.push(new TextElement(src, tag, scope, tag.end))
        else { open = { tag, scope }; depth = 1 }
        i = tag.end
      } else {
        i = tagEnd(src, lt)
        if (i === -1) throw new NotSure('tag')
        if (src.charCodeAt(i - 2) !== SLASH) depth++
      }
    }
    if (depth !== 0) throw new NotSure('unclosed element')
    return out
  }
}
