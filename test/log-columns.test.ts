/**
 * The embedded log keeps hashes, UUIDs, times and names as bytes (messagelog/sqlite-columns.ts,
 * sqlite-names.ts) and a batch's run of records with its signature: what is stored,
 * that everything above the store reads the same texts as before, that a log written as text goes
 * on as bytes and still verifies, searches and prunes as one, and that tampering with the bytes is caught.
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import t from 'tap'
import { anchorsOnly } from '../certs/verifier.ts'
import { buildEvidence, verifyEvidence } from '../messagelog/evidence.ts'
import { sha512 } from '../messagelog/record.ts'
import { SigningRecorder } from '../messagelog/recorder.ts'
import { idForms, packDigest, packId, packTime, unpackDigest, unpackId, unpackTime } from '../messagelog/sqlite-columns.ts'
import { keyBytes, keyNumber, NameKeys, NameLookup, NAMES_TABLE } from '../messagelog/sqlite-names.ts'
import { packedHeaderText, packHeader, packValue, unpackHeader } from '../messagelog/sqlite-signatures.ts'
import { SqliteLogStore } from '../messagelog/sqlite-store.ts'
import { verifyLog } from '../messagelog/verify-log.ts'
import { verifyStore } from '../messagelog/verify.ts'
import { CLIENT, logExchange, SERVICE } from './support/message-log.ts'
import { testSigningKeys } from './support/signing.ts'

const CLIENT_MEMBER = 'AL-DEV/GOV/K11503002N'
const PROVIDER_MEMBER = 'AL-DEV/NJQV/L21603004L'
const keys = testSigningKeys({ [CLIENT_MEMBER]: 'ec-p256', [PROVIDER_MEMBER]: 'ec-p256' })
const trust = anchorsOnly([keys.ca.pem])

t.test('values pack to bytes only when their text comes back exactly', async t => {
  const id = randomUUID()
  const packed = packId(id) as Buffer
  t.ok(Buffer.isBuffer(packed) && packed.length === 16, 'a UUID is 16 bytes')
  t.equal(unpackId(packed), id, 'and reads back as its text')
  // Not a lowercase UUID in its usual form: one uppercase or non-hex digit, a dash moved, braces, spaces, other lengths.
  const oneUpper = id.replace(/[a-f]/, c => c.toUpperCase())
  const movedDash = `${id.slice(0, 7)}-${id[7]}${id.slice(9)}`
  for (const text of [id.toUpperCase(), oneUpper, `${id.slice(0, 35)}g`, `${id.slice(0, 35)}\u00e9`, movedDash, `{${id}}`, id.replaceAll('-', ''), 'msg-1', '', `${id} `, ` ${id.slice(1)}`]) {
    t.equal(packId(text), text, `"${text}" stays text`)
  }
  t.same(packId('01234567-89ab-cdef-fedc-ba9876543210'), Buffer.from('0123456789abcdeffedcba9876543210', 'hex'), 'every digit decodes in its place')
  const digest = sha512('x')
  const bytes = packDigest(digest) as Buffer
  t.ok(Buffer.isBuffer(bytes) && bytes.length === 64, 'a SHA-512 digest is 64 bytes')
  t.equal(unpackDigest(bytes), digest)
  // The last base64 character of 64 bytes carries 2 spare bits: a text with them set decodes to the same bytes, so it must stay text.
  const spare = digest.slice(0, 85) + (digest[85] === 'A' ? 'B' : 'A') + '=='
  const odd = `${digest.slice(0, 84)}${String.fromCharCode(digest.charCodeAt(84) ^ 1)}${digest.slice(85)}`
  // The URL-safe alphabet, a space inside, padding moved: each decodes to 64 bytes, but not from their one text.
  const urlSafe = digest.includes('+') || digest.includes('/') ? digest.replaceAll('+', '-').replaceAll('/', '_') : `${digest.slice(0, 10)}-${digest.slice(11)}`
  const spaced = `${digest.slice(0, 40)} ${digest.slice(41)}`
  for (const text of [spare, odd, urlSafe, spaced, `${digest.slice(0, 85)}=${digest.slice(85, 87)}`, digest.slice(0, 87) + '.', 'x', digest.slice(0, 86)]) {
    const value = packDigest(text)
    t.ok(value === text || (Buffer.isBuffer(value) && unpackDigest(value) === text), `"${text.slice(-6)}" reads back unchanged`)
  }
  t.equal(packId(null), null)
  t.equal(packDigest(null), null)
  t.same(idForms('msg-1'), ['msg-1', 'msg-1'])
  const time = '2026-12-03T16:29:30.123Z'
  const six = packTime(time) as Buffer
  t.ok(Buffer.isBuffer(six) && six.length === 6, 'a time in milliseconds, UTC, is 6 bytes')
  t.equal(unpackTime(six), time)
  t.ok(Buffer.compare(packTime('2026-12-03T16:29:30.124Z') as Buffer, six) > 0 && Buffer.compare(packTime('2026-11-30T23:59:59.999Z') as Buffer, six) < 0, 'bytes sort as the times do')
  for (const text of ['2026-12-03T16:29:30Z', '2026-12-03T16:29:30.123+01:00', '2026-12-03t16:29:30.123Z', '2026-02-30T16:29:30.123Z', '1969-12-31T23:59:59.999Z', 'yesterday']) t.equal(packTime(text), text, `"${text}" stays text`)
  for (const n of [1, 255, 256, 65535, 65536, 1e6]) t.equal(keyNumber(keyBytes(n)), n, `name key ${n} round-trips in ${keyBytes(n).length} bytes`)
  t.equal(keyBytes(255).length, 1)
  t.equal(keyBytes(256).length, 2)
})

t.test('a batch header packs only when its text comes back exactly', async t => {
  const db = new DatabaseSync(':memory:')
  t.teardown(() => db.close())
  db.exec(NAMES_TABLE)
  const keys = new NameKeys(db)
  const names = new NameLookup(db)
  const header = { format: 'ura-batch/1', alg: 'ECDSA-P256-SHA256', signer: CLIENT_MEMBER, time: '2026-12-03T16:29:30.123Z', root: sha512('root'), count: 17 }
  const text = JSON.stringify(header)
  const packed = packHeader(text, keys) as Buffer
  t.ok(Buffer.isBuffer(packed) && packed.length === 77, `${text.length} characters as 77 bytes`)
  t.equal(unpackHeader(packed, names), text, 'and back, the very same text')
  // A signer with characters JSON escapes (the messages name it by its index: TAP lines must not carry them).
  for (const [i, signer] of [CLIENT_MEMBER, 'AL-DEV/GOV/"quoted"\\back\u00e9\u2028\u0001'].entries()) {
    const h = { ...header, signer }
    t.equal(packedHeaderText(h.alg, signer, h.time, h.root, h.count), JSON.stringify(h), `signer ${i}: the header written out directly is JSON.stringify's`)
    t.equal(unpackHeader(packHeader(JSON.stringify(h), keys), names), JSON.stringify(h), `signer ${i}: packed and back`)
  }
  for (const [why, odd] of [
    ['spaces', JSON.stringify(header, null, 1)],
    ['another key order', JSON.stringify({ alg: header.alg, format: header.format, signer: header.signer, time: header.time, root: header.root, count: header.count })],
    ['an unknown algorithm', JSON.stringify({ ...header, alg: 'EdDSA' })],
    ['a count that is not a whole number', text.replace('"count":17', '"count":17.5')],
    ['an escaped character', text.replace('AL-DEV', 'AL\\u002dDEV')],
    ['a time with an offset', JSON.stringify({ ...header, time: '2026-12-03T17:29:30.123+01:00' })],
    ['a root that is not 64 bytes', JSON.stringify({ ...header, root: sha512('x').slice(0, 44) })],
    ['an extra field', JSON.stringify({ ...header, extra: 1 })],
    ['not JSON', 'ura-batch/1'],
  ] as const) t.equal(packHeader(odd, keys), odd, `${why}: stays text`)
  t.match(unpackHeader(Buffer.from([2, 0, 0]), names), /^#/, 'bytes of an unknown layout read as their hex')
  const value = Buffer.from('a DER signature').toString('base64')
  t.equal(unpackDigest(packValue(value)), value)
  t.equal(packValue(value + '='), value + '=', 'a non-canonical value stays text')
})

t.test('a name added in a transaction that rolls back is forgotten with it', async t => {
  const db = new DatabaseSync(':memory:')
  t.teardown(() => db.close())
  db.exec(NAMES_TABLE)
  const keys = new NameKeys(db)
  db.exec('BEGIN')
  const lost = keys.keyOf('AL-DEV/GOV/K11503002N/e-albania') as Buffer
  db.exec('ROLLBACK')
  keys.rolledBack()
  db.exec('BEGIN')
  const kept = keys.keyOf('AL-DEV/NJQV/L21603004L/gjendja-civile') as Buffer
  db.exec('COMMIT')
  keys.committed()
  const again = keys.keyOf('AL-DEV/GOV/K11503002N/e-albania') as Buffer
  const names = new NameLookup(db)
  t.equal(names.name(keyNumber(again)), 'AL-DEV/GOV/K11503002N/e-albania', 'the name is added again, and its key reads back')
  t.equal(names.name(keyNumber(kept)), 'AL-DEV/NJQV/L21603004L/gjendja-civile')
  t.ok(Buffer.isBuffer(lost))
  t.equal(keys.keyOf(''), '', 'an empty text is kept as it is')
  t.equal(keys.keyOf(null), null)
  t.equal(new NameLookup(new DatabaseSync(':memory:')).name(1), undefined, 'a file without a dictionary has no names')
})

/** Exchanges with these message ids, logged together (requests, then responses, share groups and signatures). */
async function exchanges (store: SqliteLogStore, ids: string[]): Promise<void> {
  const recorder = new SigningRecorder(store, keys)
  await Promise.all(ids.map(messageId => logExchange(recorder, { client: CLIENT, service: SERVICE, at: new Date(), messageId })))
}

async function scratch (): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'ura-log-columns-')), 'message-log.sqlite')
}

/** What the file holds for one record: each column's SQLite type and length. */
function stored (file: string, seq: number): Record<string, string> {
  const db = new DatabaseSync(file, { readOnly: true })
  try {
    const row = db.prepare(`SELECT typeof(message_id) || ':' || length(message_id) AS message_id, typeof(request_id) || ':' || length(request_id) AS request_id,
      typeof(signature_id) || ':' || length(signature_id) AS signature_id, typeof(hash) || ':' || length(hash) AS hash,
      typeof(headers_digest) || ':' || length(headers_digest) AS headers_digest, typeof(body_digest) || ':' || length(body_digest) AS body_digest,
      typeof(request_hash) || ':' || length(request_hash) AS request_hash, (SELECT typeof(id) FROM ura_log_signatures s WHERE s.id = r.signature_id) AS signature_row,
      typeof(time) || ':' || length(time) AS time, typeof(client) || ':' || length(client) AS client, typeof(service) || ':' || length(service) AS service,
      typeof(signer) || ':' || length(signer) AS signer,
      (SELECT typeof(header) || ':' || length(header) || ' ' || typeof(value) || ' ' || typeof(chain) || ':' || length(chain) FROM ura_log_signatures s WHERE s.id = r.signature_id) AS signature_columns
      FROM ura_log_records r WHERE seq = ?`).get(seq) as Record<string, string>
    return { ...row }
  } finally {
    db.close()
  }
}

/** Each signature's run of records as kept, and as the records say it is. */
function runs (file: string): { kept: unknown[]; held: unknown[] } {
  const db = new DatabaseSync(file, { readOnly: true })
  try {
    return {
      kept: db.prepare('SELECT first_seq, last_seq FROM ura_log_signatures ORDER BY first_seq').all().map(r => ({ ...r })),
      held: db.prepare('SELECT MIN(seq) AS first_seq, MAX(seq) AS last_seq FROM ura_log_records GROUP BY signature_id ORDER BY 1').all().map(r => ({ ...r })),
    }
  } finally {
    db.close()
  }
}

const indexes = (file: string): string[] => {
  const db = new DatabaseSync(file, { readOnly: true })
  try {
    return (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'ura_log_records' ORDER BY name").all() as Array<{ name: string }>).map(r => r.name)
  } finally {
    db.close()
  }
}

t.test('the embedded store writes hashes, UUIDs, times and names as bytes and reads them back as text', async t => {
  const file = await scratch()
  const store = await SqliteLogStore.open(file)
  t.teardown(() => store.close())
  const uuids = [randomUUID(), randomUUID(), randomUUID()]
  const own = ['msg-own-1', randomUUID().toUpperCase()]
  await exchanges(store, [...uuids, ...own])
  const records = await store.scan(0, 100)
  t.equal(records.length, 10)
  t.same(stored(file, 1), {
    message_id: 'blob:16', request_id: 'blob:16', signature_id: 'blob:16', hash: 'blob:64',
    headers_digest: 'blob:64', body_digest: 'blob:64', request_hash: 'blob:64', signature_row: 'blob',
    time: 'blob:6', client: 'blob:1', service: 'blob:1', signer: 'blob:1', signature_columns: 'blob:77 blob blob:1',
  }, 'a record with UUIDs: every hash and identifier as bytes, its time as 6, its names as keys of 1 byte; its signature\'s header packed, value as bytes, chain as a key')
  const { kept, held } = runs(file)
  t.same(kept, held, 'each signature keeps the run of records it signs')
  t.same(indexes(file), ['ura_log_records_message_bucket', 'ura_log_records_time'], 'no index on the signature id: batches are found by their run; message ids by bucket')
  const byId = new Map(records.map(x => [x.messageId, x.seq]))
  t.match(stored(file, byId.get(own[0])!), { message_id: 'text:9', request_id: 'blob:16', signature_id: 'blob:16' }, 'an id of the client\'s own making stays text')
  t.match(stored(file, byId.get(own[1])!), { message_id: 'text:36' }, 'so does an uppercase UUID')

  // Everything above the store sees texts.
  const r = records[0]
  t.equal(r.messageId, uuids[0], 'the first exchange\'s request is record 1')
  t.equal(r.client, CLIENT, 'names read back as text')
  t.equal(r.service, SERVICE)
  t.equal(r.signer, CLIENT_MEMBER)
  t.match(r.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'the time reads back as ISO text')
  t.match(r.signatureId, /^[0-9a-f]{8}-[0-9a-f]{4}-7/)
  t.equal(r.hash.length, 88)
  t.equal(Buffer.from(r.headersDigest, 'base64').toString('base64'), r.headersDigest, 'a digest reads as base64')
  t.equal(r.headersDigest.length, 88)
  for (const id of [uuids[1], ...own]) {
    const pair = await store.byMessageId(id)
    t.same(pair.map(x => [x.direction, x.messageId]), [['request', id], ['response', id]], `${id}: found by its message id`)
    t.equal(pair[0].requestId, pair[1].requestId)
    const search = await store.searchExchanges({ messageId: id, limit: 5 })
    t.same(search.map(s => [s.messageId, s.requestId, s.status]), [[id, pair[0].requestId, 200]], `${id}: the search pairs request and response`)
    const signatures = await Promise.all([...new Set(pair.map(x => x.signatureId))].map(async s => (await store.signature(s))!))
    t.same(verifyEvidence(JSON.parse(JSON.stringify(buildEvidence(id, pair, signatures))), trust).problems, [], `${id}: its evidence verifies`)
  }
  t.equal((await store.signature(r.signatureId))?.id, r.signatureId, 'a signature read by its id names itself as text')
  t.same(await verifyStore(store, { trust }), { ok: true, records: 10, signatures: new Set(records.map(x => x.signatureId)).size })
})

/** Rewrites every packed value of the file as text: the log as an earlier ura wrote it. */
function asText (file: string): void {
  const db = new DatabaseSync(file)
  try {
    const columns = ['message_id', 'request_id', 'signature_id', 'hash', 'headers_digest', 'body_digest', 'request_hash']
    for (const c of columns) {
      const unpack = c.endsWith('_id') ? unpackId : unpackDigest
      for (const row of db.prepare(`SELECT seq, ${c} AS v FROM ura_log_records WHERE typeof(${c}) = 'blob'`).all() as Array<{ seq: number; v: Uint8Array }>) {
        db.prepare(`UPDATE ura_log_records SET ${c} = ? WHERE seq = ?`).run(unpack(row.v) as string, row.seq)
      }
    }
    for (const row of db.prepare("SELECT seq, time FROM ura_log_records WHERE typeof(time) = 'blob'").all() as Array<{ seq: number; time: Uint8Array }>) {
      db.prepare('UPDATE ura_log_records SET time = ? WHERE seq = ?').run(unpackTime(row.time) as string, row.seq)
    }
    const names = new Map((db.prepare('SELECT id, name FROM ura_log_names').all() as Array<{ id: number; name: string }>).map(n => [n.id, n.name]))
    for (const c of ['client', 'service', 'signer']) {
      for (const row of db.prepare(`SELECT seq, ${c} AS v FROM ura_log_records WHERE typeof(${c}) = 'blob'`).all() as Array<{ seq: number; v: Uint8Array }>) {
        db.prepare(`UPDATE ura_log_records SET ${c} = ? WHERE seq = ?`).run(names.get(keyNumber(row.v))!, row.seq)
      }
    }
    const lookup = new NameLookup(db)
    for (const row of db.prepare('SELECT id, header, value, chain FROM ura_log_signatures').all() as Array<{ id: Uint8Array; header: unknown; value: unknown; chain: unknown }>) {
      db.prepare('UPDATE ura_log_signatures SET id = ?, header = ?, value = ?, chain = ? WHERE id = ?')
        .run(unpackId(row.id) as string, unpackHeader(row.header, lookup) as string, unpackDigest(row.value) as string, names.get(keyNumber(row.chain as Uint8Array))!, row.id)
    }
    // An earlier ura kept no dictionary and no batch runs, and indexed the signature id and the message id alone.
    db.exec(`DROP TABLE ura_log_names; DROP INDEX ura_log_signatures_last_seq;
      ALTER TABLE ura_log_signatures DROP COLUMN first_seq; ALTER TABLE ura_log_signatures DROP COLUMN last_seq;
      CREATE INDEX ura_log_records_signature_id ON ura_log_records (signature_id);
      DROP INDEX ura_log_records_message_bucket; CREATE INDEX ura_log_records_message_id ON ura_log_records (message_id);`)
  } finally {
    db.close()
  }
}

t.test('a log written as text goes on as bytes: one chain, found, searched and pruned as one', async t => {
  const file = await scratch()
  const first = await SqliteLogStore.open(file)
  const old = [randomUUID(), randomUUID(), randomUUID()]
  await exchanges(first, old)
  await first.close()
  asText(file)
  t.match(stored(file, 1), { message_id: 'text:36', hash: 'text:88', signature_id: 'text:36', signature_row: 'text', time: 'text:24', client: `text:${CLIENT.length}`, signer: 'text:21', signature_columns: /^text:2\d\d text text:129$/ }, 'the earlier log holds texts')

  t.same(indexes(file), ['ura_log_records_message_id', 'ura_log_records_signature_id', 'ura_log_records_time'])
  const store = await SqliteLogStore.open(file)
  t.teardown(() => store.close())
  t.same(indexes(file), ['ura_log_records_message_bucket', 'ura_log_records_signature_id', 'ura_log_records_time'], 'opened for writing, the log trades its plain index of message ids for the bucketed one')
  const now = [randomUUID(), randomUUID()]
  await exchanges(store, now)
  t.match(stored(file, 7), { message_id: 'blob:16', hash: 'blob:64', time: 'blob:6', client: 'blob:1' }, 'new records as bytes')
  const { kept } = runs(file)
  t.same(kept.filter(r => (r as { first_seq: unknown }).first_seq === null).length, new Set((await store.scan(0, 6)).map(r => r.signatureId)).size, 'the earlier signatures have no run')
  t.ok(kept.some(r => (r as { first_seq: unknown }).first_seq === 7), 'the new ones have theirs')
  const records = await store.scan(0, 100)
  t.same(records.map(r => r.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  const verdict = await verifyStore(store, { trust })
  t.same(verdict, { ok: true, records: 10, signatures: new Set(records.map(r => r.signatureId)).size }, 'the chain runs from the texts into the bytes')
  t.same(await verifyLog(store, { trust }, { threads: 2, parallelFrom: 0, chunkSize: 3, pageSize: 2 }), verdict, 'on rows, in ranges: the same verdict')
  for (const id of [old[1], now[0]]) {
    t.equal((await store.byMessageId(id)).length, 2, `${id}: both records found`)
    t.equal((await store.searchExchanges({ messageId: id, limit: 5 })).length, 1, `${id}: one exchange`)
  }
  t.equal((await store.searchExchanges({ limit: 10 })).length, 5, 'every exchange listed, before and after')
  for (const q of [{ client: CLIENT }, { service: SERVICE }, { members: [CLIENT_MEMBER] }, { members: [PROVIDER_MEMBER] }, { from: new Date(Date.now() - 600_000), to: new Date(Date.now() + 600_000) }]) {
    const found = await store.searchExchanges({ ...q, limit: 10 })
    t.same(found.map(e => e.client), Array(5).fill(CLIENT), `${JSON.stringify(q)}: every exchange, by its name as text`)
  }
  t.same(await store.searchExchanges({ from: new Date(Date.now() + 600_000), limit: 10 }), [], 'none after the window')
  t.same(await store.searchExchanges({ to: new Date(Date.now() - 600_000), limit: 10 }), [], 'none before it')
  t.same(await store.searchExchanges({ members: ['AL-DEV/GOV/K99999999X'], limit: 10 }), [], 'none of another member')
  const cells = await store.traffic({ from: new Date(Date.now() - 600_000), to: new Date(Date.now() + 600_000), bucketMs: 1_200_000 })
  t.same(cells.map(c => c.service), [SERVICE], 'one traffic cell: the service named as text and as a key counts as one')
  t.equal(cells[0].count, 5)
  const scoped = await store.traffic({ from: new Date(Date.now() - 600_000), to: new Date(Date.now() + 600_000), bucketMs: 1_200_000, members: [PROVIDER_MEMBER] })
  t.same(scoped.map(c => [c.service, c.count]), [[SERVICE, 5]], 'a member\'s traffic: its service\'s exchanges, in both forms')
  t.same(await store.traffic({ from: new Date(Date.now() - 600_000), to: new Date(Date.now() + 600_000), bucketMs: 1_200_000, members: ['AL-DEV/GOV/K99999999X'] }), [], 'another member has none')

  // Pruning the text part: its signatures go with it, the bytes' stay.
  const db = new DatabaseSync(file)
  db.prepare("UPDATE ura_log_records SET time = '2020-01-01T00:00:00.000Z' WHERE seq <= 6").run()
  db.close()
  t.equal(await store.prune(new Date('2021-01-01')), 6)
  t.same(await store.anchor(), { seq: 6, hash: records[5].hash }, 'the anchor is the last pruned record\'s hash, as text')
  t.same(await verifyStore(store, { trust }), { ok: true, records: 4, signatures: new Set(records.slice(6).map(r => r.signatureId)).size })
  await exchanges(store, [randomUUID()])
  t.ok((await verifyStore(store, { trust })).ok, 'the chain goes on after the anchor')
})

t.test('tampering with the stored bytes is caught', async t => {
  // A signature that fails is reported at its batch's first record (`batch`); anything else at record 3 itself.
  const cases: Array<{ name: string; sql: string; problem: RegExp; batch?: boolean }> = [
    { name: 'a digest one byte off', sql: 'UPDATE ura_log_records SET body_digest = substr(body_digest, 1, 63) || CASE WHEN substr(body_digest, 64) = x\'00\' THEN x\'01\' ELSE x\'00\' END WHERE seq = 3', problem: /signed root|leaf|batch signature/ },
    { name: 'a digest cut short', sql: 'UPDATE ura_log_records SET headers_digest = substr(headers_digest, 1, 32) WHERE seq = 3', problem: /signed root|leaf|batch signature/ },
    { name: 'a chain hash altered', sql: 'UPDATE ura_log_records SET hash = zeroblob(64) WHERE seq = 3', problem: /chain/ },
    { name: 'the message id swapped for another', sql: 'UPDATE ura_log_records SET message_id = randomblob(16) WHERE seq = 3', problem: /signed root|leaf|batch signature/ },
    { name: 'the time a millisecond off', sql: "UPDATE ura_log_records SET time = substr(time, 1, 5) || CASE WHEN substr(time, 6) = x'00' THEN x'01' ELSE x'00' END WHERE seq = 3", problem: /signed root|leaf|batch signature/ },
    { name: 'a name key the dictionary lacks', sql: "UPDATE ura_log_records SET client = x'7f' WHERE seq = 3", problem: /signed root|leaf|batch signature/ },
    { name: 'the service swapped for the client', sql: 'UPDATE ura_log_records SET service = client WHERE seq = 3', problem: /signed root|leaf|batch signature/ },
    { name: 'its signature\'s packed header a count off', batch: true, sql: "UPDATE ura_log_signatures SET header = substr(header, 1, 11) || x'00' || substr(header, 13) WHERE id = (SELECT signature_id FROM ura_log_records WHERE seq = 3)", problem: /signature/ },
    { name: 'its signature\'s value a byte off', batch: true, sql: "UPDATE ura_log_signatures SET value = substr(value, 1, 20) || CASE WHEN substr(value, 21, 1) = x'00' THEN x'01' ELSE x'00' END || substr(value, 22) WHERE id = (SELECT signature_id FROM ura_log_records WHERE seq = 3)", problem: /signature/ },
  ]
  for (const c of cases) {
    const file = await scratch()
    const store = await SqliteLogStore.open(file)
    await exchanges(store, [randomUUID(), randomUUID(), randomUUID()])
    t.ok((await verifyStore(store, { trust })).ok, `${c.name}: sound before`)
    const records = await store.scan(0, 100)
    const at = c.batch === true ? records.find(r => r.signatureId === records[2].signatureId)!.seq : 3
    const db = new DatabaseSync(file)
    t.equal(Number(db.prepare(c.sql).run().changes), 1, `${c.name}: one row changed`)
    db.close()
    for (const verdict of [await verifyStore(store, { trust }), await verifyLog(store, { trust }, { threads: 2, parallelFrom: 0, chunkSize: 2, pageSize: 2 })]) {
      t.equal(verdict.ok, false, `${c.name}: detected`)
      t.equal(verdict.firstBad?.seq, at, `${c.name}: at record ${at}`)
      t.match(verdict.firstBad?.problems.join(' | '), c.problem, `${c.name}: ${verdict.firstBad?.problems.join(' | ')}`)
    }
    await store.close()
  }
})

t.test('a name altered in the dictionary is caught', async t => {
  const file = await scratch()
  const store = await SqliteLogStore.open(file)
  await exchanges(store, [randomUUID(), randomUUID(), randomUUID()])
  await store.close()
  const db = new DatabaseSync(file)
  t.equal(Number(db.prepare(`UPDATE ura_log_names SET name = name || 'x' WHERE name = '${CLIENT}'`).run().changes), 1)
  db.close()
  const reopened = await SqliteLogStore.open(file)
  t.teardown(() => reopened.close())
  const one = await verifyStore(reopened, { trust })
  // Every record names the client (as its client, or its signer's member): the first is bad.
  t.equal(one.firstBad?.seq, 1, `detected at record 1: ${one.firstBad?.problems.join(' | ')}`)
  t.same(await verifyLog(reopened, { trust }, { threads: 2, parallelFrom: 0, chunkSize: 2, pageSize: 2 }), one, 'in ranges, the same verdict')
})

t.test('a batch\'s run is a shortcut: a wrong one is not followed, the batch is found by its records', async t => {
  const cases: Array<{ name: string; sql: string }> = [
    { name: 'a run shortened', sql: 'UPDATE ura_log_signatures SET last_seq = last_seq - 1 WHERE first_seq = (SELECT MIN(first_seq) FROM ura_log_signatures WHERE last_seq > first_seq)' },
    { name: 'a run moved', sql: 'UPDATE ura_log_signatures SET first_seq = first_seq + 1, last_seq = last_seq + 1 WHERE first_seq = 1' },
    { name: 'a run pointing at no records', sql: 'UPDATE ura_log_signatures SET first_seq = 1000, last_seq = 1003 WHERE first_seq = 1' },
    { name: 'a run widened over the next batch', sql: 'UPDATE ura_log_signatures SET last_seq = last_seq + 1 WHERE first_seq = 1' },
  ]
  for (const c of cases) {
    const file = await scratch()
    const store = await SqliteLogStore.open(file)
    const ids = [randomUUID(), randomUUID(), randomUUID()]
    await exchanges(store, ids)
    const records = await store.scan(0, 100)
    const db = new DatabaseSync(file)
    t.equal(Number(db.prepare(c.sql).run().changes), 1, `${c.name}: one signature changed`)
    db.close()
    const verdict = { ok: true, records: 6, signatures: new Set(records.map(r => r.signatureId)).size }
    t.same(await verifyStore(store, { trust }), verdict, `${c.name}: the log verifies, page by page`)
    t.same(await verifyLog(store, { trust }, { threads: 2, parallelFrom: 0, chunkSize: 2, pageSize: 2 }), verdict, `${c.name}: and batch by batch`)
    for (const r of records) t.same((await store.batch(r.signatureId)).map(x => x.seq), records.filter(x => x.signatureId === r.signatureId).map(x => x.seq), `${c.name}: record ${r.seq}'s batch is whole`)
    const pair = await store.byMessageId(ids[0])
    const signatures = await Promise.all([...new Set(pair.map(x => x.signatureId))].map(async s => (await store.signature(s))!))
    t.same(verifyEvidence(JSON.parse(JSON.stringify(buildEvidence(ids[0], pair, signatures))), trust).problems, [], `${c.name}: evidence verifies`)
    await store.close()
  }
})
