/**
 * Certificates the node issued that are about to expire. `expiringCertificates` lists them (for
 * `/readyz` detail and a metric); `expiryNotices` puts a notice in the outbox 30, 14, 7, 3 and 1 days
 * before a certificate's end, each once (the outbox key makes running it again harmless). A
 * certificate that is revoked, or already renewed (the same owner and role hold a later one that is
 * not expiring), is out of use and left alone.
 */
import type { IssuedCertificate } from '../../config/registry-sections.ts'
import { memberOf } from '../../protocol/identifiers.ts'
import type { RegistryContent } from '../../registry/store/index.ts'
import { toMemberRole, toRole, withNotices, type Notice } from './outbox.ts'
import type { OutboxMessage } from '../../config/registry-sections.ts'

/** Days before the end at which a notice is due. */
export const EXPIRY_NOTICE_DAYS = [30, 14, 7, 3, 1] as const
const WINDOW_DAYS = EXPIRY_NOTICE_DAYS[0]
const DAY = 24 * 60 * 60 * 1000

export interface ExpiringCertificate {
  serial: string
  role: IssuedCertificate['role']
  owner: string
  notAfter: string
  /** Whole days left (negative once expired), counted as `ura cert list` does. */
  daysLeft: number
  state: 'expiring' | 'expired'
}

/** Certificates in use: issued by the node, not revoked, not superseded by a later one for the same owner and role. */
function inUse (content: RegistryContent, now: Date): IssuedCertificate[] {
  const revoked = new Set(content.revocations.map(r => r.serial))
  const live = content.certificates.filter(c => !revoked.has(c.serial))
  const horizon = now.getTime() + WINDOW_DAYS * DAY
  return live.filter(c => !live.some(o => o !== c && o.owner === c.owner && o.role === c.role && Date.parse(o.notAfter) > Date.parse(c.notAfter) && Date.parse(o.notAfter) > horizon))
}

/** Certificates in use that end within `withinDays` (default 30) or have ended, soonest first. */
export function expiringCertificates (content: RegistryContent, now: Date, withinDays: number = WINDOW_DAYS): ExpiringCertificate[] {
  const t = now.getTime()
  return inUse(content, now)
    .filter(c => Date.parse(c.notAfter) - t <= withinDays * DAY)
    .sort((a, b) => Date.parse(a.notAfter) - Date.parse(b.notAfter))
    .map(c => {
      const left = Date.parse(c.notAfter) - t
      return { serial: c.serial, role: c.role, owner: c.owner, notAfter: c.notAfter, daysLeft: Math.floor(left / DAY), state: left <= 0 ? 'expired' : 'expiring' }
    })
}

/**
 * The notice due now for each certificate in use: the stage is the smallest of 30/14/7/3/1 days that
 * the time left has reached, so a node that was down for a while sends the current stage, not every
 * stage it missed. Expired certificates get none (they are listed by `expiringCertificates`).
 */
export function expiryNotices (content: RegistryContent, now: Date): { content: RegistryContent; added: OutboxMessage[] } {
  const t = now.getTime()
  const emails = new Map(content.applications.map(a => [a.id, a.employee.email]))
  const notices: Notice[] = []
  for (const c of inUse(content, now)) {
    const left = Date.parse(c.notAfter) - t
    if (left <= 0) continue
    const due = [...EXPIRY_NOTICE_DAYS].reverse().find(d => left <= d * DAY)
    if (due === undefined) continue
    const to = c.role === 'operator' ? [toRole('security-officer')] : [toMemberRole('service-administrator', memberOf(c.owner)), toRole('security-officer')]
    const email = c.application === undefined ? undefined : emails.get(c.application)
    if (email !== undefined) to.unshift(email)
    const days = Math.floor(left / DAY)
    notices.push({
      to,
      subject: `Certificate of ${c.owner} expires ${days === 0 ? 'within a day' : `in ${days} day${days === 1 ? '' : 's'}`}`,
      body: `The ${c.role} certificate ${c.serial} of ${c.owner} is valid until ${c.notAfter}. Send a new certificate request and have it issued before then; the node refuses the certificate once it has expired.`,
      about: `certificate:${c.serial}`,
      key: `expiry:${c.serial}:${due}`,
    })
  }
  return withNotices(content, notices, now)
}
