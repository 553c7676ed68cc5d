import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from '../config/load.ts'
import { startDemoProviders } from '../demo/providers.ts'
import { buildGateway } from '../gateway/server.ts'
import { initPki } from '../certs/dev-pki.ts'
import { Keystore } from '../certs/keystore.ts'
import { keystoreSigningKeys } from '../certs/keystore-signer.ts'
import { TrustStore } from '../certs/trust-store.ts'
import { dataDirOf, openMessageLog } from '../gateway/log/message-log.ts'

export const DEMO_CONFIG = resolve(import.meta.dirname, '../config/demo')

/** `ura start`: the gateway (and with --demo the demo providers) until SIGTERM/SIGINT. */
export async function start (args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, demo: { type: 'boolean', default: false } } })
  let config
  try {
    config = await loadConfig(values.config ?? DEMO_CONFIG)
  } catch (err) {
    if (err instanceof ConfigError) { console.error(err.message); return 1 }
    throw err
  }
  const providers = values.demo === true ? await startDemoProviders() : undefined
  // Members sign with their e-seal keys from the data directory (made once by the dev PKI when missing).
  const keystore = new Keystore(dataDirOf(config))
  initPki({ keystore, config })
  const messageLog = await openMessageLog(config, keystoreSigningKeys(keystore, TrustStore.load(keystore.paths)))
  const gateway = await buildGateway({ config, messageLog })
  const { host, port } = config.node.listen
  await gateway.app.listen({ host, port })
  if (providers !== undefined) gateway.app.log.info({ providers: providers.urls }, 'demo provider systems are running')

  let stopping = false
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return
    stopping = true
    gateway.app.log.info({ signal }, 'draining: finishing exchanges in flight')
    await gateway.close()
    await providers?.close()
    process.exit(0)
  }
  process.once('SIGTERM', () => { void stop('SIGTERM') })
  process.once('SIGINT', () => { void stop('SIGINT') })
  return -1
}
