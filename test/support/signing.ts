/** Test signing identities made by the project's PKI: a root CA and members' e-seal certificates. */
import type { SigningIdentity, SigningKeyProvider } from '../../certs/batch-signer.ts'
import { createRootCa, generateKeyPair, issueCertificate, type CertificateAuthority, type KeyType } from '../../certs/pki.ts'

export interface TestKeys extends SigningKeyProvider {
  ca: CertificateAuthority
  identities: Map<string, SigningIdentity>
  /** Issues (or re-issues) a member's signing certificate. */
  add (memberId: string, keyType: KeyType, opts?: { notBefore?: Date; notAfter?: Date; serialNumber?: string }): SigningIdentity
}

export function testSigningKeys (members: Record<string, KeyType>, ca: CertificateAuthority = createRootCa()): TestKeys {
  const identities = new Map<string, SigningIdentity>()
  const keys: TestKeys = {
    ca,
    identities,
    identityFor: id => identities.get(id),
    add (memberId, keyType, opts = {}) {
      const { privateKey, publicKey } = generateKeyPair(keyType)
      const pem = issueCertificate(ca, {
        subject: { C: 'AL', O: `member ${memberId}`, CN: memberId, serialNumber: opts.serialNumber ?? memberId },
        publicKey,
        profile: 'signing',
        ...(opts.notBefore === undefined ? {} : { notBefore: opts.notBefore }),
        ...(opts.notAfter === undefined ? {} : { notAfter: opts.notAfter }),
      })
      const identity = { key: privateKey, chain: [pem, ca.pem] }
      identities.set(memberId, identity)
      return identity
    },
  }
  for (const [id, type] of Object.entries(members)) keys.add(id, type)
  return keys
}
