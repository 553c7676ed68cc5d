/**
 * Crash test of the message log: load a node, SIGKILL it mid-load, restart it on the same data,
 * then check that (1) the whole log verifies (chain, proofs, signatures) and (2) every exchange whose
 * success response reached the client is in the log, request and response. Repeated `--runs` times.
 * With `--signing deferred` (embedded store) the killed node leaves batches unsigned: the run also
 * counts them, and checks that the restarted node signed them (nothing awaits its signature after).
 *
 *   npm run crash [-- --runs 20 --store embedded|postgres --connections 32 --keys ec-p256|rsa-2048 --signing immediate|deferred]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { Agent, request } from 'undici'
import { pkiPaths } from '../certs/keystore.ts'
import { anchorsOnly } from '../certs/verifier.ts'
import { PgLogStore } from '../messagelog/pg-store.ts'
import { SqliteLogReader, SqliteLogStore } from '../messagelog/sqlite-store.ts'
import type { LogStore } from '../messagelog/store.ts'
import { verifyStore } from '../messagelog/verify.ts'
import { freshDatabase } from './scratch-db.ts'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    store: { type: 'string', default: 'embedded' },
    connections: { type: 'string', default: '32' },
    keys: { type: 'string', default: 'ec-p256' },
    signing: { type: 'string', default: 'immediate' },
  },
})
const NODE = resolve(import.meta.dirname, 'trust-node.ts')
const PATH = '/r1/AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet/subjekte/K81305012I/detyrime?viti=2026'
const PG_DB = 'ura_crash_test'
const PG_URL = `postgres://postgres@127.0.0.1:5432/${PG_DB}`

async function startNode (data: string): Promise<{ url: string; child: ChildProcess }> {
  const args = [NODE, '--data', data, '--log', values.store!, '--keys', values.keys!, '--signing', values.signing!, ...(values.store === 'postgres' ? ['--pg-url', PG_URL] : [])]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] })
  const rl = createInterface({ input: child.stdout! })
  const url = await new Promise<string>((ok, fail) => {
    rl.on('line', line => { if (line.startsWith('ready ')) ok(line.slice(6)) })
    child.once('exit', code => { fail(new Error(`node exited with ${code} before it was ready`)) })
  })
  return { url, child }
}

function exited (child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise(r => child.once('exit', () => r()))
}

async function openStore (data: string): Promise<LogStore> {
  return values.store === 'postgres' ? PgLogStore.open(PG_URL) : SqliteLogStore.open(join(data, 'message-log.sqlite'))
}

const resetPg = (): Promise<void> => freshDatabase(PG_DB)

interface RunResult { acked: number; records: number; verified: boolean; missing: string[]; problem?: string; killedAfterMs: number; pendingAtKill: number; awaiting: number }

async function oneRun (run: number): Promise<RunResult> {
  const data = await mkdtemp(join(tmpdir(), 'ura-crash-'))
  if (values.store === 'postgres') await resetPg()
  try {
    const node = await startNode(data)
    const agent = new Agent({ connections: Number(values.connections) })
    const acked: string[] = []
    let stopped = false
    let n = 0
    const client = async (): Promise<void> => {
      while (!stopped) {
        const id = `crash-${run}-${n++}`
        try {
          const res = await request(node.url + PATH, { dispatcher: agent, headers: { 'X-Road-Client': 'AL-DEV/GOV/K11503002N/e-albania', 'X-Road-Id': id } })
          await res.body.text()
          if (res.statusCode === 200) acked.push(id)
        } catch {
          // The node is gone: connection reset or refused.
        }
      }
    }
    const clients = Array.from({ length: Number(values.connections) }, client)
    const killedAfterMs = 1000 + Math.floor(Math.random() * 2000)
    await new Promise(r => setTimeout(r, killedAfterMs))
    node.child.kill('SIGKILL')
    await exited(node.child)
    stopped = true
    await Promise.all(clients)
    await agent.close()

    // Deferred signing: the batches the killed node left unsigned, which the restarted node must sign.
    let pendingAtKill = 0
    if (values.store !== 'postgres') {
      const reader = SqliteLogReader.open(join(data, 'message-log.sqlite'))
      pendingAtKill = reader.pendingBatches().length
      await reader.close()
    }
    // Restart on the same data: the node must come up, and the chain continue.
    const again = await startNode(data)
    const after = await request(again.url + PATH, { headers: { 'X-Road-Client': 'AL-DEV/GOV/K11503002N/e-albania', 'X-Road-Id': `crash-${run}-after-restart` } })
    await after.body.text()
    if (after.statusCode !== 200) throw new Error(`the restarted node answered ${after.statusCode}`)
    again.child.kill('SIGTERM')
    await exited(again.child)

    const store = await openStore(data)
    try {
      const verdict = await verifyStore(store, { trust: anchorsOnly([readFileSync(pkiPaths(data).caCert, 'utf8')]) })
      // Each message id's records, read in one pass over the log (an evidence read per id costs a batch read each).
      const held = new Map<string, string[]>()
      for (let after = 0; ;) {
        const page = await store.scan(after, 5000)
        if (page.length === 0) break
        for (const r of page) held.set(r.messageId, [...(held.get(r.messageId) ?? []), r.direction])
        after = page[page.length - 1].seq
      }
      const missing: string[] = []
      for (const id of [...acked, `crash-${run}-after-restart`]) {
        const directions = (held.get(id) ?? []).sort().join(',')
        if (directions !== 'request,response') missing.push(`${id} (${directions === '' ? 'no records' : directions})`)
      }
      return {
        acked: acked.length,
        records: verdict.records,
        verified: verdict.ok,
        missing,
        killedAfterMs,
        pendingAtKill,
        awaiting: verdict.awaiting ?? 0,
        ...(verdict.firstBad === undefined ? {} : { problem: `record ${verdict.firstBad.seq}: ${verdict.firstBad.problems.join('; ')}` }),
      }
    } finally {
      await store.close()
    }
  } finally {
    await rm(data, { recursive: true, force: true })
  }
}

const runs = Number(values.runs)
let passed = 0
console.log(`crash test: ${runs} runs, ${values.store} store, ${values.keys} keys, ${values.signing} signing, ${values.connections} concurrent clients, SIGKILL after 1–3 s of load`)
for (let run = 1; run <= runs; run++) {
  const r = await oneRun(run)
  const ok = r.verified && r.missing.length === 0 && r.awaiting === 0
  if (ok) passed++
  console.log(`run ${String(run).padStart(2)}: killed after ${r.killedAfterMs} ms — ${r.acked} acknowledged exchanges, ${r.records} records in the log, ` +
    `${values.signing === 'deferred' ? `${r.pendingAtKill} batches unsigned at the kill, ${r.awaiting === 0 ? 'all signed after the restart' : `${r.awaiting} records STILL AWAIT their signature`}, ` : ''}` +
    `log ${r.verified ? 'verifies' : `FAILS (${r.problem})`}, ${r.missing.length === 0 ? 'every acknowledged exchange logged' : `MISSING: ${r.missing.slice(0, 5).join(', ')}`} — ${ok ? 'PASS' : 'FAIL'}`)
}
console.log(`${passed}/${runs} runs passed`)
process.exitCode = passed === runs ? 0 : 1
