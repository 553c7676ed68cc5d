/**
 * A node's PKI as the running gateway uses it: the keystore and trust store in its data directory,
 * the node's TLS material, its certificate inventory and the certificates expiring soon (cached for
 * a minute, since `/readyz` and `/metrics` are polled).
 */
import { resolve } from 'node:path'
import type { UraConfig } from '../config/types.ts'
import { expiringSoon, inventory, type CertificateRow } from './inventory.ts'
import { Keystore } from './keystore.ts'
import { TrustStore } from './trust-store.ts'

/** The data directory of a configuration (`node.dataDir`, relative to the configuration directory). */
export function dataDirOf (config: UraConfig): string {
  return resolve(config.dir, config.node.dataDir)
}

export interface NodePki {
  keystore: Keystore
  trust: TrustStore
  /** Every certificate of the inventory, for `ura_certificate_expiry_timestamp_seconds`. */
  certificates (): CertificateRow[]
  expiring (): CertificateRow[]
}

export function openNodePki (dataDir: string, opts: { passphrase?: string } = {}): NodePki {
  const keystore = new Keystore(dataDir, opts)
  const trust = TrustStore.load(keystore.paths)
  let cached: { at: number; rows: CertificateRow[] } | undefined
  const certificates = (): CertificateRow[] => {
    if (cached === undefined || Date.now() - cached.at > 60_000) cached = { at: Date.now(), rows: inventory(keystore, trust) }
    return cached.rows
  }
  return {
    keystore,
    trust,
    certificates,
    expiring: () => expiringSoon(certificates()),
  }
}
