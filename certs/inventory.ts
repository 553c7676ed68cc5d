/**
 * Every certificate a node knows about, with its state: the trust anchors, the node's TLS
 * certificate, members' signing certificates, client certificates made by `ura init`, and every
 * certificate the CA issued. Used by `ura cert list` and by `/readyz` (certificates expiring soon).
 */
import type { X509Certificate } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { issuedCertificates, readCertificates, type Keystore } from './keystore.ts'
import { fingerprintOf, identityOf, normaliseSerial, profileOf, type Profile } from './pki.ts'
import { oneLine, type TrustStore } from './trust-store.ts'

export const EXPIRY_WARNING_DAYS = 30
const DAY = 24 * 60 * 60 * 1000

export type CertificateState = 'valid' | 'expiring' | 'expired' | 'not-yet-valid' | 'revoked'

export interface CertificateRow {
  role: 'trusted CA' | 'node TLS' | 'member signing' | 'client TLS' | 'issued'
  profile: Profile
  /** X-Road identifier from the subject, if any. */
  id?: string
  subject: string
  serial: string
  notBefore: string
  notAfter: string
  daysLeft: number
  state: CertificateState
  fingerprint: string
}

export function describe (certificate: X509Certificate, role: CertificateRow['role'], trust: TrustStore, now = Date.now()): CertificateRow {
  const notAfter = certificate.validToDate.getTime()
  const daysLeft = Math.floor((notAfter - now) / DAY)
  let state: CertificateState = 'valid'
  if (trust.revocations.isRevoked(certificate) !== undefined) state = 'revoked'
  else if (now < certificate.validFromDate.getTime()) state = 'not-yet-valid'
  else if (now > notAfter) state = 'expired'
  else if (notAfter - now < EXPIRY_WARNING_DAYS * DAY) state = 'expiring'
  const id = identityOf(certificate)
  return {
    role,
    profile: profileOf(certificate),
    ...(id === undefined ? {} : { id }),
    subject: oneLine(certificate.subject),
    serial: normaliseSerial(certificate.serialNumber),
    notBefore: certificate.validFromDate.toISOString(),
    notAfter: certificate.validToDate.toISOString(),
    daysLeft,
    state,
    fingerprint: fingerprintOf(certificate),
  }
}

export function inventory (keystore: Keystore, trust: TrustStore, now = Date.now()): CertificateRow[] {
  const rows: CertificateRow[] = []
  const seen = new Set<string>()
  const add = (c: X509Certificate, role: CertificateRow['role']): void => {
    const row = describe(c, role, trust, now)
    if (seen.has(row.fingerprint)) return
    seen.add(row.fingerprint)
    rows.push(row)
  }
  const leavesIn = (dir: string, file: string, role: CertificateRow['role']): void => {
    if (!existsSync(dir)) return
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name, file)
      if (existsSync(path)) add(readCertificates(path)[0], role)
    }
  }
  const paths = keystore.paths
  for (const a of trust.anchors) add(a, 'trusted CA')
  if (existsSync(paths.nodeCert)) add(readCertificates(paths.nodeCert)[0], 'node TLS')
  leavesIn(join(paths.root, 'members'), 'sign.cert.pem', 'member signing')
  leavesIn(join(paths.root, 'clients'), 'tls.cert.pem', 'client TLS')
  for (const c of issuedCertificates(paths)) add(c, 'issued')
  return rows
}

/** Certificates in use that expire within the warning window (revoked ones are out of use). */
export function expiringSoon (rows: CertificateRow[]): CertificateRow[] {
  return rows.filter(r => r.state === 'expiring' || r.state === 'expired')
}
