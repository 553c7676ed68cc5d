/**
 * One audit record with the states it digests, read again: the trail signs only the SHA-512 of the
 * target's state before and after a change; the states themselves are in the registry versions the
 * change was made on and produced, which the record names beside its signed fields together with the
 * readers that made them (admin/states.ts). Read again and digested the same way, they either match
 * the signed digests (`verified`) or they do not. What an operator may not otherwise read stays out
 * of the answer: token hashes are masked, and applications (personal data) are withheld from
 * operators who may not read applications — the check is still made and reported.
 */
import { stateDigest, type AuditRecord, type StateRef } from '../messagelog/audit/index.ts'
import { RegistryStoreError, type RegistryContent } from '../registry/store/index.ts'
import type { AdminContext } from './context.ts'
import { AdminError, storeError } from './errors.ts'
import { readState } from './states.ts'

/**
 * `none`: the record digests no state (a read, a refusal); `reconstructed`: the states are shown;
 * `withheld`: they were read and checked, but this operator may not see them; `unavailable`: they
 * cannot be read again (the record names no readers or versions: written before ura kept them, or
 * by onboarding's public endpoints; or the version or reader is gone) — `note` says which.
 */
export type StatesOutcome = 'none' | 'reconstructed' | 'withheld' | 'unavailable'

export interface AuditDetail extends AuditRecord {
  before?: unknown
  after?: unknown
  states: StatesOutcome
  /** The states shown (or withheld) digest to exactly the signed digests; true when there are none on either side. */
  verified: boolean
  note?: string
}

/** Readers whose states hold applications' personal data. */
const PERSONAL = new Set(['application', 'content'])
export const MASK = '(hidden)'

/** A state as shown: the hashes of API tokens and applicants' status tokens, and console sign-ins' password hashes and TOTP secrets, masked. */
export function masked (value: unknown, inTokens = false): unknown {
  if (Array.isArray(value)) return value.map(v => masked(v, inTokens))
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    if ((inTokens && k === 'sha256') || k === 'statusTokenSha256' || k === 'passwordHash' || k === 'totpSecret') out[k] = MASK
    else out[k] = masked(v, k === 'tokens')
  }
  return out
}

class Unavailable extends Error {}

/** Reads a state again with its reader; undefined when the record digests none. */
function reread (digest: string | null, ref: StateRef | null, content: () => RegistryContent, which: string): unknown {
  if (digest === null && ref === null) return undefined
  if (ref === null) throw new Unavailable(`the state ${which} was not made by a named reader, so it cannot be read again`)
  try {
    return readState(ref, content())
  } catch (err) {
    throw new Unavailable(`the state ${which} cannot be read again: ${(err as Error).message}`)
  }
}

export async function auditDetail (ctx: AdminContext, record: AuditRecord, opts: { readsApplications: boolean }): Promise<AuditDetail> {
  if (record.beforeDigest === null && record.afterDigest === null) return { ...record, states: 'none', verified: true }
  if (record.registryBase === null || record.stateRefs === null) {
    return { ...record, states: 'unavailable', verified: false, note: 'the record does not name the registry versions its states were read from (written before the trail kept them, or not by a registry change)' }
  }
  const read = async (n: number): Promise<RegistryContent> => {
    try {
      return (await ctx.store.version(n)).content
    } catch (err) {
      if (err instanceof RegistryStoreError && err.code === 'UNKNOWN_VERSION') throw new Unavailable(`registry version ${n} is not in the registry store`)
      if (err instanceof RegistryStoreError) throw storeError(err)
      throw new AdminError('Admin.StoreFailed', `the registry store cannot be read: ${(err as Error).message}`, {}, { cause: err })
    }
  }
  let before: unknown
  let after: unknown
  try {
    const base = await read(record.registryBase)
    const produced = record.registryVersion === null ? base : await read(record.registryVersion)
    before = reread(record.beforeDigest, record.stateRefs.before, () => base, 'before')
    after = reread(record.afterDigest, record.stateRefs.after, () => produced, 'after')
  } catch (err) {
    if (err instanceof Unavailable) return { ...record, states: 'unavailable', verified: false, note: err.message }
    throw err
  }
  const verified = stateDigest(before) === record.beforeDigest && stateDigest(after) === record.afterDigest
  const refs = [record.stateRefs.before, record.stateRefs.after]
  if (!opts.readsApplications && refs.some(r => r !== null && PERSONAL.has(r.name))) {
    return { ...record, states: 'withheld', verified, note: 'the states hold applications\' personal data, which this operator may not read (application.read)' }
  }
  return {
    ...record,
    ...(before === undefined ? {} : { before: masked(before) }),
    ...(after === undefined ? {} : { after: masked(after) }),
    states: 'reconstructed',
    verified,
  }
}
