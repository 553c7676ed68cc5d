/** `GET /metrics`: Prometheus text exposition (see gateway/metrics.ts for what is measured). */
import type { FastifyInstance } from 'fastify'
import type { GatewayContext } from '../server.ts'

export async function metricsRoutes (app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  app.get('/metrics', async (_req, reply) => {
    const text = await ctx.metrics.text()
    return reply.header('content-type', ctx.metrics.contentType).send(text)
  })
}
