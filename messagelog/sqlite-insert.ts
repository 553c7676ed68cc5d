/**
 * How a record and a batch signature (with the certificates it names) go into a database of the
 * embedded log's schema: the statements the writer thread commits groups with, and that an archive
 * file (archive.ts) is filled with — one row encoding for both.
 */
import type { DatabaseSync } from 'node:sqlite'
import type { BatchSignature } from '../certs/batch-signer.ts'
import type { StoredRecord } from './record.ts'
import { packId, packRow } from './sqlite-columns.ts'
import { certFingerprint, RECORD_COLUMNS, recordRow } from './store.ts'

const COLUMN_NAMES = RECORD_COLUMNS.map(c => c[1])

export interface SqliteInserts {
  record (r: StoredRecord): void
  /** The signature and each certificate of its chain, stored once by fingerprint (a signature already held is kept). */
  signature (s: BatchSignature): void
}

/** The insert statements, prepared once on `db`; the caller holds the transaction. */
export function sqliteInserts (db: DatabaseSync): SqliteInserts {
  const insertRecord = db.prepare(`INSERT INTO ura_log_records (${COLUMN_NAMES.join(', ')}) VALUES (${COLUMN_NAMES.map(() => '?').join(', ')})`)
  const insertSignature = db.prepare('INSERT OR IGNORE INTO ura_log_signatures (id, header, value, chain) VALUES (?, ?, ?, ?)')
  const insertCert = db.prepare('INSERT OR IGNORE INTO ura_log_certificates (fingerprint, pem) VALUES (?, ?)')
  return {
    // Hashes and UUIDs as bytes (sqlite-columns.ts).
    record: r => { insertRecord.run(...(packRow(recordRow(r), COLUMN_NAMES) as Array<string | number | null | Uint8Array>)) },
    signature: s => {
      const fingerprints = s.chain.map(pem => {
        const fp = certFingerprint(pem)
        insertCert.run(fp, pem)
        return fp
      })
      insertSignature.run(packId(s.id) as string | Uint8Array, s.header, s.value, fingerprints.join(','))
    },
  }
}
