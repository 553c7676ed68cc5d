/**
 * A token bucket per client address for the admin listener's public routes (the onboarding forms),
 * which answer anyone without credentials: each address may send `burst` requests at once and
 * `perSecond` after that; beyond it the answer is 429 Admin.RateLimited with Retry-After. Buckets of
 * addresses that went quiet are dropped, so the map stays small.
 */
import type { FastifyRequest } from 'fastify'
import { AdminError } from './errors.ts'

export interface RateSettings { perSecond: number; burst: number }

export const DEFAULT_PUBLIC_RATE: RateSettings = { perSecond: 1, burst: 20 }

const MAX_BUCKETS = 100_000

export class AddressBuckets {
  private readonly rate: RateSettings
  private readonly buckets = new Map<string, { tokens: number; at: number }>()
  private readonly now: () => number

  constructor (rate: RateSettings, now: () => number = () => performance.now()) {
    this.rate = rate
    this.now = now
  }

  /** Takes one token for `key`; throws Admin.RateLimited when there is none. */
  take (key: string): void {
    const now = this.now()
    let b = this.buckets.get(key)
    if (b === undefined) {
      if (this.buckets.size >= MAX_BUCKETS) this.sweep(now)
      b = { tokens: this.rate.burst, at: now }
      this.buckets.set(key, b)
    }
    b.tokens = Math.min(this.rate.burst, b.tokens + ((now - b.at) / 1000) * this.rate.perSecond)
    b.at = now
    if (b.tokens < 1) {
      const err = new AdminError('Admin.RateLimited', 'too many requests from this address: slow down')
      err.retryAfterSeconds = Math.max(1, Math.ceil((1 - b.tokens) / this.rate.perSecond))
      throw err
    }
    b.tokens -= 1
  }

  /** Forgets buckets that are full again (their address has been quiet long enough). */
  private sweep (now: number): void {
    const full = (this.rate.burst / this.rate.perSecond) * 1000
    for (const [key, b] of this.buckets) if (now - b.at >= full) this.buckets.delete(key)
    if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear()
  }

  hook (): (request: FastifyRequest) => Promise<void> {
    return async request => { this.take(request.ip) }
  }
}
