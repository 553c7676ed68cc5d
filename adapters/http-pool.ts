/**
 * The HTTP leg shared by adapter kinds that reach their provider over HTTP: an undici Pool per
 * provider origin (keep-alive), one deadline covering connect + headers + body, a byte cap on the
 * response, and failures translated to `Server.ServerProxy.ServiceFailed.*`.
 *
 * The response is collected by a dispatch handler rather than `pool.request()`: the node buffers
 * every answer anyway (it hashes, validates and logs it), so the Readable body stream, its async
 * iterator, the AbortController and the async-resource bookkeeping `request()` sets up per call
 * would be pure overhead on the hottest path of the gateway.
 */
import { Pool, type Dispatcher } from 'undici'
import { XRoadError } from '../protocol/errors.ts'
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

  send (req: OutboundRequest): Promise<ProviderResponse> {
    return new Promise((resolve, reject) => {
      const exchange = new ProviderExchange(req.timeoutMs, this.responseBytes, resolve, reject)
      try {
        // No redirect interceptor on the pool: a provider's 3xx goes back to the client as it is (X-Road rule).
        this.pool.dispatch({
          // A provider URL without a path and a call without one: the request line still needs `/`.
          path: this.basePath + req.path || '/',
          method: req.method as Dispatcher.HttpMethod,
          headers: req.headers,
          body: req.body ?? null,
        }, exchange)
      } catch (err) {
        exchange.fail(err)
      }
    })
  }

  close (): Promise<void> {
    return this.pool.close()
  }

  destroy (): Promise<void> {
    return this.pool.destroy()
  }
}

/** One provider exchange: collects the response, enforces deadline and byte cap, settles once. */
class ProviderExchange implements Dispatcher.DispatchHandler {
  private readonly started = performance.now()
  private readonly timeoutMs: number
  private readonly limit: number
  private readonly resolve: (res: ProviderResponse) => void
  private readonly reject: (err: XRoadError) => void
  private readonly timer: NodeJS.Timeout
  private controller: Dispatcher.DispatchController | undefined
  private settled = false
  private timedOut = false
  private status = 0
  private headers: Record<string, string | string[] | undefined> = {}
  private chunks: Buffer[] = []
  private size = 0

  constructor (timeoutMs: number, limit: number, resolve: (res: ProviderResponse) => void, reject: (err: XRoadError) => void) {
    this.timeoutMs = timeoutMs
    this.limit = limit
    this.resolve = resolve
    this.reject = reject
    // The deadline holds even while the request waits for a free connection in the pool.
    this.timer = setTimeout(() => {
      this.timedOut = true
      this.fail(new XRoadError('Server.ServerProxy.ServiceFailed.Timeout', `Provider did not answer within ${timeoutMs} ms`))
    }, timeoutMs)
  }

  onRequestStart (controller: Dispatcher.DispatchController): void {
    this.controller = controller
    if (this.settled) controller.abort(new Error('the exchange has already ended'))
  }

  onResponseStart (_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.status = statusCode
    this.headers = headers
  }

  onResponseData (controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return
    this.size += chunk.length
    if (this.size > this.limit) {
      this.fail(new XRoadError('Server.ServerProxy.ServiceFailed.IOError', `Provider response exceeds the limit of ${this.limit} bytes`))
      controller.abort(new Error('response too large'))
      return
    }
    this.chunks.push(chunk)
  }

  onResponseEnd (): void {
    if (this.settled) return
    this.settled = true
    clearTimeout(this.timer)
    const body = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size)
    this.resolve({ status: this.status, headers: this.headers, body, durationMs: performance.now() - this.started })
  }

  onResponseError (_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(err)
  }

  /** Settles with a translated error and stops the exchange on the wire (if it is still running). */
  fail (err: unknown): void {
    if (this.settled) return
    this.settled = true
    clearTimeout(this.timer)
    this.chunks = []
    this.reject(translate(err, this.timeoutMs, this.timedOut))
    if (this.controller !== undefined && !this.controller.aborted) this.controller.abort(err instanceof Error ? err : new Error(String(err)))
  }
}

function translate (err: unknown, timeoutMs: number, timedOut: boolean): XRoadError {
  if (err instanceof XRoadError) return err
  if (timedOut) return new XRoadError('Server.ServerProxy.ServiceFailed.Timeout', `Provider did not answer within ${timeoutMs} ms`)
  const code = (err as { code?: string }).code ?? ''
  const message = (err as Error).message
  if (['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED'].includes(code)) {
    return new XRoadError('Server.ServerProxy.ServiceFailed.NetworkError', `Provider unreachable: ${code} ${message}`)
  }
  return new XRoadError('Server.ServerProxy.ServiceFailed.IOError', `Provider exchange failed: ${code === '' ? '' : code + ' '}${message}`)
}
