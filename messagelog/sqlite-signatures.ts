/**
 * How the embedded store keeps a batch signature's row. At moderate load a commit group holds a few
 * records and each signing key signs its own batch, so a log holds about one signature per one to
 * three records, and the row (≈ 550 bytes as text) outweighs the records it signs. Kept as bytes:
 *
 * - the header (the signed JSON text, ≈ 225 characters): its fields packed — algorithm, time,
 *   count, root, and the signer as a key into the dictionary (sqlite-names.ts) — and turned back into
 *   the very same text as it is read (≈ 80 bytes);
 * - the signature value: its bytes rather than their base64 (≈ 72 bytes rather than 96);
 * - the signing chain (the certificates' fingerprints, ≈ 130 characters): a key into the dictionary,
 *   since a member signs with one chain for months.
 *
 * As with records (sqlite-columns.ts), only what comes back exactly is packed; anything else (a
 * header in another layout, a tampered value) stays text, and a log written before reads as it was.
 */
import type { SignatureAlgorithm } from '../certs/signature.ts'
import { packDigest, packTime, unpackTime } from './sqlite-columns.ts'
import { keyNumber, type NameKeys, type NameLookup } from './sqlite-names.ts'

/** The algorithms by their code in a packed header; never reorder, only add. */
const ALGORITHMS: readonly SignatureAlgorithm[] = ['ECDSA-P256-SHA256', 'ECDSA-P384-SHA384', 'RSASSA-PSS-SHA512']
/** Layout 1: 1 ‖ algorithm ‖ time (6) ‖ count (4) ‖ root (64) ‖ the signer's key. */
const LAYOUT = 1
const SIGNER_AT = 1 + 1 + 6 + 4 + 64

/**
 * A header's text from its fields, as the signer writes it (JSON.stringify of a BatchHeader, in its
 * key order: batch-signer.ts), written out directly — the algorithm, the ISO time and the base64 root
 * hold no character JSON escapes, and the signer is escaped as JSON.stringify does (checked equal in
 * the tests). A header is packed only when this gives back its very text.
 */
export function packedHeaderText (alg: string, signer: string, time: string, root: string, count: number): string {
  return `{"format":"ura-batch/1","alg":"${alg}","signer":${JSON.stringify(signer)},"time":"${time}","root":"${root}","count":${count}}`
}

/** A header's packed bytes, or its text when it would not come back exactly. */
export function packHeader (text: string, keys: NameKeys): unknown {
  let h: Record<string, unknown>
  try {
    h = JSON.parse(text) as Record<string, unknown>
  } catch {
    return text
  }
  if (h === null || typeof h !== 'object' || h.format !== 'ura-batch/1' || typeof h.signer !== 'string' || h.signer === '' || typeof h.time !== 'string' || typeof h.root !== 'string') return text
  const alg = ALGORITHMS.indexOf(h.alg as SignatureAlgorithm)
  const count = h.count
  const time = packTime(h.time)
  const root = packDigest(h.root)
  if (alg < 0 || !Number.isInteger(count) || (count as number) < 0 || (count as number) > 0xffffffff || !Buffer.isBuffer(time) || !Buffer.isBuffer(root)) return text
  if (packedHeaderText(h.alg as string, h.signer, h.time, h.root, count as number) !== text) return text
  const signer = keys.keyOf(h.signer) as Buffer
  const bytes = Buffer.allocUnsafe(SIGNER_AT + signer.length)
  bytes[0] = LAYOUT
  bytes[1] = alg
  time.copy(bytes, 2)
  bytes.writeUInt32BE(count as number, 8)
  root.copy(bytes, 12)
  signer.copy(bytes, SIGNER_AT)
  return bytes
}

/** A header's text as stored: packed bytes are turned back into it (bytes of another layout read as their hex, which no signature covers). */
export function unpackHeader (value: unknown, names: NameLookup): unknown {
  if (!(value instanceof Uint8Array)) return value
  const b = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  if (b.length <= SIGNER_AT || b[0] !== LAYOUT || b[1] >= ALGORITHMS.length) return `#${b.toString('hex')}`
  const signer = names.name(keyNumber(b.subarray(SIGNER_AT))) ?? `#${b.subarray(SIGNER_AT).toString('hex')}`
  return packedHeaderText(ALGORITHMS[b[1]], signer, unpackTime(b.subarray(2, 8)) as string, b.toString('base64', 12, SIGNER_AT), b.readUInt32BE(8))
}

/** A signature value's bytes, or its text when it is not canonical base64. */
export function packValue (text: string): unknown {
  const bytes = Buffer.from(text, 'base64')
  return bytes.length > 0 && bytes.toString('base64') === text ? bytes : text
}
