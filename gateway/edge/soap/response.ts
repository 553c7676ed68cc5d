/**
 * Turns the provider's SOAP response into what the client receives: the request's X-Road header
 * elements echoed in their order (reference §1.4) followed by `requestHash`, and the provider's Body.
 * Provider Faults travel back untouched.
 */
import { XmlDocument, XmlElement } from 'libxml2-wasm'
import { XRoadError } from '../../../protocol/errors.ts'
import { xsdViolations } from '../../../schemas/library.ts'
import { clientKey, serviceText } from '../../../protocol/identifiers.ts'
import type { HookElement, LibraryXsd } from '../../../schemas/xsd-hooks.ts'
import { bodyNode, scannedBody } from './request.ts'
import { LazyDocument } from './lazy-document.ts'
import { bodyViolations } from './validate.ts'
import { checkWellFormed, type CheckedDocument } from '../../../protocol/soap/well-formed.ts'
import { childElements, envelopeParts, nsAttributes, parseXml, requestHashElement, xmlEscape } from '../../../protocol/soap/xml.ts'
import { byteOffset, scanEnvelope, type EnvelopeScan } from './scan.ts'
import { SOAP_ENV } from '../../../protocol/soap/namespaces.ts'
import { NotSure } from './xml-text.ts'
import { TextElement } from './text-element.ts'
import { domFields, readXRoadHeader, type XRoadSoapHeader } from '../../../protocol/soap/xroad-header.ts'

export interface ProviderSoapResponse {
  /** The Fault's code, normalised later for the log; undefined for a normal response. */
  faultCode?: string
  /**
   * The body's wrapper element, for XSD validation while the document is alive, and the same
   * element read from the response's text when the answer is spliced (for the XSD hooks).
   */
  withBody: <T>(use: (body: XmlElement, text?: HookElement) => T) => T
  /**
   * The body's violations of `xsd` (empty when valid): from the compiled check when the answer
   * was read without libxml2 and it accepts, else from libxml2 as `withBody` would give them.
   */
  violations: (xsd: LibraryXsd) => string[]
  /** The response to send (UTF-8), built on demand. */
  build: () => Buffer
  dispose: () => void
  /** The answer is the provider's bytes with our Header put in (see `splice`), not a re-serialisation. */
  spliced: boolean
}

export interface EchoSource {
  header: XRoadSoapHeader
  headerXml: string
  headerIsText: boolean
  headerNamespaces: Record<string, string>
  requestHash: string
}

const CODE = 'Server.ServerProxy.ServiceFailed.InvalidSoap'

/** `reader: 'tree'` skips the byte reader; tests use it to hold the two readers against each other. */
export function readProviderResponse (bytes: Buffer, request: EchoSource, reader: 'auto' | 'tree' = 'auto'): ProviderSoapResponse {
  const checked = reader === 'auto' ? checkWellFormed(bytes) : undefined
  if (checked !== undefined) {
    // Well-formed, so libxml2 would parse it: the scan's reading and errors are those after a parse.
    const read = fromScan(new LazyDocument(bytes, CODE), bytes, request, checked)
    if (read !== undefined) return read
  }
  const doc = parseXml(bytes, CODE)
  try {
    return (reader === 'auto' && checked === undefined ? responseFromBytes(doc, bytes, request) : undefined) ?? responseFromTree(doc, bytes, request)
  } catch (err) {
    doc.dispose()
    throw err
  }
}

/**
 * A plain UTF-8 response (see envelope-scan.ts) that is not a Fault: the echoed X-Road fields are
 * read from the bytes, and the answer is spliced rather than serialised. Undefined hands over to
 * the tree reader, which also keeps deciding every error the scan does not rule out.
 */
export function responseFromBytes (doc: XmlDocument, bytes: Buffer, request: EchoSource): ProviderSoapResponse | undefined {
  return fromScan(new LazyDocument(bytes, CODE, doc), bytes, request, undefined)
}

/** `checked`: the answer's checked text, when libxml2 has not parsed it (`doc` parses on demand). */
function fromScan (doc: LazyDocument, bytes: Buffer, request: EchoSource, checked: CheckedDocument | undefined): ProviderSoapResponse | undefined {
  const headerBytes = request.headerIsText ? Buffer.from(request.headerXml, 'utf8') : undefined
  const scan = scanEnvelope(bytes, headerBytes === undefined ? undefined : { text: request.headerXml, bytes: headerBytes, namespaces: request.headerNamespaces }, checked)
  if (scan === undefined || (scan.body.ns === SOAP_ENV && scan.body.name === 'Fault')) return undefined
  try {
    // A Header that repeats the request's as sent echoes what was sent: nothing to compare.
    if (scan.header !== undefined && scan.header.echoed !== true) checkConsistent(readXRoadHeader(scan.header.fields, false), request.header)
  } catch (err) {
    if (err instanceof NotSure) return undefined
    throw err
  }
  let body: XmlElement | undefined
  const element = (): XmlElement => body ??= scannedBody(doc.get())
  const node = checked === undefined ? undefined : bodyNode(checked, scan)
  let text: HookElement | undefined
  // The checked tree's element reads as libxml2 would, so the hooks read it too.
  const bodyText = (): HookElement => text ??= node ?? TextElement.body(scan)
  return {
    withBody: use => use(element(), bodyText()),
    violations: xsd => bodyViolations(xsd, node, bodyText(), element),
    build: () => splice(bytes, scan, request, headerBytes),
    dispose: () => doc.dispose(),
    spliced: true,
  }
}

function responseFromTree (doc: XmlDocument, bytes: Buffer, request: EchoSource): ProviderSoapResponse {
  const { header, body, prefix } = envelopeParts(doc, CODE)
  if (body.name === 'Fault' && body.namespaceUri === SOAP_ENV) {
    const code = childElements(body).find(e => e.name === 'faultcode')?.content.trim() ?? ''
    return { faultCode: code.replace(/^[^:]*:/, ''), withBody: use => use(body), violations: xsd => xsdViolations(xsd, body), build: () => bytes, dispose: () => doc.dispose(), spliced: false }
  }
  if (header !== undefined) checkConsistent(readXRoadHeader(domFields(childElements(header)), false), request.header)
  return {
    withBody: use => use(body),
    violations: xsd => xsdViolations(xsd, body),
    build: () => Buffer.from(assemble(doc.root, prefix, body.parent as XmlElement, request), 'utf8'),
    dispose: () => doc.dispose(),
    spliced: false,
  }
}

/** A provider that echoes X-Road fields must echo the ones it was sent (X-Road checks the same). */
function checkConsistent (echoed: XRoadSoapHeader, sent: XRoadSoapHeader): void {
  const differs: string[] = []
  if (echoed.id !== undefined && echoed.id !== sent.id) differs.push('id')
  if (echoed.client !== undefined && sent.client !== undefined && clientKey(echoed.client) !== clientKey(sent.client)) differs.push('client')
  if (echoed.service !== undefined && sent.service !== undefined && serviceText(echoed.service) !== serviceText(sent.service)) differs.push('service')
  if (echoed.userId !== undefined && echoed.userId !== sent.userId) differs.push('userId')
  if (echoed.issue !== undefined && echoed.issue !== sent.issue) differs.push('issue')
  if (differs.length > 0) throw new XRoadError('Server.ClientProxy.InconsistentResponse', `Provider response headers do not match the request: ${differs.join(', ')}`)
}

/**
 * Our Header's start and end tags, for an envelope whose element uses `prefix` and may declare a
 * default namespace itself.
 */
function headerTags (prefix: string, envelopeDeclaresDefault: boolean, request: EchoSource): { open: string; close: string } {
  // The echoed elements keep the prefixes they had in the request, so the request's in-scope
  // declarations are repeated on the Header (never rebinding the envelope's own prefix).
  let h = prefix === '' ? '' : `${prefix}:`
  let headerNs = nsAttributes(request.headerNamespaces, prefix)
  // The echo resolves its prefixes through the request's bindings (copied text does for all of
  // them; canonical elements still for the default namespace, as exclusive c14n writes no
  // xmlns=""), so none of the provider's envelope bindings may show through: when the request
  // binds the envelope's prefix to another namespace (or has no default namespace while the
  // envelope prefix is the default), the Header gets a prefix of its own; a default namespace
  // the request lacks is undeclared.
  const bound = (pfx: string): boolean => Object.hasOwn(request.headerNamespaces, pfx)
  const noDefault = !bound('') ? ' xmlns=""' : ''
  if ((bound(prefix) && request.headerNamespaces[prefix] !== SOAP_ENV) || (prefix === '' && noDefault !== '')) {
    let own = 'soapenv'
    for (let n = 1; bound(own); n++) own = `soapenv${n}`
    h = `${own}:`
    headerNs = ` xmlns:${own}="${SOAP_ENV}"${nsAttributes(request.headerNamespaces)}${noDefault}`
  } else if (envelopeDeclaresDefault) {
    headerNs += noDefault
  }
  return { open: `<${h}Header${headerNs}>`, close: `</${h}Header>` }
}

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
const DECLARATION_BYTES = Buffer.from(DECLARATION)

/**
 * The answer from the provider's own bytes: everything up to its Header (or up to the Body when it
 * sent none), our Header, then everything from the end of its Header on. The bytes are UTF-8 (the
 * scan covers nothing else), so under our declaration they mean what they meant; the Envelope start
 * tag is the provider's, so the Body sees the same namespace bindings it was written with.
 */
function splice (bytes: Buffer, scan: EnvelopeScan, request: EchoSource, headerBytes: Buffer | undefined): Buffer {
  const { open, close } = headerTags(scan.prefix, scan.declaresDefault, request)
  const at = byteOffset(scan, scan.header?.start ?? scan.bodyStart)
  const resume = scan.header === undefined ? at : byteOffset(scan, scan.header.end)
  const end = requestHashElement(request.requestHash) + close
  // The echo as UTF-8 when the scan already has it (`headerBytes`), else encoded here.
  const header = headerBytes === undefined ? [Buffer.from(open + request.headerXml + end, 'utf8')] : [Buffer.from(open, 'utf8'), headerBytes, Buffer.from(end, 'utf8')]
  return Buffer.concat([DECLARATION_BYTES, bytes.subarray(scan.contentStart, at), ...header, bytes.subarray(resume)])
}

/** The answer re-serialised from the tree, for responses the scan does not cover. */
function assemble (envelope: XmlElement, prefix: string, body: XmlElement, request: EchoSource): string {
  const p = prefix === '' ? '' : `${prefix}:`
  const declarations = envelope.nsDeclarations
  let attrs = nsAttributes(declarations)
  for (const a of envelope.attrs) attrs += ` ${a.prefix === '' ? '' : a.prefix + ':'}${a.name}="${xmlEscape(a.value)}"`
  const { open, close } = headerTags(prefix, Object.hasOwn(declarations, ''), request)
  return `${DECLARATION}<${p}Envelope${attrs}>${open}${request.headerXml}${requestHashElement(request.requestHash)}${close}${body.toString({ format: false })}</${p}Envelope>`
}
