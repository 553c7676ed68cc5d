/**
 * How an admin route is declared: its action (from admin/roles.ts), the schemas that validate its
 * path, query and body (and make its OpenAPI entry, roles included), and how it names the member and
 * target it acts on; and how it answers: a resource with its ETag, a list with the registry version
 * as ETag, a creation with its Location.
 */
import type { FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify'
import type { RegistryVersion } from '../registry/store/index.ts'
import type { AdminRouteConfig } from './context.ts'
import { AdminError } from './errors.ts'
import { etagOf, versionEtag } from './etag.ts'
import { ruleOf } from './roles.ts'

type Schema = Record<string, unknown>

export const ADMIN_PREFIX = '/admin/v1'
export const REGISTRY_VERSION_HEADER = 'x-ura-registry-version'

export interface RouteSpec {
  tag: string
  summary?: string
  params?: Record<string, Schema>
  querystring?: Record<string, Schema>
  body?: Schema
  /** The success status and what it carries. */
  status?: number
  /** Writes name If-Match and X-Ura-Reason in their OpenAPI entry. */
  write?: boolean
  /** A change outside the registry (no If-Match): names X-Ura-Reason only. */
  reason?: boolean
  member?: AdminRouteConfig['member']
  target?: AdminRouteConfig['target']
  /** `list`: the route filters by the members the operator may see; `manual`: the handler authorizes itself. */
  authorize?: AdminRouteConfig['authorize']
}

const objectOf = (props: Record<string, Schema>, required: boolean): Schema => ({
  type: 'object',
  additionalProperties: false,
  ...(required ? { required: Object.keys(props) } : {}),
  properties: props,
})

const WRITE_HEADERS = {
  type: 'object',
  properties: {
    'if-match': { type: 'string', description: 'the ETag the change was made on (`*` only where nothing existing is replaced)' },
    'x-ura-reason': { type: 'string', description: 'why the change is made: stored with the registry version' },
  },
}

const REASON_HEADERS = {
  type: 'object',
  required: ['x-ura-reason'],
  properties: { 'x-ura-reason': WRITE_HEADERS.properties['x-ura-reason'] },
}

/** Route options for `action`: validation, OpenAPI entry (summary, roles, security, errors) and config. */
export function route (action: string, spec: RouteSpec): RouteShorthandOptions {
  const rule = ruleOf(action)
  const scoped = rule.scope === 'member' ? ' A role scoped to a member acts on that member\'s own entries only.' : rule.scope === 'node' ? ' Member-scoped roles may not.' : ''
  const schema: Schema = {
    tags: [spec.tag],
    summary: spec.summary ?? rule.summary,
    description: `Action \`${action}\`. Roles: ${rule.roles.join(', ')}.${scoped}`,
    security: [{ apiToken: [] }, { operatorCertificate: [] }],
    response: {
      [spec.status ?? 200]: spec.status === 204 ? { description: 'Done', type: 'null' } : { description: 'OK', type: 'object', additionalProperties: true },
      '4xx': { description: 'Refused: `type` is the stable code', $ref: 'AdminError#' },
      '5xx': { description: 'The node failed', $ref: 'AdminError#' },
    },
  }
  if (spec.params !== undefined) schema.params = objectOf(spec.params, true)
  if (spec.querystring !== undefined) schema.querystring = objectOf(spec.querystring, false)
  if (spec.body !== undefined) schema.body = spec.body
  if (spec.write === true) schema.headers = WRITE_HEADERS
  else if (spec.reason === true) schema.headers = REASON_HEADERS
  const config: AdminRouteConfig = { action }
  if (spec.member !== undefined) config.member = spec.member
  if (spec.target !== undefined) config.target = spec.target
  if (spec.authorize !== undefined) config.authorize = spec.authorize
  return { schema, config }
}

/** The registry version the request reads (set by the authentication hook). */
export function snapshot (request: FastifyRequest): RegistryVersion {
  return request.registry!
}

export function sendResource<T> (reply: FastifyReply, value: T, status = 200): T {
  reply.code(status).header('etag', etagOf(value))
  if (reply.request.registry !== undefined) reply.header(REGISTRY_VERSION_HEADER, String(reply.request.registry.version))
  return value
}

/** A list's headers: the registry version is its ETag. */
export function listHeaders (reply: FastifyReply): number {
  const version = reply.request.registry!.version
  reply.header('etag', versionEtag(version)).header(REGISTRY_VERSION_HEADER, String(version))
  return version
}

export function sendList<T> (reply: FastifyReply, items: T[], extra: Record<string, unknown> = {}): { version: number; items: T[] } & Record<string, unknown> {
  return { version: listHeaders(reply), ...extra, items }
}

export function sendCreated<T> (reply: FastifyReply, location: string, value: T): T {
  reply.header('location', `${ADMIN_PREFIX}${location}`)
  return sendResource(reply, value, 201)
}

export function sendDeleted (reply: FastifyReply): void {
  reply.code(204).header(REGISTRY_VERSION_HEADER, String(reply.request.registry!.version)).send()
}

/** For routes that take no body: none, or `{}`; anything else is refused, never ignored. */
export function noBody (request: FastifyRequest): void {
  const b = request.body
  if (b === undefined) return
  if (typeof b === 'object' && b !== null && !Array.isArray(b)) {
    const keys = Object.keys(b)
    if (keys.length === 0) return
    throw new AdminError('Admin.InvalidBody', `this action takes no body: unknown property '${keys[0].slice(0, 60)}'`, { problems: keys.slice(0, 20).map(k => ({ path: `body.${k.slice(0, 60)}`, message: 'unknown property' })) })
  }
  throw new AdminError('Admin.InvalidBody', 'this action takes no body', { problems: [{ path: 'body', message: 'must be absent or {}' }] })
}
