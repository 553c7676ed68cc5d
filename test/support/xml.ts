/** Parses XML for a test, hands the document to `use`, and always frees it (libxml2 memory is manual). */
import { XmlDocument } from 'libxml2-wasm'

export function withDoc<T> (xml: string | Buffer, use: (doc: XmlDocument) => T): T {
  const doc = typeof xml === 'string' ? XmlDocument.fromString(xml) : XmlDocument.fromBuffer(xml)
  try {
    return use(doc)
  } finally {
    doc.dispose()
  }
}
