/**
 * How fast `ura log verify` checks a message log: writes N records through the real recorder (batch
 * signed with the demo PKI's ECDSA member keys, appended by the store's group commit) into a scratch
 * data directory, then runs `ura log verify` on it as a user would and prints records/s — of the
 * verification (its closing progress line) and of the whole command, process start included — and
 * the CPU it used, per record too (the steadier figure when other work shares the machine), and the
 * median of the runs. Issue 14 asks for ≥ 100,000 records/s on 2 cores.
 *
 *   npm run bench:verify [-- --records 60000 --store embedded|postgres --concurrency 64 --runs 3 --dir <scratch> --signing immediate|deferred]
 *
 * `--dir` keeps the scratch directory (and reuses the log in it when it is already there).
 */
import { randomUUID } from 'node:crypto'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { initPki } from '../certs/dev-pki.ts'
import { Keystore } from '../certs/keystore.ts'
import { keystoreSigningKeys } from '../certs/keystore-signer.ts'
import { TrustStore } from '../certs/trust-store.ts'
import { DEMO_CONFIG_DIR } from '../config/defaults.ts'
import { loadConfig } from '../config/load.ts'
import { openMessageLog } from '../messagelog/index.ts'
import { sha512, type RecordContent } from '../messagelog/record.ts'
import { memberOf } from '../protocol/identifiers.ts'
import { freshDatabase } from './scratch-db.ts'
import { runLogVerify } from './log-verify.ts'

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '60000' },
    store: { type: 'string', default: 'embedded' },
    concurrency: { type: 'string', default: '64' },
    runs: { type: 'string', default: '3' },
    dir: { type: 'string' },
    // deferred: the log signs each key's batch within 200 ms (node.log.signing), so batches span commit groups.
    signing: { type: 'string', default: 'immediate' },
  },
})
const RECORDS = Number(values.records)
const PG_DB = 'ura_bench_verify'
const PG_URL = `postgres://postgres@127.0.0.1:5432/${PG_DB}`
const CLIENTS = ['AL-DEV/GOV/K11503002N/e-albania', 'AL-DEV/NJQV/L21603004L/gjendja-civile']
const SERVICES = ['AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet', 'AL-DEV/GOV/L01417001D/regjistri-civil/te-dhenat-personale']

const scratch = values.dir ?? mkdtempSync(join(tmpdir(), 'ura-verify-bench-'))
const configDir = join(scratch, 'config')
const dataDir = join(scratch, 'data')
const done = join(scratch, 'written')

/** The demo configuration in the scratch directory, its data dir and log store pointed at the scratch ones. */
function writeConfig (): void {
  cpSync(DEMO_CONFIG_DIR, configDir, { recursive: true })
  const log = values.store === 'postgres' ? `{ store: postgres, url: "${PG_URL}" }` : `{ store: embedded, signing: ${values.signing === 'deferred' ? 'deferred' : 'immediate'} }`
  const node = readFileSync(join(configDir, 'node.yaml'), 'utf8').replace(/dataDir: .*/, `dataDir: ${dataDir}\n  log: ${log}`)
  writeFileSync(join(configDir, 'node.yaml'), node)
}

const resetPg = (): Promise<void> => freshDatabase(PG_DB)

/** One record's content: requests and responses of a few clients and services, as the gateway logs them. */
function content (i: number): RecordContent {
  const request = i % 2 === 0
  const client = CLIENTS[(i >> 1) % CLIENTS.length]
  const service = SERVICES[(i >> 2) % SERVICES.length]
  const id = randomUUID()
  return {
    time: new Date(Date.now() - (RECORDS - i) * 10).toISOString(),
    direction: request ? 'request' : 'response',
    protocol: 'rest',
    messageId: id,
    requestId: id,
    client,
    service,
    userId: null,
    issue: null,
    representedParty: null,
    method: 'GET',
    path: '/subjekte/K81305012I/detyrime?viti=2026',
    status: request ? null : 200,
    fault: null,
    requestHash: sha512(`request ${id}`),
    headersDigest: sha512(`headers ${id}`),
    bodyDigest: sha512(`{"n":${i}}`),
    signer: memberOf(request ? client : service),
  }
}

async function writeLog (): Promise<void> {
  writeConfig()
  if (values.store === 'postgres') await resetPg()
  const config = await loadConfig(configDir)
  const keystore = new Keystore(dataDir, { passphrase: 'bench-passphrase' })
  initPki({ keystore, config, memberKeyType: 'ec-p256' })
  const log = await openMessageLog(config, keystoreSigningKeys(keystore, TrustStore.load(keystore.paths)))
  const started = Date.now()
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < RECORDS) {
      const i = next++
      // Every tenth record keeps its (small) body, as a service logging bodies in full would.
      await log.recorder.record(content(i), Buffer.from(`{"n":${i}}`), i % 10 === 0)
    }
  }
  await Promise.all(Array.from({ length: Number(values.concurrency) }, worker))
  await log.close()
  console.log(`wrote ${RECORDS} records (${values.store}) in ${((Date.now() - started) / 1000).toFixed(1)} s (the verdict below counts their batch signatures)`)
  if (values.store === 'embedded') {
    // The database file with its WAL and shared-memory index, as the node leaves them.
    const bytes = readdirSync(dataDir).filter(f => f.startsWith('message-log')).reduce((n, f) => n + statSync(join(dataDir, f)).size, 0)
    console.log(`log on disk: ${(bytes / 1e6).toFixed(1)} MB, ${Math.round(bytes / RECORDS)} bytes per record, ${Math.round(2 * bytes / RECORDS)} per exchange (request and response)`)
  }
  writeFileSync(done, String(RECORDS))
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

try {
  if (!existsSync(done)) await writeLog()
  else console.log(`reusing the log in ${scratch}`)
  const runs: Array<{ rate: number; whole: number; cpuPerRecord: number }> = []
  for (let run = 1; run <= Number(values.runs); run++) {
    const r = await runLogVerify(configDir)
    if (!r.ok) throw new Error(`ura log verify failed: ${r.verdict}`)
    runs.push({ rate: r.checkedRate, whole: RECORDS / r.wall, cpuPerRecord: r.cpu / RECORDS * 1e6 })
    console.log(`run ${run}: ${r.verdict}`)
    console.log(`  verification: ${r.checked}`)
    console.log(`  whole command: ${(RECORDS / r.wall).toFixed(0)} records/s (${r.wall.toFixed(2)} s wall, process start included), CPU ${r.cpu.toFixed(2)} s (${(r.cpu / r.wall * 100).toFixed(0)} % of one core)`)
    // CPU time is the steadier figure on a shared machine: what the command would do with the cores to itself.
    console.log(`  CPU per record: ${(r.cpu / RECORDS * 1e6).toFixed(1)} µs (all threads, process start included): ${(RECORDS / r.cpu * availableParallelism()).toFixed(0)} records/s on ${availableParallelism()} free cores`)
  }
  if (runs.length > 1) {
    const m = (f: (r: typeof runs[number]) => number): string => `${median(runs.map(f)).toFixed(0)} (${Math.min(...runs.map(f)).toFixed(0)}–${Math.max(...runs.map(f)).toFixed(0)})`
    console.log(`median of ${runs.length} runs (range): verification ${m(r => r.rate)} records/s, whole command ${m(r => r.whole)} records/s, CPU ${median(runs.map(r => r.cpuPerRecord)).toFixed(1)} µs per record`)
  }
} finally {
  if (values.dir === undefined) {
    rmSync(scratch, { recursive: true, force: true })
    if (values.store === 'postgres') {
      const admin = new pg.Client('postgres://postgres@127.0.0.1:5432/postgres')
      await admin.connect()
      await admin.query(`DROP DATABASE IF EXISTS ${PG_DB} WITH (FORCE)`)
      await admin.end()
    }
  }
}
