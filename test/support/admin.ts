/**
 * Test rig for the admin API: the demo configuration in a fresh data directory with its dev PKI, a
 * real registry store (embedded, or PostgreSQL when a URL is given) seeded with the demo registry
 * and test operators of its own (one per role, and a service administrator scoped to Bashkia
 * Tiranë), each with a fresh API token; a real audit trail signed with the node operator's e-seal;
 * the admin API listening over TLS on a free loopback port; and a client that calls it with a token
 * or a client certificate. On request also a message log and a delivery queue for it to read.
 */
import { randomBytes, X509Certificate } from 'node:crypto'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { tokenSha256 } from '../../admin/auth.ts'
import type { ConsoleSetup } from '../../admin/console/index.ts'
import type { NodeHealth } from '../../admin/context.ts'
import { buildAdmin, type Admin, type AdminPlugin } from '../../admin/server.ts'
import { BatchSigner } from '../../certs/batch-signer.ts'
import { initPki } from '../../certs/dev-pki.ts'
import { Keystore } from '../../certs/keystore.ts'
import { keystoreSigningKeys } from '../../certs/keystore-signer.ts'
import { openNodePki, type NodePki } from '../../certs/node-pki.ts'
import { generateKeyPair, issueCertificate } from '../../certs/pki.ts'
import type { OperatorConfig, RoleGrant } from '../../config/registry-sections.ts'
import type { UraConfig } from '../../config/types.ts'
import type { DeliveryQueue } from '../../delivery/queue.ts'
import { SqliteQueue } from '../../delivery/sqlite-queue.ts'
import { openAuditTrail, type AuditTrail } from '../../messagelog/audit/index.ts'
import { PgLogStore } from '../../messagelog/pg-store.ts'
import { SigningRecorder } from '../../messagelog/recorder.ts'
import { SqliteLogStore } from '../../messagelog/sqlite-store.ts'
import type { LogStore } from '../../messagelog/store.ts'
import { importDir, openRegistryStore, REGISTRY_FILE, type RegistryContent, type RegistryStore } from '../../registry/store/index.ts'
import { checkLetter } from '../../schemas/checks.ts'
import { demoConfig, TEST_PASSPHRASE } from './gateway.ts'

export const TIRANA = 'AL-DEV/NJQV/L21603004L'
export const CIVIL = 'AL-DEV/GOV/L01417001D'
export const E_ALBANIA_CLIENT = 'AL-DEV/GOV/K11503002N/e-albania'

/** The test operators: one per role (global), and a service administrator scoped to Tirana. */
export const TEST_OPERATORS: Record<string, RoleGrant[]> = {
  sa: [{ role: 'system-administrator' }],
  ro: [{ role: 'registration-officer' }],
  svc: [{ role: 'service-administrator' }],
  sec: [{ role: 'security-officer' }],
  obs: [{ role: 'observer' }],
  'svc-tirana': [{ role: 'service-administrator', member: TIRANA }],
}

/** A NID with the right check letter. */
export function nid (letter: string, digits: string): string {
  const first = `${letter}${digits}`
  return first + checkLetter(first)
}

export interface Answer { status: number; headers: Record<string, string | string[] | undefined>; text: string; json: any }

export interface CallOptions {
  token?: string
  /** A client certificate instead of a token. */
  cert?: { key: string; cert: string }
  body?: unknown
  /** Raw body bytes (sent as is) instead of JSON. */
  raw?: string | Buffer
  headers?: Record<string, string>
}

export interface AdminRig {
  url: string
  admin: Admin
  store: RegistryStore
  trail: AuditTrail
  config: UraConfig
  dataDir: string
  pki: NodePki
  caPem: string
  /** Operator id → its API token. */
  tokens: Record<string, string>
  /** With `messageLog`: the store the admin API reads, and a recorder that signs and appends to it. */
  log?: { store: LogStore; recorder: SigningRecorder }
  /** With `delivery`: the delivery queue the admin API reads and re-drives. */
  queue?: DeliveryQueue
  call (method: string, path: string, opts?: CallOptions): Promise<Answer>
  /** An operator TLS client certificate issued by the node's CA (not yet pinned to anyone). */
  operatorCertificate (name: string): { key: string; cert: string; fingerprint: string; serial: string; issuer: string }
  close (): Promise<void>
}

export interface RigOptions {
  /** A PostgreSQL URL for the registry store; default: the embedded store in the data directory. */
  storeUrl?: string
  duringCommit?: (version: number) => void
  /** Changes to the seeded content (after the test operators are in). */
  seed?: (content: RegistryContent) => void
  plugins?: AdminPlugin[]
  publicPlugins?: AdminPlugin[]
  publicRate?: { perSecond: number; burst: number }
  /** The operator console (admin/console/) beside the API. */
  console?: ConsoleSetup
  /** Give the admin API a message log: the embedded one in the data directory (`true`; `'deferred'`: signing deferred by a second), or PostgreSQL at this URL. */
  messageLog?: true | 'deferred' | string
  health?: () => NodeHealth
  now?: () => Date
  /** Give the admin API a delivery queue: the embedded one in the data directory (`true`), or pg-boss on PostgreSQL at this URL. */
  delivery?: true | string
  /** Seed the 61 municipalities and the pub/sub rooms too (config/demo/bashki.yaml, rooms.yaml). */
  bashki?: boolean
}

export async function startAdminRig (opts: RigOptions = {}): Promise<AdminRig> {
  process.env.URA_KEY_PASSPHRASE = TEST_PASSPHRASE
  const dataDir = await mkdtemp(join(tmpdir(), 'ura-admin-'))
  const config = await demoConfig({ 'node.yaml': text => text.replace(/dataDir: .*/, `dataDir: ${dataDir}`).replace(/port: 8444/, 'port: 0') }, {}, { bashki: opts.bashki === true })
  initPki({ keystore: new Keystore(dataDir, { passphrase: TEST_PASSPHRASE }), config })
  const pki = openNodePki(dataDir, { passphrase: TEST_PASSPHRASE })
  const store = await openRegistryStore(opts.storeUrl ?? join(dataDir, REGISTRY_FILE), { instance: config.node.instance, ...(opts.duringCommit === undefined ? {} : { duringCommit: opts.duringCommit }) })

  const tokens: Record<string, string> = {}
  const operators: OperatorConfig[] = Object.entries(TEST_OPERATORS).map(([id, roles]) => {
    const token = `ura_${id}-test_${randomBytes(32).toString('hex')}`
    tokens[id] = token
    return { id, name: `Test operator ${id}`, roles, tokens: [{ id: `${id}-test`, sha256: tokenSha256(token), createdAt: '2026-01-01T00:00:00Z' }] }
  })
  const content = await importDir(config.dir)
  content.operators = operators
  opts.seed?.(content)
  await store.commit(content, { who: 'test', why: 'the test registry', expectedVersion: 0 })

  const keys = keystoreSigningKeys(pki.keystore, pki.trust)
  const signer = new BatchSigner(keys, { batchMs: 0, batchMax: 64 })
  const trail = await openAuditTrail(config, signer)
  const logStore = opts.messageLog === undefined ? undefined : opts.messageLog === true || opts.messageLog === 'deferred'
    ? await SqliteLogStore.open(join(dataDir, 'message-log.sqlite'), opts.messageLog === 'deferred' ? { signing: 'deferred', signWithinMs: 1000 } : {})
    : await PgLogStore.open(opts.messageLog)
  const queue = opts.delivery === undefined ? undefined : opts.delivery === true ? SqliteQueue.open(join(dataDir, 'delivery.sqlite')) : await (await import('../../delivery/pg-boss-queue.ts')).PgBossQueue.open(opts.delivery)
  const admin = await buildAdmin({
    config, store, audit: trail, pki,
    ...(logStore === undefined ? {} : { logStore }),
    ...(queue === undefined ? {} : { deliveryQueue: queue }),
    ...(opts.health === undefined ? {} : { health: opts.health }),
    ...(opts.now === undefined ? {} : { now: opts.now }),
    ...(opts.plugins === undefined ? {} : { plugins: opts.plugins }),
    ...(opts.publicPlugins === undefined ? {} : { publicPlugins: opts.publicPlugins }),
    ...(opts.publicRate === undefined ? {} : { publicRate: opts.publicRate }),
    ...(opts.console === undefined ? {} : { console: opts.console }),
    ...(opts.now === undefined ? {} : { now: opts.now }),
  })
  const url = await admin.app.listen({ host: '127.0.0.1', port: 0 })
  const caPem = await readFile(pki.keystore.paths.caCert, 'utf8')
  const agents = new Map<string, Agent>()
  const agentFor = (cert?: { key: string; cert: string }): Agent => {
    const key = cert?.cert ?? ''
    let agent = agents.get(key)
    if (agent === undefined) {
      agent = new Agent({ connect: { ca: caPem, ...(cert === undefined ? {} : cert) } })
      agents.set(key, agent)
    }
    return agent
  }

  return {
    url, admin, store, trail, config, dataDir, pki, caPem, tokens,
    ...(logStore === undefined ? {} : { log: { store: logStore, recorder: new SigningRecorder(logStore, keys) } }),
    ...(queue === undefined ? {} : { queue }),
    async call (method, path, o = {}) {
      const headers: Record<string, string> = { ...o.headers }
      if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`
      let body: string | Buffer | undefined
      if (o.raw !== undefined) body = o.raw
      else if (o.body !== undefined) {
        body = JSON.stringify(o.body)
        headers['content-type'] ??= 'application/json'
      }
      const res = await request(`${url}${path}`, { method: method as 'GET', headers, ...(body === undefined ? {} : { body }), dispatcher: agentFor(o.cert) })
      const text = await res.body.text()
      let json: unknown
      try { json = text === '' ? undefined : JSON.parse(text) } catch { json = undefined }
      return { status: res.statusCode, headers: res.headers, text, json }
    },
    operatorCertificate (name) {
      const ca = pki.keystore.ca()
      const { privateKey, publicKey } = generateKeyPair('ec-p256')
      const cert = issueCertificate(ca, { subject: { C: 'AL', O: 'ura operators', CN: name }, publicKey, profile: 'tls-client', days: 30 })
      const parsed = new X509Certificate(cert)
      return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, cert: cert + ca.pem, fingerprint: parsed.fingerprint256.replaceAll(':', '').toLowerCase(), serial: parsed.serialNumber, issuer: parsed.issuer }
    },
    async close () {
      await admin.close()
      for (const a of agents.values()) await a.close()
      await trail.close()
      await logStore?.close()
      await queue?.close()
      await store.close()
    },
  }
}
