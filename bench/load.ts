/**
 * Load generators. Throughput runs use wrk when it is installed (C, two threads: it leaves the
 * most CPU to the servers on a small machine) and autocannon otherwise. The half-load latency
 * probe and the signed soak are open-loop at a fixed rate with microsecond timing (autocannon and
 * wrk report whole milliseconds or need a closed loop).
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface BenchRequest {
  method: string
  /** Path on the target, e.g. `/r1/...` for ura or the provider path for the bare proxy. */
  path: string
  headers: Record<string, string>
  body?: Buffer
}

/** A client certificate (PEM key and chain) for TLS targets; only autocannon can present one. */
export interface ClientTls { key: string; cert: string }

export interface LoadResult {
  generator: 'wrk' | 'autocannon'
  requests: number
  rps: number
  p50Ms: number
  p99Ms: number
  errors: number
  non2xx: number
}

export const hasWrk = (): boolean => spawnSync('wrk', ['--version']).error === undefined

const luaString = (s: string): string => JSON.stringify(s)

async function runWrk (url: string, req: BenchRequest, connections: number, seconds: number): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'ura-wrk-'))
  const bodyFile = join(dir, 'body')
  if (req.body !== undefined) await writeFile(bodyFile, req.body)
  const script = [
    `wrk.method = ${luaString(req.method)}`,
    `wrk.path = ${luaString(req.path)}`,
    ...Object.entries(req.headers).map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`),
    req.body === undefined ? '' : `local f = io.open(${luaString(bodyFile)}, "rb"); wrk.body = f:read("*a"); f:close()`,
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format("WRKJSON {\\"requests\\":%d,\\"duration\\":%d,\\"errors\\":%d,\\"non2xx\\":%d,\\"p50\\":%d,\\"p99\\":%d}\\n",',
    '    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(99)))',
    'end',
  ].join('\n')
  const scriptFile = join(dir, 'script.lua')
  await writeFile(scriptFile, script)
  const threads = Math.min(2, connections)
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('wrk', ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '30s', '-s', scriptFile, url], { stdio: ['ignore', 'pipe', 'pipe'] })
    let text = ''
    child.stdout.on('data', d => { text += d })
    child.stderr.on('data', d => { text += d })
    child.on('error', reject)
    child.on('exit', () => resolve(text))
  })
  const m = /WRKJSON (\{.*\})/.exec(out)
  if (m === null) throw new Error(`wrk gave no result:\n${out}`)
  const r = JSON.parse(m[1]) as { requests: number; duration: number; errors: number; non2xx: number; p50: number; p99: number }
  return { generator: 'wrk', requests: r.requests, rps: r.requests / (r.duration / 1e6), p50Ms: r.p50 / 1000, p99Ms: r.p99 / 1000, errors: r.errors, non2xx: r.non2xx }
}

async function runAutocannon (url: string, req: BenchRequest, connections: number, seconds: number, tls?: ClientTls): Promise<LoadResult> {
  // Loaded by name so the type check needs no declarations for it (it ships none).
  const name = 'autocannon'
  const autocannon = (await import(name)).default as (o: object) => Promise<{ requests: { total: number }; latency: { p50: number; p99: number }; errors: number; timeouts: number; non2xx: number }>
  const result = await autocannon({ url: url + req.path, method: req.method as 'POST', headers: req.headers, body: req.body, connections, duration: seconds, timeout: 30, ...(tls === undefined ? {} : { tlsOptions: tls }) })
  return {
    generator: 'autocannon',
    requests: result.requests.total,
    rps: result.requests.total / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  }
}

export function runLoad (url: string, req: BenchRequest, connections: number, seconds: number, generator: 'wrk' | 'autocannon', tls?: ClientTls): Promise<LoadResult> {
  // wrk speaks HTTPS but cannot present a client certificate: TLS targets are always loaded by autocannon.
  return generator === 'wrk' && tls === undefined ? runWrk(url, req, connections, seconds) : runAutocannon(url, req, connections, seconds, tls)
}

export interface ProbeResult { rate: number; sent: number; p50Ms: number; p90Ms: number; p99Ms: number; errors: number }

/**
 * The half-load latency probe: `rate` requests per second for `seconds`, open loop (see openLoop).
 * Answers other than 2xx/3xx and failed requests count as errors and have no latency.
 */
export async function probe (url: string, req: BenchRequest, rate: number, seconds: number, connections = 64): Promise<ProbeResult> {
  const latencies: number[] = []
  const r = await openLoop(url, req, { rate, seconds, connections, onResult: (_due, ms, status) => { if (status >= 200 && status < 400) latencies.push(ms) } })
  latencies.sort((a, b) => a - b)
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN
  return { rate, sent: r.sent, p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), errors: r.sent - latencies.length }
}

export interface OpenLoopOptions {
  rate: number
  seconds: number
  /** Keep-alive connections (default 64); a request due while all are busy waits for one. */
  connections?: number
  /**
   * Called once per request: when it was due (performance.now() ms), its latency from then, and the
   * answer's status — 0 when the connection failed or closed before the answer was complete.
   */
  onResult?: (dueAt: number, latencyMs: number, status: number) => void
  /** How long to wait for the last answers once every request is sent (default 30 s). */
  tailMs?: number
  /** Called once the connections are open, with the time (performance.now() ms) the first request is due. */
  onStart?: (t0: number) => void
}

export interface OpenLoopResult {
  sent: number
  /** Requests with a complete answer, by status code. */
  statuses: Record<string, number>
  /** Requests whose connection failed or closed before the answer was complete. */
  transportErrors: number
  /** Requests still without an answer `tailMs` after the last one was sent. */
  unanswered: number
}

/**
 * Open loop: `rate` requests per second for `seconds` on raw keep-alive sockets (the generator must
 * cost little CPU, or it would take the machine from the servers it measures). Each latency runs
 * from the moment the request was due, so time spent waiting for a free connection counts too.
 * Idle connections are used in turn (all stay warm); one that closes is replaced, and a request it
 * carried counts as a transport error.
 */
export async function openLoop (url: string, req: BenchRequest, opts: OpenLoopOptions): Promise<OpenLoopResult> {
  const { hostname, port } = new URL(url)
  const head = `${req.method} ${req.path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
    Object.entries(req.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') +
    (req.body === undefined ? '' : `content-length: ${req.body.length}\r\n`) + '\r\n'
  const bytes = Buffer.concat([Buffer.from(head, 'latin1'), req.body ?? Buffer.alloc(0)])
  const { rate } = opts
  const total = Math.floor(rate * opts.seconds)
  const statuses: Record<string, number> = {}
  let transportErrors = 0
  // Requests due while every connection was busy, oldest first, read from `dueHead`: shift() would
  // move the whole array on every request once a backlog of many thousands builds, and the load
  // generator's CPU, on the node's cores, would deepen the backlog it is measuring.
  const due: number[] = []
  let dueHead = 0
  const idle: Conn[] = []
  const conns = new Set<Conn>()
  let started = 0
  let finished = 0
  let over = false
  let resolveAll: () => void = () => {}
  const all = new Promise<void>(resolve => { resolveAll = resolve })

  interface Conn { socket: Socket; buf: Buffer; dueAt: number; busy: boolean; connected: boolean }
  const settle = (conn: Conn, status: number): void => {
    conn.busy = false
    if (status === 0) transportErrors++
    else statuses[status] = (statuses[status] ?? 0) + 1
    opts.onResult?.(conn.dueAt, performance.now() - conn.dueAt, status)
    if (++finished === total) resolveAll()
  }
  const next = (conn: Conn): void => {
    if (dueHead === due.length) { idle.push(conn); return }
    send(conn, due[dueHead++])
    // Drop what was read: all of it once the backlog is gone, else now and then in one move.
    if (dueHead === due.length) {
      due.length = 0
      dueHead = 0
    } else if (dueHead >= 65_536 && dueHead * 2 >= due.length) {
      due.splice(0, dueHead)
      dueHead = 0
    }
  }
  const send = (conn: Conn, dueAt: number): void => {
    conn.dueAt = dueAt
    conn.busy = true
    conn.buf = Buffer.alloc(0)
    conn.socket.write(bytes)
  }
  const open = (): Promise<void> => new Promise(resolve => {
    const socket = connect(Number(port), hostname)
    socket.setNoDelay(true)
    const conn: Conn = { socket, buf: Buffer.alloc(0), dueAt: 0, busy: false, connected: false }
    conns.add(conn)
    socket.once('connect', () => { conn.connected = true; next(conn); resolve() })
    socket.on('data', chunk => {
      conn.buf = conn.buf.length === 0 ? chunk : Buffer.concat([conn.buf, chunk])
      const end = conn.buf.indexOf('\r\n\r\n')
      if (end === -1) return
      const header = conn.buf.subarray(0, end).toString('latin1')
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(header)?.[1] ?? 0)
      if (conn.buf.length < end + 4 + length || !conn.busy) return
      settle(conn, Number(header.slice(9, 12)))
      // A server that says it closes the connection gets no further request on it.
      if (/\r\nconnection: *close/i.test(header)) socket.destroy()
      else next(conn)
    })
    socket.on('error', () => {}) // 'close' follows
    socket.once('close', () => {
      conns.delete(conn)
      const i = idle.indexOf(conn)
      if (i !== -1) idle.splice(i, 1)
      if (over) return resolve()
      if (conn.busy) settle(conn, 0)
      // A refused connection is tried again a little later, not in a tight loop.
      if (conn.connected) void open()
      else setTimeout(() => { if (!over) void open() }, 100)
      resolve()
    })
  })
  await Promise.all(Array.from({ length: opts.connections ?? 64 }, open))
  const t0 = performance.now()
  opts.onStart?.(t0)
  await new Promise<void>(resolve => {
    const tick = (): void => {
      const now = performance.now()
      while (started < total && t0 + (started * 1000) / rate <= now) {
        const dueAt = t0 + (started * 1000) / rate
        started++
        const conn = idle.shift()
        if (conn !== undefined) send(conn, dueAt)
        else due.push(dueAt)
      }
      if (started < total) setTimeout(tick, 1)
      else resolve()
    }
    tick()
  })
  if (total > 0) await Promise.race([all, new Promise(resolve => setTimeout(resolve, opts.tailMs ?? 30_000))])
  over = true
  for (const c of conns) c.socket.destroy()
  return { sent: total, statuses, transportErrors, unanswered: total - finished }
}
