/**
 * Checks content before it becomes a version, with the configuration's own schema and cross-checks
 * (config/load.ts), so a change is accepted or refused whole, with every problem named by its path.
 */
import { checkRegistryParts } from '../../config/load.ts'
import { REGISTRY_SECTIONS } from '../../config/registry-sections.ts'
import type { RegistryContent } from './content.ts'
import { RegistryStoreError } from './errors.ts'

const SECTIONS = ['members', 'groups', 'services', 'access', ...REGISTRY_SECTIONS] as const

/** Throws INVALID_CONTENT listing every problem; returns nothing when the content is sound. */
export function validateContent (instance: string, content: RegistryContent): void {
  if (content === null || typeof content !== 'object' || Array.isArray(content)) {
    throw new RegistryStoreError('INVALID_COMMIT', 'a registry change must be registry content (members, groups, services, access)')
  }
  const unknown = Object.keys(content).filter(k => !(SECTIONS as readonly string[]).includes(k))
  if (unknown.length > 0) {
    throw new RegistryStoreError('INVALID_CONTENT', `unknown registry section${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}`, {
      problems: unknown.map(k => ({ file: 'registry', path: k, message: `unknown property '${k}'` })),
    })
  }
  const problems = checkRegistryParts(instance, content, 'registry')
  if (problems.length > 0) {
    const list = problems.map(p => `  ${p.path === '' ? '(top level)' : p.path}: ${p.message}`).join('\n')
    throw new RegistryStoreError('INVALID_CONTENT', `the registry change is refused (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${list}`, { problems })
  }
}
