/**
 * Operators of the admin API (`/admin/v1/operators`): their roles, their pinned operator
 * certificates, and their API tokens. A new token's secret is in the answer that creates it and
 * nowhere else: only its SHA-256 is stored. No change may leave the node without an enabled operator
 * holding the global system-administrator role, so the API cannot lock its operators out.
 */
import { randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { OperatorConfig, OperatorToken, RoleGrant } from '../../config/registry-sections.ts'
import type { RegistryContent } from '../../registry/store/index.ts'
import { tokenSha256 } from '../auth.ts'
import { hashPassword } from '../password.ts'
import { newTotpSecret, otpauthUri } from '../totp.ts'
import { commitChange } from '../change.ts'
import type { AdminContext } from '../context.ts'
import { AdminError, notFound } from '../errors.ts'
import { etagOf } from '../etag.ts'
import { PARAMS } from '../ids.ts'
import { ADMIN_PREFIX, REGISTRY_VERSION_HEADER, route, sendCreated, sendDeleted, sendList, sendResource, snapshot } from '../route-kit.ts'
import { CERTIFICATES_PUT, LOGIN_PUT, OPERATOR_BODY, OPERATOR_PATCH, TOKEN_BODY } from '../schemas.ts'
import { defineState } from '../states.ts'

const TAG = 'Operators'

/** An operator as the API shows it: no tokens (they have their own routes), and of the sign-in only who and when. */
export function operatorView (o: OperatorConfig): Record<string, unknown> {
  const { tokens: _t, login, ...rest } = o
  return login === undefined ? rest : { ...rest, login: { username: login.username, secondFactor: 'totp', ...(login.setAt === undefined ? {} : { setAt: login.setAt }) } }
}

export function tokenView (t: OperatorToken): Record<string, unknown> {
  const { sha256: _s, ...rest } = t
  return rest
}

const findOperator = (c: RegistryContent, id: string): OperatorConfig | undefined => c.operators.find(o => o.id === id)
const findToken = (c: RegistryContent, id: string, tokenId: string): OperatorToken | undefined => (findOperator(c, id)?.tokens ?? []).find(x => x.id === tokenId)

// The states the audit trail digests (admin/states.ts).
const operatorState = defineState('operator', (c, id: string) => findOperator(c, id))
const tokenState = defineState('token', (c, id: string, tokenId: string) => {
  const t = findToken(c, id, tokenId)
  if (t === undefined) throw notFound(`token ${tokenId} of operator ${id}`)
  return tokenView(t)
})

const hasAdministrator = (c: RegistryContent): boolean =>
  c.operators.some(o => o.disabled !== true && o.roles.some(r => r.role === 'system-administrator' && r.member === undefined))

/** Refuses a change that would leave no enabled global system administrator (when there was one). */
function keepAdministrator (before: RegistryContent, after: RegistryContent): RegistryContent {
  if (hasAdministrator(before) && !hasAdministrator(after)) throw new AdminError('Admin.Conflict', 'the change would leave no enabled operator with the global system-administrator role')
  return after
}

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z')

export async function operatorRoutes (app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const idOf = (request: FastifyRequest): string => (request.params as { operator: string }).operator
  const target = (request: FastifyRequest): string | undefined => { const id = (request.params as { operator?: unknown }).operator; return typeof id === 'string' ? `operator ${id}` : undefined }
  const find = findOperator
  const get = (c: RegistryContent, id: string): OperatorConfig => {
    const o = find(c, id)
    if (o === undefined) throw notFound(`operator ${id}`)
    return o
  }
  const tag = (id: string) => (c: RegistryContent) => ({ etag: etagOf(operatorView(get(c, id))), allowAny: false })
  const params = { operator: PARAMS.id }

  app.get('/operators', route('operator.list', { tag: TAG }), async (request, reply) => {
    return sendList(reply, snapshot(request).content.operators.map(operatorView))
  })

  app.get('/operators/:operator', route('operator.read', { tag: TAG, params, target }), async (request, reply) => {
    return sendResource(reply, operatorView(get(snapshot(request).content, idOf(request))))
  })

  app.post('/operators', route('operator.create', { tag: TAG, body: OPERATOR_BODY, status: 201, write: true, target: request => `operator ${(request.body as { id?: string } | undefined)?.id}` }), async (request, reply) => {
    const body = request.body as OperatorConfig
    const v = await commitChange(ctx, request, {
      action: 'operator.create',
      target: `operator ${body.id}`,
      change: c => {
        if (find(c, body.id) !== undefined) throw new AdminError('Admin.Conflict', `operator ${body.id} already exists`)
        c.operators.push(body)
        return c
      },
      after: operatorState(body.id),
    })
    return sendCreated(reply, `/operators/${body.id}`, operatorView(get(v.content, body.id)))
  })

  const change = async (request: FastifyRequest, action: string, next: (o: OperatorConfig) => OperatorConfig, check?: (c: RegistryContent) => void): Promise<OperatorConfig> => {
    const id = idOf(request)
    const v = await commitChange(ctx, request, {
      action,
      target: `operator ${id}`,
      precondition: tag(id),
      change: c => {
        const before = structuredClone(c)
        get(c, id)
        check?.(c)
        c.operators = c.operators.map(o => (o.id === id ? next(o) : o))
        return keepAdministrator(before, c)
      },
      before: operatorState(id),
      after: operatorState(id),
    })
    return get(v.content, id)
  }

  app.patch('/operators/:operator', route('operator.update', { tag: TAG, params, body: OPERATOR_PATCH, write: true, target }), async (request, reply) => {
    const patch = request.body as Partial<OperatorConfig>
    return sendResource(reply, operatorView(await change(request, 'operator.update', o => ({ ...o, ...patch }))))
  })

  app.put('/operators/:operator/certificates', route('operator.certificates', { tag: TAG, params, body: CERTIFICATES_PUT, write: true, target }), async (request, reply) => {
    const { certificates } = request.body as { certificates: string[] }
    return sendResource(reply, operatorView(await change(request, 'operator.certificates', o => {
      const { certificates: _c, ...rest } = o
      return certificates.length === 0 ? rest : { ...rest, certificates }
    })))
  })

  app.delete('/operators/:operator', route('operator.delete', { tag: TAG, params, status: 204, write: true, target }), async (request, reply) => {
    const id = idOf(request)
    await commitChange(ctx, request, {
      action: 'operator.delete',
      target: `operator ${id}`,
      precondition: tag(id),
      change: c => {
        const before = structuredClone(c)
        c.operators = c.operators.filter(o => o.id !== id)
        return keepAdministrator(before, c)
      },
      before: operatorState(id),
    })
    sendDeleted(reply)
  })

  // ---- console sign-in ---------------------------------------------------------------------------

  app.put('/operators/:operator/login', route('operator.login', { tag: TAG, params, body: LOGIN_PUT, write: true, target }), async (request, reply) => {
    const id = idOf(request)
    const { username, password } = request.body as { username: string; password: string }
    const totpSecret = newTotpSecret()
    const passwordHash = await hashPassword(password)
    const setAt = iso(ctx.now())
    const o = await change(request, 'operator.login', op => {
      return { ...op, login: { username, passwordHash, totpSecret, setAt } }
    }, c => {
      const holder = c.operators.find(x => x.login?.username === username && x.id !== id)
      if (holder !== undefined) throw new AdminError('Admin.Conflict', `username ${username} is taken by operator ${holder.id}`)
    })
    // The TOTP secret is in this answer only: the operator adds it to an authenticator app now.
    reply.header('cache-control', 'no-store')
    return { ...operatorView(o), totpSecret, otpauthUri: otpauthUri(totpSecret, username) }
  })

  app.delete('/operators/:operator/login', route('operator.login', { tag: TAG, summary: 'remove an operator\'s console sign-in', params, write: true, target }), async (request, reply) => {
    return sendResource(reply, operatorView(await change(request, 'operator.login', op => {
      const { login: _l, ...rest } = op
      return rest
    })))
  })

  // ---- API tokens -------------------------------------------------------------------------------

  const tokenParams = { operator: PARAMS.id, token: PARAMS.id }
  const tokenIdOf = (request: FastifyRequest): string => (request.params as { token: string }).token
  const tokenTarget = (request: FastifyRequest): string | undefined => {
    const p = request.params as { operator?: unknown; token?: unknown }
    return typeof p.operator === 'string' && typeof p.token === 'string' ? `operator ${p.operator} token ${p.token}` : undefined
  }
  const getToken = (c: RegistryContent, id: string, tokenId: string): OperatorToken => {
    const t = (get(c, id).tokens ?? []).find(x => x.id === tokenId)
    if (t === undefined) throw notFound(`token ${tokenId} of operator ${id}`)
    return t
  }

  app.get('/operators/:operator/tokens', route('token.list', { tag: TAG, params, target }), async (request, reply) => {
    return sendList(reply, (get(snapshot(request).content, idOf(request)).tokens ?? []).map(tokenView))
  })

  app.get('/operators/:operator/tokens/:token', route('token.list', { tag: TAG, summary: 'read an API token (never its secret)', params: tokenParams, target: tokenTarget }), async (request, reply) => {
    return sendResource(reply, tokenView(getToken(snapshot(request).content, idOf(request), tokenIdOf(request))))
  })

  app.post('/operators/:operator/tokens', route('token.create', { tag: TAG, params, body: TOKEN_BODY, status: 201, write: true, target }), async (request, reply) => {
    const id = idOf(request)
    const body = request.body as { id?: string; label?: string; expiresAt?: string; roles?: RoleGrant[] }
    const tokenId = body.id ?? `${id.slice(0, 50)}-${randomBytes(4).toString('hex')}`
    const secret = `ura_${tokenId}_${randomBytes(32).toString('hex')}`
    const now = ctx.now()
    if (body.expiresAt !== undefined && Date.parse(body.expiresAt) <= now.getTime()) {
      throw new AdminError('Admin.InvalidChange', 'expiresAt is not in the future', { problems: [{ path: 'expiresAt', message: 'must be in the future' }] })
    }
    const token: OperatorToken = {
      id: tokenId,
      ...(body.label === undefined ? {} : { label: body.label }),
      sha256: tokenSha256(secret),
      createdAt: iso(now),
      ...(body.expiresAt === undefined ? {} : { expiresAt: body.expiresAt }),
      ...(body.roles === undefined ? {} : { roles: body.roles }),
    }
    const v = await commitChange(ctx, request, {
      action: 'token.create',
      target: `operator ${id} token ${tokenId}`,
      change: c => {
        const o = get(c, id)
        if (c.operators.some(x => (x.tokens ?? []).some(t => t.id === tokenId))) throw new AdminError('Admin.Conflict', `token id ${tokenId} is taken`)
        const outside = (token.roles ?? []).filter(r => !o.roles.some(g => g.role === r.role && (g.member === undefined || g.member === r.member)))
        if (outside.length > 0) {
          throw new AdminError('Admin.InvalidChange', `a token can only narrow its operator's roles; ${id} does not hold ${outside.map(r => r.member === undefined ? r.role : `${r.role}@${r.member}`).join(', ')}`, {
            problems: outside.map(r => ({ path: 'roles', message: `operator ${id} does not hold ${r.role}${r.member === undefined ? '' : ` for ${r.member}`}` })),
          })
        }
        o.tokens = [...o.tokens ?? [], token]
        return c
      },
      after: tokenState(id, tokenId),
    })
    const stored = tokenView(getToken(v.content, id, tokenId))
    // The ETag is the view's, as GET of the token answers it; the secret is in this answer only.
    reply.code(201).header('location', `${ADMIN_PREFIX}/operators/${id}/tokens/${tokenId}`).header('etag', etagOf(stored))
      .header(REGISTRY_VERSION_HEADER, String(v.version)).header('cache-control', 'no-store')
    return { ...stored, token: secret }
  })

  app.delete('/operators/:operator/tokens/:token', route('token.delete', { tag: TAG, params: tokenParams, status: 204, write: true, target: tokenTarget }), async (request, reply) => {
    const id = idOf(request)
    const tokenId = tokenIdOf(request)
    await commitChange(ctx, request, {
      action: 'token.delete',
      target: `operator ${id} token ${tokenId}`,
      precondition: c => ({ etag: etagOf(tokenView(getToken(c, id, tokenId))), allowAny: false }),
      change: c => {
        const o = get(c, id)
        o.tokens = (o.tokens ?? []).filter(t => t.id !== tokenId)
        if (o.tokens.length === 0) delete o.tokens
        return c
      },
      before: tokenState(id, tokenId),
    })
    sendDeleted(reply)
  })
}
