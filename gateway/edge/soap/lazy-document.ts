/**
 * libxml2's tree of a message, parsed only when something asks for it. A message the fast path
 * (protocol/soap/well-formed.ts and the compiled XSD check) settles is never parsed; anything that
 * needs the tree — a refusal to explain, a metaservice, a test — gets the same tree as before.
 */
import type { XmlDocument } from 'libxml2-wasm'
import { parseXml } from '../../../protocol/soap/xml.ts'

type Code = Parameters<typeof parseXml>[1]

export class LazyDocument {
  private readonly bytes: Buffer
  private readonly code: Code
  private doc: XmlDocument | undefined

  constructor (bytes: Buffer, code: Code, doc?: XmlDocument) {
    this.bytes = bytes
    this.code = code
    this.doc = doc
  }

  get (): XmlDocument {
    return this.doc ??= parseXml(this.bytes, this.code)
  }

  /** Frees the tree if it was parsed. */
  dispose (): void {
    this.doc?.dispose()
    this.doc = undefined
  }
}
