/**
 * The evidence of an exchange whose records may have been archived (`ura log evidence`): its records
 * from the archive files and the live log, each whole (its proof rebuilt from its batch, which an
 * archive holds whole), with the batch signatures they use — the document `ura verify` checks.
 */
import type { BatchSignature } from '../certs/batch-signer.ts'
import { openArchive, type ArchiveFile } from './archive-files.ts'
import { buildEvidence, type EvidenceDocument } from './evidence.ts'
import type { StoredRecord } from './record.ts'
import type { LogStore } from './store.ts'

/** Where records are looked up by message id: the live log, or an archive's reader. */
type RecordsByMessage = Pick<LogStore, 'byMessageId' | 'signature'>

/** The evidence document of `messageId`, or undefined when neither the archives nor the live log hold a record of it. */
export async function evidenceAcross (live: RecordsByMessage, files: ArchiveFile[], messageId: string): Promise<EvidenceDocument | undefined> {
  const records = new Map<number, StoredRecord>()
  const signatures = new Map<string, BatchSignature>()
  const gather = async (source: RecordsByMessage): Promise<void> => {
    for (const r of await source.byMessageId(messageId)) {
      // A record an interrupted archive run left in both places is the same record: taken once.
      if (records.has(r.seq)) continue
      records.set(r.seq, r)
      if (!signatures.has(r.signatureId)) {
        const sig = await source.signature(r.signatureId)
        if (sig !== undefined) signatures.set(r.signatureId, sig)
      }
    }
  }
  for (const file of files) {
    const archive = openArchive(file)
    try {
      await gather(archive.reader)
    } finally {
      await archive.reader.close()
    }
  }
  await gather(live)
  if (records.size === 0) return undefined
  return buildEvidence(messageId, [...records.values()].sort((a, b) => a.seq - b.seq), [...signatures.values()])
}
