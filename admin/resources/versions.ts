/**
 * The registry's history and the audit trail: `/admin/v1/versions` (who changed what, when and why;
 * a version's full content; the diff between two; a rollback, which is a new version with an
 * earlier one's content) and `/admin/v1/audit` (the trail of admin actions, filtered by operator,
 * action, target, time and the registry version a change produced, in pages; one record with the
 * states it digests, read again from the registry versions — admin/audit-detail.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AuditFilter } from '../../messagelog/audit/index.ts'
import { RegistryStoreError, type RegistryVersion } from '../../registry/store/index.ts'
import { auditDetail, masked } from '../audit-detail.ts'
import { commitChange } from '../change.ts'
import type { AdminContext } from '../context.ts'
import { AdminError, storeError } from '../errors.ts'
import { versionEtag } from '../etag.ts'
import { PARAMS, PATTERNS } from '../ids.ts'
import { grantFor } from '../roles.ts'
import { listHeaders, route, sendList, sendResource, snapshot } from '../route-kit.ts'
import { wholeContent } from '../states.ts'

const TAG = 'Registry'
const TIME = PATTERNS.time

export async function versionRoutes (app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const numberOf = (request: FastifyRequest, key: string): number => Number((request.params as Record<string, string>)[key])
  const read = async (n: number): Promise<RegistryVersion> => {
    try {
      return await ctx.store.version(n)
    } catch (err) {
      if (err instanceof RegistryStoreError) throw storeError(err)
      throw new AdminError('Admin.StoreFailed', `the registry store cannot be read: ${(err as Error).message}`, {}, { cause: err })
    }
  }
  const target = (request: FastifyRequest): string | undefined => { const v = (request.params as { version?: unknown }).version; return typeof v === 'string' ? `version ${v}` : undefined }

  app.get('/versions', route('version.list', {
    tag: TAG,
    querystring: {
      after: { type: 'string', pattern: PATTERNS.version, description: 'only versions after this one' },
      limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$', description: 'at most this many (default 100), oldest first' },
    },
  }), async (request, reply) => {
    const q = request.query as { after?: string; limit?: string }
    const after = Number(q.after ?? 0)
    const limit = Number(q.limit ?? 100)
    let infos
    try {
      infos = await ctx.store.list()
    } catch (err) {
      throw new AdminError('Admin.StoreFailed', `the registry store cannot be read: ${(err as Error).message}`, {}, { cause: err })
    }
    const page = infos.filter(i => i.version > after).slice(0, limit)
    return sendList(reply, page, { current: snapshot(request).version })
  })

  app.get('/versions/:version', route('version.read', { tag: TAG, params: { version: PARAMS.version }, target }), async (request, reply) => {
    const v = await read(numberOf(request, 'version'))
    // Secrets' hashes and TOTP secrets stay in the store: every role may read versions.
    return sendResource(reply, { ...v, content: { ...v.content, operators: masked(v.content.operators) } })
  })

  app.get('/versions/:version/diff/:other', route('version.read', { tag: TAG, summary: 'what changed from one version to another', params: { version: PARAMS.version, other: PARAMS.version }, target }), async (request, reply) => {
    try {
      return sendResource(reply, await ctx.store.diff(numberOf(request, 'version'), numberOf(request, 'other')))
    } catch (err) {
      if (err instanceof RegistryStoreError) throw storeError(err)
      throw err
    }
  })

  app.post('/versions/:version/rollback', route('version.rollback', { tag: TAG, summary: 'make a new version with this version\'s content (If-Match: the current version\'s ETag)', params: { version: PARAMS.version }, write: true, target }), async (request, reply) => {
    const n = numberOf(request, 'version')
    const old = await read(n)
    const v = await commitChange(ctx, request, {
      action: 'version.rollback',
      target: `version ${n}`,
      precondition: (_c, version) => ({ etag: versionEtag(version), allowAny: false }),
      change: () => structuredClone(old.content),
      before: wholeContent(),
      after: wholeContent(),
    })
    return sendResource(reply, { version: v.version, who: v.who, when: v.when, why: v.why, rolledBackTo: n })
  })

  app.get('/audit', route('audit.list', {
    tag: 'Audit',
    querystring: {
      operator: { type: 'string', minLength: 1, maxLength: 300 },
      action: { type: 'string', pattern: '^[a-z-]+(\\.[a-z-]+)?$' },
      target: { type: 'string', minLength: 1, maxLength: 1000 },
      from: { type: 'string', pattern: TIME, description: 'from this time (inclusive), ISO 8601' },
      to: { type: 'string', pattern: TIME, description: 'until this time (exclusive), ISO 8601' },
      version: { type: 'string', pattern: PATTERNS.version, description: 'only the change records that produced this registry version' },
      after: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'records after this sequence number (the previous page\'s `next`)' },
      limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$', description: 'at most this many (default 100, at most 1000), oldest first' },
    },
  }), async (request, reply) => {
    const q = request.query as Record<string, string | undefined>
    const limit = Math.min(1000, Number(q.limit ?? 100))
    const filter: AuditFilter = { limit: limit + 1 }
    if (q.operator !== undefined) filter.operator = q.operator
    if (q.action !== undefined) filter.action = q.action
    if (q.target !== undefined) filter.target = q.target
    if (q.from !== undefined) filter.from = new Date(q.from)
    if (q.to !== undefined) filter.to = new Date(q.to)
    if (q.after !== undefined) filter.afterSeq = Number(q.after)
    if (q.version !== undefined) filter.registryVersion = Number(q.version)
    if (Number.isNaN(filter.from?.getTime() ?? 0) || Number.isNaN(filter.to?.getTime() ?? 0)) throw new AdminError('Admin.InvalidRequest', 'from and to must be real times')
    let records
    try {
      records = await ctx.audit.list(filter)
    } catch (err) {
      throw new AdminError('Admin.AuditFailed', `the audit trail cannot be read: ${(err as Error).message}`, {}, { cause: err })
    }
    const page = records.slice(0, limit)
    listHeaders(reply)
    return { items: page, ...(records.length > limit ? { next: page.at(-1)!.seq } : {}) }
  })

  app.get('/audit/:seq', route('audit.list', {
    tag: 'Audit',
    summary: 'one record of the audit trail, with the states before and after it digests, read again from the registry versions',
    params: { seq: { type: 'string', pattern: '^[1-9][0-9]{0,14}$', description: 'the record\'s sequence number' } },
    target: request => { const s = (request.params as { seq?: unknown }).seq; return typeof s === 'string' ? `audit record ${s}` : undefined },
  }), async request => {
    const seq = Number((request.params as { seq: string }).seq)
    let record
    try {
      record = await ctx.audit.store.get(seq)
    } catch (err) {
      throw new AdminError('Admin.AuditFailed', `the audit trail cannot be read: ${(err as Error).message}`, {}, { cause: err })
    }
    if (record === undefined) throw new AdminError('Admin.NotFound', `the audit trail has no record ${seq}`)
    return auditDetail(ctx, record, { readsApplications: grantFor(request.operator?.roles ?? [], 'application.read') !== undefined })
  })
}
