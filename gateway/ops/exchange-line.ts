/**
 * The one log line per exchange, written in pino's format (`level`, `time`, the logger's bindings —
 * pid, hostname, requestId —, the fields, `msg`) but formatted here with one JSON.stringify. It is
 * the only log call on every exchange, and pino's general formatter (serializers checked per key,
 * each value escaped on its own) costs three times as much for a flat record of ids and numbers.
 * Loggers that are not plain pino (Fastify's abstract logger when logging is off, or anything
 * without pino's stream and bindings) get the same record through their `info` method.
 */
import pino from 'pino'
import type { FastifyBaseLogger, onResponseHookHandler } from 'fastify'
import { clientKey, serviceText } from '../../protocol/identifiers.ts'
import type { GatewayMetrics } from './metrics.ts'

const INFO = 30

interface PinoInternals {
  [key: symbol]: unknown
}

export function logExchange (log: FastifyBaseLogger, fields: Record<string, string | number | undefined>): void {
  if ((log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('info') === false) return
  const internals = log as unknown as PinoInternals
  const stream = internals[pino.symbols.streamSym] as { write (line: string): unknown } | undefined
  const bindings = internals[pino.symbols.chindingsSym]
  if (stream === undefined || typeof bindings !== 'string' || typeof stream.write !== 'function') {
    log.info(fields, 'exchange')
    return
  }
  const body = JSON.stringify(fields)
  stream.write(`{"level":${INFO},"time":${Date.now()}${bindings}${body.length > 2 ? ',' + body.slice(1, -1) : ''},"msg":"exchange"}\n`)
}

/**
 * The `onResponse` hook: the exchange is counted in the metrics and gets its one log line — ids,
 * parties, outcome, timings, never payloads. Requests that never became an exchange (health checks,
 * the catalogue) are counted but not logged.
 */
export function exchangeLine (metrics: GatewayMetrics): onResponseHookHandler {
  return function (req, reply, done) {
    metrics.observe(req, reply)
    const ex = req.exchange
    if (ex.serviceId === undefined && ex.errorCode === undefined) return done()
    logExchange(req.log, {
      messageId: ex.messageId,
      protocol: ex.protocol,
      client: ex.clientId === undefined ? undefined : ex.client?.key ?? clientKey(ex.clientId),
      service: ex.serviceId === undefined ? undefined : serviceText(ex.serviceId),
      method: ex.protocol === 'rest' ? ex.method : undefined,
      userId: ex.userId,
      issue: ex.issue,
      status: reply.statusCode,
      providerStatus: ex.providerStatus,
      error: ex.errorCode,
      durationMs: Math.round(reply.elapsedTime * 100) / 100,
      providerMs: ex.providerMs === undefined ? undefined : Math.round(ex.providerMs * 100) / 100,
    })
    done()
  }
}
