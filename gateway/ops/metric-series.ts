/**
 * A counter and a histogram for the per-exchange series, registered in a prom-client Registry like
 * any other metric. prom-client's own `observe`/`inc` validate and hash the label object on every
 * call, even on a label-bound child; here a child is a plain object holding its numbers, so
 * counting an exchange is a few additions. Label sets are bound once (the caller caches children)
 * and rendered only when Prometheus scrapes.
 */
import type { Registry } from 'prom-client'

type Labels = Record<string, string>

interface ExportedValue {
  labels: Record<string, string | number>
  value: number
  metricName?: string
}

interface Exported {
  name: string
  help: string
  type: 'counter' | 'histogram'
  values: ExportedValue[]
  aggregator: 'sum'
}

export class HistogramSeries {
  readonly labels: Labels
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot holds those above every bound. */
  readonly counts: Float64Array
  sum = 0
  count = 0
  private readonly bounds: readonly number[]

  constructor (labels: Labels, bounds: readonly number[]) {
    this.labels = labels
    this.bounds = bounds
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe (value: number): void {
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && value > bounds[i]) i++
    this.counts[i]++
    this.sum += value
    this.count++
  }
}

export class CounterSeries {
  readonly labels: Labels
  value = 0

  constructor (labels: Labels) {
    this.labels = labels
  }

  inc (by = 1): void {
    this.value += by
  }
}

abstract class LightMetric<S extends { labels: Labels }> {
  readonly name: string
  readonly help: string
  readonly aggregator = 'sum' as const
  protected readonly series = new Map<string, S>()
  private readonly labelNames: readonly string[]

  constructor (opts: { name: string; help: string; labelNames: readonly string[]; registers: Registry[] }) {
    this.name = opts.name
    this.help = opts.help
    this.labelNames = opts.labelNames
    for (const r of opts.registers) r.registerMetric(this as never)
  }

  /** The series for these label values (created at first use and kept: bind once, then reuse). */
  labels (labels: Labels): S {
    const key = this.labelNames.map(n => labels[n] ?? '').join('\u0000')
    let s = this.series.get(key)
    if (s === undefined) {
      const own: Labels = {}
      for (const n of this.labelNames) own[n] = labels[n] ?? ''
      this.series.set(key, s = this.create(own))
    }
    return s
  }

  reset (): void {
    this.series.clear()
  }

  protected abstract create (labels: Labels): S
  abstract get (): Promise<Exported>

  getForPromString (): Promise<Exported> {
    return this.get()
  }
}

export class LightCounter extends LightMetric<CounterSeries> {
  readonly type = 'counter' as const

  protected create (labels: Labels): CounterSeries {
    return new CounterSeries(labels)
  }

  async get (): Promise<Exported> {
    const values = [...this.series.values()].map(s => ({ labels: { ...s.labels }, value: s.value }))
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }
}

export class LightHistogram extends LightMetric<HistogramSeries> {
  readonly type = 'histogram' as const
  private readonly bounds: readonly number[]

  constructor (opts: { name: string; help: string; labelNames: readonly string[]; buckets: readonly number[]; registers: Registry[] }) {
    super(opts)
    this.bounds = [...opts.buckets].sort((a, b) => a - b)
  }

  protected create (labels: Labels): HistogramSeries {
    return new HistogramSeries(labels, this.bounds)
  }

  async get (): Promise<Exported> {
    const values: ExportedValue[] = []
    const bucket = `${this.name}_bucket`
    for (const s of this.series.values()) {
      let cumulative = 0
      this.bounds.forEach((le, i) => {
        cumulative += s.counts[i]
        values.push({ labels: { le, ...s.labels }, value: cumulative, metricName: bucket })
      })
      values.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: bucket })
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` })
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }
}
