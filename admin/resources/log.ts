/**
 * The message log as operators read it (`/admin/v1/log`): exchanges found by message id, client,
 * service and time, newest first in keyset pages; one exchange's records; its evidence document as a
 * download (the same document `GET /evidence/{messageId}` gives the parties); and one record's
 * logged body. A member-scoped operator sees the exchanges its member is a party to (as client or
 * as provider). Bodies — where the service logs them at all — are for operators who may
 * `log.bodies`: everyone else learns that a body was kept, never its bytes, and gets evidence
 * without it (which still verifies: a body is outside what is signed, only its digest is in).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { buildEvidence, signaturesOf } from '../../messagelog/evidence.ts'
import type { StoredRecord } from '../../messagelog/record.ts'
import type { LogStore } from '../../messagelog/store.ts'
import type { AdminContext } from '../context.ts'
import { AdminError } from '../errors.ts'
import { memberOfClient, PATTERNS } from '../ids.ts'
import { authorize, grantFor } from '../roles.ts'
import { route } from '../route-kit.ts'

const TAG = 'Message log'
export const DEFAULT_LOG_LIMIT = 50
export const MAX_LOG_LIMIT = 500

const MESSAGE_ID = { type: 'string', minLength: 1, maxLength: 1000, description: 'the message id (X-Road `id`), URL-encoded' }
const SEQ = { type: 'string', pattern: '^[1-9][0-9]{0,15}$' }

/** The node's message log, or 503 Admin.LogUnavailable when the node gave the admin API none. */
export function logStoreOf (ctx: AdminContext): LogStore {
  if (ctx.logStore === undefined) throw new AdminError('Admin.LogUnavailable', 'this node gives the admin API no message log')
  return ctx.logStore
}

/** A read of the message log; a failure of the store is 503 Admin.LogUnavailable. */
export async function readLog<T> (ctx: AdminContext, read: (store: LogStore) => Promise<T>): Promise<T> {
  const store = logStoreOf(ctx)
  try {
    return await read(store)
  } catch (err) {
    throw new AdminError('Admin.LogUnavailable', `the message log cannot be read: ${(err as Error).message}`, {}, { cause: err })
  }
}

/** A real time from a query parameter the schema let through (`2026-02-30T…` is not one, though Date would roll it over). */
export function timeParam (name: string, text: string | undefined): Date | undefined {
  if (text === undefined) return undefined
  const t = new Date(text)
  const [y, m, d] = text.slice(0, 10).split('-').map(Number)
  const day = new Date(Date.UTC(y, m - 1, d))
  if (Number.isNaN(t.getTime()) || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) throw new AdminError('Admin.InvalidRequest', `${name} is not a real time: ${text}`, { problems: [{ path: `querystring.${name}`, message: 'is not a real time' }] })
  return t
}

/** Whether the operator sees exchanges between these parties (`members`: the request's visible members; undefined = all). */
const sees = (members: Set<string> | undefined, r: Pick<StoredRecord, 'client' | 'service'>): boolean =>
  members === undefined || members.has(memberOfClient(r.client) ?? '') || members.has(memberOfClient(r.service) ?? '')

/** Whether the operator may read the bodies of this exchange: `log.bodies` for its client's member or its provider's. */
function readsBodies (request: FastifyRequest, r: Pick<StoredRecord, 'client' | 'service'>): boolean {
  const roles = request.operator?.roles ?? []
  return grantFor(roles, 'log.bodies', memberOfClient(r.client)) !== undefined || grantFor(roles, 'log.bodies', memberOfClient(r.service)) !== undefined
}

/** A record as the API shows it: what is signed, where it is in the chain, and its body only for those who may read it. */
function recordView (r: StoredRecord, withBody: boolean): Record<string, unknown> {
  const { body, proof: _proof, prevHash: _prev, ...rest } = r
  return { ...rest, bodyLogged: body !== null, ...(withBody && body !== null ? { body: body.toString('base64') } : {}) }
}

export async function logRoutes (app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const messageIdOf = (request: FastifyRequest): string => (request.params as { messageId: string }).messageId
  const target = (request: FastifyRequest): string | undefined => { const id = (request.params as { messageId?: unknown }).messageId; return typeof id === 'string' ? `message ${id}` : undefined }

  /**
   * The records of a message the operator may see. An unknown message id is 404 for an operator who
   * could see any exchange; a member-scoped operator is refused alike for an unknown one and for
   * another member's, so it learns nothing of exchanges that are not its member's.
   */
  const visibleRecords = async (request: FastifyRequest, action: string): Promise<StoredRecord[]> => {
    const id = messageIdOf(request)
    const records = await readLog(ctx, store => store.byMessageId(id))
    const visible = records.filter(r => sees(request.visibleMembers, r))
    if (visible.length > 0) return visible
    if (records.length > 0) authorize(request, action, memberOfClient(records[0].service))
    if (request.visibleMembers !== undefined) authorize(request, action)
    throw new AdminError('Admin.NotFound', `no exchange with message id ${id} is in the message log`)
  }

  app.get('/log', route('log.read', {
    tag: TAG,
    summary: 'search exchanges in the message log, newest first',
    authorize: 'list',
    querystring: {
      messageId: { type: 'string', minLength: 1, maxLength: 1000, description: 'this message id only' },
      client: { type: 'string', minLength: 1, maxLength: 1300, description: 'this client only (its id as records hold it: `AL-DEV/GOV/K11503002N/e-albania`)' },
      service: { type: 'string', minLength: 1, maxLength: 1300, description: 'this service only (`AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet`, version last when it has one)' },
      from: { type: 'string', pattern: PATTERNS.time, description: 'requests from this time (inclusive), ISO 8601' },
      to: { type: 'string', pattern: PATTERNS.time, description: 'requests until this time (exclusive), ISO 8601' },
      before: { ...SEQ, description: 'exchanges before this one (the previous page\'s `next`)' },
      limit: { type: 'string', pattern: '^([1-9][0-9]?|[1-4][0-9]{2}|500)$', description: `at most this many (default ${DEFAULT_LOG_LIMIT}, at most ${MAX_LOG_LIMIT})` },
    },
  }), async request => {
    const q = request.query as Record<string, string | undefined>
    const from = timeParam('from', q.from)
    const to = timeParam('to', q.to)
    if (from !== undefined && to !== undefined && from.getTime() >= to.getTime()) {
      throw new AdminError('Admin.InvalidRequest', 'from must be before to', { problems: [{ path: 'querystring.from', message: 'must be before to' }] })
    }
    const limit = Number(q.limit ?? DEFAULT_LOG_LIMIT)
    const visible = request.visibleMembers
    const rows = await readLog(ctx, store => store.searchExchanges({
      ...(q.messageId === undefined ? {} : { messageId: q.messageId }),
      ...(q.client === undefined ? {} : { client: q.client }),
      ...(q.service === undefined ? {} : { service: q.service }),
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
      ...(q.before === undefined ? {} : { before: Number(q.before) }),
      ...(visible === undefined ? {} : { members: [...visible] }),
      limit: limit + 1,
    }))
    const items = rows.slice(0, limit)
    return { items, ...(rows.length > limit ? { next: items.at(-1)!.seq } : {}) }
  })

  app.get('/log/:messageId', route('log.read', { tag: TAG, summary: 'the records of one exchange (bodies for operators who may log.bodies)', params: { messageId: MESSAGE_ID }, authorize: 'list', target }), async request => {
    const records = await visibleRecords(request, 'log.read')
    return { messageId: messageIdOf(request), records: records.map(r => recordView(r, readsBodies(request, r))) }
  })

  app.get('/log/:messageId/evidence', route('log.read', { tag: TAG, summary: 'the evidence document of an exchange, as a download (bodies for operators who may log.bodies)', params: { messageId: MESSAGE_ID }, authorize: 'list', target }), async (request, reply) => {
    const id = messageIdOf(request)
    const records = (await visibleRecords(request, 'log.read')).map(r => (readsBodies(request, r) ? r : { ...r, body: null }))
    const { signatures, pending } = await readLog(ctx, store => signaturesOf(store, records))
    if (pending.length > 0) {
      const err = new AdminError('Admin.EvidenceNotSigned', `the exchange is logged, and its batch signature is still to be made (deferred signing, within node.log.signWithinMs): ask again shortly`, { pending })
      err.retryAfterSeconds = 1
      throw err
    }
    return reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="evidence-${id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200)}.json"`)
      .send(JSON.stringify(buildEvidence(id, records, signatures), null, 2))
  })

  app.get('/log/:messageId/records/:seq/body', route('log.bodies', {
    tag: TAG,
    summary: 'the body a record kept, as a download',
    params: { messageId: MESSAGE_ID, seq: { ...SEQ, description: 'the record\'s sequence number' } },
    authorize: 'manual',
    target,
  }), async (request, reply) => {
    const id = messageIdOf(request)
    const seq = Number((request.params as { seq: string }).seq)
    const record = (await readLog(ctx, store => store.byMessageId(id))).find(r => r.seq === seq)
    if (record === undefined) {
      // Only an operator who could read any body learns that there is no such record.
      authorize(request, 'log.bodies')
      throw new AdminError('Admin.NotFound', `message ${id} has no record ${seq} in the message log`)
    }
    const client = memberOfClient(record.client)
    const provider = memberOfClient(record.service)
    authorize(request, 'log.bodies', grantFor(request.operator?.roles ?? [], 'log.bodies', client) !== undefined ? client : provider)
    if (record.body === null) throw new AdminError('Admin.NotFound', `record ${seq} of message ${id} kept only its body's digest (the service does not log bodies)`)
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-disposition', `attachment; filename="${id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200)}-${seq}-${record.direction}.bin"`)
      .header('x-content-type-options', 'nosniff')
      .send(record.body)
  })
}
