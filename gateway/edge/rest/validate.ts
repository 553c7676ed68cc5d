/**
 * Stage 4 (and 7) for REST: the request's path parameters, query and JSON body against the matched
 * endpoint's schemas, every violation collected into one `Client.InvalidBody`; the provider's JSON
 * response against the response schema.
 */
import { isUtf8 } from 'node:buffer'
import { XRoadError, schemaMismatch } from '../../../protocol/errors.ts'
import { ajvViolations, isJsonType } from '../../../schemas/library.ts'
import type { RestEndpoint, ServiceEntry } from '../../../registry/registry.ts'

export function findEndpoint (service: ServiceEntry, method: string, path: string): { endpoint: RestEndpoint; params: Record<string, string> } | undefined {
  for (const endpoint of service.endpoints) {
    if (endpoint.method !== method && endpoint.method !== '*') continue
    const m = endpoint.match.exec(path === '' ? '/' : path)
    if (m !== null) return { endpoint, params: { ...m.groups } }
  }
  return undefined
}

export function queryObject (query: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of new URLSearchParams(query)) {
    const seen = out[k]
    out[k] = seen === undefined ? v : Array.isArray(seen) ? [...seen, v] : [seen, v]
  }
  return out
}

export function validateRequest (endpoint: RestEndpoint, params: Record<string, string>, query: string, contentType: string | undefined, body: Buffer | undefined): void {
  const violations: string[] = []
  if (endpoint.params !== undefined && !endpoint.params(params)) violations.push(...ajvViolations('params', endpoint.params.errors))
  if (endpoint.query !== undefined) {
    const q = queryObject(query)
    if (!endpoint.query(q)) violations.push(...ajvViolations('query', endpoint.query.errors))
  }
  if (endpoint.body !== undefined) {
    if (body === undefined || body.length === 0) {
      violations.push('body: a JSON body is required')
    } else if (!isJsonType(contentType)) {
      violations.push(`body: expected Content-Type application/json, got '${contentType ?? ''}'`)
    } else {
      // JSON is UTF-8 (RFC 8259). Decoding would quietly turn bad bytes into U+FFFD, so the schema
      // would pass a body the provider then reads differently: refuse it instead.
      if (!isUtf8(body)) throw new XRoadError('Client.InvalidBody', 'The JSON body is not valid UTF-8')
      let data: unknown
      try {
        data = JSON.parse(body.toString('utf8'))
      } catch (err) {
        throw new XRoadError('Client.InvalidBody', `Malformed JSON body: ${(err as Error).message}`)
      }
      if (!endpoint.body(data)) violations.push(...ajvViolations('body', endpoint.body.errors))
    }
  }
  if (violations.length > 0) throw schemaMismatch('Client.InvalidBody', violations)
}

/** Returns the violations (empty when valid); the caller decides between enforce and warn. */
export function responseViolations (endpoint: RestEndpoint, status: number, contentType: string | undefined, body: Buffer): string[] {
  if (endpoint.response === undefined || status < 200 || status > 299) return []
  if (!isJsonType(contentType)) return [`response: expected Content-Type application/json, got '${contentType ?? ''}'`]
  let data: unknown
  try {
    data = JSON.parse(body.toString('utf8'))
  } catch (err) {
    return [`response: malformed JSON: ${(err as Error).message}`]
  }
  return endpoint.response(data) ? [] : ajvViolations('response', endpoint.response.errors)
}
