/**
 * The registry store's front door: opens the embedded or PostgreSQL store and re-exports what its
 * users need, so callers never reach into one implementation.
 */
import { SqliteRegistryStore } from './sqlite-store.ts'
import type { RegistryStore, StoreOptions } from './store.ts'

export type { RegistryContent } from './content.ts'
export type { EntityDiff, RegistryDiff } from './diff.ts'
export { RegistryStoreError, type RegistryStoreErrorCode } from './errors.ts'
export type { CommitOptions, RegistryChange, RegistryStore, RegistryVersion, RollbackOptions, VersionInfo, WatchOptions } from './store.ts'
export { exportDir, importDir } from './yaml.ts'

/** The store's file name in the node's data directory (embedded store). */
export const REGISTRY_FILE = 'registry.sqlite'

/** `postgres://…` opens the PostgreSQL store (its client loaded only then); anything else is the embedded store's file. */
export async function openRegistryStore (where: string, options: StoreOptions): Promise<RegistryStore> {
  return /^postgres(ql)?:\/\//.test(where) ? await (await import('./pg-store.ts')).PgRegistryStore.open(where, options) : await SqliteRegistryStore.open(where, options)
}
