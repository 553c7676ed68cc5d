/**
 * SHA-512 Merkle trees for batch signatures. Leaves and inner nodes are hashed with different
 * prefixes (0x00 / 0x01, as in RFC 6962) so an inner node can never pass for a leaf. A level with an
 * odd count carries its last node up unchanged, so a proof has one step per level where that node
 * had a sibling.
 */
import { hash } from 'node:crypto'

/** One step from a node towards the root: the sibling's hash and which side the sibling is on. */
export type ProofStep = ['L' | 'R', string]

const LEAF = Buffer.from([0])
const NODE = Buffer.from([1])

// One-shot crypto.hash(): several times faster than createHash() for inputs this small.
export function leafHash (content: string | Buffer): Buffer {
  // U+0000 is the single byte 0x00 in UTF-8: the same bytes as LEAF ‖ content, without copying them.
  return typeof content === 'string' ? hash('sha512', '\u0000' + content, 'buffer') : hash('sha512', Buffer.concat([LEAF, content]), 'buffer')
}

function nodeHash (left: Buffer, right: Buffer): Buffer {
  return hash('sha512', Buffer.concat([NODE, left, right]), 'buffer')
}

/** Root of the tree over `leaves` and, for every leaf, its inclusion proof. */
export function buildTree (leaves: Buffer[]): { root: Buffer; proofs: ProofStep[][] } {
  if (leaves.length === 0) throw new Error('a Merkle tree needs at least one leaf')
  const proofs: ProofStep[][] = leaves.map(() => [])
  // For each current node: the leaves under it, so each level's sibling is added to their proofs.
  let level = leaves.map((hash, i) => ({ hash, leaves: [i] }))
  while (level.length > 1) {
    const next: typeof level = []
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i]
      const right = level[i + 1]
      if (right === undefined) { next.push(left); continue }
      for (const l of left.leaves) proofs[l].push(['R', right.hash.toString('base64')])
      for (const l of right.leaves) proofs[l].push(['L', left.hash.toString('base64')])
      next.push({ hash: nodeHash(left.hash, right.hash), leaves: [...left.leaves, ...right.leaves] })
    }
    level = next
  }
  return { root: level[0].hash, proofs }
}

/** The root of the tree over `leaves` alone (the same root as buildTree's), without proofs. */
export function treeRoot (leaves: Buffer[]): Buffer {
  if (leaves.length === 0) throw new Error('a Merkle tree needs at least one leaf')
  let level = leaves
  const input = Buffer.allocUnsafe(129)
  input[0] = 1
  while (level.length > 1) {
    const next: Buffer[] = []
    for (let i = 0; i < level.length; i += 2) {
      if (i + 1 === level.length) { next.push(level[i]); continue }
      level[i].copy(input, 1, 0, 64)
      level[i + 1].copy(input, 65, 0, 64)
      next.push(hash('sha512', input, 'buffer'))
    }
    level = next
  }
  return level[0]
}

/** The root a leaf and its proof lead to; the caller compares it with the signed root. */
export function rootFromProof (leaf: Buffer, proof: ProofStep[]): Buffer {
  let hash = leaf
  for (const step of proof) {
    if (!Array.isArray(step) || step.length !== 2 || (step[0] !== 'L' && step[0] !== 'R') || typeof step[1] !== 'string') {
      throw new Error('malformed proof step')
    }
    const sibling = Buffer.from(step[1], 'base64')
    if (sibling.length !== 64) throw new Error('malformed proof step: a sibling hash must be 64 bytes')
    hash = step[0] === 'L' ? nodeHash(sibling, hash) : nodeHash(hash, sibling)
  }
  return hash
}
