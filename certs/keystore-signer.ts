/**
 * The node's signing keys for the batch signer: members' e-seal keys from the keystore. Before each
 * batch the member's certificate is checked against the trust store — valid now, a signing
 * certificate, not revoked — so a revoked or expired seal stops signing (and the exchange fails with
 * LoggingFailed) instead of producing evidence nobody should accept.
 */
import { X509Certificate } from 'node:crypto'
import type { SigningIdentity, SigningKeyProvider } from './batch-signer.ts'
import type { Keystore } from './keystore.ts'
import { isTrustFailure, type CertificatePath, type TrustStore } from './trust-store.ts'

export function keystoreSigningKeys (keystore: Keystore, trust: TrustStore): SigningKeyProvider {
  // The signature path depends only on the certificates: found once per member.
  const paths = new Map<string, CertificatePath>()
  return {
    identityFor (memberId: string): SigningIdentity {
      const id = keystore.signingIdentity(memberId)
      let path = paths.get(memberId)
      if (path === undefined) {
        const found = trust.path(id.certificate, id.chainPem.slice(1).map(pem => new X509Certificate(pem)))
        if (isTrustFailure(found)) throw new Error(`signing certificate of ${memberId}: ${found.message}`)
        path = found
        paths.set(memberId, path)
      }
      const failure = trust.status(path, 'signing')
      if (failure !== undefined) throw new Error(`signing certificate of ${memberId}: ${failure.message}`)
      return { key: id.key, chain: id.chainPem }
    },
  }
}
