/**
 * The outbox of notices (`/admin/v1/outbox`), newest first and in pages. The node sends no e-mail:
 * every notice to applicants and operators is a row here, committed with the change it tells about,
 * for operators to read and for whatever relays them to fetch.
 */
import type { FastifyInstance } from 'fastify'
import type { AdminContext } from '../context.ts'
import { route, sendList, snapshot } from '../route-kit.ts'

const DEFAULT_LIMIT = 100

export async function outboxRoutes (app: FastifyInstance, _ctx: AdminContext): Promise<void> {
  app.get('/outbox', route('outbox.list', {
    tag: 'Outbox',
    querystring: {
      to: { type: 'string', minLength: 1, maxLength: 300, description: 'only notices to this recipient (an address, `operators:<role>` or `operators:<role>:<member>`)' },
      about: { type: 'string', minLength: 1, maxLength: 300, description: 'only notices about this (`application:<id>`, `certificate:<serial>`, `access-request:<id>`…)' },
      before: { type: 'string', pattern: '^[1-9][0-9]{0,8}$', description: 'notices older than this position (the previous page\'s `next`)' },
      limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$', description: `at most this many (default ${DEFAULT_LIMIT}, at most 1000), newest first` },
    },
  }), async (request, reply) => {
    const q = request.query as { to?: string; about?: string; before?: string; limit?: string }
    const limit = Math.min(1000, Number(q.limit ?? DEFAULT_LIMIT))
    const outbox = snapshot(request).content.outbox
    // Positions count from 1, oldest first; a page walks them down from `before`.
    const items: Array<(typeof outbox)[number] & { position: number }> = []
    let next: number | undefined
    for (let i = Math.min(outbox.length, Number(q.before ?? outbox.length + 1) - 1); i >= 1; i--) {
      const m = outbox[i - 1]
      if ((q.to !== undefined && !m.to.includes(q.to)) || (q.about !== undefined && m.about !== q.about)) continue
      if (items.length === limit) { next = items.at(-1)!.position; break }
      items.push({ ...m, position: i })
    }
    return sendList(reply, items, next === undefined ? {} : { next: String(next) })
  })
}
