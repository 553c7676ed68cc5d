/**
 * Certificate expiry notices, kept up to date while the node runs: `expiryNotices` (onboarding) on
 * the current registry version, once at start and then every hour, committing a version (who `ura`)
 * only when a notice is due. Safe with several nodes on one store: each notice has an outbox key, so
 * a second node finds it there and adds nothing, and a node that loses the race for a version
 * (STALE_VERSION) leaves it to its next tick.
 */
import type { FastifyBaseLogger } from 'fastify'
import { RegistryStoreError, type RegistryStore } from '../registry/store/index.ts'
import { expiryNotices } from './onboarding/index.ts'

export const EXPIRY_NOTICE_INTERVAL_MS = 60 * 60 * 1000
export const EXPIRY_NOTICE_WHO = 'ura'
export const EXPIRY_NOTICE_WHY = 'certificate expiry notices'

export interface ExpiryJobOptions {
  store: RegistryStore
  now?: () => Date
  log?: FastifyBaseLogger
  intervalMs?: number
}

export interface ExpiryJob {
  /** One run: the version committed, or undefined when nothing was due (or another node was first). */
  tick (): Promise<number | undefined>
  /** Stops the timer; resolves once a run in progress has finished. */
  stop (): Promise<void>
}

/** One run of the job over `store` at `now`. */
export async function addExpiryNotices (store: RegistryStore, now: Date): Promise<number | undefined> {
  const base = await store.current()
  const { content, added } = expiryNotices(base.content, now)
  if (added.length === 0) return undefined
  try {
    return (await store.commit(content, { who: EXPIRY_NOTICE_WHO, why: EXPIRY_NOTICE_WHY, expectedVersion: base.version })).version
  } catch (err) {
    if (err instanceof RegistryStoreError && err.code === 'STALE_VERSION') return undefined
    throw err
  }
}

/** Runs the job every `intervalMs` (an unref'd timer: it never keeps the process alive); the caller runs the first `tick()`. */
export function startExpiryJob (opts: ExpiryJobOptions): ExpiryJob {
  const now = opts.now ?? (() => new Date())
  let running: Promise<number | undefined> | undefined
  const tick = async (): Promise<number | undefined> => {
    // Ticks never overlap: one asked for while another runs shares its answer.
    running ??= (async () => {
      try {
        const version = await addExpiryNotices(opts.store, now())
        if (version !== undefined) opts.log?.info({ version }, 'certificate expiry notices added to the outbox')
        return version
      } catch (err) {
        opts.log?.error({ err }, 'certificate expiry notices could not be added; trying again at the next tick')
        return undefined
      } finally {
        running = undefined
      }
    })()
    return await running
  }
  const timer = setInterval(() => { void tick() }, opts.intervalMs ?? EXPIRY_NOTICE_INTERVAL_MS)
  timer.unref()
  return {
    tick,
    async stop () {
      clearInterval(timer)
      await running
    },
  }
}
