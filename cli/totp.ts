/**
 * `ura totp <secret>`: the six-digit code an authenticator app shows for a console sign-in's TOTP
 * secret, for the demo and for scripts that sign in to the console (admin/totp.ts makes it).
 */
import { InvalidArgumentError } from 'commander'
import { TOTP_SECRET_PATTERN, totpCode } from '../admin/totp.ts'

/** The secret as authenticator apps accept it: spaces and lower case allowed, checked as base32. */
export function totpSecret (value: string): string {
  const secret = value.replace(/\s+/g, '').toUpperCase()
  if (!new RegExp(TOTP_SECRET_PATTERN).test(secret)) throw new InvalidArgumentError('It must be a base32 TOTP secret (16 to 64 of A–Z and 2–7).')
  return secret
}

/** An ISO 8601 time. */
export function instant (value: string): Date {
  const at = new Date(value)
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(at.getTime())) throw new InvalidArgumentError('It must be an ISO 8601 time, such as 2026-01-15T09:00:00Z.')
  return at
}

/** `ura totp <secret> [--at <time>]`: prints the code, exit 0. */
export async function totp (secret: string, values: { at?: Date }): Promise<number> {
  process.stdout.write(`${totpCode(secret, values.at ?? new Date())}\n`)
  return 0
}
