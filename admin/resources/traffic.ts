/**
 * `GET /admin/v1/traffic`: what an overview page shows of the last hour or day — per service its
 * exchanges, errors, error rate and p50/p95 durations with counts per time bucket, per provider
 * member its slowest service, the whole window's counts per bucket (all from the message log,
 * messagelog/traffic.ts) — and what the node knows of its health: the circuit breakers that are open
 * and the certificates that expire soon. A member-scoped operator sees the exchanges its member is a
 * party to, and the breakers and certificates of its member.
 */
import type { FastifyInstance } from 'fastify'
import { summariseTraffic } from '../../messagelog/traffic.ts'
import type { AdminContext, NodeHealth } from '../context.ts'
import { memberOfClient } from '../ids.ts'
import { route } from '../route-kit.ts'
import { readLog } from './log.ts'

const MINUTE = 60 * 1000
/** Each window and its buckets: 12 of 5 minutes for an hour, 24 of an hour for a day. */
export const TRAFFIC_WINDOWS = {
  '1h': { ms: 60 * MINUTE, bucketMs: 5 * MINUTE },
  '24h': { ms: 24 * 60 * MINUTE, bucketMs: 60 * MINUTE },
} as const

type Window = keyof typeof TRAFFIC_WINDOWS

export async function trafficRoutes (app: FastifyInstance, ctx: AdminContext): Promise<void> {
  app.get('/traffic', route('traffic.read', {
    tag: 'Traffic',
    authorize: 'list',
    querystring: { window: { type: 'string', enum: Object.keys(TRAFFIC_WINDOWS), description: 'the last hour (default, 12 buckets of 5 minutes) or the last 24 hours (24 buckets of an hour)' } },
  }), async request => {
    const window = ((request.query as { window?: string }).window ?? '1h') as Window
    const { ms, bucketMs } = TRAFFIC_WINDOWS[window]
    const to = ctx.now()
    const from = new Date(to.getTime() - ms)
    const visible = request.visibleMembers
    const cells = await readLog(ctx, store => store.traffic({ from, to, bucketMs, ...(visible === undefined ? {} : { members: [...visible] }) }))
    const seen = (id: string | undefined): boolean => visible === undefined || (id !== undefined && visible.has(memberOfClient(id) ?? ''))
    const health: NodeHealth | undefined = ctx.health?.()
    return {
      window,
      ...summariseTraffic(cells, { from, to, bucketMs }),
      ...(health === undefined
        ? {}
        : {
            breakers: health.breakers.filter(b => seen(b.service)),
            ...(health.certificatesExpiringSoon === undefined ? {} : { certificatesExpiringSoon: health.certificatesExpiringSoon.filter(c => seen(c.id)) }),
          }),
    }
  })
}
