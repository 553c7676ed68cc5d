/**
 * Checks on logged records, shared by `ura log verify` (a whole store) and evidence verification
 * (one exchange): body against its digest, the record's leaf to the signed root (through its proof,
 * or — in a walk over format 2 records — through its whole batch's tree), the right member's key,
 * and the chain hash.
 */
import type { BatchHeader, BatchSignature } from '../certs/batch-signer.ts'
import { rootFromProof, treeRoot, type ProofStep } from '../certs/merkle.ts'
import { BatchVerifier, type VerifyOptions } from '../certs/verifier.ts'
import { hashBefore, type ChainReads } from './complete.ts'
import { GENESIS_HASH, recordChainHash, recordLeaf, sha512, type StoredRecord } from './record.ts'
import type { ChainAnchor, LogStore } from './store.ts'
import { memberOf } from '../protocol/identifiers.ts'

/**
 * What a walk tells a record's own checks: the chain hash it follows (format 2 does not store it),
 * and whether its batch's root was checked already (from the whole batch, so it needs no proof).
 */
export interface RecordLink {
  prevHash: string
  rootChecked: boolean
  /** The record's leaf, when the walk hashed it already (for its batch's root). */
  leaf?: Buffer
}

/** Problems with one record given its batch's verified header; empty when it is sound. */
export function recordProblems (r: StoredRecord, header: BatchHeader, link?: RecordLink): string[] {
  const problems: string[] = []
  if (r.body !== null && sha512(r.body) !== r.bodyDigest) problems.push('the logged body does not match its digest')
  const expectedSigner = r.direction === 'request' ? memberOf(r.client) : memberOf(r.service)
  if (r.signer !== expectedSigner) problems.push(`a ${r.direction} must be signed by ${expectedSigner}, not ${r.signer}`)
  if (header.signer !== r.signer) problems.push(`the batch signature is by ${header.signer}, the record names ${r.signer}`)
  problems.push(...leafProblems(link?.leaf ?? recordLeaf(r), r, header, link))
  return problems
}

/**
 * The checks every chained, batch-signed record shares: its leaf through its proof to the signed
 * root (unless the walk checked the root from the whole batch), and its chain hash.
 */
export function leafProblems (leaf: Buffer, r: ChainedRecord & { proof: ProofStep[] }, header: BatchHeader, link: RecordLink = { prevHash: r.prevHash, rootChecked: false }): string[] {
  const problems: string[] = []
  if (!link.rootChecked) {
    let root: string | undefined
    try {
      root = rootFromProof(leaf, r.proof).toString('base64')
    } catch (err) {
      problems.push(`inclusion proof: ${(err as Error).message}`)
    }
    if (root !== undefined && root !== header.root) problems.push('the record is not covered by its batch signature (content, digest or proof altered)')
  }
  if (recordChainHash(r, link.prevHash, leaf) !== r.hash) problems.push('the record\'s chain hash does not match its content')
  return problems
}

/** A format 2 batch as the log holds it: the root of its records' tree and their sequence numbers. */
export interface BatchRoot { root: string; seqs: number[] }

/**
 * Why a format 2 batch, as held, is not what its signature covers — checked once per batch, at its
 * last record (so a record whose own chain hash fails is named first, itself); at once when the
 * batch cannot be read, or does not hold the record.
 */
export function batchProblems (batch: BatchRoot | undefined, header: BatchHeader, seq: number): string[] {
  if (batch === undefined || !batch.seqs.includes(seq)) return ['the records of its batch cannot be read']
  if (batch.seqs[batch.seqs.length - 1] !== seq) return []
  const problems: string[] = []
  const range = `records ${batch.seqs[0]}–${seq}`
  if (batch.seqs.length !== header.count) problems.push(`its batch signature covers ${header.count} records, the log holds ${batch.seqs.length} of them (${range})`)
  if (batch.root !== header.root) problems.push(`its batch (${range}) is not covered by its batch signature (a record of the batch was altered, removed, added or moved)`)
  return problems
}

/** A batch's root and sequence numbers from its records, each leaf hashed with `leafOf`. */
function batchRoot<R extends ChainedRecord> (records: R[], leafOf: (r: R) => Buffer): BatchRoot {
  return { root: treeRoot(records.map(leafOf)).toString('base64'), seqs: records.map(r => r.seq) }
}

/** Verifies batch signatures once each, remembering the outcome (and each certificate chain's checks). */
export class SignatureCache {
  private readonly done = new Map<string, BatchHeader | Error>()
  private readonly verifier: BatchVerifier
  constructor (opts: VerifyOptions) { this.verifier = new BatchVerifier(opts) }

  /** Whether the signature with this id was checked already (so need not be read again). */
  has (id: string): boolean { return this.done.has(id) }

  /** Forgets the outcome for this id (a signature found missing, then written meanwhile). */
  forget (id: string): void { this.done.delete(id) }

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
  /** Good records whose batch is still to be signed (deferred signing): chained and checked, but not yet signed. */
  awaiting?: number
  /** The first bad record and what is wrong with it. */
  firstBad?: { seq: number; messageId?: string; problems: string[] }
}

/** What a chain walk needs of a store: message log and audit trail alike. `chain`: 2 for a format 2 record (record.ts). */
export interface ChainedRecord { seq: number; prevHash: string; hash: string; signatureId: string; chain?: 2 }
export interface ChainSource<R extends ChainedRecord> {
  anchor (): Promise<ChainAnchor | undefined>
  scan (afterSeq: number, limit: number): Promise<R[]>
  signature (id: string): Promise<BatchSignature | undefined>
  /** Several signatures in one read, where the store can (a page's new signatures at once); missing ones are absent. */
  signatures? (ids: string[]): Promise<Map<string, BatchSignature>>
  /** The chain head the writer keeps, when it keeps one: a walk ending before it lost records at the end. */
  head? (): Promise<ChainAnchor | undefined>
  /** The records of one format 2 batch as the log holds them (a chain with format 2 records needs it, with leafOf). */
  batch? (signatureId: string): Promise<R[]>
  /** The last record held before a sequence number (a range walked alone starts from it with format 2 records). */
  recordBefore? (seq: number): Promise<ChainAnchor | undefined>
  /** A record's leaf (format 2 batches lying whole in a page are rebuilt from the page with it). */
  leafOf? (r: R): Buffer
  /** Deferred signing: the signer of a batch stored ahead of its signature, else undefined. */
  pendingSigner? (signatureId: string): Promise<string | undefined>
}

/** A record's own checks in a walk, given its batch's verified header and its link. */
export type ProblemsOf<R> = (r: R, header: BatchHeader, link: RecordLink) => string[]

export interface ChainVerdict<R> {
  ok: boolean
  records: number
  signatures: number
  /** Good records whose batch is pending (deferred signing). */
  awaiting?: number
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
  /** Of them, records whose batch is pending (deferred signing): checked but for their signature. */
  awaiting?: number
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
export async function verifyRange<R extends ChainedRecord> (source: Pick<ChainSource<R>, 'scan' | 'signature' | 'signatures' | 'batch' | 'recordBefore' | 'leafOf' | 'pendingSigner'> & Partial<Pick<ChainSource<R>, 'anchor'>>, problemsOf: ProblemsOf<R>, cache: SignatureCache, after: number, upTo: number, onProgress?: OnProgress, pageSize = 1000, start?: ChainAnchor): Promise<RangeWalk<R>> {
  const walk: RangeWalk<R> = { records: 0, signatureIds: [] }
  const sigIds = new Set<string>()
  /** Format 2 batches read so far (a batch's records lie together, so few are kept). */
  const batches = new Map<string, BatchRoot>()
  /**
   * Leaves of records further on, hashed when their batch was read whole (it went on past the page:
   * a large batch, or one signed deferred whose records other keys' records interleave), taken by
   * those records when the walk reaches them, so no leaf is hashed twice.
   */
  const ahead = new Map<number, Buffer>()
  let prev: ChainAnchor | undefined
  let cursor = after
  let awaiting = 0
  /** Pending batches (deferred signing) as a record's own checks see them: only their signer is known. */
  const pendingHeaders = new Map<string, BatchHeader | null>()
  const pendingHeader = async (id: string): Promise<BatchHeader | undefined> => {
    if (source.pendingSigner === undefined) return undefined
    let header = pendingHeaders.get(id)
    if (header === undefined) {
      const signer = await source.pendingSigner(id)
      header = signer === undefined ? null : { format: 'ura-batch/1', alg: 'ECDSA-P256-SHA256', signer, time: '', root: '', count: 0 }
      pendingHeaders.set(id, header)
    }
    return header ?? undefined
  }
  while (cursor < upTo) {
    // No more rows than the range can hold (fewer are read when some are missing).
    const page = await source.scan(cursor, Math.min(pageSize, upTo - cursor))
    if (page.length === 0) break
    let walked = 0
    const fresh = source.signatures === undefined ? [] : [...new Set(page.filter(r => !cache.has(r.signatureId)).map(r => r.signatureId))]
    const fetched = fresh.length === 0 ? undefined : await source.signatures!(fresh)
    const headerOf = async (id: string): Promise<BatchHeader> => cache.check(cache.has(id) ? undefined : fetched !== undefined ? fetched.get(id) : await source.signature(id), id)
    /** The verified header of a record's batch, or — its batch pending — one naming the signer only. */
    const batchHeader = async (id: string): Promise<{ header: BatchHeader; pending: boolean }> => {
      try {
        return { header: await headerOf(id), pending: false }
      } catch (err) {
        const pending = await pendingHeader(id)
        if (pending !== undefined) return { header: pending, pending: true }
        // Signed between the two reads (a node writing meanwhile): read it once more.
        const again = source.pendingSigner === undefined ? undefined : await source.signature(id)
        if (again === undefined) throw err
        cache.forget(id)
        return { header: cache.check(again, id), pending: false }
      }
    }
    if (batches.size > 4096) batches.clear()
    if (ahead.size > 1_000_000) ahead.clear()
    const leaves = source.leafOf === undefined ? undefined : await pageBatches(page, batches, headerOf, source.leafOf)
    const lean = [...new Set(page.filter(r => r.chain === 2 && !batches.has(r.signatureId)).map(r => r.signatureId))]
    if (source.batch !== undefined && source.leafOf !== undefined) {
      const leafOf = source.leafOf
      for (const id of lean) {
        const records = await source.batch(id)
        if (records.length > 0) batches.set(id, batchRoot(records, m => { const leaf = leafOf(m); ahead.set(m.seq, leaf); return leaf }))
      }
    }
    for (const r of page) {
      if (r.seq > upTo) break
      // Format 2 keeps the link inside the chain hash: the record is checked against the hash it follows here.
      const prevHash = r.chain !== 2 ? r.prevHash : prev?.hash ?? start?.hash ?? (source.recordBefore === undefined ? '' : await hashBefore(r.seq, source as ChainReads))
      const link = { seq: r.seq, prevHash }
      const problems = prev !== undefined ? linkProblems(prev, link, false) : start !== undefined ? linkProblems(start, link, true) : []
      // A leaf hashed ahead belongs to the record its batch read held at this seq: the same row as the page's.
      const early = ahead.get(r.seq)
      if (early !== undefined) ahead.delete(r.seq)
      try {
        const { header, pending } = await batchHeader(r.signatureId)
        const leaf = leaves?.get(r) ?? early
        if (pending) {
          // Checked as far as it can be before its batch is signed: its own fields and its chain hash.
          problems.push(...problemsOf(r, header, { prevHash, rootChecked: true, ...(leaf === undefined ? {} : { leaf }) }))
          if (problems.length === 0) awaiting++
        } else {
          sigIds.add(r.signatureId)
          problems.push(...problemsOf(r, header, { prevHash, rootChecked: r.chain === 2, ...(leaf === undefined ? {} : { leaf }) }))
          if (r.chain === 2) problems.push(...batchProblems(batches.get(r.signatureId), header, r.seq))
        }
      } catch (err) {
        problems.push(`signature: ${(err as Error).message}`)
      }
      if (prev === undefined) walk.first = { seq: r.seq, prevHash, record: r, problems, linked: start !== undefined, signatureIds: [...sigIds] }
      if (problems.length > 0) {
        if (prev !== undefined) walk.firstBad = { seq: r.seq, record: r, problems }
        walk.signatureIds = [...sigIds]
        walk.awaiting = awaiting
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
  walk.awaiting = awaiting
  return walk
}

/**
 * The format 2 batches that lie whole in a page — as many of their records as their signature
 * covers — rebuilt from it: no second read, and each leaf hashed once (returned by record, for the
 * record's own checks). A batch that goes on beyond the page is read whole by the source's `batch`.
 */
async function pageBatches<R extends ChainedRecord> (page: R[], batches: Map<string, BatchRoot>, headerOf: (id: string) => Promise<BatchHeader>, leafOf: (r: R) => Buffer): Promise<Map<R, Buffer>> {
  const runs = new Map<string, R[]>()
  for (const r of page) {
    if (r.chain !== 2 || batches.has(r.signatureId)) continue
    const run = runs.get(r.signatureId)
    if (run === undefined) runs.set(r.signatureId, [r])
    else run.push(r)
  }
  const leaves = new Map<R, Buffer>()
  for (const [id, members] of runs) {
    let header: BatchHeader
    try {
      header = await headerOf(id)
    } catch {
      continue // reported at the record
    }
    if (members.length !== header.count) continue
    batches.set(id, batchRoot(members, m => {
      const leaf = leafOf(m)
      leaves.set(m, leaf)
      return leaf
    }))
  }
  return leaves
}

/**
 * Joins ranges walked on their own, in order, into one verdict from the anchor: each range's first
 * record must follow the previous range's last; the first bad record of the whole chain wins.
 */
export function joinRanges<R> (anchor: ChainAnchor | undefined, walks: Array<RangeWalk<R>>): ChainVerdict<R> & { last: ChainAnchor } {
  let prev = anchor ?? { seq: 0, hash: GENESIS_HASH }
  let count = 0
  let awaiting = 0
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
    awaiting += w.awaiting ?? 0
    prev = w.last!
  }
  return { ok: true, records: count, signatures: sigIds.size, ...(awaiting > 0 ? { awaiting } : {}), last: prev }
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
export async function verifyChain<R extends ChainedRecord> (source: ChainSource<R>, problemsOf: ProblemsOf<R>, opts: VerifyOptions = {}, pageSize = 1000, onProgress?: OnProgress): Promise<ChainVerdict<R>> {
  const anchor = await source.anchor()
  const start = anchor ?? { seq: 0, hash: GENESIS_HASH }
  const walk = await verifyRange(source, problemsOf, new SignatureCache(opts), start.seq, Number.MAX_SAFE_INTEGER, onProgress, pageSize, start)
  const { last, ...verdict } = joinRanges(anchor, [walk])
  if (!verdict.ok) return verdict
  return headProblems(await source.head?.(), last, verdict)
}

/** Walks the whole message log in order: chain links, sequence, proofs, signatures. Stops at the first bad record. */
export async function verifyStore (store: Pick<LogStore, 'anchor' | 'scan' | 'signature' | 'batch'> & Pick<ChainSource<StoredRecord>, 'signatures' | 'pendingSigner'>, opts: VerifyOptions = {}, pageSize = 1000, onProgress?: OnProgress): Promise<StoreVerdict> {
  const source: ChainSource<StoredRecord> = {
    anchor: () => store.anchor(),
    scan: (after, limit) => store.scan(after, limit),
    signature: id => store.signature(id),
    ...(store.signatures === undefined ? {} : { signatures: (ids: string[]) => store.signatures!(ids) }),
    batch: id => store.batch(id),
    leafOf: recordLeaf,
    ...(store.pendingSigner === undefined ? {} : { pendingSigner: (id: string) => store.pendingSigner!(id) }),
  }
  return storeVerdict(await verifyChain<StoredRecord>(source, recordProblems, opts, pageSize, onProgress))
}

/** A chain verdict as the message log reports it: the first bad record named by its message id. */
export function storeVerdict (verdict: ChainVerdict<Pick<StoredRecord, 'messageId'>>): StoreVerdict {
  if (verdict.firstBad === undefined) return { ok: verdict.ok, records: verdict.records, signatures: verdict.signatures, ...(verdict.awaiting === undefined ? {} : { awaiting: verdict.awaiting }) }
  const { seq, record, problems } = verdict.firstBad
  return { ok: false, records: verdict.records, signatures: verdict.signatures, firstBad: { seq, ...(record === undefined ? {} : { messageId: record.messageId }), problems } }
}
