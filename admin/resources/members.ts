/**
 * Members and what belongs to each: `/admin/v1/members`, their subsystems (client systems, with
 * pinned certificate fingerprints) under `/members/{member}/subsystems`, and their officials (staff
 * for assisted applications) under `/members/{member}/officials`. A member's own resource is its
 * name; its subsystems and officials are resources of their own, each with its ETag.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { MemberConfig, OfficialConfig, SubsystemConfig } from '../../config/types.ts'
import type { RegistryContent } from '../../registry/store/index.ts'
import { commitChange } from '../change.ts'
import type { AdminContext } from '../context.ts'
import { AdminError, notFound } from '../errors.ts'
import { etagOf } from '../etag.ts'
import { memberFromParam, memberToParam, onThisNode, PARAMS } from '../ids.ts'
import { route, sendCreated, sendDeleted, sendList, sendResource, snapshot } from '../route-kit.ts'
import { MEMBER_BODY, MEMBER_PATCH, OFFICIAL_BODY, OFFICIAL_PUT, SUBSYSTEM_BODY, SUBSYSTEM_PATCH } from '../schemas.ts'
import { defineState } from '../states.ts'

const TAG = 'Members'

/** The member with this id (`instance/class/code`) in `c`. */
const findMember = (c: RegistryContent, id: string): MemberConfig | undefined => c.members.find(m => id === `${id.split('/')[0]}/${m.class}/${m.code}`)
const getMember = (c: RegistryContent, id: string): MemberConfig => {
  const m = findMember(c, id)
  if (m === undefined) throw notFound(`member ${id}`)
  return m
}
const memberView = (id: string, m: MemberConfig): Record<string, unknown> => ({ id: memberToParam(id), class: m.class, code: m.code, name: m.name })

// The states the audit trail digests (admin/states.ts).
const memberState = defineState('member', (c, id: string) => findMember(c, id))
const memberViewState = defineState('member-view', (c, id: string) => memberView(id, getMember(c, id)))
const subsystemState = defineState('subsystem', (c, memberId: string, code: string) => (getMember(c, memberId).subsystems ?? []).find(s => s.code === code))
const officialState = defineState('official', (c, memberId: string, nid: string) => (getMember(c, memberId).officials ?? []).find(o => o.nid === nid))

export async function memberRoutes (app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const instance = ctx.config.node.instance
  const idOf = (m: Pick<MemberConfig, 'class' | 'code'>): string => `${instance}/${m.class}/${m.code}`
  const pathMember = (request: FastifyRequest): string | undefined => memberFromParam(instance, (request.params as { member?: unknown }).member)
  const bodyMember = (request: FastifyRequest): string | undefined => {
    const b = request.body as { class?: unknown; code?: unknown } | undefined
    return typeof b?.class === 'string' && typeof b.code === 'string' ? idOf({ class: b.class, code: b.code }) : undefined
  }
  const find = findMember
  const get = getMember
  const viewOf = (m: MemberConfig): Record<string, unknown> => memberView(idOf(m), m)
  const memberTag = (id: string) => (c: RegistryContent) => ({ etag: etagOf(viewOf(get(c, id))), allowAny: false })
  const params = { member: PARAMS.member }
  const scoped = { member: pathMember, target: pathMember }

  // ---- members ---------------------------------------------------------------------------------

  app.get('/members', route('member.list', { tag: TAG, authorize: 'list' }), async (request, reply) => {
    const visible = request.visibleMembers
    return sendList(reply, snapshot(request).content.members.filter(m => visible === undefined || visible.has(idOf(m))).map(viewOf))
  })

  app.get('/members/:member', route('member.read', { tag: TAG, params, ...scoped }), async (request, reply) => {
    const id = onThisNode(pathMember(request), 'member')
    return sendResource(reply, viewOf(get(snapshot(request).content, id)))
  })

  app.post('/members', route('member.create', { tag: TAG, body: MEMBER_BODY, status: 201, write: true, member: bodyMember, target: bodyMember }), async (request, reply) => {
    const body = request.body as MemberConfig
    const id = idOf(body)
    const v = await commitChange(ctx, request, {
      action: 'member.create',
      target: id,
      change: c => {
        if (find(c, id) !== undefined) throw new AdminError('Admin.Conflict', `member ${id} already exists`)
        c.members.push({ ...body, subsystems: body.subsystems ?? [] })
        return c
      },
      after: memberState(id),
    })
    return sendCreated(reply, `/members/${memberToParam(id)}`, viewOf(get(v.content, id)))
  })

  app.patch('/members/:member', route('member.update', { tag: TAG, params, body: MEMBER_PATCH, write: true, ...scoped }), async (request, reply) => {
    const id = onThisNode(pathMember(request), 'member')
    const { name } = request.body as { name: string }
    const v = await commitChange(ctx, request, {
      action: 'member.update',
      target: id,
      precondition: memberTag(id),
      change: c => { get(c, id).name = name; return c },
      before: memberViewState(id),
      after: memberViewState(id),
    })
    return sendResource(reply, viewOf(get(v.content, id)))
  })

  app.delete('/members/:member', route('member.delete', { tag: TAG, params, status: 204, write: true, ...scoped }), async (request, reply) => {
    const id = onThisNode(pathMember(request), 'member')
    await commitChange(ctx, request, {
      action: 'member.delete',
      target: id,
      precondition: memberTag(id),
      change: c => { c.members = c.members.filter(m => idOf(m) !== id); return c },
      before: memberState(id),
    })
    sendDeleted(reply)
  })

  // ---- subsystems -------------------------------------------------------------------------------

  const subParams = { member: PARAMS.member, subsystem: PARAMS.subsystem }
  const codeOf = (request: FastifyRequest): string => (request.params as { subsystem: string }).subsystem
  const subsystemTarget = (request: FastifyRequest): string | undefined => {
    const m = pathMember(request)
    const code = (request.params as { subsystem?: unknown }).subsystem
    return m === undefined || typeof code !== 'string' ? m : `${m}/${code}`
  }
  const subsystemView = (memberId: string, s: SubsystemConfig): Record<string, unknown> => ({ id: memberToParam(`${memberId}/${s.code}`), member: memberId, ...s })
  const findSub = (c: RegistryContent, memberId: string, code: string): SubsystemConfig | undefined => (get(c, memberId).subsystems ?? []).find(s => s.code === code)
  const getSub = (c: RegistryContent, memberId: string, code: string): SubsystemConfig => {
    const s = findSub(c, memberId, code)
    if (s === undefined) throw notFound(`subsystem ${memberId}/${code}`)
    return s
  }
  const subTag = (memberId: string, code: string) => (c: RegistryContent) => ({ etag: etagOf(subsystemView(memberId, getSub(c, memberId, code))), allowAny: false })

  app.get('/members/:member/subsystems', route('subsystem.list', { tag: TAG, params, ...scoped }), async (request, reply) => {
    const id = onThisNode(pathMember(request), 'member')
    return sendList(reply, (get(snapshot(request).content, id).subsystems ?? []).map(s => subsystemView(id, s)))
  })

  app.get('/members/:member/subsystems/:subsystem', route('subsystem.read', { tag: TAG, params: subParams, member: pathMember, target: subsystemTarget }), async (request, reply) => {
    const id = onThisNode(pathMember(request), 'member')
    return sendResource(reply, subsystemView(id, getSub(snapshot(request).content, id, codeOf(request))))
  })

  app.post('/members/:member/subsystems', route('subsystem.create', { tag: TAG, params, body: SUBSYSTEM_BODY, status: 201, write: true, member: pathMember, target: request => `${pathMember(request)}/${(request.body as { code?: string } | undefined)?.code}` }), async (request, reply) => {
    const id = onThisNode(pathMember(request), 'member')
    const body = request.body as SubsystemConfig
    const v = await commitChange(ctx, request, {
      action: 'subsystem.create',
      target: `${id}/${body.code}`,
      change: c => {
        const m = get(c, id)
        if ((m.subsystems ?? []).some(s => s.code === body.code)) throw new AdminError('Admin.Conflict', `subsystem ${id}/${body.code} already exists`)
        m.subsystems = [...m.subsystems ?? [], body]
        return c
      },
      after: subsystemState(id, body.code),
    })
    return sendCreated(reply, `/members/${memberToParam(id)}/subsystems/${body.code}`, subsystemView(id, getSub(v.content, id, body.code)))
  })

  app.patch('/members/:member/subsystems/:subsystem', route('subsystem.update', { tag: TAG, params: subParams, body: SUBSYSTEM_PATCH, write: true, member: pathMember, target: subsystemTarget }), async (request, reply) => {
    const id = onThisNode(pathMember(request), 'member')
    const code = codeOf(request)
    const patch = request.body as Record<string, unknown>
    const v = await commitChange(ctx, request, {
      action: 'subsystem.update',
      target: `${id}/${code}`,
      precondition: subTag(id, code),
      change: c => {
        const s = getSub(c, id, code) as unknown as Record<string, unknown>
        for (const [k, value] of Object.entries(patch)) {
          if (value === null) delete s[k]
          else s[k] = value
        }
        return c
      },
      before: subsystemState(id, code),
      after: subsystemState(id, code),
    })
    return sendResource(reply, subsystemView(id, getSub(v.content, id, code)))
  })

  app.delete('/members/:member/subsystems/:subsystem', route('subsystem.delete', { tag: TAG, params: subParams, status: 204, write: true, member: pathMember, target: subsystemTarget }), async (request, reply) => {
    const id = onThisNode(pathMember(request), 'member')
    const code = codeOf(request)
    await commitChange(ctx, request, {
      action: 'subsystem.delete',
      target: `${id}/${code}`,
      precondition: subTag(id, code),
      change: c => { const m = get(c, id); m.subsystems = (m.subsystems ?? []).filter(s => s.code !== code); return c },
      before: subsystemState(id, code),
    })
    sendDeleted(reply)
  })

  // ---- officials --------------------------------------------------------------------------------

  const offParams = { member: PARAMS.member, nid: PARAMS.nid }
  const nidOf = (request: FastifyRequest): string => (request.params as { nid: string }).nid
  const officialTarget = (request: FastifyRequest): string | undefined => {
    const m = pathMember(request)
    const nid = (request.params as { nid?: unknown }).nid
    return m === undefined || typeof nid !== 'string' ? m : `${m}/officials/${nid}`
  }
  const officialView = (memberId: string, o: OfficialConfig): Record<string, unknown> => ({ member: memberId, ...o })
  const findOfficial = (c: RegistryContent, memberId: string, nid: string): OfficialConfig | undefined => (get(c, memberId).officials ?? []).find(o => o.nid === nid)
  const getOfficial = (c: RegistryContent, memberId: string, nid: string): OfficialConfig => {
    const o = findOfficial(c, memberId, nid)
    if (o === undefined) throw notFound(`official ${nid} of ${memberId}`)
    return o
  }
  const offTag = (memberId: string, nid: string) => (c: RegistryContent) => ({ etag: etagOf(officialView(memberId, getOfficial(c, memberId, nid))), allowAny: false })

  app.get('/members/:member/officials', route('official.list', { tag: TAG, params, ...scoped }), async (request, reply) => {
    const id = onThisNode(pathMember(request), 'member')
    return sendList(reply, (get(snapshot(request).content, id).officials ?? []).map(o => officialView(id, o)))
  })

  app.get('/members/:member/officials/:nid', route('official.read', { tag: TAG, params: offParams, member: pathMember, target: officialTarget }), async (request, reply) => {
    const id = onThisNode(pathMember(request), 'member')
    return sendResource(reply, officialView(id, getOfficial(snapshot(request).content, id, nidOf(request))))
  })

  app.post('/members/:member/officials', route('official.create', { tag: TAG, params, body: OFFICIAL_BODY, status: 201, write: true, member: pathMember, target: request => `${pathMember(request)}/officials/${(request.body as { nid?: string } | undefined)?.nid}` }), async (request, reply) => {
    const id = onThisNode(pathMember(request), 'member')
    const body = request.body as OfficialConfig
    const v = await commitChange(ctx, request, {
      action: 'official.create',
      target: `${id}/officials/${body.nid}`,
      change: c => {
        const m = get(c, id)
        if ((m.officials ?? []).some(o => o.nid === body.nid)) throw new AdminError('Admin.Conflict', `official ${body.nid} of ${id} already exists`)
        m.officials = [...m.officials ?? [], body]
        return c
      },
      after: officialState(id, body.nid),
    })
    return sendCreated(reply, `/members/${memberToParam(id)}/officials/${body.nid}`, officialView(id, getOfficial(v.content, id, body.nid)))
  })

  app.put('/members/:member/officials/:nid', route('official.update', { tag: TAG, params: offParams, body: OFFICIAL_PUT, write: true, member: pathMember, target: officialTarget }), async (request, reply) => {
    const id = onThisNode(pathMember(request), 'member')
    const nid = nidOf(request)
    const body = request.body as Omit<OfficialConfig, 'nid'>
    const v = await commitChange(ctx, request, {
      action: 'official.update',
      target: `${id}/officials/${nid}`,
      precondition: offTag(id, nid),
      change: c => {
        const m = get(c, id)
        m.officials = (m.officials ?? []).map(o => (o.nid === nid ? { nid, ...body } : o))
        return c
      },
      before: officialState(id, nid),
      after: officialState(id, nid),
    })
    return sendResource(reply, officialView(id, getOfficial(v.content, id, nid)))
  })

  app.delete('/members/:member/officials/:nid', route('official.delete', { tag: TAG, params: offParams, status: 204, write: true, member: pathMember, target: officialTarget }), async (request, reply) => {
    const id = onThisNode(pathMember(request), 'member')
    const nid = nidOf(request)
    await commitChange(ctx, request, {
      action: 'official.delete',
      target: `${id}/officials/${nid}`,
      precondition: offTag(id, nid),
      change: c => {
        const m = get(c, id)
        m.officials = (m.officials ?? []).filter(o => o.nid !== nid)
        if (m.officials.length === 0) delete m.officials
        return c
      },
      before: officialState(id, nid),
    })
    sendDeleted(reply)
  })
}
