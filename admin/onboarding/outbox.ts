/**
 * Notices to applicants and operators. The node sends no e-mail: a notice is a row of the registry's
 * outbox, committed in the same version as the change it tells about, and read through the admin
 * API (or by whatever relays it). Recipients are e-mail addresses, `operators:<role>` (every
 * operator holding that role) or `operators:<role>:<member id>` (those holding it for that member).
 * A notice with a `key` is added once: a second one with the same key is left out.
 */
import type { OutboxMessage } from '../../config/registry-sections.ts'
import type { RegistryContent } from '../../registry/store/index.ts'
import { randomId } from './ids.ts'

export interface Notice {
  to: string[]
  subject: string
  body: string
  about?: string
  key?: string
}

export const toRole = (role: string): string => `operators:${role}`
export const toMemberRole = (role: string, member: string): string => `operators:${role}:${member}`

const cut = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`)

/** The content with the notices appended to its outbox (those whose key is already there left out). */
export function withNotices (content: RegistryContent, notices: Notice[], now: Date): { content: RegistryContent; added: OutboxMessage[] } {
  const keys = new Set(content.outbox.map(m => m.key).filter(k => k !== undefined))
  const added: OutboxMessage[] = []
  for (const n of notices) {
    if (n.key !== undefined && keys.has(n.key)) continue
    if (n.key !== undefined) keys.add(n.key)
    added.push({
      id: randomId('n'),
      at: now.toISOString(),
      to: [...new Set(n.to)].slice(0, 50),
      subject: cut(n.subject, 300),
      body: cut(n.body, 20000),
      ...(n.about === undefined ? {} : { about: cut(n.about, 300) }),
      ...(n.key === undefined ? {} : { key: cut(n.key, 300) }),
    })
  }
  return { content: added.length === 0 ? content : { ...content, outbox: [...content.outbox, ...added] }, added }
}
