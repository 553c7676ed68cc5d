/**
 * The certificates the node issued through the registry (onboarding approvals, the admin API's
 * certificate requests) as rows of the certificate inventory, so that `/readyz` and
 * `ura_certificate_expiry_timestamp_seconds` tell about them as about those in the data directory.
 * It follows the store: the rows are rebuilt once per new version, not per scrape.
 */
import { X509Certificate } from 'node:crypto'
import { describe, type CertificateRow } from '../certs/inventory.ts'
import type { TrustStore } from '../certs/trust-store.ts'
import type { RegistryStore } from './store/index.ts'

export interface IssuedCertificates {
  /** Every certificate issued through the registry, described now (state, days left). */
  rows (): CertificateRow[]
  close (): Promise<void>
}

export async function followIssuedCertificates (store: RegistryStore, trust: TrustStore): Promise<IssuedCertificates> {
  let certificates: X509Certificate[] = []
  const load = async (): Promise<void> => {
    const { content } = await store.current()
    certificates = content.certificates.map(c => new X509Certificate(c.pem))
  }
  await load()
  const stop = await store.watch(() => { load().catch(() => { /* the next version tries again */ }) })
  return {
    // The trust store's revocation list holds the registry's revocations too (applied at each swap).
    rows: () => certificates.map(c => describe(c, 'issued', trust)),
    close: stop,
  }
}
