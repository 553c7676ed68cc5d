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
  /** Several signatures in one read, where the store can (a page's new signatures at once); missing ones are absent. */
  signatures? (ids: string[]): Promise<Map<string, BatchSignature>>
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

/** Called as records are verified, with how many more were (a page at a time). */
export type OnProgress = (records: number) => void

/** Why `r` does not follow `prev` (sequence and chain link); `atStart`: prev is the anchor and nothing was walked yet. */
export function linkProblems (prev: ChainAnchor, r: Pick<ChainedRecord, 'seq' | 'prevHash'>, atStart: boolean): string[] {
  const problems: string[] = []
  if (r.seq !== prev.seq + 1) problems.push(atStart ? `the log starts at record ${r.seq}: records ${prev.seq + 1}–${r.seq - 1} are missing` : `records ${prev.seq + 1}–${r.seq - 1} are missing`)
  if (r.prevHash !== prev.hash) problems.push('the record does not follow its predecessor in the hash chain (a record was removed, inserted, reordered or altered)')
  return problems
}

/** One stretch of a chain, walked on its own (see verifyRange). */
export interface RangeWalk<R> {
  /** Good records walked (the first record counts when its own checks pass). */
  records: number
  signatureIds: string[]
  /**
   * The first record of the range and its problems: its own, and its link to its predecessor when
   * the walk was given it (`linked`); else that link is left to the caller.
   */
  first?: { seq: number; prevHash: string; record: R; problems: string[]; linked: boolean; signatureIds: string[] }
  /** The last good record. */
  last?: ChainAnchor
  /** The first bad record after the first one, linked to its predecessor in the range. */
  firstBad?: { seq: number; record: R; problems: string[] }
}

/**
 * Walks the records with `after` < seq ≤ `upTo` in order: chain links, batch signatures (each
 * verified once) and each record's own checks. The first record's link to its predecessor is checked
 * when `start` is that predecessor (the anchor, for a walk from the start), else left to the caller,
 * who knows it. Stops at the first bad record.
 */
export async function verifyRange<R extends ChainedRecord> (source: Pick<ChainSource<R>, 'scan' | 'signature' | 'signatures'>, problemsOf: (r: R, header: BatchHeader) => string[], cache: SignatureCache, after: number, upTo: number, onProgress?: OnProgress, pageSize = 1000, start?: ChainAnchor): Promise<RangeWalk<R>> {
  const walk: RangeWalk<R> = { records: 0, signatureIds: [] }
  const sigIds = new Set<string>()
  let prev: ChainAnchor | undefined
  let cursor = after
  while (cursor < upTo) {
    // No more rows than the range can hold (fewer are read when some are missing).
    const page = await source.scan(cursor, Math.min(pageSize, upTo - cursor))
    if (page.length === 0) break
    let walked = 0
    const fresh = source.signatures === undefined ? [] : [...new Set(page.filter(r => !cache.has(r.signatureId)).map(r => r.signatureId))]
    const fetched = fresh.length === 0 ? undefined : await source.signatures!(fresh)
    for (const r of page) {
      if (r.seq > upTo) break
      const problems = prev !== undefined ? linkProblems(prev, r, false) : start !== undefined ? linkProblems(start, r, true) : []
      try {
        const header = cache.check(cache.has(r.signatureId) ? undefined : fetched !== undefined ? fetched.get(r.signatureId) : await source.signature(r.signatureId), r.signatureId)
        sigIds.add(r.signatureId)
        problems.push(...problemsOf(r, header))
      } catch (err) {
        problems.push(`signature: ${(err as Error).message}`)
      }
      if (prev === undefined) walk.first = { seq: r.seq, prevHash: r.prevHash, record: r, problems, linked: start !== undefined, signatureIds: [...sigIds] }
      if (problems.length > 0) {
        if (prev !== undefined) walk.firstBad = { seq: r.seq, record: r, problems }
        walk.signatureIds = [...sigIds]
        onProgress?.(walked)
        return walk
      }
      prev = { seq: r.seq, hash: r.hash }
      walk.records++
      walked++
    }
    onProgress?.(walked)
    walk.last = prev
    if (page[page.length - 1].seq >= upTo) break
    cursor = page[page.length - 1].seq
    // A page's reads may all resolve at once (SQLite): let the event loop run (other threads' progress) between pages.
    await new Promise(resolve => setImmediate(resolve))
  }
  walk.last = prev
  walk.signatureIds = [...sigIds]
  return walk
}

/**
 * Joins ranges walked on their own, in order, into one verdict from the anchor: each range's first
 * record must follow the previous range's last; the first bad record of the whole chain wins.
 */
export function joinRanges<R> (anchor: ChainAnchor | undefined, walks: Array<RangeWalk<R>>): ChainVerdict<R> & { last: ChainAnchor } {
  let prev = anchor ?? { seq: 0, hash: GENESIS_HASH }
  let count = 0
  const sigIds = new Set<string>()
  for (const w of walks) {
    if (w.first === undefined) continue
    const problems = w.first.linked ? w.first.problems : [...linkProblems(prev, w.first, count === 0), ...w.first.problems]
    if (problems.length > 0) {
      for (const id of w.first.signatureIds) sigIds.add(id)
      return { ok: false, records: count, signatures: sigIds.size, firstBad: { seq: w.first.seq, record: w.first.record, problems }, last: prev }
    }
    for (const id of w.signatureIds) sigIds.add(id)
    if (w.firstBad !== undefined) return { ok: false, records: count + w.records, signatures: sigIds.size, firstBad: w.firstBad, last: prev }
    count += w.records
    prev = w.last!
  }
  return { ok: true, records: count, signatures: sigIds.size, last: prev }
}

/** The chain head's verdict on a sound walk ending at `last`: records lost at the end, or a head that does not match. */
export function headProblems<R> (head: ChainAnchor | undefined, last: ChainAnchor, verdict: ChainVerdict<R>): ChainVerdict<R> {
  if (head !== undefined && head.seq !== last.seq) {
    const problem = head.seq > last.seq
      ? `records ${last.seq + 1}–${head.seq} are missing at the end (the chain head is record ${head.seq})`
      : `the chain head names record ${head.seq}, but the records go on to ${last.seq}`
    return { ok: false, records: verdict.records, signatures: verdict.signatures, firstBad: { seq: last.seq + 1, problems: [problem] } }
  }
  if (head !== undefined && head.hash !== last.hash) {
    return { ok: false, records: verdict.records, signatures: verdict.signatures, firstBad: { seq: last.seq, problems: ['the last record\'s chain hash is not the chain head\'s'] } }
  }
  return verdict
}

/**
 * Walks a chain in order: sequence, chain links, batch signatures (each verified once), and the
 * record's own checks (`problems`, given its batch's verified header). Stops at the first bad record.
 */
export async function verifyChain<R extends ChainedRecord> (source: ChainSource<R>, problemsOf: (r: R, header: BatchHeader) => string[], opts: VerifyOptions = {}, pageSize = 1000, onProgress?: OnProgress): Promise<ChainVerdict<R>> {
  const anchor = await source.anchor()
  const start = anchor ?? { seq: 0, hash: GENESIS_HASH }
  const walk = await verifyRange(source, problemsOf, new SignatureCache(opts), start.seq, Number.MAX_SAFE_INTEGER, onProgress, pageSize, start)
  const { last, ...verdict } = joinRanges(anchor, [walk])
  if (!verdict.ok) return verdict
  return headProblems(await source.head?.(), last, verdict)
}

/** Walks the whole message log in order: chain links, sequence, proofs, signatures. Stops at the first bad record. */
export async function verifyStore (store: Pick<LogStore, 'anchor' | 'scan' | 'signature'> & Pick<ChainSource<StoredRecord>, 'signatures'>, opts: VerifyOptions = {}, pageSize = 1000, onProgress?: OnProgress): Promise<StoreVerdict> {
  return storeVerdict(await verifyChain<StoredRecord>(store, recordProblems, opts, pageSize, onProgress))
}

/** A chain verdict as the message log reports it: the first bad record named by its message id. */
export function storeVerdict (verdict: ChainVerdict<Pick<StoredRecord, 'messageId'>>): StoreVerdict {
  if (verdict.firstBad === undefined) return { ok: verdict.ok, records: verdict.records, signatures: verdict.signatures }
  const { seq, record, problems } = verdict.firstBad
  return { ok: false, records: verdict.records, signatures: verdict.signatures, firstBad: { seq, ...(record === undefined ? {} : { messageId: record.messageId }), problems } }
}
