/**
 * Who may call what: groups of clients (`/admin/v1/groups`), and the grants of each service
 * (`/admin/v1/grants/{service}`: every allow and deny entry of one service as one resource, for the
 * whole service or some endpoints). The same grants also read and change in the shape of the GovStack
 * IM Configuration Management API (`/admin/v1/rights/allow`, `/admin/v1/rights/deny`), where a right
 * is a client allowed (or denied) a whole service.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { GrantConfig } from '../../config/types.ts'
import type { RegistryContent } from '../../registry/store/index.ts'
import { commitChange } from '../change.ts'
import type { AdminContext } from '../context.ts'
import { AdminError, notFound } from '../errors.ts'
import { etagOf } from '../etag.ts'
import { memberOfClient, onThisNode, PARAMS, PATTERNS, serviceFromParam, type ServiceKey } from '../ids.ts'
import { authorize } from '../roles.ts'
import { listHeaders, route, sendCreated, sendDeleted, sendList, sendResource, snapshot } from '../route-kit.ts'
import { GRANTS_PUT, GROUP_BODY, GROUP_PUT, SERVICE_ACCESS_RIGHTS } from '../schemas.ts'
import { defineState } from '../states.ts'

const TAG = 'Access'

type Entry = Omit<GrantConfig, 'service'>

/** The grant entries of one service (`provider/code`), without their `service`. */
const entriesOf = (c: RegistryContent, text: string): Entry[] => c.access.filter(g => g.service === text).map(({ service: _s, ...e }) => e)

// The states the audit trail digests (admin/states.ts).
const groupState = defineState('group', (c, name: string) => c.groups[name])
const grantsState = defineState('grants', (c, service: string) => entriesOf(c, service))
const grantsOfState = defineState('grants-of', (c, services: string[]) => services.map(text => entriesOf(c, text)))

export async function accessRoutes (app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const instance = ctx.config.node.instance

  // ---- groups -----------------------------------------------------------------------------------

  const groupOf = (request: FastifyRequest): string => (request.params as { group: string }).group
  const groupView = (name: string, clients: string[]): Record<string, unknown> => ({ name, clients })
  const getGroup = (c: RegistryContent, name: string): string[] => {
    if (!Object.hasOwn(c.groups, name)) throw notFound(`group ${name}`)
    return c.groups[name]
  }
  const groupTag = (name: string) => (c: RegistryContent) => ({ etag: etagOf(groupView(name, getGroup(c, name))), allowAny: false })
  const groupParams = { group: PARAMS.group }
  const groupTarget = (request: FastifyRequest): string | undefined => { const g = (request.params as { group?: unknown }).group; return typeof g === 'string' ? `group ${g}` : undefined }

  app.get('/groups', route('group.list', { tag: TAG }), async (request, reply) => {
    return sendList(reply, Object.entries(snapshot(request).content.groups).map(([name, clients]) => groupView(name, clients)))
  })

  app.get('/groups/:group', route('group.read', { tag: TAG, params: groupParams, target: groupTarget }), async (request, reply) => {
    const name = groupOf(request)
    return sendResource(reply, groupView(name, getGroup(snapshot(request).content, name)))
  })

  app.post('/groups', route('group.create', { tag: TAG, body: GROUP_BODY, status: 201, write: true, target: request => `group ${(request.body as { name?: string } | undefined)?.name}` }), async (request, reply) => {
    const { name, clients } = request.body as { name: string; clients: string[] }
    const v = await commitChange(ctx, request, {
      action: 'group.create',
      target: `group ${name}`,
      change: c => {
        if (Object.hasOwn(c.groups, name)) throw new AdminError('Admin.Conflict', `group ${name} already exists`)
        c.groups[name] = clients
        return c
      },
      after: groupState(name),
    })
    return sendCreated(reply, `/groups/${name}`, groupView(name, getGroup(v.content, name)))
  })

  app.put('/groups/:group', route('group.update', { tag: TAG, params: groupParams, body: GROUP_PUT, write: true, target: groupTarget }), async (request, reply) => {
    const name = groupOf(request)
    const { clients } = request.body as { clients: string[] }
    const v = await commitChange(ctx, request, {
      action: 'group.update',
      target: `group ${name}`,
      precondition: groupTag(name),
      change: c => { c.groups[name] = clients; return c },
      before: groupState(name),
      after: groupState(name),
    })
    return sendResource(reply, groupView(name, getGroup(v.content, name)))
  })

  app.delete('/groups/:group', route('group.delete', { tag: TAG, params: groupParams, status: 204, write: true, target: groupTarget }), async (request, reply) => {
    const name = groupOf(request)
    await commitChange(ctx, request, {
      action: 'group.delete',
      target: `group ${name}`,
      precondition: groupTag(name),
      change: c => { delete c.groups[name]; return c },
      before: groupState(name),
    })
    sendDeleted(reply)
  })

  // ---- grants, per service ----------------------------------------------------------------------

  const textOf = (k: ServiceKey): string => `${k.provider}/${k.code}`
  const pathService = (request: FastifyRequest): ServiceKey | undefined => serviceFromParam(instance, (request.params as { service?: unknown }).service, false)
  const pathMember = (request: FastifyRequest): string | undefined => memberOfClient(pathService(request)?.provider)
  const pathTarget = (request: FastifyRequest): string | undefined => { const k = pathService(request); return k === undefined ? undefined : textOf(k) }
  const defined = (c: RegistryContent, text: string): boolean => c.services.some(s => `${s.provider}/${s.code}` === text)
  const grantView = (text: string, entries: Entry[]): Record<string, unknown> => ({ id: text.replaceAll('/', ':'), service: text, entries })
  const getGrants = (c: RegistryContent, text: string): Record<string, unknown> => {
    const entries = entriesOf(c, text)
    if (entries.length === 0 && !defined(c, text)) throw notFound(`service ${text}`)
    return grantView(text, entries)
  }
  const grantTag = (text: string) => (c: RegistryContent) => ({ etag: etagOf(getGrants(c, text)), allowAny: false })
  /** Replaces the entries of one service, where its first entry was (or at the end). */
  const replace = (c: RegistryContent, text: string, entries: Entry[]): RegistryContent => {
    const at = c.access.findIndex(g => g.service === text)
    const rest = c.access.filter(g => g.service !== text)
    const fresh = entries.map(e => ({ service: text, ...e, clients: e.clients ?? [], groups: e.groups ?? [] }))
    const i = at < 0 ? rest.length : c.access.slice(0, at).filter(g => g.service !== text).length
    c.access = [...rest.slice(0, i), ...fresh, ...rest.slice(i)]
    return c
  }
  const params = { service: PARAMS.grantService }
  const scoped = { params, member: pathMember, target: pathTarget }

  app.get('/grants', route('grant.list', { tag: TAG, authorize: 'list' }), async (request, reply) => {
    const c = snapshot(request).content
    const visible = request.visibleMembers
    const texts = [...new Set(c.access.map(g => g.service))].filter(t => visible === undefined || visible.has(memberOfClient(t)!))
    return sendList(reply, texts.map(t => grantView(t, entriesOf(c, t))))
  })

  app.get('/grants/:service', route('grant.read', { tag: TAG, ...scoped }), async (request, reply) => {
    const k = onThisNode(pathService(request), 'service')
    return sendResource(reply, getGrants(snapshot(request).content, textOf(k)))
  })

  app.put('/grants/:service', route('grant.update', { tag: TAG, body: GRANTS_PUT, write: true, ...scoped }), async (request, reply) => {
    const text = textOf(onThisNode(pathService(request), 'service'))
    const { entries } = request.body as { entries: Entry[] }
    const v = await commitChange(ctx, request, {
      action: 'grant.update',
      target: text,
      precondition: grantTag(text),
      change: c => replace(c, text, entries),
      before: grantsState(text),
      after: grantsState(text),
    })
    return sendResource(reply, getGrants(v.content, text))
  })

  app.delete('/grants/:service', route('grant.delete', { tag: TAG, status: 204, write: true, ...scoped }), async (request, reply) => {
    const text = textOf(onThisNode(pathService(request), 'service'))
    await commitChange(ctx, request, {
      action: 'grant.delete',
      target: text,
      precondition: grantTag(text),
      change: c => replace(c, text, []),
      before: grantsState(text),
    })
    sendDeleted(reply)
  })

  // ---- the GovStack shape -----------------------------------------------------------------------

  interface Right { memberClass: string; memberCode: string; applicationId?: string }
  interface ServiceRights extends Right { serviceId: string; rights: Right[] }
  const rightOf = (client: string): Right => {
    const [, memberClass, memberCode, applicationId] = client.split('/')
    return { memberClass, memberCode, ...(applicationId === undefined ? {} : { applicationId }) }
  }
  const clientOf = (r: Right): string => [instance, r.memberClass, r.memberCode, ...(r.applicationId === undefined ? [] : [r.applicationId])].join('/')
  const wholeService = (g: GrantConfig, effect: 'allow' | 'deny'): boolean => (g.effect ?? 'allow') === effect && g.endpoints === undefined

  const rightsQuery = {
    memberClass: { type: 'string', pattern: PATTERNS.part, description: 'provider member class' },
    memberCode: { type: 'string', pattern: PATTERNS.part, description: 'provider member code' },
    applicationId: { type: 'string', pattern: PATTERNS.part, description: 'provider subsystem' },
    serviceId: { type: 'string', pattern: PATTERNS.part, description: 'service code' },
    pageSize: { type: 'string', pattern: '^[1-9][0-9]{0,3}$', description: 'service–client pairs per page (default 100)' },
    nextPageToken: { type: 'string', pattern: '^[0-9]{1,9}$', description: 'from the previous page' },
  }
  /** The whole-service rights with `effect`, as (service, client) pairs in registry order, filtered and paged. */
  const listRights = (request: FastifyRequest, effect: 'allow' | 'deny'): { list: ServiceRights[]; next?: string } => {
    const q = request.query as Partial<Record<keyof typeof rightsQuery, string>>
    const visible = request.visibleMembers
    const pairs: Array<[string, string]> = []
    for (const g of snapshot(request).content.access) {
      if (!wholeService(g, effect)) continue
      if (visible !== undefined && !visible.has(memberOfClient(g.service)!)) continue
      const [, memberClass, memberCode, ...rest] = g.service.split('/')
      const serviceId = rest.at(-1)!
      const applicationId = rest.length === 2 ? rest[0] : undefined
      if ((q.memberClass !== undefined && q.memberClass !== memberClass) || (q.memberCode !== undefined && q.memberCode !== memberCode) ||
        (q.applicationId !== undefined && q.applicationId !== applicationId) || (q.serviceId !== undefined && q.serviceId !== serviceId)) continue
      for (const client of g.clients ?? []) pairs.push([g.service, client])
    }
    const from = Number(q.nextPageToken ?? 0)
    const size = Number(q.pageSize ?? 100)
    const page = pairs.slice(from, from + size)
    const list: ServiceRights[] = []
    for (const [service, client] of page) {
      let entry = list.find(e => clientOf(e) + '/' + e.serviceId === service)
      if (entry === undefined) {
        const parts = service.split('/')
        const provider = rightOf(parts.slice(0, -1).join('/'))
        entry = { ...provider, serviceId: parts.at(-1)!, rights: [] }
        list.push(entry)
      }
      if (!entry.rights.some(r => clientOf(r) === client)) entry.rights.push(rightOf(client))
    }
    return { list, ...(from + size < pairs.length ? { next: String(from + size) } : {}) }
  }

  app.get('/rights/allow', route('grant.list', { tag: TAG, summary: 'whole-service allow rights (GovStack getAllowed)', authorize: 'list', querystring: rightsQuery }), async (request, reply) => {
    const { list, next } = listRights(request, 'allow')
    listHeaders(reply)
    return { allowList: list, ...(next === undefined ? {} : { nextPageToken: next }) }
  })

  app.get('/rights/deny', route('grant.list', { tag: TAG, summary: 'whole-service deny rights', authorize: 'list', querystring: rightsQuery }), async (request, reply) => {
    const { list, next } = listRights(request, 'deny')
    listHeaders(reply)
    return { denyList: list, ...(next === undefined ? {} : { nextPageToken: next }) }
  })

  /** Allows (or denies) each listed client the whole service, and takes it out of the opposite whole-service entries: one version. */
  const setRights = async (request: FastifyRequest, effect: 'allow' | 'deny'): Promise<number> => {
    const body = request.body as ServiceRights[]
    const services = body.map(s => ({ text: `${clientOf(s)}/${s.serviceId}`, clients: s.rights.map(clientOf) }))
    for (const s of services) authorize(request, `grant.${effect}`, memberOfClient(s.text))
    if (services.length === 0) authorize(request, `grant.${effect}`)
    const opposite = effect === 'allow' ? 'deny' : 'allow'
    const v = await commitChange(ctx, request, {
      action: `grant.${effect}`,
      target: services.length === 1 ? services[0].text : null,
      change: c => {
        for (const { text, clients } of services) {
          if (!defined(c, text)) throw new AdminError('Admin.InvalidChange', `service ${text} is not defined`, { problems: [{ path: 'serviceId', message: `service ${text} is not defined` }] })
          for (const g of c.access) {
            if (g.service === text && wholeService(g, opposite)) g.clients = (g.clients ?? []).filter(x => !clients.includes(x))
          }
          c.access = c.access.filter(g => !(g.service === text && wholeService(g, opposite) && (g.clients ?? []).length + (g.groups ?? []).length === 0))
          let target = c.access.find(g => g.service === text && wholeService(g, effect))
          if (target === undefined) {
            target = { service: text, ...(effect === 'deny' ? { effect } : {}), clients: [], groups: [] }
            c.access.push(target)
          }
          for (const x of clients) if (!(target.clients ?? []).includes(x)) target.clients = [...target.clients ?? [], x]
        }
        return c
      },
      before: grantsOfState(services.map(s => s.text)),
      after: grantsOfState(services.map(s => s.text)),
    })
    return v.version
  }

  app.patch('/rights/allow', route('grant.allow', { tag: TAG, summary: 'allow clients whole services (GovStack setAllowed)', body: SERVICE_ACCESS_RIGHTS, write: true, authorize: 'manual' }), async (request, reply) => {
    return sendResource(reply, { version: await setRights(request, 'allow') })
  })

  app.patch('/rights/deny', route('grant.deny', { tag: TAG, summary: 'deny clients whole services (GovStack setDenied)', body: SERVICE_ACCESS_RIGHTS, write: true, authorize: 'manual' }), async (request, reply) => {
    return sendResource(reply, { version: await setRights(request, 'deny') })
  })
}
