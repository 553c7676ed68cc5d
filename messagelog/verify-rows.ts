/**
 * `ura log verify`'s per-record checks, made straight on the rows a scan reads (the RECORD_COLUMNS,
 * as arrays), without building a StoredRecord: the same checks as recordProblems, computed cheaply.
 *
 * - The leaf and the chain hash are hashed from texts built off the row; the proof is not parsed
 *   but read in place when its text has the exact form the writer gives it (JSON of `["L"|"R",
 *   <88 base64 characters>]` steps, which JSON.stringify of the parsed proof reproduces unchanged).
 * - The records of one batch share the upper part of their Merkle tree. Each node a proof is folded
 *   through is remembered, per batch, with the rest of that proof's text, once the fold reached the
 *   batch's signed root — and so is each sibling, with its step turned round (the sibling and the
 *   node have the same parent). A later record whose fold meets a remembered node with the very
 *   same rest of the proof reaches that root too, so the fold stops there: a batch's tree is so
 *   hashed about once, node by node, instead of once per record and level. A tampered step gives
 *   another node, or another rest of the proof, and the fold goes on to the root, where it fails.
 *
 * This path only ever concludes that a record is sound. Whenever a check does not pass (or the row
 * holds anything the writer never writes), the record is checked again the ordinary way — object,
 * parsed proof, recordProblems — so a bad record is reported exactly as verifyStore reports it.
 */
import { hash } from 'node:crypto'
import type { BatchHeader } from '../certs/batch-signer.ts'
import { buildTree, leafHash } from '../certs/merkle.ts'
import { memberOf } from '../protocol/identifiers.ts'
import { chainHash, chainHash2, CONTENT_FIELDS, contentText, recordLeaf, type RecordContent, type StoredRecord } from './record.ts'
import { arrayRecord, RECORD_COLUMNS } from './store.ts'
import { recordProblems, type ChainedRecord, type RecordLink } from './verify.ts'

const column = (field: keyof StoredRecord): number => RECORD_COLUMNS.findIndex(c => c[0] === field)
const SEQ = column('seq')
const DIRECTION = column('direction')
const MESSAGE_ID = column('messageId')
const CLIENT = column('client')
const SERVICE = column('service')
const STATUS = column('status')
const BODY_DIGEST = column('bodyDigest')
const SIGNER = column('signer')
const BODY = column('body')
const SIGNATURE_ID = column('signatureId')
const PROOF = column('proof')
const PREV_HASH = column('prevHash')
const HASH = column('hash')
/** The columns of the leaf's content text, in its order (record.ts); checked against contentText below. */
const CONTENT = CONTENT_FIELDS.map(column)

/** One scanned row as the chain walk sees it: its links read in place. */
export class LogRow implements ChainedRecord {
  readonly cols: unknown[]
  constructor (cols: unknown[]) { this.cols = cols }
  get seq (): number { return Number(this.cols[SEQ]) }
  get prevHash (): string { return this.cols[PREV_HASH] as string }
  get hash (): string { return this.cols[HASH] as string }
  get signatureId (): string { return this.cols[SIGNATURE_ID] as string }
  get messageId (): string { return this.cols[MESSAGE_ID] as string }
  /** Format 2 (record.ts) stores '' for the proof. */
  get chain (): 2 | undefined { return this.cols[PROOF] === '' ? 2 : undefined }
}

/** The leaf's content text from a row: contentText of the record arrayRecord would build. */
function rowContentText (row: unknown[]): string {
  const values: unknown[] = ['ura-record/1']
  for (const i of CONTENT) values.push(i === STATUS && row[i] !== null ? Number(row[i]) : row[i] ?? null)
  return JSON.stringify(values)
}

/** Characters of one step of a proof's text and its comma: step j starts at 1 + STEP·j, its sibling 6 characters in. */
const STEP = 97
const L = 'L'.charCodeAt(0)
const R = 'R'.charCodeAt(0)
const QUOTE = '"'.charCodeAt(0)
const COMMA = ','.charCodeAt(0)
const OPEN = '['.charCodeAt(0)
const CLOSE = ']'.charCodeAt(0)

/** Whether step j of a proof's text, at `at`, is framed as JSON.stringify writes it: `["L"|"R","` … `"]` and a comma unless last. */
function framed (proof: string, at: number, last: boolean): boolean {
  const side = proof.charCodeAt(at + 2)
  return proof.charCodeAt(at) === OPEN && proof.charCodeAt(at + 1) === QUOTE && (side === L || side === R) && proof.charCodeAt(at + 3) === QUOTE &&
    proof.charCodeAt(at + 4) === COMMA && proof.charCodeAt(at + 5) === QUOTE && proof.charCodeAt(at + 94) === QUOTE && proof.charCodeAt(at + 95) === CLOSE &&
    (last || proof.charCodeAt(at + 96) === COMMA)
}

/**
 * Whether the row-based texts are the definitions' texts (record.ts): a record with a distinct value
 * in every field, hashed both ways. Were the record format to change, the fast path turns itself off.
 */
function agreesWithDefinitions (): boolean {
  const proof = [['R', Buffer.alloc(64, 7).toString('base64')], ['L', Buffer.alloc(64, 9).toString('base64')]] as StoredRecord['proof']
  const r = Object.fromEntries(RECORD_COLUMNS.map(([f], i) => [f, `v${i}"\u00e9`])) as unknown as StoredRecord
  Object.assign(r, { seq: 12, status: 204, userId: null, body: null, proof })
  const row = RECORD_COLUMNS.map(([f]) => f === 'proof' ? JSON.stringify(proof) : r[f])
  const leaf = recordLeaf(r)
  return rowContentText(row) === contentText(r as RecordContent) && leafText(row) === leaf.toString('base64') &&
    chainText(12, r.prevHash, leaf.toString('base64'), r.signatureId, row[PROOF] as string) === JSON.stringify(['ura-chain/1', 12, r.prevHash, leaf.toString('base64'), r.signatureId, proof]) &&
    hash('sha512', chainText(12, r.prevHash, leaf.toString('base64'), r.signatureId, row[PROOF] as string), 'base64') === chainHash(12, r.prevHash, leaf, r.signatureId, proof)
}

/** The record's leaf (base64) from a row: recordLeaf's hash, 0x00 ‖ the content text. */
function leafText (row: unknown[]): string {
  // U+0000 is the single byte 0x00 in UTF-8.
  return hash('sha512', '\u0000' + rowContentText(row), 'base64')
}

/** The record's leaf from a row, as bytes (what a format 2 batch's tree is built from). */
export function rowLeaf (row: unknown[]): Buffer {
  return leafHash(rowContentText(row))
}

function chainText (seq: number, prevHash: string, leaf: string, signatureId: string, proofText: string): string {
  return `["ura-chain/1",${JSON.stringify(seq)},${JSON.stringify(prevHash)},"${leaf}",${JSON.stringify(signatureId)},${proofText}]`
}

/** Batches whose proven nodes are kept (the records of a batch lie close together in the log). */
const BATCHES_KEPT = 2048

/** recordProblems for rows, with the fast path above; one per walk (it remembers the batches' proven nodes). */
export class RowChecker {
  /** Per batch signature: proven node (its hash, base64) → the rest of a proof's text that leads it to the signed root. */
  private readonly proven = new Map<string, Map<string, string>>()
  private readonly members = new Map<string, string>()
  /** 0x01 ‖ left ‖ right: an inner node's input, filled in place. */
  private readonly node = Buffer.alloc(129)
  /** Format 2: the previous hash's bytes, and the chain hash's input, filled in place. */
  private readonly prev = Buffer.alloc(64)
  private readonly input = Buffer.alloc(256)
  /** Records checked the fast way, records checked the ordinary way, inner nodes hashed. */
  readonly stats = { fast: 0, slow: 0, nodes: 0 }
  constructor () { this.node[0] = 1 }

  problems (row: LogRow, header: BatchHeader, link: RecordLink): string[] {
    if (FAST && (link.rootChecked ? this.soundLean(row.cols, header, link) : this.sound(row.cols, header))) { this.stats.fast++; return [] }
    this.stats.slow++
    let r: StoredRecord
    try {
      r = arrayRecord(row.cols)
    } catch (err) {
      return [`the record cannot be read: ${(err as Error).message}`]
    }
    return recordProblems(r, header, link)
  }

  private member (id: string): string {
    let m = this.members.get(id)
    if (m === undefined) {
      // A log names a few clients and services; a bound all the same.
      if (this.members.size >= 4096) this.members.clear()
      m = memberOf(id)
      this.members.set(id, m)
    }
    return m
  }

  /** The checks both formats share: the body against its digest, the signer. */
  private ownSound (row: unknown[], header: BatchHeader): boolean {
    const body = row[BODY]
    if (body !== null && (!(body instanceof Uint8Array) || hash('sha512', body, 'base64') !== row[BODY_DIGEST])) return false
    const party = row[DIRECTION] === 'request' ? row[CLIENT] : row[SERVICE]
    const signer = row[SIGNER]
    return typeof party === 'string' && signer === this.member(party) && header.signer === signer
  }

  /** A format 2 row whose batch's root the walk checked: true only when the rest of recordProblems passes. */
  private soundLean (row: unknown[], header: BatchHeader, link: RecordLink): boolean {
    const signatureId = row[SIGNATURE_ID]
    if (!this.ownSound(row, header) || typeof signatureId !== 'string' || link.prevHash.length !== 88) return false
    this.prev.write(link.prevHash, 'base64')
    const leaf = link.leaf ?? rowLeaf(row)
    return chainHash2(Number(row[SEQ]), this.prev, leaf, signatureId, this.input).toString('base64') === row[HASH]
  }

  /** True only when every check of recordProblems passes; false means "look again", not "bad". */
  private sound (row: unknown[], header: BatchHeader): boolean {
    if (!this.ownSound(row, header)) return false
    const proof = row[PROOF]
    const prevHash = row[PREV_HASH]
    const signatureId = row[SIGNATURE_ID]
    if (typeof proof !== 'string' || typeof prevHash !== 'string' || typeof signatureId !== 'string') return false
    // Hashes as base64 text: cheaper to have than a Buffer, and the texts are what is compared.
    const leaf = leafText(row)
    if (!this.reachesRoot(leaf, proof, header.root, signatureId)) return false
    return hash('sha512', chainText(Number(row[SEQ]), prevHash, leaf, signatureId, proof), 'base64') === row[HASH]
  }

  /**
   * Whether the proof's text is one JSON.stringify writes (steps at fixed places, each sibling the
   * canonical base64 of 64 bytes: so the parsed proof's JSON is this very text) and leads the leaf
   * to the root: rootFromProof(leaf, JSON.parse(proof)) is the root.
   */
  reachesRoot (leaf: string, proof: string, root: string, signatureId: string): boolean {
    const steps = proof.length === 2 ? 0 : (proof.length - 1) / STEP
    if (!Number.isInteger(steps) || proof.charCodeAt(0) !== OPEN || proof.charCodeAt(proof.length - 1) !== CLOSE) return false
    let known = this.proven.get(signatureId)
    if (known === undefined) {
      if (this.proven.size >= BATCHES_KEPT) this.proven.clear()
      known = new Map()
      this.proven.set(signatureId, known)
    }
    const node = this.node
    let text = leaf
    let met = false
    // Nodes (base64) this fold passed through or next to, each with the rest of a proof that leads it to the root.
    const passed: string[] = []
    for (let j = 0; j < steps; j++) {
      const at = 1 + STEP * j
      // Steps j… and the closing bracket: every text remembered was checked step by step when first folded.
      const rest = proof.slice(at)
      if (known.get(text) === rest) { met = true; break }
      if (!framed(proof, at, j === steps - 1)) return false
      const sibling = proof.slice(at + 6, at + 94)
      const left = proof.charCodeAt(at + 2) === L
      const into = left ? 1 : 65
      if (node.write(sibling, into, 64, 'base64') !== 64 || node.toString('base64', into, into + 64) !== sibling) return false
      node.write(text, left ? 65 : 1, 64, 'base64')
      passed.push(text, rest)
      // The sibling reaches the same parent with this step turned round: the next record is often that sibling.
      passed.push(sibling, `["${left ? 'R' : 'L'}","${text}"]` + (j + 1 < steps ? `,${proof.slice(at + STEP)}` : ']'))
      text = hash('sha512', node, 'base64')
      this.stats.nodes++
    }
    if (!met && text !== root) return false
    for (let i = 0; i < passed.length; i += 2) known.set(passed[i], passed[i + 1])
    return true
  }
}

/** Whether a fold of proofs buildTree gives reaches its root, and one with a step altered does not (merkle.ts). */
function foldsAsMerkle (): boolean {
  const leaves = [1, 2, 3, 4, 5].map(n => leafHash(`leaf ${n}`))
  const { root, proofs } = buildTree(leaves)
  const checker = new RowChecker()
  const altered = JSON.stringify(proofs[4].map(([side, sibling]) => [side === 'L' ? 'R' : 'L', sibling]))
  return leaves.every((leaf, i) => checker.reachesRoot(leaf.toString('base64'), JSON.stringify(proofs[i]), root.toString('base64'), 'check')) &&
    !checker.reachesRoot(leaves[4].toString('base64'), altered, root.toString('base64'), 'check')
}

/** The fast path is on when it computes what the definitions do. */
const FAST = agreesWithDefinitions() && foldsAsMerkle()
