/**
 * Checks on logged records, shared by `ura log verify` (a whole store) and evidence verification
 * (one exchange): body against its digest, the record's leaf through its proof to the signed root,
 * the right member's key, and the chain hash.
 */
import type { BatchHeader, BatchSignature } from '../certs/batch-signer.ts'
import { rootFromProof, type ProofStep } from '../certs/merkle.ts'
import { BatchVerifier, type VerifyOptions } from '../certs/verifier.ts'
import { chainHash, GENESIS_HASH, recordLeaf, sha512, type StoredRecord } from './record.ts'
import type { ChainAnchor, LogStore } from './store.ts'
import { memberOf } from '../protocol/identifiers.ts'

/** Problems with one record given its batch's verified header; empty when it is sound. */
export function recordProblems (r: StoredRecord, header: BatchHeader): string[] {
  const problems: string[] = []
  if (r.body !== null && sha512(r.body) !== r.bodyDigest) problems.push('the logged body does not match its digest')
  const expectedSigner = r.direction === 'request' ? memberOf(r.client) : memberOf(r.service)
  if (r.signer !== expectedSigner) problems.push(`a ${r.direction} must be signed by ${expectedSigner}, not ${r.signer}`)
  if (header.signer !== r.signer) problems.push(`the batch signature is by ${header.signer}, the record names ${r.signer}`)
  problems.push(...leafProblems(recordLeaf(r), r, header))
  return problems
}

/** The checks every chained, batch-signed record shares: its leaf through its proof to the signed root, and its chain hash. */
export function leafProblems (leaf: Buffer, r: ChainedRecord & { proof: ProofStep[] }, header: BatchHeader): string[] {
  const problems: string[] = []
  let root: string | undefined
  try {
    root = rootFromProof(leaf, r.proof).toString('base64')
  } catch (err) {
    problems.push(`inclusion proof: ${(err as Error).message}`)
  }
  if (root !== undefined && root !== header.root) problems.push('the record is not covered by its batch signature (content, digest or proof altered)')
  if (chainHash(r.seq, r.prevHash, leaf, r.signatureId, r.proof) !== r.hash) problems.push('the record\'s chain hash does not match its content')
  return problems
}

/** Verifies batch signatures once each, remembering the outcome (and each certificate chain's checks). */
export class SignatureCache {
  private readonly done = new Map<string, BatchHeader | Error>()
  private readonly verifier: BatchVerifier
  constructor (opts: VerifyOptions) { this.verifier = new BatchVerifier(opts) }

  /** Whether the signature with this id was checked already (so need not be read again). */
  has (id: string): boolean { return this.done.has(id) }

  check (sig: BatchSignature | undefined, id: string): BatchHeader {
    let outcome = this.done.get(id)
    if (outcome === undefined) {
      try {
        if (sig === undefined) throw new Error(`signature ${id} is missing`)
        if (sig.id !== id) throw new Error(`signature ${id} is stored under another id`)
        outcome = this.verifier.verify(sig)
      } catch (err) {
        outcome = err as Error
      }
      this.done.set(id, outcome)
    }
    if (outcome instanceof Error) throw outcome
    return outcome
  }
}

export interface StoreVerdict {
  ok: boolean
  records: number
  signatures: number
  /** The first bad record and what is wrong with it. */
  firstBad?: { seq: number; messageId?: string; problems: string[] }
}

/** What a chain walk needs of a store: message log and audit trail alike. */
export interface ChainedRecord { seq: number; prevHash: string; hash: string; signatureId: string }
export interface ChainSource<R extends ChainedRecord> {
  anchor (): Promise<ChainAnchor | undefined>
  scan (afterSeq: number, limit: number): Promise<R[]>
  signature (id: string): Promise<BatchSignature | undefined>
  /** The chain head the writer keeps, when it keeps one: a walk ending before it lost records at the end. */
  head? (): Promise<ChainAnchor | undefined>
}

export interface ChainVerdict<R> {
  ok: boolean
  records: number
  signatures: number
  /** The first bad record (absent when the records lost are at the end) and what is wrong with it. */
  firstBad?: { seq: number; record?: R; problems: string[] }
}

/**
 * Walks a chain in order: sequence, chain links, batch signatures (each verified once), and the
 * record's own checks (`problems`, given its batch's verified header). Stops at the first bad record.
 */
export async function verifyChain<R extends ChainedRecord> (source: ChainSource<R>, problemsOf: (r: R, header: BatchHeader) => string[], opts: VerifyOptions = {}, pageSize = 1000): Promise<ChainVerdict<R>> {
  const cache = new SignatureCache(opts)
  const sigIds = new Set<string>()
  const anchor = await source.anchor()
  let prev = anchor ?? { seq: 0, hash: GENESIS_HASH }
  let count = 0
  for (;;) {
    const page = await source.scan(prev.seq, pageSize)
    if (page.length === 0) break
    for (const r of page) {
      const problems: string[] = []
      if (r.seq !== prev.seq + 1) problems.push(prev.seq === (anchor?.seq ?? 0) && count === 0 ? `the log starts at record ${r.seq}: records ${prev.seq + 1}–${r.seq - 1} are missing` : `records ${prev.seq + 1}–${r.seq - 1} are missing`)
      if (r.prevHash !== prev.hash) problems.push('the record does not follow its predecessor in the hash chain (a record was removed, inserted, reordered or altered)')
      try {
        const header = cache.check(cache.has(r.signatureId) ? undefined : await source.signature(r.signatureId), r.signatureId)
        sigIds.add(r.signatureId)
        problems.push(...problemsOf(r, header))
      } catch (err) {
        problems.push(`signature: ${(err as Error).message}`)
      }
      if (problems.length > 0) return { ok: false, records: count, signatures: sigIds.size, firstBad: { seq: r.seq, record: r, problems } }
      prev = { seq: r.seq, hash: r.hash }
      count++
    }
  }
  const head = await source.head?.()
  if (head !== undefined && head.seq !== prev.seq) {
    const problem = head.seq > prev.seq
      ? `records ${prev.seq + 1}–${head.seq} are missing at the end (the chain head is record ${head.seq})`
      : `the chain head names record ${head.seq}, but the records go on to ${prev.seq}`
    return { ok: false, records: count, signatures: sigIds.size, firstBad: { seq: prev.seq + 1, problems: [problem] } }
  }
  if (head !== undefined && head.hash !== prev.hash) {
    return { ok: false, records: count, signatures: sigIds.size, firstBad: { seq: prev.seq, problems: ['the last record\'s chain hash is not the chain head\'s'] } }
  }
  return { ok: true, records: count, signatures: sigIds.size }
}

/** Walks the whole message log in order: chain links, sequence, proofs, signatures. Stops at the first bad record. */
export async function verifyStore (store: LogStore, opts: VerifyOptions = {}, pageSize = 1000): Promise<StoreVerdict> {
  const verdict = await verifyChain<StoredRecord>(store, recordProblems, opts, pageSize)
  if (verdict.firstBad === undefined) return { ok: verdict.ok, records: verdict.records, signatures: verdict.signatures }
  const { seq, record, problems } = verdict.firstBad
  return { ok: false, records: verdict.records, signatures: verdict.signatures, firstBad: { seq, ...(record === undefined ? {} : { messageId: record.messageId }), problems } }
}
