/**
 * Identifiers in admin API paths. An X-Road identifier's parts are joined with `:` in a URL (as
 * X-Road's own admin API writes them: `AL-DEV:GOV:K11503002N`), never with `/`, so one path
 * segment is one identifier and an encoded slash can never smuggle in another path. A service adds
 * its code as the last part and its version after `@` (`AL-DEV:GOV:L01417001D:regjistri-civil:kerkoShtetas@v1`).
 * The path patterns refuse `.` and `..` parts, slashes and anything outside X-Road's identifier
 * characters; bodies keep the `/` text form of the configuration files.
 */
import { AdminError } from './errors.ts'

/** One identifier part: X-Road's characters, never `.` or `..` alone. */
const PART = "(?!\\.{1,2}(?:[:@]|$))[A-Za-z0-9'()+,\\-.=?]{1,255}"

export const PATTERNS = {
  part: `^${PART}$`,
  member: `^${PART}(?::${PART}){2}$`,
  client: `^${PART}(?::${PART}){2,3}$`,
  /** provider (member or subsystem) and code; a grant names services without their version. */
  grantService: `^${PART}(?::${PART}){3,4}$`,
  service: `^${PART}(?::${PART}){3,4}(?:@${PART})?$`,
  nid: '^[A-T][0-9]{8}[A-W]$',
  id: '^[a-z0-9][a-z0-9._-]{0,63}$',
  version: '^[0-9]{1,12}$',
  /** An ISO 8601 time with its offset (query filters). */
  time: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$',
} as const

const param = (pattern: string, description: string): Record<string, unknown> => ({ type: 'string', pattern, maxLength: 1300, description })

export const PARAMS = {
  member: param(PATTERNS.member, 'member id, parts joined by `:` (AL-DEV:GOV:K11503002N)'),
  subsystem: param(PATTERNS.part, 'subsystem code'),
  service: param(PATTERNS.service, 'service id: provider and code joined by `:`, version after `@` (AL-DEV:NJQV:L21603004L:taksat-vendore:detyrimet)'),
  grantService: param(PATTERNS.grantService, 'service id without version (AL-DEV:NJQV:L21603004L:taksat-vendore:detyrimet)'),
  group: param(PATTERNS.part, 'group name'),
  nid: param(PATTERNS.nid, 'the official\'s NID'),
  id: param(PATTERNS.id, 'id'),
  version: param(PATTERNS.version, 'registry version number'),
}

const matches = (text: unknown, pattern: string): text is string => typeof text === 'string' && new RegExp(pattern, 'u').test(text)

/** `AL-DEV:GOV:X` → `AL-DEV/GOV/X`, when the text is a member id of this instance; undefined otherwise. */
export function memberFromParam (instance: string, text: unknown): string | undefined {
  if (!matches(text, PATTERNS.member)) return undefined
  const id = text.replaceAll(':', '/')
  return id.startsWith(`${instance}/`) ? id : undefined
}

export function memberToParam (memberId: string): string {
  return memberId.replaceAll('/', ':')
}

/** The member of a client id (member or subsystem, `/` form). */
export function memberOfClient (client: unknown): string | undefined {
  if (typeof client !== 'string') return undefined
  const parts = client.split('/')
  return parts.length >= 3 ? parts.slice(0, 3).join('/') : undefined
}

export interface ServiceKey { provider: string; code: string; version?: string }

/** `AL-DEV:NJQV:L21603004L:taksat-vendore:detyrimet@v1` → provider, code and version, when well formed and of this instance. */
export function serviceFromParam (instance: string, text: unknown, withVersion = true): ServiceKey | undefined {
  if (!matches(text, withVersion ? PATTERNS.service : PATTERNS.grantService)) return undefined
  const [path, version] = text.split('@') as [string, string | undefined]
  const parts = path.split(':')
  if (parts[0] !== instance) return undefined
  return { provider: parts.slice(0, -1).join('/'), code: parts.at(-1)!, ...(version === undefined ? {} : { version }) }
}

export function serviceToParam (s: ServiceKey): string {
  return `${s.provider.replaceAll('/', ':')}:${s.code}${s.version === undefined ? '' : `@${s.version}`}`
}

/** The service as grants and the audit trail name it: `provider/code[/version]`. */
export function serviceText (s: ServiceKey): string {
  return `${s.provider}/${s.code}${s.version === undefined ? '' : `/${s.version}`}`
}

/** A path parameter that passed the schema but names nothing of this node (another instance). */
export function onThisNode<T> (value: T | undefined, what: string): T {
  if (value === undefined) throw new AdminError('Admin.NotFound', `${what} is not on this node`)
  return value
}
