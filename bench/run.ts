/**
 * `npm run bench`: a provider, the bare proxy (Fastify + undici, no checks: the physical limit of a
 * Node proxy on this machine), nginx `proxy_pass` where nginx is installed, and ura, each driven in
 * turn by the same load generator in the same run. Prints req/s, p50/p99 latency, peak RSS and the
 * ratio to the bare proxy per scenario, plus the latency ura adds at half of its maximum rate;
 * writes everything as JSON to bench/results/<time>.json (and to stdout with --json).
 *
 *   npm run bench -- [--duration 9] [--rounds 3] [--only rest-json-1k,soap-xsd-2k] [--no-nginx]
 *                    [--generator wrk|autocannon] [--profile] [--json]
 *
 * --profile runs ura under `node --cpu-prof` and leaves the profiles in bench/results/profiles/.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { connect } from 'node:net'
import { initPki } from '../certs/dev-pki.ts'
import { Keystore } from '../certs/keystore.ts'
import { loadConfig } from '../config/load.ts'
import { BENCH_PASSPHRASE, CLIENT, writeBenchConfig } from './fixtures.ts'
import { hasWrk, probe, runLoad, type ClientTls, type LoadResult, type ProbeResult } from './load.ts'
import { scenarios, type Scenario } from './scenarios.ts'

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '9' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
    'no-nginx': { type: 'boolean', default: false },
    generator: { type: 'string' },
    profile: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
})
const duration = Number(opts.duration)
const rounds = Math.max(1, Number(opts.rounds))
const generator = (opts.generator ?? (hasWrk() ? 'wrk' : 'autocannon')) as 'wrk' | 'autocannon'
const RESULTS = resolve(import.meta.dirname, 'results')
const say = (line: string): void => { (opts.json ? process.stderr : process.stdout).write(line + '\n') }

interface Proc { url: string; child: ChildProcess; stop (): Promise<void> }

/** Starts a child that prints `READY <url>` (our roles) or is ready once its port answers (nginx). */
async function startProcess (cmd: string, args: string[], readyUrl?: string): Promise<Proc> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stderr!.on('data', d => { log += d })
  const url = await new Promise<string>((resolve, reject) => {
    if (readyUrl !== undefined) {
      const poll = async (): Promise<void> => {
        for (let i = 0; i < 100; i++) {
          if (await listening(readyUrl)) return resolve(readyUrl)
          await new Promise(r => setTimeout(r, 50))
        }
        reject(new Error(`${cmd} did not start: ${log}`))
      }
      void poll()
    }
    child.stdout!.on('data', d => { const m = /READY (\S+)/.exec(String(d)); if (m !== null) resolve(m[1]) })
    child.once('exit', code => reject(new Error(`${cmd} ${args.join(' ')} exited (${code}): ${log}`)))
  })
  return {
    url,
    child,
    stop: () => new Promise(resolve => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
      setTimeout(() => child.kill('SIGKILL'), 5000).unref()
    }),
  }
}

/** Whether something accepts TCP connections at the URL's port (HTTPS targets have certificates fetch would refuse). */
const listening = (url: string): Promise<boolean> => new Promise(resolve => {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname, () => { socket.destroy(); resolve(true) })
  socket.once('error', () => resolve(false))
})

const node = (args: string[], nodeFlags: string[] = []): Promise<Proc> =>
  startProcess(process.execPath, [...nodeFlags, resolve(import.meta.dirname, 'servers.ts'), ...args])

async function rssMb (pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
  } catch { return 0 }
}

/** CPU seconds (user + system) the process has used so far; clock ticks are 1/100 s on Linux. */
async function cpuSeconds (pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch { return NaN }
}

/** Runs `work` while sampling the process's RSS; returns the result, the peak RSS and the CPU it used. */
async function withRss<T> (pid: number, work: () => Promise<T>): Promise<{ result: T; peakRssMb: number; cpuSec: number }> {
  let peak = await rssMb(pid)
  const cpuBefore = await cpuSeconds(pid)
  const timer = setInterval(() => { void rssMb(pid).then(v => { peak = Math.max(peak, v) }) }, 200)
  try {
    const result = await work()
    peak = Math.max(peak, await rssMb(pid))
    return { result, peakRssMb: peak, cpuSec: await cpuSeconds(pid) - cpuBefore }
  } finally {
    clearInterval(timer)
  }
}

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
  peakRssMb: number
  /** CPU time the target process spent per request (µs), over all rounds: steadier than req/s on a busy machine. */
  cpuUsPerRequest: number
  ratio?: number
  /** Bare proxy's CPU per request divided by this target's: the ratio with the noise of other processes taken out. */
  cpuRatio?: number
  halfLoad?: ProbeResult
}

/**
 * The machine is shared and noisy, so targets are measured in alternating rounds (ura, bare,
 * nginx, ura, bare, …) and each target's median round is kept: a burst of someone else's work
 * then hits every target alike instead of one.
 */
async function measureRounds (scenario: Scenario, procs: Array<[string, Proc]>, tls?: ClientTls): Promise<Row[]> {
  const seconds = Math.max(2, Math.round(duration * (scenario.durationScale ?? (scenario.requestBytes !== undefined ? 0.75 : 1)) / rounds))
  const reqFor = (target: string): typeof scenario.ura => target === 'ura' ? scenario.ura : scenario.upstream
  for (const [target, proc] of procs) await runLoad(proc.url, reqFor(target), scenario.connections, Math.min(2, seconds), generator, tls) // warm-up: JIT, pools
  const results = new Map<string, Array<{ load: LoadResult; peak: number; cpu: number }>>()
  for (let round = 0; round < rounds; round++) {
    for (const [target, proc] of procs) {
      const { result, peakRssMb, cpuSec } = await withRss(proc.child.pid!, () => runLoad(proc.url, reqFor(target), scenario.connections, seconds, generator, tls))
      results.set(target, [...(results.get(target) ?? []), { load: result, peak: peakRssMb, cpu: cpuSec }])
    }
  }
  return procs.map(([target]) => {
    const list = results.get(target)!
    const sorted = [...list].sort((a, b) => a.load.rps - b.load.rps)
    const median = sorted[Math.floor((sorted.length - 1) / 2)]
    const cpuUsPerRequest = 1e6 * list.reduce((n, r) => n + r.cpu, 0) / list.reduce((n, r) => n + r.load.requests, 0)
    return { scenario: scenario.name, target, load: median.load, rounds: list.map(r => Math.round(r.load.rps)), peakRssMb: Math.max(...list.map(r => r.peak)), cpuUsPerRequest }
  })
}

const fmt = (n: number, digits = 0): string => Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–'

async function main (): Promise<void> {
  const chosen = opts.only === undefined ? scenarios : scenarios.filter(s => opts.only!.split(',').includes(s.name))
  const nginx = !opts['no-nginx'] && spawnSync('nginx', ['-v']).error === undefined
  say(`machine load average ${loadavg().map(l => l.toFixed(1)).join(' ')} (other work on the machine skews absolute numbers; compare ratios)`)
  say(`ura bench: ${chosen.length} scenario(s), ${duration} s per target in ${rounds} alternating rounds, load by ${generator}, ${cpus().length} CPUs, node ${process.version}${nginx ? ', nginx reference' : ', no nginx'}`)
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
      const configDir = await writeBenchConfig(provider.url, { requestBytes, responseBytes: 10 * 1024 * 1024, mtls: onTls, bridge: s.bridge === true, ...(dataDir === undefined ? {} : { dataDir }) })
      const clientTls = dataDir === undefined ? undefined : await makePki(configDir, dataDir, s)
      const uraArgs = dataDir === undefined ? [] : [dataDir, onTls ? 'tls' : 'plain', s.signing === undefined ? 'nolog' : 'log']
      const starters: Array<[string, () => Promise<Proc>]> = [
        ['ura', () => node(['ura', configDir, ...uraArgs], opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
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
          mine.push({ scenario: s.name, target: 'provider (direct)', load: { generator, requests: 0, rps: NaN, p50Ms: NaN, p99Ms: NaN, errors: 0, non2xx: 0 }, rounds: [], peakRssMb: NaN, cpuUsPerRequest: NaN, halfLoad: direct })
        }
      } finally {
        for (const [, proc] of procs) await proc.stop()
        if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
      }
      const bare = mine.find(r => r.target === 'bare')
      for (const r of mine) {
        if (bare === undefined || !Number.isFinite(r.load.rps)) continue
        r.ratio = r.load.rps / bare.load.rps
        r.cpuRatio = bare.cpuUsPerRequest / r.cpuUsPerRequest
      }
      rows.push(...mine)
      report(s, mine)
    }
  } finally {
    await provider.stop()
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const out = { when: new Date().toISOString(), node: process.version, cpus: cpus().length, loadAverage: loadavg(), generator, durationSeconds: duration, rounds, rows }
  await mkdir(RESULTS, { recursive: true })
  const file = join(RESULTS, `${stamp}.json`)
  await writeFile(file, JSON.stringify(out, null, 2))
  say(`\nresults: ${file}`)
  if (opts.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n')
}

/** Makes the node's PKI (member keys of the scenario's type); on TLS returns the calling subsystem's client certificate. */
async function makePki (configDir: string, dataDir: string, s: Scenario): Promise<ClientTls | undefined> {
  const keystore = new Keystore(dataDir, { passphrase: BENCH_PASSPHRASE })
  initPki({ keystore, config: await loadConfig(configDir), ...(s.signing === undefined ? {} : { memberKeyType: s.signing }) })
  if (s.transport !== 'tls') return undefined
  const files = keystore.paths.client(CLIENT)
  return { key: keystore.privateKey(files.key).export({ type: 'pkcs8', format: 'pem' }) as string, cert: await readFile(files.cert, 'utf8') }
}

function report (s: Scenario, rows: Row[]): void {
  say(`\n${s.name}: ${s.what}${s.transport === 'tls' ? ` [load by autocannon${generator === 'wrk' ? ': wrk cannot present a client certificate' : ''}]` : ''}`)
  say(`  ${'target'.padEnd(18)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'RSS MB'.padStart(7)} ${'ratio'.padStart(6)} ${'CPU µs/req'.padStart(10)} ${'CPU ratio'.padStart(9)}  errors`)
  for (const r of rows) {
    if (!Number.isFinite(r.load.rps)) continue
    const errs = r.load.errors + r.load.non2xx
    say(`  ${r.target.padEnd(18)} ${fmt(r.load.rps).padStart(9)} ${fmt(r.load.p50Ms, 2).padStart(8)} ${fmt(r.load.p99Ms, 2).padStart(8)} ${fmt(r.peakRssMb).padStart(7)} ${fmt(r.ratio ?? NaN, 2).padStart(6)} ${fmt(r.cpuUsPerRequest).padStart(10)} ${fmt(r.cpuRatio ?? NaN, 2).padStart(9)}  ${errs === 0 ? '' : errs}${r.rounds.length > 1 ? `  rounds: ${r.rounds.join(' / ')}` : ''}`)
  }
  const ura = rows.find(r => r.target === 'ura')
  if (s.target !== undefined && ura?.ratio !== undefined) {
    say(`  ura / bare = ${ura.ratio.toFixed(2)} in req/s, ${ura.cpuRatio!.toFixed(2)} in CPU per request (target ≥ ${s.target.toFixed(2)}: ${ura.ratio >= s.target ? 'met' : 'NOT met'} / ${ura.cpuRatio! >= s.target ? 'met' : 'NOT met'})`)
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
