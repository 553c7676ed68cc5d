/**
 * Default resilience settings for the way to a provider, written once: the configuration schema
 * fills them into `node.resilience` (config/schema.ts) and the adapters' tests build on them.
 */
import type { ResilienceSettings } from './types.ts'

export const DEFAULT_RESILIENCE: ResilienceSettings = {
  retries: { attempts: 2, backoffMs: 50, maxBackoffMs: 1000, soap: false },
  breaker: { enabled: true, consecutiveFailures: 5, failureRate: 0.5, window: 20, minimumRequests: 10, coolDownMs: 10_000, failureStatuses: [502, 503, 504] },
  concurrency: { max: 256, queue: 1024 },
}
