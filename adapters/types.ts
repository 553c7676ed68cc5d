/**
 * One adapter kind = one module implementing this interface. The pipeline hands it a request that
 * has already been identified, authorised and validated; the adapter only talks to the provider.
 */
import type { AdapterConfig, ServiceConfig } from '../config/types.ts'
import type { Exchange } from '../gateway/pipeline/exchange.ts'
import type { SchemaLibrary } from '../schemas/library.ts'

export interface OutboundRequest {
  method: string
  /** Path (and query) relative to the adapter's base URL, e.g. `/subjekte/K81305012I/detyrime?viti=2026`. */
  path: string
  /** Header names and values alternating, in the order they are to be sent (duplicates allowed). */
  headers: string[]
  body: Buffer | undefined
  timeoutMs: number
  /** The exchange (ids, client, service): adapters that rebuild the message (bridge) need them. */
  exchange?: Exchange
  /** REST: the endpoint the request matched, with its decoded path parameters. */
  endpoint?: { method: string; template: string; params: Record<string, string> }
}

export interface ProviderResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  /** Milliseconds from sending to the last byte of the response. */
  durationMs: number
}

export interface Adapter {
  readonly kind: string
  send (request: OutboundRequest): Promise<ProviderResponse>
  close (): Promise<void>
  /** Drops exchanges still in flight (shutdown past its grace period); `close` waits for them. */
  destroy? (): Promise<void>
}

export interface AdapterContext {
  /** Largest provider response the node will buffer. */
  responseBytes: number
  /** The service the adapter serves, and the node's schema library (for adapters that map messages). */
  service?: ServiceConfig
  library?: SchemaLibrary
}

export type AdapterFactory = (config: AdapterConfig, context: AdapterContext) => Adapter
