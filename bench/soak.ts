/**
 * `npm run soak`: 100,000 requests against an ura node whose provider fails in every way the fault
 * tests know (reset, hang, drip, 5xx, malformed, oversize, close mid-response, mixed with good
 * answers), REST and SOAP. Reports the node's open file descriptors and RSS before and after, the
 * latency distribution under faults and the outcome counts; writes bench/results/soak-<time>.json.
 *
 *   npm run soak -- [--requests 100000] [--concurrency 64] [--timeout-ms 300]
 *
 * The breaker is switched off so that every request meets a fault instead of failing fast.
 */
import { spawn } from 'node:child_process'
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { demoConfig } from '../test/support/gateway.ts'
import { PROVA_REST, PROVA_SOAP_VERSION, faultyServicesYaml, startFaultyProvider, type Fault } from '../test/support/faulty-provider.ts'
import { soapEnvelope } from '../test/support/http.ts'
import { LAUNCHER_NODE_OPTIONS } from './procs.ts'

const { values: opts } = parseArgs({
  options: {
    requests: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '64' },
    'timeout-ms': { type: 'string', default: '300' },
  },
})
const total = Number(opts.requests)
const concurrency = Number(opts.concurrency)
const timeoutMs = Number(opts['timeout-ms'])

// What the provider does, by weight: mostly fast failures, some slow ones, some good answers.
const MIX: Array<[Fault, number]> = [
  ['ok', 20], ['reset', 15], ['status500', 10], ['status503', 10], ['malformed', 15], ['oversize', 8], ['close-mid', 14], ['hang', 4], ['drip', 4],
]
const wheel: Fault[] = MIX.flatMap(([f, w]) => Array.from({ length: w }, () => f))

/** The node's open fds and RSS (from /proc) and its JS heap in use (from its own /metrics), after a full GC. */
async function procStats (pid: number, url: string): Promise<{ fds: number; rssMb: number; heapUsedMb: number }> {
  const collected = new Promise<void>(resolve => child.once('message', () => resolve()))
  child.send('gc')
  await collected
  const metrics = await (await fetch(`${url}/metrics`)).text()
  const heap = Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(metrics)?.[1] ?? NaN)
  const fds = (await readdir(`/proc/${pid}/fd`)).length
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return { fds, rssMb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024, heapUsedMb: heap / 1048576 }
}

const provider = await startFaultyProvider('ok')
let n = 0
provider.fault = () => wheel[n++ % wheel.length]
const config = await demoConfig(
  {
    'node.yaml': s => s.replace('    port: 8080', '    port: 0').replace('responseBytes: 10485760', 'responseBytes: 65536'),
  },
  { 'prova.yaml': faultyServicesYaml(provider.url, { timeoutMs, resilience: '{ breaker: { enabled: false }, retries: { backoffMs: 5, maxBackoffMs: 20 } }' }) },
)
const child = spawn(process.execPath, [...LAUNCHER_NODE_OPTIONS, '--expose-gc', resolve(import.meta.dirname, 'servers.ts'), 'ura', config.dir], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
const url = await new Promise<string>((resolve, reject) => {
  child.stdout!.on('data', d => { const m = /READY (\S+)/.exec(String(d)); if (m !== null) resolve(m[1]) })
  child.once('exit', code => reject(new Error(`ura exited (${code})`)))
})
const pid = child.pid!
let pool = new Pool(url, { connections: concurrency, pipelining: 1 })
const envelope = soapEnvelope({ version: PROVA_SOAP_VERSION })
const outcomes = new Map<string, number>()
const latencies: number[] = []

async function one (i: number): Promise<void> {
  const kind = i % 3
  const started = performance.now()
  try {
    const res = kind === 2
      ? await pool.request({ method: 'POST', path: '/', headers: { 'content-type': 'text/xml; charset=utf-8' }, body: envelope })
      : await pool.request({ method: kind === 0 ? 'GET' : 'POST', path: `/r1/${PROVA_REST}/data`, headers: { 'x-road-client': 'AL-DEV/GOV/K11503002N/e-albania', ...(kind === 1 ? { 'content-type': 'application/json' } : {}) }, ...(kind === 1 ? { body: '{}' } : {}) })
    const text = await res.body.text()
    const code = res.headers['x-road-error'] ?? /<faultcode>([^<]+)</.exec(text)?.[1] ?? `HTTP ${res.statusCode}`
    outcomes.set(String(code), (outcomes.get(String(code)) ?? 0) + 1)
  } catch (err) {
    outcomes.set(`client error ${(err as Error).message}`, (outcomes.get(`client error ${(err as Error).message}`) ?? 0) + 1)
  }
  latencies.push(performance.now() - started)
}

async function run (count: number, offset: number): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await one(offset + next++)
  }))
}

console.log(`soak: ${total.toLocaleString('en-US')} requests, ${concurrency} concurrent, service timeout ${timeoutMs} ms, provider faults ${MIX.map(([f, w]) => `${f} ${w}%`).join(', ')}`)
await run(2000, 0) // warm-up: pools, JIT, wasm heap
latencies.length = 0
outcomes.clear()
// Measured with no client connected, before and after alike.
await pool.close()
await new Promise(r => setTimeout(r, 3000))
const before = await procStats(pid, url)
pool = new Pool(url, { connections: concurrency, pipelining: 1 })
const started = performance.now()
let done: number
const progress = setInterval(() => { process.stdout.write(`\r  ${latencies.length.toLocaleString('en-US')} / ${total.toLocaleString('en-US')}`) }, 2000)
await run(total, 2000)
done = latencies.length
clearInterval(progress)
const seconds = (performance.now() - started) / 1000
await pool.close()
// Let keep-alive sockets and timers settle, as a node in production would between bursts.
await new Promise(r => setTimeout(r, 3000))
const after = await procStats(pid, url)
latencies.sort((a, b) => a - b)
const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]
const result = {
  when: new Date().toISOString(),
  requests: done,
  seconds: Math.round(seconds * 10) / 10,
  rps: Math.round(done / seconds),
  serviceTimeoutMs: timeoutMs,
  latencyMs: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: latencies.at(-1) },
  before,
  after,
  providerHits: provider.hits,
  outcomes: Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])),
}
console.log(`\r  ${done.toLocaleString('en-US')} requests in ${result.seconds} s (${result.rps} req/s)`)
console.log(`  latency under faults: p50 ${result.latencyMs.p50.toFixed(1)} ms, p90 ${result.latencyMs.p90.toFixed(1)} ms, p99 ${result.latencyMs.p99.toFixed(1)} ms, max ${result.latencyMs.max!.toFixed(1)} ms (service timeout ${timeoutMs} ms)`)
console.log(`  ura open fds: ${before.fds} before, ${after.fds} after; RSS ${before.rssMb.toFixed(1)} → ${after.rssMb.toFixed(1)} MB; JS heap in use ${before.heapUsedMb.toFixed(1)} → ${after.heapUsedMb.toFixed(1)} MB`)
console.log('  outcomes:')
for (const [code, count] of Object.entries(result.outcomes)) console.log(`    ${String(count).padStart(7)}  ${code}`)
const dir = resolve(import.meta.dirname, 'results')
await mkdir(dir, { recursive: true })
const file = join(dir, `soak-${result.when.replace(/[:.]/g, '-')}.json`)
await writeFile(file, JSON.stringify(result, null, 2))
console.log(`results: ${file}`)
child.kill('SIGTERM')
await provider.close()
