/**
 * Batch signing (DESIGN §7): leaf hashes waiting for the same signing key form one batch, and one
 * signature over their Merkle root covers them all. Each caller gets the shared signature and its
 * own inclusion proof. Batches are per key: a request waits with the other requests of the client
 * member, a response with those of the provider member.
 *
 * A batch closes `batchMs` after its first leaf arrived (0: at the end of the current event-loop
 * turn), when it holds `batchMax` leaves, or — while the key is still busy signing the previous
 * batch — when that signature is done. So an idle node signs at once, and a busy one signs bigger
 * batches instead of queueing signatures (as X-Road's signer drains its queue per key).
 *
 * A leaf nobody waits for at the door (the node's own delivery attempts: a queued request, a pushed
 * event) may say how much longer it can wait: the batch then closes at the earliest deadline among
 * its leaves. A push to 61 municipalities brings 61 answers signed with 61 keys; waiting a few tens of
 * milliseconds lets each key sign its answers of several events at once instead of one by one.
 */
import { randomFillSync, type KeyObject } from 'node:crypto'
import { buildTree, treeRoot, type ProofStep } from './merkle.ts'
import { algorithmFor, signAsync, signHere, type SignatureAlgorithm } from './signature.ts'

/** A member's e-seal: its private signing key and certificate chain (PEM, leaf first). */
export interface SigningIdentity {
  key: KeyObject
  chain: string[]
}

/** Where the signer finds a member's signing identity (the PKI's keystore, or test keys). */
export interface SigningKeyProvider {
  identityFor (memberId: string): SigningIdentity | undefined
}

/** The signed statement of one batch. Its exact JSON text is what the signature covers. */
export interface BatchHeader {
  format: 'ura-batch/1'
  alg: SignatureAlgorithm
  /** Member id (`instance/class/code`) whose key signed. */
  signer: string
  time: string
  /** Base64 SHA-512 Merkle root. */
  root: string
  count: number
}

/** One batch signature as stored in the log and carried in evidence. */
export interface BatchSignature {
  id: string
  /** The header's JSON text, exactly as signed. */
  header: string
  /** Base64 signature over the UTF-8 bytes of `header`. */
  value: string
  /** Certificate chain of the signing key, PEM, leaf first. */
  chain: string[]
}

export interface SignedLeaf {
  signature: BatchSignature
  proof: ProofStep[]
}

export interface SignedLeaves {
  signature: BatchSignature
  /** Each leaf's inclusion proof, in the order of the leaves. */
  proofs: ProofStep[][]
}

export interface BatchSignerOptions {
  /** Longest a leaf waits for others to join its batch. 0 = only those arriving in the same event-loop turn. */
  batchMs: number
  /** Largest batch: a full batch is signed at once. */
  batchMax: number
}

interface Pending {
  leaf: Buffer
  /** When this leaf's batch must close at the latest (ms since the epoch). */
  deadline: number
  /** It asked to wait longer than the signer's own window (a delivery attempt's record). */
  patient: boolean
  resolve (value: SignedLeaf): void
  reject (err: Error): void
}

interface Queue {
  pending: Pending[]
  timer?: NodeJS.Timeout | NodeJS.Immediate
  /** The deadline the timer is set for. */
  closesAt: number
  /** A batch of this key is being signed: new leaves wait for it. */
  busy: boolean
  /** Leaves in the batches of this key being signed. */
  signing: number
}

export class BatchSigner {
  private readonly keys: SigningKeyProvider
  private readonly opts: BatchSignerOptions
  private readonly queues = new Map<string, Queue>()
  /** Batches signed so far and leaves they covered (for tests and the benchmark). */
  readonly stats = { batches: 0, leaves: 0 }

  constructor (keys: SigningKeyProvider, opts: BatchSignerOptions) {
    this.keys = keys
    this.opts = opts
  }

  /** Leaves waiting for their signature, gathering into a batch or being signed (read at each metrics scrape). */
  get waiting (): number {
    let n = 0
    for (const queue of this.queues.values()) n += queue.pending.length + queue.signing
    return n
  }

  /**
   * Signs `leaf` with `memberId`'s key, in a batch with the other leaves waiting for that key.
   * `waitMs`: how long this leaf may wait for others beyond the signer's own window (default none).
   */
  sign (memberId: string, leaf: Buffer, waitMs = 0): Promise<SignedLeaf> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(memberId)
      if (queue === undefined) { queue = { pending: [], busy: false, signing: 0, closesAt: Infinity }; this.queues.set(memberId, queue) }
      const deadline = Date.now() + Math.max(this.opts.batchMs, waitMs)
      queue.pending.push({ leaf, deadline, patient: waitMs > this.opts.batchMs, resolve, reject })
      if (queue.pending.length >= this.opts.batchMax) this.flush(memberId, queue)
      else if (!queue.busy) this.schedule(memberId, queue, deadline)
    })
  }

  /** Closes the key's batch by `deadline` (sooner if it is already due sooner). */
  private schedule (memberId: string, queue: Queue, deadline: number): void {
    if (queue.timer !== undefined) {
      if (queue.closesAt <= deadline) return
      this.clearTimer(queue)
    }
    const wait = deadline - Date.now()
    queue.closesAt = deadline
    queue.timer = wait > 0
      ? setTimeout(() => this.flush(memberId, queue), wait)
      : setImmediate(() => this.flush(memberId, queue))
  }

  private clearTimer (queue: Queue): void {
    clearTimeout(queue.timer as NodeJS.Timeout)
    clearImmediate(queue.timer as NodeJS.Immediate)
    queue.timer = undefined
    queue.closesAt = Infinity
  }

  private flush (memberId: string, queue: Queue): void {
    if (queue.timer !== undefined) this.clearTimer(queue)
    const batch = queue.pending
    queue.pending = []
    if (batch.length === 0) return
    queue.busy = true
    queue.signing += batch.length
    void this.signBatch(memberId, batch).finally(() => {
      queue.busy = false
      queue.signing -= batch.length
      if (queue.pending.length === 0) return
      // What gathered while the key was busy is signed now, unless all of it may still wait: then
      // when the first of it is due.
      let due = Infinity
      for (const p of queue.pending) due = p.patient ? Math.min(due, p.deadline) : -Infinity
      if (due <= Date.now()) this.flush(memberId, queue)
      else this.schedule(memberId, queue, due)
    })
  }

  private async signBatch (memberId: string, batch: Pending[]): Promise<void> {
    try {
      const identity = this.keys.identityFor(memberId)
      if (identity === undefined) throw new Error(`no signing key for member ${memberId}`)
      const { signature, proofs } = await signLeaves(memberId, identity, batch.map(p => p.leaf))
      this.stats.batches++
      this.stats.leaves += batch.length
      batch.forEach((p, i) => p.resolve({ signature, proof: proofs[i] }))
    } catch (err) {
      for (const p of batch) p.reject(err as Error)
    }
  }
}

/**
 * One batch signature over `leaves` with `identity`'s key: the Merkle root in a signed header, and
 * every leaf's inclusion proof (none with `withProofs` false: the message log rebuilds them). The key is used on libuv's thread pool, so an RSA signature does not
 * stall the thread that asked for it — unless `ecdsaHere` and the key is an ECDSA key: then in this
 * thread (the log's writer, which would only wait for the pool). `id`: the signature's id, when the
 * records name it before it is made (deferred signing: deferred-batches.ts).
 */
export async function signLeaves (memberId: string, identity: SigningIdentity, leaves: Buffer[], ecdsaHere = false, withProofs = true, id = timeOrderedId()): Promise<SignedLeaves> {
  const alg = algorithmFor(identity.key)
  const { root, proofs } = withProofs ? buildTree(leaves) : { root: treeRoot(leaves), proofs: [] }
  const header: BatchHeader = { format: 'ura-batch/1', alg, signer: memberId, time: new Date().toISOString(), root: root.toString('base64'), count: leaves.length }
  const text = JSON.stringify(header)
  const data = Buffer.from(text, 'utf8')
  const value = ecdsaHere && alg !== 'RSASSA-PSS-SHA512' ? signHere(alg, data, identity.key) : await signAsync(alg, data, identity.key)
  return { signature: { id, header: text, value: value.toString('base64'), chain: identity.chain }, proofs }
}

/** Random bytes drawn a few kilobytes at a time: one call for the system's randomness costs ≈ 7 µs, whatever its size. */
const pool = Buffer.alloc(4096)
let pooled = 0

/**
 * A UUID in the version 7 layout (RFC 9562): 48 bits of Unix milliseconds, then random bits. The
 * logs look records and signatures up by signature id (PostgreSQL's record index, the embedded
 * store's signature table); ids that grow with time land at the end of an index instead of at a
 * random page of it, which the writer measured as the cheaper insert.
 */
export function timeOrderedId (now = Date.now()): string {
  if (pooled === 0) { randomFillSync(pool); pooled = pool.length }
  const b = Buffer.allocUnsafe(16)
  pool.copy(b, 0, pooled - 16, pooled)
  pooled -= 16
  b.writeUIntBE(now, 0, 6)
  b[6] = (b[6] & 0x0f) | 0x70
  b[8] = (b[8] & 0x3f) | 0x80
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
