/**
 * `ura config import` and `ura config export`: moving the registry parts of a configuration (members,
 * groups, services, access) between YAML files and the versioned registry store (registry/store/).
 * A running node on the same store applies an imported version within its polling interval.
 */
import { userInfo } from 'node:os'
import { DEMO_CONFIG_DIR } from '../config/defaults.ts'
import { ConfigError, loadConfig } from '../config/load.ts'
import { registryStoreLocation } from '../registry/node-store.ts'
import { exportDir, importDir, openRegistryStore, RegistryStoreError, type RegistryDiff, type RegistryStore } from '../registry/store/index.ts'

interface StoreOptions { config?: string; store?: string }

/** The store named by --store, else the node's own (`node.registry.store`); the node's configuration gives the instance. */
async function openStore (values: StoreOptions): Promise<RegistryStore | undefined> {
  let config
  try {
    config = await loadConfig(values.config ?? DEMO_CONFIG_DIR)
  } catch (err) {
    if (err instanceof ConfigError) { console.error(err.message); return undefined }
    throw err
  }
  return await openRegistryStore(values.store ?? registryStoreLocation(config), { instance: config.node.instance })
}

/** A refusal the operator can act on: its code, message and problems; exit 1. Anything else is a bug and is thrown. */
function refused (err: unknown): number {
  if (!(err instanceof RegistryStoreError)) throw err
  // The message lists the problems, each with its path (and file and line when it came from a file).
  console.error(`${err.code}: ${err.message}`)
  return 1
}

export function diffLines (d: RegistryDiff): string[] {
  const lines: string[] = []
  for (const part of ['members', 'subsystems', 'groups', 'services', 'grants'] as const) {
    const e = d[part]
    for (const k of e.added) lines.push(`  + ${part.replace(/s$/, '')} ${k}`)
    for (const k of e.removed) lines.push(`  - ${part.replace(/s$/, '')} ${k}`)
    for (const k of e.changed) lines.push(`  ~ ${part.replace(/s$/, '')} ${k}`)
  }
  return lines
}

/** `ura config import <dir> --why <text> [--who <name>] [--expect <n>]` — exit 0 when stored (or unchanged), 1 when refused. */
export async function configImport (dir: string, values: StoreOptions & { who?: string; why: string; expect?: number }): Promise<number> {
  const store = await openStore(values)
  if (store === undefined) return 2
  try {
    const content = await importDir(dir)
    const current = await store.current()
    const expectedVersion = values.expect ?? current.version
    const version = await store.commit(content, { who: values.who ?? userInfo().username, why: values.why, expectedVersion })
    const lines = diffLines(await store.diff(expectedVersion, version.version))
    console.log(`${dir}: registry version ${version.version} by ${version.who} (${version.why}): ${lines.length === 0 ? 'no changes' : `${lines.length} change${lines.length === 1 ? '' : 's'}`}`)
    for (const line of lines) console.log(line)
    return 0
  } catch (err) {
    return refused(err)
  } finally {
    await store.close()
  }
}

/** `ura config export <dir> [--version <n>]` — writes members.yaml, services.yaml and access.yaml. */
export async function configExport (dir: string, values: StoreOptions & { version?: number }): Promise<number> {
  const store = await openStore(values)
  if (store === undefined) return 2
  try {
    const version = values.version === undefined ? await store.current() : await store.version(values.version)
    const files = await exportDir(version.content, dir, `Registry version ${version.version}, ${version.when} by ${version.who}: ${version.why}`)
    console.log(`registry version ${version.version} written to ${files.join(', ')}`)
    return 0
  } catch (err) {
    return refused(err)
  } finally {
    await store.close()
  }
}
