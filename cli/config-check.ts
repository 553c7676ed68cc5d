import { parseArgs } from 'node:util'
import { ConfigError, formatProblem, loadConfig } from '../config/load.ts'
import { Registry } from '../registry/registry.ts'
import { PROJECT_SCHEMA_DIR, SchemaLibrary } from '../schemas/library.ts'
import { catalogueReport } from '../gateway/catalogue/report.ts'

/** Loads, validates and builds (without listening) the configuration in a directory. */
export async function configCheck (args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} })
  if (positionals.length !== 1) {
    console.error('Usage: ura config check <dir>')
    return 2
  }
  try {
    const config = await loadConfig(positionals[0])
    const registry = await Registry.build(config, await SchemaLibrary.load([PROJECT_SCHEMA_DIR], config.node.schemas))
    const services = [...registry.services.values()].flat().length
    await registry.close()
    console.log(`${positionals[0]}: valid — instance ${config.node.instance}, ${config.members.length} members, ${registry.clients.size} client ids, ${services} services, ${config.access.length} grants`)
    // Catalogue gaps are warnings: the services still run, they are only left out of the catalogue.
    for (const line of catalogueReport(config.services)) console.log(line)
    return 0
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    console.error(`${positionals[0]}: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}`)
    for (const p of err.problems) console.error(`  ${formatProblem(p)}`)
    return 1
  }
}
