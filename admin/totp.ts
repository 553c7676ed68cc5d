/**
 * Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA-1, 30-second steps, six
 * digits, which every authenticator app reads from an `otpauth://` URI. Written on `node:crypto`
 * because the algorithm is a dozen lines; the RFC's test vectors pin it (test/internals/totp.test.ts).
 * A code is accepted one step either side of now (clock drift), and the caller refuses a step that
 * was already used, so a code seen over a shoulder cannot be replayed.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

const STEP_SECONDS = 30
const DIGITS = 6
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

export const TOTP_SECRET_PATTERN = '^[A-Z2-7]{16,64}$'

export function base32Encode (bytes: Buffer): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31]
  return out
}

export function base32Decode (text: string): Buffer {
  const bytes: number[] = []
  let bits = 0
  let value = 0
  for (const c of text.replace(/=+$/, '').toUpperCase()) {
    const i = ALPHABET.indexOf(c)
    if (i < 0) throw new Error(`'${c}' is not a base32 character`)
    value = (value << 5) | i
    bits += 5
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 255)
      bits -= 8
    }
  }
  return Buffer.from(bytes)
}

/** A new secret: 160 random bits, as RFC 4226 recommends, in base32. */
export function newTotpSecret (): string {
  return base32Encode(randomBytes(20))
}

/** The HOTP value of `counter` (RFC 4226 §5.3), as a zero-padded string of `digits`. */
export function hotp (key: Buffer, counter: number, digits = DIGITS): string {
  const msg = Buffer.alloc(8)
  msg.writeBigUInt64BE(BigInt(counter))
  const mac = createHmac('sha1', key).update(msg).digest()
  const offset = mac[mac.length - 1] & 0x0f
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits
  return String(code).padStart(digits, '0')
}

export function totpStep (at: Date): number {
  return Math.floor(at.getTime() / 1000 / STEP_SECONDS)
}

/** The code an authenticator shows at `at`. */
export function totpCode (secret: string, at: Date): string {
  return hotp(base32Decode(secret), totpStep(at))
}

/** The step `code` belongs to (now, one before or one after), or undefined when it matches none. */
export function matchTotp (secret: string, code: string, at: Date): number | undefined {
  if (!/^[0-9]{6}$/.test(code)) return undefined
  const key = base32Decode(secret)
  const now = totpStep(at)
  let found: number | undefined
  // Every candidate is compared, so the time taken does not say which one matched.
  for (const step of [now - 1, now, now + 1]) {
    if (timingSafeEqual(Buffer.from(hotp(key, step)), Buffer.from(code)) && found === undefined) found = step
  }
  return found
}

/** The `otpauth://` URI an authenticator app imports (typed in, or as a QR code made elsewhere). */
export function otpauthUri (secret: string, account: string, issuer = 'ura'): string {
  const label = encodeURIComponent(`${issuer}:${account}`)
  return `otpauth://totp/${label}?secret=${secret}&issuer=${encodeURIComponent(issuer)}&algorithm=SHA1&digits=${DIGITS}&period=${STEP_SECONDS}`
}
