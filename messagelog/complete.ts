/**
 * Records handed out whole: a format 2 record (record.ts) stores neither its inclusion proof nor the
 * previous record's hash. Where a record leaves the log on its own — evidence documents, the admin
 * API's record view — both are filled in here: the proof rebuilt from the records of its batch (they
 * lie in leaf order, in one run of the log), the previous hash read from the record before it (or the
 * anchor pruning left, or the chain's start).
 */
import { buildTree } from '../certs/merkle.ts'
import { GENESIS_HASH, recordLeaf, type StoredRecord } from './record.ts'
import type { ChainAnchor, LogStore } from './store.ts'

export type RecordSource = Pick<LogStore, 'batch' | 'recordBefore' | 'anchor'>

/** The reads hashBefore makes: the record before a sequence number, and the anchor where the source has one. */
export interface ChainReads {
  recordBefore (seq: number): Promise<ChainAnchor | undefined>
  anchor? (): Promise<ChainAnchor | undefined>
}

/** Fills in format 2 records' proofs and previous hashes, in place; format 1 records are whole already. */
export async function completeRecords (records: StoredRecord[], source: RecordSource): Promise<StoredRecord[]> {
  const proofs = new Map<string, Map<number, StoredRecord['proof']>>()
  for (const r of records) {
    if (r.chain !== 2) continue
    let batch = proofs.get(r.signatureId)
    if (batch === undefined) {
      const members = await source.batch(r.signatureId)
      const tree = buildTree(members.map(recordLeaf))
      batch = new Map(members.map((m, i) => [m.seq, tree.proofs[i]]))
      proofs.set(r.signatureId, batch)
    }
    // Absent only if the batch was read without this record (it cannot then be shown to be signed).
    r.proof = batch.get(r.seq) ?? []
    r.prevHash = await hashBefore(r.seq, source)
  }
  return records
}

/**
 * The chain hash the record at `seq` follows, as a walk of the whole log would take it: the hash of
 * the record held before it (its predecessor, unless records are missing), else the anchor's, else
 * the chain's start.
 */
export async function hashBefore (seq: number, source: ChainReads): Promise<string> {
  const before = await source.recordBefore(seq)
  if (before !== undefined) return before.hash
  return (await source.anchor?.())?.hash ?? GENESIS_HASH
}
