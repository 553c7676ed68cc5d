/**
 * `ura log verify` on long logs: the log cut into chunks verified in worker threads gives exactly the
 * verdict of the reference one-thread walk, verifyStore (tampering at and across chunk boundaries
 * included), on both stores; records checked the fast way on their rows (verify-rows.ts) are
 * reported exactly as the reference reports them, whatever the fast path remembered of their batch;
 * progress counts every record; the command prints progress lines off a terminal and none with `--quiet`.
 */
import { writeFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import type { ProofStep } from '../certs/merkle.ts'
import { anchorsOnly } from '../certs/verifier.ts'
import { PgLogStore } from '../messagelog/pg-store.ts'
import { SigningRecorder } from '../messagelog/recorder.ts'
import { SqliteLogStore } from '../messagelog/sqlite-store.ts'
import type { LogStore } from '../messagelog/store.ts'
import { verifyLog, VerifyWorkers } from '../messagelog/verify-log.ts'
import { chainHash, GENESIS_HASH, recordLeaf, type RecordFormat } from '../messagelog/record.ts'
import { arrayRecord, RECORD_COLUMNS } from '../messagelog/store.ts'
import { recordProblems, SignatureCache, verifyStore } from '../messagelog/verify.ts'
import { LogRow, RowChecker } from '../messagelog/verify-rows.ts'
import { CLIENT, logExchange, logExchanges, SERVICE } from './support/message-log.ts'
import { scratchConfig, uraProcess } from './support/ura-process.ts'
import { scratchDatabase } from './support/postgres.ts'
import { testSigningKeys } from './support/signing.ts'

// Every case walks a fresh log several ways, on both stores: more than the default time on a busy machine.
t.setTimeout(300_000)

const keys = testSigningKeys({ 'AL-DEV/GOV/K11503002N': 'ec-p256', 'AL-DEV/NJQV/L21603004L': 'ec-p256' })
const trust = anchorsOnly([keys.ca.pem])

type Store = LogStore & { exec (sql: string, ...params: unknown[]): Promise<void> }

/** 30 exchanges, 60 records, 5 at a time so batches hold several records. */
async function fill (store: LogStore): Promise<void> {
  await logExchanges(new SigningRecorder(store, keys), 30, new Date(Date.now() - 60_000))
}

/** Tampering, each on a fresh log of 60 records; with 3 chunks of 20, records 21 and 41 start a chunk. */
const tampers: Array<{ name: string; sql: string[]; format?: RecordFormat }> = [
  { name: 'sound', sql: [] },
  { name: 'the first record of the second range deleted', sql: ['DELETE FROM ura_log_records WHERE seq = 21'] },
  { name: 'the last record of the first range deleted', sql: ['DELETE FROM ura_log_records WHERE seq = 20'] },
  { name: 'the first record of the log deleted', sql: ['DELETE FROM ura_log_records WHERE seq = 1'] },
  { name: 'the last record of the log altered', sql: ["UPDATE ura_log_records SET status = 500 WHERE seq = 60"] },
  { name: 'two records swapped across a range boundary', sql: ['UPDATE ura_log_records SET seq = -1 WHERE seq = 40', 'UPDATE ura_log_records SET seq = 40 WHERE seq = 41', 'UPDATE ura_log_records SET seq = 41 WHERE seq = -1'] },
  { name: 'a range\'s first record altered', sql: ["UPDATE ura_log_records SET user_id = 'AL-J00000000X' WHERE seq = 41"] },
  { name: 'its chain hash altered', sql: ["UPDATE ura_log_records SET hash = 'x' WHERE seq = 20"] },
  { name: 'a body altered in the third range', sql: ["UPDATE ura_log_records SET body = $1 WHERE seq = (SELECT MIN(seq) FROM ura_log_records WHERE seq > 45 AND body IS NOT NULL)"] },
  { name: 'two bad records: the earlier wins', sql: ["UPDATE ura_log_records SET path = '/x' WHERE seq = 50", "UPDATE ura_log_records SET path = '/x' WHERE seq = 30"] },
  // The last (topmost) step of a proof, shared with the batch's records walked before it: its sibling's first character changed.
  { name: 'an upper proof step altered inside a batch', format: 1, sql: [`UPDATE ura_log_records SET proof = substr(proof, 1, length(proof) - 91) || CASE WHEN substr(proof, length(proof) - 90, 1) = 'A' THEN 'B' ELSE 'A' END || substr(proof, length(proof) - 89)
    WHERE seq = (SELECT MIN(r.seq) FROM ura_log_records r WHERE r.seq > 30 AND length(r.proof) >= 195 AND EXISTS (SELECT 1 FROM ura_log_records o WHERE o.signature_id = r.signature_id AND o.seq < r.seq))`] },
  // Format 2 proves a record through its whole batch: a batch that lost, gained or swapped a member no longer gives its signed root.
  { name: 'a record moved into the batch before it', format: 2, sql: ['UPDATE ura_log_records SET signature_id = (SELECT signature_id FROM ura_log_records WHERE seq = 25) WHERE seq = (SELECT MIN(seq) FROM ura_log_records WHERE seq > 25 AND signature_id <> (SELECT signature_id FROM ura_log_records WHERE seq = 25))'] },
  { name: 'two records of one batch swapped in order', format: 2, sql: ['UPDATE ura_log_records SET seq = -1 WHERE seq = 32', 'UPDATE ura_log_records SET seq = 32 WHERE seq = 31', 'UPDATE ura_log_records SET seq = 31 WHERE seq = -1'] },
]

async function suite (t: Test, name: string, fresh: () => Promise<Store>, format: RecordFormat = 2): Promise<void> {
  for (const c of tampers.filter(c => (c.format ?? format) === format)) {
    const store = await fresh()
    try {
      await fill(store)
      for (const sql of c.sql) await store.exec(sql, ...(sql.includes('$1') ? [Buffer.from('{}')] : []))
      const one = await verifyStore(store, { trust })
      let progressed = 0
      const threaded = await verifyLog(store, { trust }, { threads: 3, parallelFrom: 0, pageSize: 7, chunkSize: 20, onProgress: n => { progressed += n } })
      t.same(threaded, one, `${name}, ${c.name}: threads and the reference agree (${one.ok ? 'sound' : `record ${one.firstBad?.seq}: ${one.firstBad?.problems.join(' | ')}`})`)
      t.same(await verifyLog(store, { trust }, { threads: 1 }), one, `${name}, ${c.name}: one thread, rows checked the fast way, agrees`)
      const ahead = VerifyWorkers.start(2)
      try {
        t.same(await verifyLog(store, { trust }, { workers: ahead, parallelFrom: 0, pageSize: 5 }), one, `${name}, ${c.name}: two threads started ahead, claiming small chunks, agree`)
      } finally {
        await ahead.close()
      }
      t.equal(one.ok, c.sql.length === 0, `${name}, ${c.name}: ${c.sql.length === 0 ? 'sound' : 'detected'}`)
      if (one.ok) {
        t.equal(one.records, 60)
        t.equal(progressed, 60, 'progress counts every record once')
      }
    } finally {
      await store.close()
    }
  }
}

t.test('embedded log: ranges in worker threads give the one-thread verdict', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'ura-log-verify-'))
  let n = 0
  await suite(t, 'embedded', () => SqliteLogStore.open(join(dir, `log-${n++}.sqlite`)))
  await suite(t, 'embedded, format 1', () => SqliteLogStore.open(join(dir, `log-${n++}.sqlite`), { format: 1 }), 1)
  // A pruned log: the ranges start after the anchor.
  const store = await SqliteLogStore.open(join(dir, 'pruned.sqlite'))
  t.teardown(() => store.close())
  await fill(store)
  const records = await store.scan(0, 60)
  await store.exec("UPDATE ura_log_records SET time = '2020-01-01T00:00:00.000Z' WHERE seq <= 13")
  // Pruned up to the start of record 13's batch at most (a batch goes whole or stays whole).
  const pruned = await store.prune(new Date('2021-01-01'))
  const batchOf13 = records.filter(r => r.signatureId === records[12].signatureId).map(r => r.seq)
  t.equal(pruned, batchOf13.at(-1)! > 13 ? batchOf13[0] - 1 : 13, `pruned up to record ${pruned}; record 13's batch is records ${batchOf13[0]}–${batchOf13.at(-1)}`)
  for (const r of records.slice(pruned, 13)) await store.exec('UPDATE ura_log_records SET time = $1 WHERE seq = $2', r.time, r.seq)
  t.same(await verifyLog(store, { trust }, { threads: 2, parallelFrom: 0 }), { ok: true, records: 60 - pruned, signatures: (await verifyStore(store, { trust })).signatures })
  await store.exec('DELETE FROM ura_log_records WHERE seq = $1', pruned + 1)
  t.same(await verifyLog(store, { trust }, { threads: 2, parallelFrom: 0 }), await verifyStore(store, { trust }))
})

t.test('PostgreSQL log: ranges in worker threads give the one-thread verdict', async t => {
  const urls: string[] = []
  for (let i = 0; i < tampers.length; i++) urls.push((await scratchDatabase(t, `ura_test_log_verify_${i}`)).url)
  let n = 0
  await suite(t, 'postgres', () => PgLogStore.open(urls[n++]))
})

t.test('rows checked the fast way: every tampering reported as the reference reports it, for that record', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'ura-log-verify-rows-'))
  // The fast path through stored proofs: format 1 (format 2 has its own test below).
  const store = await SqliteLogStore.open(join(dir, 'rows.sqlite'), { format: 1 })
  t.teardown(() => store.close())
  // 12 exchanges at a time: batches of 12 requests and 12 responses, proofs of up to 4 steps.
  const recorder = new SigningRecorder(store, keys)
  for (let i = 0; i < 48; i += 12) {
    await Promise.all(Array.from({ length: 12 }, (_, j) => logExchange(recorder, { client: CLIENT, service: SERVICE, at: new Date(Date.now() - (96 - i - j) * 1000), keepBody: (i + j) % 3 === 0 })))
  }
  const col = (f: string): number => RECORD_COLUMNS.findIndex(c => c[0] === f)
  const rows = await store.scanRows(0, 1000)
  const cache = new SignatureCache({ trust })
  const headers = new Map<string, Awaited<ReturnType<typeof cache.check>>>()
  for (const r of rows) {
    const id = r[col('signatureId')] as string
    if (!headers.has(id)) headers.set(id, cache.check(await store.signature(id), id))
  }
  const headerOf = (r: unknown[]) => headers.get(r[col('signatureId')] as string)!
  const reference = (r: unknown[]): string[] => recordProblems(arrayRecord(r), headerOf(r))
  const linkOf = (r: unknown[]) => ({ prevHash: r[col('prevHash')] as string, rootChecked: false })

  const sound = new RowChecker()
  for (const r of rows) t.same(sound.problems(new LogRow(r), headerOf(r), linkOf(r)), [], `record ${String(r[0])} sound`)
  const steps = rows.reduce((n, r) => n + (JSON.parse(r[col('proof')] as string) as unknown[]).length, 0)
  t.equal(sound.stats.slow, 0, 'a sound log: every record the fast way')
  t.ok(sound.stats.nodes < steps / 2, `each batch's tree hashed about once (${sound.stats.nodes} inner nodes hashed for ${steps} proof steps)`)

  // Records with a proof of 3 steps or more that are not the first of their batch: their upper steps are shared with records before them.
  const targets = rows.filter((r, i) => (r[col('proof')] as string).length >= 292 && rows.slice(0, i).some(o => o[col('signatureId')] === r[col('signatureId')]))
  t.ok(targets.length >= 4, `${targets.length} records to tamper with`)
  const flip = (c: string): string => c === 'A' ? 'B' : 'A'
  const proofOf = (r: unknown[]): Array<[string, string]> => JSON.parse(r[col('proof')] as string) as Array<[string, string]>
  const withProof = (r: unknown[], proof: string): unknown[] => r.map((v, i) => i === col('proof') ? proof : v)
  const mutations: Array<{ name: string; detected: boolean; change (r: unknown[]): unknown[] }> = [
    ...[0, 1, 2].map(j => ({ name: `step ${j}'s sibling altered`, detected: true, change: (r: unknown[]) => withProof(r, JSON.stringify(proofOf(r).map((s, k) => k === j ? [s[0], flip(s[1][0]) + s[1].slice(1)] : s))) })),
    ...[0, 2].map(j => ({ name: `step ${j}'s side turned round`, detected: true, change: (r: unknown[]) => withProof(r, JSON.stringify(proofOf(r).map((s, k) => k === j ? [s[0] === 'L' ? 'R' : 'L', s[1]] : s))) })),
    { name: 'the top step dropped', detected: true, change: r => withProof(r, JSON.stringify(proofOf(r).slice(0, -1))) },
    { name: 'no proof at all', detected: true, change: r => withProof(r, '[]') },
    {
      name: 'a sibling in base64 that is not canonical (the same bytes)',
      detected: true,
      change: r => withProof(r, JSON.stringify(proofOf(r).map((s, k) => k === 1 ? [s[0], s[1].slice(0, 85) + String.fromCharCode(s[1].charCodeAt(85) + 1) + '=='] : s))),
    },
    { name: 'the proof re-spaced (the same proof once parsed)', detected: false, change: r => withProof(r, JSON.stringify(proofOf(r), null, 1)) },
    {
      name: 'the top step altered and the chain hash recomputed',
      detected: true,
      change: r => {
        const proof = proofOf(r).map((s, k, all) => k === all.length - 1 ? [s[0], flip(s[1][0]) + s[1].slice(1)] as [string, string] : s)
        const x = arrayRecord(r)
        return r.map((v, i) => i === col('proof') ? JSON.stringify(proof) : i === col('hash') ? chainHash(x.seq, x.prevHash, recordLeaf(x), x.signatureId, proof as ProofStep[]) : v)
      },
    },
    { name: 'the status as text (the same number)', detected: false, change: r => r.map((v, i) => i === col('status') && v !== null ? String(v) : v) },
    { name: 'the path altered', detected: true, change: r => r.map((v, i) => i === col('path') ? '/x' : v) },
    { name: 'the previous hash with a quote', detected: true, change: r => r.map((v, i) => i === col('prevHash') ? `"${String(v)}` : v) },
    { name: 'the signer altered', detected: true, change: r => r.map((v, i) => i === col('signer') ? 'AL-DEV/GOV/L01417001D' : v) },
    { name: 'a body where none was kept', detected: true, change: r => r.map((v, i) => i === col('body') ? Buffer.from('{}') : v) },
  ]
  for (const m of mutations) {
    const mismatches: string[] = []
    let detected = 0
    for (const target of targets) {
      const bad = m.change(target)
      const expected = reference(bad)
      if (expected.length > 0) detected++
      // Checked after the batch's sound records (all it remembers of the batch), and before them.
      const after = new RowChecker()
      for (const r of rows) if (r !== target) after.problems(new LogRow(r), headerOf(r), linkOf(r))
      const before = new RowChecker()
      const got = [after.problems(new LogRow(bad), headerOf(bad), linkOf(bad)), before.problems(new LogRow(bad), headerOf(bad), linkOf(bad))]
      for (const r of rows) if (r !== target && before.problems(new LogRow(r), headerOf(r), linkOf(r)).length > 0) mismatches.push(`record ${String(r[0])} no longer sound after the tampered one`)
      for (const g of got) if (JSON.stringify(g) !== JSON.stringify(expected)) mismatches.push(`record ${String(target[0])}: ${g.join(' | ')} ≠ ${expected.join(' | ')}`)
    }
    t.same(mismatches, [], `${m.name}: the reference's problems, for that record`)
    t.equal(detected, m.detected ? targets.length : 0, `${m.name}: ${m.detected ? 'detected' : 'sound'} for the reference too`)
  }
})


t.test('format 2 rows checked the fast way: every tampering reported as the reference reports it', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'ura-log-verify-lean-'))
  const store = await SqliteLogStore.open(join(dir, 'rows.sqlite'))
  t.teardown(() => store.close())
  await fill(store)
  const col = (f: string): number => RECORD_COLUMNS.findIndex(c => c[0] === f)
  const rows = await store.scanRows(0, 1000)
  t.ok(rows.every(r => r[col('proof')] === '' && r[col('prevHash')] === ''), 'neither proofs nor previous hashes stored')
  const cache = new SignatureCache({ trust })
  const headerOf = async (r: unknown[]) => cache.check(await store.signature(r[col('signatureId')] as string), r[col('signatureId')] as string)
  // What a walk gives each record: the hash of the one before, and its batch's root checked already.
  const linkOf = (r: unknown[]) => ({ prevHash: Number(r[0]) === 1 ? GENESIS_HASH : rows[Number(r[0]) - 2][col('hash')] as string, rootChecked: true })
  const checker = new RowChecker()
  for (const r of rows) t.same(checker.problems(new LogRow(r), await headerOf(r), linkOf(r)), [], `record ${String(r[0])} sound`)
  t.equal(checker.stats.slow, 0, 'a sound log: every record the fast way')
  const mutations: Array<{ name: string; detected: boolean; change (r: unknown[]): unknown[]; link? (r: unknown[]): { prevHash: string; rootChecked: boolean } }> = [
    { name: 'the path altered', detected: true, change: r => r.map((v, i) => i === col('path') ? '/x' : v) },
    { name: 'the status as text (the same number)', detected: false, change: r => r.map((v, i) => i === col('status') && v !== null ? String(v) : v) },
    { name: 'the signer altered', detected: true, change: r => r.map((v, i) => i === col('signer') ? 'AL-DEV/GOV/L01417001D' : v) },
    { name: 'a body where none was kept', detected: true, change: r => r.map((v, i) => i === col('body') ? Buffer.from('{}') : v) },
    { name: 'the chain hash altered', detected: true, change: r => r.map((v, i) => i === col('hash') ? `${String(v).startsWith('A') ? 'B' : 'A'}${String(v).slice(1)}` : v) },
    { name: 'the signature id altered', detected: true, change: r => r.map((v, i) => i === col('signatureId') ? `${String(v)}x` : v) },
    { name: 'following another record', detected: true, change: r => r, link: () => ({ prevHash: rows[0][col('hash')] as string, rootChecked: true }) },
    { name: 'following a hash that is not one', detected: true, change: r => r, link: () => ({ prevHash: 'not base64!', rootChecked: true }) },
  ]
  for (const m of mutations) {
    const mismatches: string[] = []
    let detected = 0
    for (const target of rows.slice(2)) {
      const bad = m.change(target)
      const header = await headerOf(target)
      const link = m.link?.(target) ?? linkOf(target)
      const expected = recordProblems(arrayRecord(bad), header, link)
      if (expected.length > 0) detected++
      const got = new RowChecker().problems(new LogRow(bad), header, link)
      if (JSON.stringify(got) !== JSON.stringify(expected)) mismatches.push(`record ${String(target[0])}: ${got.join(' | ')} ≠ ${expected.join(' | ')}`)
    }
    t.same(mismatches, [], `${m.name}: the reference's problems`)
    t.equal(detected, m.detected ? rows.length - 2 : 0, `${m.name}: ${m.detected ? 'detected' : 'sound'}`)
  }
})

t.test('ura log verify: progress off a terminal, none with --quiet', async t => {
  const scratch = await mkdtemp(join(tmpdir(), 'ura-log-verify-cli-'))
  const config = scratchConfig(scratch)
  writeFileSync(join(scratch, 'ca.pem'), keys.ca.pem)
  const store = await SqliteLogStore.open(join(scratch, 'data', 'message-log.sqlite'))
  await fill(store)
  await store.close()
  const shown = await uraProcess('log', 'verify', '--config', config, '--ca', join(scratch, 'ca.pem'))
  t.equal(shown.code, 0, shown.stderr)
  t.equal(shown.stdout, 'message log (embedded) verified: 60 records, ' + shown.stdout.split(', ')[1] + ', hash chain intact\n', 'stdout holds the verdict alone')
  t.match(shown.stderr, /^checked 60 records in \d+\.\d\d s \([\d,]+ records\/s\)$/m, 'a closing line with the rate on stderr')
  t.notMatch(shown.stderr, /\r/, 'no terminal control off a terminal')
  const quiet = await uraProcess('log', 'verify', '--config', config, '--ca', join(scratch, 'ca.pem'), '--quiet')
  t.equal(quiet.code, 0)
  t.equal(quiet.stdout, shown.stdout)
  t.equal(quiet.stderr, '', '--quiet: nothing but the verdict')
})
