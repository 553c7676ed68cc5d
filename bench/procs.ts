/**
 * Child processes of the benchmarks (bench/run.ts, bench/fanout.ts): starting a role of
 * bench/servers.ts (or nginx) and waiting until it is ready, and reading a process's memory and CPU
 * from /proc, so every bench measures its processes the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { resolve } from 'node:path'

export interface Proc { url: string; child: ChildProcess; stop (): Promise<void> }

/** Starts a child that prints `READY <url>` (our roles) or is ready once its port answers (nginx). */
export async function startProcess (cmd: string, args: string[], readyUrl?: string, env?: NodeJS.ProcessEnv): Promise<Proc> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(env === undefined ? {} : { env }) })
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

/**
 * The module compile cache `ura` (bin/ura.js) keeps beside the code: the roles use it too, so their
 * processes and threads load what a node started by `ura start` loads (no TypeScript stripper once
 * the cache is warm, from the second start on). NODE_COMPILE_CACHE set for the bench wins.
 */
export const COMPILE_CACHE = process.env.NODE_COMPILE_CACHE ?? resolve(import.meta.dirname, '../.cache/compile')

/** The Node options on a launcher's first line (`#!/usr/bin/env -S node <options>`); none on a plain `#!/usr/bin/env node`. */
export function shebangNodeOptions (firstLine: string): string[] {
  const match = /^#!\/usr\/bin\/env (?:-S )?node((?: --\S+)*)\s*$/.exec(firstLine)
  if (match === null) throw new Error(`not a launcher line for node: ${firstLine}`)
  return match[1].split(' ').filter(o => o !== '')
}

/**
 * The Node options `ura` (bin/ura.js) starts a node with, read from the launcher's first line where
 * they are written once: the benchmarks start the gateway with them, so they measure what
 * `ura start` runs.
 */
export const LAUNCHER_NODE_OPTIONS: readonly string[] = shebangNodeOptions(readFileSync(resolve(import.meta.dirname, '../bin/ura.js'), 'utf8').split('\n', 1)[0])

/**
 * A bench's `--node-options` for the gateway's process: the launcher's options when not given, none
 * when given empty (V8's own sizes), else the options written (each starting with --).
 */
export function gatewayNodeOptions (text: string | undefined): string[] {
  if (text === undefined) return [...LAUNCHER_NODE_OPTIONS]
  const options = text.split(/\s+/).filter(o => o !== '')
  if (options.some(o => !o.startsWith('--'))) throw new Error(`--node-options takes Node options (each starting with --), not "${text}"`)
  return options
}

/** How a bench's header names the gateway's Node options. */
export const describeNodeOptions = (options: readonly string[]): string => options.length === 0 ? 'no Node options (V8\'s own heap sizes)' : `Node options ${options.join(' ')}`

/** A role of bench/servers.ts in a child process on the same Node. */
export const startRole = (args: string[], nodeFlags: string[] = []): Promise<Proc> =>
  startProcess(process.execPath, [...nodeFlags, resolve(import.meta.dirname, 'servers.ts'), ...args], undefined, { ...process.env, NODE_COMPILE_CACHE: COMPILE_CACHE })

export async function rssMb (pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
  } catch { return 0 }
}

/** A process's resident memory and its kinds (one read of /proc/<pid>/status), in MB: all, anonymous, file-backed, shared. */
export async function rssParts (pid: number): Promise<{ rssMb: number; anonMb: number; fileMb: number; shmemMb: number }> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN)
    return { rssMb: kb('VmRSS') / 1024, anonMb: kb('RssAnon') / 1024, fileMb: kb('RssFile') / 1024, shmemMb: kb('RssShmem') / 1024 }
  } catch { return { rssMb: 0, anonMb: NaN, fileMb: NaN, shmemMb: NaN } }
}

/** CPU seconds (user + system) the process has used so far; clock ticks are 1/100 s on Linux. */
export async function cpuSeconds (pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch { return NaN }
}

/**
 * CPU seconds of every process of a name (the PostgreSQL server's backends, WAL writer and
 * checkpointer are all `postgres`): what a bench's database costs besides the bench itself.
 */
export async function namedProcessesCpuSeconds (name: string): Promise<number> {
  let total = 0
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== name) continue
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      total += (Number(fields[11]) + Number(fields[12])) / 100
    } catch {} // a process that ended meanwhile
  }
  return total
}

/** Bytes this process has had written to the block layer (its threads' commits and checkpoints included), from /proc/self/io. */
export function diskWrites (): number {
  const m = /^write_bytes: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))
  return m === null ? NaN : Number(m[1])
}

/**
 * CPU seconds per kind of thread of a process (Linux: /proc/<pid>/task): the main thread, each named
 * worker thread (`ura-delivery`, `ura-log-writer`), libuv's pool and V8's own helpers (GC, compiler).
 */
export async function threadCpuSeconds (pid: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  let tasks: string[]
  try { tasks = await readdir(`/proc/${pid}/task`) } catch { return out }
  await Promise.all(tasks.map(async tid => {
    try {
      const [stat, comm] = await Promise.all([readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8'), readFile(`/proc/${pid}/task/${tid}/comm`, 'utf8')])
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const name = comm.trim()
      const kind = name === 'MainThread' ? 'main' : name === 'libuv-worker' ? 'thread pool' : name.startsWith('V8') ? 'V8 (GC, compiler)' : name
      out[kind] = (out[kind] ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100
    } catch {} // a thread that ended meanwhile
  }))
  return out
}

/** Runs `work` while sampling the process's RSS; returns the result, the peak RSS and the CPU it used. */
export async function withRss<T> (pid: number, work: () => Promise<T>): Promise<{ result: T; peakRssMb: number; cpuSec: number }> {
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

/** The values of one gauge or counter in a Prometheus text exposition, with their labels. */
export function metricSamples (text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const out: Array<{ labels: Record<string, string>; value: number }> = []
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue
    const m = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line)
    if (m === null) continue
    const labels: Record<string, string> = {}
    for (const l of (m[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2]
    out.push({ labels, value: Number(m[2]) })
  }
  return out
}

/** Delivery queue jobs per state over the queues whose name starts with `prefix`, from the node's /metrics. */
export async function deliveryJobs (nodeUrl: string, prefix: string): Promise<Record<'queued' | 'active' | 'retry' | 'delivered' | 'dead', number>> {
  const res = await fetch(`${nodeUrl}/metrics`)
  const text = await res.text()
  const out = { queued: 0, active: 0, retry: 0, delivered: 0, dead: 0 }
  for (const s of metricSamples(text, 'ura_delivery_jobs')) {
    if (!(s.labels.queue ?? '').startsWith(prefix)) continue
    const state = s.labels.state as keyof typeof out
    if (state in out) out[state] += s.value
  }
  return out
}
