/**
 * A whole node in-process, composed the way `ura start` composes it (cli/start.ts): the demo
 * configuration in a fresh data directory with its development PKI, the registry store seeded from
 * it, the message log, the gateway over mutual TLS and the admin API (with the console and the
 * public application pages) committing to the gateway's own store, so a change made in the console
 * is served by the exchange port at once. Both listen on free loopback ports; the demo providers are
 * not started (their ports are fixed): a test starts the provider systems it needs.
 */
import { readFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startAdmin, type RunningAdmin } from '../../admin/start.ts'
import { initPki } from '../../certs/dev-pki.ts'
import { expiringSoon, type CertificateRow } from '../../certs/inventory.ts'
import { Keystore } from '../../certs/keystore.ts'
import { keystoreSigningKeys } from '../../certs/keystore-signer.ts'
import { openNodePki } from '../../certs/node-pki.ts'
import type { UraConfig } from '../../config/types.ts'
import { buildGateway, type Gateway } from '../../gateway/server.ts'
import { openMessageLog, type MessageLog } from '../../messagelog/index.ts'
import { followIssuedCertificates } from '../../registry/issued-certificates.ts'
import { registryStoreLocation, seedRegistryStore } from '../../registry/node-store.ts'
import { openRegistryStore, type RegistryStore } from '../../registry/store/index.ts'
import { demoConfig, TEST_PASSPHRASE } from './gateway.ts'

export interface WholeNode {
  /** The exchange port (HTTPS, client certificates required). */
  gatewayUrl: string
  /** The admin listener: admin API, console, application pages. */
  adminUrl: string
  /** The node's development CA, which issued the listeners' certificate and every certificate the node issues. */
  caPem: string
  config: UraConfig
  keystore: Keystore
  store: RegistryStore
  gateway: Gateway
  messageLog: MessageLog
  /** A demo client's key and certificate chain (`ura init` made them), for node:https. */
  clientTls (id: string): { key: string; cert: string }
  close (): Promise<void>
}

export async function startWholeNode (): Promise<WholeNode> {
  process.env.URA_KEY_PASSPHRASE = TEST_PASSPHRASE
  const dataDir = await mkdtemp(join(tmpdir(), 'ura-node-'))
  const config = await demoConfig({
    'node.yaml': text => text.replace(/port: 844[34]\b[^\n}]*/g, 'port: 0').replace(/dataDir: .*/, `dataDir: ${dataDir}`),
  }, {}, { mtls: true })
  initPki({ keystore: new Keystore(dataDir, { passphrase: TEST_PASSPHRASE }), config })
  const pki = openNodePki(dataDir, { passphrase: TEST_PASSPHRASE })
  const closers: Array<() => Promise<unknown>> = []
  const close = async (): Promise<void> => { for (const c of closers.splice(0).reverse()) await c().catch(() => {}) }
  try {
    const store = await openRegistryStore(registryStoreLocation(config), { instance: config.node.instance })
    closers.push(() => store.close())
    await seedRegistryStore(store, config, { followConfig: true })
    const messageLog = await openMessageLog(config, keystoreSigningKeys(pki.keystore, pki.trust))
    closers.push(() => messageLog.close())
    const issued = await followIssuedCertificates(store, pki.trust)
    closers.push(() => issued.close())
    const certificates = (): CertificateRow[] => [...pki.certificates(), ...issued.rows()]
    const gateway = await buildGateway({
      config,
      logger: false,
      tls: { ...pki.keystore.nodeTls(), trust: pki.trust, plainHttp: false },
      expiringCertificates: () => expiringSoon(certificates()),
      certificates,
      messageLog,
      registryStore: store,
    })
    closers.push(() => gateway.close())
    const admin: RunningAdmin | undefined = await startAdmin({
      config, pki, signer: messageLog.signer, store, logStore: messageLog.store,
      health: () => ({ breakers: gateway.breakers(), certificatesExpiringSoon: [] }),
    })
    if (admin === undefined) throw new Error('the demo configuration has no node.admin')
    closers.push(() => admin.close())
    const gatewayUrl = await gateway.app.listen({ host: '127.0.0.1', port: 0 })
    return {
      gatewayUrl,
      adminUrl: admin.url,
      caPem: readFileSync(pki.keystore.paths.caCert, 'utf8'),
      config,
      keystore: pki.keystore,
      store,
      gateway,
      messageLog,
      clientTls (id) {
        const files = pki.keystore.paths.client(id)
        return { key: pki.keystore.privateKey(files.key).export({ type: 'pkcs8', format: 'pem' }) as string, cert: readFileSync(files.cert, 'utf8') }
      },
      close,
    }
  } catch (err) {
    await close()
    throw err
  }
}
