/**
 * Request hashes bind a response to the exact request it answers.
 * - SOAP `requestHash`: SHA-512 over the raw request bytes (reference §1.4).
 * - REST `X-Road-Request-Hash` (reference §2.4): h = SHA-512 of the header part
 *   `METHOD CRLF path[?query] CRLF` + `name:value CRLF` for each retained header in order;
 *   with a body, SHA-512(h || SHA-512(body)); base64 of the result.
 */
import { hash } from 'node:crypto'

export const SHA512_URI = 'http://www.w3.org/2001/04/xmlenc#sha512'

export function soapRequestHash (body: Buffer): string {
  return hash('sha512', body, 'base64')
}

/** SHA-512 of a request body (undefined for none): computed once, the message log records it too. */
export function bodyDigest (body: Buffer | undefined): Buffer | undefined {
  return body === undefined || body.length === 0 ? undefined : hash('sha512', body, 'buffer')
}

/** `digest` is `bodyDigest(body)` of the request's body. */
export function restRequestHash (method: string, pathAndQuery: string, headers: string[], digest: Buffer | undefined): string {
  const part = headerPart(`${method}\r\n${pathAndQuery}\r\n`, headers)
  // One-shot hashes: no Hash object per step (this runs on every REST request).
  if (digest === undefined) return hash('sha512', part, 'base64')
  return hash('sha512', Buffer.concat([hash('sha512', part, 'buffer'), digest], 128), 'base64')
}

/**
 * A header part: `first`, then `name:value CRLF` for each header in the order sent. The REST request
 * hash covers `METHOD CRLF path?query CRLF` + the forwarded headers; the message log digests a
 * request's part the same way and a response's as `status CRLF` + its headers.
 */
export function headerPart (first: string, headers: string[] | undefined): string {
  let part = first
  if (headers !== undefined) for (let i = 0; i + 1 < headers.length; i += 2) part += `${headers[i]}:${headers[i + 1]}\r\n`
  return part
}
