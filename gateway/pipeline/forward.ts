/**
 * Stage 6 (DESIGN §5): the request goes to the provider through the service's adapter, which
 * carries the timeout, retries and circuit breaker (adapters/resilience.ts). The provider's status
 * and time are noted on the exchange for the process log and the metrics.
 */
import type { OutboundRequest, ProviderResponse } from '../../adapters/types.ts'
import type { ServiceEntry } from '../../registry/registry.ts'
import type { Exchange } from './exchange.ts'

export async function forward (service: ServiceEntry, ex: Exchange, request: OutboundRequest): Promise<ProviderResponse> {
  const res = await service.adapter.send(request)
  ex.providerStatus = res.status
  ex.providerMs = res.durationMs
  return res
}
