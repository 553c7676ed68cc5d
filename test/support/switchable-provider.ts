/**
 * A provider system that can go offline and come back on the same port (a municipal server during a
 * power cut), answering each request as the test says and remembering every request that reached
 * it: X-Road-Id, path, body, Idempotency-Key — so tests can count deliveries per message.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received { id: string; method: string; path: string; body: string; key: string | undefined; requestId: string | undefined; at: number }

export interface SwitchableProvider {
  url: string
  port: number
  received: Received[]
  /** Answer for each request (default 200 `{"ok":true,"id":…}`). */
  answer: (r: Received) => { status: number; body?: string; type?: string; delayMs?: number }
  /** Copies of an id that reached the provider. */
  count (id: string): number
  stop (): Promise<void>
  start (): Promise<void>
  close (): Promise<void>
}

export async function startSwitchableProvider (): Promise<SwitchableProvider> {
  let server: Server | undefined
  let port = 0
  const p: SwitchableProvider = {
    url: '',
    port: 0,
    received: [],
    answer: r => ({ status: 200, body: JSON.stringify({ ok: true, id: r.id }) }),
    count: id => p.received.filter(r => r.id === id).length,
    async start () {
      server = createServer((req: IncomingMessage, res) => {
        const chunks: Buffer[] = []
        req.on('data', c => chunks.push(c as Buffer))
        req.on('end', () => {
          const header = (name: string): string | undefined => { const v = req.headers[name]; return typeof v === 'string' ? v : undefined }
          const r: Received = { id: header('x-road-id') ?? '', method: req.method ?? '', path: req.url ?? '', body: Buffer.concat(chunks).toString(), key: header('idempotency-key'), requestId: header('x-road-request-id'), at: Date.now() }
          p.received.push(r)
          const a = p.answer(r)
          const send = (): void => { res.writeHead(a.status, { 'content-type': a.type ?? 'application/json' }).end(a.body ?? '') }
          if (a.delayMs !== undefined) setTimeout(send, a.delayMs)
          else send()
        })
      })
      server.keepAliveTimeout = 100
      await new Promise<void>((resolve, reject) => { server!.once('error', reject).listen(port, '127.0.0.1', () => resolve()) })
      port = p.port = (server.address() as AddressInfo).port
      p.url = `http://127.0.0.1:${port}`
    },
    async stop () {
      const s = server
      server = undefined
      if (s === undefined) return
      s.closeAllConnections()
      await new Promise<void>(resolve => s.close(() => resolve()))
    },
    close: () => p.stop(),
  }
  await p.start()
  return p
}
