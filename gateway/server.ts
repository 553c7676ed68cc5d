/**
 * Builds the gateway: one Fastify app with the REST r1 edge, the SOAP edge and the operations
 * routes. Request bodies stay raw Buffers (the hashes and the log need the exact bytes); each edge
 * parses only what it must.
 */
import { randomUUID } from 'node:crypto'
import type { Server as HttpServer } from 'node:http'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
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
  const context: GatewayContext = { registry, recorder: opts.recorder ?? opts.messageLog?.recorder ?? unloggedRecorder, library, ready: true }
  if (opts.tls !== undefined) context.clientCertificates = new ClientCertificates(opts.tls.trust)
  if (opts.expiringCertificates !== undefined) context.expiringCertificates = opts.expiringCertificates
  let plainServer: HttpServer | undefined

  const app = Fastify({
    logger: opts.logger ?? { level: 'info' },
    disableRequestLogging: true,
    bodyLimit: config.node.limits.requestBytes,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    requestIdLogLabel: 'requestId',
    // Idle keep-alive sockets are closed at shutdown; busy ones finish their exchange first.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    routerOptions: { ignoreDuplicateSlashes: false },
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
  app.addHook('onRequest', async req => {
    const url = req.raw.url ?? ''
    const protocol = url === '/' || url.startsWith('/?') ? 'soap' : 'rest'
    req.exchange = { protocol, requestId: req.id }
  })

  app.setErrorHandler((err, req, reply) => {
    const ex = req.exchange
    const xerr = toXRoadError(err)
    ex.errorCode = xerr.code
    if (xerr.code === 'Server.ClientProxy.InternalError') req.log.error({ err, requestId: ex.requestId }, 'unexpected error')
    if (ex.protocol === 'soap') {
      return reply.code(500).header('content-type', 'text/xml; charset=utf-8').header('x-road-request-id', ex.requestId).send(faultEnvelope(xerr, ex.requestId))
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

  // While draining, answers close their connection so keep-alive sockets do not hold shutdown open.
  app.addHook('onSend', async (_req, reply) => {
    if (!context.ready) reply.header('connection', 'close')
  })

  // One line per exchange: ids, parties, outcome, timings. Never payloads.
  app.addHook('onResponse', async (req, reply) => {
    const ex = req.exchange
    if (ex.serviceId === undefined && ex.errorCode === undefined) return
    req.log.info({
      messageId: ex.messageId,
      protocol: ex.protocol,
      client: ex.clientId === undefined ? undefined : clientKey(ex.clientId),
      service: ex.serviceId === undefined ? undefined : serviceText(ex.serviceId),
      method: ex.protocol === 'rest' ? ex.method : undefined,
      userId: ex.userId,
      issue: ex.issue,
      status: reply.statusCode,
      providerStatus: ex.providerStatus,
      error: ex.errorCode,
      durationMs: Math.round(reply.elapsedTime * 100) / 100,
      providerMs: ex.providerMs === undefined ? undefined : Math.round(ex.providerMs * 100) / 100,
    }, 'exchange')
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

  let closing: Promise<void> | undefined
  return {
    app,
    context,
    ...(plainServer === undefined ? {} : { plainServer }),
    close: () => {
      closing ??= (async () => {
        context.ready = false
        // The plain server (if any) drains like the main one: stop accepting, let exchanges finish.
        const plainClosed = plainServer?.listening === true ? new Promise<void>(resolve => plainServer!.close(() => resolve())) : undefined
        await app.close()
        plainServer?.closeIdleConnections()
        await plainClosed
        await registry.close()
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
