/**
 * The embedded log's writer, run in a worker thread: `node:sqlite` is synchronous, and a commit
 * waits for fsync, so on the main thread every commit would stall all exchanges. Here the main thread
 * goes on handling requests (and gathering the next group) while this thread seals the group (leaf
 * hashes, Merkle trees, one batch signature per key: seal.ts), chains it, writes and syncs it, and
 * answers once for the whole group. The chain tail is read inside the write transaction, so even two
 * processes writing the same file keep one chain.
 */
import { DatabaseSync } from 'node:sqlite'
import { parentPort, workerData } from 'node:worker_threads'
import type { BatchSignature, SigningIdentity } from '../certs/batch-signer.ts'
import { chainGroup, contentFromValues, GENESIS_HASH, type NewRecord, type RecordFormat, type StoredRecord } from './record.ts'
import { DeferredBatches, type SignedBatch } from './deferred-batches.ts'
import { SealKeys, sealedResults, sealGroup, signedPart, storeOrder, type KeyedEntry, type Sealed } from './seal.ts'
import { unpackDigest } from './sqlite-columns.ts'
import { batchRanges, sqliteInserts } from './sqlite-insert.ts'
import type { ChainAnchor } from './store.ts'

/**
 * One entry as it crosses: its key's number, the body kept (or null), then the content's values in
 * their fixed order (contentValues) — an array clones cheaper than an object of named fields.
 */
export type WireEntry = [key: number, body: Uint8Array | null, ...content: unknown[]]

export interface WriteRequest {
  id: number
  /** Keys this group uses for the first time, by number. */
  keys: Array<[number, SigningIdentity]>
  entries: WireEntry[]
  /** Records under one signature at most (node.log.batchMax). */
  batchMax: number
  format: RecordFormat
}
/** Per entry: its sequence number, or why it could not be signed; `unsigned`: deferred signing's records awaiting their signature. */
export type WriteReply = { id: number; results: Array<number | string>; unsigned?: number } | { id: number; error: string }

function keyedEntry (w: WireEntry): KeyedEntry {
  const body = w[1]
  return { key: w[0], body: body === null ? null : Buffer.from(body.buffer, body.byteOffset, body.byteLength), content: contentFromValues(w, 2) }
}

/** What one transaction stores besides its records: batch signatures made after their records were (deferred signing). */
type Commit = (records: NewRecord[], leaves: Buffer[], signatures: BatchSignature[], format: RecordFormat, signed?: SignedBatch[]) => StoredRecord[]

function openWriter (file: string, deferred: boolean): Commit {
  const db = new DatabaseSync(file)
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;')
  const lastRecord = db.prepare('SELECT seq, hash FROM ura_log_records ORDER BY seq DESC LIMIT 1')
  const anchor = db.prepare("SELECT value FROM ura_log_meta WHERE key = 'anchor'")
  const insert = sqliteInserts(db)
  // A log once written with deferred signing may hold interleaved batches: pruning then looks for them (sqlite-store.ts).
  if (deferred) db.exec("INSERT OR IGNORE INTO ura_log_meta (key, value) VALUES ('deferred', 'true')")
  return (records, leaves, signatures, format, signed = []) => {
    db.exec('BEGIN IMMEDIATE')
    try {
      let stored: StoredRecord[] = []
      if (records.length > 0) {
        const anchorRow = anchor.get() as { value: string } | undefined
        const last = lastRecord.get() as { seq: number; hash: unknown } | undefined
        const tail = (last === undefined ? undefined : { seq: last.seq, hash: unpackDigest(last.hash) as string }) ??
          (anchorRow === undefined ? undefined : JSON.parse(anchorRow.value) as ChainAnchor) ?? { seq: 0, hash: GENESIS_HASH }
        stored = chainGroup(tail, records, leaves, format)
        const ranges = batchRanges(stored)
        for (const s of signatures) insert.signature(s, ranges.get(s.id) ?? null)
        // Deferred: each batch the group adds to is pending, from its first record on.
        if (deferred) for (const r of stored) if (ranges.get(r.signatureId)?.first === r.seq) insert.pending(r.signatureId, r.signer, r.seq)
      }
      for (const b of signed) {
        insert.signature(b.signature, b.range)
        insert.unpend(b.signature.id)
      }
      for (const r of stored) insert.record(r)
      db.exec('COMMIT')
      insert.committed()
      return stored
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK')
      insert.rolledBack()
      throw err
    }
  }
}

/** Commits a sealed group; entries that could not be signed are left out of the chain. */
function commitGroup (id: number, sealed: Sealed[], write: Commit, format: RecordFormat): WriteReply {
  const order = storeOrder(sealed)
  const { records, leaves, signatures } = signedPart(sealed, order)
  const results = sealedResults(sealed, records.length === 0 ? 0 : write(records, leaves, signatures, format)[0].seq, order)
  return { id, results: results.map(r => typeof r === 'number' ? r : r.message) }
}

/** What the writer thread is started with. */
export interface WriterData {
  uraLogWriter: string
  /** Deferred signing (deferred-batches.ts): a batch is signed this long after it opened. */
  deferredMs?: number
}

/** Messages besides groups: batches signed elsewhere to store (pending ones, at open), or a shutdown that signs the open batches. */
export type WriterControl = { id: number; signed: SignedBatch[] } | { id: number; close: true }

if (parentPort !== null && (workerData as Partial<WriterData> | undefined)?.uraLogWriter !== undefined) {
  const port = parentPort
  const data = workerData as WriterData
  const write = openWriter(data.uraLogWriter, data.deferredMs !== undefined)
  const keys = new SealKeys()
  // Groups are signed as soon as they arrive (on libuv's pool, while this thread commits the group
  // before) and committed one at a time, in the order they came: the chain must not interleave.
  let previous = Promise.resolve()
  // Deferred signing: batches signed and not stored yet go with the next commit, or on their own.
  let signed: SignedBatch[] = []
  const takeSigned = (): SignedBatch[] => { const s = signed; signed = []; return s }
  /** Stores the batches signed so far in a transaction of their own; on failure they wait for the next commit. */
  const storeSigned = (rethrow = false): void => {
    if (signed.length === 0) return
    const batches = takeSigned()
    try {
      write([], [], [], 2, batches)
      if (deferred !== undefined) {
        deferred.stored(batches)
        port.postMessage({ unsigned: deferred.unsigned })
      }
    } catch (err) {
      signed.unshift(...batches)
      if (rethrow) throw err
      port.postMessage({ warning: `the message log could not store batch signatures (kept for the next commit): ${(err as Error).message}` })
    }
  }
  const deferred = data.deferredMs === undefined
    ? undefined
    : new DeferredBatches({
      withinMs: data.deferredMs,
      keys,
      onSigned: batch => {
        signed.push(batch)
        previous = previous.then(() => { storeSigned() })
      },
      onFailed: err => { port.postMessage({ warning: err.message }) },
    })
  port.on('message', (req: WriteRequest | WriterControl) => {
    if ('signed' in req) {
      signed.push(...req.signed)
      previous = previous.then(() => {
        try {
          storeSigned(true)
          port.postMessage({ id: req.id, results: [] } satisfies WriteReply)
        } catch (err) {
          port.postMessage({ id: req.id, error: (err as Error).message } satisfies WriteReply)
        }
      })
      return
    }
    if ('close' in req) {
      previous = previous.then(async () => {
        await deferred?.closeAll()
        storeSigned()
        port.postMessage({ id: req.id, results: [] } satisfies WriteReply)
      })
      return
    }
    keys.learn(req.keys)
    if (deferred !== undefined) {
      const group = deferred.assign(req.entries.map(keyedEntry), req.batchMax)
      previous = previous.then(() => {
        let reply: WriteReply
        const batches = takeSigned()
        try {
          const stored = write(group.records, group.leaves, [], req.format, batches)
          deferred.committed(group, stored)
          deferred.stored(batches)
          reply = { id: req.id, results: stored.map(r => r.seq), unsigned: deferred.unsigned }
        } catch (err) {
          signed.unshift(...batches)
          deferred.failed(group)
          reply = { id: req.id, error: (err as Error).message }
        }
        port.postMessage(reply)
      })
      return
    }
    const sealing = sealGroup(req.entries.map(keyedEntry), keys, req.batchMax, req.format)
    previous = previous.then(async () => {
      let reply: WriteReply
      try {
        reply = commitGroup(req.id, await sealing, write, req.format)
      } catch (err) {
        reply = { id: req.id, error: (err as Error).message }
      }
      port.postMessage(reply)
    })
  })
  port.postMessage({ ready: true })
}
