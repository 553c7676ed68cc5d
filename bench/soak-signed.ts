/**
 * `npm run soak:signed`: the soak of issue 14 — an hour at 70 % of capacity on the signed, durably
 * logged exchange, with no errors, RSS growth under 10 %, and `ura log verify` passing afterwards.
 *
 *   npm run soak:signed -- [--minutes 60] [--load 0.7] [--capacity-seconds 15] [--connections 50]
 *                          [--soak-connections 64] [--sample-seconds 10] [--node-options=<flags>] [--keep]
 *                          [--signing immediate|deferred]
 *
 * 1. A provider and an ura node, each in its own process (bench/servers.ts), the node on a scratch
 *    data directory with a fresh PKI and the embedded (SQLite) message log: the `rest-signed-ecdsa`
 *    scenario (REST POST of 1 KB JSON, validated both ways, request and response signed with ECDSA
 *    P-256 member keys and durably logged).
 * 2. Capacity: after a 3 s warm-up, a closed-loop run (wrk when installed, else autocannon) of
 *    --capacity-seconds on --connections connections gives the node's req/s.
 * 3. The soak: open loop at --load × capacity for --minutes on --soak-connections keep-alive
 *    connections (bench/load.ts openLoop; latency counts from when a request was due). Every answer
 *    that is not 2xx, every failed connection and every request unanswered 30 s after the last was
 *    sent is an error. The node's RSS and CPU are read from /proc every --sample-seconds (default
 *    10 s, less on runs shorter than 5 minutes: at least 30 samples); p50/p99 per minute.
 * 4. RSS growth: the mean RSS of the last window against the mean RSS of the window after warm-up.
 *    On the hour: minutes 2–3 (after 1 minute of warm-up) against the last 2 minutes; shorter runs
 *    scale both (warm-up run/6, windows run/3).
 * 5. The node is stopped with SIGTERM (in-flight exchanges finish, the log writes what it holds and
 *    closes), then `ura log verify` checks its log as a user would run it.
 * 6. A summary with PASS/FAIL per goal; the figures go to bench/results/soak-signed-<time>.json.
 *    Exit code 0 when every goal passes.
 *
 * The scratch directories are removed at the end, unless --keep or the verification failed.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { writeBenchConfig } from './fixtures.ts'
import { hasWrk, openLoop, runLoad, type LoadResult } from './load.ts'
import { runLogVerify, type LogVerifyRun } from './log-verify.ts'
import { makeBenchPki } from './pki.ts'
import { cpuSeconds, describeNodeOptions, gatewayNodeOptions, metricSamples, rssParts, startRole, type Proc } from './procs.ts'
import { scenarios } from './scenarios.ts'

const USAGE = `usage: npm run soak:signed -- [--minutes 60] [--load 0.7] [--capacity-seconds 15] [--connections 50]
                              [--soak-connections 64] [--sample-seconds 10] [--node-options=<flags>] [--keep] [--signing immediate|deferred]
  --signing           the message log's node.log.signing (default immediate; deferred: batches signed within 200 ms)
  --minutes           length of the soak (default 60; fractions allowed, e.g. 0.5)
  --load              fraction of the measured capacity to run at, above 0 and at most 1 (default 0.7)
  --capacity-seconds  length of the closed-loop capacity run (default 15)
  --connections       connections of the capacity run (default 50)
  --soak-connections  keep-alive connections of the open-loop soak (default 64)
  --sample-seconds    RSS sampling interval (default 10, shorter on runs under 5 minutes)
  --node-options      Node options for the node's process instead of those the ura launcher gives (bin/ura.js),
                      written with =, e.g. --node-options=--max-semi-space-size=32; --node-options= for none
  --keep              keep the node's scratch configuration and data directories`

function usageError (message: string): never {
  console.error(`soak:signed: ${message}\n${USAGE}`)
  process.exit(2)
}

let values: Record<string, string | boolean | undefined>
try {
  values = parseArgs({
    options: {
      minutes: { type: 'string', default: '60' },
      load: { type: 'string', default: '0.7' },
      'capacity-seconds': { type: 'string', default: '15' },
      connections: { type: 'string', default: '50' },
      'soak-connections': { type: 'string', default: '64' },
      'sample-seconds': { type: 'string' },
      'node-options': { type: 'string' },
      keep: { type: 'boolean', default: false },
      signing: { type: 'string', default: 'immediate' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values
} catch (err) {
  usageError((err as Error).message)
}
if (values.help === true) { console.log(USAGE); process.exit(0) }

/** A number option within (min, max]; `whole` for counts. */
function numberOption (name: string, min: number, max: number, whole = false): number {
  const text = values[name] as string
  const n = Number(text)
  if (text.trim() === '' || !Number.isFinite(n) || n <= min || n > max || (whole && !Number.isInteger(n))) {
    usageError(`--${name} must be ${whole ? 'a whole number' : 'a number'} above ${min} and at most ${max}, not "${text}"`)
  }
  return n
}
const minutes = numberOption('minutes', 0, 24 * 60)
const load = numberOption('load', 0, 1)
const capacitySeconds = numberOption('capacity-seconds', 0, 600, true)
const connections = numberOption('connections', 0, 10_000, true)
const soakConnections = numberOption('soak-connections', 0, 10_000, true)
const soakSeconds = minutes * 60
const sampleSeconds = values['sample-seconds'] === undefined ? Math.min(10, soakSeconds / 30) : numberOption('sample-seconds', 0, soakSeconds)

let nodeOptions: string[] = []
try {
  nodeOptions = gatewayNodeOptions(values['node-options'] as string | undefined)
} catch (err) {
  usageError((err as Error).message)
}
const SCENARIO = scenarios.find(s => s.name === 'rest-signed-ecdsa')!
const RESULTS = resolve(import.meta.dirname, 'results')
const generator = hasWrk() ? 'wrk' : 'autocannon'
/** RSS windows: warm-up, then the baseline window after it; the end window is as long as the baseline one. */
const WARM_SECONDS = Math.min(60, soakSeconds / 6)
const WINDOW_SECONDS = Math.min(120, soakSeconds / 3)
const GOAL_RSS_GROWTH = 0.10

/** A sample's memory for the per-minute lines: RSS, then its parts. */
const memoryLine = (s: Sample): string => `RSS ${fmt(s.rssMb, 1)} MB (anon ${fmt(s.anonMb, 1)}, file ${fmt(s.fileMb, 1)}, shmem ${fmt(s.shmemMb, 1)}; heap ${fmt(s.heapUsedMb, 1)}/${fmt(s.heapTotalMb, 1)}, external ${fmt(s.externalMb, 1)}, log writer heap ${fmt(s.writerUsedMb, 1)}/${fmt(s.writerTotalMb, 1)})`
const fmt = (n: number, digits = 0): string => Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–'
const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
const mean = (xs: number[]): number => xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length
function quantile (sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

interface Minute { requests: number; errors: number; latencies: number[] }
/**
 * One reading of the node: RSS and its parts (from /proc); from its /metrics the main thread's V8
 * heap and external memory, and the log writer thread's heap.
 */
interface Sample { t: number; rssMb: number; cpuSec: number; anonMb: number; fileMb: number; shmemMb: number; heapTotalMb: number; heapUsedMb: number; externalMb: number; writerTotalMb: number; writerUsedMb: number }

type HeapReading = Pick<Sample, 'heapTotalMb' | 'heapUsedMb' | 'externalMb' | 'writerTotalMb' | 'writerUsedMb'>

/** The heaps (allocated, in use) and the main thread's external memory, in MB, from the node's /metrics. */
async function heapMb (url: string): Promise<HeapReading> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text()
    const mb = (name: string): number => (metricSamples(text, name)[0]?.value ?? NaN) / 1048576
    const writer = (kind: string): number => (metricSamples(text, 'ura_thread_heap_bytes').find(s => s.labels.thread === 'log-writer' && s.labels.kind === kind)?.value ?? NaN) / 1048576
    return { heapTotalMb: mb('nodejs_heap_size_total_bytes'), heapUsedMb: mb('nodejs_heap_size_used_bytes'), externalMb: mb('nodejs_external_memory_bytes'), writerTotalMb: writer('total'), writerUsedMb: writer('used') }
  } catch { return { heapTotalMb: NaN, heapUsedMb: NaN, externalMb: NaN, writerTotalMb: NaN, writerUsedMb: NaN } }
}

console.log(`machine load average ${loadavg().map(l => l.toFixed(1)).join(' ')}, ${cpus().length} CPUs, node ${process.version} (other work on the machine lowers the capacity measured)`)
console.log(`soak:signed: ${SCENARIO.name} (${SCENARIO.what})${values.signing === 'deferred' ? ', deferred signing (node.log.signing: deferred)' : ''}`)
console.log(`  capacity: ${capacitySeconds} s closed loop on ${connections} connections (${generator}); soak: ${fmt(minutes, minutes % 1 === 0 ? 0 : 2)} min open loop at ${load} × capacity on ${soakConnections} connections; RSS every ${fmt(sampleSeconds, 1)} s; ${describeNodeOptions(nodeOptions)}`)

const provider = await startRole(['provider'])
const dataDir = await mkdtemp(join(tmpdir(), 'ura-soak-data-'))
const configDir = await writeBenchConfig(provider.url, { requestBytes: 10 * 1024 * 1024, responseBytes: 10 * 1024 * 1024, dataDir, deferredSigning: values.signing === 'deferred' })
await makeBenchPki(configDir, dataDir, SCENARIO)
let node: Proc | undefined
let keep = values.keep === true
try {
  node = await startRole(['ura', configDir, dataDir, 'plain', 'log'], nodeOptions)
  const pid = node.child.pid!
  let died: string | undefined
  node.child.once('exit', (code, signal) => { died = `exited (${signal ?? code})` })

  // 2. Capacity.
  await runLoad(node.url, SCENARIO.ura, connections, 3, generator)
  const capacity: LoadResult = await runLoad(node.url, SCENARIO.ura, connections, capacitySeconds, generator)
  const capacityErrors = capacity.errors + capacity.non2xx
  const rate = Math.round(load * capacity.rps)
  console.log(`capacity: ${fmt(capacity.rps)} req/s (p50 ${fmt(capacity.p50Ms, 1)} ms, p99 ${fmt(capacity.p99Ms, 1)} ms${capacityErrors === 0 ? '' : `, ${capacityErrors} ERRORS`}) → soak at ${fmt(rate)} req/s`)
  if (rate < 1) throw new Error(`${load} × ${fmt(capacity.rps, 1)} req/s is less than one request per second`)
  // Let the log's writer catch up and the machine settle before the open loop starts.
  await sleep(2000)

  // 3. The soak.
  const perMinute: Minute[] = []
  const samples: Sample[] = []
  const cpuAtStart = await cpuSeconds(pid)
  // The soak's clock: from when its first request is due (openLoop opens its connections first).
  let t0 = performance.now()
  const sample = async (): Promise<void> => {
    const t = Math.max(0, (performance.now() - t0) / 1000)
    const [parts, heap, cpu] = await Promise.all([rssParts(pid), heapMb(node!.url), cpuSeconds(pid)])
    samples.push({ t, cpuSec: cpu - cpuAtStart, ...parts, ...heap })
  }
  await sample()
  let shown = 0
  const showMinute = (i: number): void => {
    const m = perMinute[i] ?? { requests: 0, errors: 0, latencies: [] }
    const sorted = [...m.latencies].sort((a, b) => a - b)
    console.log(`  minute ${String(i + 1).padStart(2)}: ${fmt(m.requests)} requests, ${m.errors} errors, p50 ${fmt(quantile(sorted, 0.5), 2)} ms, p99 ${fmt(quantile(sorted, 0.99), 2)} ms, ${memoryLine(samples.at(-1)!)}`)
  }
  const sampler = setInterval(() => {
    void sample().then(() => {
      // One progress line per finished minute (answers still in flight are added to it later).
      const done = Math.floor((performance.now() - t0) / 60_000)
      while (shown < done && shown < Math.ceil(minutes)) showMinute(shown++)
    })
  }, sampleSeconds * 1000)
  const soak = await openLoop(node.url, SCENARIO.ura, {
    rate,
    seconds: soakSeconds,
    connections: soakConnections,
    onStart: start => { t0 = start },
    onResult: (dueAt, ms, status) => {
      const i = Math.max(0, Math.floor((dueAt - t0) / 60_000))
      const m = perMinute[i] ??= { requests: 0, errors: 0, latencies: [] }
      m.requests++
      if (status >= 200 && status < 300) m.latencies.push(ms)
      else m.errors++
    },
  })
  clearInterval(sampler)
  await sample()
  while (shown < perMinute.length) showMinute(shown++)
  const soakWall = (performance.now() - t0) / 1000
  const non2xx = Object.entries(soak.statuses).filter(([s]) => !s.startsWith('2')).reduce((n, [, c]) => n + c, 0)
  const ok = soak.sent - non2xx - soak.transportErrors - soak.unanswered
  const errors = non2xx + soak.transportErrors + soak.unanswered + capacityErrors
  const all = perMinute.flatMap(m => m.latencies).sort((a, b) => a - b)
  const minutesOut = perMinute.map((m, i) => {
    const sorted = [...m.latencies].sort((a, b) => a - b)
    const inMinute = samples.filter(s => s.t >= i * 60 && s.t < (i + 1) * 60)
    return { minute: i + 1, requests: m.requests, errors: m.errors, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99), maxMs: sorted.at(-1) ?? NaN, rssMb: Math.max(...inMinute.map(s => s.rssMb)) }
  })

  // 4. RSS growth, and where it went: each part's change from the baseline window to the end one.
  const baseWindow = samples.filter(s => s.t >= WARM_SECONDS && s.t < WARM_SECONDS + WINDOW_SECONDS)
  const endWindow = samples.filter(s => s.t > soakSeconds - WINDOW_SECONDS)
  const rssStart = mean(baseWindow.map(s => s.rssMb))
  const rssEnd = mean(endWindow.map(s => s.rssMb))
  const growth = (rssEnd - rssStart) / rssStart
  const nodeCpu = samples.at(-1)!.cpuSec
  const parts = (['anonMb', 'fileMb', 'shmemMb', 'heapTotalMb', 'heapUsedMb', 'externalMb', 'writerTotalMb', 'writerUsedMb'] as const).map(k => ({ part: k, startMb: mean(baseWindow.map(s => s[k])), endMb: mean(endWindow.map(s => s[k])) }))

  // 5. Stop the node cleanly, then verify its log with the `ura` command.
  const alive = died === undefined
  await node.stop()
  const exit = { code: node.child.exitCode, signal: node.child.signalCode }
  const cleanStop = alive && exit.code === 0
  node = undefined
  console.log(`node stopped: ${cleanStop ? 'cleanly (SIGTERM, exit 0)' : `NOT cleanly (${died ?? `exit ${exit.code ?? exit.signal}`})`}; running ura log verify…`)
  const verify: LogVerifyRun = await runLogVerify(configDir)
  if (!verify.ok) keep = true

  // 6. Summary.
  const goals = [
    { goal: 'no errors', value: `${errors} errors (soak: ${non2xx} non-2xx, ${soak.transportErrors} failed connections, ${soak.unanswered} unanswered; capacity run: ${capacityErrors})`, pass: errors === 0 },
    { goal: `RSS growth < ${GOAL_RSS_GROWTH * 100} %`, value: `${fmt(growth * 100, 1)} %`, pass: Number.isFinite(growth) && growth < GOAL_RSS_GROWTH },
    { goal: 'clean stop', value: cleanStop ? 'SIGTERM, exit 0' : (died ?? `exit ${exit.code ?? exit.signal}`), pass: cleanStop },
    { goal: 'ura log verify passes', value: verify.ok ? `${fmt(verify.records)} records` : `exit ${verify.exitCode}`, pass: verify.ok },
  ]
  const pass = goals.every(g => g.pass)
  const rssWindow = (from: number, to: number): string => `${fmt(from / 60, 1)}–${fmt(to / 60, 1)} min`
  console.log('')
  console.log(`summary (${SCENARIO.name}, ${fmt(minutes, minutes % 1 === 0 ? 0 : 2)} min at ${load} × capacity)`)
  console.log(`  capacity        ${fmt(capacity.rps)} req/s closed loop (${connections} connections, ${capacitySeconds} s, ${generator})`)
  console.log(`  soak            ${fmt(rate)} req/s open loop for ${fmt(soakWall, 0)} s: ${fmt(soak.sent)} requests, ${fmt(ok)} answered 2xx`)
  console.log(`  latency         p50 ${fmt(quantile(all, 0.5), 2)} ms, p99 ${fmt(quantile(all, 0.99), 2)} ms, max ${fmt(all.at(-1) ?? NaN, 1)} ms; per minute p99 ${fmt(Math.min(...minutesOut.map(m => m.p99Ms)), 2)}–${fmt(Math.max(...minutesOut.map(m => m.p99Ms)), 2)} ms`)
  console.log(`  node RSS        ${fmt(rssStart, 1)} MB (mean, ${rssWindow(WARM_SECONDS, WARM_SECONDS + WINDOW_SECONDS)}) → ${fmt(rssEnd, 1)} MB (mean, ${rssWindow(soakSeconds - WINDOW_SECONDS, soakSeconds)}): ${growth >= 0 ? '+' : ''}${fmt(growth * 100, 1)} %; peak ${fmt(Math.max(...samples.map(s => s.rssMb)), 1)} MB; ${samples.length} samples`)
  console.log(`  RSS parts       ${parts.map(p => `${p.part.replace(/Mb$/, '')} ${fmt(p.startMb, 1)} → ${fmt(p.endMb, 1)}`).join(', ')} MB (anon/file/shmem: RSS by kind; heap: the main thread's V8 heap; external: buffers outside it; writer: the log writer thread's heap)`)
  console.log(`  node CPU        ${fmt(nodeCpu, 1)} s over the soak (${fmt(100 * nodeCpu / soakWall)} % of one core, ${fmt(1e6 * nodeCpu / Math.max(1, soak.sent))} µs per request)`)
  console.log(`  ura log verify  ${verify.verdict.split('\n').join('\n                  ')}`)
  if (verify.checked !== '') console.log(`                  ${verify.checked}; whole command ${fmt(verify.wall, 2)} s${Number.isFinite(verify.cpu) ? `, CPU ${fmt(verify.cpu, 2)} s` : ''}`)
  console.log(`  records         ${fmt(verify.records)} in the log; the soak's 2xx exchanges alone make ${fmt(2 * ok)} (request + response each)`)
  for (const g of goals) console.log(`  ${g.pass ? 'PASS' : 'FAIL'}  ${g.goal.padEnd(22)} ${g.value}`)
  console.log(pass ? 'PASS' : 'FAIL')

  const when = new Date().toISOString()
  const out = {
    when,
    node: process.version,
    cpus: cpus().length,
    loadAverage: loadavg(),
    scenario: SCENARIO.name,
    options: { minutes, load, capacitySeconds, connections, soakConnections, sampleSeconds, nodeOptions },
    capacity,
    soak: {
      rate, seconds: Math.round(soakWall * 10) / 10, sent: soak.sent, ok, statuses: soak.statuses, transportErrors: soak.transportErrors, unanswered: soak.unanswered, errors,
      latencyMs: { p50: quantile(all, 0.5), p90: quantile(all, 0.9), p99: quantile(all, 0.99), max: all.at(-1) ?? NaN },
      minutes: minutesOut,
    },
    rss: {
      baseline: { fromS: WARM_SECONDS, toS: WARM_SECONDS + WINDOW_SECONDS, meanMb: rssStart, maxMb: Math.max(...baseWindow.map(s => s.rssMb)), samples: baseWindow.length },
      end: { fromS: soakSeconds - WINDOW_SECONDS, toS: soakSeconds, meanMb: rssEnd, maxMb: Math.max(...endWindow.map(s => s.rssMb)), samples: endWindow.length },
      growth,
      parts,
      samples: samples.map(s => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === 'cpuSec' ? v : Math.round(v * 10) / 10]))),
    },
    nodeCpuSeconds: nodeCpu,
    stop: { clean: cleanStop, ...exit, ...(died === undefined ? {} : { died }) },
    verify,
    goals,
    pass,
    ...(keep ? { kept: { configDir, dataDir } } : {}),
  }
  await mkdir(RESULTS, { recursive: true })
  const file = join(RESULTS, `soak-signed-${when.replace(/[:.]/g, '-')}.json`)
  await writeFile(file, JSON.stringify(out, null, 2))
  console.log(`results: ${file}`)
  if (keep) console.log(`kept: configuration ${configDir}, data ${dataDir} (ura log verify --config ${configDir})`)
  process.exitCode = pass ? 0 : 1
} finally {
  await node?.stop()
  await provider.stop()
  if (!keep) {
    await rm(dataDir, { recursive: true, force: true })
    await rm(configDir, { recursive: true, force: true })
  }
}
