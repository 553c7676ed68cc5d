/**
 * Exchanges written into a real message log as the gateway's recorder writes them (signed with the
 * members' e-seal keys of the test PKI, appended durably), at times a test chooses: a request
 * record, and a response record unless the exchange is to have none.
 */
import { randomUUID } from 'node:crypto'
import { sha512, type RecordContent } from '../../messagelog/record.ts'
import type { SigningRecorder } from '../../messagelog/recorder.ts'
import { memberOf } from '../../protocol/identifiers.ts'

export interface LoggedExchange {
  client: string
  service: string
  /** When the request was logged. */
  at: Date
  /** The provider's time: the response is logged this many ms after the request (default 40). */
  ms?: number
  messageId?: string
  /** The provider's status (default 200); `null`: no response was logged. */
  status?: number | null
  /** A SOAP fault code in the response (the exchange is SOAP then). */
  fault?: string
  userId?: string
  /** The request body; kept in the log when `keepBody` (the service logs bodies), else only its digest. */
  body?: string
  keepBody?: boolean
}

/** One exchange's records, as the gateway's recorder makes them: the request's, and the response's unless `status` is null. */
export function exchangeRecords (x: LoggedExchange): { messageId: string; request: RecordContent; body: Buffer; response?: RecordContent } {
  const messageId = x.messageId ?? randomUUID()
  const requestId = randomUUID()
  const soap = x.fault !== undefined
  const body = Buffer.from(x.body ?? '{"pyetje":1}')
  const base = {
    protocol: soap ? 'soap' : 'rest',
    messageId,
    requestId,
    client: x.client,
    service: x.service,
    userId: x.userId ?? null,
    issue: null,
    representedParty: null,
    method: soap ? null : 'GET',
    path: soap ? null : '/subjekte/K81305012I/detyrime?viti=2026',
    requestHash: sha512(`request ${requestId}`),
  } as const
  const request: RecordContent = { ...base, time: x.at.toISOString(), direction: 'request', status: null, fault: null, headersDigest: sha512(`headers ${requestId}`), bodyDigest: sha512(body), signer: memberOf(x.client) }
  if (x.status === null) return { messageId, request, body }
  const response: RecordContent = {
    ...base,
    time: new Date(x.at.getTime() + (x.ms ?? 40)).toISOString(),
    direction: 'response',
    status: x.status ?? 200,
    fault: x.fault ?? null,
    headersDigest: sha512(`response headers ${requestId}`),
    bodyDigest: sha512(ANSWER),
    signer: memberOf(x.service),
  }
  return { messageId, request, body, response }
}

/** The provider's answer that exchangeRecords' responses digest. */
export const ANSWER = Buffer.from('{"pergjigje":1}')

/** Logs one exchange; resolves with its message id once both records are durable. */
export async function logExchange (recorder: SigningRecorder, x: LoggedExchange): Promise<string> {
  const { messageId, request, body, response } = exchangeRecords(x)
  await recorder.record(request, body, x.keepBody === true)
  if (response !== undefined) await recorder.record(response, ANSWER, x.keepBody === true)
  return messageId
}

/** The client and service of logExchanges. */
export const CLIENT = 'AL-DEV/GOV/K11503002N/e-albania'
export const SERVICE = 'AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet'

/**
 * `count` exchanges of CLIENT with SERVICE (two records each), the first logged at `from` and each
 * next one a second later, 5 at a time so batches hold several records; every third keeps its body.
 * Resolves with their message ids, in order.
 */
export async function logExchanges (recorder: SigningRecorder, count: number, from: Date): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < count; i += 5) {
    ids.push(...await Promise.all(Array.from({ length: Math.min(5, count - i) }, (_, j) => logExchange(recorder, { client: CLIENT, service: SERVICE, at: new Date(from.getTime() + (i + j) * 1000), keepBody: (i + j) % 3 === 0 }))))
  }
  return ids
}
