/**
 * The processes a bench run starts, one role per process so each one's memory can be measured:
 *   node bench/servers.ts provider            the provider system (plain node:http, precomputed answers)
 *   node bench/servers.ts bare <provider> <requestBytes> [dataDir]   the bare proxy: Fastify + undici Pool,
 *                                             no checks; with a data directory over HTTPS with the node's certificate
 *   node bench/servers.ts ura <configDir> [dataDir tls|plain log|nolog [delivery]]   an ura node on the bench
 *                                             configuration, running on an embedded registry store seeded from it (as
 *                                             `ura start` runs); with a data directory: HTTPS with client certificates
 *                                             and/or the signed embedded message log, from the PKI made there; with
 *                                             `delivery` also the embedded delivery queue there (async services, rooms)
 * Each prints `READY <url>` on stdout once it listens, and stops on SIGTERM: ura as `ura start` does
 * (in-flight exchanges finish, the message log writes what it holds and closes), then exits 0.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import { Pool } from 'undici'
import type { MessageLog } from '../messagelog/index.ts'
import type { DeliveryStores } from '../delivery/index.ts'
import type { GatewayTls } from '../gateway/edge/tls.ts'
import type { Keystore } from '../certs/keystore.ts'
import { BENCH_PASSPHRASE, JSON_BODY, PROVIDER_PATHS, SOAP_RESPONSE } from './fixtures.ts'

// ura's own modules are loaded by the roles that use them (the `ura` role, the bare proxy on TLS
// for the node's key): the provider and the bare proxy stay the minimal processes they stand for,
// and their RSS holds no code or compiled schemas of ura's.
const keystoreOf = async (dataDir: string): Promise<Keystore> =>
  new (await import('../certs/keystore.ts')).Keystore(dataDir, { passphrase: BENCH_PASSPHRASE })

async function provider (): Promise<string> {
  const server = createServer((req, res) => {
    let bytes = 0
    req.on('data', (c: Buffer) => { bytes += c.length })
    req.on('end', () => {
      if (req.url === PROVIDER_PATHS.json) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': JSON_BODY.length })
        res.end(JSON_BODY)
      } else if (req.url === PROVIDER_PATHS.soap) {
        res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8', 'content-length': SOAP_RESPONSE.length })
        res.end(SOAP_RESPONSE)
      } else if (req.url === PROVIDER_PATHS.bulk) {
        const body = `{"bytes":${bytes}}`
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length })
        res.end(body)
      } else {
        res.writeHead(404).end()
      }
    })
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`
}

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host', 'upgrade', 'te', 'trailer', 'proxy-connection'])

/** The physical limit: what any Node proxy on this machine pays to receive, forward and answer. */
async function bare (providerUrl: string, requestBytes: number, dataDir?: string): Promise<string> {
  const pool = new Pool(providerUrl, { connections: 64, pipelining: 1, keepAliveTimeout: 30_000 })
  // On TLS: the ura node's own key and certificate, and the same handshake (a client certificate is
  // asked for, OpenSSL rejects nobody), so the only difference left is what happens per request.
  const tls = dataDir === undefined ? undefined : (await keystoreOf(dataDir)).nodeTls()
  const https = tls === undefined ? null : { key: tls.key.export({ type: 'pkcs8', format: 'pem' }), cert: tls.certChainPem, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' as const }
  const app = Fastify({ logger: false, bodyLimit: requestBytes, keepAliveTimeout: 65_000, https })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => { done(null, body) })
  app.all('/*', async (req, reply) => {
    const headers: string[] = []
    const raw = req.raw.rawHeaders
    for (let i = 0; i < raw.length; i += 2) if (!HOP.has(raw[i].toLowerCase())) headers.push(raw[i], raw[i + 1])
    const res = await pool.request({ method: req.method as 'POST', path: req.url, headers, body: req.body as Buffer | undefined })
    const chunks: Buffer[] = []
    for await (const c of res.body) chunks.push(c as Buffer)
    const out: Record<string, string | string[]> = {}
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !HOP.has(k)) out[k] = v
    return reply.code(res.statusCode).headers(out).send(Buffer.concat(chunks))
  })
  return app.listen({ host: '127.0.0.1', port: 0 })
}

/** What the role must close before the process exits (ura: the gateway, its log and its registry store). */
let closeRole: () => Promise<void> = async () => {}

async function ura (configDir: string, dataDir?: string, transport?: string, log?: string, queue?: string): Promise<string> {
  // As `ura start`: the launcher's semi-space options sized this thread; its worker threads (the log
  // writer, the delivery queue) take their own limits.
  (await import('../cli/thread-memory.ts')).releaseSemiSpaceOptions()
  const [{ loadConfig }, { buildGateway }, { logDestination }, { openMessageLog }, { openDelivery }, { keystoreSigningKeys }, { TrustStore }, { seedRegistryStore }, { openRegistryStore }] = await Promise.all([
    import('../config/load.ts'), import('../gateway/server.ts'), import('../gateway/ops/process-log.ts'), import('../messagelog/index.ts'), import('../delivery/index.ts'),
    import('../certs/keystore-signer.ts'), import('../certs/trust-store.ts'), import('../registry/node-store.ts'), import('../registry/store/index.ts'),
  ])
  const config = await loadConfig(configDir)
  let tls: GatewayTls | undefined
  let messageLog: MessageLog | undefined
  let delivery: DeliveryStores | undefined
  if (dataDir !== undefined) {
    const keystore = await keystoreOf(dataDir)
    const trust = TrustStore.load(keystore.paths)
    if (transport === 'tls') tls = { ...keystore.nodeTls(), trust }
    // Members sign with their keys from the data directory; records go to the embedded log there.
    if (log === 'log') messageLog = await openMessageLog(config, keystoreSigningKeys(keystore, trust))
    // The embedded delivery queue (node.delivery.store, default delivery.sqlite) in the same directory.
    if (queue === 'delivery') delivery = await openDelivery(config, dataDir)
  }
  // The registry from a store of its own, as `ura start` has it, removed when the process ends.
  const storeDir = mkdtempSync(join(tmpdir(), 'ura-bench-registry-'))
  process.once('exit', () => { rmSync(storeDir, { recursive: true, force: true }) })
  const registryStore = await openRegistryStore(join(storeDir, 'registry.sqlite'), { instance: config.node.instance })
  await seedRegistryStore(registryStore, config)
  // One JSON line per exchange, as in production, written where it costs a write but is not kept.
  const gateway = await buildGateway({ config, registryStore, logger: { level: 'info', stream: logDestination('/dev/null') }, ...(tls === undefined ? {} : { tls }), ...(messageLog === undefined ? {} : { messageLog }), ...(delivery === undefined ? {} : { delivery }) })
  closeRole = async () => {
    await gateway.close()
    await registryStore.close()
  }
  return gateway.app.listen({ host: '127.0.0.1', port: 0 })
}

const [role, ...args] = process.argv.slice(2)
const url = role === 'provider' ? await provider()
  : role === 'bare' ? await bare(args[0], Number(args[1]), args[2])
    : role === 'ura' ? await ura(args[0], args[1], args[2], args[3], args[4])
      : (() => { throw new Error(`unknown role ${role}`) })()
process.once('SIGTERM', () => {
  closeRole().then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1) })
})
// The soak asks for a full collection before it measures (needs --expose-gc and an IPC channel).
process.on('message', message => {
  if (message !== 'gc') return
  ;(globalThis as { gc?: () => void }).gc?.()
  process.send?.('gc-done')
})
console.log(`READY ${url}`)
