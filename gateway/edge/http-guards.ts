/**
 * Requests the HTTP parser refuses before Fastify sees them — conflicting Content-Length /
 * Transfer-Encoding (request smuggling), malformed request lines, oversize header blocks, clients
 * too slow to send their headers — still get an X-Road typed answer, then the connection is closed
 * (after a parse error the byte stream can no longer be trusted).
 */
import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import { ERROR_STATUS, type ErrorCode } from '../../protocol/errors.ts'

const REASON: Record<number, string> = { 400: 'Bad Request', 405: 'Method Not Allowed', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }

export function classifyClientError (err: { code?: string; reason?: string }): { code: ErrorCode; message: string } {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 'Client.RequestTimeout', message: 'The request was not received in time' }
    case 'HPE_HEADER_OVERFLOW':
      return { code: 'Client.RequestHeaderTooLarge', message: 'The request headers exceed the limit of this node' }
    default:
      return { code: 'Client.BadRequest', message: `Malformed HTTP request (${err.code ?? 'parse error'}${err.reason === undefined ? '' : ': ' + err.reason})` }
  }
}

export function makeClientErrorHandler (onRefused: (code: ErrorCode, err: Error) => void): (err: Error & { code?: string }, socket: Socket) => void {
  return (err, socket) => {
    // A reset or an already closed socket leaves nobody to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return
    const { code, message } = classifyClientError(err)
    onRefused(code, err)
    if (!socket.writable) {
      socket.destroy()
      return
    }
    refuseOnSocket(socket, code, message)
  }
}

/** Writes a typed X-Road error straight on the socket and closes it. */
export function refuseOnSocket (socket: Socket, code: ErrorCode, message: string): void {
  const status = ERROR_STATUS[code]
  const id = randomUUID()
  const body = JSON.stringify({ type: code, message, detail: id })
  socket.end(`HTTP/1.1 ${status} ${REASON[status] ?? 'Bad Request'}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `X-Road-Error: ${code}\r\nX-Road-Request-Id: ${id}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  // A peer that never reads must not keep the socket.
  setTimeout(() => socket.destroy(), 2000).unref()
}
