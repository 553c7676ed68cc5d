/** Operations endpoints: liveness and readiness for load balancers, `/metrics` for Prometheus (see metrics.ts). */
import type { FastifyInstance } from 'fastify'
import type { GatewayContext } from '../context.ts'
import type { ResilienceStatus } from '../../adapters/resilience.ts'
import { serviceText } from '../../protocol/identifiers.ts'
import type { Registry } from '../../registry/registry.ts'

function providerStatus (registry: Registry): Record<string, ResilienceStatus> {
  const out: Record<string, ResilienceStatus> = {}
  for (const list of registry.services.values()) {
    for (const s of list) if (s.resilience !== undefined) out[serviceText(s.id)] = s.resilience.status()
  }
  return out
}

export async function opsRoutes (app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  // Liveness: the process answers.
  app.get('/healthz', async () => ({ status: 'ok' }))

  // Readiness: configuration loaded, adapters built, not draining; which registry version is served.
  app.get('/readyz', async (_req, reply) => {
    const registry = ctx.registry
    const services = [...registry.services.values()].reduce((n, list) => n + list.length, 0)
    const body = {
      status: ctx.ready ? 'ready' : 'draining',
      instance: registry.instance,
      registryVersion: registry.version,
      services,
      clients: registry.clients.size,
      // Certificates that expire within 30 days (or already have): renew before exchanges fail.
      ...(ctx.expiringCertificates === undefined ? {} : { certificatesExpiringSoon: ctx.expiringCertificates().map(c => ({ role: c.role, id: c.id, subject: c.subject, serial: c.serial, notAfter: c.notAfter, daysLeft: c.daysLeft, state: c.state })) }),
      // Per provider service: circuit breaker, exchanges in flight and waiting (adapters/resilience.ts).
      providers: providerStatus(registry),
    }
    return reply.code(ctx.ready ? 200 : 503).send(body)
  })

  app.get('/metrics', async (_req, reply) => {
    const text = await ctx.metrics.text()
    return reply.header('content-type', ctx.metrics.contentType).send(text)
  })
}
