/** `ura start`: runs the node, the one long-running command; the others prepare or check what it uses. */
import { relative } from 'node:path'
import { initPki } from '../certs/dev-pki.ts'
import { KeystoreError } from '../certs/keystore.ts'
import { dataDirOf, openNodePki } from '../certs/node-pki.ts'
import { ConfigError, loadConfig } from '../config/load.ts'
import { startDemoProviders } from '../demo/providers.ts'
import { buildGateway } from '../gateway/server.ts'
import type { GatewayTls } from '../gateway/edge/tls.ts'
import { keystoreSigningKeys } from '../certs/keystore-signer.ts'
import { openMessageLog } from '../messagelog/index.ts'
import { readFileSync } from 'node:fs'
import { openDelivery } from '../delivery/index.ts'
import { seedTransparency, TIRANE_COUNCIL, TIRANE_TRANSPARENCY } from '../demo/transparency-seed.ts'
import { LiveRegistryError } from '../registry/live.ts'
import { followIssuedCertificates, type IssuedCertificates } from '../registry/issued-certificates.ts'
import { expiringSoon, type CertificateRow } from '../certs/inventory.ts'
import { registryStoreLocation, seedRegistryStore, shownLocation, type Seeding } from '../registry/node-store.ts'
import { openRegistryStore, RegistryStoreError, type RegistryStore } from '../registry/store/index.ts'
import { startAdmin } from '../admin/start.ts'

import { DEMO_CONFIG_DIR } from '../config/defaults.ts'
import { releaseSemiSpaceOptions } from './thread-memory.ts'

/**
 * `ura start`: the gateway (and with --demo the demo providers) until SIGTERM/SIGINT. The node serves
 * HTTPS with client certificates on `node.listen.port`, using the PKI in its data directory
 * (`ura init`; `--demo` runs it on first start), and plain HTTP on `node.listen.httpPort` if set.
 * Its registry is the registry store's (`node.registry`), seeded from the configuration directory
 * when the store is empty; the node follows the store's new versions while it runs.
 */
export async function start (values: { config?: string; demo?: boolean }): Promise<number> {
  // Before any worker thread starts: the launcher's semi-space size is the main thread's alone.
  releaseSemiSpaceOptions()
  let config
  try {
    config = await loadConfig(values.config ?? DEMO_CONFIG_DIR)
  } catch (err) {
    if (err instanceof ConfigError) { console.error(err.message); return 1 }
    throw err
  }
  const dataDir = dataDirOf(config)
  let pki
  let tls: GatewayTls
  try {
    pki = openNodePki(dataDir)
    if (values.demo === true) {
      const made = initPki({ keystore: pki.keystore, config })
      if (made.created.length > 0) {
        console.error(`ura: created the development PKI in ${pki.keystore.paths.root} (${made.created.length} files)`)
        pki = openNodePki(dataDir)
      }
    }
    if (!pki.keystore.hasNodeTls()) {
      console.error(`ura: no TLS certificate for this node in ${pki.keystore.paths.root}: run 'ura init${values.config === undefined ? '' : ` --config ${values.config}`}' first`)
      return 1
    }
    tls = { ...pki.keystore.nodeTls(), trust: pki.trust, plainHttp: config.node.listen.httpPort !== undefined }
  } catch (err) {
    if (err instanceof KeystoreError) { console.error(`ura: ${err.message}`); return 1 }
    throw err
  }
  const where = registryStoreLocation(config)
  let store: RegistryStore
  let seeding: Seeding
  try {
    store = await openRegistryStore(where, { instance: config.node.instance })
  } catch (err) {
    console.error(`ura: cannot open the registry store ${shownLocation(where)}: ${(err as Error).message}`)
    return 1
  }
  try {
    // The demo's registry follows its YAML as long as only `ura start` has written the store.
    seeding = await seedRegistryStore(store, config, { followConfig: values.demo === true })
  } catch (err) {
    await store.close()
    if (err instanceof RegistryStoreError) { console.error(`ura: the registry store cannot be seeded from ${config.dir}: ${err.code}: ${err.message}`); return 1 }
    throw err
  }
  const providers = values.demo === true ? await startDemoProviders() : undefined
  // Members sign requests and responses with their e-seal keys from the data directory.
  const messageLog = await openMessageLog(config, keystoreSigningKeys(pki.keystore, pki.trust))
  // Store-and-forward and pub/sub: the durable queue beside the log (or on the cluster's PostgreSQL).
  const delivery = await openDelivery(config, dataDirOf(config))
  let gateway
  // Certificates issued through the registry join the data directory's in /readyz and the expiry metric.
  let issued: IssuedCertificates | undefined
  const certificates = (): CertificateRow[] => [...pki.certificates(), ...issued?.rows() ?? []]
  try {
    issued = await followIssuedCertificates(store, pki.trust)
    gateway = await buildGateway({ config, tls, expiringCertificates: () => expiringSoon(certificates()), certificates, messageLog, registryStore: store, delivery })
  } catch (err) {
    if (!(err instanceof LiveRegistryError)) throw err
    console.error(`ura: ${err.message}\nura: commit a corrected registry (ura config import) or roll back, then start again`)
    await issued?.close()
    await delivery.queue.close()
    await delivery.idempotency.close()
    await messageLog.close()
    await providers?.close()
    await store.close()
    return 1
  }
  const dir = relative(process.cwd(), config.dir) || '.'
  const served = gateway.registryVersion()
  if (seeding.action !== 'kept') gateway.app.log.info({ registryVersion: seeding.version, dir }, `registry store ${seeding.action === 'seeded' ? 'was empty: seeded' : 'follows the changed demo configuration:'} version ${seeding.version} from ${dir}`)
  gateway.app.log.info({ registryVersion: served, store: shownLocation(where) }, `serving registry version ${served} from ${shownLocation(where)}`)
  if (seeding.differs) gateway.app.log.warn({ registryVersion: served, dir }, `the registry files in ${dir} differ from registry version ${served}, which the node serves: 'ura config import ${dir}' makes them a new version`)
  // The admin API on its own listener (node.admin), its actions signed into the audit trail by the
  // same batch signer; up before the exchange port, so a node that says it listens is whole. It
  // commits to the node's own store object, so the gateway applies each of its versions at once.
  let admin
  try {
    // It reads the node's message log, and the gateway's breakers and the certificates expiring, for its overview.
    const running = gateway
    admin = await startAdmin({
      config, pki, signer: messageLog.signer, store, log: gateway.app.log.child({ part: 'admin' }),
      logStore: messageLog.store,
      deliveryQueue: delivery.queue,
      health: () => ({
        breakers: running.breakers(),
        certificatesExpiringSoon: expiringSoon(certificates()).map(c => ({ role: c.role, ...(c.id === undefined ? {} : { id: c.id }), subject: c.subject, serial: c.serial, notAfter: c.notAfter, daysLeft: c.daysLeft, state: c.state })),
      }),
    })
  } catch (err) {
    console.error(`ura: the admin API cannot start: ${(err as Error).message}`)
    await gateway.close()
    await store.close()
    await providers?.close()
    return 1
  }
  const { host, port, httpPort } = config.node.listen
  await gateway.app.listen({ host, port })
  if (httpPort !== undefined && gateway.plainServer !== undefined) {
    await new Promise<void>((ok, fail) => gateway.plainServer!.once('error', fail).listen(httpPort, host, () => ok()))
    gateway.app.log.info({ url: `http://${host}:${httpPort}` }, 'plain HTTP for connection: http clients')
  }
  if (providers !== undefined) gateway.app.log.info({ providers: providers.urls }, 'demo provider systems are running')
  if (values.demo === true) {
    // Tiranë's council publishes its first papers, so the transparency feed and e-Albania's pull have something to show.
    try {
      const files = pki.keystore.paths.client(TIRANE_COUNCIL)
      const tlsFiles = { ca: readFileSync(pki.keystore.paths.caCert, 'utf8'), cert: readFileSync(files.cert, 'utf8'), key: pki.keystore.privateKey(files.key).export({ type: 'pkcs8', format: 'pem' }) as string }
      const n = await seedTransparency(`https://${host}:${port}`, tlsFiles)
      gateway.app.log.info({ room: TIRANE_TRANSPARENCY, events: n }, 'demo: Tiranë\'s council papers are published (/feeds/tirane.atom)')
    } catch (err) {
      gateway.app.log.warn({ err }, 'demo: Tiranë\'s council papers could not be published')
    }
  }
  const expiring = pki.expiring()
  if (expiring.length > 0) gateway.app.log.warn({ certificates: expiring.map(c => ({ role: c.role, id: c.id, notAfter: c.notAfter, state: c.state })) }, 'certificates expire within 30 days')

  let stopping = false
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return
    stopping = true
    gateway.app.log.info({ signal }, 'draining: finishing exchanges in flight')
    await gateway.close()
    await admin?.close()
    await store.close()
    await providers?.close()
    process.exit(0)
  }
  process.once('SIGTERM', () => { void stop('SIGTERM') })
  process.once('SIGINT', () => { void stop('SIGINT') })
  return -1
}
