/**
 * `npm run bench`: a provider, the bare proxy (Fastify + undici, no checks: the physical limit of a
 * Node proxy on this machine), nginx `proxy_pass` where nginx is installed, and ura, each driven in
 * turn by the same load generator in the same run. Prints req/s, p50/p99 latency, peak RSS and the
 * ratio to the bare proxy per scenario, plus the latency ura adds at half of its maximum rate;
 * writes everything as JSON to bench/results/<time>.json (and to stdout with --json).
 *
 *   npm run bench -- [--duration 9] [--rounds 3] [--only rest-json-1k,soap-xsd-2k] [--no-nginx]
 *                    [--generator wrk|autocannon] [--profile] [--no-fanout] [--json]
 *                    [--node-options=<Node options for ura's process>]
 *
 * The last row is the pub/sub fan-out (bench/fanout.ts: 100 events/s for 10 s to 61 push
 * subscribers); it runs when --only is not given or names `fanout`, and not with --no-fanout.
 *
 * --profile runs ura under `node --cpu-prof` and leaves the profiles in bench/results/profiles/.
 * ura's process has the Node options the `ura` launcher gives a node (bin/ura.js, first line).
 * --node-options (written with =, e.g. --node-options=--max-semi-space-size=32) starts it with
 * others instead, and --node-options= with none (V8's own heap sizes), to compare a setting.
 */
import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Keystore } from '../certs/keystore.ts'
import { BENCH_PASSPHRASE, writeBenchConfig } from './fixtures.ts'
import { makeBenchPki } from './pki.ts'
import { deliveryJobs, describeNodeOptions, gatewayNodeOptions, rssMb, startProcess, startRole, threadCpuSeconds, withRss, type Proc } from './procs.ts'
import { hasWrk, probe, runLoad, type ClientTls, type LoadResult, type ProbeResult } from './load.ts'
import { scenarios, type Scenario } from './scenarios.ts'
import { describeFanout, runFanout, type FanoutResult } from './fanout.ts'

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '9' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
    'no-nginx': { type: 'boolean', default: false },
    'no-fanout': { type: 'boolean', default: false },
    generator: { type: 'string' },
    profile: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    'node-options': { type: 'string' },
  },
})
let uraNodeOptions: string[]
try {
  uraNodeOptions = gatewayNodeOptions(opts['node-options'])
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`)
  process.exit(2)
}
const duration = Number(opts.duration)
const rounds = Math.max(1, Number(opts.rounds))
const generator = (opts.generator ?? (hasWrk() ? 'wrk' : 'autocannon')) as 'wrk' | 'autocannon'
const RESULTS = resolve(import.meta.dirname, 'results')
const say = (line: string): void => { (opts.json ? process.stderr : process.stdout).write(line + '\n') }

const node = (args: string[], nodeFlags: string[] = []): Promise<Proc> => startRole(args, nodeFlags)

/** A port the kernel just handed out and released: free for the next moment. */
async function freePort (): Promise<number> {
  const { createServer } = await import('node:net')
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

/** nginx on TLS gets the ura node's key and certificate (an unencrypted copy in its own temp directory). */
async function startNginx (providerUrl: string, requestBytes: number, tlsDataDir?: string): Promise<Proc> {
  const dir = await mkdtemp(join(tmpdir(), 'ura-nginx-'))
  const port = await freePort()
  const upstream = new URL(providerUrl).host
  let ssl = ''
  if (tlsDataDir !== undefined) {
    const tls = new Keystore(tlsDataDir, { passphrase: BENCH_PASSPHRASE }).nodeTls()
    await writeFile(join(dir, 'node.key'), tls.key.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
    await writeFile(join(dir, 'node.pem'), tls.certChainPem)
    // Asks for a client certificate like ura and the bare proxy do, without checking it.
    ssl = ` ssl;
    ssl_certificate ${dir}/node.pem;
    ssl_certificate_key ${dir}/node.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_verify_client optional_no_ca`
  }
  // One process, like the Node servers it is compared with; buffering as the Node proxies do.
  const conf = `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  client_max_body_size ${requestBytes};
  client_body_buffer_size 64m;
  keepalive_requests 1000000;
  upstream provider { server ${upstream}; keepalive 64; }
  server {
    listen 127.0.0.1:${port}${ssl};
    location / {
      proxy_pass http://provider;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffers 64 64k;
    }
  }
}
`
  await writeFile(join(dir, 'nginx.conf'), conf)
  return startProcess('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], `${tlsDataDir === undefined ? 'http' : 'https'}://127.0.0.1:${port}`)
}

interface Row {
  scenario: string
  target: string
  load: LoadResult
  rounds: number[]
  /** The process's RSS once it was ready, before any load: code, compiled schemas, the heap it started with. */
  startRssMb: number
  /** Highest RSS sampled (every 200 ms) during the measured rounds; a process keeps most of it afterwards. */
  peakRssMb: number
  /** CPU time the target process spent per request (µs), over all rounds: steadier than req/s on a busy machine. */
  cpuUsPerRequest: number
  /** The same by kind of thread (main, ura-log-writer, thread pool, V8 helpers…): shows whether a change moved work or removed it. */
  cpuUsByThread?: Record<string, number>
  ratio?: number
  /** Bare proxy's CPU per request divided by this target's: the ratio with the noise of other processes taken out. */
  cpuRatio?: number
  halfLoad?: ProbeResult
  /** Async scenarios: the backlog ura was left with after each round, and how it drained. */
  backlog?: Backlog[]
}

/** One round of an async scenario: requests accepted (202), how many were delivered within DRAIN_LIMIT_MS of the load's end, how long that took. */
interface Backlog { accepted: number; delivered: number; drainMs: number; left: number; dead: number }

/** How long the bench waits for an async scenario's backlog after each round. */
const DRAIN_LIMIT_MS = 30_000

type Jobs = Awaited<ReturnType<typeof deliveryJobs>>
const allJobs = (j: Jobs): number => j.queued + j.active + j.retry + j.delivered + j.dead

/**
 * Waits until the node's service queues have nothing queued, active or retrying (read from its
 * /metrics), at most DRAIN_LIMIT_MS. `before` is what the queues held when the round began (the
 * node keeps delivered jobs, so the counts only grow).
 */
async function drain (url: string, before: Jobs): Promise<Backlog> {
  const t0 = performance.now()
  let jobs = await deliveryJobs(url, 'svc.')
  while (jobs.queued + jobs.active + jobs.retry > 0 && performance.now() - t0 < DRAIN_LIMIT_MS) {
    await new Promise(resolve => setTimeout(resolve, 200))
    jobs = await deliveryJobs(url, 'svc.')
  }
  const left = jobs.queued + jobs.active + jobs.retry
  // Counted at the end: a load generator's last requests may still be answered after it returned.
  return { accepted: allJobs(jobs) - allJobs(before), delivered: jobs.delivered - before.delivered, drainMs: left === 0 ? performance.now() - t0 : NaN, left, dead: jobs.dead - before.dead }
}

/**
 * The machine is shared and noisy, so targets are measured in alternating rounds (ura, bare,
 * nginx, ura, bare, …) and each target's median round is kept: a burst of someone else's work
 * then hits every target alike instead of one.
 */
async function measureRounds (scenario: Scenario, procs: Array<[string, Proc]>, tls?: ClientTls): Promise<Row[]> {
  const seconds = Math.max(2, Math.round(duration * (scenario.durationScale ?? (scenario.requestBytes !== undefined ? 0.75 : 1)) / rounds))
  const reqFor = (target: string): typeof scenario.ura => target === 'ura' ? scenario.ura : scenario.upstream
  // An async ura is loaded and then waited for until its backlog is delivered (the delivery work is
  // part of its cost: its CPU counts, and it must not spill into the next target's round).
  const settles = (target: string): boolean => target === 'ura' && scenario.asyncDelivery === true
  const startRss = new Map<string, number>()
  for (const [target, proc] of procs) startRss.set(target, await rssMb(proc.child.pid!))
  for (const [target, proc] of procs) {
    const before = settles(target) ? await deliveryJobs(proc.url, 'svc.') : undefined
    await runLoad(proc.url, reqFor(target), scenario.connections, Math.min(2, seconds), generator, tls) // warm-up: JIT, pools
    if (before !== undefined) await drain(proc.url, before)
  }
  const results = new Map<string, Array<{ load: LoadResult; peak: number; cpu: number; threads: Record<string, number>; backlog?: Backlog }>>()
  for (let round = 0; round < rounds; round++) {
    for (const [target, proc] of procs) {
      const before = settles(target) ? await deliveryJobs(proc.url, 'svc.') : undefined
      const threadsBefore = await threadCpuSeconds(proc.child.pid!)
      const { result, peakRssMb, cpuSec } = await withRss(proc.child.pid!, async () => {
        const load = await runLoad(proc.url, reqFor(target), scenario.connections, seconds, generator, tls)
        return { load, backlog: before === undefined ? undefined : await drain(proc.url, before) }
      })
      const threadsAfter = await threadCpuSeconds(proc.child.pid!)
      const threads = Object.fromEntries(Object.entries(threadsAfter).map(([kind, sec]) => [kind, sec - (threadsBefore[kind] ?? 0)]))
      results.set(target, [...(results.get(target) ?? []), { load: result.load, peak: peakRssMb, cpu: cpuSec, threads, ...(result.backlog === undefined ? {} : { backlog: result.backlog }) }])
    }
  }
  return procs.map(([target]) => {
    const list = results.get(target)!
    const sorted = [...list].sort((a, b) => a.load.rps - b.load.rps)
    const median = sorted[Math.floor((sorted.length - 1) / 2)]
    const requests = list.reduce((n, r) => n + r.load.requests, 0)
    const cpuUsPerRequest = 1e6 * list.reduce((n, r) => n + r.cpu, 0) / requests
    const cpuUsByThread: Record<string, number> = {}
    for (const r of list) for (const [kind, sec] of Object.entries(r.threads)) cpuUsByThread[kind] = (cpuUsByThread[kind] ?? 0) + 1e6 * sec / requests
    const backlog = list.flatMap(r => r.backlog === undefined ? [] : [r.backlog])
    return { scenario: scenario.name, target, load: median.load, rounds: list.map(r => Math.round(r.load.rps)), startRssMb: startRss.get(target)!, peakRssMb: Math.max(...list.map(r => r.peak)), cpuUsPerRequest, cpuUsByThread, ...(backlog.length === 0 ? {} : { backlog }) }
  })
}

const fmt = (n: number, digits = 0): string => Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–'

async function main (): Promise<void> {
  const chosen = opts.only === undefined ? scenarios : scenarios.filter(s => opts.only!.split(',').includes(s.name))
  const nginx = !opts['no-nginx'] && spawnSync('nginx', ['-v']).error === undefined
  say(`machine load average ${loadavg().map(l => l.toFixed(1)).join(' ')} (other work on the machine skews absolute numbers; compare ratios)`)
  say(`ura bench: ${chosen.length} scenario(s), ${duration} s per target in ${rounds} alternating rounds, load by ${generator}, ${cpus().length} CPUs, node ${process.version}${nginx ? ', nginx reference' : ', no nginx'}; ura with ${describeNodeOptions(uraNodeOptions)}`)
  const provider = await node(['provider'])
  const rows: Row[] = []
  const profileDir = join(RESULTS, 'profiles')
  if (opts.profile) await mkdir(profileDir, { recursive: true })
  try {
    for (const s of chosen) {
      const requestBytes = s.requestBytes ?? 10 * 1024 * 1024
      const onTls = s.transport === 'tls'
      // TLS and signing need keys: a throwaway PKI made by `ura init`'s code in a fresh data directory.
      const dataDir = onTls || s.signing !== undefined ? await mkdtemp(join(tmpdir(), 'ura-bench-data-')) : undefined
      const configDir = await writeBenchConfig(provider.url, { requestBytes, responseBytes: 10 * 1024 * 1024, mtls: onTls, bridge: s.bridge === true, asyncDelivery: s.asyncDelivery === true, deferredSigning: s.deferred === true, ...(dataDir === undefined ? {} : { dataDir }) })
      const clientTls = dataDir === undefined ? undefined : await makeBenchPki(configDir, dataDir, s)
      const uraArgs = dataDir === undefined ? [] : [dataDir, onTls ? 'tls' : 'plain', s.signing === undefined ? 'nolog' : 'log', ...(s.asyncDelivery === true ? ['delivery'] : [])]
      const starters: Array<[string, () => Promise<Proc>]> = [
        ['ura', () => node(['ura', configDir, ...uraArgs], [...uraNodeOptions, ...(opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])])],
        ['bare', () => node(['bare', provider.url, String(requestBytes), ...(onTls ? [dataDir!] : [])])],
        ...(nginx ? [['nginx', () => startNginx(provider.url, requestBytes, onTls ? dataDir : undefined)] as [string, () => Promise<Proc>]] : []),
      ]
      const procs: Array<[string, Proc]> = []
      let mine: Row[]
      try {
        for (const [target, start] of starters) procs.push([target, await start()])
        mine = await measureRounds(s, procs, clientTls)
        if (s.halfLoad === true) {
          // Half of ura's own maximum, for every target and for the provider called directly.
          const rate = Math.max(50, Math.round(mine[0].load.rps / 2))
          const seconds = Math.max(3, Math.round(duration / 2))
          for (const row of mine) {
            const proc = procs.find(([t]) => t === row.target)![1]
            row.halfLoad = await probe(proc.url, row.target === 'ura' ? s.ura : s.upstream, rate, seconds)
          }
          const direct = await probe(provider.url, s.upstream, rate, seconds)
          mine.push({ scenario: s.name, target: 'provider (direct)', load: { generator, requests: 0, rps: NaN, p50Ms: NaN, p99Ms: NaN, errors: 0, non2xx: 0 }, rounds: [], startRssMb: NaN, peakRssMb: NaN, cpuUsPerRequest: NaN, halfLoad: direct })
        }
      } finally {
        for (const [, proc] of procs) await proc.stop()
        await rm(configDir, { recursive: true, force: true })
        if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
      }
      const bare = mine.find(r => r.target === 'bare')
      for (const r of mine) {
        if (bare === undefined || !Number.isFinite(r.load.rps)) continue
        r.ratio = r.load.rps / bare.load.rps
        r.cpuRatio = bare.cpuUsPerRequest / r.cpuUsPerRequest
      }
      rows.push(...mine)
      report(s, mine, rows)
    }
  } finally {
    await provider.stop()
  }
  let fanout: FanoutResult | undefined
  if (!opts['no-fanout'] && (opts.only === undefined || opts.only.split(',').includes('fanout'))) {
    // Waits at most 30 s for the backlog (what is left is reported as missing), so the row stays short.
    fanout = await runFanout({ rate: 100, warmupSeconds: 5, seconds: 10, subscribers: 61, offline: 0, offlineSeconds: 0, fifo: false, keys: 4, waitMs: 30_000 })
    say('')
    for (const line of describeFanout(fanout)) say(line)
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const out = { when: new Date().toISOString(), node: process.version, cpus: cpus().length, loadAverage: loadavg(), generator, durationSeconds: duration, rounds, uraNodeOptions, rows, ...(fanout === undefined ? {} : { fanout }) }
  await mkdir(RESULTS, { recursive: true })
  const file = join(RESULTS, `${stamp}.json`)
  await writeFile(file, JSON.stringify(out, null, 2))
  say(`\nresults: ${file}`)
  if (opts.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n')
}

function report (s: Scenario, rows: Row[], all: Row[]): void {
  say(`\n${s.name}: ${s.what}${s.transport === 'tls' ? ` [load by autocannon${generator === 'wrk' ? ': wrk cannot present a client certificate' : ''}]` : ''}`)
  say(`  ${'target'.padEnd(18)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'RSS MB'.padStart(7)} ${'ratio'.padStart(6)} ${'CPU µs/req'.padStart(10)} ${'CPU ratio'.padStart(9)}  errors`)
  for (const r of rows) {
    if (!Number.isFinite(r.load.rps)) continue
    const errs = r.load.errors + r.load.non2xx
    say(`  ${r.target.padEnd(18)} ${fmt(r.load.rps).padStart(9)} ${fmt(r.load.p50Ms, 2).padStart(8)} ${fmt(r.load.p99Ms, 2).padStart(8)} ${fmt(r.peakRssMb).padStart(7)} ${fmt(r.ratio ?? NaN, 2).padStart(6)} ${fmt(r.cpuUsPerRequest).padStart(10)} ${fmt(r.cpuRatio ?? NaN, 2).padStart(9)}  ${errs === 0 ? '' : errs}${r.rounds.length > 1 ? `  rounds: ${r.rounds.join(' / ')}` : ''}`)
  }
  const ura = rows.find(r => r.target === 'ura')
  const byThread = Object.entries(ura?.cpuUsByThread ?? {}).filter(([, us]) => us >= 0.5).sort((a, b) => b[1] - a[1])
  if (byThread.length > 1) say(`  ura CPU µs/req by thread: ${byThread.map(([kind, us]) => `${kind} ${fmt(us)}`).join(', ')}`)
  if (s.target !== undefined && ura?.ratio !== undefined) {
    say(`  ura / bare = ${ura.ratio.toFixed(2)} in req/s, ${ura.cpuRatio!.toFixed(2)} in CPU per request (target ≥ ${s.target.toFixed(2)}: ${ura.ratio >= s.target ? 'met' : 'NOT met'} / ${ura.cpuRatio! >= s.target ? 'met' : 'NOT met'})`)
  }
  if (s.rssGoalMb !== undefined && ura !== undefined) {
    const bare = rows.find(r => r.target === 'bare')
    const mb = (r: Row): string => `${fmt(r.peakRssMb)} MB (${fmt(r.startRssMb)} MB at start)`
    say(`  peak RSS under this load: ura ${mb(ura)}${bare === undefined ? '' : `, bare proxy ${mb(bare)}`} (goal for ura ≤ ${s.rssGoalMb} MB: ${ura.peakRssMb <= s.rssGoalMb ? 'met' : 'NOT met'})`)
  }
  if (ura?.backlog !== undefined) {
    for (const [i, b] of ura.backlog.entries()) {
      say(`  backlog after ura round ${i + 1}: ${fmt(b.accepted)} accepted (202), ${fmt(b.delivered)} delivered within ${DRAIN_LIMIT_MS / 1000} s of the load's end` +
        (b.left === 0 ? `, drained in ${fmt(b.drainMs / 1000, 1)} s` : `, ${fmt(b.left)} NOT delivered yet`) + (b.dead > 0 ? `, ${fmt(b.dead)} dead` : ''))
    }
  }
  if (s.against !== undefined && ura !== undefined) {
    const sync = all.find(r => r.scenario === s.against!.scenario && r.target === 'ura')
    if (sync === undefined) {
      say(`  ${s.against.scenario} is not in this run (--only): no ratio to it`)
    } else {
      const ratio = ura.load.rps / sync.load.rps
      say(`  ura ${s.name} / ura ${s.against.scenario} (same run) = ${ratio.toFixed(2)} in req/s (goal ≥ ${s.against.goal.toFixed(2)}: ${ratio >= s.against.goal ? 'met' : 'NOT met'}), ${(sync.cpuUsPerRequest / ura.cpuUsPerRequest).toFixed(2)} in CPU per request (delivery included)`)
      const b = ura.backlog?.find(x => x.left === 0)
      if (ura.backlog !== undefined && ura.backlog.length > 0) {
        // End to end: everything accepted in a round, delivered, over the load's seconds plus the drain's.
        const seconds = Math.max(2, Math.round(duration / rounds))
        const e2e = ura.backlog.map(x => x.left === 0 ? x.delivered / (seconds + x.drainMs / 1000) : NaN).sort((a, c) => a - c)
        const median = e2e[Math.floor((e2e.length - 1) / 2)]
        if (b !== undefined && Number.isFinite(median)) say(`  delivered end to end (accepted and delivered, over the load's seconds + the drain): ${fmt(median)} req/s = ${(median / sync.load.rps).toFixed(2)} × the synchronous row`)
      }
    }
  }
  const half = rows.filter(r => r.halfLoad !== undefined)
  if (half.length > 0) {
    const bare = half.find(r => r.target === 'bare')?.halfLoad
    const direct = half.find(r => r.target === 'provider (direct)')?.halfLoad
    const u = ura?.halfLoad
    say(`  at half load (${fmt(half[0].halfLoad!.rate)} req/s, open loop): p50/p90/p99 ms ` + half.map(r => `${r.target} ${fmt(r.halfLoad!.p50Ms, 2)}/${fmt(r.halfLoad!.p90Ms, 2)}/${fmt(r.halfLoad!.p99Ms, 2)}`).join(', '))
    if (u !== undefined && bare !== undefined && direct !== undefined) {
      const added = u.p99Ms - bare.p99Ms
      const d = (a: ProbeResult, b: ProbeResult): string => `p50 ${(a.p50Ms - b.p50Ms).toFixed(2)}, p90 ${(a.p90Ms - b.p90Ms).toFixed(2)}, p99 ${(a.p99Ms - b.p99Ms).toFixed(2)} ms`
      say(`  ura adds over the bare proxy: ${d(u, bare)} (p99 target ≤ 2 ms: ${added <= 2 ? 'met' : 'NOT met'}); over calling the provider directly: ${d(u, direct)}`)
    }
  }
}

await main()
