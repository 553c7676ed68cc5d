/**
 * The adapter kinds this node knows, and the one place a service's adapter is made: the kind's
 * factory, wrapped in the resilience policy (deadline, retries, breaker, bulkhead) every kind gets.
 * Adding a kind = one module + one line in the table.
 */
import type { ResilienceSettings, ServiceConfig } from '../config/types.ts'
import type { SchemaLibrary } from '../schemas/library.ts'
import { createBridgeAdapter } from './bridge.ts'
import { resolveResilience, withResilience, type ResilientAdapter } from './resilience.ts'
import { createRestAdapter } from './rest.ts'
import { createSoapAdapter } from './soap.ts'
import type { AdapterFactory } from './types.ts'

export const adapterKinds: Record<string, AdapterFactory> = {
  rest: createRestAdapter,
  soap: createSoapAdapter,
  bridge: createBridgeAdapter,
}

export interface CreateAdapterOptions {
  /** Largest provider response the node will buffer. */
  responseBytes: number
  /** The node's resilience defaults; the service's own settings override them field by field. */
  resilience: ResilienceSettings
  library: SchemaLibrary
}

/** The service's adapter; throws (with the known kinds) for a kind this node does not have. */
export function createAdapter (service: ServiceConfig, opts: CreateAdapterOptions): ResilientAdapter {
  const factory = adapterKinds[service.adapter.kind]
  if (factory === undefined) throw new Error(`unknown adapter kind '${service.adapter.kind}' (known: ${Object.keys(adapterKinds).join(', ')})`)
  const inner = factory(service.adapter, { responseBytes: opts.responseBytes, service, library: opts.library })
  return withResilience(inner, resolveResilience(opts.resilience, service.resilience), { soap: service.type === 'soap' })
}
