/**
 * Sealing a commit group (DESIGN §7, §8): the records of one group are signed where the group is
 * written, in the same step — per signing key, one batch signature over the Merkle root of the
 * key's records. The group is stored batch after batch, each in leaf order, so a record's inclusion
 * proof can be rebuilt from its batch's records (record format 2: no proof is stored). The thread that handles exchanges only hands
 * over the record's content and awaits one promise; hashing, the tree and the signature happen in the
 * log's own thread (the embedded store's writer) or right before the group's insert (PostgreSQL).
 */
import type { KeyObject } from 'node:crypto'
import { signLeaves, type BatchSignature, type SigningIdentity } from '../certs/batch-signer.ts'
import { recordLeaf, type NewRecord, type RecordContent, type RecordFormat } from './record.ts'

/** A record as the recorder hands it to the store: its content and, where the service logs bodies, the body. */
export interface LogEntry {
  content: RecordContent
  body: Buffer | null
}

/** An entry with the number its signing key has in the store's key register (see SealKeys). */
export interface KeyedEntry extends LogEntry {
  key: number
}

/** What one entry became: the record to insert (`batch`: its batch's number in the group), or why it could not be signed. */
export type Sealed = { record: NewRecord; signature: BatchSignature; leaf: Buffer; batch: number } | { error: Error }

/**
 * The keys a store has seen, by number: a key crosses to the writer thread once, then records name
 * it by its number. The same key with another certificate chain (a renewed certificate) gets a new
 * number, so every signature carries the chain that was current when it was made.
 */
export class SealKeys {
  private readonly numbers = new WeakMap<KeyObject, { n: number; identity: SigningIdentity }>()
  private readonly identities = new Map<number, SigningIdentity>()
  private next = 1

  /** The number of `identity`; `fresh` receives the identities numbered by this call. */
  numberOf (identity: SigningIdentity, fresh?: Array<[number, SigningIdentity]>): number {
    const known = this.numbers.get(identity.key)
    if (known !== undefined && sameChain(known.identity.chain, identity.chain)) return known.n
    const n = this.next++
    const own = { key: identity.key, chain: identity.chain }
    this.numbers.set(identity.key, { n, identity: own })
    this.identities.set(n, own)
    fresh?.push([n, own])
    return n
  }

  /** Registers identities numbered elsewhere (the writer thread learns them from the main thread). */
  learn (fresh: Array<[number, SigningIdentity]>): void {
    for (const [n, identity] of fresh) this.identities.set(n, identity)
  }

  identity (n: number): SigningIdentity | undefined {
    return this.identities.get(n)
  }
}

function sameChain (a: string[], b: string[]): boolean {
  if (a === b) return true
  return a.length === b.length && a.every((pem, i) => pem === b[i])
}

/**
 * Signs a group's entries: per key and signer, batches of at most `batchMax` records under one
 * signature each — ECDSA keys in this thread, RSA keys all at once on libuv's pool. A batch that
 * cannot be signed fails only its own entries. Results are in the order of `entries`.
 */
export async function sealGroup (entries: KeyedEntry[], keys: SealKeys, batchMax: number, format: RecordFormat = 2): Promise<Sealed[]> {
  const byKey = new Map<string, number[]>()
  for (let i = 0; i < entries.length; i++) {
    const batchKey = `${entries[i].key} ${entries[i].content.signer}`
    const list = byKey.get(batchKey)
    if (list === undefined) byKey.set(batchKey, [i])
    else list.push(i)
  }
  const out = new Array<Sealed>(entries.length)
  const signing: Array<Promise<void>> = []
  for (const members of byKey.values()) {
    for (let from = 0; from < members.length; from += batchMax) {
      const batch = members.slice(from, from + batchMax)
      signing.push(sealBatch(entries, batch, signing.length, keys, out, format))
    }
  }
  await Promise.all(signing)
  return out
}

async function sealBatch (entries: KeyedEntry[], batch: number[], n: number, keys: SealKeys, out: Sealed[], format: RecordFormat): Promise<void> {
  const first = entries[batch[0]]
  try {
    const identity = keys.identity(first.key)
    if (identity === undefined) throw new Error(`no signing key number ${first.key} for member ${first.content.signer}`)
    const leaves = batch.map(i => recordLeaf(entries[i].content))
    // ECDSA in this thread (≈ 40 µs: less than a round trip through libuv's pool), RSA on the pool.
    // Format 2 stores no proofs: the records are stored in leaf order, next to each other, and proofs rebuilt from them.
    const { signature, proofs } = await signLeaves(first.content.signer, identity, leaves, true, format === 1)
    batch.forEach((i, j) => {
      const e = entries[i]
      out[i] = { record: { ...e.content, body: e.body, signatureId: signature.id, proof: proofs[j] ?? [] }, signature, leaf: leaves[j], batch: n }
    })
  } catch (err) {
    for (const i of batch) out[i] = { error: err as Error }
  }
}

/** The order a sealed group is stored in: the signed entries, batch after batch, each batch in its leaf order. */
export function storeOrder (sealed: Sealed[]): number[] {
  const order: number[] = []
  for (let i = 0; i < sealed.length; i++) if (!('error' in sealed[i])) order.push(i)
  // A stable sort: within a batch, the entries keep the order their leaves were hashed in.
  return order.sort((a, b) => (sealed[a] as { batch: number }).batch - (sealed[b] as { batch: number }).batch)
}

/** The records of a sealed group that were signed (in storeOrder), their leaf hashes and their distinct signatures: what the store inserts. */
export function signedPart (sealed: Sealed[], order: number[]): { records: NewRecord[]; leaves: Buffer[]; signatures: BatchSignature[] } {
  const records: NewRecord[] = []
  const leaves: Buffer[] = []
  const signatures = new Map<string, BatchSignature>()
  for (const i of order) {
    const s = sealed[i] as Exclude<Sealed, { error: Error }>
    records.push(s.record)
    leaves.push(s.leaf)
    signatures.set(s.signature.id, s.signature)
  }
  return { records, leaves, signatures: [...signatures.values()] }
}

/** Each entry's sequence number, its place in `order` counted from `first` (the first stored record's), or its error. */
export function sealedResults (sealed: Sealed[], first: number, order: number[]): Array<number | Error> {
  const out = sealed.map(s => 'error' in s ? s.error : 0) as Array<number | Error>
  order.forEach((i, k) => { out[i] = first + k })
  return out
}
