/**
 * The admin API's errors: one class, one table of stable codes with their HTTP status (listed in
 * docs/errors.md and checked against it by a test), and the mapping of what Fastify and the registry
 * store throw onto them. Every answer that is not a success is `{type, message, detail}`, where
 * `detail` always holds the request id and, where there is one, what exactly was wrong; onboarding's
 * refusals (admin/onboarding/errors.ts) keep their own `Onboarding.*` codes in the same shape.
 */
import { RegistryStoreError } from '../registry/store/index.ts'
import { OnboardingError, type OnboardingErrorCode } from './onboarding/errors.ts'

export const ADMIN_ERROR_STATUS = {
  'Admin.InvalidRequest': 400,
  'Admin.InvalidBody': 400,
  'Admin.Unauthenticated': 401,
  'Admin.Forbidden': 403,
  'Admin.NotFound': 404,
  'Admin.UnknownQueue': 404,
  'Admin.Conflict': 409,
  'Admin.PreconditionFailed': 412,
  'Admin.BodyTooLarge': 413,
  'Admin.UnsupportedMediaType': 415,
  'Admin.InvalidChange': 422,
  'Admin.PreconditionRequired': 428,
  'Admin.RateLimited': 429,
  'Admin.InternalError': 500,
  'Admin.AuditFailed': 500,
  'Admin.StoreFailed': 503,
  'Admin.LogUnavailable': 503,
  // Deferred signing: the exchange is logged, its batch not signed yet (Retry-After: 1).
  'Admin.EvidenceNotSigned': 503,
  'Admin.QueueUnavailable': 503,
} as const

export type AdminErrorType = keyof typeof ADMIN_ERROR_STATUS

/** What an error says beyond its message: problems by path, the current ETag, … (the request id is added when it is sent). */
export type ErrorDetail = Record<string, unknown>

export class AdminError extends Error {
  readonly type: AdminErrorType
  readonly status: number
  readonly detail: ErrorDetail
  /** Seconds after which trying again may succeed (429): sent as `Retry-After`. */
  retryAfterSeconds: number | undefined = undefined

  constructor (type: AdminErrorType, message: string, detail: ErrorDetail = {}, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'AdminError'
    this.type = type
    this.status = ADMIN_ERROR_STATUS[type]
    this.detail = detail
  }
}

export const notFound = (what: string): AdminError => new AdminError('Admin.NotFound', `${what} does not exist`)

/** A refusal the admin listener answers: its own, or onboarding's (which keeps its `Onboarding.*` code). */
export type AnsweredError = AdminError | OnboardingError

/** The JSON body of an error answer. */
export interface ErrorBody { type: AdminErrorType | OnboardingErrorCode; message: string; detail: ErrorDetail & { requestId: string } }

export function errorBody (err: AnsweredError, requestId: string): ErrorBody {
  return { type: err.type, message: err.message, detail: { ...err.detail, requestId } }
}

interface FastifyLikeError { code?: string; statusCode?: number; validation?: Array<{ instancePath: string; message?: string; keyword: string; params: Record<string, unknown> }>; validationContext?: string; message: string }

/** Any error a route, hook or Fastify itself throws, as an AdminError (an OnboardingError stays one). */
export function toAdminError (err: unknown): AnsweredError {
  if (err instanceof AdminError || err instanceof OnboardingError) return err
  if (err instanceof RegistryStoreError) return storeError(err)
  const e = err as FastifyLikeError
  if (Array.isArray(e.validation)) {
    const where = e.validationContext ?? 'body'
    const problems = e.validation.map(v => ({ path: `${where}${v.instancePath.replaceAll('/', '.')}`, message: validationMessage(v) }))
    const text = problems.map(p => `${p.path}: ${p.message}`).join('; ')
    return new AdminError(where === 'body' ? 'Admin.InvalidBody' : 'Admin.InvalidRequest', `the request's ${where} is refused: ${text}`, { problems })
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return new AdminError('Admin.BodyTooLarge', 'the request body is larger than the admin API accepts')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return new AdminError('Admin.UnsupportedMediaType', 'the admin API reads JSON bodies only (Content-Type: application/json)')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return new AdminError('Admin.InvalidBody', 'the body is empty but Content-Type says JSON')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return new AdminError('Admin.InvalidRequest', 'Content-Length does not match the body')
  }
  // The JSON body parser's own errors carry no code (or an FST_ERR_CTP_ one); the router's do.
  if (e.statusCode === 400 && (e.code === undefined || e.code.startsWith('FST_ERR_CTP_'))) return new AdminError('Admin.InvalidBody', `the body is not JSON: ${e.message}`)
  if (e.statusCode === 404) return new AdminError('Admin.NotFound', e.message)
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new AdminError('Admin.InvalidRequest', `the request is refused: ${e.message}`)
  return new AdminError('Admin.InternalError', 'the admin API failed; the request id names the log line', {}, { cause: err })
}

function validationMessage (v: { keyword: string; message?: string; params: Record<string, unknown> }): string {
  if (v.keyword === 'additionalProperties') return `unknown property '${String(v.params.additionalProperty)}'`
  if (v.keyword === 'required') return `missing required property '${String(v.params.missingProperty)}'`
  if (v.keyword === 'enum') return `must be one of ${(v.params.allowedValues as unknown[]).join(', ')}`
  return v.message ?? 'is invalid'
}

/** A registry store refusal (registry/store/errors.ts) in the admin API's words. */
export function storeError (err: RegistryStoreError): AdminError {
  switch (err.code) {
    case 'INVALID_CONTENT':
      return new AdminError('Admin.InvalidChange', `the change would leave the registry invalid (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'})`, {
        problems: err.problems.map(p => ({ path: p.path, message: p.message })),
      })
    case 'STALE_VERSION':
      return new AdminError('Admin.Conflict', 'the registry kept changing while the change was applied; read it again and retry', { currentVersion: err.currentVersion })
    case 'INVALID_COMMIT': return new AdminError('Admin.InvalidRequest', err.message)
    case 'UNKNOWN_VERSION': return new AdminError('Admin.NotFound', err.message)
    default: return new AdminError('Admin.StoreFailed', `the registry store failed: ${err.message}`, {}, { cause: err })
  }
}
