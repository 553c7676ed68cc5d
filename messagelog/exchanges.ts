/**
 * Reading the message log by exchange rather than by record, for operators: a search (newest first,
 * in keyset pages) where each exchange is its request record joined with the response that answers
 * it, and traffic counts over a time window (per service, time bucket and duration bin) that an
 * overview page turns into rates and percentiles (traffic.ts). Both stores run the same SQL; the
 * time arithmetic and the forms values are stored in differ, so each store passes its own dialect.
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
 * What differs between the two stores' SQL: how time is measured between two stored times (or an ISO
 * `$n` parameter), in whole milliseconds (the log's times have millisecond precision), and the forms
 * a value may be stored in — PostgreSQL keeps texts; the embedded store keeps names, identifiers and
 * times as bytes, or as text where a log written before did (sqlite-sql.ts).
 */
export interface SqlDialect {
  msBetween (earlier: string, later: string): string
  /** The integer part of a number that is never negative. */
  whole (value: string): string
  /**
   * Exchanges where `member` is the client's member (or the client itself) or the service's member,
   * with `param` adding a parameter: `$n`.
   */
  member (member: string, param: (value: unknown) => string): string
  /** The values a name may be stored as. */
  nameForms (name: string): unknown[]
  /** The values an identifier (a message id) may be stored as. */
  idForms (id: string): unknown[]
  /** Request record `q` carries one of the forms of a message id (`forms`: placeholders), as the store's index finds it. */
  messageIdIs (forms: string[]): string
  /** The join of each request record `q` with the response record `r` that answers it, if any. */
  responseJoin: string
  /** Conditions on a stored time: at or after `t`; before `t`. Each keeps to the time index. */
  since (column: string, t: Date, param: (value: unknown) => string): string
  until (column: string, t: Date, param: (value: unknown) => string): string
}

export const POSTGRES_SQL: SqlDialect = {
  msBetween: (a, b) => `ROUND(EXTRACT(EPOCH FROM ((${b})::timestamptz - (${a})::timestamptz)) * 1000.0)`,
  whole: v => `CAST(FLOOR(${v}) AS INTEGER)`,
  member: (m, param) => {
    const prefix = param(`${m}/`)
    const length = param(m.length + 1)
    return `q.client = ${param(m)} OR substr(q.client, 1, ${length}) = ${prefix} OR substr(q.service, 1, ${length}) = ${prefix}`
  },
  nameForms: name => [name],
  idForms: id => [id],
  messageIdIs: forms => `q.message_id IN (${forms.join(', ')})`,
  // The first response record with the request's message id and request id.
  responseJoin: `LEFT JOIN ura_log_records r ON r.seq = (
  SELECT MIN(x.seq) FROM ura_log_records x WHERE x.message_id = q.message_id AND x.request_id = q.request_id AND x.direction = 'response')`,
  since: (column, t, param) => `${column} >= ${param(t.toISOString())}`,
  until: (column, t, param) => `${column} < ${param(t.toISOString())}`,
}

/** A query's text (`$n` placeholders) and its parameters. */
export interface Sql { text: string; params: unknown[] }

class Conditions {
  readonly where: string[] = ["q.direction = 'request'"]
  readonly params: unknown[] = []
  param (value: unknown): string { this.params.push(value); return `$${this.params.length}` }
  add (sql: string): void { this.where.push(sql) }
  text (): string { return this.where.join(' AND ') }
}

/** Exchanges where a member is the client's (or the client itself) or the service's member. */
function memberScope (c: Conditions, members: readonly string[], dialect: SqlDialect): void {
  if (members.length === 0) { c.add('1 = 0'); return }
  c.add(`(${members.map(m => dialect.member(m, v => c.param(v))).join(' OR ')})`)
}

const among = (c: Conditions, forms: unknown[]): string => forms.map(f => c.param(f)).join(', ')

export function searchSql (query: ExchangeQuery, dialect: SqlDialect): Sql {
  const c = new Conditions()
  const param = (v: unknown): string => c.param(v)
  if (query.messageId !== undefined) c.add(dialect.messageIdIs(dialect.idForms(query.messageId).map(f => c.param(f))))
  if (query.client !== undefined) c.add(`q.client IN (${among(c, dialect.nameForms(query.client))})`)
  if (query.service !== undefined) c.add(`q.service IN (${among(c, dialect.nameForms(query.service))})`)
  if (query.from !== undefined) c.add(dialect.since('q.time', query.from, param))
  if (query.to !== undefined) c.add(dialect.until('q.time', query.to, param))
  if (query.before !== undefined) c.add(`q.seq < ${c.param(query.before)}`)
  if (query.members !== undefined) memberScope(c, query.members, dialect)
  const limit = c.param(query.limit)
  return {
    text: `SELECT q.seq, q.message_id, q.request_id, q.client, q.service, q.protocol, q.method, q.path, q.user_id, q.time,
  r.time AS response_time, r.status AS response_status, r.fault AS response_fault
FROM ura_log_records q ${dialect.responseJoin}
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
  const param = (v: unknown): string => c.param(v)
  c.add(dialect.since('q.time', query.from, param))
  c.add(dialect.until('q.time', query.to, param))
  if (query.members !== undefined) memberScope(c, query.members, dialect)
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
    FROM ura_log_records q ${dialect.responseJoin}
    WHERE ${c.text()}
  ) e
) b GROUP BY service, bucket, bin, failed`,
    params: c.params,
  }
}

export function trafficRow (row: Record<string, unknown>): TrafficCell {
  return { service: row.service as string, bucket: Number(row.bucket), bin: Number(row.bin), failed: Number(row.failed) === 1, count: Number(row.n) }
}
