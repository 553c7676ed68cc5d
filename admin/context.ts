/**
 * What every admin route shares: the registry store it changes, the audit trail it writes, the node's
 * settings and PKI, and the clock; and what Fastify carries per request — the operator who called,
 * the registry version the request reads, and what the request is doing (for its audit record).
 * The node may also lend the admin API its message log (for the log and traffic routes), its
 * delivery queue (for the queue routes) and a view
 * of its health (circuit breakers, certificates expiring): the admin API never reaches into the
 * gateway itself. Routes of other parts of admin/ (onboarding) are written against these types.
 */
import type { FastifyRequest } from 'fastify'
import type { NodePki } from '../certs/node-pki.ts'
import type { RoleGrant } from '../config/registry-sections.ts'
import type { UraConfig } from '../config/types.ts'
import type { DeliveryQueue } from '../delivery/queue.ts'
import type { AuditTrail } from '../messagelog/audit/index.ts'
import type { LogStore } from '../messagelog/store.ts'
import type { RegistryStore, RegistryVersion } from '../registry/store/index.ts'

export type { RoleGrant }

export interface AdminContext {
  store: RegistryStore
  audit: AuditTrail
  config: UraConfig
  /** The node's keystore (its CA issues certificates) and trust store (operator certificates are checked against it). */
  pki?: NodePki
  /** The node's message log, read by `/log` and `/traffic` (absent: they answer 503 Admin.LogUnavailable). */
  logStore?: LogStore
  /** The node's delivery queue, read and re-driven by `/queues` (absent: they answer 503 Admin.QueueUnavailable). */
  deliveryQueue?: DeliveryQueue
  /** What the node knows of its own health, read at each `/traffic` request. */
  health?: () => NodeHealth
  now (): Date
}

/** The node's health as the gateway and the PKI see it: breakers not closed, certificates expiring soon. */
export interface NodeHealth {
  breakers: Array<{ service: string; state: 'open' | 'half-open'; since?: string }>
  /** Certificates that expire within 30 days (or already have), as /readyz lists them. */
  certificatesExpiringSoon?: Array<{ role: string; id?: string; subject: string; serial: string; notAfter: string; daysLeft: number; state: string }>
}

/** Who is calling: an operator of the current registry version, identified by certificate or token. */
export interface Operator {
  id: string
  name: string
  /** The roles this request may use: the operator's, narrowed by the token's when the token names some. */
  roles: RoleGrant[]
  /** `session`: the console, calling on behalf of an operator signed in to it. */
  via: 'certificate' | 'token' | 'session'
  /** The token's id when `via` is `token`. */
  tokenId?: string
}

/** What a request is doing, for its audit record (one per request). */
export interface AdminAction {
  action: string
  target: string | null
  /** The role the action was allowed under ('' while none was). */
  role: string
  /** Set once the request's record is in the trail. */
  audited: boolean
  /** The error code the request was answered with, when it was refused. */
  errorType?: string
}

/** How a route names what it does: the action, and the member (for member-scoped roles) and target it acts on. */
export interface AdminRouteConfig {
  action?: string
  member?: (request: FastifyRequest) => string | undefined
  target?: (request: FastifyRequest) => string | undefined
  /**
   * Default: the server authorizes `action` for `member` before the body is validated. `list`: it
   * works out which members' entries the operator may see (`request.visibleMembers`); `manual`: the
   * handler calls `authorize` itself (e.g. once per member a body names).
   */
  authorize?: 'list' | 'manual'
}

declare module 'fastify' {
  interface FastifyRequest {
    operator?: Operator
    /** The registry version this request reads (the current one when it arrived). */
    registry?: RegistryVersion
    adminAction?: AdminAction
    /** List routes: the members whose entries the operator may see; undefined = every member's. */
    visibleMembers?: Set<string>
  }
  interface FastifyContextConfig extends AdminRouteConfig {}
}
