/** Test rig: real demo providers and a real gateway on loopback ports, configured from YAML. */
import { DEMO_CONFIG_DIR } from '../../config/defaults.ts'
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Writable } from 'node:stream'
import { loadConfig } from '../../config/load.ts'
import type { UraConfig } from '../../config/types.ts'
import { startCivilRegistry } from '../../demo/civil-registry.ts'
import { startTaxOffice } from '../../demo/tax-office.ts'
import type { ExchangeRecorder } from '../../gateway/pipeline/exchange.ts'
import { buildGateway, type Gateway, type GatewayOptions } from '../../gateway/server.ts'
import { initPki } from '../../certs/dev-pki.ts'
import { Keystore } from '../../certs/keystore.ts'
import { openNodePki } from '../../certs/node-pki.ts'
import type { TrustStore } from '../../certs/trust-store.ts'
import type { MessageLog } from '../../messagelog/index.ts'
import { importDir, type RegistryContent, type RegistryStore } from '../../registry/store/index.ts'

export const DEMO_DIR = DEMO_CONFIG_DIR

export const E_ALBANIA = 'AL-DEV/GOV/K11503002N/e-albania'
export const TIRANA_CIVIL = 'AL-DEV/NJQV/L21603004L/gjendja-civile'
export const DURRES_SOCIAL = 'AL-DEV/NJQV/M51305009K/ndihma-sociale'
export const TAX_SERVICE = 'AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet'
export const CIVIL_SERVICE = 'AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas'

/** A member added next to the demo ones (extra YAML file): registered, reachable over HTTP, granted nothing. */
export const UNGRANTED = 'AL-DEV/NJQV/J61902003J/arkiva'
export const UNGRANTED_MEMBER_YAML = `members:
  - class: NJQV
    code: J61902003J
    name: Bashkia Shkodër
    subsystems:
      - code: arkiva
        name: Arkiva vendore
        connection: http
`

/** The demo's calling systems, which plain-HTTP tests mark `connection: http`. */
const CALLING_SUBSYSTEMS = ['e-albania', 'gjendja-civile', 'ndihma-sociale', 'kontrolli-tatimor']

/**
 * Copies the demo configuration into a temp dir, lets the test edit the YAML text, loads it.
 * Unless `mtls` is set, the demo's calling systems are marked `connection: http` so tests can call
 * over plain HTTP; with `mtls` they need client certificates (see `startTlsRig`). `bridge` adds the
 * bridged demo services of bridge.yaml, `bashki` the 61 municipalities and the pub/sub rooms.
 */
export async function demoConfig (edit: Record<string, (text: string) => string> = {}, extra: Record<string, string> = {}, opts: { mtls?: boolean; bridge?: boolean; bashki?: boolean } = {}): Promise<UraConfig> {
  const dir = await mkdtemp(join(tmpdir(), 'ura-config-'))
  for (const name of await readdir(DEMO_DIR)) {
    // The bridged services (bridge.yaml) join only when asked, so tests that count the core demo's
    // services and clients keep describing it.
    if (name === 'bridge.yaml' && opts.bridge !== true) continue
    // So are the 59 generated municipalities and the rooms (bashki.yaml, rooms.yaml: docs/demo.md).
    if ((name === 'bashki.yaml' || name === 'rooms.yaml') && opts.bashki !== true) continue
    let text = await readFile(join(DEMO_DIR, name), 'utf8')
    text = text.replaceAll('../../schemas/', resolve(DEMO_DIR, '../../schemas') + '/')
    if ((name === 'members.yaml' || name === 'bridge.yaml') && opts.mtls !== true) {
      for (const code of CALLING_SUBSYSTEMS) text = text.replace(new RegExp(`(- code: ${code}\n( +)name: [^\n]*\n)`), '$1$2connection: http\n')
    }
    await writeFile(join(dir, name), edit[name]?.(text) ?? text)
  }
  for (const [name, text] of Object.entries(extra)) await writeFile(join(dir, name), text)
  return loadConfig(dir)
}

export interface Rig {
  url: string
  gateway: Gateway
  logs: string[]
  close (): Promise<void>
}

export interface TlsRig extends Rig {
  /** Plain HTTP URL of the same node (for `connection: http` clients). */
  plainUrl: string
  dataDir: string
  keystore: Keystore
  trust: TrustStore
}

/** Passphrase of the keys in TLS rigs (the CLI commands read it from the environment). */
export const TEST_PASSPHRASE = 'test-passphrase'

/**
 * Like startRig, but the node serves HTTPS with client certificates, from a dev PKI made by
 * `ura init` in a fresh data directory (or the one given), plus plain HTTP on a second port.
 */
export async function startTlsRig (opts: { config?: UraConfig; recorder?: ExchangeRecorder; dataDir?: string; revocationRefreshMs?: number; messageLog?: MessageLog } & StoreOptions = {}): Promise<TlsRig> {
  process.env.URA_KEY_PASSPHRASE = TEST_PASSPHRASE
  const config = opts.config ?? await demoConfig({}, {}, { mtls: true })
  const dataDir = opts.dataDir ?? await mkdtemp(join(tmpdir(), 'ura-data-'))
  initPki({ keystore: new Keystore(dataDir, { passphrase: TEST_PASSPHRASE }), config })
  const pki = openNodePki(dataDir, { passphrase: TEST_PASSPHRASE })
  const tls = { ...pki.keystore.nodeTls(), trust: pki.trust, plainHttp: true }
  const rig = await startRig({ config, ...(opts.recorder === undefined ? {} : { recorder: opts.recorder }), ...(opts.messageLog === undefined ? {} : { messageLog: opts.messageLog }), tls, expiringCertificates: pki.expiring, certificates: pki.certificates, ...storeOptions(opts) })
  const plain = rig.gateway.plainServer!
  await new Promise<void>(ok => plain.listen(0, '127.0.0.1', () => ok()))
  const { port } = plain.address() as { port: number }
  return { ...rig, plainUrl: `http://127.0.0.1:${port}`, dataDir, keystore: pki.keystore, trust: pki.trust }
}

interface StoreOptions {
  /** The node runs on this registry store; an empty one is first given the configuration's registry parts (through `seed`, if set). */
  registryStore?: RegistryStore
  seed?: (content: RegistryContent) => RegistryContent
}

function storeOptions (opts: StoreOptions): StoreOptions {
  return { ...(opts.registryStore === undefined ? {} : { registryStore: opts.registryStore }), ...(opts.seed === undefined ? {} : { seed: opts.seed }) }
}

/** The demo providers' addresses in the demo configuration, replaced by the rig's own. */
function pointAtProviders (services: Array<{ adapter: { url: string } }>, tax: string, civil: string): void {
  for (const s of services) {
    if (s.adapter.url === 'http://127.0.0.1:4401/api/v1') s.adapter.url = tax
    if (s.adapter.url === 'http://127.0.0.1:4402/regjistri-civil') s.adapter.url = civil
  }
}

/** Starts the demo providers on free ports, points the config (or the registry store's first version) at them, starts the gateway. */
export async function startRig (opts: { config?: UraConfig; recorder?: ExchangeRecorder; messageLog?: MessageLog } & Pick<GatewayOptions, 'tls' | 'expiringCertificates' | 'certificates' | 'delivery'> & StoreOptions = {}): Promise<Rig> {
  const tax = await startTaxOffice({ port: 0 })
  const civil = await startCivilRegistry({ port: 0 })
  const config = opts.config ?? await demoConfig()
  pointAtProviders(config.services, tax.url, civil.url)
  const store = opts.registryStore
  if (store !== undefined && (await store.current()).version === 0) {
    const content = await importDir(config.dir)
    pointAtProviders(content.services, tax.url, civil.url)
    await store.commit(opts.seed?.(content) ?? content, { who: 'test', why: 'the demo registry', expectedVersion: 0 })
  }
  const logs: string[] = []
  const stream = new Writable({ write (chunk, _enc, cb) { logs.push(chunk.toString()); cb() } })
  const gateway = await buildGateway({
    config,
    logger: { level: 'info', stream },
    ...(opts.recorder === undefined ? {} : { recorder: opts.recorder }),
    ...(opts.tls === undefined ? {} : { tls: opts.tls }),
    ...(opts.expiringCertificates === undefined ? {} : { expiringCertificates: opts.expiringCertificates }),
    ...(opts.certificates === undefined ? {} : { certificates: opts.certificates }),
    ...(opts.messageLog === undefined ? {} : { messageLog: opts.messageLog }),
    ...(opts.delivery === undefined ? {} : { delivery: opts.delivery }),
    ...(store === undefined ? {} : { registryStore: store }),
  })
  const url = await gateway.app.listen({ host: '127.0.0.1', port: 0 })
  return {
    url,
    gateway,
    logs,
    close: async () => { await gateway.close(); await tax.close(); await civil.close() },
  }
}
