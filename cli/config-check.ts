/** `ura config check`: validates a configuration before a node is started on it (the node would refuse it anyway). */
import { ConfigError, formatProblem, loadConfig } from '../config/load.ts'
import { Registry } from '../registry/registry.ts'
import { PROJECT_SCHEMA_DIR, SchemaLibrary } from '../schemas/library.ts'
import { catalogueReport } from '../gateway/catalogue/report.ts'

/** Loads, validates and builds (without listening) the configuration in a directory. */
export async function configCheck (dir: string): Promise<number> {
  try {
    const config = await loadConfig(dir)
    const registry = await Registry.build(config, await SchemaLibrary.load([PROJECT_SCHEMA_DIR], config.node.schemas))
    const services = [...registry.services.values()].flat().length
    await registry.close()
    console.log(`${dir}: valid — instance ${config.node.instance}, ${config.members.length} members, ${registry.clients.size} client ids, ${services} services, ${config.access.length} grants`)
    // Catalogue gaps are warnings: the services still run, they are only left out of the catalogue.
    for (const line of catalogueReport(config.services)) console.log(line)
    return 0
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    console.error(`${dir}: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}`)
    for (const p of err.problems) console.error(`  ${formatProblem(p)}`)
    return 1
  }
}
