/**
 * The queue engine gate: which durable queue engine can carry asynchronous exchange (store-and-forward,
 * pub/sub fan-out) without hurting the gateway. Each candidate runs in its own child process (so one
 * candidate's memory does not count against the next), enqueues jobs at a fixed rate from the main
 * thread for a fixed time, has them worked and completed, and reports:
 *
 *   start ms     from nothing to ready to send and work (engine open, schema, queue, worker)
 *   RSS          process RSS before start, after start, at the end of the run (and the peak)
 *   lag p50/p99  event-loop delay of the main thread during the run (perf_hooks.monitorEventLoopDelay)
 *   jobs/s       jobs completed per second of run; backlog = sent and not completed at the end
 *   e2e p99      from send to the worker seeing the job
 *
 * Candidates:
 *   baseline        no engine: each send hands the job straight to the worker callback. The noise
 *                   floor of the machine for the same driver (lag, RSS), to read the others against
 *   pglite-worker   pg-boss on PGlite (its `fromPglite` adapter, `backend: 'pglite'`), both in a worker
 *                   thread; the main thread sends over postMessage and does the "work" (an ack), so
 *                   the main thread only pays for messages. A fresh data directory: the first start
 *                   of a node, initdb included
 *   pglite-worker-reopen  the same on a data directory made (initdb, pg-boss schema) by an earlier
 *                   process: every later start of a node
 *   pg-boss-pg      pg-boss on the local PostgreSQL (scratch database, dropped after), on the main thread
 *   nats-js         NATS JetStream on 127.0.0.1:4222 (scratch stream with file storage, deleted after)
 *   sqlite-queue    the embedded home ura chose (delivery/threaded-sqlite.ts): one SQLite file in its own thread, fsynced
 *                   enqueues, its own scheduler; jobs pushed to a worker that completes them
 *
 * The gate (embedded engine): RSS delta ≤ 40 MB and p99 main-thread lag ≤ 5 ms at 200 jobs/s.
 * pg-boss, @electric-sql/pglite and the NATS client are devDependencies only: the gate decides which
 * one becomes a dependency.
 *
 *   npm run bench:queue-gate [-- --seconds 20 --rate 200 --only pglite-worker --json]
 */
import { fork } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import pg from 'pg'

const CANDIDATES = ['baseline', 'sqlite-queue', 'pglite-worker', 'pglite-worker-reopen', 'pg-boss-pg', 'nats-js'] as const
type Candidate = typeof CANDIDATES[number]
const PG_SERVER = 'postgres://postgres@127.0.0.1:5432'
const NATS_SERVER = '127.0.0.1:4222'
const QUEUE = 'gate'
const DRAIN_MS = 10_000

interface Result {
  candidate: Candidate
  startMs: number
  rssBeforeMb: number
  rssStartedMb: number
  rssEndMb: number
  rssPeakMb: number
  lagP50Ms: number
  lagP99Ms: number
  lagMaxMs: number
  sent: number
  completed: number
  jobsPerS: number
  backlog: number
  e2eP99Ms: number
  note: string
}

/** What one engine must offer the driver: send a job, and call `onJob` when a worker has it. */
interface Engine {
  send: (sentAt: number) => Promise<void>
  stop: () => Promise<void>
  note: string
}
type EngineFactory = (onJob: (sentAt: number) => void) => Promise<Engine>

const mb = (bytes: number): number => Math.round(bytes / 1048576 * 10) / 10
const rss = (): number => process.memoryUsage().rss
const gc = (): void => { (globalThis as { gc?: () => void }).gc?.() }
const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

function percentile (values: number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

// ---------------------------------------------------------------- pg-boss on PGlite, in a worker thread

/** The directory prepared for `pglite-worker-reopen`, made before RSS and start time are measured. */
let preparedDir: string | undefined

/** Worker side: PGlite in a temporary directory, pg-boss on it, jobs handed to the main thread. */
async function pgliteWorkerMain (): Promise<void> {
  const port = parentPort!
  const { PGlite } = await import('@electric-sql/pglite')
  const { PgBoss, fromPglite } = await import('pg-boss')
  const dir = workerData.dir as string
  const db = await PGlite.create(dir)
  const boss = new PgBoss({ db: fromPglite(db), backend: 'pglite', useListenNotify: true, schedule: false, supervise: false })
  boss.on('error', err => { port.postMessage({ type: 'error', message: String(err) }) })
  await boss.start()
  await boss.createQueue(QUEUE, { notify: true })
  const waiting = new Map<number, () => void>()
  let next = 0
  await boss.work<{ sentAt: number }>(QUEUE, { batchSize: 50, pollingIntervalSeconds: 0.5, burstWhenBatchFull: true }, async jobs => {
    // The "work" is done on the main thread (as delivery would be): wait for its ack per job.
    await Promise.all(jobs.map(job => new Promise<void>(resolve => {
      const id = next++
      waiting.set(id, resolve)
      port.postMessage({ type: 'job', id, sentAt: job.data.sentAt })
    })))
  })
  port.on('message', async (msg: { type: string; id?: number; sentAt?: number }) => {
    if (msg.type === 'send') {
      try {
        await boss.send(QUEUE, { sentAt: msg.sentAt })
        port.postMessage({ type: 'sent', id: msg.id })
      } catch (err) {
        port.postMessage({ type: 'sent', id: msg.id, error: String(err) })
      }
    } else if (msg.type === 'done') {
      const resolve = waiting.get(msg.id!)
      waiting.delete(msg.id!)
      resolve?.()
    } else if (msg.type === 'stop') {
      await boss.stop({ graceful: false, timeout: 5000 })
      await db.close()
      port.postMessage({ type: 'stopped' })
    }
  })
  port.postMessage({ type: 'ready' })
}

/** A data directory with PGlite initialised and pg-boss's schema and queue in it, made by a child. */
async function preparedPgliteDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ura-queue-gate-'))
  await new Promise<void>((resolve, reject) => {
    const child = fork(new URL(import.meta.url), ['--prepare', dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    child.on('exit', code => { if (code === 0) resolve(); else reject(new Error(`preparing the PGlite directory failed (exit ${code})`)) })
  })
  return dir
}

/** In a child: open PGlite on `dir`, install pg-boss and the queue, close. */
async function preparePglite (dir: string): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite')
  const { PgBoss, fromPglite } = await import('pg-boss')
  const db = await PGlite.create(dir)
  const boss = new PgBoss({ db: fromPglite(db), backend: 'pglite', schedule: false, supervise: false })
  await boss.start()
  await boss.createQueue(QUEUE, { notify: true })
  await boss.stop({ graceful: false, timeout: 5000 })
  await db.close()
}

const pgliteWorker = (reopen: boolean): EngineFactory => async onJob => {
  const dir = reopen && preparedDir ? preparedDir : await mkdtemp(join(tmpdir(), 'ura-queue-gate-'))
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: 'pglite', dir } })
  const pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>()
  let next = 0
  let stopped: (() => void) | undefined
  const ready = new Promise<void>((resolve, reject) => {
    worker.on('error', reject)
    worker.on('message', (msg: { type: string; id: number; sentAt: number; error?: string; message?: string }) => {
      if (msg.type === 'ready') resolve()
      else if (msg.type === 'job') { onJob(msg.sentAt); worker.postMessage({ type: 'done', id: msg.id }) } else if (msg.type === 'sent') {
        const p = pending.get(msg.id)
        pending.delete(msg.id)
        if (msg.error) p?.reject(new Error(msg.error)); else p?.resolve()
      } else if (msg.type === 'stopped') stopped?.()
      else if (msg.type === 'error') process.stderr.write(`pglite worker: ${msg.message}\n`)
    })
  })
  try {
    await ready
  } catch (err) {
    await worker.terminate()
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  return {
    note: (reopen ? 'reopened data dir; ' : 'fresh data dir (initdb in start ms); ') + 'PGlite on NodeFS in a temp dir (no fsync: PGlite runs postgres with -F); pg-boss in the worker',
    send: sentAt => new Promise<void>((resolve, reject) => {
      const id = next++
      pending.set(id, { resolve, reject })
      worker.postMessage({ type: 'send', id, sentAt })
    }),
    stop: async () => {
      const done = new Promise<void>(resolve => { stopped = resolve })
      worker.postMessage({ type: 'stop' })
      await Promise.race([done, sleep(10_000)])
      await worker.terminate()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

// ---------------------------------------------------------------- pg-boss on the local PostgreSQL

const pgBossPg: EngineFactory = async onJob => {
  const name = `ura_queue_gate_${process.pid}`
  const admin = new pg.Client(`${PG_SERVER}/postgres`)
  await admin.connect()
  const dropDb = async (): Promise<void> => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  }
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.query(`CREATE DATABASE ${name}`)
    const { PgBoss } = await import('pg-boss')
    const boss = new PgBoss({ connectionString: `${PG_SERVER}/${name}`, useListenNotify: true, schedule: false, supervise: false, max: 10 })
    let stopping = false
    boss.on('error', err => { if (!stopping) process.stderr.write(`pg-boss: ${String(err)}\n`) })
    try {
      await boss.start()
      await boss.createQueue(QUEUE, { notify: true })
      await boss.work<{ sentAt: number }>(QUEUE, { batchSize: 50, pollingIntervalSeconds: 0.5, burstWhenBatchFull: true }, async jobs => {
        for (const job of jobs) onJob(job.data.sentAt)
      })
    } catch (err) {
      await boss.stop({ graceful: false, timeout: 5000 }).catch(() => {})
      throw err
    }
    const { rows } = await admin.query<{ fsync: string; synchronous_commit: string }>('SELECT current_setting(\'fsync\') AS fsync, current_setting(\'synchronous_commit\') AS synchronous_commit')
    return {
      note: `PostgreSQL fsync=${rows[0].fsync}, synchronous_commit=${rows[0].synchronous_commit}; pool max 10`,
      send: async sentAt => { await boss.send(QUEUE, { sentAt }) },
      stop: async () => {
        stopping = true
        try { await boss.stop({ graceful: false, timeout: 5000 }) } finally { await sleep(500); await dropDb() }
      }
    }
  } catch (err) {
    await dropDb().catch(() => {})
    throw err
  }
}

// ---------------------------------------------------------------- NATS JetStream

const natsJs: EngineFactory = async onJob => {
  const { connect } = await import('@nats-io/transport-node')
  const { jetstream, jetstreamManager, AckPolicy, StorageType } = await import('@nats-io/jetstream')
  const nc = await connect({ servers: NATS_SERVER })
  const stream = `URA_QUEUE_GATE_${process.pid}`
  const jsm = await jetstreamManager(nc)
  try {
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], storage: StorageType.File })
    await jsm.consumers.add(stream, { durable_name: 'worker', ack_policy: AckPolicy.Explicit })
    const js = jetstream(nc)
    const consumer = await js.consumers.get(stream, 'worker')
    const messages = await consumer.consume({ max_messages: 200 })
    const consuming = (async () => {
      for await (const m of messages) {
        onJob((m.json<{ sentAt: number }>()).sentAt)
        m.ack()
      }
    })()
    const info = nc.info
    return {
      note: `nats-server ${info?.version ?? '?'}, stream storage=file, ack=explicit (ack, not ackAck); server started without sync_interval, so no fsync per write (periodic sync only)`,
      send: async sentAt => { await js.publish(`${stream}.job`, JSON.stringify({ sentAt })) },
      stop: async () => {
        try {
          await messages.close()
          await consuming.catch(() => {})
          await jsm.streams.delete(stream)
        } finally {
          await nc.drain()
        }
      }
    }
  } catch (err) {
    await jsm.streams.delete(stream).catch(() => {})
    await nc.close()
    throw err
  }
}

// ---------------------------------------------------------------- ura's embedded home (node:sqlite)

const sqliteQueue: EngineFactory = async onJob => {
  const { openThreadedSqlite } = await import('../delivery/threaded-sqlite.ts')
  const dir = await mkdtemp(join(tmpdir(), 'ura-queue-gate-'))
  const { queue: q } = await openThreadedSqlite(join(dir, 'delivery.sqlite'))
  await q.define(QUEUE, { retry: { limit: 3, delayMs: 1000, backoff: false, maxDelayMs: 1000 }, ttlMs: 0, fifo: false, keepMs: 60_000 })
  q.work(QUEUE, async job => { onJob(Number(job.payload.toString())); return { ok: true } }, { concurrency: 32 })
  let n = 0
  return {
    note: 'node:sqlite in its own thread, WAL, synchronous=FULL for enqueues (one fsync per turn), claims and outcomes with NORMAL',
    send: async sentAt => { await q.enqueue([{ queue: QUEUE, id: `job-${n++}`, payload: Buffer.from(String(sentAt)) }]) },
    stop: async () => { await q.close(); await rm(dir, { recursive: true, force: true }) },
  }
}

// ---------------------------------------------------------------- baseline: no engine

const baseline: EngineFactory = async onJob => ({
  note: 'no engine: the driver alone (the noise floor of the machine)',
  send: async sentAt => { setImmediate(() => { onJob(sentAt) }) },
  stop: async () => {}
})

const FACTORIES: Record<Candidate, EngineFactory> = { baseline, 'sqlite-queue': sqliteQueue, 'pglite-worker': pgliteWorker(false), 'pglite-worker-reopen': pgliteWorker(true), 'pg-boss-pg': pgBossPg, 'nats-js': natsJs }

// ---------------------------------------------------------------- the driver (one candidate, in a child)

async function measure (candidate: Candidate, seconds: number, rate: number): Promise<Result> {
  if (candidate === 'pglite-worker-reopen') preparedDir = await preparedPgliteDir()
  gc()
  await sleep(200)
  const rssBefore = rss()
  let completed = 0
  const e2e: number[] = []
  const onJob = (sentAt: number): void => { completed++; e2e.push(performance.now() - sentAt) }
  const t0 = performance.now()
  const engine = await FACTORIES[candidate](onJob)
  try {
    const startMs = performance.now() - t0
    gc()
    const rssStarted = rss()
    let rssPeak = rssStarted
    const lag = monitorEventLoopDelay({ resolution: 1 })
    let sent = 0
    let failed = 0
    let inFlight = 0
    const runStart = performance.now()
    lag.enable()
    await new Promise<void>(resolve => {
      const tick = setInterval(() => {
        const now = performance.now()
        rssPeak = Math.max(rssPeak, rss())
        if (now - runStart >= seconds * 1000) { clearInterval(tick); resolve(); return }
        const due = Math.floor((now - runStart) / 1000 * rate)
        // Never more than one second of sends in flight: a slow engine shows as fewer jobs/s.
        while (sent < due && inFlight < rate) {
          sent++
          inFlight++
          engine.send(performance.now()).catch(() => { failed++ }).finally(() => { inFlight-- })
        }
      }, 5)
    })
    lag.disable()
    const runMs = performance.now() - runStart
    const completedInRun = completed
    const rssEnd = rss()
    const drainUntil = performance.now() + DRAIN_MS
    while (completed < sent - failed && performance.now() < drainUntil) await sleep(50)
    return {
      candidate,
      startMs: Math.round(startMs),
      rssBeforeMb: mb(rssBefore),
      rssStartedMb: mb(rssStarted),
      rssEndMb: mb(rssEnd),
      rssPeakMb: mb(rssPeak),
      lagP50Ms: Math.round(lag.percentile(50) / 1e4) / 100,
      lagP99Ms: Math.round(lag.percentile(99) / 1e4) / 100,
      lagMaxMs: Math.round(lag.max / 1e4) / 100,
      sent,
      completed: completedInRun,
      jobsPerS: Math.round(completedInRun / (runMs / 1000)),
      backlog: sent - completedInRun,
      e2eP99Ms: Math.round(percentile(e2e, 0.99) * 10) / 10,
      note: engine.note + (failed > 0 ? `; ${failed} sends failed` : '') + (completed < sent - failed ? `; ${sent - failed - completed} not completed after a ${DRAIN_MS / 1000} s drain` : '')
    }
  } finally {
    await engine.stop()
  }
}

function runChild (candidate: Candidate, seconds: number, rate: number): Promise<Result | { candidate: Candidate; error: string }> {
  return new Promise(resolve => {
    const child = fork(new URL(import.meta.url), ['--child', candidate, '--seconds', String(seconds), '--rate', String(rate)], {
      execArgv: [...process.execArgv, '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    let result: Result | { candidate: Candidate; error: string } | undefined
    child.on('message', msg => { result = msg as Result })
    child.on('exit', code => { resolve(result ?? { candidate, error: `child exited with code ${code}` }) })
  })
}

function table (results: Array<Result | { candidate: Candidate; error: string }>, seconds: number, rate: number): string {
  const head = ['candidate', 'start ms', 'RSS before', 'RSS started', 'RSS end', 'RSS peak', 'Δ RSS', 'lag p50', 'lag p99', 'lag max', 'jobs/s', 'backlog', 'e2e p99', 'gate']
  const rows = results.map(r => {
    if ('error' in r) return [r.candidate, `failed: ${r.error}`]
    const delta = Math.round((Math.max(r.rssEndMb, r.rssPeakMb) - r.rssBeforeMb) * 10) / 10
    const pass = delta <= 40 && r.lagP99Ms <= 5 && r.jobsPerS >= rate * 0.95
    return [r.candidate, String(r.startMs), `${r.rssBeforeMb} MB`, `${r.rssStartedMb} MB`, `${r.rssEndMb} MB`, `${r.rssPeakMb} MB`, `${delta} MB`, `${r.lagP50Ms} ms`, `${r.lagP99Ms} ms`, `${r.lagMaxMs} ms`, String(r.jobsPerS), String(r.backlog), `${r.e2eP99Ms} ms`, pass ? 'pass' : 'FAIL']
  })
  const lines = [`Queue engine gate: ${seconds} s at ${rate} jobs/s (gate: Δ RSS ≤ 40 MB from before start to max(end, peak), lag p99 ≤ 5 ms, ≥ 95 % of the rate completed)`, '', `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`)
  lines.push('')
  for (const r of results) if (!('error' in r)) lines.push(`- ${r.candidate}: ${r.note}`)
  return lines.join('\n')
}

async function main (): Promise<void> {
  const { values: opts } = parseArgs({
    options: {
      seconds: { type: 'string', default: '20' },
      rate: { type: 'string', default: '200' },
      only: { type: 'string' },
      child: { type: 'string' },
      prepare: { type: 'string' },
      json: { type: 'boolean', default: false }
    }
  })
  const seconds = Math.max(1, Number(opts.seconds))
  const rate = Math.max(1, Number(opts.rate))
  if (opts.prepare) {
    await preparePglite(opts.prepare)
    process.exit(0)
  }
  if (opts.child) {
    const candidate = opts.child as Candidate
    try {
      process.send!(await measure(candidate, seconds, rate))
    } catch (err) {
      process.send!({ candidate, error: (err as Error).message })
    }
    process.exit(0)
  }
  const chosen = opts.only ? opts.only.split(',') as Candidate[] : [...CANDIDATES]
  for (const c of chosen) if (!CANDIDATES.includes(c)) throw new Error(`unknown candidate ${c} (one of ${CANDIDATES.join(', ')})`)
  const results = []
  for (const c of chosen) {
    process.stderr.write(`running ${c} for ${seconds} s at ${rate} jobs/s…\n`)
    results.push(await runChild(c, seconds, rate))
  }
  if (opts.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n')
  else process.stdout.write(table(results, seconds, rate) + '\n')
}

if (!isMainThread && workerData?.role === 'pglite') await pgliteWorkerMain()
else if (isMainThread) await main()
