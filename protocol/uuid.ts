/**
 * Random (version 4) UUIDs for the ids the node makes on every exchange (X-Road-Request-Id, and
 * X-Road-Id when the client sent none). Same randomness as `crypto.randomUUID()` (the system CSPRNG,
 * drawn in batches), but each id is written as one string: Node's own builds it from about twenty
 * concatenated pieces, ≈ 0.5 KB of short-lived heap per id.
 */
import { randomFillSync } from 'node:crypto'

const BATCH = 128
const random = Buffer.alloc(16 * BATCH)
let used = BATCH
const HEX = Buffer.from('0123456789abcdef', 'latin1')
/** The text of one id, rewritten in place: `xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx`. */
const text = Buffer.from('00000000-0000-0000-0000-000000000000', 'latin1')
/** Where each of the 16 bytes' two hex digits go in `text`. */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34]

export function uuidV4 (): string {
  if (used === BATCH) {
    randomFillSync(random)
    used = 0
  }
  const from = 16 * used++
  for (let i = 0; i < 16; i++) {
    let b = random[from + i]
    if (i === 6) b = (b & 0x0f) | 0x40 // version 4
    else if (i === 8) b = (b & 0x3f) | 0x80 // RFC 9562 variant
    text[AT[i]] = HEX[b >> 4]
    text[AT[i] + 1] = HEX[b & 0x0f]
  }
  return (text as unknown as { latin1Slice (start: number, end: number): string }).latin1Slice(0, 36)
}
