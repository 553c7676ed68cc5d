/**
 * Per-client rate limits (DESIGN §5 stage 3): an in-memory token bucket per registered client
 * system. A client with its own entry in `node.rateLimits.clients` uses it (`unlimited` exempts it);
 * every other client uses `node.rateLimits.default`; with neither, there is no limit.
 *
 * The buckets live in this process: a cluster of N nodes behind a load balancer lets a client
 * through at up to N times its rate. Sharing the counters (Redis, DESIGN §2) is a later step; the
 * `take` call is the one place it would plug in.
 */
import type { RateConfig, RateLimitsConfig } from '../../config/types.ts'
import { XRoadError } from '../../protocol/errors.ts'

interface Bucket {
  rate: number
  burst: number
  tokens: number
  last: number
}

export class RateLimiter {
  private readonly config: RateLimitsConfig
  private readonly now: () => number
  /** Only registered clients get a bucket (the caller has identified them), so this stays bounded. */
  private readonly buckets = new Map<string, Bucket | null>()

  constructor (config: RateLimitsConfig | undefined, now: () => number = performance.now.bind(performance)) {
    this.config = config ?? {}
    this.now = now
  }

  /** Takes one token for the client or throws `Client.RateLimitExceeded` with the wait in `retryAfterSeconds`. */
  take (clientKey: string): void {
    let bucket = this.buckets.get(clientKey)
    if (bucket === undefined) {
      bucket = this.newBucket(clientKey)
      this.buckets.set(clientKey, bucket)
    }
    if (bucket === null) return
    const now = this.now()
    bucket.tokens = Math.min(bucket.burst, bucket.tokens + (now - bucket.last) * bucket.rate / 1000)
    bucket.last = now
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return
    }
    const err = new XRoadError('Client.RateLimitExceeded', `Client ${clientKey} exceeds its rate limit of ${bucket.rate} requests per second`)
    err.retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / bucket.rate))
    throw err
  }

  private newBucket (clientKey: string): Bucket | null {
    const own = this.config.clients?.[clientKey]
    const rate: RateConfig | undefined = own === 'unlimited' ? undefined : own ?? this.config.default
    if (rate === undefined) return null
    const burst = rate.burst ?? Math.max(1, Math.ceil(rate.perSecond))
    return { rate: rate.perSecond, burst, tokens: burst, last: this.now() }
  }
}
