/**
 * A gateway node for the trust benchmarks: the demo configuration with the demo providers on free
 * ports, a given data directory, message log and member key type. Prints `ready <url>` on stdout.
 *
 *   node bench/trust-node.ts --data <dir> --log none|embedded|postgres [--pg-url <url>] [--keys ec-p256|rsa-2048]
 *                            [--batch-ms 0] [--batch-max 256] [--port 0] [--signing immediate|deferred] [--sign-within-ms 200]
 */
import { parseArgs } from 'node:util'
import { initPki } from '../certs/dev-pki.ts'
import { Keystore } from '../certs/keystore.ts'
import { keystoreSigningKeys } from '../certs/keystore-signer.ts'
import type { KeyType } from '../certs/pki.ts'
import { TrustStore } from '../certs/trust-store.ts'
import { loadConfig } from '../config/load.ts'
import { startCivilRegistry } from '../demo/civil-registry.ts'
import { startTaxOffice } from '../demo/tax-office.ts'
import { DEMO_CONFIG_DIR as DEMO_CONFIG } from '../config/defaults.ts'
import { openMessageLog, type MessageLog } from '../messagelog/index.ts'
import { buildGateway } from '../gateway/server.ts'

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    log: { type: 'string', default: 'embedded' },
    'pg-url': { type: 'string' },
    keys: { type: 'string', default: 'ec-p256' },
    'batch-ms': { type: 'string', default: '0' },
    'batch-max': { type: 'string', default: '256' },
    port: { type: 'string', default: '0' },
    signing: { type: 'string', default: 'immediate' },
    'sign-within-ms': { type: 'string', default: '200' },
  },
})
if (values.data === undefined) throw new Error('--data <dir> is required')

const tax = await startTaxOffice({ port: 0 })
const civil = await startCivilRegistry({ port: 0 })
const config = await loadConfig(DEMO_CONFIG)
config.node.dataDir = values.data
config.node.log = {
  ...config.node.log,
  store: values.log === 'postgres' ? 'postgres' : 'embedded',
  ...(values['pg-url'] === undefined ? {} : { url: values['pg-url'] }),
  batchMs: Number(values['batch-ms']),
  batchMax: Number(values['batch-max']),
  signing: values.signing === 'deferred' ? 'deferred' : 'immediate',
  signWithinMs: Number(values['sign-within-ms']),
}
// The benchmarks call over plain HTTP (the cost of mutual TLS is measured on its own).
for (const m of config.members) for (const sub of m.subsystems) if (sub.code === 'e-albania') sub.connection = 'http'
for (const s of config.services) {
  if (s.adapter.url.includes(':4401')) s.adapter.url = tax.url
  if (s.adapter.url.includes(':4402')) s.adapter.url = civil.url
}

let messageLog: MessageLog | undefined
if (values.log !== 'none') {
  const keystore = new Keystore(values.data, { passphrase: 'bench-passphrase' })
  initPki({ keystore, config, memberKeyType: values.keys as KeyType })
  messageLog = await openMessageLog(config, keystoreSigningKeys(keystore, TrustStore.load(keystore.paths)))
}
const gateway = await buildGateway({ config, logger: { level: 'warn' }, ...(messageLog === undefined ? {} : { messageLog }) })
const url = await gateway.app.listen({ host: '127.0.0.1', port: Number(values.port) })
process.stdout.write(`ready ${url}\n`)

process.once('SIGTERM', () => {
  void (async () => {
    // CPU of the whole process (event loop, log writer thread, crypto thread pool, demo providers).
    const cpu = process.cpuUsage()
    process.stdout.write(`cpu ${cpu.user + cpu.system}\n`)
    if (messageLog !== undefined) {
      const s = messageLog.signer.stats
      const g = (messageLog.store as unknown as { stats: { groups: number; records: number } }).stats
      process.stdout.write(`stats ${JSON.stringify({ batches: s.batches, signedRecords: s.leaves, commits: g.groups, committedRecords: g.records })}\n`)
    }
    await gateway.close()
    await tax.close()
    await civil.close()
    process.exit(0)
  })()
})
