/**
 * The embedded log's writer, run in a worker thread: `node:sqlite` is synchronous, and a commit
 * waits for fsync, so on the main thread every commit would stall all exchanges. Here the main thread
 * goes on handling requests (and gathering the next group) while this thread writes and syncs.
 * The chain tail is read inside the write transaction, so even two processes writing the same file
 * keep one chain.
 */
import { DatabaseSync } from 'node:sqlite'
import { parentPort, workerData } from 'node:worker_threads'
import type { BatchSignature } from '../certs/batch-signer.ts'
import { chainGroup, GENESIS_HASH, type NewRecord } from './record.ts'
import { certFingerprint, RECORD_COLUMNS, recordRow, type ChainAnchor } from './store.ts'

export interface WriteRequest { id: number; records: NewRecord[]; signatures: BatchSignature[] }
/** Only what the main thread does not know yet: sequence numbers and chain hashes. */
export interface ChainEntry { seq: number; prevHash: string; hash: string }
export type WriteReply = { id: number; chain: ChainEntry[] } | { id: number; error: string }

function openWriter (file: string): (req: WriteRequest) => ChainEntry[] {
  const db = new DatabaseSync(file)
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;')
  const lastRecord = db.prepare('SELECT seq, hash FROM ura_log_records ORDER BY seq DESC LIMIT 1')
  const anchor = db.prepare("SELECT value FROM ura_log_meta WHERE key = 'anchor'")
  const insertRecord = db.prepare(`INSERT INTO ura_log_records (${RECORD_COLUMNS.map(c => c[1]).join(', ')}) VALUES (${RECORD_COLUMNS.map(() => '?').join(', ')})`)
  const insertSignature = db.prepare('INSERT OR IGNORE INTO ura_log_signatures (id, header, value, chain) VALUES (?, ?, ?, ?)')
  const insertCert = db.prepare('INSERT OR IGNORE INTO ura_log_certificates (fingerprint, pem) VALUES (?, ?)')
  return ({ records, signatures }) => {
    db.exec('BEGIN IMMEDIATE')
    try {
      const anchorRow = anchor.get() as { value: string } | undefined
      const tail = (lastRecord.get() as ChainAnchor | undefined) ?? (anchorRow === undefined ? undefined : JSON.parse(anchorRow.value) as ChainAnchor) ?? { seq: 0, hash: GENESIS_HASH }
      const stored = chainGroup(tail, records)
      for (const s of signatures) {
        const fingerprints = s.chain.map(pem => {
          const fp = certFingerprint(pem)
          insertCert.run(fp, pem)
          return fp
        })
        insertSignature.run(s.id, s.header, s.value, fingerprints.join(','))
      }
      for (const r of stored) insertRecord.run(...(recordRow(r) as Array<string | number | null | Uint8Array>))
      db.exec('COMMIT')
      return stored.map(r => ({ seq: r.seq, prevHash: r.prevHash, hash: r.hash }))
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK')
      throw err
    }
  }
}

if (parentPort !== null && (workerData as { uraLogWriter?: string } | undefined)?.uraLogWriter !== undefined) {
  const port = parentPort
  const write = openWriter((workerData as { uraLogWriter: string }).uraLogWriter)
  port.on('message', (req: WriteRequest) => {
    let reply: WriteReply
    try {
      reply = { id: req.id, chain: write(req) }
    } catch (err) {
      reply = { id: req.id, error: (err as Error).message }
    }
    port.postMessage(reply)
  })
  port.postMessage({ ready: true })
}
