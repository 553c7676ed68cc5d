/**
 * The traffic summary an overview page shows, made from the counts the stores return
 * (exchanges.ts): per service its exchanges, errors, error rate and estimated p50/p95 durations, and
 * its counts per time bucket; per provider member its slowest service; and the whole window's
 * counts per bucket. Durations are kept as a histogram, never one by one, so the answer costs the
 * same for a quiet hour as for a busy day: a percentile is interpolated within its histogram bin.
 */
import { memberOf } from '../protocol/identifiers.ts'
import { DURATION_BINS_MS, type TrafficCell } from './exchanges.ts'

export interface ServiceTraffic {
  service: string
  /** The provider's member. */
  member: string
  exchanges: number
  errors: number
  /** errors / exchanges, 0 when there were none; rounded to 4 decimals. */
  errorRate: number
  /** Estimated from the duration histogram; null when no exchange was answered. */
  p50Ms: number | null
  p95Ms: number | null
  /** Exchanges per bucket, oldest first. */
  series: number[]
}

export interface ProviderTraffic {
  member: string
  exchanges: number
  errors: number
  /** The member's service with the highest p95 (null when none was answered). */
  slowest: { service: string; p50Ms: number | null; p95Ms: number | null } | null
}

export interface TrafficBucket { start: string; exchanges: number; errors: number }

export interface TrafficSummary {
  from: string
  to: string
  bucketMs: number
  services: ServiceTraffic[]
  providers: ProviderTraffic[]
  series: TrafficBucket[]
}

/** The p-quantile (0 < p < 1) of a histogram over DURATION_BINS_MS (one count per bin, the last unbounded). */
export function quantile (counts: readonly number[], p: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0)
  if (total === 0) return null
  const rank = p * total
  let below = 0
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]
    if (n > 0 && below + n >= rank) {
      const lower = i === 0 ? 0 : DURATION_BINS_MS[i - 1]
      // Past the last bound nothing is known but that it is slower: the bound is what can be said.
      if (i >= DURATION_BINS_MS.length) return DURATION_BINS_MS[DURATION_BINS_MS.length - 1]
      const upper = DURATION_BINS_MS[i]
      return Math.round((lower + (upper - lower) * (rank - below) / n) * 10) / 10
    }
    below += n
  }
  return DURATION_BINS_MS[DURATION_BINS_MS.length - 1]
}

export function summariseTraffic (cells: readonly TrafficCell[], window: { from: Date; to: Date; bucketMs: number }): TrafficSummary {
  const buckets = Math.ceil((window.to.getTime() - window.from.getTime()) / window.bucketMs)
  const series: TrafficBucket[] = Array.from({ length: buckets }, (_, i) => ({ start: new Date(window.from.getTime() + i * window.bucketMs).toISOString(), exchanges: 0, errors: 0 }))
  const byService = new Map<string, { exchanges: number; errors: number; bins: number[]; series: number[] }>()
  for (const cell of cells) {
    let s = byService.get(cell.service)
    if (s === undefined) {
      s = { exchanges: 0, errors: 0, bins: new Array<number>(DURATION_BINS_MS.length + 1).fill(0), series: new Array<number>(buckets).fill(0) }
      byService.set(cell.service, s)
    }
    s.exchanges += cell.count
    if (cell.failed) s.errors += cell.count
    if (cell.bin >= 0) s.bins[cell.bin] += cell.count
    const b = Math.min(Math.max(cell.bucket, 0), buckets - 1)
    s.series[b] += cell.count
    series[b].exchanges += cell.count
    if (cell.failed) series[b].errors += cell.count
  }
  const services: ServiceTraffic[] = [...byService.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([service, s]) => ({
    service,
    member: memberOf(service),
    exchanges: s.exchanges,
    errors: s.errors,
    errorRate: s.exchanges === 0 ? 0 : Math.round(s.errors / s.exchanges * 10000) / 10000,
    p50Ms: quantile(s.bins, 0.5),
    p95Ms: quantile(s.bins, 0.95),
    series: s.series,
  }))
  const providers = new Map<string, ProviderTraffic>()
  for (const s of services) {
    const p = providers.get(s.member) ?? { member: s.member, exchanges: 0, errors: 0, slowest: null }
    p.exchanges += s.exchanges
    p.errors += s.errors
    if (s.p95Ms !== null && (p.slowest === null || p.slowest.p95Ms === null || s.p95Ms > p.slowest.p95Ms || (s.p95Ms === p.slowest.p95Ms && (s.p50Ms ?? 0) > (p.slowest.p50Ms ?? 0)))) {
      p.slowest = { service: s.service, p50Ms: s.p50Ms, p95Ms: s.p95Ms }
    }
    providers.set(s.member, p)
  }
  return {
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    bucketMs: window.bucketMs,
    services,
    providers: [...providers.values()],
    series,
  }
}
