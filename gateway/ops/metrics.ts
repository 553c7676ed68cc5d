/**
 * Prometheus metrics (`GET /metrics`, text exposition format), one registry per gateway.
 *
 * What the node measures itself:
 *   ura_exchanges_total{protocol,client,service,outcome,code}  every exchange; outcome is `ok`,
 *       `provider_error` (a provider 4xx/5xx or SOAP Fault passed through), `rejected` (a `Client.*`
 *       error made by the node) or `failed` (a `Server.*` error made by the node); code is the
 *       X-Road error code or `none`. client/service are only ever registered ids (`unidentified` /
 *       `unresolved` otherwise), so a caller cannot blow up the label space with forged ids.
 *   ura_exchange_duration_seconds{protocol,outcome}  the whole exchange as seen by the node
 *   ura_gateway_duration_seconds{protocol}  the node's own share: exchange time minus provider time
 *   ura_provider_duration_seconds{service}  the provider's share (send → last response byte)
 *   ura_breaker_state{service}  0 closed, 1 half-open, 2 open
 *   ura_provider_in_flight / ura_provider_queued{service}, ura_provider_retries_total{service}
 *   ura_client_errors_total{code}  requests refused by the HTTP parser (smuggling, oversize headers, slow clients)
 *   ura_registry_version  the registry store version the node serves (0: not from a store)
 *   ura_registry_swaps_total{result}  new registry versions `applied`, or `failed` to build (the one before kept serving)
 *   plus the default process_* and nodejs_* metrics (RSS, fds, event-loop lag, GC).
 *
 * The service-labelled gauges follow the registry snapshot in service (`services()`, read at each scrape).
 *
 * What other parts of the node feed in, read at each scrape (buildGateway wires them):
 *   ura_queue_depth{queue}  records of the message log not yet durable: `signer` = waiting for their
 *       batch signature (gathering or being signed), `log` = waiting for the group commit (queued or
 *       being written), `unsigned` = durable, awaiting their batch signature (deferred signing only).
 *       Only with a message log. metrics.trackQueue(name, () => depth)
 *   ura_certificate_expiry_timestamp_seconds{subject,serial,role}  notAfter of every certificate in
 *       the PKI inventory but revoked ones; role is `ca` (trusted CA), `tls-server` (the node's),
 *       `signing` (members' e-seals), `client` (client systems' made by `ura init`) or `issued` (any
 *       other the CA issued). Alert on `… - time() < 30*86400`. metrics.trackCertificates(() => rows)
 *   ura_delivery_jobs{queue,state}, ura_delivery_oldest_seconds{queue}  the delivery queues (store-and-forward
 *       `svc.<service>`, pub/sub `sub.<subscription>`): jobs per state and the age of the oldest job not yet
 *       delivered or dead. metrics.trackDelivery(() => stats)
 *   ura_thread_heap_bytes{thread,kind}  the V8 heap of a worker thread of the node (`log-writer`: the embedded
 *       message log's writer), `used` and `total` (allocated); nodejs_heap_* covers the main thread only.
 *       metrics.trackThread(name, () => heap)
 *   ura_delivery_attempts_total{queue,outcome}  delivery attempts, `delivered` or `failed` (failed ones are retried
 *       or, once exhausted, dead). metrics.deliveryAttempt(queue, outcome)
 *   Anything else: `metrics.registry` is a prom-client Registry; register new metrics on it.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import { ERROR_STATUS } from '../../protocol/errors.ts'
import { serviceText } from '../../protocol/identifiers.ts'
import type { ServiceEntry, Registry as ServiceRegistry } from '../../registry/registry.ts'
import type { ResilientAdapter } from '../../adapters/resilience.ts'
import type { CertificateRow } from '../../certs/inventory.ts'
import type { QueueStats } from '../../delivery/queue.ts'
import { LightCounter, LightHistogram, type CounterSeries, type HistogramSeries } from './metric-series.ts'

const DELIVERY_STATES = ['queued', 'active', 'retry', 'delivered', 'dead'] as const

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const

/** The `role` label of each kind of certificate in the PKI inventory. */
const CERTIFICATE_ROLE = { 'trusted CA': 'ca', 'node TLS': 'tls-server', 'member signing': 'signing', 'client TLS': 'client', issued: 'issued' } as const satisfies Record<CertificateRow['role'], string>

interface Series {
  exchanges: CounterSeries
  seconds: HistogramSeries
  provider: HistogramSeries
  gateway: HistogramSeries
}

export class GatewayMetrics {
  readonly registry = new Registry()
  // The per-exchange series are light metrics (metric-series.ts): they are touched on every exchange.
  private readonly exchanges: LightCounter
  private readonly exchangeSeconds: LightHistogram
  private readonly gatewaySeconds: LightHistogram
  private readonly providerSeconds: LightHistogram
  private readonly clientErrors: Counter<'code'>
  private readonly deliveryAttempts: Counter<'queue' | 'outcome'>
  private deliveryStats: (() => Promise<QueueStats[]>) | undefined
  private readonly queueDepth: Gauge<'queue'>
  private readonly certificateExpiry: Gauge<'subject' | 'serial' | 'role'>
  private readonly queues = new Map<string, () => number>()
  private readonly threads = new Map<string, () => Promise<{ used: number; total: number }>>()
  private readonly certificateSources: Array<() => CertificateRow[]> = []
  /** Per service entry: an entry a registry swap drops is forgotten with it (its counts stay in the families). */
  private readonly series = new WeakMap<ServiceEntry, Map<string, Series>>()
  private readonly unresolved = new Map<string, Series>()
  private readonly registrySwaps: Counter<'result'>

  /** `services` gives the registry snapshot in service at the moment of asking. */
  constructor (services: () => ServiceRegistry) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry })
    // Gauges that prom-client names *_total, which Prometheus reserves for counters (promtool refuses them).
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name)
    this.exchanges = new LightCounter({ name: 'ura_exchanges_total', help: 'Exchanges handled by the node, by client, service, outcome and error code', labelNames: ['protocol', 'client', 'service', 'outcome', 'code'], registers })
    this.exchangeSeconds = new LightHistogram({
      name: 'ura_exchange_duration_seconds',
      help: 'Whole exchange as seen by the node, from request to response',
      labelNames: ['protocol', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    })
    this.gatewaySeconds = new LightHistogram({
      name: 'ura_gateway_duration_seconds',
      help: "The node's own time in an exchange that reached the provider (exchange minus provider time)",
      labelNames: ['protocol'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    })
    this.providerSeconds = new LightHistogram({
      name: 'ura_provider_duration_seconds',
      help: 'Provider time: request sent to last response byte',
      labelNames: ['service'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    })
    this.clientErrors = new Counter({ name: 'ura_client_errors_total', help: 'Requests refused by the HTTP parser before routing', labelNames: ['code'], registers })
    this.deliveryAttempts = new Counter({ name: 'ura_delivery_attempts_total', help: 'Delivery attempts of queued requests and events, delivered or failed', labelNames: ['queue', 'outcome'], registers })
    let last: Promise<QueueStats[]> | undefined
    // Both delivery gauges are collected in one scrape: the store is read once for them.
    const deliveryStats = async (): Promise<QueueStats[]> => {
      const source = this.deliveryStats
      if (source === undefined) return []
      return (last ??= source().finally(() => { setImmediate(() => { last = undefined }) }))
    }
    new Gauge({
      name: 'ura_delivery_jobs',
      help: 'Delivery queue jobs per state (queued, active, retry, delivered, dead)',
      labelNames: ['queue', 'state'],
      registers,
      async collect () {
        this.reset()
        for (const s of await deliveryStats()) for (const state of DELIVERY_STATES) this.set({ queue: s.queue, state }, s[state])
      },
    })
    new Gauge({
      name: 'ura_delivery_oldest_seconds',
      help: 'Age of the oldest job of a delivery queue not yet delivered or dead',
      labelNames: ['queue'],
      registers,
      async collect () {
        this.reset()
        for (const s of await deliveryStats()) this.set({ queue: s.queue }, s.oldestMs / 1000)
      },
    })

    new Gauge({ name: 'ura_registry_version', help: 'The registry store version the node serves (0: its registry is not from a store)', registers, collect () { this.set(services().version) } })
    this.registrySwaps = new Counter({ name: 'ura_registry_swaps_total', help: 'New registry versions applied, or refused because they failed to build (the version before goes on serving)', labelNames: ['result'], registers })
    this.registrySwaps.inc({ result: 'applied' }, 0)
    this.registrySwaps.inc({ result: 'failed' }, 0)

    const each = (fn: (service: string, adapter: ResilientAdapter) => void): void => {
      for (const list of services().services.values()) {
        for (const e of list) if (e.resilience !== undefined) fn(serviceText(e.id), e.resilience)
      }
    }
    // Rebuilt at each scrape: a service the registry no longer has leaves these gauges.
    new Gauge({
      name: 'ura_breaker_state',
      help: 'Circuit breaker per provider service: 0 closed, 1 half-open, 2 open',
      labelNames: ['service'],
      registers,
      collect () { this.reset(); each((service, a) => this.set({ service }, BREAKER_VALUE[a.breaker.state])) },
    })
    new Gauge({
      name: 'ura_provider_in_flight',
      help: 'Exchanges in flight to the provider',
      labelNames: ['service'],
      registers,
      collect () { this.reset(); each((service, a) => this.set({ service }, a.bulkhead.inFlight)) },
    })
    new Gauge({
      name: 'ura_provider_queued',
      help: 'Exchanges waiting for a free slot to the provider',
      labelNames: ['service'],
      registers,
      collect () { this.reset(); each((service, a) => this.set({ service }, a.bulkhead.queued)) },
    })
    new Counter({
      name: 'ura_provider_retries_total',
      help: 'Attempts repeated after a connection failure',
      labelNames: ['service'],
      registers,
      collect () {
        this.reset()
        each((service, a) => this.inc({ service }, a.retried.count))
      },
    })
    const queues = this.queues
    this.queueDepth = new Gauge({
      name: 'ura_queue_depth',
      help: 'Message-log records not yet durable: waiting for their batch signature (signer) or for the group commit (log)',
      labelNames: ['queue'],
      registers,
      collect () { for (const [queue, depth] of queues) this.set({ queue }, depth()) },
    })
    const threads = this.threads
    new Gauge({
      name: 'ura_thread_heap_bytes',
      help: "V8 heap of the node's worker threads (nodejs_heap_* is the main thread's): used and total allocated",
      labelNames: ['thread', 'kind'],
      registers,
      async collect () {
        this.reset()
        await Promise.all([...threads].map(async ([thread, heap]) => {
          // A thread that ended (a store closing) has no heap to report.
          const h = await heap().catch(() => undefined)
          if (h === undefined) return
          this.set({ thread, kind: 'used' }, h.used)
          this.set({ thread, kind: 'total' }, h.total)
        }))
      },
    })
    const certificateSources = this.certificateSources
    this.certificateExpiry = new Gauge({
      name: 'ura_certificate_expiry_timestamp_seconds',
      help: 'notAfter of each certificate the node relies on, in seconds since the epoch',
      labelNames: ['subject', 'serial', 'role'],
      registers,
      collect () {
        // Rebuilt at each scrape, so a certificate removed or revoked since the last one is gone.
        this.reset()
        for (const rows of certificateSources) {
          for (const c of rows()) {
            if (c.state !== 'revoked') this.set({ subject: c.subject, serial: c.serial, role: CERTIFICATE_ROLE[c.role] }, Math.floor(Date.parse(c.notAfter) / 1000))
          }
        }
      },
    })
  }

  /** Reads the delivery queues' counts at every scrape (the delivery gauges stay empty without a queue). */
  trackDelivery (stats: () => Promise<QueueStats[]>): void {
    this.deliveryStats = stats
  }

  deliveryAttempt (queue: string, outcome: 'delivered' | 'failed'): void {
    this.deliveryAttempts.inc({ queue, outcome })
  }

  /** Samples a queue's depth at every scrape. */
  trackQueue (name: string, depth: () => number): void {
    this.queues.set(name, depth)
  }

  /** Reports a worker thread's V8 heap as `ura_thread_heap_bytes{thread=name}` (read at every scrape). */
  trackThread (name: string, heap: () => Promise<{ used: number; total: number }>): void {
    this.threads.set(name, heap)
  }

  /** Reports the certificates of a PKI inventory (read at every scrape; revoked ones are left out). */
  trackCertificates (rows: () => CertificateRow[]): void {
    this.certificateSources.push(rows)
  }

  clientError (code: string): void {
    this.clientErrors.inc({ code })
  }

  /** A registry version was put in service. */
  registryApplied (): void {
    this.registrySwaps.inc({ result: 'applied' })
  }

  /** A registry version failed to build and was not applied. */
  registryFailed (): void {
    this.registrySwaps.inc({ result: 'failed' })
  }

  /** Called once per answered request (onResponse). */
  observe (req: FastifyRequest, reply: FastifyReply): void {
    const ex = req.exchange
    if (ex === null || ex === undefined || (ex.serviceId === undefined && ex.errorCode === undefined)) return
    const code = ex.errorCode
    let outcome: string
    if (code === undefined) outcome = (ex.providerStatus ?? reply.statusCode) < 400 ? 'ok' : 'provider_error'
    else if (!(code in ERROR_STATUS)) outcome = 'provider_error' // a provider's SOAP Fault, passed through
    else outcome = code.startsWith('Client.') ? 'rejected' : 'failed'
    const seconds = reply.elapsedTime / 1000
    const series = this.seriesFor(ex.protocol, ex.client?.key ?? 'unidentified', ex.service, outcome, code === undefined || outcome === 'provider_error' ? 'none' : code)
    series.exchanges.inc()
    series.seconds.observe(seconds)
    if (ex.providerMs !== undefined && ex.service !== undefined) {
      series.provider.observe(ex.providerMs / 1000)
      series.gateway.observe(Math.max(0, seconds - ex.providerMs / 1000))
    }
  }

  /**
   * Label-bound series, cached per label combination so that an exchange costs no label handling.
   * The combinations are bounded (registered clients × configured services × outcomes × codes).
   */
  private seriesFor (protocol: string, client: string, entry: ServiceEntry | undefined, outcome: string, code: string): Series {
    let perService = entry === undefined ? this.unresolved : this.series.get(entry)
    if (perService === undefined) this.series.set(entry!, perService = new Map())
    const key = `${protocol}\n${client}\n${outcome}\n${code}`
    let series = perService.get(key)
    if (series === undefined) {
      const service = entry === undefined ? 'unresolved' : serviceText(entry.id)
      series = {
        exchanges: this.exchanges.labels({ protocol, client, service, outcome, code }),
        seconds: this.exchangeSeconds.labels({ protocol, outcome }),
        provider: this.providerSeconds.labels({ service }),
        gateway: this.gatewaySeconds.labels({ protocol }),
      }
      perService.set(key, series)
    }
    return series
  }

  async text (): Promise<string> {
    return this.registry.metrics()
  }

  get contentType (): string {
    return this.registry.contentType
  }
}
