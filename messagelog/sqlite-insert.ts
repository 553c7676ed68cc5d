/**
 * How a record and a batch signature (with the certificates it names) go into a database of the
 * embedded log's schema: the statements the writer thread commits groups with, and that an archive
 * file (archive.ts) is filled with — one row encoding for both.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import type { BatchSignature } from '../certs/batch-signer.ts'
import type { StoredRecord } from './record.ts'
import { packId, rowPacker } from './sqlite-columns.ts'
import { NameKeys } from './sqlite-names.ts'
import { packHeader, packValue } from './sqlite-signatures.ts'
import { certFingerprint, RECORD_COLUMNS, recordRow } from './store.ts'

const COLUMN_NAMES = RECORD_COLUMNS.map(c => c[1])

/** The first and last sequence numbers of a batch's records (format 2 keeps them in one run). */
export interface BatchRange { first: number; last: number }

export interface SqliteInserts {
  record (r: StoredRecord): void
  /**
   * The signature, with the run of records it signs, and each certificate of its chain, stored once
   * by fingerprint (a signature already held is kept).
   */
  signature (s: BatchSignature, range: BatchRange | null): void
  /** Sets each signature's run from the records the database holds (for signatures stored without one). */
  fillRanges (): void
  /** Deferred signing: a batch whose records are stored ahead of its signature, from its first record on (kept if listed already). */
  pending (id: string, signer: string, firstSeq: number): void
  /** Deferred signing: the batch's signature is stored, so it is no longer pending. */
  unpend (id: string): void
  /** The transaction the inserts ran in committed, or rolled back (names it added are forgotten). */
  committed (): void
  rolledBack (): void
}

/** The first and last sequence numbers of each batch among `records`. */
export function batchRanges (records: readonly StoredRecord[]): Map<string, BatchRange> {
  const ranges = new Map<string, BatchRange>()
  for (const r of records) {
    const range = ranges.get(r.signatureId)
    if (range === undefined) ranges.set(r.signatureId, { first: r.seq, last: r.seq })
    else {
      if (r.seq < range.first) range.first = r.seq
      if (r.seq > range.last) range.last = r.seq
    }
  }
  return ranges
}

/** The insert statements, prepared once on `db`; the caller holds the transaction. */
export function sqliteInserts (db: DatabaseSync): SqliteInserts {
  const insertRecord = db.prepare(`INSERT INTO ura_log_records (${COLUMN_NAMES.join(', ')}) VALUES (${COLUMN_NAMES.map(() => '?').join(', ')})`)
  const insertSignature = db.prepare('INSERT OR IGNORE INTO ura_log_signatures (id, header, value, chain, first_seq, last_seq) VALUES (?, ?, ?, ?, ?, ?)')
  const insertCert = db.prepare('INSERT OR IGNORE INTO ura_log_certificates (fingerprint, pem) VALUES (?, ?)')
  const names = new NameKeys(db)
  // Prepared when first used: an archive file never holds a pending batch.
  let insertPending: StatementSync | undefined
  let deletePending: StatementSync | undefined
  // Hashes, UUIDs, the time and names as bytes (sqlite-columns.ts).
  const pack = rowPacker(COLUMN_NAMES, names)
  return {
    record: r => { insertRecord.run(...(pack(recordRow(r)) as Array<string | number | null | Uint8Array>)) },
    signature: (s, range) => {
      const fingerprints = s.chain.map(pem => {
        const fp = certFingerprint(pem)
        insertCert.run(fp, pem)
        return fp
      })
      // Header, value and chain as bytes where they come back exactly (sqlite-signatures.ts).
      insertSignature.run(packId(s.id) as string | Uint8Array, packHeader(s.header, names) as string | Uint8Array, packValue(s.value) as string | Uint8Array,
        names.keyOf(fingerprints.join(',')) as string | Uint8Array, range?.first ?? null, range?.last ?? null)
    },
    fillRanges: () => {
      db.exec(`UPDATE ura_log_signatures SET first_seq = r.first, last_seq = r.last
        FROM (SELECT signature_id AS id, MIN(seq) AS first, MAX(seq) AS last FROM ura_log_records GROUP BY signature_id) r
        WHERE ura_log_signatures.id = r.id AND ura_log_signatures.first_seq IS NULL`)
    },
    pending: (id, signer, firstSeq) => {
      insertPending ??= db.prepare('INSERT OR IGNORE INTO ura_log_pending (id, signer, first_seq) VALUES (?, ?, ?)')
      insertPending.run(packId(id) as string | Uint8Array, signer, firstSeq)
    },
    unpend: id => {
      deletePending ??= db.prepare('DELETE FROM ura_log_pending WHERE id IN (?, ?)')
      deletePending.run(packId(id) as string | Uint8Array, id)
    },
    committed: () => { names.committed() },
    rolledBack: () => { names.rolledBack() },
  }
}
