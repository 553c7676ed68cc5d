/**
 * One adapter kind = one module implementing this interface. The pipeline hands it a request that
 * has already been identified, authorised and validated; the adapter only talks to the provider.
 */
import type { AdapterConfig, ServiceConfig } from '../config/types.ts'
import type { ClientId, ServiceId } from '../protocol/identifiers.ts'
import type { SchemaLibrary } from '../schemas/library.ts'

/**
 * The ids of the exchange a request belongs to, for adapters that rebuild the message (the bridge
 * writes them into a SOAP header or X-Road headers). The gateway's exchange carries these fields.
 */
export interface CallIds {
  requestId: string
  messageId?: string
  clientId?: ClientId
  serviceId?: ServiceId
  userId?: string
  issue?: string
}

export interface OutboundRequest {
  method: string
  /** Path (and query) relative to the adapter's base URL, e.g. `/subjekte/K81305012I/detyrime?viti=2026`. */
  path: string
  /** Header names and values alternating, in the order they are to be sent (duplicates allowed). */
  headers: string[]
  body: Buffer | undefined
  timeoutMs: number
  /** The exchange's ids: adapters that rebuild the message (bridge) need them. */
  exchange?: CallIds
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
