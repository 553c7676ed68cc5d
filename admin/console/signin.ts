/**
 * Signing in to the console: a registry account (username, password checked against its scrypt
 * hash, then a TOTP code), or the operator certificate the browser presented on this TLS connection
 * (checked as the admin API checks it). Five failures within 15 minutes lock the username for 15
 * minutes; one address may try 60 sign-in steps at once, then one a second. A successful sign-in gets a fresh session id (no fixation); every sign-in, refusal and
 * sign-out is written to the audit trail (`session.open`, `session.close`).
 */
import '@fastify/csrf-protection'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { OperatorConfig } from '../../config/registry-sections.ts'
import type { Authenticator } from '../auth.ts'
import type { AdminContext } from '../context.ts'
import { AdminError } from '../errors.ts'
import { DECOY_HASH, verifyPassword } from '../password.ts'
import { AddressBuckets, type RateSettings } from '../rate-limit.ts'
import { matchTotp } from '../totp.ts'
import { html, type HtmlValue } from './html.ts'
import { COMMON, langOf, when, words, type Lang } from './i18n.ts'
import { htmlReply, redirectWith, field } from './kit.ts'
import { frame } from './layout.ts'
import { type Lockout, type UsedSteps } from './session.ts'

const W = words({
  sq: {
    title: 'Hyrja në konsolë',
    intro: 'Hyni me llogarinë tuaj të operatorit dhe kodin nga aplikacioni i autentifikimit, ose me certifikatën tuaj të operatorit.',
    username: 'Emri i përdoruesit', password: 'Fjalëkalimi', next: 'Vazhdo',
    codeTitle: 'Kodi i verifikimit', code: 'Kodi 6-shifror nga aplikacioni i autentifikimit', signIn: 'Hyr',
    withCertificate: 'Hyr me certifikatën e operatorit',
    certificateHint: 'Shfletuesi duhet t\'ia ketë paraqitur nyjes certifikatën tuaj të operatorit.',
    wrong: 'Emri i përdoruesit ose fjalëkalimi nuk është i saktë.',
    wrongCode: 'Kodi nuk është i saktë ose është përdorur tashmë.',
    locked: (until: string) => `Shumë përpjekje të dështuara: llogaria është e bllokuar deri më ${until}.`,
    certificateRefused: 'Certifikata nuk u pranua',
    expired: 'Sesioni mbaroi. Hyni përsëri.',
    signedOut: 'Dolët nga konsola.',
    applyLink: 'Institucion i ri? Aplikoni për t\'u bashkuar',
  },
  en: {
    title: 'Sign in to the console',
    intro: 'Sign in with your operator account and the code from your authenticator app, or with your operator certificate.',
    username: 'Username', password: 'Password', next: 'Continue',
    codeTitle: 'Verification code', code: '6-digit code from your authenticator app', signIn: 'Sign in',
    withCertificate: 'Sign in with your operator certificate',
    certificateHint: 'Your browser must have presented your operator certificate to the node.',
    wrong: 'The username or the password is wrong.',
    wrongCode: 'The code is wrong or was already used.',
    locked: (until: string) => `Too many failed attempts: the account is locked until ${until}.`,
    certificateRefused: 'The certificate was not accepted',
    expired: 'The session ended. Sign in again.',
    signedOut: 'You are signed out.',
    applyLink: 'A new institution? Apply to join',
  },
})

export interface SignInDeps {
  ctx: AdminContext
  authenticator: Authenticator
  lockout: Lockout
  usedSteps: UsedSteps
  /** Sign-in attempts per client address (all usernames together); default SIGNIN_RATE. */
  rate?: RateSettings
}

/**
 * Sign-in posts per address: 60 at once, then one a second. The lockout guards each username; this
 * slows one address trying many usernames (and the scrypt work each attempt costs the node).
 */
export const SIGNIN_RATE: RateSettings = { perSecond: 1, burst: 60 }

/** Only paths of the console itself are followed after sign-in (no open redirect). */
export function safeNext (next: string | undefined): string {
  return next !== undefined && /^\/console(\/[A-Za-z0-9/_.%-]*)?(\?[^\\]*)?$/.test(next) && !next.startsWith('//') ? next : '/console'
}

function page (request: FastifyRequest, reply: FastifyReply, lang: Lang, body: HtmlValue, status: number, problem?: string): FastifyReply {
  const flash = request.session.get('flash')
  if (flash !== undefined) request.session.set('flash', undefined)
  const shown = problem === undefined ? flash : { kind: 'bad' as const, text: problem }
  return htmlReply(reply, frame({ lang, title: W[lang].title, url: request.url, ...(shown === undefined ? {} : { flash: shown }), body }), status)
}

function passwordForm (lang: Lang, csrf: string, next: string, username = ''): HtmlValue {
  const t = W[lang]
  return html`<div class="signin">
<h1>${t.title}</h1>
<p class="lead">${t.intro}</p>
<form method="post" action="/console/signin" class="panel">
<input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="next" value="${next}">
<div class="field"><label for="username">${t.username}</label><input id="username" name="username" autocomplete="username" required maxlength="64" value="${username}"></div>
<div class="field"><label for="password">${t.password}</label><input id="password" name="password" type="password" autocomplete="current-password" required maxlength="200"></div>
<button type="submit">${t.next}</button>
</form>
<form method="post" action="/console/signin/certificate" class="panel">
<input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="next" value="${next}">
<p class="muted">${t.certificateHint}</p>
<button type="submit" class="secondary">${t.withCertificate}</button>
</form>
<p><a href="/apliko">${t.applyLink}</a></p>
</div>`
}

function codeForm (lang: Lang, csrf: string, next: string): HtmlValue {
  const t = W[lang]
  return html`<div class="signin">
<h1>${t.codeTitle}</h1>
<form method="post" action="/console/signin/code" class="panel">
<input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="next" value="${next}">
<div class="field"><label for="code">${t.code}</label><input id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code" required maxlength="6"></div>
<button type="submit">${t.signIn}</button>
</form>
</div>`
}

export async function signInRoutes (app: FastifyInstance, deps: SignInDeps): Promise<void> {
  const { ctx, authenticator, lockout, usedSteps } = deps
  const limited = { onRequest: new AddressBuckets(deps.rate ?? SIGNIN_RATE).hook() }

  const audit = async (request: FastifyRequest, operator: string, action: 'session.open' | 'session.close', target: string, refused?: string): Promise<void> => {
    await ctx.audit.record({
      operator, role: 'none', action, target: target.slice(0, 300),
      result: refused === undefined ? 'allowed' : 'refused', errorCode: refused ?? null,
      requestId: request.id, time: ctx.now(),
    })
  }

  const open = async (request: FastifyRequest, reply: FastifyReply, operatorId: string, method: 'password' | 'certificate', extra: { fingerprint?: string; revocationKey?: string } = {}): Promise<FastifyReply> => {
    const next = safeNext(field(request, 'next'))
    // A new id for the signed-in session: whatever id the browser had before is worthless now.
    await request.session.regenerate()
    const t = ctx.now().getTime()
    request.session.set('operatorId', operatorId)
    request.session.set('method', method)
    if (extra.fingerprint !== undefined) request.session.set('fingerprint', extra.fingerprint)
    if (extra.revocationKey !== undefined) request.session.set('revocationKey', extra.revocationKey)
    request.session.set('startedAt', t)
    request.session.set('lastSeen', t)
    await audit(request, operatorId, 'session.open', `${method} sign-in`)
    return reply.code(303).header('location', next).send()
  }

  const lockedText = (lang: Lang, until: number): string => W[lang].locked(when(new Date(until).toISOString(), lang))

  app.get('/console/signin', async (request, reply) => {
    const lang = langOf(request, reply)
    const next = safeNext((request.query as { next?: string }).next)
    if (request.session.get('operatorId') !== undefined) return reply.code(303).header('location', next).send()
    return page(request, reply, lang, passwordForm(lang, reply.generateCsrf(), next), 200)
  })

  app.post('/console/signin', limited, async (request, reply) => {
    const lang = langOf(request)
    const username = field(request, 'username').trim().toLowerCase().slice(0, 64)
    const password = field(request, 'password')
    const next = safeNext(field(request, 'next'))
    const again = (status: number, problem: string): FastifyReply => page(request, reply, lang, passwordForm(lang, reply.generateCsrf(), next, username), status, problem)
    const locked = lockout.lockedUntil(username)
    if (locked !== undefined) {
      await audit(request, 'anonymous', 'session.open', `username ${username}`, 'Admin.Locked')
      return again(429, lockedText(lang, locked))
    }
    const content = (await ctx.store.current()).content
    const operator: OperatorConfig | undefined = content.operators.find(o => o.login?.username === username)
    // An unknown username costs the same scrypt as a known one.
    const good = await verifyPassword(password, operator?.login?.passwordHash ?? DECOY_HASH)
    if (!good || operator === undefined || operator.disabled === true) {
      const until = lockout.fail(username)
      await audit(request, 'anonymous', 'session.open', `username ${username}`, 'Admin.Unauthenticated')
      return until === undefined ? again(401, W[lang].wrong) : again(429, lockedText(lang, until))
    }
    request.session.set('pendingOperatorId', operator.id)
    request.session.set('pendingUsername', username)
    request.session.set('lastSeen', ctx.now().getTime())
    return reply.code(303).header('location', `/console/signin/code?next=${encodeURIComponent(next)}`).send()
  })

  app.get('/console/signin/code', async (request, reply) => {
    const lang = langOf(request, reply)
    const next = safeNext((request.query as { next?: string }).next)
    if (request.session.get('pendingOperatorId') === undefined) return reply.code(303).header('location', '/console/signin').send()
    return page(request, reply, lang, codeForm(lang, reply.generateCsrf(), next), 200)
  })

  app.post('/console/signin/code', limited, async (request, reply) => {
    const lang = langOf(request)
    const next = safeNext(field(request, 'next'))
    const pending = request.session.get('pendingOperatorId')
    const username = request.session.get('pendingUsername') ?? ''
    if (pending === undefined) return redirectWith(request, reply, '/console/signin', { kind: 'bad', text: W[lang].expired })
    const backToStart = async (text: string, status: number): Promise<FastifyReply> => {
      request.session.set('pendingOperatorId', undefined)
      request.session.set('pendingUsername', undefined)
      return page(request, reply, lang, passwordForm(lang, reply.generateCsrf(), next, username), status, text)
    }
    const locked = lockout.lockedUntil(username)
    if (locked !== undefined) return backToStart(lockedText(lang, locked), 429)
    const operator = (await ctx.store.current()).content.operators.find(o => o.id === pending)
    const step = operator?.login === undefined ? undefined : matchTotp(operator.login.totpSecret, field(request, 'code').trim(), ctx.now())
    if (operator === undefined || operator.disabled === true || step === undefined || !usedSteps.take(operator.id, step)) {
      const until = lockout.fail(username)
      await audit(request, pending, 'session.open', `username ${username}: TOTP code`, 'Admin.Unauthenticated')
      if (until !== undefined) return backToStart(lockedText(lang, until), 429)
      return page(request, reply, lang, codeForm(lang, reply.generateCsrf(), next), 401, W[lang].wrongCode)
    }
    lockout.succeed(username)
    return open(request, reply, operator.id, 'password')
  })

  app.post('/console/signin/certificate', limited, async (request, reply) => {
    const lang = langOf(request)
    try {
      const found = authenticator.certificateOperator(request, await ctx.store.current())
      return await open(request, reply, found.operator.id, 'certificate', { fingerprint: found.fingerprint, revocationKey: found.revocationKey })
    } catch (err) {
      if (!(err instanceof AdminError)) throw err
      await audit(request, 'anonymous', 'session.open', 'certificate sign-in', err.type)
      const next = safeNext(field(request, 'next'))
      return page(request, reply, lang, passwordForm(lang, reply.generateCsrf(), next), 401, `${W[lang].certificateRefused}: ${err.message}`)
    }
  })

  app.post('/console/signout', async (request, reply) => {
    const lang = langOf(request)
    const operator = request.session.get('operatorId')
    if (operator !== undefined) await audit(request, operator, 'session.close', 'sign-out')
    await request.session.destroy()
    return reply.code(303).header('location', `/console/signin?lang=${lang}`).send()
  })
}

export const SIGNIN_WORDS = W
export { COMMON }
