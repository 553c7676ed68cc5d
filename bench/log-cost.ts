/**
 * What the signed, durable message log costs per exchange, in one process and without HTTP: C
 * virtual connections each record a request, yield once (the provider's round trip), record the
 * response, and go again — as the pipeline does — through the real recorder and store (seal, chain,
 * commit, fsync). Prints exchanges/s, the latency of the two records, records per commit group and
 * the CPU per exchange by thread (main, the log writer, libuv's pool, V8's helpers), which stays
 * comparable on a busy machine where req/s does not: it shows what a change moved and what it removed.
 *
 * `--provider-ms N`: the provider's answer takes a random 0–N ms instead of one event-loop turn, so
 * the connections fall out of step as they do behind a real provider (smaller commit groups).
 *
 * `--ids counter`: message and request ids `kosto-<n>` (what this bench used until issue 14's eighth
 * round) instead of a random UUID per exchange, as clients send them: an index over random keys
 * touches a page of its own per record, one over near-sequential text shares its pages.
 *
 * The disk writes (the process's `write_bytes` from /proc, the final checkpoint included) against
 * the file's growth show what the commits write beyond the records: journal frames of whole pages,
 * and each page again when the journal is folded into the file.
 *
 * `--format 1`: the store writes records as earlier versions did (proofs and previous hashes stored,
 * the JSON chain hash), for a before/after of the lean format 2 in the same run of the same code.
 *
 * With `--store postgres` the database's work is the server's, not this process's: the run also
 * prints the CPU of the server's processes and the WAL it wrote per record (full-page images, the
 * copies of pages first touched since a checkpoint, counted apart). `--preload N` first fills the
 * log with N records of the same shape (SQL-made, random message ids, not signed: the run measures
 * what appending costs once the tables and their indexes are that large, not the records' checks).
 *
 * `--signing deferred`: the embedded store signs each key's batch within 200 ms (node.log.signing).
 *
 *   npm run bench:log [-- --connections 50 --seconds 10 --keys ec-p256|rsa-2048 --store embedded|postgres --provider-ms 0 --ids uuid|counter --format 2 --preload 0 --signing immediate|deferred]
 */
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { PgLogStore } from '../messagelog/pg-store.ts'
import { SigningRecorder } from '../messagelog/recorder.ts'
import { sha512, type Direction, type RecordContent } from '../messagelog/record.ts'
import { SqliteLogStore } from '../messagelog/sqlite-store.ts'
import { RECORD_COLUMNS, type LogStore } from '../messagelog/store.ts'
import { testSigningKeys } from '../test/support/signing.ts'
import { diskWrites, namedProcessesCpuSeconds, threadCpuSeconds } from './procs.ts'
import { freshDatabase } from './scratch-db.ts'

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '10' },
    keys: { type: 'string', default: 'ec-p256' },
    store: { type: 'string', default: 'embedded' },
    'provider-ms': { type: 'string', default: '0' },
    format: { type: 'string', default: '2' },
    ids: { type: 'string', default: 'uuid' },
    preload: { type: 'string', default: '0' },
    signing: { type: 'string', default: 'immediate' },
  },
})
if (values.ids !== 'uuid' && values.ids !== 'counter') throw new Error('--ids must be uuid or counter')
if (values.format !== '1' && values.format !== '2') throw new Error('--format must be 1 or 2')
const format = Number(values.format) as 1 | 2
const connections = Number(values.connections)
const seconds = Number(values.seconds)
const keyType = values.keys
if (!Number.isInteger(connections) || connections < 1) throw new Error('--connections must be a whole number ≥ 1')
if (!(seconds > 0)) throw new Error('--seconds must be a number > 0')
if (keyType !== 'ec-p256' && keyType !== 'rsa-2048') throw new Error('--keys must be ec-p256 or rsa-2048')
const providerMs = Number(values['provider-ms'])
if (!(providerMs >= 0)) throw new Error('--provider-ms must be a number ≥ 0')
if (values.store !== 'embedded' && values.store !== 'postgres') throw new Error('--store must be embedded or postgres')
const preload = Number(values.preload)
if (!Number.isInteger(preload) || preload < 0) throw new Error('--preload must be a whole number ≥ 0')
if (preload > 0 && values.store !== 'postgres') throw new Error('--preload is for --store postgres (the embedded log\'s: node bench/log-index-cost.ts --preload N)')

const CLIENT_MEMBER = 'AL-DEV/GOV/K11503002N'
const PROVIDER_MEMBER = 'AL-DEV/NJQV/L21603004L'
const keys = testSigningKeys({ [CLIENT_MEMBER]: keyType, [PROVIDER_MEMBER]: keyType })
const dir = mkdtempSync(join(tmpdir(), 'ura-log-cost-'))
let store: LogStore & { stats: { groups: number; records: number } }
const PG_URL = 'postgres://postgres@127.0.0.1:5432/ura_bench_log_cost'
if (values.store === 'postgres') {
  await freshDatabase('ura_bench_log_cost')
  store = await PgLogStore.open(PG_URL, { format })
  if (preload > 0) await preloadPg(preload)
} else {
  store = await SqliteLogStore.open(join(dir, 'message-log.sqlite'), { format, signing: values.signing === 'deferred' ? 'deferred' : 'immediate' })
}
const recorder = new SigningRecorder(store, keys)
const body = Buffer.from(JSON.stringify({ nipt: 'K81305012I', viti: 2026, shenim: 'x'.repeat(940) }))
const bodyDigest = sha512(body)
const headersDigest = sha512('POST\r\n/subjekte\r\ncontent-type: application/json\r\n')

const exchangeIds = (n: number): [messageId: string, requestId: string] =>
  values.ids === 'uuid' ? [randomUUID(), randomUUID()] : [`kosto-${n}`, `kerkese-${n}`]

function content (direction: Direction, [messageId, requestId]: [string, string]): RecordContent {
  return {
    time: new Date().toISOString(), direction, protocol: 'rest', messageId, requestId,
    client: `${CLIENT_MEMBER}/e-albania`, service: `${PROVIDER_MEMBER}/taksat-vendore/detyrimet`, userId: 'AL-I50314123V', issue: null,
    representedParty: null, method: 'POST', path: '/subjekte', status: direction === 'response' ? 200 : null, fault: null,
    requestHash: direction === 'response' ? bodyDigest : null, headersDigest, bodyDigest, signer: direction === 'request' ? CLIENT_MEMBER : PROVIDER_MEMBER,
  }
}

let next = 0
let running = true
const latencies: number[] = []
async function connection (): Promise<void> {
  while (running) {
    const ids = exchangeIds(next++)
    const started = performance.now()
    await recorder.record(content('request', ids), body, false)
    await new Promise(resolve => providerMs === 0 ? setImmediate(resolve) : setTimeout(resolve, Math.random() * providerMs))
    await recorder.record(content('response', ids), body, false)
    latencies.push(performance.now() - started)
  }
}

/** N records of this bench's shape, made by the database itself, the chain head moved after them; then a checkpoint. */
async function preloadPg (n: number): Promise<void> {
  const db = new pg.Client(PG_URL)
  await db.connect()
  try {
    const started = performance.now()
    const digest = `'${'A'.repeat(86)}=='`
    for (let from = 1; from <= n; from += 500_000) {
      const to = Math.min(n, from + 499_999)
      // A request and its response share a message id; a batch signature covers 20 records, its id time-ordered as the signer's are.
      await db.query(`INSERT INTO ura_log_records (${RECORD_COLUMNS.map(c => c[1]).join(', ')})
        SELECT g, to_char(timestamp '2026-01-01' + g * interval '1 millisecond', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          CASE WHEN g % 2 = 1 THEN 'request' ELSE 'response' END, 'rest', md5(((g + 1) / 2)::text)::uuid::text, md5('r' || ((g + 1) / 2))::uuid::text,
          '${CLIENT_MEMBER}/e-albania', '${PROVIDER_MEMBER}/taksat-vendore/detyrimet', 'AL-I50314123V', NULL, NULL, 'POST', '/subjekte',
          CASE WHEN g % 2 = 1 THEN NULL ELSE 200 END, NULL, CASE WHEN g % 2 = 1 THEN NULL ELSE ${digest} END, ${digest}, ${digest},
          CASE WHEN g % 2 = 1 THEN '${CLIENT_MEMBER}' ELSE '${PROVIDER_MEMBER}' END, NULL,
          '00000000-0000-7000-8000-' || lpad(to_hex(g / 20), 12, '0'), '', '', ${digest}
        FROM generate_series($1::bigint, $2::bigint) g`, [from, to])
    }
    await db.query(`UPDATE ura_log_head SET seq = $1, hash = ${digest} WHERE id = 1`, [n])
    await db.query('VACUUM ANALYZE ura_log_records')
    await db.query('CHECKPOINT')
    const size = (await db.query("SELECT pg_total_relation_size('ura_log_records') AS bytes, pg_indexes_size('ura_log_records') AS indexes")).rows[0] as { bytes: string; indexes: string }
    console.log(`preloaded ${n.toLocaleString('en-US')} records in ${((performance.now() - started) / 1000).toFixed(1)} s: table and indexes ${(Number(size.bytes) / 1e6).toFixed(0)} MB, of which indexes ${(Number(size.indexes) / 1e6).toFixed(0)} MB`)
  } finally {
    await db.end()
  }
}

/**
 * PostgreSQL's WAL position and its count of full-page images so far (server-wide: a bench machine
 * runs nothing else on it), and the WAL bytes written since `since` when given.
 */
async function pgWal (since?: string): Promise<{ lsn: string; fpi: number; bytes: number }> {
  const db = new pg.Client(PG_URL)
  await db.connect()
  try {
    const row = (await db.query('SELECT pg_current_wal_lsn()::text AS lsn, (SELECT wal_fpi FROM pg_stat_wal) AS fpi, pg_wal_lsn_diff(pg_current_wal_lsn(), COALESCE($1, pg_current_wal_lsn()::text)::pg_lsn) AS bytes', [since ?? null])).rows[0] as { lsn: string; fpi: string; bytes: string }
    return { lsn: row.lsn, fpi: Number(row.fpi), bytes: Number(row.bytes) }
  } finally {
    await db.end()
  }
}

// Warm-up: code optimised, the writer's statements prepared, the keys known to it.
for (let i = 0; i < 3; i++) await Promise.all(Array.from({ length: connections }, () => recorder.record(content('request', exchangeIds(-1)), body, false)))
const groups0 = { ...store.stats }
const pg0 = values.store === 'postgres' ? { wal: await pgWal(), cpu: await namedProcessesCpuSeconds('postgres') } : undefined
const written0 = diskWrites()
const cpu0 = await threadCpuSeconds(process.pid)
const started = performance.now()
setTimeout(() => { running = false }, seconds * 1000)
await Promise.all(Array.from({ length: connections }, connection))
const elapsed = (performance.now() - started) / 1000
const cpu1 = await threadCpuSeconds(process.pid)
const pgCpu = pg0 === undefined ? undefined : await namedProcessesCpuSeconds('postgres') - pg0.cpu
await store.close()
// The pool's backends have ended: their WAL counts are in the server's statistics now.
const pgWritten = pg0 === undefined ? undefined : await pgWal(pg0.wal.lsn).then((now) => ({ bytes: now.bytes, fpi: now.fpi - pg0.wal.fpi }))
const written = diskWrites() - written0
// The embedded log's file once closed (its journal folded in), warm-up records included.
const file = join(dir, 'message-log.sqlite')
const logBytes = values.store === 'embedded' && existsSync(file) ? statSync(file).size : undefined
rmSync(dir, { recursive: true, force: true })

const exchanges = latencies.length
latencies.sort((a, b) => a - b)
const at = (q: number): string => latencies[Math.min(exchanges - 1, Math.floor(q * exchanges))].toFixed(2)
const groups = store.stats.groups - groups0.groups
const records = store.stats.records - groups0.records
const byThread = Object.entries(cpu1).map(([kind, s]) => [kind, (s - (cpu0[kind] ?? 0)) * 1e6 / exchanges] as const).filter(([, us]) => us >= 0.5).sort((a, b) => b[1] - a[1])
const total = byThread.reduce((n, [, us]) => n + us, 0)
console.log(`message log, ${values.store}, ${keyType} keys, ${connections} connections, ${seconds} s${providerMs === 0 ? '' : `, provider answers in 0–${providerMs} ms`}`)
console.log(`  ${Math.round(exchanges / elapsed).toLocaleString('en-US')} exchanges/s (2 records each); both records p50 ${at(0.5)} ms, p99 ${at(0.99)} ms; ${(records / groups).toFixed(1)} records per commit group`)
console.log(`  CPU per exchange ${total.toFixed(0)} µs: ${byThread.map(([kind, us]) => `${kind} ${us.toFixed(0)}`).join(', ')}`)
if (pgWritten !== undefined && pgCpu !== undefined) {
  console.log(`  PostgreSQL server CPU ${(pgCpu * 1e6 / exchanges).toFixed(0)} µs per exchange; WAL ${(pgWritten.bytes / records / 1024).toFixed(2)} KB per record, ${(pgWritten.fpi / records).toFixed(2)} full-page images per record`)
}
if (logBytes !== undefined) console.log(`  log file ${(logBytes / 1e6).toFixed(1)} MB: ${Math.round(logBytes / store.stats.records)} bytes per record; disk writes ${(written / records / 1024).toFixed(1)} KB per record (the last checkpoint included)`)
console.log('  (CPU ticks are 10 ms: short runs round; this process also runs the virtual connections, ≈ 8 µs per exchange on main)')
