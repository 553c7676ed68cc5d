/**
 * `GET /admin/v1/me` (who the API takes the caller for, and the roles this request may use) and
 * `GET /admin/v1/node` (the node's instance, its registry version and store, the audit trail's head),
 * what an operator looks at first.
 */
import type { FastifyInstance } from 'fastify'
import type { AdminContext } from '../context.ts'
import { AdminError } from '../errors.ts'
import { route, sendResource, snapshot } from '../route-kit.ts'

export async function nodeRoutes (app: FastifyInstance, ctx: AdminContext): Promise<void> {
  app.get('/me', route('me.read', { tag: 'Node' }), async (request, reply) => {
    const op = request.operator!
    return sendResource(reply, { id: op.id, name: op.name, roles: op.roles, via: op.via, ...(op.tokenId === undefined ? {} : { tokenId: op.tokenId }) })
  })

  app.get('/node', route('node.read', { tag: 'Node' }), async (request, reply) => {
    const v = snapshot(request)
    let head
    try {
      head = await ctx.audit.store.head()
    } catch (err) {
      throw new AdminError('Admin.AuditFailed', `the audit trail cannot be read: ${(err as Error).message}`, {}, { cause: err })
    }
    return sendResource(reply, {
      instance: ctx.config.node.instance,
      registry: { version: v.version, who: v.who, when: v.when, why: v.why, store: ctx.store.kind },
      audit: { records: head.seq, head: head.hash, store: ctx.audit.store.kind, signer: ctx.audit.signerMember },
      counts: {
        members: v.content.members.length,
        services: v.content.services.length,
        grants: v.content.access.length,
        operators: v.content.operators.length,
      },
    })
  })
}
