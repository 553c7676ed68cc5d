/**
 * The exchange pipeline (DESIGN §5) as one ordered sequence. Every call the node serves walks it:
 * REST r1 and SOAP, services and metaservices alike. An edge parses its wire format and hands over a
 * `ProtocolCall`: the steps that depend on the protocol (metaservice lookup, request validation,
 * request hash, the provider request, reading the answer). The order, the rate limit and the two
 * log records are written here once, so no protocol can skip one.
 *
 *   1 identify → 2 resolve (or a metaservice, or a room operation) → 3 authorise (3a official, if the
 *   service requires one) → 3b rate limit → 4 validate → request hash → (Idempotency-Key: a known key
 *   replays its answer) → 5 record → 6 forward, answer locally, or queue for later delivery (202,
 *   spool.ts) → 7 check response → 8 record → answer
 *
 * The registry is read once, when the walk begins: that snapshot serves every stage and the
 * metaservice's answer, and is held until the walk ends, so a registry version applied meanwhile
 * changes nothing for this exchange and its adapters stay open until it is done.
 */
import type { OutboundRequest, ProviderResponse } from '../../adapters/types.ts'
import type { ClientEntry, Registry, ServiceEntry } from '../../registry/registry.ts'
import type { GatewayPipeline } from './context.ts'
import type { Exchange, Peer } from './exchange.ts'
import { answered, forward } from './forward.ts'
import { claimKey, keepAnswer, releaseKey, replayed, type KeyClaim } from './idempotency.ts'
import { recordRequest, recordResponse } from './record.ts'
import { accept, queueable } from './spool.ts'
import { authorise, identify, requireOfficial, resolveService } from './stages.ts'

import type { Answer } from './answer.ts'

export type { Answer }

/** A metaservice's answer, composed by the node once its request is logged. */
export type LocalAnswer = () => Answer | Promise<Answer>

/** What the client asked of asynchronous exchange, from its HTTP headers (docs/delivery.md). */
export interface CallHints {
  /** `Prefer: respond-async` (RFC 7240). */
  preferAsync: boolean
  /** `Idempotency-Key`, unquoted. */
  idempotencyKey?: string
  /** `X-Ura-Ordering-Key`: deliveries with the same key go one at a time, in order (FIFO services). */
  orderingKey?: string
}

/**
 * One call as its protocol sees it; `ex` already holds the parsed client and service ids. `R` is
 * what sending the answer gives back (the edge's reply).
 */
export interface ProtocolCall<R> {
  readonly ex: Exchange
  readonly peer: Peer
  /** The request body as received: what the log records (SOAP: the whole envelope). */
  readonly body: Buffer | undefined
  /** REST: method and decoded service path, for endpoint grants (stage 3). */
  readonly method?: string
  readonly path?: string
  readonly hints?: CallHints
  /** Stage 2 for reserved codes: checks the metaservice call and returns its answerer, else undefined; `registry` is the exchange's snapshot. */
  metaservice (client: ClientEntry, registry: Registry): LocalAnswer | undefined
  /** Stage 4: throws `Client.InvalidBody` with every violation. */
  validate (service: ServiceEntry): void
  /** Sets the request hash and the header part the log covers; returns the headers to forward. */
  seal (): string[]
  /** Stage 6's request to the provider. */
  outbound (service: ServiceEntry, headers: string[]): OutboundRequest
  /** Stage 7 and the answer: the provider's response checked and turned into the client's. */
  answer (service: ServiceEntry, res: ProviderResponse): Answer
  /** Sends the answer to the client. */
  send (answer: Answer): R
  /** Frees what the call holds (a parsed document), however the walk ends. */
  release? (): void
}

/** An answer the node already gave (an idempotent replay): logged as an exchange of its own, not forwarded. */
async function answerWith<R> (ctx: GatewayPipeline, call: ProtocolCall<R>, answer: Answer): Promise<R> {
  await recordRequest(ctx.recorder, call.ex, call.body)
  call.ex.providerStatus = answer.status
  await recordResponse(ctx.recorder, call.ex, answer.body, answer.headers)
  return call.send(answer)
}

export async function walk<R> (ctx: GatewayPipeline, call: ProtocolCall<R>): Promise<R> {
  const ex = call.ex
  const registry = ctx.registry
  registry.hold()
  try {
    const client = ex.client = identify(registry, ex.clientId!, call.peer)
    const local = call.metaservice(client, registry)
    let service: ServiceEntry | undefined
    if (local === undefined) {
      service = ex.service = resolveService(registry, ex.serviceId!, ex.protocol)
      authorise(registry, client, service, call.method, call.path)
      if (service.config.requireOfficial === true) requireOfficial(registry, client, service, ex.userId)
    }
    ctx.rateLimiter.take(client.key)
    if (service !== undefined) call.validate(service)
    const headers = call.seal()
    const async = ctx.delivery
    const hints = call.hints
    let claim: KeyClaim | undefined
    if (async !== undefined && service !== undefined && hints?.idempotencyKey !== undefined && (call.method ?? 'POST') !== 'GET') {
      const found = await claimKey(async, ex, hints.idempotencyKey, call.body)
      if ('answer' in found) return await answerWith(ctx, call, replayed(found.answer, ex))
      claim = found
    }
    try {
      // Without a message log there is nothing to wait for: no await, no promise and no turn of the microtask queue.
      const requestRecorded = recordRequest(ctx.recorder, ex, call.body)
      if (requestRecorded !== undefined) await requestRecorded
      let answer: Answer
      if (service === undefined) {
        answer = await local!()
      } else {
        const delivery = service.config.delivery
        const preferred = hints?.preferAsync === true
        if (async !== undefined && delivery !== undefined && (delivery.mode === 'async' || (delivery.mode === 'auto' && preferred))) {
          answer = await accept(async, ex, service, delivery, call.outbound(service, headers), call.body, { preferred, ...(hints?.orderingKey === undefined ? {} : { orderingKey: hints.orderingKey }) })
        } else {
          const out = call.outbound(service, headers)
          try {
            answer = call.answer(service, answered(ex, await forward(service, out)))
          } catch (err) {
            // Only a request that changes something falls back to the queue: a read that cannot be answered now fails now.
            if (async === undefined || delivery?.fallback !== true || call.method === 'GET' || call.method === 'HEAD' || !queueable(err)) throw err
            answer = await accept(async, ex, service, delivery, out, call.body, { preferred, ...(hints?.orderingKey === undefined ? {} : { orderingKey: hints.orderingKey }) })
          }
        }
      }
      const responseRecorded = recordResponse(ctx.recorder, ex, answer.body, answer.headers)
      if (responseRecorded !== undefined) await responseRecorded
      if (claim !== undefined) await keepAnswer(async!, claim, answer)
      return call.send(answer)
    } catch (err) {
      if (claim !== undefined) await releaseKey(async!, claim)
      throw err
    }
  } finally {
    registry.release()
    call.release?.()
  }
}
