/**
 * What the threads of `ura log verify` share (see verify-log.ts): the store's rows as a chain
 * source, the chunks the log is cut into, the counter from which threads claim them, and the
 * messages a verification thread sends.
 */
import type { BatchSignature } from '../certs/batch-signer.ts'
import type { ChainAnchor, LogLocation } from './store.ts'
import type { StoredRecord } from './record.ts'
import type { ChainSource, RangeWalk } from './verify.ts'
import { LogRow, rowLeaf } from './verify-rows.ts'

/** A store whose records can be read as rows (both stores can). */
export interface RowStore {
  scanRows (afterSeq: number, limit: number): Promise<unknown[][]>
  /** One batch signature's records as rows, in order. */
  batchRows (signatureId: string): Promise<unknown[][]>
  signature (id: string): Promise<BatchSignature | undefined>
  signatures? (ids: string[]): Promise<Map<string, BatchSignature>>
  anchor (): Promise<ChainAnchor | undefined>
  recordBefore (seq: number): Promise<ChainAnchor | undefined>
  pendingSigner? (signatureId: string): Promise<string | undefined>
}

/** What the main thread keeps of a record in a chunk's walk. */
export type WalkedRecord = Pick<StoredRecord, 'seq' | 'messageId'>

export interface ChunkJob {
  location: LogLocation
  /** PEM CA certificates to trust; absent: chains checked for consistency only. */
  anchors?: string[]
  /** The log to walk: (after, after + span], cut into `chunks` chunks. */
  after: number
  span: number
  chunks: number
  /** The shared counter (see ChunkClaims). */
  claims: SharedArrayBuffer
  pageSize: number
}
/** What a verification thread is sent once the log is open (it starts before: see VerifyWorkers). */
export interface WorkerJob { job: ChunkJob }
export type ChunkMessage = { progress: number } | { chunk: number; walk: RangeWalk<WalkedRecord> } | { finished: true }

/** A store's rows as a chain source for verifyRange. */
export function rowSource (store: RowStore): Pick<ChainSource<LogRow>, 'scan' | 'signature' | 'signatures' | 'batch' | 'anchor' | 'recordBefore' | 'leafOf' | 'pendingSigner'> {
  return {
    scan: async (after, limit) => (await store.scanRows(after, limit)).map(cols => new LogRow(cols)),
    signature: id => store.signature(id),
    ...(store.signatures === undefined ? {} : { signatures: (ids: string[]) => store.signatures!(ids) }),
    anchor: () => store.anchor(),
    recordBefore: seq => store.recordBefore(seq),
    leafOf: r => rowLeaf(r.cols),
    batch: async id => (await store.batchRows(id)).map(cols => new LogRow(cols)),
    ...(store.pendingSigner === undefined ? {} : { pendingSigner: (id: string) => store.pendingSigner!(id) }),
  }
}

/** The chunks of (after, after + span]: chunk i's bounds. */
export function chunkBounds (after: number, span: number, chunks: number, i: number): { after: number; upTo: number } {
  return { after: after + Math.floor(span * i / chunks), upTo: after + Math.floor(span * (i + 1) / chunks) }
}

/**
 * Claims chunks from a counter shared by all threads: [next chunk, first chunk found bad (or the
 * chunk count)]. Chunks are claimed in order, so when a chunk is found bad every earlier one is
 * already being walked.
 */
export class ChunkClaims {
  readonly shared: Int32Array
  constructor (shared: SharedArrayBuffer) { this.shared = new Int32Array(shared) }
  static create (chunks: number): ChunkClaims {
    const c = new ChunkClaims(new SharedArrayBuffer(8))
    c.shared[1] = chunks
    return c
  }

  /** The next chunk to walk, or -1 when none is left worth walking. */
  claim (): number {
    const i = Atomics.add(this.shared, 0, 1)
    return i < Atomics.load(this.shared, 1) ? i : -1
  }

  /** Chunk i holds a bad record: chunks after it need not be walked. */
  bad (i: number): void {
    for (let known = Atomics.load(this.shared, 1); i < known; known = Atomics.load(this.shared, 1)) {
      if (Atomics.compareExchange(this.shared, 1, known, i) === known) return
    }
  }
}

/** Whether a walk found a bad record (its first record's own problems included). */
export function walkFoundBad (walk: RangeWalk<unknown>): boolean {
  return walk.firstBad !== undefined || (walk.first !== undefined && walk.first.problems.length > 0)
}

