/**
 * The HTTP leg shared by adapter kinds that reach their provider over HTTP: an undici Pool per
 * provider origin (keep-alive), one deadline covering connect + headers + body, a byte cap on the
 * response, and failures translated to `Server.ServerProxy.ServiceFailed.*`.
 */
import { Pool } from 'undici'
import { XRoadError } from '../gateway/errors.ts'
import type { OutboundRequest, ProviderResponse } from './types.ts'

export class HttpPool {
  private readonly pool: Pool
  private readonly basePath: string
  private readonly responseBytes: number

  constructor (url: string, connections: number, responseBytes: number) {
    const base = new URL(url)
    this.pool = new Pool(base.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 })
    this.basePath = base.pathname.replace(/\/+$/, '')
    this.responseBytes = responseBytes
  }

  async send (req: OutboundRequest): Promise<ProviderResponse> {
    const started = performance.now()
    const abort = new AbortController()
    const timer = setTimeout(() => abort.abort(new TimeoutSignal()), req.timeoutMs)
    try {
      const res = await this.pool.request({
        path: this.basePath + req.path,
        method: req.method as any,
        headers: req.headers,
        body: req.body,
        // No redirect interceptor on the pool: a provider's 3xx goes back to the client as it is (X-Road rule).
        signal: abort.signal,
      })
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of res.body) {
        size += chunk.length
        if (size > this.responseBytes) {
          res.body.destroy()
          throw new XRoadError('Server.ServerProxy.ServiceFailed.IOError', `Provider response exceeds the limit of ${this.responseBytes} bytes`)
        }
        chunks.push(chunk)
      }
      return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks, size), durationMs: performance.now() - started }
    } catch (err) {
      throw translate(err, abort.signal, req.timeoutMs)
    } finally {
      clearTimeout(timer)
    }
  }

  close (): Promise<void> {
    return this.pool.close()
  }

  destroy (): Promise<void> {
    return this.pool.destroy()
  }
}

class TimeoutSignal extends Error {}

function translate (err: unknown, signal: AbortSignal, timeoutMs: number): XRoadError {
  if (err instanceof XRoadError) return err
  if (signal.aborted && signal.reason instanceof TimeoutSignal) {
    return new XRoadError('Server.ServerProxy.ServiceFailed.Timeout', `Provider did not answer within ${timeoutMs} ms`)
  }
  const code = (err as { code?: string }).code ?? ''
  const message = (err as Error).message
  if (['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED'].includes(code)) {
    return new XRoadError('Server.ServerProxy.ServiceFailed.NetworkError', `Provider unreachable: ${code} ${message}`)
  }
  return new XRoadError('Server.ServerProxy.ServiceFailed.IOError', `Provider exchange failed: ${code === '' ? '' : code + ' '}${message}`)
}
