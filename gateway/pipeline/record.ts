/**
 * Stages 5 and 8 (DESIGN §5): nothing leaves or returns through the node unless it is recorded.
 * An exchange becomes a record's content here (ids, parties, digests of its header part and body);
 * the message log signs and stores it. A recorder that fails fails the exchange with
 * `Server.ClientProxy.LoggingFailed`, and the request never leaves the node.
 */
import type { SigningRecorder } from '../../messagelog/recorder.ts'
import { sha512, type Direction, type RecordContent } from '../../messagelog/record.ts'
import { XRoadError } from '../../protocol/errors.ts'
import { clientKey, memberOf, serviceText } from '../../protocol/identifiers.ts'
import { headerPart } from '../../protocol/request-hash.ts'
import { unloggedRecorder, type Exchange, type ExchangeRecorder } from './exchange.ts'

export function recordContent (ex: Exchange, direction: Direction, body: Buffer): RecordContent {
  if (ex.clientId === undefined || ex.serviceId === undefined) throw new Error('the exchange has no client or service yet')
  const client = clientKey(ex.clientId)
  const service = serviceText(ex.serviceId)
  const rest = ex.protocol === 'rest'
  const path = rest ? `${ex.path ?? ''}${ex.query ?? ''}` : null
  const status = direction === 'response' ? ex.providerStatus ?? null : null
  const first = direction === 'request' ? `${ex.method ?? 'POST'}\r\n${path ?? '/'}\r\n` : `${status ?? ''}\r\n`
  return {
    time: new Date().toISOString(),
    direction,
    protocol: ex.protocol,
    messageId: ex.messageId ?? ex.requestId,
    requestId: ex.requestId,
    client,
    service,
    userId: ex.userId ?? null,
    issue: ex.issue ?? null,
    representedParty: ex.representedParty ?? null,
    method: rest ? ex.method ?? null : null,
    path,
    status,
    fault: direction === 'response' && ex.protocol === 'soap' ? ex.errorCode ?? null : null,
    requestHash: ex.requestHash ?? null,
    headersDigest: sha512(headerPart(first, direction === 'request' ? ex.requestHeaders : ex.responseHeaders)),
    bodyDigest: direction === 'request' && ex.requestBodyDigest !== undefined && body.length > 0 ? ex.requestBodyDigest : sha512(body),
    signer: direction === 'request' ? memberOf(client) : memberOf(service),
  }
}

/**
 * The message log as the pipeline's recorder. `deliveryBatchMs`: how long the records of the node's
 * own delivery attempts (`ex.delivery`) may wait to share a signature (node.log.deliveryBatchMs).
 */
export function messageLogRecorder (log: SigningRecorder, deliveryBatchMs = 0): ExchangeRecorder {
  const waitOf = (ex: Exchange): number => ex.delivery === true ? deliveryBatchMs : 0
  return {
    recordRequest: (ex, body) => log.record(recordContent(ex, 'request', body ?? EMPTY), body ?? EMPTY, keepsBodies(ex), waitOf(ex)),
    recordResponse: (ex, body) => log.record(recordContent(ex, 'response', body), body, keepsBodies(ex), waitOf(ex)),
  }
}

const EMPTY = Buffer.alloc(0)
const keepsBodies = (ex: Exchange): boolean => ex.service?.config.bodyLogging === 'full'

/** A node without a message log has nothing to wait for (undefined), which spares every exchange two promises. */
export function recordRequest (recorder: ExchangeRecorder, exchange: Exchange, body: Buffer | undefined): Promise<void> | undefined {
  if (recorder === unloggedRecorder) return undefined
  try {
    return recorder.recordRequest(exchange, body).then(settled, requestFailed)
  } catch (err) {
    return Promise.reject(loggingFailed(err, 'request'))
  }
}

/**
 * The answer's record. `headers` (the answer's, as Fastify takes them) become the exchange's
 * `responseHeaders` here, for the record's header digest; a node without a log does not list them.
 */
export function recordResponse (recorder: ExchangeRecorder, exchange: Exchange, body: Buffer, headers?: Record<string, string | string[]>): Promise<void> | undefined {
  if (recorder === unloggedRecorder) return undefined
  if (headers !== undefined) exchange.responseHeaders = flattenHeaders(headers)
  try {
    return recorder.recordResponse(exchange, body).then(settled, responseFailed)
  } catch (err) {
    return Promise.reject(loggingFailed(err, 'response'))
  }
}

// One handler each, made once: an exchange's record costs one promise beyond the recorder's own.
const settled = (): void => {}
const requestFailed = (err: unknown): never => { throw loggingFailed(err, 'request') }
const responseFailed = (err: unknown): never => { throw loggingFailed(err, 'response') }

function loggingFailed (err: unknown, what: 'request' | 'response'): XRoadError {
  return new XRoadError('Server.ClientProxy.LoggingFailed', `The ${what} could not be logged: ${(err as Error).message}`, undefined, { cause: err })
}

/** A header record (as Fastify takes it) as an alternating name/value list. */
export function flattenHeaders (headers: Record<string, string | string[]>): string[] {
  const out: string[] = []
  // for…in over the record's own names: no [name, value] pair or one-element array per header.
  for (const name in headers) {
    const value = headers[name]
    if (typeof value === 'string') out.push(name, value)
    else for (const v of value) out.push(name, v)
  }
  return out
}
