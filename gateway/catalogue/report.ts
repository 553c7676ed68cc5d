/** What `ura config check` says about the catalogue: warnings, never failures. */
import type { ServiceConfig } from '../../config/types.ts'
import { checkCatalogue } from './metadata.ts'

export function catalogueReport (services: ServiceConfig[]): string[] {
  const checks = checkCatalogue(services)
  const published = checks.filter(c => c.metadata !== undefined).length
  const lines = [`catalogue: ${published} of ${checks.length} service${checks.length === 1 ? '' : 's'} published`]
  for (const c of checks) {
    if (c.metadata !== undefined) continue
    if (c.problems.length === 0) {
      lines.push(`  note: ${c.id} has no catalogue metadata and is not published`)
      continue
    }
    lines.push(`  warning: ${c.id} is not published, its catalogue metadata is incomplete:`)
    for (const p of c.problems) lines.push(`    ${p}`)
  }
  return lines
}
