/**
 * Builds the gateway: one Fastify app with the REST r1 edge, the SOAP edge and the operations
 * routes. Request bodies stay raw Buffers (the hashes and the log need the exact bytes); each edge
 * parses only what it must.
 */
import { randomUUID } from 'node:crypto'
import type { Server as HttpServer } from 'node:http'
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { UraConfig } from '../config/types.ts'
import { PROJECT_SCHEMA_DIR, SchemaLibrary } from '../schemas/library.ts'
import { XRoadError, isXRoadError } from './errors.ts'
import { unloggedRecorder, type Exchange, type ExchangeRecorder } from './exchange.ts'
import { Registry } from './registry.ts'
import { sendRestError } from './rest/errors.ts'
import { evidenceHeaders, r1Routes } from './routes/r1.ts'
import { opsRoutes } from './routes/ops.ts'
import { soapRoutes } from './routes/soap.ts'
import { docsPlugin } from './routes/docs.ts'
import { metaRoutes } from './routes/meta.ts'
import { catalogueRoutes } from './routes/catalogue.ts'
import { faultEnvelope } from './soap/fault.ts'
import { clientKey, serviceText } from './identifiers.ts'
import type { MessageLog } from './log/message-log.ts'
import { evidenceRoutes } from './routes/evidence.ts'
import { ClientCertificates } from './client-tls.ts'
import { tlsServerFactory, type GatewayTls } from './tls-listener.ts'
import type { CertificateRow } from '../certs/inventory.ts'
import { makeClientErrorHandler, refuseOnSocket } from './client-errors.ts'
import { logDestination } from './log-destination.ts'
import { logExchange } from './exchange-log.ts'
import { GatewayMetrics } from './metrics.ts'
import { RateLimiter } from './rate-limit.ts'
import { metricsRoutes } from './routes/metrics.ts'

declare module 'fastify' {
  interface FastifyRequest {
    exchange: Exchange
  }
}

export interface GatewayContext {
  registry: Registry
  recorder: ExchangeRecorder
  library: SchemaLibrary
  /** False once shutdown has begun: `/readyz` turns 503 so load balancers stop sending. */
  ready: boolean
  /** Client certificate checks (stage 1) when the node serves TLS. */
  clientCertificates?: ClientCertificates
  /** Certificates expiring within 30 days (or expired), for `/readyz`. */
  expiringCertificates?: () => CertificateRow[]
  metrics: GatewayMetrics
  rateLimiter: RateLimiter
}

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
}

export interface Gateway {
  app: FastifyInstance
  context: GatewayContext
  /** With `tls.plainHttp`: the plain HTTP server for `connection: http` clients, not yet listening. */
  plainServer?: HttpServer
  /** Stops accepting, lets in-flight exchanges finish, closes provider pools. */
  close (): Promise<void>
}

export async function buildGateway (opts: GatewayOptions): Promise<Gateway> {
  const { config } = opts
  const library = opts.library ?? await SchemaLibrary.load([PROJECT_SCHEMA_DIR], config.node.schemas)
  const registry = await Registry.build(config, library)
  const metrics = new GatewayMetrics(registry)
  if (opts.certificates !== undefined) metrics.trackCertificates(opts.certificates)
  const log = opts.messageLog
  if (log !== undefined) {
    metrics.trackQueue('signer', () => log.signer.waiting)
    metrics.trackQueue('log', () => log.store.waiting)
  }
  const context: GatewayContext = {
    registry,
    recorder: opts.recorder ?? opts.messageLog?.recorder ?? unloggedRecorder,
    library,
    ready: true,
    metrics,
    rateLimiter: new RateLimiter(config.node.rateLimits),
  }
  if (opts.tls !== undefined) context.clientCertificates = new ClientCertificates(opts.tls.trust)
  if (opts.expiringCertificates !== undefined) context.expiringCertificates = opts.expiringCertificates
  let plainServer: HttpServer | undefined
  const limits = config.node.limits
  const headerCount = limits.headerCount ?? 100
  const headersTimeout = limits.headersTimeoutMs ?? 10_000

  const app = Fastify({
    logger: opts.logger ?? { level: 'info', stream: logDestination() },
    // Fastify's own per-request lines are off: the node writes one line per exchange itself.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: config.node.limits.requestBytes,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Idle keep-alive sockets are closed at shutdown; busy ones finish their exchange first.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    routerOptions: { ignoreDuplicateSlashes: false },
    // Slow and oversize clients (limits in config/schema.ts); the parser's refusals get X-Road errors too.
    http: {
      maxHeaderSize: limits.headerBytes ?? 16384,
      headersTimeout,
      // How often Node looks for connections past those deadlines (its default is 30 s).
      connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(headersTimeout / 4))),
      // Checked in onRequest instead, so a missing or repeated Host gets a typed error.
      requireHostHeader: false,
    },
    requestTimeout: limits.requestTimeoutMs ?? 120_000,
    keepAliveTimeout: limits.keepAliveTimeoutMs ?? 65_000,
    clientErrorHandler: makeClientErrorHandler(code => { metrics.clientError(code) }),
    // `https: true` only makes Fastify print https:// addresses; the factory builds the servers.
    ...(opts.tls === undefined ? {} : { https: {}, serverFactory: tlsServerFactory(opts.tls, s => { plainServer = s }) }),
    // Errors raised before routing (undecodable URL) get the same X-Road shape as the rest.
    frameworkErrors: (err, req, reply) => {
      const xerr = err.code === 'FST_ERR_BAD_URL' ? new XRoadError('Client.BadRequest', 'The request URL is not validly percent-encoded') : toXRoadError(err)
      return sendRestError(reply, xerr, req.id)
    },
  })

  // Bodies are kept as bytes for every content type.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => { done(null, body) })

  app.decorateRequest('exchange', null as unknown as Exchange)
  // Callback-style hooks: they run on every request, and an async hook costs a promise per call.
  app.addHook('onRequest', (req, reply, done) => {
    const url = req.raw.url ?? ''
    const protocol = url === '/' || url.startsWith('/?') ? 'soap' : 'rest'
    req.exchange = { protocol, requestId: req.id }
    // While draining, every answer closes its connection, so keep-alive clients reconnect elsewhere.
    if (!context.ready) reply.header('connection', 'close')
    // Node drops header fields past maxHeadersCount silently; one more than the limit is kept so that
    // a request over the limit is refused rather than read with fields missing.
    const raw = req.raw.rawHeaders
    if (raw.length / 2 > headerCount) {
      return done(new XRoadError('Client.RequestHeaderTooLarge', `The request has more than ${headerCount} header fields`))
    }
    // RFC 9112 §3.2: exactly one Host in HTTP/1.1 (two would let hops disagree on the target).
    let hosts = 0
    for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 4 && raw[i].toLowerCase() === 'host') hosts++
    if (hosts > 1 || (hosts === 0 && req.raw.httpVersion !== '1.0')) return done(new XRoadError('Client.BadRequest', 'An HTTP/1.1 request needs exactly one Host header'))
    done()
  })
  // The same edge rules on the plain HTTP server (if any) as on the main one.
  for (const server of plainServer === undefined ? [app.server] : [app.server, plainServer]) {
    server.maxHeadersCount = headerCount + 1
    // CONNECT asks for a tunnel: the node never opens one.
    server.on('connect', (_req, socket) => {
      metrics.clientError('Client.InvalidHttpMethod')
      refuseOnSocket(socket as import('node:net').Socket, 'Client.InvalidHttpMethod', 'CONNECT is not supported')
    })
  }
  // Fastify attaches its parser-error handler to the main server only.
  plainServer?.on('clientError', makeClientErrorHandler(code => { metrics.clientError(code) }))

  app.setErrorHandler((err, req, reply) => {
    const ex = req.exchange
    const xerr = toXRoadError(err)
    ex.errorCode = xerr.code
    if (xerr.code === 'Server.ClientProxy.InternalError') req.log.error({ err, requestId: ex.requestId }, 'unexpected error')
    if (ex.protocol === 'soap') {
      if (xerr.retryAfterSeconds !== undefined) reply.header('retry-after', String(xerr.retryAfterSeconds))
      // Faults travel as 500 (SOAP 1.1 over HTTP), except a rate limit: 429 tells the client to slow down.
      return reply.code(xerr.status === 429 ? 429 : 500).header('content-type', 'text/xml; charset=utf-8').header('x-road-request-id', ex.requestId).send(faultEnvelope(xerr, ex.requestId))
    }
    return sendRestError(reply.headers(evidenceHeaders(ex)), xerr, ex.requestId)
  })

  app.setNotFoundHandler((req, reply) => {
    const versioned = /^\/r(\d+)\//.exec(req.raw.url ?? '')
    const err = versioned !== null && versioned[1] !== '1'
      ? new XRoadError('Client.InvalidProtocolVersion', `REST protocol version r${versioned[1]} is not supported; use r1`)
      : new XRoadError('Client.BadRequest', `No such endpoint: ${req.method} ${req.raw.url?.split('?')[0]}`)
    req.exchange.errorCode = err.code
    return sendRestError(reply, err, req.exchange.requestId)
  })

  // One line per exchange: ids, parties, outcome, timings. Never payloads.
  app.addHook('onResponse', (req, reply, done) => {
    metrics.observe(req, reply)
    const ex = req.exchange
    if (ex.serviceId === undefined && ex.errorCode === undefined) return done()
    logExchange(req.log, {
      messageId: ex.messageId,
      protocol: ex.protocol,
      client: ex.clientId === undefined ? undefined : ex.client?.key ?? clientKey(ex.clientId),
      service: ex.serviceId === undefined ? undefined : serviceText(ex.serviceId),
      method: ex.protocol === 'rest' ? ex.method : undefined,
      userId: ex.userId,
      issue: ex.issue,
      status: reply.statusCode,
      providerStatus: ex.providerStatus,
      error: ex.errorCode,
      durationMs: Math.round(reply.elapsedTime * 100) / 100,
      providerMs: ex.providerMs === undefined ? undefined : Math.round(ex.providerMs * 100) / 100,
    })
    done()
  })

  // OpenAPI and Swagger UI first: swagger describes the routes registered after it.
  await docsPlugin(app, context, config)
  await app.register(async scope => r1Routes(scope, context))
  await app.register(async scope => soapRoutes(scope, context))
  await app.register(async scope => opsRoutes(scope, context))
  await app.register(async scope => metaRoutes(scope, context, config))
  await app.register(async scope => catalogueRoutes(scope, context, config))
  const messageLog = opts.messageLog
  if (messageLog !== undefined) await app.register(async scope => evidenceRoutes(scope, context, messageLog, config.node.operators))
  await app.register(async scope => metricsRoutes(scope, context))

  let closing: Promise<void> | undefined
  return {
    app,
    context,
    ...(plainServer === undefined ? {} : { plainServer }),
    close: () => {
      closing ??= (async () => {
        context.ready = false
        const shutdown = config.node.shutdown ?? { drainDelayMs: 0, graceMs: 30_000 }
        // Load balancers see /readyz 503 and move away while the node still serves.
        if (shutdown.drainDelayMs > 0) await new Promise(resolve => setTimeout(resolve, shutdown.drainDelayMs))
        // Exchanges still running after the grace period are cut off.
        let cut = false
        const cutOff = setTimeout(() => { cut = true; app.server.closeAllConnections(); plainServer?.closeAllConnections() }, shutdown.graceMs)
        // The plain server (if any) drains like the main one: stop accepting, let exchanges finish.
        const plainClosed = plainServer?.listening === true ? new Promise<void>(resolve => plainServer!.close(() => resolve())) : undefined
        try {
          await app.close()
          plainServer?.closeIdleConnections()
          await plainClosed
        } finally {
          clearTimeout(cutOff)
        }
        await (cut ? registry.destroy() : registry.close())
        await opts.messageLog?.close()
      })()
      return closing
    },
  }
}

function toXRoadError (err: unknown): XRoadError {
  if (isXRoadError(err)) return err
  const e = err as { code?: string; statusCode?: number; message?: string }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new XRoadError('Client.RequestTooLarge', 'Request body exceeds the limit of this node')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new XRoadError('Client.BadRequest', 'Content-Length does not match the body')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new XRoadError('Client.InvalidContentType', e.message ?? 'Unsupported content type')
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new XRoadError('Client.BadRequest', e.message ?? 'Bad request')
  return new XRoadError('Server.ClientProxy.InternalError', 'Internal error in the node')
}
