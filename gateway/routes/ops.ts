/** Operations endpoints for load balancers and orchestrators. */
import type { FastifyInstance } from 'fastify'
import type { GatewayContext } from '../server.ts'

export async function opsRoutes (app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  // Liveness: the process answers.
  app.get('/healthz', async () => ({ status: 'ok' }))

  // Readiness: configuration loaded, adapters built, not draining.
  app.get('/readyz', async (_req, reply) => {
    const services = [...ctx.registry.services.values()].reduce((n, list) => n + list.length, 0)
    const body = {
      status: ctx.ready ? 'ready' : 'draining',
      instance: ctx.registry.instance,
      services,
      clients: ctx.registry.clients.size,
    }
    return reply.code(ctx.ready ? 200 : 503).send(body)
  })
}
