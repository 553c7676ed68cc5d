/**
 * The public side of onboarding, for institutions that are not members yet (no client certificate;
 * the admin API mounts it among its public plugins, rate limited):
 *
 *   POST /public/v1/applications                    multipart/form-data: the application and its letter
 *   GET  /public/v1/applications/{id}               its state (and the reason of a rejection)
 *   GET  /public/v1/applications/{id}/certificates  the certificates, once issued (→ active)
 *   POST /public/v1/applications/{id}/token         the employee's API token, once
 *   POST /public/v1/applications/{id}/login         the employee's console sign-in, once (multipart: username, password)
 *
 * The applicant proves itself with the status token it got when applying, always in
 * `Authorization: Bearer`, never in the URL. Cross-site requests are refused (see `crossSite`).
 * Every change is one registry version, committed as `applicant:<id>`; every action, allowed or
 * refused, is recorded in the audit trail as `applicant:<id>` (or `anonymous` before there is an
 * id). Refusals are the admin API's shape: `{type, message, detail: {requestId, problems?}}`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AuditEntry } from '../../messagelog/audit/index.ts'
import type { ApplicationRecord } from '../../config/registry-sections.ts'
import type { RegistryContent, RegistryStore } from '../../registry/store/index.ts'
import { AdminError, errorBody, type AnsweredError } from '../errors.ts'
import { ANONYMOUS } from '../record.ts'
import { checkApplication, checkLetter, LETTER_MAX_BYTES } from './application.ts'
import { commitTransform } from './commit.ts'
import { OnboardingError } from './errors.ts'
import { parseSubmission } from './form.ts'
import { newTotpSecret, otpauthUri } from '../totp.ts'
import { hashPassword, passwordProblem } from '../password.ts'
import { applicationCertificates, applicationStatus, findApplication, issueApplicantToken, markActive, setApplicantLogin, statusTokenMatches, submitApplication, USERNAME } from './lifecycle.ts'

/** What the routes need of an audit trail (the admin API's, `AuditTrail#record`). */
export interface OnboardingAudit {
  record (entry: AuditEntry): Promise<unknown>
}

export interface PublicOnboardingOptions {
  store: RegistryStore
  now?: () => Date
  audit?: OnboardingAudit
  /** The node CA's certificate, appended to the certificates an applicant downloads. */
  caPem?: string
  /**
   * Origins (`https://host[:port]`) a browser may post from. Default: the origin whose host is the
   * request's own `Host`, i.e. the form served by this listener.
   */
  origins?: string[]
  /** Applications waiting for a decision at most (default MAX_OPEN_APPLICATIONS). */
  maxOpen?: number
}

const BASE = '/public/v1/applications'
/** What an application id looks like; anything else is not named as an applicant in the audit trail. */
const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/
/** The letter and everything else an application carries (ten CSRs, names, the multipart framing). */
const BODY_LIMIT = LETTER_MAX_BYTES + 256 * 1024

declare module 'fastify' {
  interface FastifyContextConfig {
    onboardingAction?: string
  }
}

/**
 * CSRF: browsers say where a request comes from. An `Origin` listed in `origins` is accepted; else a
 * request saying `Sec-Fetch-Site: cross-site` or `same-site`, or carrying an `Origin` whose host is
 * not the request's own `Host`, is refused. Requests that say neither come from programs (curl,
 * scripts), which carry no victim's session, and are accepted. Nothing here is authenticated by a
 * cookie either: the status token travels in `Authorization`, which another site cannot make a
 * browser send.
 */
function crossSite (request: FastifyRequest, origins: string[] | undefined): string | undefined {
  const origin = request.headers.origin
  if (origin !== undefined && origins?.includes(origin) === true) return undefined
  const site = request.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `a ${String(site).slice(0, 40)} request is refused`
  if (origin === undefined) return undefined
  const refused = `origin ${origin.slice(0, 200)} may not post here`
  if (origins !== undefined) return refused
  let host: string
  try {
    host = new URL(origin).host
  } catch {
    return refused
  }
  return host !== '' && host === request.headers.host ? undefined : refused
}

function bearer (request: FastifyRequest): string {
  const header = request.headers.authorization
  const m = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,200})$/.exec(header) : null
  if (m === null) throw new OnboardingError('Onboarding.InvalidStatusToken', 'send the status token as `Authorization: Bearer <token>`')
  return m[1]
}

/** Refuses anything in the query string: the token goes in a header, and nothing else is asked. */
function noQuery (request: FastifyRequest): void {
  if (request.url.includes('?')) throw new OnboardingError('Onboarding.InvalidRequest', 'this endpoint takes no query parameters; send the status token in `Authorization: Bearer`')
}

const LOGIN_BODY_LIMIT = 4096

/** The sign-in form: `username` and `password`, each once, as text; anything else is refused. */
async function parseLogin (raw: Buffer, contentType: string): Promise<{ username: string; password: string }> {
  let form: FormData
  try {
    form = await new Response(raw as Uint8Array<ArrayBuffer>, { headers: { 'content-type': contentType } }).formData()
  } catch {
    throw new OnboardingError('Onboarding.InvalidMultipart', 'the body is not well-formed multipart/form-data')
  }
  const got = new Map<string, string>()
  for (const [name, value] of form) {
    if (name !== 'username' && name !== 'password') throw new OnboardingError('Onboarding.InvalidSignIn', `unknown field ${name.slice(0, 40)}: send username and password`, [{ path: name.slice(0, 40), message: 'unknown field' }])
    if (typeof value !== 'string' || got.has(name)) throw new OnboardingError('Onboarding.InvalidSignIn', `${name} must be sent once, as text`, [{ path: name, message: 'sent twice or as a file' }])
    got.set(name, value)
  }
  const username = (got.get('username') ?? '').trim().toLowerCase()
  const password = got.get('password') ?? ''
  if (!USERNAME.test(username)) throw new OnboardingError('Onboarding.InvalidSignIn', 'the username must be 2 to 64 of a-z 0-9 . _ -, starting with a letter or a digit', [{ path: 'username', message: 'not a username' }])
  const weak = passwordProblem(password)
  if (weak !== undefined) throw new OnboardingError('Onboarding.InvalidSignIn', weak, [{ path: 'password', message: weak }])
  return { username, password }
}

async function routes (app: FastifyInstance, options: PublicOnboardingOptions): Promise<void> {
  const { store } = options
  const now = options.now ?? (() => new Date())

  const audit = async (request: FastifyRequest, entry: Omit<AuditEntry, 'role' | 'requestId' | 'action'> & { action?: string }): Promise<void> => {
    const action = entry.action ?? request.routeOptions.config.onboardingAction
    if (options.audit === undefined || action === undefined) return
    try {
      await options.audit.record({ ...entry, action, role: entry.operator === ANONYMOUS ? 'none' : 'applicant', requestId: request.id, time: now() })
    } catch (err) {
      // The change is committed and its answer (a token shown once) must reach the applicant.
      request.log.error({ err }, 'the audit trail could not record a public onboarding action')
    }
  }

  // Only multipart/form-data is read here; any other body is refused before a handler runs.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body, done) => { done(null, body) })

  app.addHook('onRequest', async (request) => {
    if (request.method !== 'POST') return
    const refused = crossSite(request, options.origins)
    if (refused !== undefined) throw new OnboardingError('Onboarding.CrossSiteRequest', refused)
  })
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
    reply.header('cache-control', 'no-store')
    reply.header('x-content-type-options', 'nosniff')
  })

  app.setErrorHandler(async (err: Error & { code?: string; statusCode?: number }, request, reply) => {
    let e: AnsweredError
    // The host's own refusals (the admin listener's rate limit) keep their code.
    if (err instanceof OnboardingError || err instanceof AdminError) e = err
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') e = new OnboardingError('Onboarding.RequestTooLarge', `the request is larger than ${BODY_LIMIT} bytes`)
    else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') e = new OnboardingError('Onboarding.UnsupportedMediaType', 'send the application as multipart/form-data')
    else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) e = new OnboardingError('Onboarding.InvalidRequest', err.message)
    else {
      request.log.error({ err, requestId: request.id }, 'public onboarding failed')
      e = new OnboardingError('Onboarding.InternalError', 'public onboarding failed; the request id names the log line')
    }
    const id = (request.params as { id?: unknown } | undefined)?.id
    const applicant = typeof id === 'string' && ID.test(id) ? id : undefined
    await audit(request, { operator: applicant === undefined ? ANONYMOUS : `applicant:${applicant}`, target: typeof id === 'string' ? id.slice(0, 80) : null, result: 'refused', errorCode: e.type })
    if (e.status === 401) reply.header('www-authenticate', 'Bearer')
    if (e instanceof AdminError && e.retryAfterSeconds !== undefined) reply.header('retry-after', String(e.retryAfterSeconds))
    return reply.code(e.status).type('application/json; charset=utf-8').send(errorBody(e, request.id))
  })

  /** The application the request's status token opens. */
  async function authorised (request: FastifyRequest<{ Params: { id: string } }>): Promise<{ content: RegistryContent; application: ApplicationRecord }> {
    noQuery(request)
    const token = bearer(request)
    const { content } = await store.current()
    const application = findApplication(content, request.params.id)
    if (!statusTokenMatches(application, token)) throw new OnboardingError('Onboarding.InvalidStatusToken', 'the status token does not match this application')
    return { content, application }
  }

  app.post(BASE, { bodyLimit: BODY_LIMIT, config: { onboardingAction: 'application.submit' } }, async (request, reply) => {
    noQuery(request)
    if (!Buffer.isBuffer(request.body)) throw new OnboardingError('Onboarding.UnsupportedMediaType', 'send the application as multipart/form-data')
    const { body, letter } = await parseSubmission(request.body, String(request.headers['content-type']))
    checkLetter(letter.bytes, letter.type)
    const { content } = await store.current()
    // Checked before the letter is stored, so a refused application leaves nothing behind.
    checkApplication(body, { instance: store.instance, content })
    const sha256 = await store.putBlob(letter.bytes, 'application/pdf')
    const stored = { sha256, bytes: letter.bytes.length, ...(letter.filename === undefined ? {} : { filename: letter.filename }) }
    const result = await commitTransform(store,
      c => submitApplication(c, { body, letter: stored, instance: store.instance, now: now(), ...(options.maxOpen === undefined ? {} : { maxOpen: options.maxOpen }) }),
      r => ({ who: `applicant:${r.id}`, why: `application ${r.id} submitted` }))
    await audit(request, { operator: `applicant:${result.id}`, target: result.id, after: { state: 'submitted' }, result: 'allowed' })
    const statusUrl = `${BASE}/${result.id}`
    return reply.code(201).header('location', statusUrl).send({
      id: result.id,
      state: 'submitted',
      statusToken: result.statusToken,
      statusUrl,
      note: 'Keep the status token: it is shown only now. Send it as `Authorization: Bearer <token>` to follow the application.',
    })
  })

  app.get<{ Params: { id: string } }>(`${BASE}/:id`, async (request) => {
    const { content, application } = await authorised(request)
    return applicationStatus(content, application)
  })

  app.get<{ Params: { id: string } }>(`${BASE}/:id/certificates`, { config: { onboardingAction: 'application.certificates' } }, async (request, reply) => {
    const { content, application } = await authorised(request)
    if (application.state !== 'issued' && application.state !== 'active') {
      throw new OnboardingError('Onboarding.InvalidState', `there are no certificates: application ${application.id} is ${application.state}`)
    }
    const certificates = applicationCertificates(content, application)
    if (application.state === 'issued') {
      // Either this commit marks it active, or another download just did: both are fine.
      await commitTransform(store, c => findApplication(c, application.id).state === 'issued' ? markActive(c, application.id, { now: now() }) : { content: c },
        { who: `applicant:${application.id}`, why: `application ${application.id}: certificates downloaded` })
      await audit(request, { operator: `applicant:${application.id}`, target: application.id, before: { state: 'issued' }, after: { state: 'active' }, result: 'allowed' })
    }
    if (/\bapplication\/json\b/.test(request.headers.accept ?? '')) {
      return {
        application: application.id,
        certificates: certificates.map(c => ({ role: c.role, owner: c.owner, serial: c.serial, notAfter: c.notAfter, fingerprint: c.fingerprint, pem: c.pem })),
        ...(options.caPem === undefined ? {} : { ca: options.caPem }),
      }
    }
    return reply.type('application/x-pem-file').send(certificates.map(c => c.pem).join('') + (options.caPem ?? ''))
  })

  app.post<{ Params: { id: string } }>(`${BASE}/:id/token`, { bodyLimit: 1024, config: { onboardingAction: 'application.token' } }, async (request, reply) => {
    const token = bearer(request)
    noQuery(request)
    const id = request.params.id
    const result = await commitTransform(store, c => issueApplicantToken(c, id, { statusToken: token, now: now() }),
      r => ({ who: `applicant:${id}`, why: `application ${id}: API token ${r.tokenId} for operator ${r.operator}` }))
    await audit(request, { operator: `applicant:${id}`, target: result.operator, after: { token: result.tokenId }, result: 'allowed' })
    return reply.code(201).send({
      operator: result.operator,
      tokenId: result.tokenId,
      token: result.token,
      note: 'Shown only now. Use it as `Authorization: Bearer <token>` on the admin API.',
    })
  })

  app.post<{ Params: { id: string } }>(`${BASE}/:id/login`, { bodyLimit: LOGIN_BODY_LIMIT, config: { onboardingAction: 'application.login' } }, async (request, reply) => {
    const token = bearer(request)
    noQuery(request)
    const id = request.params.id
    if (!Buffer.isBuffer(request.body)) throw new OnboardingError('Onboarding.UnsupportedMediaType', 'send the username and the password as multipart/form-data')
    const { username, password } = await parseLogin(request.body, String(request.headers['content-type']))
    // Cheap refusals first: the token and the state, before the scrypt hash is computed.
    const application = findApplication((await store.current()).content, id)
    if (!statusTokenMatches(application, token)) throw new OnboardingError('Onboarding.InvalidStatusToken', 'the status token does not match this application')
    const totpSecret = newTotpSecret()
    const passwordHash = await hashPassword(password)
    const result = await commitTransform(store, c => setApplicantLogin(c, id, { statusToken: token, username, passwordHash, totpSecret, now: now() }),
      r => ({ who: `applicant:${id}`, why: `application ${id}: console sign-in ${r.username} for operator ${r.operator}` }))
    await audit(request, { operator: `applicant:${id}`, target: result.operator, after: { login: result.username }, result: 'allowed' })
    return reply.code(201).send({
      operator: result.operator,
      username: result.username,
      totpSecret,
      otpauthUri: otpauthUri(totpSecret, result.username),
      note: 'Shown only now. Add the TOTP secret to an authenticator app, then sign in to the console with the username, the password and its code.',
    })
  })
}

/**
 * The plugin: registered in its own encapsulated context (its body parser, hooks and error handler
 * stay inside), whether the caller registers it or calls it with an instance.
 */
export async function publicOnboardingRoutes (app: FastifyInstance, options: PublicOnboardingOptions): Promise<void> {
  await app.register(routes, options)
}
