/**
 * One message-log record (DESIGN §8) and the hashes that make the log tamper-evident:
 * - the record's **leaf**: SHA-512 Merkle leaf over its content in a fixed field order — what the
 *   batch signature covers (through the Merkle tree of its batch);
 * - the record's **chain hash**: SHA-512 over its sequence number, the previous record's chain hash,
 *   its leaf and its signature reference — so deleting, inserting or reordering records breaks the chain.
 * The body itself is outside the leaf; its digest is inside, so a logged body is checked against it.
 *
 * Two chain formats (docs/message-log.md, "Record formats"):
 * - **1** (records written before the lean format): the record stores its inclusion proof and the
 *   previous hash, and the chain hash is over a JSON text of all of them;
 * - **2** (every record written now): the chain hash is over bytes (seq, previous hash, leaf,
 *   signature id), nothing else is stored; a batch's records lie in leaf order, next to each other
 *   (or, signed deferred, in one run other keys' records interleave: deferred-batches.ts), so
 *   proofs are rebuilt from the batch when evidence asks for them, and a verification hashes each
 *   batch's tree once.
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
  /** The previous record's chain hash. Format 2 does not store it: '' as read from a scan, filled where a record is handed out whole (byMessageId). */
  prevHash: string
  hash: string
  /** 2 for the lean format (see the top of this file); absent for format 1. Format 2's proof is [] as read from a scan. */
  chain?: 2
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

const CHAIN_2 = Buffer.from('ura-chain/2\n', 'latin1')
/** Where format 2's chain input puts its parts: tag, seq (8 bytes), previous hash, leaf, then the signature id. */
const AT_SEQ = CHAIN_2.length
const AT_PREV = AT_SEQ + 8
const AT_LEAF = AT_PREV + 64
const AT_SIG = AT_LEAF + 64

/**
 * Format 2's chain hash: SHA-512 over `ura-chain/2\n` ‖ seq (64-bit big-endian) ‖ previous hash (64
 * bytes) ‖ leaf (64 bytes) ‖ the signature id (UTF-8). `into`: a buffer to build the input in (a
 * group reuses one); returned as bytes.
 */
export function chainHash2 (seq: number, prevHash: Buffer, leaf: Buffer, signatureId: string, into?: Buffer): Buffer {
  const idLength = Buffer.byteLength(signatureId)
  const input = into !== undefined && into.length >= AT_SIG + idLength ? into : Buffer.allocUnsafe(AT_SIG + idLength + 64)
  CHAIN_2.copy(input, 0)
  // A sequence number stays below 2^53: its high and low 32 bits, without a BigInt per record.
  input.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), AT_SEQ)
  input.writeUInt32BE(seq >>> 0, AT_SEQ + 4)
  prevHash.copy(input, AT_PREV, 0, 64)
  leaf.copy(input, AT_LEAF, 0, 64)
  input.write(signatureId, AT_SIG)
  return hash('sha512', input.subarray(0, AT_SIG + idLength), 'buffer')
}

/** A record's chain hash (base64) in its own format, after `prevHash` (base64). */
export function recordChainHash (r: Pick<StoredRecord, 'seq' | 'signatureId' | 'proof' | 'chain'>, prevHash: string, leaf: Buffer): string {
  return r.chain === 2
    ? chainHash2(r.seq, Buffer.from(prevHash, 'base64'), leaf, r.signatureId).toString('base64')
    : chainHash(r.seq, prevHash, leaf, r.signatureId, r.proof)
}

export function sha512 (data: Buffer | string): string {
  return hash('sha512', data, 'base64')
}

/** The record formats a store can write: 2, or 1 as earlier versions wrote it (LogStoreOptions.format). */
export type RecordFormat = 1 | 2

/**
 * Assigns sequence numbers and chain hashes to a group of records following `tail`: each record of
 * `group` becomes a stored record in place (a group is chained once, right before its insert).
 * `leaves`: the records' leaf hashes when the caller has them already (the group was just sealed).
 */
export function chainGroup (tail: { seq: number; hash: string }, group: NewRecord[], leaves?: Buffer[], format: RecordFormat = 2): StoredRecord[] {
  if (format === 1) return chainGroup1(tail, group, leaves)
  let seq = tail.seq
  let prevText = tail.hash
  let prev: Buffer = Buffer.from(prevText, 'base64')
  const input = Buffer.allocUnsafe(256)
  return group.map((r, i) => {
    seq += 1
    const stored = r as StoredRecord
    stored.seq = seq
    stored.chain = 2
    stored.prevHash = prevText
    prev = chainHash2(seq, prev, leaves?.[i] ?? recordLeaf(r), r.signatureId, input)
    stored.hash = prevText = prev.toString('base64')
    return stored
  })
}

function chainGroup1 (tail: { seq: number; hash: string }, group: NewRecord[], leaves?: Buffer[]): StoredRecord[] {
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
