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
import { chainGroup, contentFromValues, GENESIS_HASH, type NewRecord, type RecordFormat } from './record.ts'
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
/** Per entry: its sequence number, or why it could not be signed. */
export type WriteReply = { id: number; results: Array<number | string> } | { id: number; error: string }

function keyedEntry (w: WireEntry): KeyedEntry {
  const body = w[1]
  return { key: w[0], body: body === null ? null : Buffer.from(body.buffer, body.byteOffset, body.byteLength), content: contentFromValues(w, 2) }
}

function openWriter (file: string): (records: NewRecord[], leaves: Buffer[], signatures: BatchSignature[], format: RecordFormat) => number {
  const db = new DatabaseSync(file)
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;')
  const lastRecord = db.prepare('SELECT seq, hash FROM ura_log_records ORDER BY seq DESC LIMIT 1')
  const anchor = db.prepare("SELECT value FROM ura_log_meta WHERE key = 'anchor'")
  const insert = sqliteInserts(db)
  return (records, leaves, signatures, format) => {
    db.exec('BEGIN IMMEDIATE')
    try {
      const anchorRow = anchor.get() as { value: string } | undefined
      const last = lastRecord.get() as { seq: number; hash: unknown } | undefined
      const tail = (last === undefined ? undefined : { seq: last.seq, hash: unpackDigest(last.hash) as string }) ??
        (anchorRow === undefined ? undefined : JSON.parse(anchorRow.value) as ChainAnchor) ?? { seq: 0, hash: GENESIS_HASH }
      const stored = chainGroup(tail, records, leaves, format)
      const ranges = batchRanges(stored)
      for (const s of signatures) insert.signature(s, ranges.get(s.id) ?? null)
      for (const r of stored) insert.record(r)
      db.exec('COMMIT')
      insert.committed()
      return stored[0].seq
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK')
      insert.rolledBack()
      throw err
    }
  }
}

/** Commits a sealed group; entries that could not be signed are left out of the chain. */
function commitGroup (id: number, sealed: Sealed[], write: ReturnType<typeof openWriter>, format: RecordFormat): WriteReply {
  const order = storeOrder(sealed)
  const { records, leaves, signatures } = signedPart(sealed, order)
  const results = sealedResults(sealed, records.length === 0 ? 0 : write(records, leaves, signatures, format), order)
  return { id, results: results.map(r => typeof r === 'number' ? r : r.message) }
}

if (parentPort !== null && (workerData as { uraLogWriter?: string } | undefined)?.uraLogWriter !== undefined) {
  const port = parentPort
  const write = openWriter((workerData as { uraLogWriter: string }).uraLogWriter)
  const keys = new SealKeys()
  // Groups are signed as soon as they arrive (on libuv's pool, while this thread commits the group
  // before) and committed one at a time, in the order they came: the chain must not interleave.
  let previous = Promise.resolve()
  port.on('message', (req: WriteRequest) => {
    keys.learn(req.keys)
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
