/**
 * What `ura config check` says about the catalogue: warnings, never failures. Services without any
 * catalogue metadata are internal and need not be published; a few are named, many are counted
 * (the demo's 61 push targets would otherwise bury the warnings that matter).
 */
import type { ServiceConfig } from '../../config/types.ts'
import { checkCatalogue } from './metadata.ts'

/** Services without metadata named one per line up to this many; beyond it, one summary line. */
const NAMED_NOTES = 5

export function catalogueReport (services: ServiceConfig[]): string[] {
  const checks = checkCatalogue(services)
  const published = checks.filter(c => c.metadata !== undefined).length
  const lines = [`catalogue: ${published} of ${checks.length} service${checks.length === 1 ? '' : 's'} published`]
  const internal = checks.filter(c => c.metadata === undefined && c.problems.length === 0).map(c => c.id)
  if (internal.length <= NAMED_NOTES) {
    for (const id of internal) lines.push(`  note: ${id} has no catalogue metadata and is not published`)
  } else {
    lines.push(`  note: ${internal.length} services have no catalogue metadata and are not published, among them ${internal.slice(0, 2).join(', ')}`)
  }
  for (const c of checks) {
    if (c.metadata !== undefined || c.problems.length === 0) continue
    lines.push(`  warning: ${c.id} is not published, its catalogue metadata is incomplete:`)
    for (const p of c.problems) lines.push(`    ${p}`)
  }
  return lines
}
