/**
 * The registry a running node serves, kept in step with the registry store: each new version is
 * built into a fresh snapshot off to the side while the current one keeps serving, then handed to the
 * node to put in service in one assignment. A version that does not build is not applied: the
 * snapshot before it goes on serving. Exchanges finish on the snapshot they began with; the adapters
 * only an old snapshot used (services removed or changed) are closed once its last exchange is done.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import { composeConfig } from '../config/load.ts'
import type { NodeConfig } from '../config/types.ts'
import type { SchemaLibrary } from '../schemas/library.ts'
import { Registry } from './registry.ts'
import type { RegistryContent, RegistryStore, RegistryVersion } from './store/index.ts'

export type LiveRegistryErrorCode =
  /** The version does not build (a schema or XSD unknown to the node, an adapter that cannot be made, …); `cause` says why. */
  | 'NOT_APPLIED'
  /** waitForVersion: the version was not served in time. */
  | 'WAIT_TIMEOUT'
  /** The node stopped watching the store. */
  | 'CLOSED'

export class LiveRegistryError extends Error {
  readonly code: LiveRegistryErrorCode
  /** The registry version concerned. */
  readonly version: number

  constructor (code: LiveRegistryErrorCode, version: number, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'LiveRegistryError'
    this.code = code
    this.version = version
  }
}

export interface LiveRegistryOptions {
  store: RegistryStore
  /** The node's own settings; with `dir` (where relative paths in the content lead) they complete each version into a configuration. */
  node: NodeConfig
  dir: string
  library: SchemaLibrary
}

/** How long a version took to be ready: read from the store, then checked and built into a snapshot (ms). */
export interface SwapTiming { readMs: number; buildMs: number }

export interface SwapHandlers {
  /**
   * Puts a new snapshot in service. Called synchronously, with nothing else running in between: it must
   * switch whatever holds the registry in one step. `content` is the version's content (sections other
   * than the four registry parts included).
   */
  apply (next: Registry, content: RegistryContent, timing: SwapTiming): void
  /** A version was not applied; the snapshot before it goes on serving. */
  failed (error: LiveRegistryError): void
  /** The store could not be read; it is read again at the next notification or poll. */
  unreachable? (error: Error): void
  /** The polling backstop (ms). */
  pollMs?: number
}

interface Waiter { version: number; resolve: () => void; reject: (err: Error) => void; timer: NodeJS.Timeout }

export class LiveRegistry {
  private readonly opts: LiveRegistryOptions
  private served: Registry
  private servedContent: RegistryContent
  /** The newest version that failed to build, so it is not built again at every wake. */
  private failure: LiveRegistryError | undefined
  /** Retired snapshots that still have exchanges running. */
  private readonly draining = new Set<Registry>()
  private readonly closing = new Set<Promise<void>>()
  private readonly waiters = new Set<Waiter>()
  private handlers: SwapHandlers | undefined
  private unwatch: (() => Promise<void>) | undefined
  private running: Promise<void> | undefined
  /** A read of the store is under way (set and cleared with no await in between, so no request is lost). */
  private busy = false
  private again = false
  private closed = false

  private constructor (opts: LiveRegistryOptions, first: Registry, content: RegistryContent) {
    this.opts = opts
    this.served = first
    this.servedContent = content
  }

  /** Builds the store's current version; throws NOT_APPLIED (with the build's problems as `cause`) if it does not build. */
  static async open (opts: LiveRegistryOptions): Promise<LiveRegistry> {
    const head = await opts.store.current()
    const first = await build(opts, head, undefined)
    return new LiveRegistry(opts, first, head.content)
  }

  /** The snapshot in service. */
  get current (): Registry {
    return this.served
  }

  /** The content of the version in service. */
  get content (): RegistryContent {
    return this.servedContent
  }

  /** Starts following the store: every new version is built and, if it builds, applied through `handlers.apply`. */
  async start (handlers: SwapHandlers): Promise<void> {
    this.handlers = handlers
    this.unwatch = await this.opts.store.watch(() => { this.refresh() }, { pollMs: handlers.pollMs ?? 2000 })
    // A version committed between open() and the watch's start is read now.
    this.refresh()
    await this.running
  }

  /** Reads the store's head and applies it if it is newer than what is served; concurrent calls coalesce. */
  refresh (): void {
    if (this.closed || this.handlers === undefined) return
    this.again = true
    if (this.busy) return
    this.busy = true
    this.running = (async () => {
      try {
        while (this.again && !this.closed) {
          this.again = false
          await this.step()
        }
      } finally {
        this.busy = false
      }
    })()
  }

  private async step (): Promise<void> {
    const handlers = this.handlers!
    const started = performance.now()
    let head: RegistryVersion
    try {
      head = await this.opts.store.current()
    } catch (err) {
      if (!this.closed) handlers.unreachable?.(err as Error)
      return
    }
    // Versions only grow (a rollback is a new version); skipped ones are contained in the head.
    if (this.closed || head.version <= this.served.version || head.version === this.failure?.version) return
    const read = performance.now()
    let next: Registry
    try {
      next = await build(this.opts, head, this.served)
    } catch (err) {
      if (this.closed) return
      this.failure = err as LiveRegistryError
      handlers.failed(this.failure)
      this.settleWaiters()
      return
    }
    if (this.closed) { await this.closeUnused(next, this.inUse()); return }
    const timing: SwapTiming = { readMs: read - started, buildMs: performance.now() - read }
    const previous = this.served
    this.served = next
    this.servedContent = head.content
    handlers.apply(next, head.content, timing)
    this.retire(previous)
    this.settleWaiters()
  }

  /** The old snapshot leaves service; once its exchanges are done, the adapters nothing else uses are closed. */
  private retire (old: Registry): void {
    this.draining.add(old)
    old.whenDrained(() => {
      this.draining.delete(old)
      const pending = this.closeUnused(old, this.inUse())
      this.closing.add(pending)
      void pending.finally(() => this.closing.delete(pending))
    })
  }

  /** The entries of the snapshot in service and of those still draining. */
  private inUse (): Set<unknown> {
    const used = new Set<unknown>(this.served.entries())
    for (const r of this.draining) for (const e of r.entries()) used.add(e)
    return used
  }

  private async closeUnused (snapshot: Registry, used: Set<unknown>): Promise<void> {
    await Promise.all(snapshot.entries().filter(e => !used.has(e)).map(e => e.adapter.close().catch(() => {})))
  }

  /**
   * Resolves once the node serves version `n` or a later one. Rejects with NOT_APPLIED if version `n`
   * (or a later one) failed to build and nothing at or past `n` is served, with WAIT_TIMEOUT after
   * `timeoutMs`. The store is read at once, so a commit from another process needs no poll to be seen.
   */
  waitForVersion (n: number, timeoutMs = 5000): Promise<void> {
    if (this.served.version >= n) return Promise.resolve()
    if (this.failure !== undefined && this.failure.version >= n) return Promise.reject(this.failure)
    if (this.closed) return Promise.reject(new LiveRegistryError('CLOSED', n, 'the node no longer follows the registry store'))
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        version: n,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter)
          reject(new LiveRegistryError('WAIT_TIMEOUT', n, `registry version ${n} was not served within ${timeoutMs} ms (version ${this.served.version} is)`))
        }, timeoutMs),
      }
      this.waiters.add(waiter)
      this.refresh()
    })
  }

  private settleWaiters (): void {
    for (const w of this.waiters) {
      if (this.served.version >= w.version) w.resolve()
      else if (this.failure !== undefined && this.failure.version >= w.version) w.reject(this.failure)
      else continue
      clearTimeout(w.timer)
      this.waiters.delete(w)
    }
  }

  /**
   * Stops following the store (the store itself stays open: its owner closes it) and closes the
   * adapters of every snapshot still held — or, with `cut`, drops their exchanges in flight.
   */
  async close (cut = false): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.unwatch?.()
    await this.running
    for (const w of this.waiters) {
      clearTimeout(w.timer)
      w.reject(new LiveRegistryError('CLOSED', w.version, 'the node no longer follows the registry store'))
    }
    this.waiters.clear()
    const adapters = new Set([this.served, ...this.draining].flatMap(r => r.entries().map(e => e.adapter)))
    await Promise.all([...adapters].map(a => (cut ? a.destroy?.() ?? a.close() : a.close()).catch(() => {})))
    // Snapshots that drained meanwhile closed their own adapters.
    await Promise.all(this.closing)
  }
}

/** One version as a snapshot: the node's settings plus the version's registry parts, checked and built. */
async function build (opts: LiveRegistryOptions, version: RegistryVersion, previous: Registry | undefined): Promise<Registry> {
  try {
    // Exchanges waiting on the event loop run between the steps: a large registry is not built in one go.
    await nextTurn()
    const config = composeConfig(opts.node, opts.dir, version.content, `registry version ${version.version}`)
    await nextTurn()
    return await Registry.build(config, opts.library, { version: version.version, ...(previous === undefined ? {} : { previous }) })
  } catch (err) {
    throw new LiveRegistryError('NOT_APPLIED', version.version, `registry version ${version.version} was not applied: ${(err as Error).message}`, { cause: err })
  }
}
