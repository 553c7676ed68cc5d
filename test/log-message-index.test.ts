/**
 * The embedded log finds records by message id through an index keyed by bucket of 4,096 sequence
 * numbers first (messagelog/sqlite-message-index.ts): what it finds when a request and its response
 * lie in the same bucket, the next one or a later one, or when no response was logged; that every
 * lookup goes through an index rather than the table; and that an archive file made before, with
 * the plain index, is still read through that one.
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import t from 'tap'
import { anchorsOnly } from '../certs/verifier.ts'
import { searchSql } from '../messagelog/exchanges.ts'
import { SigningRecorder } from '../messagelog/recorder.ts'
import { idForms } from '../messagelog/sqlite-columns.ts'
import { RECORDS_BY_MESSAGE_ID } from '../messagelog/sqlite-message-index.ts'
import { NameLookup } from '../messagelog/sqlite-names.ts'
import { sqliteDialect } from '../messagelog/sqlite-sql.ts'
import { SqliteLogReader, SqliteLogStore } from '../messagelog/sqlite-store.ts'
import { verifyStore } from '../messagelog/verify.ts'
import { ANSWER, CLIENT, exchangeRecords, logExchange, SERVICE } from './support/message-log.ts'
import { testSigningKeys } from './support/signing.ts'

const keys = testSigningKeys({ 'AL-DEV/GOV/K11503002N': 'ec-p256', 'AL-DEV/NJQV/L21603004L': 'ec-p256' })
const trust = anchorsOnly([keys.ca.pem])
const BUCKET = 4096

const scratch = async (): Promise<string> => join(await mkdtemp(join(tmpdir(), 'ura-log-message-index-')), 'message-log.sqlite')

/** Requests without responses, appended together until the log's last record is `seq`. */
async function fillTo (store: SqliteLogStore, recorder: SigningRecorder, seq: number): Promise<void> {
  for (let last = (await store.extent())?.last ?? 0; last < seq; last = (await store.extent())!.last) {
    const n = Math.min(500, seq - last)
    await Promise.all(Array.from({ length: n }, () => {
      const x = exchangeRecords({ client: CLIENT, service: SERVICE, at: new Date(), status: null })
      return recorder.record(x.request, x.body, false)
    }))
  }
}

/** What the planner does for `sql`: its steps' details. */
const plan = (db: DatabaseSync, sql: string, params: unknown[]): string[] =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(params as Array<string | Uint8Array | number>)) as Array<{ detail: string }>).map(r => r.detail)

t.test('a response is paired with its request in the same bucket, the next one or a later one', async t => {
  const file = await scratch()
  const store = await SqliteLogStore.open(file)
  t.teardown(() => store.close())
  const recorder = new SigningRecorder(store, keys)
  const at = new Date()
  const near = exchangeRecords({ client: CLIENT, service: SERVICE, at, ms: 5 })
  const next = exchangeRecords({ client: CLIENT, service: SERVICE, at, ms: 7 })
  const later = exchangeRecords({ client: CLIENT, service: SERVICE, at, ms: 9 })
  const none = exchangeRecords({ client: CLIENT, service: SERVICE, at, status: null })
  const seqs: Record<string, number[]> = {}
  for (const x of [near, next, later, none]) seqs[x.messageId] = [await recorder.record(x.request, x.body, false)]
  seqs[near.messageId].push(await recorder.record(near.response!, ANSWER, false))
  await fillTo(store, recorder, BUCKET + 10)
  seqs[next.messageId].push(await recorder.record(next.response!, ANSWER, false))
  await fillTo(store, recorder, 3 * BUCKET + 10)
  seqs[later.messageId].push(await recorder.record(later.response!, ANSWER, false))
  const bucket = (seq: number): number => Math.floor(seq / BUCKET)
  t.same([near, next, later].map(x => bucket(seqs[x.messageId][1]) - bucket(seqs[x.messageId][0])), [0, 1, 3], 'the responses lie 0, 1 and 3 buckets after their requests')

  for (const [x, ms] of [[near, 5], [next, 7], [later, 9]] as const) {
    t.same((await store.byMessageId(x.messageId)).map(r => [r.seq, r.direction]), [[seqs[x.messageId][0], 'request'], [seqs[x.messageId][1], 'response']], `${ms} ms: both records found by the message id`)
    const [found] = await store.searchExchanges({ messageId: x.messageId, limit: 5 })
    t.match(found, { seq: seqs[x.messageId][0], requestId: x.request.requestId, status: 200, durationMs: ms }, `${ms} ms: the search pairs the request with its response`)
  }
  t.same((await store.byMessageId(none.messageId)).map(r => r.seq), seqs[none.messageId], 'a request without a response: its one record')
  t.match(await store.searchExchanges({ messageId: none.messageId, limit: 5 }), [{ status: null, responseTime: null }], 'and no response')
  t.same(await store.byMessageId(randomUUID()), [], 'an id the log does not hold: nothing')

  // The oldest exchanges, among thousands without a response: each paired as above.
  const oldest = await store.searchExchanges({ before: 5, limit: 4 })
  t.same(oldest.map(e => [e.messageId, e.status]), [[none.messageId, null], [later.messageId, 200], [next.messageId, 200], [near.messageId, 200]], 'a page of the search, newest first')
  const cells = await store.traffic({ from: new Date(at.getTime() - 1000), to: new Date(at.getTime() + 1), bucketMs: 2000 })
  const answered = cells.filter(c => !c.failed)
  t.same(answered.map(c => c.bin).sort(), [2, 3], 'the traffic counts the three answered exchanges in their durations\' bins (≤ 5 ms, ≤ 10 ms)…')
  t.equal(answered.reduce((n, c) => n + c.count, 0), 3, '…as answered')
  t.match(await verifyStore(store, { trust }), { ok: true, records: (await store.extent())!.last }, 'the log verifies')

  // Every lookup by message id goes through an index: none reads the table through.
  const db = new DatabaseSync(file, { readOnly: true })
  t.teardown(() => db.close())
  const forms = idForms(later.messageId)
  const search = searchSql({ messageId: later.messageId, limit: 5 }, sqliteDialect(db, new NameLookup(db)))
  for (const [what, sql, params] of [
    ['a record lookup', RECORDS_BY_MESSAGE_ID, forms],
    ['a search by message id, with its responses', search.text.replace(/\$(\d+)/g, '?$1'), search.params],
  ] as const) {
    const steps = plan(db, sql, params as unknown[])
    t.ok(steps.some(s => s.includes('INDEX ura_log_records_message_bucket')), `${what}: through the bucketed index`)
    t.same(steps.filter(s => /^SCAN (ura_log_records|q|x|r)\b/.test(s)), [], `${what}: no scan of the records`)
  }
})

t.test('an archive file made before, read as it is, is searched through its plain index', async t => {
  const file = await scratch()
  const store = await SqliteLogStore.open(file)
  const recorder = new SigningRecorder(store, keys)
  const ids = await Promise.all(Array.from({ length: 3 }, () => logExchange(recorder, { client: CLIENT, service: SERVICE, at: new Date() })))
  await store.close()
  const raw = new DatabaseSync(file)
  raw.exec('DROP INDEX ura_log_records_message_bucket; CREATE INDEX ura_log_records_message_id ON ura_log_records (message_id);')
  raw.close()
  const reader = SqliteLogReader.open(file)
  t.teardown(() => reader.close())
  t.same((await reader.byMessageId(ids[1])).map(r => r.direction), ['request', 'response'], 'both records found')
  const db = new DatabaseSync(file, { readOnly: true })
  t.teardown(() => db.close())
  const steps = plan(db, RECORDS_BY_MESSAGE_ID, idForms(ids[1]))
  t.ok(steps.some(s => s.includes('INDEX ura_log_records_message_id')), 'through the plain index')
  t.same(steps.filter(s => /^SCAN ura_log_records\b/.test(s)), [], 'not a scan of the records')
})
