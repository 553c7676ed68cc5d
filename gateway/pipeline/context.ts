/** What the pipeline needs from the node: its registry snapshot, the recorder and the rate limiter. */
import type { Registry } from '../../registry/registry.ts'
import type { ExchangeRecorder } from './exchange.ts'
import type { RateLimiter } from './rate-limit.ts'

export interface GatewayPipeline {
  registry: Registry
  recorder: ExchangeRecorder
  rateLimiter: RateLimiter
}
