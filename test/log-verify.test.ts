/**
 * `ura log verify` on long logs: the log cut into ranges verified in worker threads gives exactly the
 * verdict of the one-thread walk (tampering at and across range boundaries included), on both
 * stores; progress counts every record; the command prints progress lines off a terminal and none
 * with `--quiet`.
 */
import { execFile } from 'node:child_process'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t, { type Test } from 'tap'
import { BatchSigner } from '../certs/batch-signer.ts'
import { anchorsOnly } from '../certs/verifier.ts'
import { DEMO_CONFIG_DIR } from '../config/defaults.ts'
import { PgLogStore } from '../messagelog/pg-store.ts'
import { SigningRecorder } from '../messagelog/recorder.ts'
import { SqliteLogStore } from '../messagelog/sqlite-store.ts'
import type { LogStore } from '../messagelog/store.ts'
import { verifyLog } from '../messagelog/verify-log.ts'
import { verifyStore } from '../messagelog/verify.ts'
import { logExchange } from './support/message-log.ts'
import { scratchDatabase } from './support/postgres.ts'
import { testSigningKeys } from './support/signing.ts'

const URA = resolve(import.meta.dirname, '../cli/main.ts')
const CLIENT = 'AL-DEV/GOV/K11503002N/e-albania'
const SERVICE = 'AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet'
const keys = testSigningKeys({ 'AL-DEV/GOV/K11503002N': 'ec-p256', 'AL-DEV/NJQV/L21603004L': 'ec-p256' })
const trust = anchorsOnly([keys.ca.pem])

type Store = LogStore & { exec (sql: string, ...params: unknown[]): Promise<void> }

/** 30 exchanges, 60 records, 5 at a time so batches hold several records. */
async function fill (store: LogStore): Promise<void> {
  const recorder = new SigningRecorder(store, keys)
  for (let i = 0; i < 30; i += 5) {
    await Promise.all(Array.from({ length: 5 }, (_, j) => logExchange(recorder, { client: CLIENT, service: SERVICE, at: new Date(Date.now() - (60 - i - j) * 1000), keepBody: (i + j) % 3 === 0 })))
  }
}

/** Tampering, each on a fresh log of 60 records; with 3 ranges of 20, records 21 and 41 start a range. */
const tampers: Array<{ name: string; sql: string[] }> = [
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
]

async function suite (t: Test, name: string, fresh: () => Promise<Store>): Promise<void> {
  for (const c of tampers) {
    const store = await fresh()
    try {
      await fill(store)
      for (const sql of c.sql) await store.exec(sql, ...(sql.includes('$1') ? [Buffer.from('{}')] : []))
      const one = await verifyStore(store, { trust })
      let progressed = 0
      const threaded = await verifyLog(store, { trust }, { threads: 3, parallelFrom: 0, pageSize: 7, onProgress: n => { progressed += n } })
      t.same(threaded, one, `${name}, ${c.name}: threads and one thread agree (${one.ok ? 'sound' : `record ${one.firstBad?.seq}: ${one.firstBad?.problems.join(' | ')}`})`)
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
  // A pruned log: the ranges start after the anchor.
  const store = await SqliteLogStore.open(join(dir, 'pruned.sqlite'))
  t.teardown(() => store.close())
  await fill(store)
  await store.exec("UPDATE ura_log_records SET time = '2020-01-01T00:00:00.000Z' WHERE seq <= 13")
  t.equal(await store.prune(new Date('2021-01-01')), 13)
  t.same(await verifyLog(store, { trust }, { threads: 2, parallelFrom: 0 }), { ok: true, records: 47, signatures: (await verifyStore(store, { trust })).signatures })
  await store.exec('DELETE FROM ura_log_records WHERE seq = 14')
  t.same(await verifyLog(store, { trust }, { threads: 2, parallelFrom: 0 }), await verifyStore(store, { trust }))
})

t.test('PostgreSQL log: ranges in worker threads give the one-thread verdict', async t => {
  const urls: string[] = []
  for (let i = 0; i < tampers.length; i++) urls.push((await scratchDatabase(t, `ura_test_log_verify_${i}`)).url)
  let n = 0
  await suite(t, 'postgres', () => PgLogStore.open(urls[n++]))
})

function ura (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(done => {
    execFile(process.execPath, [URA, ...args], { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
    })
  })
}

t.test('ura log verify: progress off a terminal, none with --quiet', async t => {
  const scratch = await mkdtemp(join(tmpdir(), 'ura-log-verify-cli-'))
  const config = join(scratch, 'config')
  cpSync(DEMO_CONFIG_DIR, config, { recursive: true })
  writeFileSync(join(config, 'node.yaml'), readFileSync(join(config, 'node.yaml'), 'utf8').replace(/dataDir: .*/, `dataDir: ${join(scratch, 'data')}`))
  writeFileSync(join(scratch, 'ca.pem'), keys.ca.pem)
  const store = await SqliteLogStore.open(join(scratch, 'data', 'message-log.sqlite'))
  await fill(store)
  await store.close()
  const shown = await ura('log', 'verify', '--config', config, '--ca', join(scratch, 'ca.pem'))
  t.equal(shown.code, 0, shown.stderr)
  t.equal(shown.stdout, 'message log (embedded) verified: 60 records, ' + shown.stdout.split(', ')[1] + ', hash chain intact\n', 'stdout holds the verdict alone')
  t.match(shown.stderr, /^checked 60 records in \d+\.\d\d s \([\d,]+ records\/s\)$/m, 'a closing line with the rate on stderr')
  t.notMatch(shown.stderr, /\r/, 'no terminal control off a terminal')
  const quiet = await ura('log', 'verify', '--config', config, '--ca', join(scratch, 'ca.pem'), '--quiet')
  t.equal(quiet.code, 0)
  t.equal(quiet.stdout, shown.stdout)
  t.equal(quiet.stderr, '', '--quiet: nothing but the verdict')
})
