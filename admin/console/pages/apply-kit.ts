/**
 * What the public application pages (`/apliko…`) share: their frame (the console's, under a brand
 * line of their own, no menu, no one signed in), the public onboarding API called in-process
 * (Fastify's inject, with the visitor's address, so the API's own validation, rate limit and audit
 * trail apply exactly as to curl), and the per-address limit on the pages' own form posts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AddressBuckets, DEFAULT_PUBLIC_RATE, type RateSettings } from '../../rate-limit.ts'
import type { ApiProblem } from '../api.ts'
import { html, type HtmlValue } from '../html.ts'
import { langOf, words, type Lang } from '../i18n.ts'
import { htmlReply } from '../kit.ts'
import { frame } from '../layout.ts'

export const PUBLIC_BASE = '/public/v1/applications'

export const BRAND = words({
  sq: { brand: 'ura · Aplikimi për anëtarësim', apply: 'Aplikoni', status: 'Ndiqni aplikimin' },
  en: { brand: 'ura · Application to join', apply: 'Apply', status: 'Follow an application' },
})

/** A page of the application pages: the console's frame, its own brand line and a small menu. */
export function publicPage (request: FastifyRequest, reply: FastifyReply, input: { title: string; body: HtmlValue; status?: number; lang?: Lang }): FastifyReply {
  const lang = input.lang ?? langOf(request, reply)
  const t = BRAND[lang]
  const body = html`<nav class="apply-nav" aria-label="${t.brand}"><a href="/apliko">${t.apply}</a> · <a href="/apliko/statusi">${t.status}</a></nav>${input.body}`
  return htmlReply(reply, frame({ lang, title: input.title, url: request.url, brand: { text: t.brand, href: '/apliko' }, body }), input.status ?? 200)
}

export interface PublicAnswer<T = Record<string, unknown>> {
  status: number
  ok: boolean
  json?: T
  problem?: ApiProblem
  headers: Record<string, string | string[] | number | undefined>
  raw: Buffer
}

/** multipart/form-data bytes of a FormData, as a browser would send them. */
export async function encodeForm (form: FormData): Promise<{ body: Buffer; contentType: string }> {
  const r = new Request('http://node.invalid/', { method: 'POST', body: form })
  return { body: Buffer.from(await r.arrayBuffer()), contentType: r.headers.get('content-type')! }
}

/** Calls the public onboarding API in-process on behalf of the page's visitor; the status token travels in `Authorization`, as on the wire. */
export async function callPublic<T = Record<string, unknown>> (app: FastifyInstance, request: FastifyRequest, reply: FastifyReply, input: { method: 'GET' | 'POST'; path: string; token?: string; form?: FormData; accept?: string }): Promise<PublicAnswer<T>> {
  const headers: Record<string, string> = { 'x-console-request': request.id }
  if (input.token !== undefined) headers.authorization = `Bearer ${input.token}`
  if (input.accept !== undefined) headers.accept = input.accept
  let payload: Buffer | undefined
  if (input.form !== undefined) {
    const encoded = await encodeForm(input.form)
    payload = encoded.body
    headers['content-type'] = encoded.contentType
  }
  const res = await app.inject({ method: input.method, url: `${PUBLIC_BASE}${input.path}`, headers, remoteAddress: request.ip, ...(payload === undefined ? {} : { payload }) })
  const ok = res.statusCode >= 200 && res.statusCode < 300
  // The API's own rate limit answers the visitor through the page, with its Retry-After.
  if (res.statusCode === 429 && typeof res.headers['retry-after'] === 'string') reply.header('retry-after', res.headers['retry-after'])
  const answer: PublicAnswer<T> = { status: res.statusCode, ok, headers: res.headers, raw: res.rawPayload }
  if (String(res.headers['content-type'] ?? '').startsWith('application/json')) {
    const parsed = JSON.parse(res.payload) as unknown
    if (ok) answer.json = parsed as T
    else answer.problem = parsed as ApiProblem
  } else if (!ok) {
    answer.problem = { type: 'Onboarding.InternalError', message: `the public API answered ${res.statusCode}` }
  }
  return answer
}

/** Each form post of the pages takes a token of its address's bucket (429 Admin.RateLimited beyond, with Retry-After), as the public API's own routes do. */
export function postLimit (rate: RateSettings = DEFAULT_PUBLIC_RATE): (request: FastifyRequest) => Promise<void> {
  const buckets = new AddressBuckets(rate)
  return async request => { if (request.method === 'POST') buckets.take(request.ip) }
}

/** What every application page needs to be registered with. */
export interface ApplyPagesOptions {
  /** The per-address limit on the pages' form posts (default: the public API's). */
  rate?: RateSettings
}
