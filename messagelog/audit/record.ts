/**
 * One audit-trail record: an operator's action on the node, hashed, chained and batch-signed like a
 * message-log record (same Merkle leaves, same chain hash, same batch signatures) but with its own
 * fields. Exchange records do not fit an admin action honestly (no client, service or direction), so
 * this is a parallel record type; its leaf carries its own tag (`ura-audit/1`), so an audit record
 * can never pass for an exchange record or the reverse. The bodies of what changed are not kept:
 * only the SHA-512 digest of their canonical JSON.
 */
import { leafHash, type ProofStep } from '../../certs/merkle.ts'
import { sha512 } from '../record.ts'

export type AuditResult = 'allowed' | 'refused'

/** The signed part of an audit record. Absent values are `null`, never missing, so the form is fixed. */
export interface AuditContent {
  time: string
  /** The operator's id (a client id, or the admin API's account id). */
  operator: string
  role: string
  /** What was done, e.g. `member.create`. */
  action: string
  /** What it was done to, e.g. a member id; null for node-wide actions. */
  target: string | null
  /** Base64 SHA-512 of the canonical JSON of the target before and after; null when there was none. */
  beforeDigest: string | null
  afterDigest: string | null
  result: AuditResult
  /** The error code a refused action was answered with. */
  errorCode: string | null
  requestId: string
  /** Member id whose key signs the record. */
  signer: string
}

/** How a state an audit record digests can be read again from a registry version: a named reader and its arguments. */
export interface StateRef { name: string; args: unknown[] }

/**
 * Where a change's states are in the registry's history — kept beside the record, outside the
 * signed leaf (the digests prove the states; this only says where to find them again).
 */
export interface AuditLink {
  /** The registry version the change produced; null when it changed nothing. */
  registryVersion: number | null
  /** The registry version the change was made on (its state before is read there). */
  registryBase: number
  /** The readers of the target's state before and after (null: none, or one that cannot be read again). */
  stateRefs: { before: StateRef | null; after: StateRef | null }
}

export interface AuditRecord extends AuditContent {
  seq: number
  signatureId: string
  proof: ProofStep[]
  prevHash: string
  hash: string
  /** Unsigned: the registry version a change produced (null for every other record, and a change that changed nothing). */
  registryVersion: number | null
  /** Unsigned: the registry version a change was made on. */
  registryBase: number | null
  /** Unsigned: the readers of the change's states (admin/states.ts). */
  stateRefs: AuditLink['stateRefs'] | null
}

export const AUDIT_FIELDS = [
  'time', 'operator', 'role', 'action', 'target', 'beforeDigest', 'afterDigest', 'result', 'errorCode', 'requestId', 'signer',
] as const satisfies ReadonlyArray<keyof AuditContent>

/** The exact text the leaf hashes: a JSON array of the fields in their fixed order. */
export function auditContentText (r: AuditContent): string {
  return JSON.stringify(['ura-audit/1', ...AUDIT_FIELDS.map(f => r[f] ?? null)])
}

export function auditLeaf (r: AuditContent): Buffer {
  return leafHash(auditContentText(r))
}

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson (value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
    return Object.fromEntries(Object.keys(v).sort().map(k => [k, (v as Record<string, unknown>)[k]]))
  })
}

/** Base64 SHA-512 of a value's canonical JSON; null for `undefined` (nothing before a create, after a delete). */
export function stateDigest (value: unknown): string | null {
  return value === undefined ? null : sha512(canonicalJson(value))
}
