/**
 * What one registry version holds: the operator-managed parts of a configuration (members with
 * their subsystems and pinned client certificates, groups, services, access grants), in the shapes
 * the YAML files use, so the same schema checks both; and the operator plane's sections (operators,
 * certificates issued and revoked, applications, access requests, outbox: config/registry-sections.ts).
 * `CONTENT_FORMAT` is stored with every version so old rows stay readable; rows written before the
 * operator plane's sections existed read with those sections empty.
 */
import type { RegistryParts } from '../../config/load.ts'
import { emptySections, REGISTRY_SECTIONS } from '../../config/registry-sections.ts'

export type RegistryContent = RegistryParts

export const CONTENT_FORMAT = 1

export function emptyContent (): RegistryContent {
  return { members: [], groups: {}, services: [], access: [], ...emptySections() }
}

/** The content with every section present: a section left out (older rows, older callers) is empty. */
export function withAllSections (content: Partial<RegistryContent>): RegistryContent {
  const whole = { ...content } as Record<string, unknown>
  for (const k of ['members', 'services', 'access', ...REGISTRY_SECTIONS]) whole[k] ??= []
  whole.groups ??= {}
  return whole as unknown as RegistryContent
}

/** JSON with object keys sorted: equal content gives equal text, whatever order its keys were written in. */
export function canonicalJson (value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  })
}
