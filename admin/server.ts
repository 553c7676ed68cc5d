/**
 * The admin API's own Fastify app: HTTPS with the node's TLS certificate on a listener of its own
 * (never the exchange port), asking every client for a certificate without requiring one, so that
 * operators with an operator certificate and scripts with an API token both connect. Under
 * `/admin/v1` every request is identified (admin/auth.ts), authorized (admin/roles.ts), validated by
 * JSON Schema, and recorded in the audit trail before its answer leaves; `/admin/docs` serves the
 * OpenAPI document made from the same schemas. Plugins of other parts of admin/ join the
 * authenticated scope (`plugins`) or, rate-limited per address and without credentials, the public
 * one (`publicPlugins`).
 */
import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { NodePki } from '../certs/node-pki.ts'
import type { UraConfig } from '../config/types.ts'
import type { DeliveryQueue } from '../delivery/queue.ts'
import type { AuditTrail } from '../messagelog/audit/index.ts'
import type { LogStore } from '../messagelog/store.ts'
import type { RegistryStore } from '../registry/store/index.ts'
import { Authenticator } from './auth.ts'
import type { ConsoleSetup } from './console/index.ts'
import { current } from './change.ts'
import type { AdminContext, NodeHealth } from './context.ts'
import { AdminError, errorBody, toAdminError } from './errors.ts'
import { adminDocs } from './openapi.ts'
import { AddressBuckets, DEFAULT_PUBLIC_RATE, type RateSettings } from './rate-limit.ts'
import { recordAction } from './record.ts'
import { ADMIN_PREFIX } from './route-kit.ts'
import { authorize, visibleMembers } from './roles.ts'
import { accessRequestRoutes } from './resources/access-requests.ts'
import { accessRoutes } from './resources/access.ts'
import { applicationRoutes } from './resources/applications.ts'
import { certificateRoutes } from './resources/certificates.ts'
import { logRoutes } from './resources/log.ts'
import { memberRoutes } from './resources/members.ts'
import { nodeRoutes } from './resources/node.ts'
import { operatorRoutes } from './resources/operators.ts'
import { outboxRoutes } from './resources/outbox.ts'
import { queueRoutes } from './resources/queues.ts'
import { serviceRoutes } from './resources/services.ts'
import { subscriptionRoutes } from './resources/subscriptions.ts'
import { trafficRoutes } from './resources/traffic.ts'
import { versionRoutes } from './resources/versions.ts'

export type AdminPlugin = (app: FastifyInstance, ctx: AdminContext) => Promise<void>

export interface AdminOptions {
  config: UraConfig
  store: RegistryStore
  audit: AuditTrail
  /** The node's PKI: its TLS certificate serves the listener, its trust store checks operator certificates. */
  pki: NodePki
  /** The node's message log (the caller opens and closes it): `/log` and `/traffic` read it. */
  logStore?: LogStore
  /** The node's delivery queue (the caller opens and closes it): `/queues` reads it and re-drives dead jobs. */
  deliveryQueue?: DeliveryQueue
  /** The node's health (circuit breakers, certificates expiring), read at each `/traffic` request. */
  health?: () => NodeHealth
  /** A logger of the caller's (the node's process log), or Fastify logger options; default: none. */
  loggerInstance?: FastifyBaseLogger
  now?: () => Date
  /** Registered under /admin/v1 after authentication: every route must name its action (config.action) or call authorize. */
  plugins?: AdminPlugin[]
  /** Registered without authentication, each request rate-limited per client address. */
  publicPlugins?: AdminPlugin[]
  publicRate?: RateSettings
  /** The operator console and the public application form (admin/console/), served beside the API. */
  console?: ConsoleSetup
}

/** A route of the admin API with the action it takes (HEAD routes left out). */
export interface AdminRoute { method: string; url: string; action: string }

export interface Admin {
  app: FastifyInstance
  context: AdminContext
  /** Every route that names its action, as registered (plugins' included). */
  routes: AdminRoute[]
  /** Stops the listener (the store and the trail belong to the caller). */
  close (): Promise<void>
}

const DEFAULT_BODY_BYTES = 1024 * 1024

export async function buildAdmin (opts: AdminOptions): Promise<Admin> {
  const { config, store, audit, pki } = opts
  const now = opts.now ?? (() => new Date())
  const context: AdminContext = { store, audit, config, pki, now, ...(opts.logStore === undefined ? {} : { logStore: opts.logStore }), ...(opts.deliveryQueue === undefined ? {} : { deliveryQueue: opts.deliveryQueue }), ...(opts.health === undefined ? {} : { health: opts.health }) }
  const tls = pki.keystore.nodeTls()
  const authenticator = new Authenticator(pki.trust, now, opts.console?.sessions)

  const app = Fastify({
    https: {
      // node:tls takes PEM: the key is exported in memory only, never written.
      key: tls.key.export({ type: 'pkcs8', format: 'pem' }) as string,
      cert: tls.certChainPem,
      ca: pki.trust.anchors.map(a => a.toString()),
      // Operators may present a certificate; scripts with a token need none. The API decides, not OpenSSL.
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    ...(opts.loggerInstance === undefined ? { logger: false } : { loggerInstance: opts.loggerInstance }),
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: config.node.admin?.bodyBytes ?? DEFAULT_BODY_BYTES,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    forceCloseConnections: true,
    return503OnClosing: true,
    routerOptions: { ignoreDuplicateSlashes: false, maxParamLength: 2000 },
    // Bodies are refused, never trimmed or coerced: unknown properties and wrong types are errors.
    ajv: { customOptions: { removeAdditional: false, useDefaults: false, coerceTypes: false, allErrors: true } },
    // A URL the router cannot even decode (`%zz`) gets the admin API's error shape too.
    frameworkErrors: frameworkError,
  })
  app.removeContentTypeParser('text/plain')
  const routes: AdminRoute[] = []
  app.addHook('onRoute', r => {
    const action = (r.config as { action?: string } | undefined)?.action
    for (const method of ([] as string[]).concat(r.method)) if (action !== undefined && method !== 'HEAD') routes.push({ method, url: r.url, action })
  })

  app.addHook('onRequest', async (request, reply) => { reply.header('x-request-id', request.id) })
  app.setErrorHandler(async (err, request, reply) => {
    const e = toAdminError(err)
    if (e.type === 'Admin.InternalError' || e.status >= 500) request.log.error({ err: (e.cause as Error | undefined) ?? err, requestId: request.id }, 'admin request failed')
    if (request.adminAction !== undefined) request.adminAction.errorType = e.type
    if (e instanceof AdminError && e.retryAfterSeconds !== undefined) reply.header('retry-after', String(e.retryAfterSeconds))
    return reply.code(e.status).type('application/json; charset=utf-8').send(errorBody(e, request.id))
  })
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0]
    if (opts.console?.owns(path) === true) return opts.console.notFound(request, reply)
    throw new AdminError('Admin.NotFound', `no admin route answers ${request.method} ${path}`)
  })
  app.addHook('onResponse', async (request, reply) => {
    const a = request.adminAction
    request.log.info({ requestId: request.id, operator: request.operator?.id, action: a?.action, target: a?.target, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'admin request')
  })

  await adminDocs(app)

  await app.register(async scope => {
    scope.addHook('onRequest', async request => {
      request.adminAction = { action: request.routeOptions.config.action ?? 'unknown', target: null, role: '', audited: false }
      const version = await current(context)
      request.registry = version
      request.operator = authenticator.identify(request, version)
    })
    scope.addHook('preValidation', async request => {
      const cfg = request.routeOptions.config
      if (cfg.target !== undefined) request.adminAction!.target = cfg.target(request) ?? null
      if (cfg.action === undefined || cfg.authorize === 'manual') return
      if (cfg.authorize === 'list') {
        const visible = visibleMembers(request, cfg.action)
        if (visible !== undefined) request.visibleMembers = visible
        return
      }
      authorize(request, cfg.action, cfg.member?.(request))
    })
    scope.addHook('onSend', async (request, reply, payload) => auditOnSend(context, request, reply, payload))
    scope.setNotFoundHandler(async request => { throw new AdminError('Admin.NotFound', `no admin route answers ${request.method} ${request.url.split('?')[0]}`) })

    await scope.register(async s => nodeRoutes(s, context))
    await scope.register(async s => memberRoutes(s, context))
    await scope.register(async s => serviceRoutes(s, context))
    await scope.register(async s => accessRoutes(s, context))
    await scope.register(async s => operatorRoutes(s, context))
    await scope.register(async s => versionRoutes(s, context))
    await scope.register(async s => applicationRoutes(s, context))
    await scope.register(async s => accessRequestRoutes(s, context))
    await scope.register(async s => subscriptionRoutes(s, context))
    await scope.register(async s => certificateRoutes(s, context))
    await scope.register(async s => outboxRoutes(s, context))
    await scope.register(async s => logRoutes(s, context))
    await scope.register(async s => trafficRoutes(s, context))
    await scope.register(async s => queueRoutes(s, context))
    for (const plugin of opts.plugins ?? []) await scope.register(async s => plugin(s, context))
  }, { prefix: ADMIN_PREFIX })

  if ((opts.publicPlugins ?? []).length > 0) {
    const buckets = new AddressBuckets(opts.publicRate ?? DEFAULT_PUBLIC_RATE)
    await app.register(async scope => {
      scope.addHook('onRequest', buckets.hook())
      for (const plugin of opts.publicPlugins ?? []) await scope.register(async s => plugin(s, context))
    })
  }

  if (opts.console !== undefined) {
    const setup = opts.console
    await app.register(async scope => setup.register(scope, { context, authenticator }))
  }

  return { app, context, routes, close: async () => { await app.close(); opts.console?.close() } }
}

/** What the router refuses before any hook runs (a URL it cannot decode, `%zz`), in the admin API's error shape. */
function frameworkError (err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const e = new AdminError('Admin.InvalidRequest', `the URL is malformed: ${err.message.slice(0, 300)}`)
  return reply.code(e.status).type('application/json; charset=utf-8').header('x-request-id', request.id).send(errorBody(e, request.id))
}

/**
 * Records the request in the audit trail before its answer leaves, unless it was already (a change).
 * An answer that could not be recorded does not leave: it becomes 500 Admin.AuditFailed.
 */
async function auditOnSend (ctx: AdminContext, request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  const a = request.adminAction
  if (a === undefined || a.audited) return payload
  const refused = reply.statusCode >= 400
  try {
    await recordAction(ctx, request, refused ? { result: 'refused', errorCode: a.errorType ?? 'Admin.InternalError' } : { result: 'allowed' })
    return payload
  } catch (err) {
    a.audited = true
    request.log.error({ err, requestId: request.id }, 'the audit trail refused a record')
    if (refused) return payload
    const e = new AdminError('Admin.AuditFailed', 'the action could not be recorded in the audit trail, so its answer is withheld')
    reply.code(e.status).type('application/json; charset=utf-8').removeHeader('etag')
    return JSON.stringify(errorBody(e, request.id))
  }
}
