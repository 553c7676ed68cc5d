/** What the pipeline needs from the node: its registry snapshot, the recorder, the rate limiter and the delivery queue. */
import type { Registry } from '../../registry/registry.ts'
import type { ExchangeRecorder } from './exchange.ts'
import type { RateLimiter } from './rate-limit.ts'
import type { AsyncExchange } from './spool.ts'

export interface GatewayPipeline {
  registry: Registry
  recorder: ExchangeRecorder
  rateLimiter: RateLimiter
  /** Store-and-forward and idempotency keys; absent = every exchange is synchronous. */
  delivery?: AsyncExchange
}
