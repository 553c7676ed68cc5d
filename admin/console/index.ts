/**
 * The operator console and the public application form, served by the admin listener beside the
 * API (`/console…`, `/apliko…`). Pages are rendered on the server and work without any script; a
 * session (admin/console/session.ts) carries the sign-in; every form carries a CSRF token checked
 * before its handler runs; every page is sent with a strict Content-Security-Policy and never cached.
 * Whatever a page does, it does through the admin API (admin/console/api.ts), so roles, validation
 * and the audit trail apply to the console exactly as to any other client.
 */
import { randomBytes } from 'node:crypto'
import fastifyCookie from '@fastify/cookie'
import fastifyCsrf from '@fastify/csrf-protection'
import fastifyFormbody from '@fastify/formbody'
import fastifySession from '@fastify/session'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Authenticator, SessionResolver } from '../auth.ts'
import type { AdminContext } from '../context.ts'
import { AdminError, toAdminError } from '../errors.ts'
import { apiFor, ApiError } from './api.ts'
import { CSS, CSS_ETAG, CSS_PATH, CONSOLE_CSP } from './assets.ts'
import { multipartParser } from './forms.ts'
import { html } from './html.ts'
import { COMMON, langOf, words } from './i18n.ts'
import { sendPage, type ConsolePages } from './kit.ts'
import { ConsoleSessions, IDLE_MS, Lockout, UsedSteps } from './session.ts'
import { signInRoutes } from './signin.ts'

export interface ConsoleOptions {
  /** Pages for signed-in operators, under /console. */
  pages?: ConsolePages[]
  /** Pages anyone may open (the application form), rate-limited by the caller if it wishes. */
  publicPages?: ConsolePages[]
  now?: () => number
}

/** What buildAdmin needs from the console: the resolver for the API's session header, and the routes. */
export interface ConsoleSetup {
  sessions: SessionResolver
  register (app: FastifyInstance, kit: { context: AdminContext; authenticator: Authenticator }): Promise<void>
  close (): void
  /** The live sessions (for tests and the overview). */
  store: ConsoleSessions
  /** Whether a path is the console's (the admin app's not-found handler answers those with a page). */
  owns (path: string): boolean
  notFound (request: FastifyRequest, reply: FastifyReply): FastifyReply
}

const W = words({
  sq: { csrf: 'Formulari ka skaduar ose nuk erdhi nga kjo faqe. Hapeni faqen përsëri dhe provoni sërish.', failed: 'Ndodhi një gabim në nyje.' },
  en: { csrf: 'The form has expired or did not come from this page. Open the page again and retry.', failed: 'The node failed.' },
})

export function createConsole (opts: ConsoleOptions = {}): ConsoleSetup {
  const now = opts.now ?? Date.now
  const sessions = new ConsoleSessions(now)
  const lockout = new Lockout(now)
  const usedSteps = new UsedSteps()
  return {
    sessions: sessions.resolver,
    store: sessions,
    close: () => { sessions.close() },
    owns: path => path === '/console' || path.startsWith('/console/') || path === '/apliko' || path.startsWith('/apliko/'),
    notFound: consoleNotFound,
    async register (app, { context, authenticator }) {
      await app.register(fastifyCookie)
      await app.register(fastifySession, {
        // Sessions live in this process only, so a secret of this process signs their cookies.
        secret: randomBytes(32).toString('hex'),
        cookieName: '__Host-ura-session',
        cookie: { secure: true, httpOnly: true, sameSite: 'strict', path: '/', maxAge: IDLE_MS },
        store: sessions,
        saveUninitialized: false,
        rolling: true,
      })
      await app.register(fastifyFormbody, { bodyLimit: 256 * 1024 })
      multipartParser(app)
      await app.register(fastifyCsrf, { sessionPlugin: '@fastify/session' })

      app.addHook('onRequest', async (_request, reply) => {
        reply.header('content-security-policy', CONSOLE_CSP).header('x-content-type-options', 'nosniff')
          .header('referrer-policy', 'no-referrer').header('x-frame-options', 'DENY')
          .header('permissions-policy', 'camera=(), microphone=(), geolocation=()')
          .header('cache-control', 'no-store')
      })
      // Every form post carries the CSRF token of its session; nothing else reaches a handler.
      app.addHook('preHandler', (request, reply, done) => {
        if (request.method !== 'POST') { done(); return }
        app.csrfProtection(request, reply, done)
      })
      app.setErrorHandler(async (err: FastifyError, request, reply) => errorPage(request, reply, err))

      app.get(CSS_PATH, async (request, reply) => {
        reply.header('cache-control', 'public, max-age=3600').header('etag', CSS_ETAG).type('text/css; charset=utf-8')
        if (request.headers['if-none-match'] === CSS_ETAG) return reply.code(304).send()
        return CSS
      })

      await signInRoutes(app, { ctx: context, authenticator, lockout, usedSteps })

      for (const pages of opts.publicPages ?? []) await app.register(async s => pages(s, context))

      // The signed-in part: who is signed in is read again from the registry on every request.
      await app.register(async scope => {
        scope.addHook('onRequest', async (request, reply) => {
          const id = request.session.get('operatorId')
          const operator = id === undefined ? undefined : (await context.store.current()).content.operators.find(o => o.id === id)
          if (operator === undefined || operator.disabled === true) {
            if (id !== undefined) await request.session.destroy()
            if (request.method === 'GET') return reply.code(303).header('location', `/console/signin?next=${encodeURIComponent(request.url)}`).send()
            throw new AdminError('Admin.Unauthenticated', 'the console session has ended: sign in again')
          }
          request.session.set('lastSeen', now())
          request.console = {
            lang: langOf(request, reply),
            viewer: { id: operator.id, name: operator.name, roles: operator.roles },
            api: apiFor(app, sessions.header(request.session.sessionId), request.id),
            csrf: reply.generateCsrf(),
          }
        })
        for (const pages of opts.pages ?? []) await scope.register(async s => pages(s, context))
        // Unknown console paths are answered after the session check, so they say nothing to strangers.
        scope.all('/console/*', async (request, reply) => consoleNotFound(request, reply))
      })
    },
  }
}

function consoleNotFound (request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const lang = request.console?.lang ?? langOf(request)
  return sendPage(request, reply, { title: COMMON[lang].notFound, status: 404, body: html`<h1>${COMMON[lang].notFound}</h1><p><a href="/console">${COMMON[lang].back}</a></p>` })
}

/** Any failure as a page: the API's refusals keep their status and code (403 stays 403), CSRF failures say what to do. */
function errorPage (request: FastifyRequest, reply: FastifyReply, err: FastifyError): FastifyReply {
  const lang = request.console?.lang ?? langOf(request)
  const t = COMMON[lang]
  let status: number
  let type: string
  let message: string
  if (err instanceof ApiError) {
    status = err.status; type = err.problem.type; message = err.problem.message
  } else if (err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET') {
    status = 403; type = 'Console.InvalidCsrfToken'; message = W[lang].csrf
  } else {
    const e = toAdminError(err)
    status = e.status; type = e.type; message = e.status >= 500 ? W[lang].failed : e.message
    // A rate limit says when to come back, as the API's own answers do.
    if (e instanceof AdminError && e.retryAfterSeconds !== undefined) reply.header('retry-after', String(e.retryAfterSeconds))
    if (e.status >= 500) request.log.error({ err, requestId: request.id }, 'console request failed')
  }
  const title = status === 403 ? t.forbidden : status === 404 ? t.notFound : t.error
  return sendPage(request, reply, {
    title,
    status,
    body: html`<h1>${title}</h1><div class="notice bad" role="alert"><p><strong>${message}</strong></p><p class="muted"><code>${type}</code> · ${request.id}</p></div><p><a href="/console">${t.back}</a></p>`,
  })
}
