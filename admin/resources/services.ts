/**
 * Services: `/admin/v1/services`, each with its adapter, endpoints and schemas, catalogue metadata
 * and its `disabled` notice. PUT replaces a service, PATCH merges fields into it (`null` removes an
 * optional one), `disable` and `enable` switch it off for its callers with a notice and back on.
 * A service belongs to its provider's member: member-scoped service administrators manage their own.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ServiceConfig } from '../../config/types.ts'
import type { RegistryContent } from '../../registry/store/index.ts'
import { commitChange } from '../change.ts'
import type { AdminContext } from '../context.ts'
import { AdminError, notFound } from '../errors.ts'
import { etagOf } from '../etag.ts'
import { memberOfClient, onThisNode, PARAMS, PATTERNS, serviceFromParam, serviceText, serviceToParam, type ServiceKey } from '../ids.ts'
import { route, sendCreated, sendDeleted, sendList, sendResource, snapshot } from '../route-kit.ts'
import { DISABLE_BODY, SERVICE_BODY, SERVICE_PATCH } from '../schemas.ts'
import { defineState } from '../states.ts'

const TAG = 'Services'

export const sameService = (a: ServiceKey, b: ServiceKey): boolean => a.provider === b.provider && a.code === b.code && a.version === b.version

/** The state the audit trail digests (admin/states.ts): the service as configured. */
const serviceState = defineState('service', (c, k: ServiceKey) => c.services.find(s => sameService(s, k)))
/** A service's key alone (a body or a configured service carries more). */
const keyOf = (k: ServiceKey): ServiceKey => ({ provider: k.provider, code: k.code, ...(k.version === undefined ? {} : { version: k.version }) })

export function serviceView (s: ServiceConfig): Record<string, unknown> {
  return { id: serviceToParam(s), ...s }
}

export async function serviceRoutes (app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const instance = ctx.config.node.instance
  const pathService = (request: FastifyRequest): ServiceKey | undefined => serviceFromParam(instance, (request.params as { service?: unknown }).service)
  const pathMember = (request: FastifyRequest): string | undefined => memberOfClient(pathService(request)?.provider)
  const pathTarget = (request: FastifyRequest): string | undefined => { const k = pathService(request); return k === undefined ? undefined : serviceText(k) }
  const find = (c: RegistryContent, k: ServiceKey): ServiceConfig | undefined => c.services.find(s => sameService(s, k))
  const get = (c: RegistryContent, k: ServiceKey): ServiceConfig => {
    const s = find(c, k)
    if (s === undefined) throw notFound(`service ${serviceText(k)}`)
    return s
  }
  const tag = (k: ServiceKey) => (c: RegistryContent) => ({ etag: etagOf(serviceView(get(c, k))), allowAny: false })
  const params = { service: PARAMS.service }
  const scoped = { params, member: pathMember, target: pathTarget }

  app.get('/services', route('service.list', {
    tag: TAG,
    authorize: 'list',
    querystring: { provider: { type: 'string', pattern: PATTERNS.client, maxLength: 1300, description: 'only this provider\'s services (member or subsystem, parts joined by `:`)' } },
  }), async (request, reply) => {
    const visible = request.visibleMembers
    const provider = (request.query as { provider?: string }).provider?.replaceAll(':', '/')
    const items = snapshot(request).content.services
      .filter(s => visible === undefined || visible.has(memberOfClient(s.provider)!))
      .filter(s => provider === undefined || s.provider === provider || s.provider.startsWith(`${provider}/`))
    return sendList(reply, items.map(serviceView))
  })

  app.get('/services/:service', route('service.read', { tag: TAG, ...scoped }), async (request, reply) => {
    const k = onThisNode(pathService(request), 'service')
    return sendResource(reply, serviceView(get(snapshot(request).content, k)))
  })

  const bodyTarget = (request: FastifyRequest): string | undefined => {
    const b = request.body as Partial<ServiceConfig> | undefined
    return typeof b?.provider === 'string' && typeof b.code === 'string' ? serviceText(b as ServiceKey) : undefined
  }
  app.post('/services', route('service.create', { tag: TAG, body: SERVICE_BODY, status: 201, write: true, member: request => memberOfClient((request.body as { provider?: unknown } | undefined)?.provider), target: bodyTarget }), async (request, reply) => {
    const body = request.body as ServiceConfig
    const v = await commitChange(ctx, request, {
      action: 'service.create',
      target: serviceText(body),
      change: c => {
        if (find(c, body) !== undefined) throw new AdminError('Admin.Conflict', `service ${serviceText(body)} already exists`)
        c.services.push(body)
        return c
      },
      after: serviceState(keyOf(body)),
    })
    return sendCreated(reply, `/services/${serviceToParam(body)}`, serviceView(get(v.content, body)))
  })

  app.put('/services/:service', route('service.update', { tag: TAG, summary: 'replace a service', body: SERVICE_BODY, write: true, ...scoped }), async (request, reply) => {
    const k = onThisNode(pathService(request), 'service')
    const body = request.body as ServiceConfig
    if (!sameService(body, k)) throw new AdminError('Admin.InvalidBody', `the body describes service ${serviceText(body)}, the path ${serviceText(k)}: a service's provider, code and version cannot change`)
    return sendResource(reply, serviceView(await update(request, k, 'service.update', () => body)))
  })

  app.patch('/services/:service', route('service.update', { tag: TAG, summary: 'change fields of a service (merge patch; null removes)', body: SERVICE_PATCH, write: true, ...scoped }), async (request, reply) => {
    const k = onThisNode(pathService(request), 'service')
    const patch = request.body as Record<string, unknown>
    return sendResource(reply, serviceView(await update(request, k, 'service.update', s => {
      const out = { ...s } as Record<string, unknown>
      for (const [key, value] of Object.entries(patch)) {
        if (value === null) delete out[key]
        else out[key] = value
      }
      return out as unknown as ServiceConfig
    })))
  })

  app.post('/services/:service/disable', route('service.disable', { tag: TAG, body: DISABLE_BODY, write: true, ...scoped }), async (request, reply) => {
    const k = onThisNode(pathService(request), 'service')
    const { notice } = request.body as { notice: string }
    return sendResource(reply, serviceView(await update(request, k, 'service.disable', s => ({ ...s, disabled: { notice } }))))
  })

  app.post('/services/:service/enable', route('service.enable', { tag: TAG, write: true, ...scoped }), async (request, reply) => {
    const k = onThisNode(pathService(request), 'service')
    return sendResource(reply, serviceView(await update(request, k, 'service.enable', s => { const { disabled: _d, ...rest } = s; return rest as ServiceConfig })))
  })

  app.delete('/services/:service', route('service.delete', { tag: TAG, status: 204, write: true, ...scoped }), async (request, reply) => {
    const k = onThisNode(pathService(request), 'service')
    await commitChange(ctx, request, {
      action: 'service.delete',
      target: serviceText(k),
      precondition: tag(k),
      change: c => { c.services = c.services.filter(s => !sameService(s, k)); return c },
      before: serviceState(keyOf(k)),
    })
    sendDeleted(reply)
  })

  /** Replaces the service `k` with what `next` makes of it, as one version. */
  async function update (request: FastifyRequest, k: ServiceKey, action: string, next: (s: ServiceConfig) => ServiceConfig): Promise<ServiceConfig> {
    const v = await commitChange(ctx, request, {
      action,
      target: serviceText(k),
      precondition: tag(k),
      change: c => {
        const i = c.services.findIndex(s => sameService(s, k))
        if (i < 0) throw notFound(`service ${serviceText(k)}`)
        c.services[i] = next(c.services[i])
        return c
      },
      before: serviceState(keyOf(k)),
      after: serviceState(keyOf(k)),
    })
    return get(v.content, k)
  }
}
