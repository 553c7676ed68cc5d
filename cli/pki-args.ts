/** Where the PKI commands find the data directory: `--data <dir>`, else the configuration's `node.dataDir`. */
import { dataDirOf } from '../certs/node-pki.ts'
import { loadConfig } from '../config/load.ts'
import type { UraConfig } from '../config/types.ts'
import { DEMO_CONFIG } from './start.ts'

export async function resolveDataDir (values: { data?: string; config?: string }): Promise<{ dataDir: string; config?: UraConfig }> {
  if (values.data !== undefined) {
    if (values.config === undefined) return { dataDir: values.data }
    return { dataDir: values.data, config: await loadConfig(values.config) }
  }
  const config = await loadConfig(values.config ?? DEMO_CONFIG)
  return { dataDir: dataDirOf(config), config }
}

export const PKI_OPTIONS = {
  data: { type: 'string' },
  config: { type: 'string' },
} as const

export const PKI_OPTIONS_HELP = [
  '  --data <dir>    data directory (default: node.dataDir of the configuration)',
  '  --config <dir>  configuration directory (default: config/demo)',
]
