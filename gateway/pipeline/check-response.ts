/**
 * Stage 7 (DESIGN §5): the provider's answer against the service's response schema, one decision
 * for every protocol. `enforce` refuses a mismatch with `Server.ServerProxy.InvalidResponse` (it
 * protects the portal from malformed municipal data); `warn` passes it on and logs the violations;
 * `off` does not look. The protocol finds the violations; it is asked only when they matter.
 */
import { schemaMismatch } from '../../protocol/errors.ts'
import { serviceText } from '../../protocol/identifiers.ts'
import type { ServiceEntry } from '../../registry/registry.ts'
import type { Exchange } from './exchange.ts'

/** Where a `warn` mismatch is reported (the request's logger). */
export interface WarnLog {
  warn (fields: Record<string, unknown>, message: string): void
}

export function checkResponse (service: ServiceEntry, ex: Exchange, log: WarnLog, violations: () => string[]): void {
  const mode = service.config.responseValidation
  if (mode === 'off') return
  const found = violations()
  if (found.length === 0) return
  if (mode === 'enforce') throw schemaMismatch('Server.ServerProxy.InvalidResponse', found)
  log.warn({ requestId: ex.requestId, service: serviceText(service.id), violations: found }, 'provider response does not match its schema')
}
