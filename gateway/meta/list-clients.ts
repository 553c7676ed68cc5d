/**
 * listClients (reference §3, X-Road PR-META §2): the members and subsystems hosted on this node,
 * as JSON (snake_case, as X-Road answers `Accept: application/json`) or as the `clientList` XML.
 */
import type { UraConfig } from '../../config/types.ts'
import { identifierXml, xmlEscape } from '../../protocol/soap/xml.ts'
import { XROAD, XROAD_ID } from '../../protocol/soap/namespaces.ts'

export interface ClientListing {
  id: {
    member_class: string
    member_code: string
    subsystem_code?: string
    object_type: 'MEMBER' | 'SUBSYSTEM'
    xroad_instance: string
  }
  name: string
  subsystem_name?: string
}

/** Clients of `instance` (this node's own when absent); another instance has none here. */
export function listClients (config: UraConfig, instance?: string): ClientListing[] {
  const own = config.node.instance
  if (instance !== undefined && instance !== own) return []
  const out: ClientListing[] = []
  for (const m of config.members) {
    out.push({ id: { member_class: m.class, member_code: m.code, object_type: 'MEMBER', xroad_instance: own }, name: m.name })
    for (const s of m.subsystems) {
      out.push({
        id: { member_class: m.class, member_code: m.code, subsystem_code: s.code, object_type: 'SUBSYSTEM', xroad_instance: own },
        name: m.name,
        ...(s.name === undefined ? {} : { subsystem_name: s.name }),
      })
    }
  }
  return out
}

export function clientListJson (clients: ClientListing[]): string {
  return JSON.stringify({ member: clients })
}

export function clientListXml (clients: ClientListing[]): string {
  const members = clients.map(c => {
    const id = identifierXml('id', { instance: c.id.xroad_instance, memberClass: c.id.member_class, memberCode: c.id.member_code, ...(c.id.subsystem_code === undefined ? {} : { subsystemCode: c.id.subsystem_code }) })
    const sub = c.subsystem_name === undefined ? '' : `<xrd:subsystemName>${xmlEscape(c.subsystem_name)}</xrd:subsystemName>`
    return `<xrd:member>${id}<xrd:name>${xmlEscape(c.name)}</xrd:name>${sub}</xrd:member>`
  }).join('')
  return `<?xml version="1.0" encoding="UTF-8"?><xrd:clientList xmlns:xrd="${XROAD}" xmlns:id="${XROAD_ID}">${members}</xrd:clientList>`
}

/** X-Road answers JSON only when asked for it; anything else (or nothing) gets XML. */
export function wantsJson (accept: string | undefined): boolean {
  if (accept === undefined) return false
  return accept.split(',').some(part => {
    const [type, ...params] = part.trim().toLowerCase().split(';').map(s => s.trim())
    const q = params.find(p => p.startsWith('q='))
    return type === 'application/json' && (q === undefined || Number(q.slice(2)) > 0)
  })
}
