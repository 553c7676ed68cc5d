/**
 * The composition root: builds the gateway from its parts — one Fastify app with the edge's hooks
 * and error handlers, the REST r1 and SOAP edges (which walk the pipeline), the metaservice,
 * catalogue, evidence and operations routes — and closes it in order. Request bodies stay raw
 * Buffers (the hashes and the log need the exact bytes); each edge parses only what it must.
 *
 * With a registry store the node serves the store's current version and follows it: each new
 * version becomes a snapshot (registry/live.ts) put in service by one assignment to
 * `context.registry`, with the registry's revocations handed to the trust store in the same step.
 * Everything else reads the snapshot in service when it needs it (metrics, /readyz, /listClients,
 * the catalogue), and an exchange keeps the one it began with (pipeline/walk.ts).
 */
import type { Server as HttpServer } from 'node:http'
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { BreakerState } from '../adapters/resilience.ts'
import type { CertificateRow } from '../certs/inventory.ts'
import type { UraConfig } from '../config/types.ts'
import type { MessageLog } from '../messagelog/index.ts'
import { LiveRegistry } from '../registry/live.ts'
import { Registry } from '../registry/registry.ts'
import type { RegistryStore } from '../registry/store/index.ts'
import { serviceText } from '../protocol/identifiers.ts'
import { uuidV4 } from '../protocol/uuid.ts'
import { PROJECT_SCHEMA_DIR, SchemaLibrary } from '../schemas/library.ts'
import { catalogueOf } from './catalogue/catalogue.ts'
import { catalogueRoutes } from './catalogue/routes.ts'
import { docsPlugin } from './catalogue/docs.ts'
import type { GatewayContext } from './context.ts'
import { ClientCertificates } from './edge/client-cert.ts'
import { errorHandler, frameworkErrors, notFoundHandler } from './edge/errors.ts'
import { edgeChecks, guardServers, makeClientErrorHandler } from './edge/http-guards.ts'
import { r1Routes } from './edge/rest/route.ts'
import { soapRoutes } from './edge/soap/route.ts'
import { tlsServerFactory, type GatewayTls } from './edge/tls.ts'
import { evidenceRoutes } from './evidence.ts'
import { metaRoutes } from './meta/routes.ts'
import { exchangeLine } from './ops/exchange-line.ts'
import { GatewayMetrics } from './ops/metrics.ts'
import { logDestination } from './ops/process-log.ts'
import { opsRoutes } from './ops/routes.ts'
import { unloggedRecorder, type Exchange, type ExchangeRecorder } from './pipeline/exchange.ts'
import { RateLimiter } from './pipeline/rate-limit.ts'
import { messageLogRecorder } from './pipeline/record.ts'
import { deliverRequest } from './pipeline/deliver.ts'
import { SERVICE_QUEUE_PREFIX } from './pipeline/spool.ts'
import { PUSH_QUEUE_PREFIX } from './pipeline/publish.ts'
import { pushEvent } from './pipeline/push.ts'
import { feedRoutes } from './feeds/routes.ts'
import { deliveryStatusRoutes } from './edge/delivery-status.ts'
import type { DeliveryQueue } from '../delivery/queue.ts'
import type { IdempotencyStore } from '../delivery/idempotency.ts'

export interface GatewayOptions {
  config: UraConfig
  recorder?: ExchangeRecorder
  library?: SchemaLibrary
  logger?: FastifyServerOptions['logger']
  /** The signed message log: its recorder runs stages 5 and 8, `/evidence` reads it, close() closes it. */
  messageLog?: MessageLog
  /** Serve HTTPS with client certificates (stage 1 over mutual TLS); without it the node speaks plain HTTP. */
  tls?: GatewayTls
  expiringCertificates?: () => CertificateRow[]
  /** The PKI inventory, read at each scrape for `ura_certificate_expiry_timestamp_seconds`. */
  certificates?: () => CertificateRow[]
  /**
   * Serve the registry store's current version, and each new one as it is committed, instead of the
   * registry parts of `config` (whose node settings still apply). The caller opens and closes the store.
   */
  registryStore?: RegistryStore
  /**
   * Asynchronous exchange (docs/delivery.md): the durable queue and the idempotency keys. The node
   * delivers queued requests while it runs and closes both when it stops.
   */
  delivery?: { queue: DeliveryQueue; idempotency: IdempotencyStore; idempotencyWindowMs: number; concurrency: number }
}

/** A provider service's circuit breaker that is not closed, and since when (its last opening). */
export interface OpenBreaker { service: string; state: Exclude<BreakerState, 'closed'>; since?: string }

export interface Gateway {
  app: FastifyInstance
  context: GatewayContext
  /** With `tls.plainHttp`: the plain HTTP server for `connection: http` clients, not yet listening. */
  plainServer?: HttpServer
  /** The registry store version served now (0 without a registry store). */
  registryVersion (): number
  /**
   * Resolves once the node serves registry version `n` or a later one (reading the store at once).
   * Rejects with a LiveRegistryError: NOT_APPLIED if that version failed to build, WAIT_TIMEOUT after
   * `timeoutMs` (default 5000), CLOSED once the node stops; without a registry store, unless `n` is 0.
   */
  waitForVersion (n: number, timeoutMs?: number): Promise<void>
  /** The circuit breakers of the registry in service that are open or half-open (for the admin API's overview). */
  breakers (): OpenBreaker[]
  /** Stops accepting, lets in-flight exchanges finish, closes provider pools. */
  close (): Promise<void>
}


/** A municipality's transparency room: its member is named "Bashkia <name>" and the room is its `transparenca` subsystem. */
function transparencyRoom (registry: Registry, name: string): string | undefined {
  for (const room of registry.rooms.values()) {
    if (room.id.subsystemCode !== 'transparenca') continue
    const member = registry.clients.get(`${room.id.instance}/${room.id.memberClass}/${room.id.memberCode}`)
    if (member?.name === `Bashkia ${name}`) return room.key
  }
  return undefined
}

/** How often a closing node closes the keep-alive connections that turned idle since (their exchange finished). */
const IDLE_SWEEP_MS = 50

export async function buildGateway (opts: GatewayOptions): Promise<Gateway> {
  const { config } = opts
  const library = opts.library ?? await SchemaLibrary.load([PROJECT_SCHEMA_DIR], config.node.schemas)
  const live = opts.registryStore === undefined ? undefined : await LiveRegistry.open({ store: opts.registryStore, node: config.node, dir: config.dir, library })
  const registry = live?.current ?? await Registry.build(config, library)
  const metrics = new GatewayMetrics(() => context.registry)
  if (opts.certificates !== undefined) metrics.trackCertificates(opts.certificates)
  const log = opts.messageLog
  if (log !== undefined) {
    metrics.trackQueue('signer', () => log.signer.waiting)
    metrics.trackQueue('log', () => log.store.waiting)
    const store = log.store
    if (store.unsigned !== undefined) metrics.trackQueue('unsigned', () => store.unsigned ?? 0)
    if (store.threadHeap !== undefined) metrics.trackThread('log-writer', () => store.threadHeap!())
  }
  const context: GatewayContext = {
    registry,
    recorder: opts.recorder ?? (opts.messageLog === undefined ? unloggedRecorder : messageLogRecorder(opts.messageLog.recorder, config.node.log.deliveryBatchMs)),
    library,
    ready: true,
    metrics,
    rateLimiter: new RateLimiter(config.node.rateLimits),
  }
  if (opts.tls !== undefined) context.clientCertificates = new ClientCertificates(opts.tls.trust)
  const delivery = opts.delivery
  if (delivery !== undefined) {
    context.delivery = { queue: delivery.queue, idempotency: delivery.idempotency, idempotencyWindowMs: delivery.idempotencyWindowMs, defined: new Map() }
    metrics.trackDelivery(() => delivery.queue.stats())
  }
  const revocations = opts.tls?.trust.revocations
  if (live !== undefined) revocations?.setShared(live.content.revocations)
  if (opts.expiringCertificates !== undefined) context.expiringCertificates = opts.expiringCertificates
  let plainServer: HttpServer | undefined
  const limits = config.node.limits
  const headerCount = limits.headerCount
  const headersTimeout = limits.headersTimeoutMs

  const app = Fastify({
    logger: opts.logger ?? { level: 'info', stream: logDestination() },
    // Fastify's own per-request lines are off: the node writes one line per exchange itself.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: limits.requestBytes,
    genReqId: uuidV4,
    requestIdHeader: false,
    // Idle keep-alive sockets are closed at shutdown; busy ones finish their exchange first.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    routerOptions: { ignoreDuplicateSlashes: false },
    // Slow and oversize clients (limits in config/schema.ts); the parser's refusals get X-Road errors too.
    http: {
      maxHeaderSize: limits.headerBytes,
      headersTimeout,
      // How often Node looks for connections past those deadlines (its default is 30 s).
      connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(headersTimeout / 4))),
      // Checked in onRequest instead, so a missing or repeated Host gets a typed error.
      requireHostHeader: false,
    },
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    clientErrorHandler: makeClientErrorHandler(code => { metrics.clientError(code) }),
    // `https: true` only makes Fastify print https:// addresses; the factory builds the servers.
    ...(opts.tls === undefined ? {} : { https: {}, serverFactory: tlsServerFactory(opts.tls, s => { plainServer = s }) }),
    frameworkErrors,
  })

  // Bodies are kept as bytes for every content type.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => { done(null, body) })

  app.decorateRequest('exchange', null as unknown as Exchange)
  app.addHook('onRequest', edgeChecks(headerCount, () => context.ready))
  guardServers(app.server, plainServer, headerCount, code => { metrics.clientError(code) })
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)
  app.addHook('onResponse', exchangeLine(metrics))

  // OpenAPI and Swagger UI first: swagger describes the routes registered after it.
  await docsPlugin(app, () => catalogueOf(context.registry))
  await app.register(async scope => r1Routes(scope, context))
  await app.register(async scope => soapRoutes(scope, context))
  await app.register(async scope => opsRoutes(scope, context))
  await app.register(async scope => metaRoutes(scope, context))
  await app.register(async scope => catalogueRoutes(scope, context))
  const messageLog = opts.messageLog
  if (messageLog !== undefined) await app.register(async scope => evidenceRoutes(scope, context, messageLog, config.node.operators))
  if (delivery !== undefined) {
    await app.register(async scope => deliveryStatusRoutes(scope, context))
    // Public transparency feeds, from each municipality's `transparenca` room.
    await app.register(async scope => feedRoutes(scope, { room: name => transparencyRoom(context.registry, name), events: delivery.queue }))
    const observe = (queue: string, outcome: 'delivered' | 'failed'): void => { metrics.deliveryAttempt(queue, outcome) }
    delivery.queue.work(SERVICE_QUEUE_PREFIX, deliverRequest(() => context, observe), { concurrency: delivery.concurrency })
    delivery.queue.work(PUSH_QUEUE_PREFIX, pushEvent(() => context, observe), { concurrency: delivery.concurrency })
  }

  await live?.start({
    pollMs: config.node.registry.pollMs,
    apply: (next, content, timing) => {
      // The swap: from here on new exchanges see `next`; those in flight finish on their snapshot.
      context.registry = next
      revocations?.setShared(content.revocations)
      metrics.registryApplied()
      const ms = (x: number): number => Math.round(x * 10) / 10
      app.log.info({ registryVersion: next.version, services: next.entries().length, clients: next.clients.size, readMs: ms(timing.readMs), buildMs: ms(timing.buildMs) }, `registry version ${next.version} applied`)
    },
    failed: err => {
      metrics.registryFailed()
      app.log.error({ registryVersion: err.version, servedVersion: context.registry.version, err }, `${err.message}; version ${context.registry.version} goes on serving`)
    },
    unreachable: err => { app.log.warn({ err }, 'the registry store cannot be read; trying again at the next poll') },
  })

  let closing: Promise<void> | undefined
  return {
    app,
    context,
    ...(plainServer === undefined ? {} : { plainServer }),
    registryVersion: () => context.registry.version,
    breakers: () => {
      const out: OpenBreaker[] = []
      for (const list of context.registry.services.values()) {
        for (const e of list) {
          const breaker = e.resilience?.breaker
          const state = breaker?.state
          if (breaker === undefined || state === undefined || state === 'closed') continue
          const since = breaker.openSince
          out.push({ service: serviceText(e.id), state, ...(since === undefined ? {} : { since: since.toISOString() }) })
        }
      }
      return out
    },
    waitForVersion: (n, timeoutMs) => {
      if (live !== undefined) return live.waitForVersion(n, timeoutMs)
      return n <= context.registry.version ? Promise.resolve() : Promise.reject(new Error('this node does not run on a registry store'))
    },
    close: () => {
      closing ??= (async () => {
        context.ready = false
        const shutdown = config.node.shutdown
        // Load balancers see /readyz 503 and move away while the node still serves.
        if (shutdown.drainDelayMs > 0) await new Promise(resolve => setTimeout(resolve, shutdown.drainDelayMs))
        // Exchanges still running after the grace period are cut off.
        let cut = false
        const cutOff = setTimeout(() => { cut = true; app.server.closeAllConnections(); plainServer?.closeAllConnections() }, shutdown.graceMs)
        // The plain server (if any) drains like the main one: stop accepting, let exchanges finish.
        const plainClosed = plainServer?.listening === true ? new Promise<void>(resolve => plainServer!.close(() => resolve())) : undefined
        // Closing a server closes its idle keep-alive connections once. A connection whose exchange
        // finishes after that turns idle and would hold the close until the grace period ends: so the
        // idle ones are closed again at each sweep, until every connection is gone.
        const sweep = setInterval(() => { app.server.closeIdleConnections(); plainServer?.closeIdleConnections() }, IDLE_SWEEP_MS)
        try {
          await app.close()
          plainServer?.closeIdleConnections()
          await plainClosed
        } finally {
          clearTimeout(cutOff)
          clearInterval(sweep)
        }
        // Deliveries still running finish (their records go to the log) before the log closes.
        if (delivery !== undefined) {
          await delivery.queue.close()
          await delivery.idempotency.close()
        }
        if (live !== undefined) await live.close(cut)
        else await (cut ? registry.destroy() : registry.close())
        await opts.messageLog?.close()
      })()
      return closing
    },
  }
}

