/**
 * Request hashes bind a response to the exact request it answers.
 * - SOAP `requestHash`: SHA-512 over the raw request bytes (reference §1.4).
 * - REST `X-Road-Request-Hash` (reference §2.4): h = SHA-512 of the header part
 *   `METHOD CRLF path[?query] CRLF` + `name:value CRLF` for each retained header in order;
 *   with a body, SHA-512(h || SHA-512(body)); base64 of the result.
 */
import { createHash, hash } from 'node:crypto'

export const SHA512_URI = 'http://www.w3.org/2001/04/xmlenc#sha512'

export function soapRequestHash (body: Buffer): string {
  return hash('sha512', body, 'base64')
}

export function restRequestHash (method: string, pathAndQuery: string, headers: string[], body: Buffer | undefined): string {
  let part = `${method}\r\n${pathAndQuery}\r\n`
  for (let i = 0; i < headers.length; i += 2) part += `${headers[i]}:${headers[i + 1]}\r\n`
  const headerDigest = createHash('sha512').update(part, 'utf8').digest()
  if (body === undefined || body.length === 0) return headerDigest.toString('base64')
  return createHash('sha512').update(headerDigest).update(hash('sha512', body, 'buffer')).digest('base64')
}
