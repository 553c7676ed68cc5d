/**
 * One message-log record (DESIGN §8) and the hashes that make the log tamper-evident:
 * - the record's **leaf**: SHA-512 Merkle leaf over its content in a fixed field order — what the
 *   batch signature covers (through the inclusion proof);
 * - the record's **chain hash**: SHA-512 over its sequence number, the previous record's chain hash,
 *   its leaf and its signature reference — so deleting, inserting or reordering records breaks the chain.
 * The body itself is outside the leaf; its digest is inside, so a logged body is checked against it.
 */
import { hash } from 'node:crypto'
import { leafHash, type ProofStep } from '../certs/merkle.ts'

export type Direction = 'request' | 'response'

/** The signed part of a record. Absent optional values are `null`, never missing, so the form is fixed. */
export interface RecordContent {
  time: string
  direction: Direction
  protocol: 'rest' | 'soap'
  messageId: string
  requestId: string
  client: string
  service: string
  userId: string | null
  issue: string | null
  representedParty: string | null
  /** REST: method and service-relative path with query. */
  method: string | null
  path: string | null
  /** Response: HTTP status the provider answered with. */
  status: number | null
  /** Response: the SOAP fault code when the provider answered with a Fault. */
  fault: string | null
  /** X-Road request hash that binds the response to the request. */
  requestHash: string | null
  /** Base64 SHA-512 of the header part (see recorder), and of the body bytes. */
  headersDigest: string
  bodyDigest: string
  /** Member id whose key signs this record: the client's member for a request, the provider's for a response. */
  signer: string
}

/** A record ready to append: content, the body where the service logs bodies, the signature and proof. */
export interface NewRecord extends RecordContent {
  body: Buffer | null
  signatureId: string
  proof: ProofStep[]
}

export interface StoredRecord extends NewRecord {
  seq: number
  prevHash: string
  hash: string
}

/** Chain hash before the first record. */
export const GENESIS_HASH = Buffer.alloc(64).toString('base64')

export const CONTENT_FIELDS = [
  'time', 'direction', 'protocol', 'messageId', 'requestId', 'client', 'service', 'userId', 'issue',
  'representedParty', 'method', 'path', 'status', 'fault', 'requestHash', 'headersDigest', 'bodyDigest', 'signer',
] as const satisfies ReadonlyArray<keyof RecordContent>

/** The exact text the leaf hashes: a JSON array of the content fields in their fixed order. */
export function contentText (r: RecordContent): string {
  return JSON.stringify(['ura-record/1', ...CONTENT_FIELDS.map(f => r[f] ?? null)])
}

/** The content's values in the fixed field order: the compact form a record crosses to the log's thread in. */
export function contentValues (r: RecordContent): unknown[] {
  const out = new Array<unknown>(CONTENT_FIELDS.length)
  for (let i = 0; i < CONTENT_FIELDS.length; i++) out[i] = r[CONTENT_FIELDS[i]] ?? null
  return out
}

/** The content back from its values (contentValues), starting at `from` in `values`. */
export function contentFromValues (values: unknown[], from = 0): RecordContent {
  const r: Record<string, unknown> = {}
  for (let i = 0; i < CONTENT_FIELDS.length; i++) r[CONTENT_FIELDS[i]] = values[from + i]
  return r as unknown as RecordContent
}

export function recordLeaf (r: RecordContent): Buffer {
  return leafHash(contentText(r))
}

export function chainHash (seq: number, prevHash: string, leaf: Buffer, signatureId: string, proof: ProofStep[]): string {
  return hash('sha512', JSON.stringify(['ura-chain/1', seq, prevHash, leaf.toString('base64'), signatureId, proof]), 'base64')
}

export function sha512 (data: Buffer | string): string {
  return hash('sha512', data, 'base64')
}

/**
 * Assigns sequence numbers and chain hashes to a group of records following `tail`: each record of
 * `group` becomes a stored record in place (a group is chained once, right before its insert).
 * `leaves`: the records' leaf hashes when the caller has them already (the group was just sealed).
 */
export function chainGroup (tail: { seq: number; hash: string }, group: NewRecord[], leaves?: Buffer[]): StoredRecord[] {
  let { seq, hash } = tail
  return group.map((r, i) => {
    seq += 1
    const stored = r as StoredRecord
    stored.seq = seq
    stored.prevHash = hash
    stored.hash = hash = chainHash(seq, hash, leaves?.[i] ?? recordLeaf(r), r.signatureId, r.proof)
    return stored
  })
}
