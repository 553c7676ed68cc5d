/**
 * The WSDL of a SOAP service as the node publishes it (getWsdl and the catalogue):
 * - every endpoint address is replaced by `http://example.org/xroad-endpoint` (reference §3), so the
 *   provider system's address never leaves the node;
 * - XSDs that the WSDL imports by a relative file name are taken from the schema library (by
 *   namespace) and placed inside `wsdl:types`, so the document stands on its own for a client that
 *   downloads it alone.
 */
import { XmlDocument, XmlElement } from 'libxml2-wasm'
import type { SchemaLibrary } from '../../schemas/library.ts'
import type { ServiceEntry } from '../../registry/registry.ts'

export const ANONYMOUS_ENDPOINT = 'http://example.org/xroad-endpoint'

const WSDL = 'http://schemas.xmlsoap.org/wsdl/'
const XSD = 'http://www.w3.org/2001/XMLSchema'
const NS = { wsdl: WSDL, xsd: XSD, soap: 'http://schemas.xmlsoap.org/wsdl/soap/', soap12: 'http://schemas.xmlsoap.org/wsdl/soap12/', http: 'http://schemas.xmlsoap.org/wsdl/http/' }
const PLACEHOLDER = 'ura-inline-schemas'

const cache = new WeakMap<ServiceEntry, string>()

/** Undefined when the service has no WSDL (a REST service). */
export function publishedWsdl (service: ServiceEntry, library: SchemaLibrary): string | undefined {
  if (service.wsdl === undefined) return undefined
  let text = cache.get(service)
  if (text === undefined) {
    text = publishWsdl(service.wsdl, library)
    cache.set(service, text)
  }
  return text
}

/** A schemaLocation that names a file next to the WSDL, not a URL a client could fetch. */
function isLocalFile (location: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(location)
}

/**
 * Removes the local schemaLocation of each import the library can satisfy and returns those
 * namespaces; the caller inlines them (imports inside inlined schemas are handled the same way).
 */
function detachLocalImports (root: XmlElement, library: SchemaLibrary): string[] {
  const found: string[] = []
  for (const node of root.find('.//xsd:import[@schemaLocation]', NS)) {
    const el = node as XmlElement
    const ns = el.attr('namespace')?.value
    const location = el.attr('schemaLocation')!.value
    if (ns === undefined || !isLocalFile(location) || library.xsdSource(ns) === undefined) continue
    el.attr('schemaLocation')!.remove()
    found.push(ns)
  }
  return found
}

export function publishWsdl (wsdl: string, library: SchemaLibrary): string {
  const doc = XmlDocument.fromString(wsdl)
  try {
    for (const node of doc.find('//wsdl:port/soap:address | //wsdl:port/soap12:address | //wsdl:port/http:address', NS)) {
      (node as XmlElement).setAttr('location', ANONYMOUS_ENDPOINT)
    }
    const types = doc.get('/wsdl:definitions/wsdl:types', NS) as XmlElement | null
    const pending = types === null ? [] : detachLocalImports(types, library)
    const inlined: string[] = []
    const schemas: string[] = []
    while (pending.length > 0) {
      const ns = pending.shift()!
      if (inlined.includes(ns)) continue
      inlined.push(ns)
      const xsd = XmlDocument.fromString(library.xsdSource(ns)!)
      try {
        pending.push(...detachLocalImports(xsd.root, library))
        schemas.push(xsd.root.toString({ format: false }))
      } finally {
        xsd.dispose()
      }
    }
    // The library's schemas join those already in wsdl:types (order does not matter to XSD).
    if (types !== null && schemas.length > 0) types.addComment(PLACEHOLDER)
    const out = doc.toString({ format: false })
    return schemas.length === 0 ? out : out.replace(`<!--${PLACEHOLDER}-->`, schemas.join(''))
  } finally {
    doc.dispose()
  }
}
