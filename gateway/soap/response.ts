/**
 * Turns the provider's SOAP response into what the client receives: the request's X-Road header
 * elements echoed in their order (reference §1.4) followed by `requestHash`, and the provider's Body.
 * Provider Faults travel back untouched.
 */
import { XmlElement } from 'libxml2-wasm'
import { XRoadError } from '../errors.ts'
import { clientKey, serviceText } from '../identifiers.ts'
import { SHA512_URI } from '../request-hash.ts'
import { childElements, envelopeParts, parseXml } from './envelope.ts'
import { xmlEscape } from './fault.ts'
import { SOAP_ENV, XROAD } from './namespaces.ts'
import { domFields, readXRoadHeader, type XRoadSoapHeader } from './xroad-header.ts'

export interface ProviderSoapResponse {
  /** The Fault's code, normalised later for the log; undefined for a normal response. */
  faultCode?: string
  /** The body's wrapper element, for XSD validation while the document is alive. */
  withBody: <T>(use: (body: XmlElement) => T) => T
  /** The response to send, built on demand. */
  build: () => string
  dispose: () => void
}

export interface EchoSource {
  header: XRoadSoapHeader
  headerXml: string
  headerIsText: boolean
  headerNamespaces: Record<string, string>
  requestHash: string
}

export function readProviderResponse (bytes: Buffer, request: EchoSource): ProviderSoapResponse {
  const doc = parseXml(bytes, 'Server.ServerProxy.ServiceFailed.InvalidSoap')
  try {
    const { header, body, prefix } = envelopeParts(doc, 'Server.ServerProxy.ServiceFailed.InvalidSoap')
    if (body.name === 'Fault' && body.namespaceUri === SOAP_ENV) {
      const code = childElements(body).find(e => e.name === 'faultcode')?.content.trim() ?? ''
      return { faultCode: code.replace(/^[^:]*:/, ''), withBody: use => use(body), build: () => bytes.toString('utf8'), dispose: () => doc.dispose() }
    }
    if (header !== undefined) checkConsistent(readXRoadHeader(domFields(childElements(header)), false), request.header)
    return {
      withBody: use => use(body),
      build: () => assemble(doc.root, prefix, body.parent as XmlElement, request),
      dispose: () => doc.dispose(),
    }
  } catch (err) {
    doc.dispose()
    throw err
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

function nsAttributes (namespaces: Record<string, string>, skipPrefix?: string): string {
  let out = ''
  for (const [prefix, uri] of Object.entries(namespaces)) {
    if (prefix === skipPrefix) continue
    out += prefix === '' ? ` xmlns="${xmlEscape(uri)}"` : ` xmlns:${prefix}="${xmlEscape(uri)}"`
  }
  return out
}

function assemble (envelope: XmlElement, prefix: string, bodyElement: XmlElement, request: EchoSource): string {
  const p = prefix === '' ? '' : `${prefix}:`
  let attrs = nsAttributes(envelope.nsDeclarations)
  for (const a of envelope.attrs) attrs += ` ${a.prefix === '' ? '' : a.prefix + ':'}${a.name}="${xmlEscape(a.value)}"`
  // The echoed elements keep the prefixes they had in the request, so the request's in-scope
  // declarations are repeated on the Header (never rebinding the envelope's own prefix).
  let h = p
  let headerNs = nsAttributes(request.headerNamespaces, prefix)
  {
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
    } else if (Object.hasOwn(envelope.nsDeclarations, '')) {
      headerNs += noDefault
    }
  }
  const hash = `<requestHash xmlns="${XROAD}" algorithmId="${SHA512_URI}">${request.requestHash}</requestHash>`
  return `<?xml version="1.0" encoding="UTF-8"?><${p}Envelope${attrs}><${h}Header${headerNs}>${request.headerXml}${hash}</${h}Header>${bodyElement.toString({ format: false })}</${p}Envelope>`
}
