/**
 * The edge's own rules, before any exchange: requests the HTTP parser refuses before Fastify sees them — conflicting Content-Length /
 * Transfer-Encoding (request smuggling), malformed request lines, oversize header blocks, clients
 * too slow to send their headers — still get an X-Road typed answer, then the connection is closed
 * (after a parse error the byte stream can no longer be trusted).
 */
import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import type { Server as HttpServer } from 'node:http'
import type { onRequestHookHandler } from 'fastify'
import { ERROR_STATUS, XRoadError, type ErrorCode } from '../../protocol/errors.ts'

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

/**
 * The `onRequest` hook: every request starts its exchange here (REST or SOAP, told by the URL), and
 * the header rules Node leaves to us are checked: the header count, and exactly one Host.
 * Callback style: it runs on every request, and an async hook costs a promise per call.
 */
export function edgeChecks (headerCount: number, isReady: () => boolean): onRequestHookHandler {
  return function (req, reply, done) {
    const url = req.raw.url ?? ''
    const protocol = url === '/' || url.startsWith('/?') ? 'soap' : 'rest'
    req.exchange = { protocol, requestId: req.id }
    // While draining, every answer closes its connection, so keep-alive clients reconnect elsewhere.
    if (!isReady()) reply.header('connection', 'close')
    // Node drops header fields past maxHeadersCount silently; one more than the limit is kept so that
    // a request over the limit is refused rather than read with fields missing.
    const raw = req.raw.rawHeaders
    if (raw.length / 2 > headerCount) {
      return done(new XRoadError('Client.RequestHeaderTooLarge', `The request has more than ${headerCount} header fields`))
    }
    // RFC 9112 §3.2: exactly one Host in HTTP/1.1 (two would let hops disagree on the target).
    let hosts = 0
    for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 4 && raw[i].toLowerCase() === 'host') hosts++
    if (hosts > 1 || (hosts === 0 && req.raw.httpVersion !== '1.0')) return done(new XRoadError('Client.BadRequest', 'An HTTP/1.1 request needs exactly one Host header'))
    done()
  }
}

/**
 * The same socket-level rules on every server of the node (the TLS one and the optional plain one):
 * the header-count cap Node enforces, CONNECT refused (the node never opens a tunnel), and parser
 * refusals answered with X-Road errors. `refused` counts each refusal (metrics).
 */
export function guardServers (main: HttpServer, plain: HttpServer | undefined, headerCount: number, refused: (code: ErrorCode) => void): void {
  for (const server of plain === undefined ? [main] : [main, plain]) {
    server.maxHeadersCount = headerCount + 1
    server.on('connect', (_req, socket) => {
      refused('Client.InvalidHttpMethod')
      refuseOnSocket(socket as Socket, 'Client.InvalidHttpMethod', 'CONNECT is not supported')
    })
  }
  // Fastify attaches its parser-error handler to the main server only.
  plain?.on('clientError', makeClientErrorHandler(code => { refused(code) }))
}
