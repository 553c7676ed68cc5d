/**
 * The HTTP headers by which a client steers asynchronous exchange, read once per call for both
 * edges: `Prefer: respond-async` (RFC 7240), `Idempotency-Key` (IETF httpapi draft) and
 * `X-Ura-Ordering-Key`. Undefined when none is present, which is nearly every call.
 */
import type { IncomingHttpHeaders } from 'node:http'
import { XRoadError } from '../../protocol/errors.ts'
import { parseIdempotencyKey } from '../pipeline/idempotency.ts'
import type { CallHints } from '../pipeline/walk.ts'

export function callHints (headers: IncomingHttpHeaders): CallHints | undefined {
  const preferValue = headers.prefer
  const prefer = Array.isArray(preferValue) ? preferValue.join(', ') : preferValue
  const key = headers['idempotency-key']
  const order = headers['x-ura-ordering-key']
  if (prefer === undefined && key === undefined && order === undefined) return undefined
  if (Array.isArray(key)) throw new XRoadError('Client.BadRequest', 'Header idempotency-key is repeated; send it once')
  if (Array.isArray(order)) throw new XRoadError('Client.BadRequest', 'Header x-ura-ordering-key is repeated; send it once')
  const hints: CallHints = { preferAsync: prefer !== undefined && /(^|[\s,;])respond-async(\s*($|[,;]))/i.test(prefer) }
  const parsed = parseIdempotencyKey(key)
  if (parsed !== undefined) hints.idempotencyKey = parsed
  if (order !== undefined) {
    const v = order.trim()
    if (v.length === 0 || v.length > 200) throw new XRoadError('Client.BadRequest', 'X-Ura-Ordering-Key must be 1 to 200 characters')
    hints.orderingKey = v
  }
  return hints
}
