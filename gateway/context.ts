/**
 * What the gateway's routes share, as types only: the context every route plugin receives at
 * registration, and the exchange Fastify carries on each request. Routes import this file, never
 * the composition root (server.ts), so nothing imports upward.
 */
import type { CertificateRow } from '../certs/inventory.ts'
import type { SchemaLibrary } from '../schemas/library.ts'
import type { Registry } from '../registry/registry.ts'
import type { ClientCertificates } from './edge/client-cert.ts'
import type { GatewayMetrics } from './ops/metrics.ts'
import type { Exchange, ExchangeRecorder } from './pipeline/exchange.ts'
import type { RateLimiter } from './pipeline/rate-limit.ts'

declare module 'fastify' {
  interface FastifyRequest {
    exchange: Exchange
  }
}

export interface GatewayContext {
  registry: Registry
  recorder: ExchangeRecorder
  library: SchemaLibrary
  /** False once shutdown has begun: `/readyz` turns 503 so load balancers stop sending. */
  ready: boolean
  /** Client certificate checks (stage 1) when the node serves TLS. */
  clientCertificates?: ClientCertificates
  /** Certificates expiring within 30 days (or expired), for `/readyz`. */
  expiringCertificates?: () => CertificateRow[]
  metrics: GatewayMetrics
  rateLimiter: RateLimiter
}

