/**
 * Evidence documents (DESIGN §7): everything needed to prove an exchange offline — its request and
 * response records (bodies where they were logged), each record's inclusion proof, the batch
 * signatures and the signers' certificate chains. `verifyEvidence` needs only the document and the
 * CA certificates.
 */
import type { BatchSignature } from '../certs/batch-signer.ts'
import type { TrustStore } from '../certs/trust-store.ts'
import type { ProofStep } from '../certs/merkle.ts'
import type { RecordContent, StoredRecord } from './record.ts'
import type { LogStore } from './store.ts'
import { recordProblems, SignatureCache } from './verify.ts'

export interface EvidenceRecord extends RecordContent {
  seq: number
  prevHash: string
  hash: string
  /** Base64 body where the service logs bodies, else null (only the digest is kept). */
  body: string | null
  signatureId: string
  proof: ProofStep[]
  /** 2: a record of the lean format, its chain hash over bytes (record.ts); absent: format 1. */
  chain?: 2
}

/**
 * `ura-evidence/2` holds at least one format 2 record (its proof rebuilt from its batch when the
 * document was made); `ura-evidence/1` only format 1 records, as earlier versions made them.
 */
export type EvidenceFormat = 'ura-evidence/1' | 'ura-evidence/2'

export interface EvidenceDocument {
  format: EvidenceFormat
  messageId: string
  records: EvidenceRecord[]
  signatures: BatchSignature[]
}

/**
 * The batch signatures `records` name, as the store holds them; `pending`: the batches not signed
 * yet (deferred signing: their records are stored, their signature follows within
 * node.log.signWithinMs) — no document can prove those records until then.
 */
export async function signaturesOf (store: Pick<LogStore, 'signature' | 'pendingSigner'>, records: Array<Pick<StoredRecord, 'signatureId'>>): Promise<{ signatures: BatchSignature[]; pending: string[] }> {
  const signatures: BatchSignature[] = []
  const pending: string[] = []
  for (const id of new Set(records.map(r => r.signatureId))) {
    const sig = await store.signature(id)
    if (sig !== undefined) signatures.push(sig)
    else if (await store.pendingSigner?.(id) !== undefined) pending.push(id)
  }
  return { signatures, pending }
}

/** The document for `records`, which must be whole (byMessageId gives them so: proofs and previous hashes filled in). */
export function buildEvidence (messageId: string, records: StoredRecord[], signatures: BatchSignature[]): EvidenceDocument {
  return {
    format: records.some(r => r.chain === 2) ? 'ura-evidence/2' : 'ura-evidence/1',
    messageId,
    records: records.map(r => ({ ...r, body: r.body === null ? null : r.body.toString('base64') })),
    signatures,
  }
}

export interface EvidenceVerdict {
  ok: boolean
  problems: string[]
  /** One line per verified record: what it proves. */
  verified: string[]
}

/** Verifies an evidence document offline against the trusted CAs (`anchorsOnly(caPems)`). */
export function verifyEvidence (doc: unknown, trust: TrustStore): EvidenceVerdict {
  const problems: string[] = []
  const verified: string[] = []
  const d = doc as Partial<EvidenceDocument>
  if (d === null || typeof d !== 'object' || (d.format !== 'ura-evidence/1' && d.format !== 'ura-evidence/2') || !Array.isArray(d.records) || !Array.isArray(d.signatures)) {
    return { ok: false, problems: ['not an ura evidence document (format ura-evidence/1 or ura-evidence/2)'], verified }
  }
  if (d.records.length === 0) problems.push('the document holds no records')
  const sigs = new Map(d.signatures.map(s => [s.id, s]))
  const cache = new SignatureCache({ trust })
  for (const er of d.records) {
    const where = `record ${er.seq} (${er.direction} ${er.messageId})`
    if (er.messageId !== d.messageId) problems.push(`${where}: belongs to message ${er.messageId}, not ${d.messageId}`)
    if (er.chain !== undefined && (er.chain !== 2 || d.format !== 'ura-evidence/2')) { problems.push(`${where}: record format ${String(er.chain)} does not belong in a document of format ${d.format}`); continue }
    let record: StoredRecord
    try {
      record = { ...er, body: er.body === null ? null : Buffer.from(er.body, 'base64') }
      const header = cache.check(sigs.get(er.signatureId), er.signatureId)
      const bad = recordProblems(record, header)
      if (bad.length > 0) { problems.push(...bad.map(p => `${where}: ${p}`)); continue }
      verified.push(`${where}: ${er.client} → ${er.service}, signed by ${header.signer} (${header.alg}) at ${header.time}${er.body === null ? ', body digest only' : ', body included'}`)
    } catch (err) {
      problems.push(`${where}: signature: ${(err as Error).message}`)
    }
  }
  // A response proves something only together with the request it answers.
  for (const res of d.records.filter(r => r.direction === 'response')) {
    const req = d.records.find(r => r.direction === 'request' && r.requestId === res.requestId)
    if (req === undefined) problems.push(`record ${res.seq}: the request it answers (${res.requestId}) is not in the document`)
    else if (req.requestHash !== res.requestHash) problems.push(`record ${res.seq}: its request hash does not match the request's`)
  }
  return { ok: problems.length === 0, problems, verified }
}
