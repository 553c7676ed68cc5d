/**
 * Stage 6 (DESIGN §5): the request goes to the provider through the service's adapter, which
 * carries the timeout, retries and circuit breaker (adapters/resilience.ts). The provider's status
 * and time are noted on the exchange for the process log and the metrics.
 */
import type { OutboundRequest, ProviderResponse } from '../../adapters/types.ts'
import type { ServiceEntry } from '../../registry/registry.ts'
import type { Exchange } from './exchange.ts'

export function forward (service: ServiceEntry, request: OutboundRequest): Promise<ProviderResponse> {
  return service.adapter.send(request)
}

/**
 * Notes the provider's answer on the exchange and returns it. Apart from `forward` so that the
 * caller's own await is the only one (an async wrapper would cost a second promise per exchange).
 */
export function answered (ex: Exchange, res: ProviderResponse): ProviderResponse {
  ex.providerStatus = res.status
  ex.providerMs = res.durationMs
  return res
}
