/** Where the PKI commands find the data directory: `--data <dir>`, else the configuration's `node.dataDir`. */
import { dataDirOf } from '../certs/node-pki.ts'
import { loadConfig } from '../config/load.ts'
import type { UraConfig } from '../config/types.ts'
import { DEMO_CONFIG_DIR } from '../config/defaults.ts'

export async function resolveDataDir (values: PkiOptions): Promise<{ dataDir: string; config?: UraConfig }> {
  if (values.data !== undefined) {
    if (values.config === undefined) return { dataDir: values.data }
    return { dataDir: values.data, config: await loadConfig(values.config) }
  }
  const config = await loadConfig(values.config ?? DEMO_CONFIG_DIR)
  return { dataDir: dataDirOf(config), config }
}

/** The options resolveDataDir reads. */
export interface PkiOptions { data?: string; config?: string }
