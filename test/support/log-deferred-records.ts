/** Records for the deferred-signing tests: requests of a client member and responses of a provider, alternating. */
import { sha512, type RecordContent } from '../../messagelog/record.ts'

const CLIENT = 'AL-DEV/GOV/K11503002N/e-albania'
const SERVICE = 'AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet'
export const DEFERRED_MEMBERS = ['AL-DEV/GOV/K11503002N', 'AL-DEV/NJQV/L21603004L'] as const

/** Record `i` at `time` (ms): a request when `response` is false, else the response to record i - 1 (taken for its request). */
export function deferredContent (i: number, time: number, response = i % 2 === 1): RecordContent {
  const exchange = response ? i - 1 : i
  return {
    time: new Date(time).toISOString(),
    direction: response ? 'response' : 'request',
    protocol: 'rest',
    messageId: `msg-${exchange}`,
    requestId: `req-${exchange}`,
    client: CLIENT,
    service: SERVICE,
    userId: null,
    issue: null,
    representedParty: null,
    method: 'GET',
    path: `/subjekte/K81305012I/detyrime?i=${i}`,
    status: response ? 200 : null,
    fault: null,
    requestHash: sha512(`request ${exchange}`),
    headersDigest: sha512(`headers ${i}`),
    bodyDigest: sha512(`body ${i}`),
    signer: DEFERRED_MEMBERS[response ? 1 : 0],
  }
}
