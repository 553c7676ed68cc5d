/**
 * How the console acts: every read and every change is a request to the admin API, made in-process
 * (Fastify's inject) on behalf of the signed-in operator (`x-ura-session`, admin/auth.ts). The API
 * authenticates it, checks the roles, validates the body, commits and writes the audit trail exactly
 * as for a script or curl — the console has no other way into the registry.
 */
import type { FastifyInstance } from 'fastify'
import { SESSION_HEADER } from '../auth.ts'
import { ADMIN_PREFIX } from '../route-kit.ts'

export interface ApiProblem { type: string; message: string; detail?: { problems?: Array<{ path: string; message: string }> } & Record<string, unknown> }

export interface ApiAnswer<T = unknown> {
  status: number
  ok: boolean
  /** The parsed JSON body (an ApiProblem when `ok` is false); the raw bytes for other types. */
  body: T
  problem?: ApiProblem
  etag?: string
  headers: Record<string, string | string[] | number | undefined>
  raw: Buffer
}

export interface WriteOptions {
  /** The ETag the change was made on (the form carries it from the page it was made on). */
  ifMatch?: string
  /** Why: kept with the registry version and in the audit trail. */
  reason?: string
}

/** An error the API answered with, shown as the page's error (same status, same code). */
export class ApiError extends Error {
  readonly status: number
  readonly problem: ApiProblem
  constructor (status: number, problem: ApiProblem) {
    super(problem.message)
    this.status = status
    this.problem = problem
  }
}

export interface Api {
  get<T = unknown> (path: string, query?: Record<string, string | undefined>): Promise<ApiAnswer<T>>
  send<T = unknown> (method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, opts?: WriteOptions): Promise<ApiAnswer<T>>
  /** As get, but throws ApiError for an answer that is not 2xx. */
  read<T = unknown> (path: string, query?: Record<string, string | undefined>): Promise<T>
}

/** The API as the operator of `sessionHeader` sees it. */
export function apiFor (app: FastifyInstance, sessionHeader: string, requestId: string): Api {
  const call = async <T>(method: string, path: string, body?: unknown, opts: WriteOptions = {}, query?: Record<string, string | undefined>): Promise<ApiAnswer<T>> => {
    const headers: Record<string, string> = { [SESSION_HEADER]: sessionHeader, 'x-console-request': requestId }
    if (opts.ifMatch !== undefined && opts.ifMatch !== '') headers['if-match'] = opts.ifMatch
    // As a client on the wire sends it: the UTF-8 bytes of the reason (the API decodes them again).
    if (opts.reason !== undefined && opts.reason.trim() !== '') headers['x-ura-reason'] = Buffer.from(opts.reason.replace(/[\r\n]+/g, ' '), 'utf8').toString('latin1')
    if (body !== undefined) headers['content-type'] = 'application/json'
    const q = new URLSearchParams()
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') q.set(k, v)
    const url = `${ADMIN_PREFIX}${path}${q.size > 0 ? `?${q.toString()}` : ''}`
    const res = await app.inject({ method: method as 'GET', url, headers, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) })
    const ok = res.statusCode >= 200 && res.statusCode < 300
    const type = String(res.headers['content-type'] ?? '')
    let parsed: unknown = res.rawPayload
    if (type.startsWith('application/json') && res.payload !== '') parsed = JSON.parse(res.payload)
    const answer: ApiAnswer<T> = { status: res.statusCode, ok, body: parsed as T, headers: res.headers, raw: res.rawPayload }
    if (typeof res.headers.etag === 'string') answer.etag = res.headers.etag
    if (!ok) answer.problem = (typeof parsed === 'object' && parsed !== null && 'type' in parsed) ? parsed as ApiProblem : { type: 'Admin.InternalError', message: `the admin API answered ${res.statusCode}` }
    return answer
  }
  return {
    get: (path, query) => call('GET', path, undefined, {}, query),
    send: (method, path, body, opts) => call(method, path, body, opts),
    async read<T> (path: string, query?: Record<string, string | undefined>): Promise<T> {
      const a = await call<T>('GET', path, undefined, {}, query)
      if (!a.ok) throw new ApiError(a.status, a.problem!)
      return a.body
    },
  }
}
