/** Header rules shared by the edges: what never crosses the node, and what the node owns. */
import { clientKey, serviceText } from '../../../protocol/identifiers.ts'
import type { Exchange } from '../../pipeline/exchange.ts'

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

/** Every value of a request header, from the raw list: repeated X-Road headers must be detected, not merged. */
export function rawHeaderValues (raw: string[], lowerName: string): string[] {
  const values: string[] = []
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === lowerName) values.push(raw[i + 1])
  return values
}

/** A header record (as Fastify takes it) as an alternating name/value list. */
export function flattenHeaders (headers: Record<string, string | string[]>): string[] {
  const out: string[] = []
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) out.push(name, v)
  }
  return out
}

/** Response headers that tie the answer to the request (also set on gateway errors where known). */
export function evidenceHeaders (ex: Exchange): Record<string, string> {
  const h: Record<string, string> = { 'x-road-request-id': ex.requestId }
  if (ex.messageId !== undefined) h['x-road-id'] = ex.messageId
  if (ex.clientId !== undefined) h['x-road-client'] = ex.client?.key ?? clientKey(ex.clientId)
  if (ex.serviceId !== undefined) h['x-road-service'] = serviceText(ex.serviceId)
  if (ex.requestHash !== undefined) h['x-road-request-hash'] = ex.requestHash
  return h
}
