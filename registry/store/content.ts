/**
 * What one registry version holds: the operator-managed parts of a configuration (members with
 * their subsystems and pinned client certificates, groups, services, access grants), in the shapes
 * the YAML files use, so the same schema checks both. Revocations, officials and applications will
 * join as further sections; `CONTENT_FORMAT` is stored with every version so old rows stay readable.
 */
import type { RegistryParts } from '../../config/load.ts'

export type RegistryContent = RegistryParts

export const CONTENT_FORMAT = 1

export function emptyContent (): RegistryContent {
  return { members: [], groups: {}, services: [], access: [] }
}

/** JSON with object keys sorted: equal content gives equal text, whatever order its keys were written in. */
export function canonicalJson (value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  })
}
