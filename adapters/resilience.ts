/**
 * Resilience on the way to a provider, for every adapter kind: `withResilience(adapter, settings)`
 * wraps any adapter with
 *
 *  - a **deadline**: the service's `timeoutMs` covers queueing, every attempt and the backoff between
 *    them, so a caller never waits much longer than the timeout, however the provider fails;
 *  - **retries with backoff** on connection failures (`ServiceFailed.NetworkError`) for idempotent
 *    methods only (GET, HEAD, PUT, DELETE, OPTIONS). SOAP is always a POST and carries no idempotency
 *    marker, so SOAP services are retried only when their configuration says `retries.soap: true`;
 *  - a **circuit breaker**: after `consecutiveFailures` failures in a row, or a failure rate of
 *    `failureRate` over the last `window` outcomes (once `minimumRequests` are in), the breaker opens
 *    and calls fail at once with `Server.ServerProxy.ServiceFailed.CircuitOpen` (503, `Retry-After`).
 *    After `coolDownMs` one probe request is let through (half-open): success closes the breaker,
 *    failure opens it again. Failures are answers that never came (network errors, timeouts, broken
 *    responses) and the provider statuses in `failureStatuses` (502/503/504 by default — a 500 is
 *    often a provider's business error and passes through as usual);
 *  - **bounded concurrency**: at most `concurrency.max` exchanges in flight to the provider and
 *    `concurrency.queue` waiting; beyond that `Server.ServerProxy.ServiceFailed.Overloaded` (503) at once.
 *
 * One wrapper per configured service: each service already has its own connection pool, so the
 * "provider" a breaker protects is the system behind that service's adapter.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { DEFAULT_RESILIENCE } from '../config/defaults.ts'
import type { ResilienceConfig, ResilienceSettings } from '../config/types.ts'
import { XRoadError } from '../protocol/errors.ts'
import type { Adapter, OutboundRequest, ProviderResponse } from './types.ts'

export type { ResilienceSettings }
export { DEFAULT_RESILIENCE }

/** The node's settings, then the service's own, field by field. */
export function resolveResilience (node: ResilienceSettings, service: ResilienceConfig | undefined): ResilienceSettings {
  return {
    retries: { ...node.retries, ...service?.retries },
    breaker: { ...node.breaker, ...service?.breaker },
    concurrency: { ...node.concurrency, ...service?.concurrency },
  }
}

export type BreakerState = 'closed' | 'open' | 'half-open'

/** Codes this module makes itself: they say nothing about the provider's health. */
const OWN_CODES = new Set(['Server.ServerProxy.ServiceFailed.CircuitOpen', 'Server.ServerProxy.ServiceFailed.Overloaded'])

export class CircuitBreaker {
  private readonly settings: ResilienceSettings['breaker']
  private readonly now: () => number
  private current: BreakerState = 'closed'
  private openedAt = 0
  /** The same moment by the wall clock, to tell operators. */
  private openedAtWall = 0
  private probing = false
  private consecutive = 0
  /** Ring of recent outcomes (true = failure) for the failure rate. */
  private readonly outcomes: boolean[] = []
  private next = 0
  /** Times the breaker opened, for metrics. */
  opened = 0

  constructor (settings: ResilienceSettings['breaker'], now: () => number = performance.now.bind(performance)) {
    this.settings = settings
    this.now = now
  }

  get state (): BreakerState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.settings.coolDownMs) return 'half-open'
    return this.current
  }

  get consecutiveFailures (): number {
    return this.consecutive
  }

  /** When the breaker last opened (wall-clock time), while it is not closed; undefined when closed. */
  get openSince (): Date | undefined {
    return this.current === 'closed' ? undefined : new Date(this.openedAtWall)
  }

  /**
   * Lets a call through or throws CircuitOpen. Returns true when the call is the half-open probe
   * (the caller then must report its outcome: success, failure or release).
   */
  acquire (): boolean {
    if (!this.settings.enabled || this.current === 'closed') return false
    const state = this.state
    if (state === 'half-open' && !this.probing) {
      this.current = 'half-open'
      this.probing = true
      return true
    }
    const err = new XRoadError('Server.ServerProxy.ServiceFailed.CircuitOpen', 'The provider is failing; the node does not send it requests for now (circuit breaker open)')
    err.retryAfterSeconds = Math.max(1, Math.ceil((this.settings.coolDownMs - (this.now() - this.openedAt)) / 1000))
    throw err
  }

  /** The probe ended without telling anything about the provider (e.g. refused by the queue). */
  release (probe: boolean): void {
    if (probe) this.probing = false
  }

  success (probe: boolean): void {
    this.consecutive = 0
    if (probe || this.current !== 'closed') {
      this.probing = false
      this.current = 'closed'
      this.outcomes.length = 0
      this.next = 0
      return
    }
    this.record(false)
  }

  failure (probe: boolean): void {
    this.consecutive++
    if (probe || this.current === 'half-open') {
      this.probing = false
      this.open()
      return
    }
    if (this.current === 'open') return
    this.record(true)
    if (!this.settings.enabled) return
    if (this.consecutive >= this.settings.consecutiveFailures || this.rateExceeded()) this.open()
  }

  /** Whether another attempt may be made now (no retries against an open breaker). */
  get closed (): boolean {
    return !this.settings.enabled || this.current === 'closed'
  }

  private open (): void {
    this.current = 'open'
    this.openedAt = this.now()
    this.openedAtWall = Date.now()
    this.opened++
    this.outcomes.length = 0
    this.next = 0
  }

  private record (failed: boolean): void {
    const size = this.settings.window
    if (this.outcomes.length < size) this.outcomes.push(failed)
    else this.outcomes[this.next] = failed
    this.next = (this.next + 1) % size
  }

  private rateExceeded (): boolean {
    if (this.outcomes.length < this.settings.minimumRequests) return false
    let failed = 0
    for (const f of this.outcomes) if (f) failed++
    return failed / this.outcomes.length >= this.settings.failureRate
  }
}

interface Waiter {
  resolve: () => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

/** At most `max` calls in flight, at most `queue` waiting (FIFO), the rest refused at once. */
export class Bulkhead {
  private readonly max: number
  private readonly limit: number
  private active = 0
  private readonly waiting: Waiter[] = []

  constructor (max: number, queue: number) {
    this.max = max
    this.limit = queue
  }

  get inFlight (): number { return this.active }
  get queued (): number { return this.waiting.length }

  /** Resolves when a slot is held; `waitMs` bounds the time in the queue (the exchange's deadline). */
  enter (waitMs: number): Promise<void> | undefined {
    if (this.active < this.max) {
      this.active++
      return undefined
    }
    if (this.waiting.length >= this.limit) {
      throw new XRoadError('Server.ServerProxy.ServiceFailed.Overloaded', `Too many requests waiting for this provider (${this.max} in flight, ${this.limit} queued)`)
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.waiting.indexOf(waiter)
          if (i !== -1) this.waiting.splice(i, 1)
          reject(new XRoadError('Server.ServerProxy.ServiceFailed.Timeout', 'The provider did not become free before the service timeout'))
        }, Math.max(0, waitMs)),
      }
      this.waiting.push(waiter)
    })
  }

  leave (): void {
    const waiter = this.waiting.shift()
    if (waiter === undefined) {
      this.active--
      return
    }
    clearTimeout(waiter.timer)
    waiter.resolve() // the slot passes on: active stays the same
  }
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'])

export interface ResilienceStatus {
  breaker: BreakerState
  consecutiveFailures: number
  inFlight: number
  queued: number
}

export interface ResilientAdapter extends Adapter {
  readonly breaker: CircuitBreaker
  readonly bulkhead: Bulkhead
  /** Attempts repeated after a connection failure, for metrics. */
  readonly retried: { count: number }
  status (): ResilienceStatus
}

export function withResilience (inner: Adapter, settings: ResilienceSettings, opts: { soap: boolean }): ResilientAdapter {
  const breaker = new CircuitBreaker(settings.breaker)
  const bulkhead = new Bulkhead(settings.concurrency.max, settings.concurrency.queue)
  const failureStatuses = new Set(settings.breaker.failureStatuses)
  const retried = { count: 0 }
  const mayRetry = (method: string): boolean => settings.retries.attempts > 0 && (opts.soap ? settings.retries.soap : IDEMPOTENT.has(method))

  return {
    kind: inner.kind,
    breaker,
    bulkhead,
    retried,
    async send (req) {
      const deadline = performance.now() + req.timeoutMs
      const probe = breaker.acquire()
      try {
        const wait = bulkhead.enter(req.timeoutMs)
        if (wait !== undefined) await wait
      } catch (err) {
        breaker.release(probe)
        throw err
      }
      // The attempts run here rather than in an async function of their own: one promise per call, not two.
      try {
        const retryable = !probe && mayRetry(req.method)
        for (let n = 0; ; n++) {
          const remaining = Math.floor(deadline - performance.now())
          if (remaining <= 0) {
            breaker.release(probe)
            throw new XRoadError('Server.ServerProxy.ServiceFailed.Timeout', `Provider did not answer within ${req.timeoutMs} ms`)
          }
          let res: ProviderResponse
          try {
            res = await inner.send({ ...req, timeoutMs: remaining })
          } catch (err) {
            const code = (err as XRoadError).code
            if (typeof code !== 'string' || !code.startsWith('Server.ServerProxy.ServiceFailed.') || OWN_CODES.has(code)) {
              breaker.release(probe)
              throw err
            }
            breaker.failure(probe)
            // Attempts run on what is left of the deadline; the caller knows the service's timeout.
            if (code === 'Server.ServerProxy.ServiceFailed.Timeout') throw new XRoadError(code, `Provider did not answer within ${req.timeoutMs} ms`)
            if (!retryable || n >= settings.retries.attempts || code !== 'Server.ServerProxy.ServiceFailed.NetworkError' || !breaker.closed) throw err
            const ceiling = Math.min(settings.retries.maxBackoffMs, settings.retries.backoffMs * 2 ** n)
            const delay = ceiling / 2 + Math.random() * ceiling / 2
            if (performance.now() + delay >= deadline) throw err
            retried.count++
            await sleep(delay)
            continue
          }
          if (failureStatuses.has(res.status)) breaker.failure(probe)
          else breaker.success(probe)
          return res
        }
      } finally {
        bulkhead.leave()
      }
    },
    status: () => ({ breaker: breaker.state, consecutiveFailures: breaker.consecutiveFailures, inFlight: bulkhead.inFlight, queued: bulkhead.queued }),
    close: () => inner.close(),
    destroy: () => inner.destroy?.() ?? inner.close(),
  }
}
