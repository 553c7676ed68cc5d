/**
 * What the `/metrics` checks in `test/` and `conformance/` share: the families docs/metrics.md § Prometheus metrics
 * promises (name, type, label names), a check that an exposition has them all, and one fixed feed
 * for the gauges other parts of the node push (queue depths, certificate expiry), so every test
 * that scrapes knows exactly what those series must say.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { CertificateRow } from '../../certs/inventory.ts'
import type { Rig } from './gateway.ts'
import type { Exposition, MetricType } from './prometheus.ts'

type Metrics = Rig['gateway']['context']['metrics']

interface FamilyPromise {
  type: MetricType
  labels: string[]
  /** Samples only once something happened (a garbage collection); otherwise they must be there. */
  mayBeEmpty?: true
}

/** docs/metrics.md § Prometheus metrics, table by table row (histogram label lists leave out `le`). */
export const PROMISED_FAMILIES: Record<string, FamilyPromise> = {
  ura_exchanges_total: { type: 'counter', labels: ['protocol', 'client', 'service', 'outcome', 'code'] },
  ura_exchange_duration_seconds: { type: 'histogram', labels: ['protocol', 'outcome'] },
  ura_gateway_duration_seconds: { type: 'histogram', labels: ['protocol'] },
  ura_provider_duration_seconds: { type: 'histogram', labels: ['service'] },
  ura_breaker_state: { type: 'gauge', labels: ['service'] },
  ura_provider_in_flight: { type: 'gauge', labels: ['service'] },
  ura_provider_queued: { type: 'gauge', labels: ['service'] },
  ura_provider_retries_total: { type: 'counter', labels: ['service'] },
  ura_client_errors_total: { type: 'counter', labels: ['code'] },
  ura_registry_version: { type: 'gauge', labels: [] },
  ura_registry_swaps_total: { type: 'counter', labels: ['result'] },
  ura_queue_depth: { type: 'gauge', labels: ['queue'] },
  // Empty on a node without a delivery queue (these rigs have none): test/store-and-forward.test.ts reads their values.
  ura_delivery_jobs: { type: 'gauge', labels: ['queue', 'state'], mayBeEmpty: true },
  ura_delivery_oldest_seconds: { type: 'gauge', labels: ['queue'], mayBeEmpty: true },
  ura_delivery_attempts_total: { type: 'counter', labels: ['queue', 'outcome'], mayBeEmpty: true },
  ura_certificate_expiry_timestamp_seconds: { type: 'gauge', labels: ['subject', 'serial', 'role'] },
  // Empty on a node without a message log of its own thread (these rigs have none): test/evidence.test.ts reads its values.
  ura_thread_heap_bytes: { type: 'gauge', labels: ['thread', 'kind'], mayBeEmpty: true },
  // `process_*`, `nodejs_*`: "RSS, open fds, event-loop lag, GC".
  process_resident_memory_bytes: { type: 'gauge', labels: [] },
  process_open_fds: { type: 'gauge', labels: [] },
  nodejs_eventloop_lag_seconds: { type: 'gauge', labels: [] },
  nodejs_gc_duration_seconds: { type: 'histogram', labels: ['kind'], mayBeEmpty: true },
}

/** The `ura_*` names docs/metrics.md § Prometheus metrics mentions, so the list above cannot drift from the document. */
export function documentedMetricNames (): string[] {
  const page = readFileSync(resolve(import.meta.dirname, '../../docs/metrics.md'), 'utf8')
  const section = /^## Prometheus metrics\n([\s\S]*?)^## /m.exec(page)?.[1] ?? ''
  return [...new Set([...section.matchAll(/`(ura_[a-z_]+)`/g)].map(m => m[1]))].sort()
}

/**
 * Every promised family is there with its TYPE, a help text and samples, and every sample carries
 * exactly the promised label names (plus `le` on histogram buckets). One sentence per fault.
 */
export function promisedFamilyProblems (exp: Exposition): string[] {
  const problems: string[] = []
  for (const [name, promise] of Object.entries(PROMISED_FAMILIES)) {
    const f = exp.families.get(name)
    if (f === undefined) { problems.push(`${name}: missing`); continue }
    if (f.type !== promise.type) problems.push(`${name}: # TYPE ${f.type ?? '(none)'}, docs/metrics.md promises a ${promise.type}`)
    if (f.help === undefined || f.help.trim() === '') problems.push(`${name}: no help text`)
    if (f.samples.length === 0 && promise.mayBeEmpty !== true) problems.push(`${name}: no samples`)
    const want = JSON.stringify([...promise.labels].sort())
    for (const s of f.samples) {
      const names = Object.keys(s.labels).filter(l => !(l === 'le' && s.name === `${name}_bucket`)).sort()
      if (JSON.stringify(names) !== want) problems.push(`${name}: line ${s.line} has labels ${names.join(',') || '(none)'}, docs/metrics.md promises ${promise.labels.join(',') || '(none)'}`)
    }
  }
  return problems
}

/** What `feedGauges` hands the node, for the assertions on `ura_queue_depth` and `ura_certificate_expiry_timestamp_seconds`. */
export const FED = {
  queues: { log: 7, signer: 3 },
  certificate: { subject: 'CN=Bashkia Tiranë', serial: '0a1b', role: 'signing', notAfter: new Date('2027-01-01T00:00:00Z') },
  /** Revoked: must not be in the output. */
  removed: { subject: 'CN=old', serial: 'dead', role: 'client', notAfter: new Date('2026-01-01T00:00:00Z') },
} as const

/**
 * Feeds the gauges through the seams the message log and the PKI use (see gateway/ops/metrics.ts),
 * with fixed values so the exposition can be checked exactly; test/metrics-feeds.test.ts checks the
 * real sources.
 */
export function feedGauges (metrics: Metrics): void {
  metrics.trackQueue('log', () => FED.queues.log)
  metrics.trackQueue('signer', () => FED.queues.signer)
  const row = (c: { subject: string; serial: string; notAfter: Date }, role: CertificateRow['role'], state: CertificateRow['state']): CertificateRow =>
    ({ role, profile: 'signing', subject: c.subject, serial: c.serial, notBefore: '2025-01-01T00:00:00.000Z', notAfter: c.notAfter.toISOString(), daysLeft: 0, state, fingerprint: c.serial })
  metrics.trackCertificates(() => [row(FED.certificate, 'member signing', 'valid'), row(FED.removed, 'client TLS', 'revoked')])
}

export interface PlantedFault {
  what: string
  /** Breaks a real `/metrics` text of a node that has served exchanges and had `feedGauges` run. */
  plant (text: string): string
  /** What the strict reader (prometheus.ts) must say about it. */
  found: RegExp
  /**
   * promtool check metrics refuses it too (syntax and lint faults). promtool does not look at
   * duplicate series, histogram structure or counter values, which is why npm test does.
   */
  promtool: boolean
}

const line = (re: RegExp): RegExp => new RegExp(`^${re.source}.*\\n`, 'm')
const firstLine = (text: string, re: RegExp): string => line(re).exec(text)?.[0] ?? ''

/** Faults a broken exporter could write, each planted into otherwise good output. */
export const PLANTED_FAULTS: PlantedFault[] = [
  { what: 'a series written twice', plant: t => t.replace(line(/ura_queue_depth\{queue="log"\}/), '$&$&'), found: /duplicate series ura_queue_depth/, promtool: false },
  { what: 'buckets that are not cumulative', plant: t => t.replace(/^(ura_exchange_duration_seconds_bucket\{le="0\.001",[^}]*\}) \d+$/m, '$1 999999'), found: /buckets are not cumulative/, promtool: false },
  { what: 'bucket bounds out of order', plant: t => t.replace(/^ura_exchange_duration_seconds_bucket\{le="0\.001",/m, 'ura_exchange_duration_seconds_bucket{le="0.003",'), found: /does not follow le=0\.003 in ascending order/, promtool: false },
  { what: 'no +Inf bucket', plant: t => t.replace(line(/ura_exchange_duration_seconds_bucket\{le="\+Inf",/), ''), found: /the last bucket is le=30, not \+Inf/, promtool: false },
  { what: 'a +Inf bucket that differs from _count', plant: t => t.replace(/^(ura_exchange_duration_seconds_count\{[^}]*\}) (\d+)$/m, (_, head: string, n: string) => `${head} ${Number(n) + 1}`), found: /the \+Inf bucket \(\d+\) differs from _count/, promtool: false },
  { what: 'no _sum', plant: t => t.replace(line(/ura_exchange_duration_seconds_sum\{/), ''), found: /no _sum/, promtool: false },
  { what: 'a value that is not a number', plant: t => t.replace(/^(ura_queue_depth\{queue="signer"\}) \S+$/m, '$1 three'), found: /value "three" is not a number/, promtool: true },
  { what: 'a negative counter', plant: t => t.replace(/^(ura_provider_retries_total\{[^}]*\}) 0$/m, '$1 -1'), found: /a counter is never negative/, promtool: false },
  { what: 'a second # TYPE line', plant: t => t.replace(line(/# TYPE ura_queue_depth /), '$&$&'), found: /second # TYPE for ura_queue_depth/, promtool: true },
  { what: 'an unknown type', plant: t => t.replace('# TYPE ura_queue_depth gauge', '# TYPE ura_queue_depth gage'), found: /unknown type "gage"/, promtool: true },
  { what: 'a counter typed as a gauge', plant: t => t.replace('# TYPE ura_client_errors_total counter', '# TYPE ura_client_errors_total gauge'), found: /a gauge metric must not end in _total/, promtool: true },
  { what: 'a counter without _total', plant: t => t.replace(/^(# (?:HELP|TYPE) )?ura_client_errors_total\b/gm, '$1ura_client_errors'), found: /ura_client_errors: a counter name ends in _total/, promtool: true },
  { what: 'a camelCase name', plant: t => t.replace(/^(# (?:HELP|TYPE) )?ura_queue_depth\b/gm, '$1ura_queueDepth'), found: /ura_queueDepth: metric names are snake_case/, promtool: true },
  { what: 'no help text', plant: t => t.replace(line(/# HELP ura_queue_depth /), ''), found: /ura_queue_depth: no help text/, promtool: true },
  { what: 'a # TYPE after the samples', plant: t => { const type = firstLine(t, /# TYPE ura_queue_depth /); return t.replace(type, '').replace(firstLine(t, /ura_queue_depth\{queue="signer"\}/), m => m + type) }, found: /# TYPE ura_queue_depth comes after samples/, promtool: true },
  { what: 'a family split in two', plant: t => { const l = firstLine(t, /ura_queue_depth\{queue="log"\}/); return t.replace(l, '') + l }, found: /sample ura_queue_depth is outside its family's block/, promtool: false },
  { what: 'an invalid escape in a label value', plant: t => t.replace('subject="CN=Bashkia Tiranë"', 'subject="CN=Bashkia\\qTiranë"'), found: /invalid escape \\q/, promtool: true },
  { what: 'an unterminated label value', plant: t => t.replace('ura_queue_depth{queue="log"}', 'ura_queue_depth{queue="log}'), found: /unterminated value|expected , or }/, promtool: true },
  { what: 'a label given twice', plant: t => t.replace('ura_queue_depth{queue="log"}', 'ura_queue_depth{queue="log",queue="x"}'), found: /label queue given twice/, promtool: true },
  { what: 'le on a gauge', plant: t => t.replace('ura_queue_depth{queue="log"}', 'ura_queue_depth{queue="log",le="1"}'), found: /ura_queue_depth: only histograms carry an le label/, promtool: true },
  { what: 'no line feed at the end', plant: t => t.replace(/\n$/, ''), found: /does not end with a line feed/, promtool: true },
]
