/**
 * The revocation list: certificates the operator has withdrawn, by issuer and serial number,
 * persisted as `<dataDir>/pki/revoked.json`. Every use of a certificate asks `isRevoked()`; the file
 * is re-read when it changes (checked at most once per `refreshMs`), so `ura cert revoke` on a
 * running node takes effect within a second without a restart. The registry's revocations (shared
 * by every node on one registry store) are handed in with `setShared` at each registry version and
 * consulted alongside the file's.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import type { X509Certificate } from 'node:crypto'
import { writeFileAtomic } from './keystore.ts'
import { normaliseSerial } from './pki.ts'

export interface RevocationEntry {
  /** Upper-case hex, no leading zeros. */
  serial: string
  /** Issuer distinguished name as node:crypto prints it. */
  issuer: string
  subject: string
  revokedAt: string
  reason: string
}

const keyOf = (issuer: string, serial: string): string => `${issuer}\u0000${normaliseSerial(serial)}`

/** The look-up key of a certificate in the list; callers that check one certificate often compute it once. */
export function revocationKey (certificate: X509Certificate): string {
  return keyOf(certificate.issuer, certificate.serialNumber)
}

export class RevocationList {
  private readonly path: string | undefined
  private readonly refreshMs: number
  private byKey = new Map<string, RevocationEntry>()
  /** The registry's entries (setShared), replaced whole at each registry version. */
  private shared = new Map<string, RevocationEntry>()
  private mtimeMs = -1
  private checkedAt = 0

  constructor (path?: string, opts: { refreshMs?: number } = {}) {
    this.path = path
    this.refreshMs = opts.refreshMs ?? 1000
    this.reload()
  }

  private reload (): void {
    if (this.path === undefined) return
    this.checkedAt = Date.now()
    let mtimeMs: number
    try {
      mtimeMs = statSync(this.path).mtimeMs
    } catch {
      mtimeMs = 0 // no file yet: nothing revoked
    }
    if (mtimeMs === this.mtimeMs) return
    this.mtimeMs = mtimeMs
    const entries: RevocationEntry[] = mtimeMs === 0 || !existsSync(this.path) ? [] : (JSON.parse(readFileSync(this.path, 'utf8')) as { revoked: RevocationEntry[] }).revoked
    this.byKey = new Map(entries.map(e => [keyOf(e.issuer, e.serial), e]))
  }

  private fresh (): void {
    if (this.path !== undefined && Date.now() - this.checkedAt >= this.refreshMs) this.reload()
  }

  isRevoked (certificate: X509Certificate | string): RevocationEntry | undefined {
    this.fresh()
    if (this.byKey.size === 0 && this.shared.size === 0) return undefined
    const key = typeof certificate === 'string' ? certificate : revocationKey(certificate)
    return this.byKey.get(key) ?? this.shared.get(key)
  }

  /** The file's entries, then the registry's that the file does not have. */
  entries (): RevocationEntry[] {
    this.fresh()
    return [...this.byKey.values(), ...[...this.shared].filter(([k]) => !this.byKey.has(k)).map(([, e]) => e)]
  }

  /**
   * The registry's revocations, replacing those handed in before (one assignment: a check sees the
   * old list or the new one, never a mix). They are consulted with the file's and never written to it.
   */
  setShared (entries: readonly RevocationEntry[]): void {
    this.shared = new Map(entries.map(e => [keyOf(e.issuer, e.serial), e]))
  }

  /** Adds a certificate to the list (and the file). Revoking twice keeps the first entry. */
  revoke (certificate: X509Certificate, reason = 'unspecified', at = new Date()): RevocationEntry {
    this.reload()
    const key = keyOf(certificate.issuer, certificate.serialNumber)
    const existing = this.byKey.get(key)
    if (existing !== undefined) return existing
    const entry: RevocationEntry = {
      serial: normaliseSerial(certificate.serialNumber),
      issuer: certificate.issuer,
      subject: certificate.subject,
      revokedAt: at.toISOString(),
      reason,
    }
    this.byKey.set(key, entry)
    if (this.path !== undefined) {
      writeFileAtomic(this.path, JSON.stringify({ revoked: [...this.byKey.values()] }, null, 2) + '\n')
      this.mtimeMs = statSync(this.path).mtimeMs
    }
    return entry
  }
}
