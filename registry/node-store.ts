/**
 * The registry store a node runs on (`node.registry.store`) and its first version. A node whose store
 * is empty seeds it with the registry parts of its configuration directory; from then on the store,
 * not those YAML files, is the node's registry (they change it only through `ura config import`).
 */
import { relative, resolve } from 'node:path'
import type { UraConfig } from '../config/types.ts'
import { REGISTRY_SECTIONS } from '../config/registry-sections.ts'
import { canonicalJson } from './store/content.ts'
import { importDir, RegistryStoreError, type RegistryContent, type RegistryStore } from './store/index.ts'

/** Who the versions seeded from a configuration directory are by (the node itself, not an operator). */
export const SEED_AUTHOR = 'ura'

/** Why: the directory, relative to the working directory when that is shorter. */
export function seedReason (dir: string): string {
  return `seeded from the configuration directory ${relative(process.cwd(), dir) || dir}`
}

const isSeed = (v: { who: string; why: string }): boolean => v.who === SEED_AUTHOR && v.why.startsWith('seeded from the configuration directory ')

/** A `postgres://` URL as written, or the SQLite file's absolute path (relative paths start at the data directory). */
export function registryStoreLocation (config: UraConfig): string {
  const store = config.node.registry.store
  return isPostgresUrl(store) ? store : resolve(config.dir, config.node.dataDir, store)
}

function isPostgresUrl (text: string): boolean {
  return /^postgres(ql)?:\/\//.test(text)
}

/** The location fit for a log line: a URL's password is left out. */
export function shownLocation (where: string): string {
  if (!isPostgresUrl(where)) return where
  try {
    const url = new URL(where)
    if (url.password !== '') url.password = '***'
    return url.toString()
  } catch {
    return 'postgres://…'
  }
}

export interface Seeding {
  /** `seeded`: the store was empty and now holds the directory's registry as version 1; `followed`: a new
   * version follows the directory (see `followConfig`); `kept`: the store's current version stays. */
  action: 'seeded' | 'followed' | 'kept'
  /** The store's current version after seeding. */
  version: number
  /** The directory's registry parts differ from that version (for `kept`: they are not what the node serves). */
  differs: boolean
}

/**
 * What the directory says, to compare with a version: the four registry parts, and the other sections
 * the directory fills (the demo seeds its operators); sections it leaves empty (applications, the
 * outbox, …) are the running registry's own and are not compared.
 */
function directoryView (fromDir: RegistryContent, c: RegistryContent): string {
  const view: Record<string, unknown> = { members: c.members, groups: c.groups ?? {}, services: c.services, access: c.access }
  for (const k of REGISTRY_SECTIONS) if (fromDir[k].length > 0) view[k] = c[k] ?? []
  return canonicalJson(view)
}

/**
 * Seeds an empty store with the directory's registry parts (version 1). With `followConfig` (the
 * demo), a store that holds nothing but such seeds also takes a changed directory as a new version,
 * so a demo edited between two starts runs as edited; any other version (an operator's, the admin
 * API's) makes the store the registry again. Two nodes seeding one store at once: one commits, the
 * other keeps what the first committed.
 */
export async function seedRegistryStore (store: RegistryStore, config: UraConfig, opts: { followConfig?: boolean } = {}): Promise<Seeding> {
  const current = await store.current()
  const fromDir = await importDir(config.dir)
  const differs = directoryView(fromDir, fromDir) !== directoryView(fromDir, current.content)
  const commit = async (why: string, action: Seeding['action']): Promise<Seeding> => {
    try {
      const v = await store.commit(fromDir, { who: SEED_AUTHOR, why, expectedVersion: current.version })
      return { action, version: v.version, differs: false }
    } catch (err) {
      if (!(err instanceof RegistryStoreError) || err.code !== 'STALE_VERSION') throw err
      const now = await store.current()
      return { action: 'kept', version: now.version, differs: directoryView(fromDir, fromDir) !== directoryView(fromDir, now.content) }
    }
  }
  if (current.version === 0) return await commit(seedReason(config.dir), 'seeded')
  if (differs && opts.followConfig === true && (await store.list()).every(isSeed)) {
    return await commit(`${seedReason(config.dir)} (its registry files changed)`, 'followed')
  }
  return { action: 'kept', version: current.version, differs }
}
