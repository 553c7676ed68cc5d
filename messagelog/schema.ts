/**
 * The message log's tables, written once for both stores: records, batch signatures and the
 * certificates that signed them. The two databases differ only in the types of the sequence and
 * the body column; each store adds its own bookkeeping table (the chain head, or SQLite's meta).
 * Every statement is idempotent and runs at each open, so a log made by an older ura gains the time
 * index that operators' searches and the traffic summary read on its next start. Searches by client
 * or service walk that index (with a time window) or the sequence backwards: an index on each would
 * cost the writer ≈ 17 µs of CPU per record, on every exchange, for the sake of rare searches.
 *
 * A batch's records are found by its signature id. PostgreSQL indexes that column; the embedded
 * store, whose format 2 batches lie in one run of sequence numbers (shared with other keys' records
 * when signed deferred), keeps that run with the signature
 * instead (`batchRanges`: 2 numbers per batch rather than an index entry of ≈ 25 bytes per record).
 * A log the embedded store made before keeps its index, which its older batches are found by.
 *
 * Records are found by message id. PostgreSQL indexes the column (`messageIndex`); the embedded store
 * keeps an index of its own that new entries do not scatter across (sqlite-message-index.ts).
 */
export function logTables (types: { seq: 'BIGINT' | 'INTEGER'; bytes: 'BYTEA' | 'BLOB'; batchRanges: boolean; messageIndex: boolean }): string {
  return `
CREATE TABLE IF NOT EXISTS ura_log_records (
  seq ${types.seq} PRIMARY KEY, time TEXT NOT NULL, direction TEXT NOT NULL, protocol TEXT NOT NULL,
  message_id TEXT NOT NULL, request_id TEXT NOT NULL, client TEXT NOT NULL, service TEXT NOT NULL,
  user_id TEXT, issue TEXT, represented_party TEXT, method TEXT, path TEXT, status INTEGER, fault TEXT,
  request_hash TEXT, headers_digest TEXT NOT NULL, body_digest TEXT NOT NULL, signer TEXT NOT NULL, body ${types.bytes},
  signature_id TEXT NOT NULL, proof TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
${types.messageIndex ? 'CREATE INDEX IF NOT EXISTS ura_log_records_message_id ON ura_log_records (message_id);' : ''}
${types.batchRanges ? '' : 'CREATE INDEX IF NOT EXISTS ura_log_records_signature_id ON ura_log_records (signature_id);'}
CREATE INDEX IF NOT EXISTS ura_log_records_time ON ura_log_records (time);
CREATE TABLE IF NOT EXISTS ura_log_signatures (id TEXT PRIMARY KEY, header TEXT NOT NULL, value TEXT NOT NULL, chain TEXT NOT NULL${types.batchRanges ? ', first_seq INTEGER, last_seq INTEGER' : ''});
CREATE TABLE IF NOT EXISTS ura_log_certificates (fingerprint TEXT PRIMARY KEY, pem TEXT NOT NULL);
`
}
