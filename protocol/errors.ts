/**
 * Gateway-made errors. Every failure the pipeline can produce is one of these codes; the code is
 * the stable contract (X-Road CamelCase families), the HTTP status is what the REST edge answers.
 */
export const ERROR_STATUS = {
  'Client.BadRequest': 400,
  'Client.MissingHeader': 400,
  'Client.MissingHeaderField': 400,
  'Client.DuplicateHeaderField': 400,
  'Client.InvalidClientIdentifier': 400,
  'Client.InvalidProtocolVersion': 400,
  'Client.InvalidContentType': 415,
  'Client.InvalidHttpMethod': 405,
  'Client.MissingSoap': 400,
  'Client.InvalidSoap': 400,
  'Client.MissingBody': 400,
  'Client.InvalidBody': 400,
  'Client.RequestTooLarge': 413,
  'Client.MessageNotFound': 404,
  'Client.RequestHeaderTooLarge': 431,
  'Client.RequestTimeout': 408,
  'Client.RateLimitExceeded': 429,
  // Idempotency-Key (IETF httpapi draft): the key was used for a different request, or its first request is still running.
  'Client.IdempotencyKeyReused': 422,
  'Client.IdempotencyKeyInFlight': 409,
  // Store-and-forward: no accepted request with this id for this client.
  'Client.DeliveryNotFound': 404,
  // The caller is identified and granted, but the user it claims to act for is not one of its active officials.
  'Client.InvalidUserId': 403,
  'Server.ClientProxy.SslAuthenticationFailed': 401,
  'Server.ClientProxy.InconsistentResponse': 502,
  'Server.ClientProxy.LoggingFailed': 500,
  // The request could not be made durable in the delivery queue: nothing was accepted.
  'Server.ClientProxy.QueueFailed': 500,
  'Server.ClientProxy.InternalError': 500,
  'Server.ServerProxy.UnknownService': 404,
  'Server.ServerProxy.UnknownMember': 404,
  'Server.ServerProxy.ServiceType': 400,
  'Server.ServerProxy.ServiceDisabled': 503,
  // GET /evidence under deferred signing: the exchange is logged, its batch signature not made yet.
  'Server.ServerProxy.EvidenceNotSigned': 503,
  'Server.ServerProxy.AccessDenied': 403,
  'Server.ServerProxy.ServiceFailed.Timeout': 500,
  'Server.ServerProxy.ServiceFailed.NetworkError': 500,
  'Server.ServerProxy.ServiceFailed.IOError': 500,
  'Server.ServerProxy.ServiceFailed.InvalidSoap': 500,
  'Server.ServerProxy.InvalidResponse': 502,
  // Resilience (adapters/resilience.ts): the node refuses fast rather than pile up on a failing provider.
  'Server.ServerProxy.ServiceFailed.CircuitOpen': 503,
  'Server.ServerProxy.ServiceFailed.Overloaded': 503,
} as const

export type ErrorCode = keyof typeof ERROR_STATUS

export class XRoadError extends Error {
  readonly code: ErrorCode
  readonly status: number
  /** Individual problems (e.g. every schema violation), shown to the caller. */
  readonly violations: string[] | undefined
  /** Seconds after which a retry may succeed (rate limits, open breakers): sent as `Retry-After`. */
  retryAfterSeconds: number | undefined = undefined

  constructor (code: ErrorCode, message: string, violations?: string[], options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'XRoadError'
    this.code = code
    this.status = ERROR_STATUS[code]
    this.violations = violations
  }
}

/** A message that does not match its service's schema, every violation listed. */
export function schemaMismatch (code: 'Client.InvalidBody' | 'Server.ServerProxy.InvalidResponse', violations: string[]): XRoadError {
  const what = code === 'Client.InvalidBody' ? 'The request' : 'The provider response'
  return new XRoadError(code, `${what} does not match the service schema: ${violations.join('; ')}`, violations)
}

export function isXRoadError (err: unknown): err is XRoadError {
  return err instanceof XRoadError
}

/**
 * X-Road 7.8 switched fault codes to lower snake_case (`server.serverproxy.access_denied`).
 * A gateway reading upstream faults meets both forms, so everything is normalised to CamelCase.
 */
export function normaliseFaultCode (code: string): string {
  return code.trim().split('.').map(camelPart).join('.')
}

const FAMILY_CASE: Record<string, string> = {
  client: 'Client',
  server: 'Server',
  clientproxy: 'ClientProxy',
  serverproxy: 'ServerProxy',
}

function camelPart (part: string): string {
  const known = FAMILY_CASE[part.toLowerCase()]
  if (known !== undefined) return known
  if (!part.includes('_') && part !== part.toLowerCase()) return part
  return part.split('_').filter(Boolean).map(w => w[0].toUpperCase() + w.slice(1)).join('')
}
