/** Header rules shared by the edges: what never crosses the node, and what the node owns. */
import { XRoadError } from '../../../protocol/errors.ts'
import { clientKey, parseClientHeader, serviceText, type ClientId } from '../../../protocol/identifiers.ts'
import { bodyDigest, restRequestHash } from '../../../protocol/request-hash.ts'
import { uuidV4 } from '../../../protocol/uuid.ts'
import type { Exchange } from '../../pipeline/exchange.ts'
import { ParseCache } from '../parse-cache.ts'

/** Hop-by-hop and connection-specific headers (RFC 9110 §7.6.1) plus those X-Road rewrites. */
const DROPPED = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'user-agent', 'server', 'content-length', 'expect', 'http2-settings',
])

/** X-Road headers only the node may set on a response. */
const NODE_OWNED = new Set([
  'x-road-id', 'x-road-client', 'x-road-service', 'x-road-request-id', 'x-road-request-hash', 'x-road-error',
])

const NO_TOKENS: ReadonlySet<string> = new Set()

/** Names listed in a `Connection` header are hop-by-hop too. */
function connectionTokens (value: string | undefined): ReadonlySet<string> {
  // The usual value names only a header that is dropped anyway: no set to build per message.
  if (value === undefined || value === '' || value === 'keep-alive') return NO_TOKENS
  return new Set(value.split(',').map(t => t.trim().toLowerCase()).filter(Boolean))
}

/**
 * Request headers to forward, from Node's raw header list (names as sent, in order). Drops hop-by-hop
 * headers and any client-sent X-Road-Request-Id / X-Road-Request-Hash (the node makes those).
 */
export function forwardableRequestHeaders (raw: string[]): string[] {
  let connection: string | undefined
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === 'connection') connection = raw[i + 1]
  const extra = connectionTokens(connection)
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase()
    if (DROPPED.has(name) || extra.has(name) || name === 'x-road-request-id' || name === 'x-road-request-hash') continue
    out.push(raw[i], raw[i + 1])
  }
  return out
}

/** Provider response headers the client may see. */
export function forwardableResponseHeaders (headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const extra = connectionTokens(typeof headers.connection === 'string' ? headers.connection : undefined)
  const out: Record<string, string | string[]> = {}
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined || DROPPED.has(name) || extra.has(name) || NODE_OWNED.has(name)) continue
    out[name] = value
  }
  return out
}

/**
 * Response headers that tie the answer to the request (also set on gateway errors where known),
 * added to `h` when given (the answer's own headers: no second object to merge per exchange).
 */
export function evidenceHeaders<H extends Record<string, string | string[]> = Record<string, string>> (ex: Exchange, h: H = {} as H): H {
  ;(h as Record<string, string>)['x-road-request-id'] = ex.requestId
  const out = h as Record<string, string>
  if (ex.messageId !== undefined) out['x-road-id'] = ex.messageId
  if (ex.clientId !== undefined) out['x-road-client'] = ex.client?.key ?? clientKey(ex.clientId)
  if (ex.serviceId !== undefined) out['x-road-service'] = serviceText(ex.serviceId)
  if (ex.requestHash !== undefined) out['x-road-request-hash'] = ex.requestHash
  return h
}

/** Parsed X-Road-Client values: the same few on almost every request. */
const CLIENT_IDS = new ParseCache<ClientId>()

/** X-Road request headers: carried to the provider and logged, each at most once. */
const SINGLE_HEADERS = new Set(['x-road-client', 'x-road-id', 'x-road-userid', 'x-road-issue', 'x-road-represented-party'])

export interface XRoadRequestHeaders {
  client: ClientId
  id: string | undefined
  userId: string | undefined
  issue: string | undefined
  representedParty: string | undefined
}

/**
 * The X-Road request headers, in one pass over Node's raw list: a repeated one is refused, never
 * merged; X-Road-Client is required and must be a valid client identifier.
 */
export function readXRoadHeaders (raw: string[]): XRoadRequestHeaders {
  const single: Record<string, string | undefined> = {}
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase()
    if (!SINGLE_HEADERS.has(name)) continue
    if (single[name] !== undefined) throw new XRoadError('Client.BadRequest', `Header ${name} is repeated; send it once`)
    single[name] = raw[i + 1]
  }
  const clientHeader = single['x-road-client']
  if (clientHeader === undefined || clientHeader.trim() === '') throw new XRoadError('Client.MissingHeader', 'The X-Road-Client header is required')
  return {
    client: CLIENT_IDS.get(clientHeader.trim(), parseClientHeader),
    id: single['x-road-id'],
    userId: single['x-road-userid'],
    issue: single['x-road-issue'],
    representedParty: single['x-road-represented-party'],
  }
}

/**
 * The request as it will be forwarded: its forwardable headers plus X-Road-Request-Id (and an
 * X-Road-Id the node makes when the client sent none). The request hash covers exactly this header
 * part (reference §2.4); the exchange keeps the hash, the body digest and the headers for the log.
 */
export function prepareForward (ex: Exchange, method: string, url: string, raw: string[], body: Buffer | undefined): string[] {
  const headers = forwardableRequestHeaders(raw)
  headers.push('X-Road-Request-Id', ex.requestId)
  if (ex.messageId === undefined) {
    ex.messageId = uuidV4()
    headers.push('X-Road-Id', ex.messageId)
  }
  const digest = bodyDigest(body)
  ex.requestHash = restRequestHash(method, url, headers, digest)
  if (digest !== undefined) ex.requestBodyDigest = digest.toString('base64')
  ex.requestHeaders = headers
  return headers
}
