/**
 * The cost of signing and logging per exchange (DESIGN §5 stages 5 and 8): the same REST exchange
 * through the full pipeline without a message log, then with the embedded and PostgreSQL logs and
 * ECDSA P-256 or RSA-2048 member keys. Prints req/s, latency and the ratio to the unlogged run.
 *
 * All nodes run side by side and are loaded in turn, round after round, so a busy machine slows
 * every scenario alike; the table gives the median of the rounds.
 *
 *   npm run bench:trust [-- --duration 5 --rounds 3 --connections 50 --pg]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import pg from 'pg'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    pg: { type: 'boolean', default: false },
    'batch-ms': { type: 'string', default: '0' },
  },
})
const NODE = resolve(import.meta.dirname, 'trust-node.ts')
const PATH = '/r1/AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet/subjekte/K81305012I/detyrime?viti=2026'
const PG_ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres'

interface Node { url: string; child: ChildProcess; lines: string[] }

async function startNode (args: string[]): Promise<Node> {
  const child = spawn(process.execPath, [NODE, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines: string[] = []
  const rl = createInterface({ input: child.stdout! })
  const url = await new Promise<string>((resolveUrl, reject) => {
    rl.on('line', line => {
      lines.push(line)
      if (line.startsWith('ready ')) resolveUrl(line.slice(6))
    })
    child.once('exit', code => reject(new Error(`node exited with ${code}`)))
  })
  return { url, child, lines }
}

async function stopNode (node: Node): Promise<{ stats?: string; cpuMicros: number }> {
  const exited = new Promise(r => node.child.once('exit', r))
  node.child.kill('SIGTERM')
  await exited
  const stats = node.lines.find(l => l.startsWith('stats '))?.slice(6)
  return { ...(stats === undefined ? {} : { stats }), cpuMicros: Number(node.lines.find(l => l.startsWith('cpu '))?.slice(4)) }
}

async function load (url: string, duration: number): Promise<autocannon.Result> {
  return autocannon({
    url: url + PATH,
    connections: Number(values.connections),
    duration,
    headers: { 'X-Road-Client': 'AL-DEV/GOV/K11503002N/e-albania' },
  })
}

interface Scenario { name: string; args: string[]; db?: string }
const scenarios: Scenario[] = [
  { name: 'no message log (baseline)', args: ['--log', 'none'] },
  { name: 'embedded log, ECDSA P-256', args: ['--log', 'embedded', '--keys', 'ec-p256'] },
  { name: 'embedded log, RSA-2048', args: ['--log', 'embedded', '--keys', 'rsa-2048'] },
]
if (values.pg) {
  scenarios.push({ name: 'PostgreSQL log, ECDSA P-256', args: ['--log', 'postgres', '--keys', 'ec-p256'], db: 'ura_bench_ec' })
  scenarios.push({ name: 'PostgreSQL log, RSA-2048', args: ['--log', 'postgres', '--keys', 'rsa-2048'], db: 'ura_bench_rsa' })
}

const duration = Number(values.duration)
const rounds = Number(values.rounds)
const nodes: Array<{ s: Scenario; node: Node; data: string; rps: number[]; p50: number[]; p99: number[]; errors: number; requests: number; cpuMicros?: number; stats?: string }> = []
for (const s of scenarios) {
  const data = await mkdtemp(join(tmpdir(), 'ura-bench-'))
  const args = [...s.args, '--data', data, '--batch-ms', values['batch-ms']]
  if (s.db !== undefined) {
    const admin = new pg.Client(PG_ADMIN)
    await admin.connect()
    await admin.query(`DROP DATABASE IF EXISTS ${s.db} WITH (FORCE)`)
    await admin.query(`CREATE DATABASE ${s.db}`)
    await admin.end()
    args.push('--pg-url', `postgres://postgres@127.0.0.1:5432/${s.db}`)
  }
  const node = await startNode(args)
  const warm = await load(node.url, 2) // warm-up: JIT, connection pools, first commits
  nodes.push({ s, node, data, rps: [], p50: [], p99: [], errors: 0, requests: warm.requests.total })
}
for (let round = 1; round <= rounds; round++) {
  for (const n of nodes) {
    const r = await load(n.node.url, duration)
    n.rps.push(r.requests.average)
    n.p50.push(r.latency.p50)
    n.p99.push(r.latency.p99)
    n.errors += r.errors + r.non2xx
    n.requests += r.requests.total
    console.error(`round ${round} ${n.s.name}: ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`)
  }
}
for (const n of nodes) {
  const stopped = await stopNode(n.node)
  if (stopped.stats !== undefined) n.stats = stopped.stats
  n.cpuMicros = stopped.cpuMicros
  await rm(n.data, { recursive: true, force: true })
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 }
const base = nodes[0].rps
console.log(`\n${values.connections} connections, ${rounds} rounds × ${duration} s per scenario, GET of the Tirana tax service (full pipeline, demo provider); medians\n`)
console.log('| scenario | req/s | ratio to baseline (per round) | p50 ms | p99 ms | node CPU µs per exchange | non-2xx/errors | records per signature / per commit |')
console.log('|---|---|---|---|---|---|---|---|')
const cpuPer = (n: typeof nodes[number]): number => (n.cpuMicros ?? 0) / n.requests
for (const n of nodes) {
  const ratio = median(n.rps.map((r, i) => r / base[i]))
  const st = n.stats === undefined ? '—' : (() => { const s = JSON.parse(n.stats) as { batches: number; signedRecords: number; commits: number; committedRecords: number }; return `${(s.signedRecords / s.batches).toFixed(1)} / ${(s.committedRecords / s.commits).toFixed(1)}` })()
  const cpu = cpuPer(n)
  const extra = n === nodes[0] ? '' : ` (+${Math.round(cpu - cpuPer(nodes[0]))})`
  console.log(`| ${n.s.name} | ${Math.round(median(n.rps))} | ${ratio.toFixed(2)} | ${median(n.p50)} | ${median(n.p99)} | ${Math.round(cpu)}${extra} | ${n.errors} | ${st} |`)
}
