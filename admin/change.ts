/**
 * Every change through the admin API is one `store.commit`: made on the registry version the request
 * read, by the operator (`who`) for the reason in its `X-Ura-Reason` header (`why`), after its
 * `If-Match` was checked against the content it changes. If another version was committed in the
 * meantime, the change is re-applied to the newer one (its precondition checked again) a few times
 * before giving up with Admin.Conflict. A refused or failed commit leaves the previous version
 * current; the action is recorded in the audit trail either way, a success with the target's state
 * before and after, and (beside the signed record) the versions they were read from and the named
 * readers (admin/states.ts) that read them, so the audit API can read them again.
 */
import type { FastifyRequest } from 'fastify'
import { canonicalJson } from '../registry/store/content.ts'
import { RegistryStoreError, type RegistryContent, type RegistryVersion } from '../registry/store/index.ts'
import type { AdminContext } from './context.ts'
import { AdminError, storeError } from './errors.ts'
import { checkIfMatch, requireIfMatch, versionEtag, type Precondition } from './etag.ts'
import { recordAction } from './record.ts'
import type { NamedState, StateRef } from './states.ts'

export const REASON_HEADER = 'x-ura-reason'
const MAX_REASON = 500
const ATTEMPTS = 5

/**
 * A target's state, read from a registry content (undefined: there is none). A named state
 * (admin/states.ts) can be read again from the versions by the audit API; a plain function cannot.
 */
type State = ((content: RegistryContent) => unknown) & { readonly ref?: StateRef }

export interface ChangeSpec {
  action: string
  /** What is changed (a member id, a service id…), for the audit trail; null for node-wide changes. */
  target: string | null
  /** The role the change is made under; default: the one `authorize` recorded on the request. */
  role?: string
  /** The new content from the current one (a copy: change it freely); throw an AdminError to refuse. */
  change: (content: RegistryContent) => RegistryContent
  /** The target's state before (read from the content the change applies to) and after (from the new version). */
  before?: State | NamedState
  after?: State | NamedState
  /** What `If-Match` must name, read from the content the change applies to. Default: the registry version's tag, `*` accepted. */
  precondition?: (content: RegistryContent, version: number) => Precondition
}

/** The reason for a change: the `X-Ura-Reason` header, read as UTF-8. */
export function reasonOf (request: FastifyRequest): string {
  const raw = request.headers[REASON_HEADER]
  const text = (Array.isArray(raw) ? raw[0] : raw)?.trim()
  if (text === undefined || text === '') throw new AdminError('Admin.InvalidRequest', 'a change needs a reason: send it in the X-Ura-Reason header')
  // Node reads header bytes as Latin-1; clients send UTF-8 (ë, ç), so the bytes are decoded again.
  const utf8 = Buffer.from(text, 'latin1').toString('utf8')
  const reason = utf8.includes('\uFFFD') ? text : utf8
  if (reason.length > MAX_REASON) throw new AdminError('Admin.InvalidRequest', `X-Ura-Reason is longer than ${MAX_REASON} characters`)
  return reason
}

const stateOf = (s: State | undefined, content: RegistryContent): unknown => s?.(content)

/** Commits one change for the request; resolves to the new version (the current one when the change changes nothing). */
export async function commitChange (ctx: AdminContext, request: FastifyRequest, spec: ChangeSpec): Promise<RegistryVersion> {
  const st = request.adminAction ?? { action: spec.action, target: spec.target, role: '', audited: false }
  request.adminAction = st
  st.action = spec.action
  st.target = spec.target
  if (spec.role !== undefined) st.role = spec.role
  const operator = request.operator
  if (operator === undefined) throw new AdminError('Admin.Unauthenticated', 'no operator is identified on this request')
  requireIfMatch(request, true)
  const why = reasonOf(request)
  const precondition = spec.precondition ?? ((_c: RegistryContent, version: number): Precondition => ({ etag: versionEtag(version), allowAny: true }))

  let base: RegistryVersion | undefined = request.registry
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (base === undefined || attempt > 0) base = await current(ctx)
    checkIfMatch(request, precondition(base.content, base.version))
    const next = spec.change(structuredClone(base.content))
    let version: RegistryVersion
    if (canonicalJson(next) === canonicalJson(base.content)) {
      version = base
    } else {
      try {
        version = await ctx.store.commit(next, { who: operator.id, why, expectedVersion: base.version })
      } catch (err) {
        if (err instanceof RegistryStoreError && err.code === 'STALE_VERSION') continue
        throw err instanceof RegistryStoreError ? storeError(err) : new AdminError('Admin.StoreFailed', `the registry store failed; nothing was changed: ${(err as Error).message}`, {}, { cause: err })
      }
    }
    request.registry = version
    const link = {
      registryVersion: version === base ? null : version.version,
      registryBase: base.version,
      stateRefs: { before: spec.before?.ref ?? null, after: spec.after?.ref ?? null },
    }
    try {
      await recordAction(ctx, request, { result: 'allowed', before: stateOf(spec.before, base.content), after: stateOf(spec.after, version.content), link })
    } catch (err) {
      // No second, contradicting record: the answer says what happened.
      st.audited = true
      throw new AdminError('Admin.AuditFailed', `the change is registry version ${version.version}, but its audit record could not be written`, { version: version.version }, { cause: err })
    }
    return version
  }
  throw new AdminError('Admin.Conflict', `the registry kept changing while the change was applied (${ATTEMPTS} attempts): try again`)
}

/** The current version, a store failure as Admin.StoreFailed. */
export async function current (ctx: AdminContext): Promise<RegistryVersion> {
  try {
    return await ctx.store.current()
  } catch (err) {
    throw err instanceof RegistryStoreError ? storeError(err) : new AdminError('Admin.StoreFailed', `the registry store cannot be read: ${(err as Error).message}`, {}, { cause: err })
  }
}
