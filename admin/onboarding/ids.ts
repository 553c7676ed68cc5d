/**
 * Names and secrets of the onboarding domain: random ids for applications, access requests and
 * notices; the applicant's status token and its operator's API token (only their SHA-256 is kept);
 * and the X-Road ids a new member's parts get (its member code is its NIPT).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex')

/** `<prefix>-<hex>`: fits the registry's id pattern (lower case, at most 64 characters). */
export function randomId (prefix: string, bytes = 10): string {
  return `${prefix}-${randomBytes(bytes).toString('hex')}`
}

/** The applicant's proof of who it is: shown once, sent back as `Authorization: Bearer <token>`. */
export const STATUS_TOKEN = /^uas_[A-Za-z0-9_-]{43}$/

export function newStatusToken (): { token: string; sha256: string } {
  const token = `uas_${randomBytes(32).toString('base64url')}`
  return { token, sha256: sha256Hex(token) }
}

/** Compares a presented token with a stored SHA-256 in constant time; false for anything malformed. */
export function tokenMatches (presented: unknown, storedSha256: string, format: RegExp): boolean {
  if (typeof presented !== 'string' || !format.test(presented)) return false
  const a = Buffer.from(sha256Hex(presented), 'hex')
  const b = Buffer.from(storedSha256, 'hex')
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * An operator API token as the admin API checks it: `ura_<tokenId>_<secret>`, the operator's
 * `tokens[]` keeping `{id: tokenId, sha256: SHA-256 of the whole string}`. Both parts are lower-case
 * hex, so the first `_` after the prefix always ends the token id.
 */
export function newApiToken (): { tokenId: string; token: string; sha256: string } {
  const tokenId = `t${randomBytes(8).toString('hex')}`
  const token = `ura_${tokenId}_${randomBytes(32).toString('hex')}`
  return { tokenId, token, sha256: sha256Hex(token) }
}

export const memberIdOf = (instance: string, memberClass: string, nipt: string): string => `${instance}/${memberClass}/${nipt}`

/** The operator account made for an institution's authorised employee: one per member, named after its NIPT. */
export const applicantOperatorId = (nipt: string): string => `${nipt.toLowerCase()}-admin`

/** Upper-case hex without leading zeros or separators, as the registry keeps serials. */
export function normalSerial (serial: string): string | undefined {
  const s = serial.replace(/[:\s]/g, '').toUpperCase().replace(/^0+(?=.)/, '')
  return /^[0-9A-F]{1,64}$/.test(s) ? s : undefined
}

/** Lower-case hex without colons, as pins are compared. */
export const normalFingerprint = (fp: string): string => fp.replaceAll(':', '').toLowerCase()
