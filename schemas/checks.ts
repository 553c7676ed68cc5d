/**
 * The rules of the Albanian identifiers that neither JSON Schema nor XSD can state: check letters
 * and check digits (reference: domain §2). Each check assumes the value already matched its
 * pattern; it answers `undefined` when the value is right and a short reason when it is not.
 * The same functions back the ajv formats and the XSD post-validation hooks, so both schema
 * languages give the same verdict.
 */

/** Check-letter alphabet of NID and NIPT: W=0, A=1 … V=22. */
const ALPHA = 'WABCDEFGHIJKLMNOPQRSTUV'

/** Mod-23 check letter over the first nine characters (letter + eight digits). */
export function checkLetter (value: string): string {
  let sum = ALPHA.indexOf(value[0])
  for (let i = 1; i <= 8; i++) sum += i * (value.charCodeAt(i) - 48)
  return ALPHA[sum % 23]
}

/** NID (numri personal): the tenth character is the check letter of the first nine. */
export function nidProblem (value: string): string | undefined {
  const expected = checkLetter(value)
  return value[9] === expected ? undefined : `check letter of NID ${value} should be ${expected}`
}

/**
 * NIPT: no source documents its check letter, but the NID algorithm validates every real NIPT
 * tested (domain §2.2). Enforced unless the node is configured otherwise.
 */
export function niptProblem (value: string): string | undefined {
  const expected = checkLetter(value)
  return value[9] === expected ? undefined : `check letter of NIPT ${value} should be ${expected}`
}

/** ISO 13616 mod-97 over the IBAN with its first four characters moved to the end. */
export function ibanMod97 (iban: string): number {
  const moved = iban.slice(4) + iban.slice(0, 4)
  let rest = 0
  for (const ch of moved) {
    const code = ch.charCodeAt(0)
    const digits = code >= 65 ? String(code - 55) : ch
    for (const d of digits) rest = (rest * 10 + (d.charCodeAt(0) - 48)) % 97
  }
  return rest
}

const BRANCH_WEIGHTS = [9, 7, 3, 1, 9, 7, 3]

/** Albanian IBAN: mod-97, then the national check digit over bank (3) + branch (4) digits. */
export function ibanProblem (value: string): string | undefined {
  if (ibanMod97(value) !== 1) return `IBAN ${value} fails the mod-97 check`
  let sum = 0
  for (let i = 0; i < 7; i++) sum += BRANCH_WEIGHTS[i] * (value.charCodeAt(4 + i) - 48)
  const expected = (10 - (sum % 10)) % 10
  return value.charCodeAt(11) - 48 === expected ? undefined : `national check digit of IBAN ${value} should be ${expected}`
}

/** Printed forms (`AL47 2121 1009 …`, lower case) → the electronic form the schemas accept. */
export function normaliseIban (text: string): string {
  return text.replace(/[\s-]/g, '').toUpperCase()
}

/** `AL K12345678A`, `(AL)K12345678A`, `k 1234 5678 a` → `K12345678A` (domain §2.2). */
export function normaliseNipt (text: string): string {
  return text.replace(/\s/g, '').toUpperCase().replace(/^\(?AL\)?(?=[A-Z][0-9]{8}[A-Z]$)/, '')
}

/**
 * Albanian phone numbers to E.164 (domain §2.4): `+355 67 212 3456`, `00355672123456` and the
 * national `0672123456` all become `+355672123456`. Separators (space, dot, hyphen, parentheses)
 * are dropped first. Returns undefined for anything that is not an Albanian number of a known kind.
 */
export function normalisePhone (text: string): string | undefined {
  const compact = text.replace(/[\s.()-]/g, '')
  const m = /^(?:\+355|00355|0)([0-9]{7,9})$/.exec(compact)
  if (m === null || !NATIONAL_NUMBER.test(m[1])) return undefined
  return `+355${m[1]}`
}

/** National significant numbers: mobile, fixed (8 digits), toll-free, premium. */
export const NATIONAL_NUMBER = /^(?:6[78][2-9][0-9]{6}|69[0-9]{7}|[2-58][0-9]{7}|800[0-9]{4}|900[0-9]{3})$/

/** Year of birth encoded in a NID: decade letter (A = 1900s … T = 2090s) and year digit. */
export function nidBirthYear (nid: string): number {
  return 1900 + 10 * (nid.charCodeAt(0) - 65) + (nid.charCodeAt(1) - 48)
}
