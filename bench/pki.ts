/**
 * The throwaway PKI of a bench node, made by `ura init`'s code in the node's fresh data directory
 * (bench/run.ts, bench/soak-signed.ts): CA, node certificate and member keys of the scenario's type.
 */
import { readFile } from 'node:fs/promises'
import { initPki } from '../certs/dev-pki.ts'
import { Keystore } from '../certs/keystore.ts'
import { loadConfig } from '../config/load.ts'
import { BENCH_PASSPHRASE, CLIENT } from './fixtures.ts'
import type { ClientTls } from './load.ts'
import type { Scenario } from './scenarios.ts'

/** Makes the node's PKI (member keys of the scenario's type); on TLS returns the calling subsystem's client certificate. */
export async function makeBenchPki (configDir: string, dataDir: string, s: Pick<Scenario, 'signing' | 'transport'>): Promise<ClientTls | undefined> {
  const keystore = new Keystore(dataDir, { passphrase: BENCH_PASSPHRASE })
  initPki({ keystore, config: await loadConfig(configDir), ...(s.signing === undefined ? {} : { memberKeyType: s.signing }) })
  if (s.transport !== 'tls') return undefined
  const files = keystore.paths.client(CLIENT)
  return { key: keystore.privateKey(files.key).export({ type: 'pkcs8', format: 'pem' }) as string, cert: await readFile(files.cert, 'utf8') }
}
