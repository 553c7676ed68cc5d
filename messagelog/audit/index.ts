/**
 * The audit trail of admin actions (issue 11): every action an operator takes on the node, allowed or
 * refused, is signed with the node operator's member key through the batch signer and appended to its
 * own hash chain, apart from the exchanges. `ura audit verify` walks it with the message log's verifier.
 */
import { resolve } from 'node:path'
import type { BatchHeader, BatchSigner } from '../../certs/batch-signer.ts'
import { dataDirOf } from '../../certs/node-pki.ts'
import type { VerifyOptions } from '../../certs/verifier.ts'
import type { UraConfig } from '../../config/types.ts'
import { memberOf } from '../../protocol/identifiers.ts'
import { leafProblems, verifyChain, type ChainVerdict } from '../verify.ts'
import { auditLeaf, stateDigest, type AuditContent, type AuditLink, type AuditRecord, type AuditResult } from './record.ts'
import { AuditStore, type AuditFilter } from './store.ts'

export { canonicalJson, stateDigest, type AuditContent, type AuditLink, type AuditRecord, type AuditResult, type StateRef } from './record.ts'
export { AuditStore, type AuditFilter } from './store.ts'

/** The embedded trail's file in the data directory, beside the message log's. */
export const AUDIT_FILE = 'audit.db'

/** One admin action as the admin API reports it. `before` and `after` are digested, never stored. */
export interface AuditEntry {
  operator: string
  role: string
  action: string
  target?: string | null
  /** The target's state before and after the action (any JSON value); omitted when there was none. */
  before?: unknown
  after?: unknown
  result: AuditResult
  /** Required when refused: the error code the operator was answered with. */
  errorCode?: string | null
  requestId: string
  time?: Date
  /** A change's place in the registry's history, kept beside the record (unsigned). */
  link?: AuditLink
}

export class AuditTrail {
  readonly store: AuditStore
  private readonly signer: BatchSigner
  /** Member id whose key signs every record. */
  readonly signerMember: string

  constructor (store: AuditStore, signer: BatchSigner, signerMember: string) {
    this.store = store
    this.signer = signer
    this.signerMember = signerMember
  }

  /** Signs and appends one entry; resolves with the stored record once it is committed. */
  async record (entry: AuditEntry): Promise<AuditRecord> {
    const errorCode = entry.errorCode ?? null
    if (entry.result === 'refused' && errorCode === null) throw new Error('a refused action needs its error code')
    if (entry.result === 'allowed' && errorCode !== null) throw new Error('an allowed action has no error code')
    const content: AuditContent = {
      time: (entry.time ?? new Date()).toISOString(),
      operator: entry.operator,
      role: entry.role,
      action: entry.action,
      target: entry.target ?? null,
      beforeDigest: stateDigest(entry.before),
      afterDigest: stateDigest(entry.after),
      result: entry.result,
      errorCode,
      requestId: entry.requestId,
      signer: this.signerMember,
    }
    const { signature, proof } = await this.signer.sign(this.signerMember, auditLeaf(content))
    return this.store.append(content, signature, proof, entry.link)
  }

  list (filter: AuditFilter = {}): Promise<AuditRecord[]> {
    return this.store.list(filter)
  }

  close (): Promise<void> {
    return this.store.close()
  }
}

/** Problems with one audit record given its batch's verified header; empty when it is sound. */
export function auditProblems (r: AuditRecord, header: BatchHeader): string[] {
  const problems: string[] = []
  if (header.signer !== r.signer) problems.push(`the batch signature is by ${header.signer}, the record names ${r.signer}`)
  if (r.result !== 'allowed' && r.result !== 'refused') problems.push(`unknown result ${String(r.result)}`)
  problems.push(...leafProblems(auditLeaf(r), r, header))
  return problems
}

/** Walks the whole trail in order, from genesis to the chain head; stops at the first bad record. */
export function verifyAudit (store: AuditStore, opts: VerifyOptions = {}): Promise<ChainVerdict<AuditRecord>> {
  return verifyChain(store, auditProblems, opts)
}

/** Opens the trail's store as the configuration says: `audit.db` in the data directory, or the log's PostgreSQL database. */
export function openAuditStore (config: UraConfig): Promise<AuditStore> {
  const log = config.node.log
  if (log.store === 'postgres') return AuditStore.openPostgres(log.url!)
  return AuditStore.openFile(resolve(dataDirOf(config), AUDIT_FILE))
}

/** The member whose key signs the trail: the node operator's, i.e. the member of the first of `node.operators`. */
export function auditSignerOf (config: UraConfig): string {
  const first = config.node.operators[0]
  if (first === undefined) throw new Error('the audit trail is signed by the node operator\'s member: node.operators names none')
  return memberOf(first)
}

/** Opens the trail for recording, signing with the node operator's member key through `signer` (the node's batch signer). */
export async function openAuditTrail (config: UraConfig, signer: BatchSigner): Promise<AuditTrail> {
  const member = auditSignerOf(config)
  return new AuditTrail(await openAuditStore(config), signer, member)
}

/** `listAudit(trail, filter)`: the records matching the filter, oldest first. */
export function listAudit (trail: AuditTrail, filter: AuditFilter = {}): Promise<AuditRecord[]> {
  return trail.list(filter)
}
