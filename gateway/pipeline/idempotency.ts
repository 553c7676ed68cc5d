/**
 * Idempotency-Key in the pipeline (IETF httpapi draft): after validation, a POST or PATCH carrying
 * the header claims its key for the calling client. A known key with the same request replays the
 * answer given then (for store-and-forward: the same 202, the same delivery); with a different
 * request → 422 Client.IdempotencyKeyReused; still running → 409 Client.IdempotencyKeyInFlight.
 * Answers of 5xx are not kept (the key is released), so the client may simply try again.
 */
import { createHash } from 'node:crypto'
import type { StoredAnswer } from '../../delivery/idempotency.ts'
import { XRoadError } from '../../protocol/errors.ts'
import { serviceText } from '../../protocol/identifiers.ts'
import type { Answer } from './answer.ts'
import type { Exchange } from './exchange.ts'
import type { AsyncExchange } from './spool.ts'

export interface KeyClaim { client: string; key: string }

/** The key as sent: a structured-field string (quoted) or a bare token, 1–255 visible characters. */
export function parseIdempotencyKey (value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  let v = value.trim()
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1)
  if (v.length === 0 || v.length > 255 || !/^[\x21-\x7e]+$/.test(v)) {
    throw new XRoadError('Client.BadRequest', 'Idempotency-Key must be 1 to 255 visible ASCII characters, optionally in double quotes')
  }
  return v
}

function fingerprint (ex: Exchange, body: Buffer | undefined): string {
  const h = createHash('sha256')
  h.update(`${ex.method ?? 'POST'}\n${serviceText(ex.serviceId!)}\n${ex.path ?? ''}${ex.query ?? ''}\n`)
  if (body !== undefined) h.update(body)
  return h.digest('base64')
}

export async function claimKey (d: AsyncExchange, ex: Exchange, key: string, body: Buffer | undefined): Promise<KeyClaim | { answer: StoredAnswer }> {
  const client = ex.client!.key
  const found = await d.idempotency.claim(client, key, fingerprint(ex, body), d.idempotencyWindowMs)
  switch (found.kind) {
    case 'new': return { client, key }
    case 'replay': return { answer: found.answer }
    case 'in-flight': throw new XRoadError('Client.IdempotencyKeyInFlight', `A request with Idempotency-Key ${key} is still being processed; try again when it is done`)
    case 'mismatch': throw new XRoadError('Client.IdempotencyKeyReused', `Idempotency-Key ${key} was used for a different request; use a new key for a new request`)
  }
}

export async function keepAnswer (d: AsyncExchange, claim: KeyClaim, answer: Answer): Promise<void> {
  if (answer.status >= 500) return releaseKey(d, claim)
  // The exchange is done and logged: a key that could not be kept only means a later repeat runs again (after the in-flight lease).
  await d.idempotency.finish(claim.client, claim.key, { status: answer.status, headers: answer.headers, body: answer.body }).catch(() => {})
}

export async function releaseKey (d: AsyncExchange, claim: KeyClaim): Promise<void> {
  await d.idempotency.release(claim.client, claim.key).catch(() => {})
}

/** The kept answer, marked as a replay and tied to this exchange's request id. */
export function replayed (answer: StoredAnswer, ex: Exchange): Answer {
  return { status: answer.status, headers: { ...answer.headers, 'x-road-request-id': ex.requestId, 'idempotent-replayed': 'true' }, body: answer.body }
}
