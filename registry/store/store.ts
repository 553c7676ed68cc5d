/**
 * The registry store: the operator-managed registry as a versioned document. Every commit makes a new
 * version holding the full content, who made it, when and why; nothing is ever changed in place, so
 * any version can be read, compared or restored. Commits use optimistic concurrency: a change names
 * the version it was made on and is refused (STALE_VERSION) if another commit came first.
 *
 * `VersionedStore` holds what both implementations share (resolving and checking a change, diffs,
 * rollback, watching); each implementation only reads rows and appends one in a transaction.
 */
import { createHash } from 'node:crypto'
import { CONTENT_FORMAT, emptyContent, withAllSections, type RegistryContent } from './content.ts'
import { diffContent, type RegistryDiff } from './diff.ts'
import { RegistryStoreError } from './errors.ts'
import { validateContent } from './validate.ts'

export interface VersionInfo {
  /** 1, 2, 3, …; version 0 is the empty registry every store starts from. */
  version: number
  who: string
  /** ISO 8601 time of the commit. */
  when: string
  why: string
}

export interface RegistryVersion extends VersionInfo {
  content: RegistryContent
}

/** New content, or a function making it from the current content (it must not change its argument). */
export type RegistryChange = RegistryContent | ((current: RegistryContent) => RegistryContent)

export interface CommitOptions {
  who: string
  why: string
  /** The version the change was made on; the commit is refused if another version is current. */
  expectedVersion: number
}

export interface RollbackOptions {
  who: string
  why: string
  /** As for commit; default: whatever is current when the rollback runs. */
  expectedVersion?: number
}

export interface WatchOptions {
  /** The backstop: how often the store is read even without a notification (ms). */
  pollMs?: number
}

export interface RegistryStore {
  readonly kind: 'embedded' | 'postgres'
  /** The X-Road instance the content is checked against (providers and clients must be in it). */
  readonly instance: string
  current (): Promise<RegistryVersion>
  /** Throws UNKNOWN_VERSION for a version never committed. */
  version (n: number): Promise<RegistryVersion>
  /** Every committed version, oldest first, without content. */
  list (): Promise<VersionInfo[]>
  /** Validates the change whole, then stores it as the next version; STALE_VERSION if `expectedVersion` is not current. */
  commit (change: RegistryChange, options: CommitOptions): Promise<RegistryVersion>
  diff (a: number, b: number): Promise<RegistryDiff>
  /** A new version whose content equals version n's. */
  rollback (n: number, options: RollbackOptions): Promise<RegistryVersion>
  /**
   * Stores bytes that content refers to by digest (an application's sealed letter): not versioned,
   * never changed, shared by every node on the store. Resolves to the SHA-256 (lower-case hex).
   */
  putBlob (bytes: Uint8Array, mediaType: string): Promise<string>
  getBlob (sha256: string): Promise<{ bytes: Buffer; mediaType: string } | undefined>
  /** Calls `onVersion` once for every version committed from now on (by any client), in order; resolves to a stop function. */
  watch (onVersion: (version: VersionInfo) => void, options?: WatchOptions): Promise<() => Promise<void>>
  close (): Promise<void>
}

/** One row as the implementations store it. */
export interface VersionRow {
  version: number
  who: string
  at: string
  why: string
  format: number
  content: string
}

export interface StoreOptions {
  instance: string
  /** For tests only: runs inside the commit's transaction after the version row is written, before the head moves; throwing fails the commit. */
  duringCommit?: (version: number) => void
}

const VERSION_ZERO: RegistryVersion = { version: 0, who: 'ura', when: new Date(0).toISOString(), why: 'the empty registry', content: emptyContent() }

function rowVersion (row: VersionRow): RegistryVersion {
  if (row.format !== CONTENT_FORMAT) throw new Error(`registry version ${row.version} has content format ${row.format}; this ura reads format ${CONTENT_FORMAT}`)
  return { ...rowInfo(row), content: withAllSections(JSON.parse(row.content) as Partial<RegistryContent>) }
}

export function rowInfo (row: Omit<VersionRow, 'content' | 'format'>): VersionInfo {
  return { version: Number(row.version), who: row.who, when: row.at, why: row.why }
}

export abstract class VersionedStore implements RegistryStore {
  abstract readonly kind: 'embedded' | 'postgres'
  readonly instance: string
  protected readonly duringCommit: StoreOptions['duringCommit']
  protected closed = false
  private readonly stops = new Set<() => Promise<void>>()

  protected constructor (options: StoreOptions) {
    this.instance = options.instance
    this.duringCommit = options.duringCommit
  }

  /** The head: the number of the current version (0 when nothing was committed). */
  protected abstract readHead (): Promise<number>
  protected abstract readRow (n: number): Promise<VersionRow | undefined>
  protected abstract readInfos (after: number): Promise<VersionInfo[]>
  /** In one transaction: refuse with STALE_VERSION unless the head is `expected`, write the row, move the head. */
  protected abstract append (expected: number, row: VersionRow): Promise<void>
  /** Starts whatever tells this client about other clients' commits; `wake` re-reads the store. */
  protected abstract listen (wake: () => void): Promise<() => Promise<void>>
  protected abstract shut (): Promise<void>
  protected abstract writeBlob (sha256: string, bytes: Uint8Array, mediaType: string): Promise<void>
  protected abstract readBlob (sha256: string): Promise<{ bytes: Buffer; mediaType: string } | undefined>

  async putBlob (bytes: Uint8Array, mediaType: string): Promise<string> {
    this.open()
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    await this.writeBlob(sha256, bytes, mediaType)
    return sha256
  }

  async getBlob (sha256: string): Promise<{ bytes: Buffer; mediaType: string } | undefined> {
    this.open()
    if (!/^[0-9a-f]{64}$/.test(sha256)) return undefined
    return await this.readBlob(sha256)
  }

  private open (): void {
    if (this.closed) throw new RegistryStoreError('STORE_CLOSED', 'the registry store is closed')
  }

  async current (): Promise<RegistryVersion> {
    this.open()
    return await this.version(await this.readHead())
  }

  async version (n: number): Promise<RegistryVersion> {
    this.open()
    if (n === 0) return structuredClone(VERSION_ZERO)
    const row = Number.isInteger(n) && n > 0 ? await this.readRow(n) : undefined
    if (row === undefined) throw new RegistryStoreError('UNKNOWN_VERSION', `the registry has no version ${n}`)
    return rowVersion(row)
  }

  async list (): Promise<VersionInfo[]> {
    this.open()
    return await this.readInfos(0)
  }

  async commit (change: RegistryChange, options: CommitOptions): Promise<RegistryVersion> {
    this.open()
    const { who, why, expectedVersion } = options
    if (typeof who !== 'string' || who.trim() === '') throw new RegistryStoreError('INVALID_COMMIT', 'a commit needs `who`: the operator making it')
    if (typeof why !== 'string' || why.trim() === '') throw new RegistryStoreError('INVALID_COMMIT', 'a commit needs `why`: the reason for the change')
    if (!Number.isInteger(expectedVersion) || expectedVersion < 0) throw new RegistryStoreError('INVALID_COMMIT', 'a commit needs `expectedVersion`: the version the change was made on')
    let content: RegistryContent
    if (typeof change === 'function') {
      const base = await this.version(expectedVersion).catch(() => undefined)
      if (base === undefined) throw new RegistryStoreError('STALE_VERSION', `the registry has no version ${expectedVersion} to change`, { expectedVersion, currentVersion: await this.readHead() })
      content = change(base.content)
    } else {
      content = change
    }
    validateContent(this.instance, content)
    content = withAllSections(content)
    // What is stored is a copy: the caller may go on changing its object.
    const row: VersionRow = { version: expectedVersion + 1, who, at: new Date().toISOString(), why, format: CONTENT_FORMAT, content: JSON.stringify(content) }
    await this.append(expectedVersion, row)
    this.wake()
    return rowVersion(row)
  }

  async diff (a: number, b: number): Promise<RegistryDiff> {
    return diffContent(this.instance, await this.version(a), await this.version(b))
  }

  async rollback (n: number, options: RollbackOptions): Promise<RegistryVersion> {
    const target = await this.version(n)
    const expectedVersion = options.expectedVersion ?? await this.readHead()
    return await this.commit(target.content, { who: options.who, why: options.why, expectedVersion })
  }

  private readonly wakers = new Set<() => void>()
  private wake (): void {
    for (const w of this.wakers) w()
  }

  async watch (onVersion: (version: VersionInfo) => void, options: WatchOptions = {}): Promise<() => Promise<void>> {
    this.open()
    let seen = await this.readHead()
    let reading: Promise<void> | undefined
    let busy = false
    let again = false
    let stopped = false
    // One read at a time; a wake during a read asks for one more, so no version is missed or told twice.
    // `busy` is cleared right after the last look at `again`, with no await between: no wake is lost.
    const check = (): void => {
      if (stopped) return
      again = true
      if (busy) return
      busy = true
      reading = (async () => {
        try {
          while (again && !stopped) {
            again = false
            try {
              for (const info of await this.readInfos(seen)) {
                if (stopped || info.version <= seen) continue
                seen = info.version
                try { onVersion(info) } catch { /* a watcher's failure is its own */ }
              }
            } catch { /* the store is unreachable now; the next poll tries again */ }
          }
        } finally {
          busy = false
        }
      })()
    }
    this.wakers.add(check)
    const timer = setInterval(check, options.pollMs ?? 2000)
    timer.unref()
    const unlisten = await this.listen(check)
    const stop = async (): Promise<void> => {
      if (stopped) return
      stopped = true
      clearInterval(timer)
      this.wakers.delete(check)
      this.stops.delete(stop)
      await unlisten()
      await reading
    }
    this.stops.add(stop)
    return stop
  }

  async close (): Promise<void> {
    if (this.closed) return
    for (const stop of [...this.stops]) await stop()
    this.closed = true
    await this.shut()
  }
}
