/**
 * How the embedded log finds records by message id. Message ids are random (UUIDs, or a client's
 * own), so a plain index on them puts each new record's entry on a random page of an index as large
 * as the log: once that index outgrows a commit group, every record of a group dirties a page of
 * its own, which the group's commit writes to the WAL and the next checkpoint writes again. The
 * writes per record then grow with the log (`node bench/log-index-cost.ts --preload 1000000
 * --plain-message-index`: 6.9 KB per record at a million records, 1.4 KB of it not the index's).
 *
 * This index keys a record by its bucket of 4,096 sequence numbers first, then its message id. New
 * entries all land in the newest bucket's few dozen pages, so a group rewrites those, however large
 * the log (2.1 KB per record in the same run). A lookup asks each bucket in turn: one index probe per
 * 4,096 records (≈ 2.5 µs each when cached; ≈ 2 ms at 3 M records, ≈ 0.25 s for a year of national
 * traffic, 400 M records). A response is logged after its request, nearly always within a few
 * thousand records, so a search pairs them by probing the request's bucket and the next one first,
 * and later buckets only for a request whose response is not there (a late one, or none).
 */

const BITS = 12

export const MESSAGE_INDEX_NAME = 'ura_log_records_message_bucket'

/** The index an earlier ura made (on the message id alone); a log opened for writing trades it for this one. */
export const PLAIN_MESSAGE_INDEX_NAME = 'ura_log_records_message_id'

export const MESSAGE_INDEX = `CREATE INDEX IF NOT EXISTS ${MESSAGE_INDEX_NAME} ON ura_log_records (seq >> ${BITS}, message_id);`

/** The buckets from `first` (an SQL expression) to the newest record's, as a list for `IN`. */
function bucketsFrom (first: string): string {
  return `WITH RECURSIVE b(k) AS (SELECT ${first} UNION ALL SELECT k + 1 FROM b WHERE k < (SELECT MAX(seq) FROM ura_log_records) >> ${BITS}) SELECT k FROM b`
}

/**
 * SQL: record `alias` carries one of the forms of a message id (`forms`: placeholders). Read where
 * the log has only the plain index (an archive file made before, opened read-only), the planner
 * takes that index and checks the bucket as a filter.
 */
export function messageIdIs (alias: string, forms: string[]): string {
  return `(${alias}.seq >> ${BITS}) IN (${bucketsFrom(`(SELECT MIN(seq) FROM ura_log_records) >> ${BITS}`)}) AND ${alias}.message_id IN (${forms.join(', ')})`
}

/** Every record carrying a message id (its two forms: two placeholders), in log order. */
export const RECORDS_BY_MESSAGE_ID = `SELECT * FROM ura_log_records WHERE ${messageIdIs('ura_log_records', ['?', '?'])} ORDER BY seq`

/** SQL: the first response record answering request record `q`, in the buckets `buckets` (an IN list). */
const responseIn = (buckets: string): string =>
  `(SELECT MIN(x.seq) FROM ura_log_records x WHERE (x.seq >> ${BITS}) IN (${buckets}) AND x.message_id = q.message_id AND x.request_id = q.request_id AND x.direction = 'response')`

/** The join of a request record `q` with its response record `r` (exchanges.ts), near buckets first. */
export const RESPONSE_JOIN_BY_BUCKET = `LEFT JOIN ura_log_records r ON r.seq = COALESCE(
  ${responseIn(`q.seq >> ${BITS}, (q.seq >> ${BITS}) + 1`)},
  ${responseIn(bucketsFrom(`(q.seq >> ${BITS}) + 2`))})`
