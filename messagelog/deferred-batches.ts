/**
 * Deferred signing (node.log.signing: deferred; docs/message-log.md, "Deferred signing"), in the
 * embedded log's writer thread. A record is chained and made durable before its exchange goes on,
 * as always, but its batch signature comes later: each signing key keeps one open batch, whose id
 * the records name (it is inside their chain hashes) as they are stored, and which is signed
 * `withinMs` after it opened, or once it holds node.log.batchMax records. Its signature row is written with
 * the next commit (or on its own when none comes). Until then the batch is listed as pending
 * (`ura_log_pending`: its id, signer and first record), so a verification tells a record awaiting
 * its signature from one whose signature is missing, and a node that stopped before signing signs
 * its pending batches when it next opens the log (SqliteLogStore.signPending).
 *
 * A batch's records keep the leaf order of its tree, and lie in one run of sequence numbers that
 * other keys' records may interleave (the signature keeps the run: sqlite-insert.ts).
 */
import { signLeaves, timeOrderedId, type BatchSignature } from '../certs/batch-signer.ts'
import { recordLeaf, type NewRecord, type StoredRecord } from './record.ts'
import type { KeyedEntry, SealKeys } from './seal.ts'
import type { BatchRange } from './sqlite-insert.ts'

/**
 * A batch signed after its records were stored: the signature and the run of records it covers;
 * `records`: how many, for a batch of this process's writer (counted in DeferredBatches.unsigned).
 */
export interface SignedBatch { signature: BatchSignature; range: BatchRange; records?: number }

interface OpenBatch {
  id: string
  key: number
  signer: string
  /** The leaves of its stored records, in sequence order. */
  leaves: Buffer[]
  range: BatchRange | undefined
  /** Records handed to it: stored, or in groups not committed yet. */
  assigned: number
  uncommitted: number
  /** It takes no more records: signed once its uncommitted records are stored. */
  closing: boolean
  timer: NodeJS.Timeout | undefined
}

/** A group's entries as deferred signing stores them: records naming their open batch, their leaves, and each one's batch. */
export interface AssignedGroup {
  records: NewRecord[]
  leaves: Buffer[]
  batches: OpenBatch[]
}

export class DeferredBatches {
  private readonly open = new Map<string, OpenBatch>()
  /** Records stored whose signature is not stored yet (`ura_queue_depth{queue="unsigned"}`). */
  unsigned = 0
  private readonly signing = new Set<Promise<void>>()
  private readonly withinMs: number
  private readonly keys: SealKeys
  private readonly onSigned: (batch: SignedBatch) => void
  private readonly onFailed: (err: Error) => void

  constructor (opts: { withinMs: number; keys: SealKeys; onSigned (batch: SignedBatch): void; onFailed (err: Error): void }) {
    this.withinMs = opts.withinMs
    this.keys = opts.keys
    this.onSigned = opts.onSigned
    this.onFailed = opts.onFailed
  }

  /** Hands each entry to its key's open batch (opening one where needed), in the order given; a batch closes at `batchMax` records. */
  assign (entries: KeyedEntry[], batchMax: number): AssignedGroup {
    const group: AssignedGroup = { records: [], leaves: [], batches: [] }
    for (const e of entries) {
      const name = `${e.key} ${e.content.signer}`
      let batch = this.open.get(name)
      if (batch === undefined || batch.closing) {
        batch = { id: timeOrderedId(), key: e.key, signer: e.content.signer, leaves: [], range: undefined, assigned: 0, uncommitted: 0, closing: false, timer: undefined }
        const opened = batch
        batch.timer = setTimeout(() => { this.close(name, opened) }, this.withinMs)
        this.open.set(name, batch)
      }
      batch.assigned++
      batch.uncommitted++
      if (batch.assigned >= batchMax) this.close(name, batch)
      group.records.push({ ...e.content, body: e.body, signatureId: batch.id, proof: [] })
      group.leaves.push(recordLeaf(e.content))
      group.batches.push(batch)
    }
    return group
  }

  /** The group was stored as `stored` (in the order assigned): its leaves join their batches. */
  committed (group: AssignedGroup, stored: StoredRecord[]): void {
    this.unsigned += stored.length
    stored.forEach((r, i) => {
      const batch = group.batches[i]
      batch.leaves.push(group.leaves[i])
      if (batch.range === undefined) batch.range = { first: r.seq, last: r.seq }
      else batch.range.last = r.seq
    })
    this.settle(group)
  }

  /** The group could not be stored: its records leave their batches (a batch with none stored is dropped when it closes). */
  failed (group: AssignedGroup): void {
    for (const batch of group.batches) batch.assigned--
    this.settle(group)
  }

  private settle (group: AssignedGroup): void {
    for (const batch of group.batches) {
      batch.uncommitted--
      if (batch.closing && batch.uncommitted === 0) this.sign(batch)
    }
  }

  /** The batches' signatures are stored: their records no longer await them. */
  stored (batches: SignedBatch[]): void {
    for (const b of batches) this.unsigned -= b.records ?? 0
  }

  /** Closes every open batch (shutdown) and waits until all are signed and handed to onSigned. */
  async closeAll (): Promise<void> {
    for (const [name, batch] of [...this.open]) this.close(name, batch)
    while (this.signing.size > 0) await Promise.all([...this.signing])
  }

  private close (name: string, batch: OpenBatch): void {
    if (batch.closing) return
    batch.closing = true
    clearTimeout(batch.timer)
    if (this.open.get(name) === batch) this.open.delete(name)
    if (batch.uncommitted === 0) this.sign(batch)
  }

  private sign (batch: OpenBatch): void {
    if (batch.leaves.length === 0 || batch.range === undefined) return
    const range = batch.range
    const signing = (async () => {
      try {
        const identity = this.keys.identity(batch.key)
        if (identity === undefined) throw new Error(`no signing key number ${batch.key} for member ${batch.signer}`)
        const { signature } = await signLeaves(batch.signer, identity, batch.leaves, true, false, batch.id)
        this.onSigned({ signature, range, records: batch.leaves.length })
      } catch (err) {
        // The batch stays pending: the node signs it when it next opens the log.
        this.onFailed(new Error(`batch ${batch.id} of ${batch.signer} (records ${range.first}–${range.last}) could not be signed: ${(err as Error).message}`))
      }
    })()
    this.signing.add(signing)
    void signing.finally(() => this.signing.delete(signing))
  }
}

/** The batches whose records are stored and whose signature is not yet (the embedded log's schema). */
export const PENDING_TABLE = 'CREATE TABLE IF NOT EXISTS ura_log_pending (id BLOB PRIMARY KEY, signer TEXT NOT NULL, first_seq INTEGER NOT NULL);'
