/**
 * The trust store: which CAs the node accepts, and the one place that decides whether a certificate
 * may be used. Verification has two halves so callers can cache the expensive one:
 *
 * - `path(leaf, intermediates)`: the signature chain from the certificate to an accepted CA
 *   (signatures checked with node:crypto). Depends only on the certificates: cache it by fingerprint.
 * - `status(path, usage, at)`: validity windows, key usage and the revocation list for every
 *   certificate on the path. Cheap (date comparisons and map look-ups): run it on every use.
 *
 * `verify()` does both. Accepted CAs are the PEM files in `<dataDir>/pki/trust/` (each may hold
 * several certificates); `ura init` puts the dev CA there.
 */
import { X509Certificate } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { PkiPaths } from './keystore.ts'
import { fingerprintOf, OID, splitPemCertificates } from './pki.ts'
import { RevocationList, revocationKey } from './revocation.ts'

export type TrustFailureReason = 'untrusted' | 'expired' | 'not-yet-valid' | 'revoked' | 'wrong-usage'

export interface TrustFailure {
  reason: TrustFailureReason
  message: string
}

export type Usage = 'tls-client' | 'tls-server' | 'signing' | 'any'

/** A verified signature path: leaf first, the accepted CA last. */
export interface CertificatePath {
  certificates: X509Certificate[]
  /** Validity window over the whole path, as epoch ms: the earliest notAfter, the latest notBefore. */
  notBefore: number
  notAfter: number
  /** Revocation-list keys of the certificates, computed once (each request checks them). */
  revocationKeys: string[]
  /** Key-usage problem of the leaf per usage, computed on first use. */
  usageProblems: Map<Usage, string | undefined>
}

const MAX_DEPTH = 4

export class TrustStore {
  readonly anchors: X509Certificate[]
  readonly revocations: RevocationList
  private readonly anchorPrints: Set<string>

  constructor (anchors: X509Certificate[], revocations: RevocationList = new RevocationList()) {
    this.anchors = anchors.filter(a => a.ca)
    this.anchorPrints = new Set(this.anchors.map(fingerprintOf))
    this.revocations = revocations
  }

  /** Reads `trust/*.pem` and `revoked.json` of a data directory's PKI. */
  static load (paths: PkiPaths, opts: { refreshMs?: number } = {}): TrustStore {
    const anchors: X509Certificate[] = []
    if (existsSync(paths.trustDir)) {
      for (const name of readdirSync(paths.trustDir).filter(n => n.endsWith('.pem')).sort()) {
        for (const pem of splitPemCertificates(readFileSync(join(paths.trustDir, name), 'utf8'))) anchors.push(new X509Certificate(pem))
      }
    }
    return new TrustStore(anchors, new RevocationList(paths.revoked, opts))
  }

  isAnchor (certificate: X509Certificate): boolean {
    return this.anchorPrints.has(fingerprintOf(certificate))
  }

  /** The signature path to an accepted CA, or why there is none. No time or revocation checks. */
  path (leaf: X509Certificate, intermediates: X509Certificate[] = []): CertificatePath | TrustFailure {
    const certificates = [leaf]
    let current = leaf
    for (let depth = 0; depth <= MAX_DEPTH; depth++) {
      if (this.isAnchor(current)) return pathOf(certificates)
      const anchor = this.anchors.find(a => current.checkIssued(a) && current.verify(a.publicKey))
      if (anchor !== undefined) {
        certificates.push(anchor)
        return pathOf(certificates)
      }
      const next = intermediates.find(c => c.ca && !certificates.includes(c) && current.checkIssued(c) && current.verify(c.publicKey))
      if (next === undefined) break
      certificates.push(next)
      current = next
    }
    return { reason: 'untrusted', message: `certificate '${oneLine(leaf.subject)}' (issuer '${oneLine(leaf.issuer)}') does not chain to a trusted CA` }
  }

  /** Validity, key usage and revocation of every certificate on a path, at `at`. Undefined = usable. */
  status (path: CertificatePath, usage: Usage, at = Date.now()): TrustFailure | undefined {
    const leaf = path.certificates[0]
    if (at < path.notBefore) {
      const c = path.certificates.find(c => at < c.validFromDate.getTime())!
      return { reason: 'not-yet-valid', message: `certificate '${oneLine(c.subject)}' is not valid before ${c.validFromDate.toISOString()}` }
    }
    if (at > path.notAfter) {
      const c = path.certificates.find(c => at > c.validToDate.getTime())!
      return { reason: 'expired', message: `certificate '${oneLine(c.subject)}' expired on ${c.validToDate.toISOString()}` }
    }
    for (let i = 0; i < path.revocationKeys.length; i++) {
      const revoked = this.revocations.isRevoked(path.revocationKeys[i])
      if (revoked !== undefined) return { reason: 'revoked', message: `certificate '${oneLine(path.certificates[i].subject)}' (serial ${revoked.serial}) was revoked on ${revoked.revokedAt}: ${revoked.reason}` }
    }
    if (!path.usageProblems.has(usage)) path.usageProblems.set(usage, usageProblem(leaf, usage))
    const problem = path.usageProblems.get(usage)
    if (problem !== undefined) return { reason: 'wrong-usage', message: problem }
    return undefined
  }

  verify (leaf: X509Certificate, opts: { intermediates?: X509Certificate[]; usage?: Usage; at?: number } = {}): { ok: true; path: CertificatePath } | ({ ok: false } & TrustFailure) {
    const path = this.path(leaf, opts.intermediates)
    if (isTrustFailure(path)) return { ok: false, ...path }
    const failure = this.status(path, opts.usage ?? 'any', opts.at)
    return failure === undefined ? { ok: true, path } : { ok: false, ...failure }
  }
}

export function isTrustFailure (value: CertificatePath | TrustFailure): value is TrustFailure {
  return 'reason' in value
}

function pathOf (certificates: X509Certificate[]): CertificatePath {
  return {
    certificates,
    notBefore: Math.max(...certificates.map(c => c.validFromDate.getTime())),
    notAfter: Math.min(...certificates.map(c => c.validToDate.getTime())),
    revocationKeys: certificates.map(revocationKey),
    usageProblems: new Map(),
  }
}

function usageProblem (leaf: X509Certificate, usage: Usage): string | undefined {
  if (usage === 'any') return undefined
  const eku = leaf.keyUsage ?? []
  if (leaf.ca) return `a CA certificate cannot be used as a ${usage} certificate`
  if (usage === 'tls-client' && !eku.includes(OID.clientAuth)) return `certificate '${oneLine(leaf.subject)}' is not a TLS client certificate (no clientAuth usage)`
  if (usage === 'tls-server' && !eku.includes(OID.serverAuth)) return `certificate '${oneLine(leaf.subject)}' is not a TLS server certificate (no serverAuth usage)`
  if (usage === 'signing' && (eku.includes(OID.clientAuth) || eku.includes(OID.serverAuth))) return `certificate '${oneLine(leaf.subject)}' is a TLS certificate, not a signing certificate`
  return undefined
}

export function oneLine (dn: string): string {
  return dn.split('\n').join(', ')
}
