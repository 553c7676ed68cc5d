/**
 * What changed between two registry contents, by identity: members and subsystems by client id,
 * services by service id (with version), groups by name, grants by the service they open. An entry
 * whose identity stays but whose settings differ is "changed". Operators read this before and after
 * a commit; it is computed from the stored contents, so it can never disagree with them.
 */
import { canonicalJson, type RegistryContent } from './content.ts'

export interface EntityDiff {
  added: string[]
  removed: string[]
  changed: string[]
}

export interface RegistryDiff {
  from: number
  to: number
  members: EntityDiff
  subsystems: EntityDiff
  groups: EntityDiff
  services: EntityDiff
  /** Keyed by the granted service; all of one service's grant entries compare as one. */
  grants: EntityDiff
}

function keyed<T> (items: T[], key: (item: T) => string): Map<string, string> {
  const out = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    out.set(k, [...(out.get(k) ?? []), item])
  }
  return new Map([...out].map(([k, v]) => [k, canonicalJson(v)]))
}

function compare (a: Map<string, string>, b: Map<string, string>): EntityDiff {
  const diff: EntityDiff = { added: [], removed: [], changed: [] }
  for (const [k, v] of b) {
    const old = a.get(k)
    if (old === undefined) diff.added.push(k)
    else if (old !== v) diff.changed.push(k)
  }
  for (const k of a.keys()) if (!b.has(k)) diff.removed.push(k)
  diff.added.sort(); diff.removed.sort(); diff.changed.sort()
  return diff
}

function views (instance: string, c: RegistryContent): Record<Exclude<keyof RegistryDiff, 'from' | 'to'>, Map<string, string>> {
  const memberId = (m: { class: string; code: string }): string => `${instance}/${m.class}/${m.code}`
  return {
    // A member's own settings, without its subsystems (those are compared on their own).
    members: keyed(c.members.map(({ subsystems: _s, ...m }) => m), memberId),
    subsystems: keyed(c.members.flatMap(m => (m.subsystems ?? []).map(s => ({ id: `${memberId(m)}/${s.code}`, s }))), x => x.id),
    groups: keyed(Object.entries(c.groups ?? {}), ([name]) => name),
    services: keyed(c.services, s => `${s.provider}/${s.code}${s.version === undefined ? '' : '/' + s.version}`),
    grants: keyed(c.access, g => g.service),
  }
}

export function diffContent (instance: string, from: { version: number; content: RegistryContent }, to: { version: number; content: RegistryContent }): RegistryDiff {
  const a = views(instance, from.content)
  const b = views(instance, to.content)
  return {
    from: from.version,
    to: to.version,
    members: compare(a.members, b.members),
    subsystems: compare(a.subsystems, b.subsystems),
    groups: compare(a.groups, b.groups),
    services: compare(a.services, b.services),
    grants: compare(a.grants, b.grants),
  }
}

/** True when nothing differs. */
export function isEmptyDiff (d: RegistryDiff): boolean {
  return [d.members, d.subsystems, d.groups, d.services, d.grants].every(e => e.added.length + e.removed.length + e.changed.length === 0)
}
