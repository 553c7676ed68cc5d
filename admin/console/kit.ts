/**
 * What a console page handler works with: the request's language, the signed-in operator (viewer),
 * the CSRF token for its forms, the admin API as that operator sees it, and how to answer — a page
 * in the shared frame, or a redirect carrying a flash message (POST-redirect-GET). Page modules in
 * admin/console/pages/ register their routes with `ConsolePages` functions.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AdminContext } from '../context.ts'
import type { Api } from './api.ts'
import { CONSOLE_CSP } from './assets.ts'
import { html, type Html, type HtmlValue } from './html.ts'
import { COMMON, langOf, type Lang, type NavKey } from './i18n.ts'
import { frame, type Flash, type Viewer } from './layout.ts'

export interface ConsoleKit {
  lang: Lang
  viewer: Viewer
  api: Api
  /** The token every form of the page carries (`_csrf`). */
  csrf: string
}

declare module 'fastify' {
  interface FastifyRequest {
    console?: ConsoleKit
  }
}

/** A page module: registers its routes under /console (the scope has checked the session). */
export type ConsolePages = (app: FastifyInstance, ctx: AdminContext) => Promise<void>

export function kitOf (request: FastifyRequest): ConsoleKit {
  if (request.console === undefined) throw new Error('console route outside the signed-in scope')
  return request.console
}

export interface PageInput {
  title: string
  nav?: NavKey
  body: HtmlValue
  status?: number
}

/** Answers with a page in the console's frame (and the flash message a redirect left, once). */
export function sendPage (request: FastifyRequest, reply: FastifyReply, input: PageInput): FastifyReply {
  const kit = request.console
  const lang = kit?.lang ?? langOf(request)
  const flash = request.session?.get('flash')
  if (flash !== undefined) request.session.set('flash', undefined)
  const page = frame({
    lang,
    title: input.title,
    url: request.url,
    ...(kit === undefined ? {} : { viewer: kit.viewer, csrf: kit.csrf }),
    ...(input.nav === undefined ? {} : { nav: input.nav }),
    ...(flash === undefined ? {} : { flash }),
    body: input.body,
  })
  return htmlReply(reply, page, input.status ?? 200)
}

export function htmlReply (reply: FastifyReply, page: Html, status = 200): FastifyReply {
  return reply.code(status).header('content-security-policy', CONSOLE_CSP).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(page.text)
}

/**
 * The 403 page for a step that only prepares a change (a form, a preview, a confirmation) which
 * the viewer's roles may not make; the change itself is always refused by the API.
 */
export function forbiddenPage (request: FastifyRequest, reply: FastifyReply, back = '/console'): FastifyReply {
  const t = COMMON[kitOf(request).lang]
  return sendPage(request, reply, { title: t.forbidden, status: 403, body: html`<h1>${t.forbidden}</h1><p><a href="${back}">${t.back}</a></p>` })
}

/** POST-redirect-GET: 303 to `to`, with a message for the next page. */
export function redirectWith (request: FastifyRequest, reply: FastifyReply, to: string, flash?: Flash): FastifyReply {
  if (flash !== undefined) request.session.set('flash', flash)
  return reply.code(303).header('location', to).send()
}

/** A form's fields: urlencoded or multipart, every value a string (a repeated field: its last value, or all of them with `all`). */
export type FormBody = Record<string, string | string[] | UploadedFile | undefined>

export interface UploadedFile { filename: string; type: string; bytes: Buffer }

export function field (request: FastifyRequest, name: string): string {
  const v = (request.body as FormBody | undefined)?.[name]
  if (typeof v === 'string') return v
  if (Array.isArray(v)) return v.at(-1) ?? ''
  return ''
}

export function fields (request: FastifyRequest, name: string): string[] {
  const v = (request.body as FormBody | undefined)?.[name]
  if (typeof v === 'string') return [v]
  if (Array.isArray(v)) return v
  return []
}

export function upload (request: FastifyRequest, name: string): UploadedFile | undefined {
  const v = (request.body as FormBody | undefined)?.[name]
  return typeof v === 'object' && v !== null && !Array.isArray(v) && v.bytes.length > 0 ? v : undefined
}

/** The hidden fields every changing form carries: the CSRF token, and the ETag the form was made on. */
export function formState (kit: ConsoleKit, etag?: string): Html {
  return html`<input type="hidden" name="_csrf" value="${kit.csrf}">${etag === undefined ? '' : html`<input type="hidden" name="_etag" value="${etag}">`}`
}

/** The reason field every change asks for. */
export function reasonField (lang: Lang, id = 'reason'): Html {
  const t = COMMON[lang]
  return html`<div class="field"><label for="${id}">${t.reason} <span class="hint">${t.reasonHint}</span></label><input id="${id}" name="_reason" required maxlength="500" autocomplete="off"></div>`
}
