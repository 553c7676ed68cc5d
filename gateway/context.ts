/**
 * What the gateway's routes share, as types only: the context every route plugin receives at
 * registration, and the exchange Fastify carries on each request. Routes import this file, never
 * the composition root (server.ts), so nothing imports upward.
 */
import type { CertificateRow } from '../certs/inventory.ts'
import type { SchemaLibrary } from '../schemas/library.ts'
import type { ClientCertificates } from './edge/client-cert.ts'
import type { GatewayMetrics } from './ops/metrics.ts'
import type { GatewayPipeline } from './pipeline/context.ts'
import type { Exchange } from './pipeline/exchange.ts'

declare module 'fastify' {
  interface FastifyRequest {
    exchange: Exchange
  }
}

/** The pipeline's needs (registry, recorder, rate limiter) and what the routes around it read. */
export interface GatewayContext extends GatewayPipeline {
  library: SchemaLibrary
  /** False once shutdown has begun: `/readyz` turns 503 so load balancers stop sending. */
  ready: boolean
  /** Client certificate checks (stage 1) when the node serves TLS. */
  clientCertificates?: ClientCertificates
  /** Certificates expiring within 30 days (or expired), for `/readyz`. */
  expiringCertificates?: () => CertificateRow[]
  metrics: GatewayMetrics
}

