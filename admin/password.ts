/**
 * Console passwords, kept only as scrypt hashes (`node:crypto`, run on libuv's thread pool so a
 * sign-in never stalls the event loop): `scrypt$<N>$<r>$<p>$<salt>$<hash>` in base64url. The cost
 * is stored with each hash, so it can be raised later without invalidating old ones.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

const N = 1 << 15
const R = 8
const P = 1
const KEY_BYTES = 32
/** Enough for N = 2^15, r = 8 (32 MiB) with room; the default limit is exactly 32 MiB. */
const MAXMEM = 96 * 1024 * 1024

export const PASSWORD_HASH_PATTERN = '^scrypt\\$[0-9]{1,8}\\$[0-9]{1,3}\\$[0-9]{1,3}\\$[A-Za-z0-9_-]{16,64}\\$[A-Za-z0-9_-]{32,128}$'

/** What a password must be: 12 to 200 characters. Length beats composition rules (NIST SP 800-63B). */
export function passwordProblem (password: string): string | undefined {
  const length = [...password].length
  if (length < 12) return 'a password has at least 12 characters'
  if (length > 200) return 'a password has at most 200 characters'
  return undefined
}

function derive (password: string, salt: Buffer, opts: ScryptOptions, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, bytes, { ...opts, maxmem: MAXMEM }, (err, key) => { if (err === null) resolve(key); else reject(err) })
  })
}

export async function hashPassword (password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, { N, r: R, p: P }, KEY_BYTES)
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

/** True when `password` matches `stored`; false for a wrong password or a hash this code cannot read. */
export async function verifyPassword (password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [n, r, p] = parts.slice(1, 4).map(Number)
  const salt = Buffer.from(parts[4], 'base64url')
  const expected = Buffer.from(parts[5], 'base64url')
  // Costs outside what this node would ever write are refused rather than computed.
  if (!(n >= 1024 && n <= (1 << 20) && (n & (n - 1)) === 0 && r >= 1 && r <= 32 && p >= 1 && p <= 4)) return false
  try {
    const key = await derive(password, salt, { N: n, r, p }, expected.length)
    return timingSafeEqual(key, expected)
  } catch {
    return false
  }
}

/** A hash of nothing anyone knows: checked against when the username is unknown, so both answers take as long. */
export const DECOY_HASH = `scrypt$${N}$${R}$${P}$${'A'.repeat(22)}$${'A'.repeat(43)}`
