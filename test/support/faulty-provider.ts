/**
 * A provider system that misbehaves on command, written on raw TCP so it can do what an HTTP
 * library would not: reset the connection, drip bytes, close in the middle of a response.
 * Every request that reaches it is counted (`hits`), so tests can prove what never got through.
 */
import { createServer, type Server, type Socket } from 'node:net'
import { once } from 'node:events'

export type Fault =
  | 'ok' // 200 with a small valid JSON object (REST) or SOAP response (SOAP request)
  | 'reset' // RST as soon as the request is read
  | 'hang' // reads the request, never answers
  | 'drip' // status line and headers, then one body byte every 100 ms
  | 'status500' | 'status503'
  | 'malformed' // 200 with a broken JSON / XML body
  | 'oversize' // 200 with a body larger than any test limit (256 KiB)
  | 'close-mid' // promises 1000 bytes, sends 10, closes
  | 'slow-ok' // answers like `ok` after `delayMs` (150 ms unless set)

export interface FaultyProvider {
  url: string
  hits: number
  /** The fault for the next requests: one value, or a function of the hit number (1-based). */
  fault: Fault | ((hit: number) => Fault)
  delayMs: number
  close (): Promise<void>
}

export const SOAP_OK = (id: string): string =>
  '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>' +
  '<rc:kerkoShtetasResponse xmlns:rc="http://ura.gov.al/demo/regjistri-civil/v1"><rc:gjetur>false</rc:gjetur></rc:kerkoShtetasResponse>' +
  `</s:Body></s:Envelope><!--${id}-->`

function response (status: number, type: string, body: string | Buffer, extra = ''): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  return Buffer.concat([Buffer.from(`HTTP/1.1 ${status} X\r\ncontent-type: ${type}\r\ncontent-length: ${bytes.length}\r\n${extra}\r\n`), bytes])
}

/** Reads one request (headers + Content-Length body) from the socket, then calls `done`. */
function readRequest (socket: Socket, done: (head: string) => void): void {
  let buf = Buffer.alloc(0)
  const onData = (chunk: Buffer): void => {
    buf = Buffer.concat([buf, chunk])
    const end = buf.indexOf('\r\n\r\n')
    if (end === -1) return
    const head = buf.subarray(0, end).toString('latin1')
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0)
    if (buf.length < end + 4 + length) return
    socket.off('data', onData)
    const rest = buf.subarray(end + 4 + length)
    buf = Buffer.alloc(0)
    done(head)
    if (rest.length > 0) socket.emit('data', rest)
  }
  socket.on('data', onData)
}

export async function startFaultyProvider (initial: Fault = 'ok'): Promise<FaultyProvider> {
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()
  const provider: FaultyProvider = { url: '', hits: 0, fault: initial, delayMs: 150, close: async () => {} }

  const serve = (socket: Socket): void => {
    readRequest(socket, head => {
      provider.hits++
      const fault = typeof provider.fault === 'function' ? provider.fault(provider.hits) : provider.fault
      const soap = /\r\ncontent-type:\s*text\/xml/i.test(head)
      const ok = soap ? response(200, 'text/xml; charset=utf-8', SOAP_OK(String(provider.hits))) : response(200, 'application/json', `{"ok":true,"hit":${provider.hits}}`)
      switch (fault) {
        case 'ok': socket.write(ok); break
        case 'slow-ok': { const t = setTimeout(() => { timers.delete(t); socket.write(ok) }, provider.delayMs); timers.add(t); break }
        case 'reset': socket.resetAndDestroy(); return
        case 'hang': return
        case 'status500': socket.write(response(500, 'application/json', '{"gabim":"db down"}')); break
        case 'status503': socket.write(response(503, 'text/plain', 'maintenance')); break
        case 'malformed': socket.write(soap ? response(200, 'text/xml', '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><unclosed>') : response(200, 'application/json', '{"ok":tru')); break
        case 'oversize': socket.write(response(200, soap ? 'text/xml' : 'application/json', Buffer.alloc(256 * 1024, 0x20))); break
        case 'close-mid': socket.end(Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"ok":true')); return
        case 'drip': {
          socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n')
          const t = setInterval(() => { if (!socket.destroyed) socket.write(' ') }, 100)
          timers.add(t)
          socket.once('close', () => { clearInterval(t); timers.delete(t) })
          return
        }
      }
      serve(socket)
    })
  }

  const server: Server = createServer(socket => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    serve(socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  provider.url = `http://127.0.0.1:${port}`
  provider.close = async () => {
    for (const t of timers) clearTimeout(t)
    for (const s of sockets) s.destroy()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }
  return provider
}

export const WSDL_PATH = new URL('../../schemas/demo/regjistri-civil.wsdl', import.meta.url).pathname
export const PROVA_REST = 'AL-DEV/NJQV/L21603004L/taksat-vendore/provaRest'
export const PROVA_SOAP_VERSION = 'v9'

/**
 * Extra configuration for fault tests: a REST service `provaRest` (GET/POST /data answering
 * `{ok: true}`, checked against a response schema) and version v9 of the civil registry's SOAP
 * service, both pointing at `url`. `resilience` is YAML for both services' `resilience:` block.
 */
export function faultyServicesYaml (url: string, opts: { timeoutMs?: number; resilience?: string; code?: string } = {}): string {
  const res = opts.resilience === undefined ? '' : `\n    resilience: ${opts.resilience}`
  const code = opts.code ?? 'provaRest'
  return `services:
  - provider: AL-DEV/NJQV/L21603004L/taksat-vendore
    code: ${code}
    type: rest
    adapter: { kind: rest, url: ${url}/api }
    timeoutMs: ${opts.timeoutMs ?? 400}${res}
    endpoints:
      - { method: GET, path: /data, response: { type: object, required: [ok] } }
      - { method: POST, path: /data, response: { type: object, required: [ok] } }
  - provider: AL-DEV/GOV/L01417001D/regjistri-civil
    code: kerkoShtetas
    version: ${PROVA_SOAP_VERSION}
    type: soap
    adapter: { kind: soap, url: ${url}/soap }
    wsdl: ${WSDL_PATH}
    xsd: http://ura.gov.al/demo/regjistri-civil/v1
    timeoutMs: ${opts.timeoutMs ?? 400}${res}
access:
  - service: AL-DEV/NJQV/L21603004L/taksat-vendore/${code}
    clients: [AL-DEV/GOV/K11503002N/e-albania, AL-DEV/NJQV/L21603004L/gjendja-civile]
`
}
