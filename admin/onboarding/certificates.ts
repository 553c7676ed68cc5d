/**
 * Certificates the node's CA issues and withdraws, as registry changes: an issued certificate is
 * recorded in `certificates` (owner, serial, validity, fingerprint, PEM) and its fingerprint pinned on
 * the subsystem or operator that holds it; a revoked one gets a `revocations` entry (the shape the
 * node's revocation list reads) and is unpinned wherever it was pinned. Signing itself is a function
 * the caller passes (`Issue`), so these stay pure transformations of registry content.
 */
import { X509Certificate } from 'node:crypto'
import type { IssuedCertificate, RevocationRecord } from '../../config/registry-sections.ts'
import { fingerprintOf, identityOf, normaliseSerial, subjectOf } from '../../certs/pki.ts'
import { memberOf } from '../../protocol/identifiers.ts'
import type { RegistryContent } from '../../registry/store/index.ts'
import { expectSubject, readRequest } from './application.ts'
import { OnboardingError } from './errors.ts'
import { normalFingerprint, normalSerial } from './ids.ts'
import { toMemberRole, toRole, withNotices, type Notice } from './outbox.ts'

/** Signs a CSR with the node's CA and returns the certificate's PEM (profile `tls-client` or `signing`). */
export type Issue = (csrPem: string, profile: 'tls-client' | 'signing') => string

export type CertificateRole = IssuedCertificate['role']

const PROFILE: Record<CertificateRole, 'tls-client' | 'signing'> = { tls: 'tls-client', sign: 'signing', operator: 'tls-client' }

export interface IssueInput {
  csr: string
  role: CertificateRole
  /** A subsystem's client id (tls; a member id is accepted too), a member id (sign), an operator id (operator). */
  owner: string
  by: string
  now: Date
  issue: Issue
  application?: string
}

/**
 * Signs the CSR through `issue` and reads the result back: the certificate must carry the identity
 * the CSR was checked for, or it is not recorded.
 */
export function signAndRecord (input: IssueInput, expectedIdentity: string | undefined): IssuedCertificate {
  const pem = input.issue(input.csr, PROFILE[input.role])
  const cert = new X509Certificate(pem)
  if (identityOf(cert) !== expectedIdentity) throw new OnboardingError('Onboarding.InternalError', `the CA issued a certificate for ${identityOf(cert) ?? subjectOf(cert).CN}, not ${expectedIdentity ?? input.owner}`)
  return {
    serial: normaliseSerial(cert.serialNumber),
    role: input.role,
    owner: input.owner,
    subject: cert.subject,
    fingerprint: fingerprintOf(cert),
    notBefore: cert.validFromDate.toISOString(),
    notAfter: cert.validToDate.toISOString(),
    issuedAt: input.now.toISOString(),
    issuedBy: input.by,
    ...(input.application === undefined ? {} : { application: input.application }),
    pem: cert.toString(),
  }
}

/** Who hears about a certificate: its member's service administrators and the security officers. */
function audience (owner: string, role: CertificateRole): string[] {
  return role === 'operator' ? [toRole('security-officer')] : [toMemberRole('service-administrator', memberOf(owner)), toRole('security-officer')]
}

/**
 * Issues one certificate from a CSR for a registered owner. tls: the CSR names the subsystem (or
 * member) in its serialNumber and CN, and the new fingerprint joins the subsystem's pins when it pins
 * any (one that pins none accepts every certificate of its id from the CA, and is left so). sign: the
 * CSR names the member. operator: the CSR carries no X-Road id (so the certificate can never pass for
 * a client system on the exchange port) and its CN is the operator id; the fingerprint is pinned on
 * the operator.
 */
export function issueCertificate (content: RegistryContent, input: IssueInput): { content: RegistryContent; certificate: IssuedCertificate } {
  const { role, owner } = input
  if (!(role in PROFILE)) throw new OnboardingError('Onboarding.InvalidRequest', `role must be tls, sign or operator, not '${String(role)}'`)
  const csr = readRequest(input.csr, 'csr')
  let next: RegistryContent
  let expected: string | undefined
  if (role === 'operator') {
    const operator = content.operators.find(o => o.id === owner)
    if (operator === undefined) throw new OnboardingError('Onboarding.UnknownClient', `operator ${owner} does not exist`)
    if (csr.subject.serialNumber !== undefined) throw new OnboardingError('Onboarding.CsrSubjectMismatch', `an operator certificate carries no X-Road id; the CSR names '${csr.subject.serialNumber}'`)
    if (csr.subject.CN !== owner) throw new OnboardingError('Onboarding.CsrSubjectMismatch', `the CSR has CN '${csr.subject.CN}'; it must be the operator id ${owner}`)
    if ((operator.certificates ?? []).length >= 20) throw new OnboardingError('Onboarding.InvalidState', `operator ${owner} already holds 20 certificates: revoke one first`)
    expected = undefined
    next = content
  } else {
    const parts = owner.split('/')
    const member = content.members.find(m => `${parts[0]}/${m.class}/${m.code}` === memberOf(owner))
    const isMember = parts.length === 3 && member !== undefined
    const isSubsystem = parts.length === 4 && member !== undefined && member.subsystems.some(s => s.code === parts[3])
    if (role === 'sign' && !isMember) throw new OnboardingError('Onboarding.UnknownClient', `an e-seal is issued to a registered member (instance/class/code); ${owner} is not one`)
    if (role === 'tls' && !isMember && !isSubsystem) throw new OnboardingError('Onboarding.UnknownClient', `${owner} is not a registered member or subsystem`)
    expectSubject(csr, owner, 'csr')
    expected = owner
    next = content
  }
  const certificate = signAndRecord(input, expected)
  if (role === 'operator') {
    next = { ...next, operators: next.operators.map(o => o.id === owner ? { ...o, certificates: [...(o.certificates ?? []), certificate.fingerprint!] } : o) }
  } else if (role === 'tls' && owner.split('/').length === 4) {
    next = pinOnSubsystem(next, owner, certificate.fingerprint!)
  }
  next = { ...next, certificates: [...next.certificates, certificate] }
  const notice: Notice = {
    to: audience(owner, role),
    subject: `Certificate issued for ${owner}`,
    body: `The node's CA issued a ${role} certificate for ${owner} (serial ${certificate.serial}, valid until ${certificate.notAfter}, SHA-256 ${certificate.fingerprint}).`,
    about: `certificate:${certificate.serial}`,
  }
  return { content: withNotices(next, [notice], input.now).content, certificate }
}

/** Adds a pin to a subsystem that pins certificates; one that pins none is left accepting any of its id. */
function pinOnSubsystem (content: RegistryContent, clientId: string, fingerprint: string): RegistryContent {
  const [instance, cls, code, sub] = clientId.split('/')
  return {
    ...content,
    members: content.members.map(m => `${instance}/${m.class}/${m.code}` !== `${instance}/${cls}/${code}` ? m : {
      ...m,
      subsystems: m.subsystems.map(s => s.code !== sub || s.certificates === undefined ? s : { ...s, certificates: [...s.certificates, fingerprint] }),
    }),
  }
}

export interface RevokeInput {
  serial: string
  reason: string
  by: string
  now: Date
}

/**
 * Revokes a certificate the node issued: a `revocations` entry with the issuer and subject as
 * node:crypto prints them (what the revocation list matches on), and its fingerprint unpinned from
 * every subsystem and operator holding it. A subsystem whose last pin goes then accepts no
 * certificate until a new one is issued.
 */
export function revokeCertificate (content: RegistryContent, input: RevokeInput): { content: RegistryContent; revocation: RevocationRecord; unpinned: string[] } {
  const serial = normalSerial(typeof input.serial === 'string' ? input.serial : '')
  if (serial === undefined) throw new OnboardingError('Onboarding.InvalidRequest', `'${String(input.serial)}' is not a hexadecimal serial number`)
  const reason = typeof input.reason === 'string' ? input.reason.trim() : ''
  if (reason === '') throw new OnboardingError('Onboarding.ReasonRequired', 'a revocation needs a reason')
  const issued = content.certificates.find(c => c.serial === serial)
  if (issued === undefined) throw new OnboardingError('Onboarding.UnknownCertificate', `the node issued no certificate with serial ${serial}`)
  const cert = new X509Certificate(issued.pem)
  if (content.revocations.some(r => r.serial === serial && r.issuer === cert.issuer)) throw new OnboardingError('Onboarding.AlreadyRevoked', `certificate ${serial} is already revoked`)
  const revocation: RevocationRecord = { serial, issuer: cert.issuer, subject: cert.subject, revokedAt: input.now.toISOString(), reason: reason.slice(0, 500), revokedBy: input.by }
  const fingerprint = fingerprintOf(cert)
  const unpinned: string[] = []
  const drop = (pins: string[] | undefined, where: string): string[] | undefined => {
    if (pins === undefined || !pins.some(p => normalFingerprint(p) === fingerprint)) return pins
    unpinned.push(where)
    return pins.filter(p => normalFingerprint(p) !== fingerprint)
  }
  const members = content.members.map(m => ({
    ...m,
    subsystems: m.subsystems.map(s => {
      const pins = drop(s.certificates, `subsystem ${m.class}/${m.code}/${s.code}`)
      return pins === s.certificates ? s : { ...s, certificates: pins }
    }),
  }))
  const operators = content.operators.map(o => {
    const pins = drop(o.certificates, `operator ${o.id}`)
    return pins === o.certificates ? o : { ...o, certificates: pins }
  })
  const next = { ...content, members, operators, revocations: [...content.revocations, revocation] }
  const notice: Notice = {
    to: audience(issued.owner, issued.role),
    subject: `Certificate revoked for ${issued.owner}`,
    body: `Certificate ${serial} (${issued.role}, ${issued.owner}) was revoked by ${input.by}: ${revocation.reason}. The node refuses it from now on.`,
    about: `certificate:${serial}`,
  }
  return { content: withNotices(next, [notice], input.now).content, revocation, unpinned }
}
