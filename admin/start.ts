/**
 * What `ura start` calls to run the admin API beside the gateway, when the configuration has
 * `node.admin`: opens the registry store (the node's, `node.registry.store`, as `ura config import`
 * does, unless the caller passes its own: `ura start` passes the gateway's), fills it from the
 * configuration directory if it is still empty (the demo's operators come from there), opens the
 * audit trail signed through the node's batch signer, mounts onboarding's public endpoints beside the
 * operators' routes, listens, and keeps the certificate expiry notices up to date (at start, then
 * hourly). `close()` undoes all of it.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { BatchSigner } from '../certs/batch-signer.ts'
import type { NodePki } from '../certs/node-pki.ts'
import type { UraConfig } from '../config/types.ts'
import { openAuditTrail } from '../messagelog/audit/index.ts'
import type { DeliveryQueue } from '../delivery/queue.ts'
import type { LogStore } from '../messagelog/store.ts'
import { registryStoreLocation, seedRegistryStore } from '../registry/node-store.ts'
import { openRegistryStore, type RegistryStore } from '../registry/store/index.ts'
import { createConsole } from './console/index.ts'
import { CONSOLE_PAGES, PUBLIC_PAGES } from './console/pages/index.ts'
import { startExpiryJob, type ExpiryJob } from './expiry-job.ts'
import { publicOnboarding } from './public-onboarding.ts'
import type { NodeHealth } from './context.ts'
import { buildAdmin, type AdminPlugin } from './server.ts'

export interface RunningAdmin {
  url: string
  store: RegistryStore
  /** The certificate expiry notices job (its first run is done when startAdmin resolves). */
  expiry: ExpiryJob
  close (): Promise<void>
}

export interface StartAdminOptions {
  config: UraConfig
  pki: NodePki
  signer: BatchSigner
  /** A registry store the caller already opened (and closes); default: the embedded store in the data directory. */
  store?: RegistryStore
  log?: FastifyBaseLogger
  /** The node's message log (the caller's: `ura start` passes the gateway's), for `/log` and `/traffic`. */
  logStore?: LogStore
  /** The node's delivery queue (the caller's), for `/queues`. */
  deliveryQueue?: DeliveryQueue
  /** The node's health (the gateway's circuit breakers, certificates expiring soon), for `/traffic`. */
  health?: () => NodeHealth
  now?: () => Date
  plugins?: AdminPlugin[]
  /** Public plugins besides onboarding's endpoints, which are always mounted. */
  publicPlugins?: AdminPlugin[]
}

/** Starts the admin API if the configuration asks for one; undefined otherwise. */
export async function startAdmin (opts: StartAdminOptions): Promise<RunningAdmin | undefined> {
  const { config } = opts
  const settings = config.node.admin
  if (settings === undefined) return undefined
  const ownStore = opts.store === undefined
  const store = opts.store ?? await openRegistryStore(registryStoreLocation(config), { instance: config.node.instance })
  const closers: Array<() => Promise<void>> = []
  if (ownStore) closers.push(() => store.close())
  try {
    // The node's own seeding rule (an empty store takes the directory as version 1); a no-op after `ura start`'s.
    const seeding = await seedRegistryStore(store, config)
    if (seeding.action === 'seeded') opts.log?.info({ version: seeding.version, dir: config.dir }, 'registry store seeded from the configuration directory')
    const audit = await openAuditTrail(config, opts.signer)
    closers.unshift(() => audit.close())
    const admin = await buildAdmin({
      config, store, audit, pki: opts.pki,
      ...(opts.logStore === undefined ? {} : { logStore: opts.logStore }),
      ...(opts.deliveryQueue === undefined ? {} : { deliveryQueue: opts.deliveryQueue }),
      ...(opts.health === undefined ? {} : { health: opts.health }),
      ...(opts.log === undefined ? {} : { loggerInstance: opts.log }),
      ...(opts.now === undefined ? {} : { now: opts.now }),
      ...(opts.plugins === undefined ? {} : { plugins: opts.plugins }),
      publicPlugins: [publicOnboarding(), ...opts.publicPlugins ?? []],
      console: createConsole({ pages: CONSOLE_PAGES, publicPages: PUBLIC_PAGES, ...(opts.now === undefined ? {} : { now: () => opts.now!().getTime() }) }),
    })
    closers.unshift(() => admin.close())
    // Not "Server listening at": that line is the exchange listener's.
    const url = await admin.app.listen({ host: settings.listen.host, port: settings.listen.port, listenTextResolver: address => `admin API listening at ${address}` })
    const expiry = startExpiryJob({ store, ...(opts.now === undefined ? {} : { now: opts.now }), ...(opts.log === undefined ? {} : { log: opts.log }) })
    closers.unshift(() => expiry.stop())
    await expiry.tick()
    return { url, store, expiry, close: () => closeAll(closers) }
  } catch (err) {
    await closeAll(closers)
    throw err
  }
}

async function closeAll (closers: Array<() => Promise<void>>): Promise<void> {
  for (const close of closers) await close().catch(() => {})
}
