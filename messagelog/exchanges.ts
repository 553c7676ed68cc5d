/**
 * Reading the message log by exchange rather than by record, for operators: a search (newest first,
 * in keyset pages) where each exchange is its request record joined with the response that answers
 * it, and traffic counts over a time window (per service, time bucket and duration bin) that an
 * overview page turns into rates and percentiles (traffic.ts). Both stores run the same SQL; only
 * the time arithmetic differs between SQLite and PostgreSQL, so each store passes its own.
 */
import type { StoredRecord } from './record.ts'

/** What `searchExchanges` selects; every given condition must hold. Times are the request's: `from` inclusive, `to` exclusive. */
export interface ExchangeQuery {
  messageId?: string
  client?: string
  service?: string
  from?: Date
  to?: Date
  /** Only exchanges whose request record comes before this sequence number (the previous page's last). */
  before?: number
  /** Only exchanges where one of these members is the client's or the service's member; undefined: every member's. */
  members?: readonly string[]
  /** At most this many, newest first. */
  limit: number
}

/** One exchange: its request record, and what the response record (if there is one yet) says. */
export interface ExchangeSummary {
  /** The request record's sequence number: the paging key. */
  seq: number
  messageId: string
  requestId: string
  client: string
  service: string
  protocol: StoredRecord['protocol']
  method: string | null
  path: string | null
  userId: string | null
  requestTime: string
  /** Null while (or when) no response is logged. */
  responseTime: string | null
  status: number | null
  fault: string | null
  /** Response time − request time, in milliseconds; null without a response. */
  durationMs: number | null
}

/** The exchanges of a window, counted per service, time bucket, duration bin and outcome. */
export interface TrafficQuery {
  from: Date
  to: Date
  bucketMs: number
  members?: readonly string[]
}

export interface TrafficCell {
  service: string
  /** 0 for the bucket starting at `from`, 1 for the next… */
  bucket: number
  /** Index into DURATION_BINS_MS (the last bin is everything slower); -1: no response. */
  bin: number
  /** No response, status ≥ 500, or a SOAP fault. */
  failed: boolean
  count: number
}

/** Upper bounds (inclusive, ms) of the duration histogram the traffic counts use; one more bin holds the slower ones. */
export const DURATION_BINS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 60000] as const

/**
 * How a store's SQL measures time between two ISO timestamps (TEXT columns or `$n` parameters), in
 * whole milliseconds (the log's times have millisecond precision; rounding drops the float error of
 * SQLite's Julian days, so an exchange on a bucket's first millisecond counts in that bucket).
 */
export interface SqlDialect {
  msBetween (earlier: string, later: string): string
  /** The integer part of a number that is never negative. */
  whole (value: string): string
}

export const SQLITE_TIME: SqlDialect = {
  msBetween: (a, b) => `ROUND((julianday(${b}) - julianday(${a})) * 86400000.0)`,
  whole: v => `CAST(${v} AS INTEGER)`,
}

export const POSTGRES_TIME: SqlDialect = {
  msBetween: (a, b) => `ROUND(EXTRACT(EPOCH FROM ((${b})::timestamptz - (${a})::timestamptz)) * 1000.0)`,
  whole: v => `CAST(FLOOR(${v}) AS INTEGER)`,
}

/** A query's text (`$n` placeholders) and its parameters. */
export interface Sql { text: string; params: unknown[] }

/** The response record answering request record `q`: the first with its message id and request id. */
const RESPONSE_JOIN = `LEFT JOIN ura_log_records r ON r.seq = (
  SELECT MIN(x.seq) FROM ura_log_records x WHERE x.message_id = q.message_id AND x.request_id = q.request_id AND x.direction = 'response')`

class Conditions {
  readonly where: string[] = ["q.direction = 'request'"]
  readonly params: unknown[] = []
  param (value: unknown): string { this.params.push(value); return `$${this.params.length}` }
  add (sql: string): void { this.where.push(sql) }
  text (): string { return this.where.join(' AND ') }
}

/** Exchanges where a member is the client's (or the client itself) or the service's member. */
function memberScope (c: Conditions, members: readonly string[]): void {
  if (members.length === 0) { c.add('1 = 0'); return }
  c.add(`(${members.map(m => {
    const id = c.param(m)
    const prefix = c.param(`${m}/`)
    const length = c.param(m.length + 1)
    return `q.client = ${id} OR substr(q.client, 1, ${length}) = ${prefix} OR substr(q.service, 1, ${length}) = ${prefix}`
  }).join(' OR ')})`)
}

/** `idForms`: the values a message id may be stored as (the embedded store keeps a UUID as bytes or, written before, as text). */
export function searchSql (query: ExchangeQuery, idForms: (id: string) => unknown[] = id => [id]): Sql {
  const c = new Conditions()
  if (query.messageId !== undefined) c.add(`q.message_id IN (${idForms(query.messageId).map(f => c.param(f)).join(', ')})`)
  if (query.client !== undefined) c.add(`q.client = ${c.param(query.client)}`)
  if (query.service !== undefined) c.add(`q.service = ${c.param(query.service)}`)
  if (query.from !== undefined) c.add(`q.time >= ${c.param(query.from.toISOString())}`)
  if (query.to !== undefined) c.add(`q.time < ${c.param(query.to.toISOString())}`)
  if (query.before !== undefined) c.add(`q.seq < ${c.param(query.before)}`)
  if (query.members !== undefined) memberScope(c, query.members)
  const limit = c.param(query.limit)
  return {
    text: `SELECT q.seq, q.message_id, q.request_id, q.client, q.service, q.protocol, q.method, q.path, q.user_id, q.time,
  r.time AS response_time, r.status AS response_status, r.fault AS response_fault
FROM ura_log_records q ${RESPONSE_JOIN}
WHERE ${c.text()} ORDER BY q.seq DESC LIMIT ${limit}`,
    params: c.params,
  }
}

export function summaryRow (row: Record<string, unknown>): ExchangeSummary {
  const requestTime = row.time as string
  const responseTime = (row.response_time as string | null) ?? null
  return {
    seq: Number(row.seq),
    messageId: row.message_id as string,
    requestId: row.request_id as string,
    client: row.client as string,
    service: row.service as string,
    protocol: row.protocol as ExchangeSummary['protocol'],
    method: (row.method as string | null) ?? null,
    path: (row.path as string | null) ?? null,
    userId: (row.user_id as string | null) ?? null,
    requestTime,
    responseTime,
    status: row.response_status == null ? null : Number(row.response_status),
    fault: (row.response_fault as string | null) ?? null,
    durationMs: responseTime === null ? null : Date.parse(responseTime) - Date.parse(requestTime),
  }
}

export function trafficSql (query: TrafficQuery, dialect: SqlDialect): Sql {
  const c = new Conditions()
  c.add(`q.time >= ${c.param(query.from.toISOString())}`)
  c.add(`q.time < ${c.param(query.to.toISOString())}`)
  if (query.members !== undefined) memberScope(c, query.members)
  // A parameter of its own: PostgreSQL types each parameter once, and this one is read as a time.
  const start = c.param(query.from.toISOString())
  const bucketMs = c.param(query.bucketMs)
  const bins = DURATION_BINS_MS.map((bound, i) => `WHEN d <= ${bound} THEN ${i}`).join(' ')
  return {
    text: `SELECT service, bucket, bin, failed, COUNT(*) AS n FROM (
  SELECT service, bucket, failed, CASE WHEN d IS NULL THEN -1 ${bins} ELSE ${DURATION_BINS_MS.length} END AS bin FROM (
    SELECT q.service AS service,
      ${dialect.whole(`${dialect.msBetween(start, 'q.time')} / ${bucketMs}`)} AS bucket,
      CASE WHEN r.seq IS NULL THEN NULL ELSE ${dialect.msBetween('q.time', 'r.time')} END AS d,
      CASE WHEN r.seq IS NULL OR r.status >= 500 OR r.fault IS NOT NULL THEN 1 ELSE 0 END AS failed
    FROM ura_log_records q ${RESPONSE_JOIN}
    WHERE ${c.text()}
  ) e
) b GROUP BY service, bucket, bin, failed`,
    params: c.params,
  }
}

export function trafficRow (row: Record<string, unknown>): TrafficCell {
  return { service: row.service as string, bucket: Number(row.bucket), bin: Number(row.bin), failed: Number(row.failed) === 1, count: Number(row.n) }
}
