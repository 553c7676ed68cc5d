/**
 * A node's PKI as the running gateway uses it: the keystore and trust store in its data directory,
 * the node's TLS material, and the list of certificates expiring soon (cached for a minute, since
 * `/readyz` is polled).
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
  expiring (): CertificateRow[]
}

export function openNodePki (dataDir: string, opts: { passphrase?: string } = {}): NodePki {
  const keystore = new Keystore(dataDir, opts)
  const trust = TrustStore.load(keystore.paths)
  let cached: { at: number; rows: CertificateRow[] } | undefined
  return {
    keystore,
    trust,
    expiring: () => {
      if (cached === undefined || Date.now() - cached.at > 60_000) cached = { at: Date.now(), rows: expiringSoon(inventory(keystore, trust)) }
      return cached.rows
    },
  }
}
