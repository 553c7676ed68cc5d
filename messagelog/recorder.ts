/**
 * Stages 5 and 8 (DESIGN §5): every request is signed with the client member's key and every
 * response with the provider member's key (batched), then appended to the message log; the exchange
 * proceeds only once the record is durable. Any failure throws, and the pipeline turns it into
 * `Server.ClientProxy.LoggingFailed`.
 */
import type { BatchSigner } from '../certs/batch-signer.ts'
import type { Exchange, ExchangeRecorder } from '../gateway/pipeline/exchange.ts'
import { clientKey, serviceText } from '../protocol/identifiers.ts'
import { recordLeaf, sha512, type Direction, type RecordContent } from './record.ts'
import type { LogStore } from './store.ts'
import { memberOf } from './verify.ts'

/**
 * The header part a record's headers digest covers, as `name:value CRLF` lines in the order sent:
 * for a request its method and target first (`METHOD CRLF path?query CRLF`, as the REST request
 * hash does), for a response its status line (`status CRLF`).
 */
export function headerPart (first: string, headers: string[] | undefined): string {
  let part = first
  for (let i = 0; i + 1 < (headers?.length ?? 0); i += 2) part += `${headers![i]}:${headers![i + 1]}\r\n`
  return part
}

/** A header record (as Fastify takes it) as an alternating name/value list. */
export function flattenHeaders (headers: Record<string, string | string[]>): string[] {
  const out: string[] = []
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) out.push(name, v)
  }
  return out
}

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

export class SigningRecorder implements ExchangeRecorder {
  private readonly store: LogStore
  private readonly signer: BatchSigner

  constructor (store: LogStore, signer: BatchSigner) {
    this.store = store
    this.signer = signer
  }

  recordRequest (exchange: Exchange, body: Buffer | undefined): Promise<void> {
    return this.record(exchange, 'request', body ?? Buffer.alloc(0))
  }

  recordResponse (exchange: Exchange, body: Buffer): Promise<void> {
    return this.record(exchange, 'response', body)
  }

  private async record (ex: Exchange, direction: Direction, body: Buffer): Promise<void> {
    const content = recordContent(ex, direction, body)
    const { signature, proof } = await this.signer.sign(content.signer, recordLeaf(content))
    // Law 124/2024: bodies are kept only where the service says so; the digest always is.
    const logged = ex.service?.config.bodyLogging === 'full' ? body : null
    await this.store.append({ ...content, body: logged, signatureId: signature.id, proof }, signature)
  }
}
