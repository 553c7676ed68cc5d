/**
 * The PostgreSQL home of the delivery queue (DESIGN §13), for nodes that share one database: pg-boss
 * keeps the jobs (its queues, retries with backoff, key-ordered FIFO, expiry of abandoned claims),
 * and this module maps ura's DeliveryQueue onto it. What pg-boss does not have, this module adds
 * beside it in the same schema: the queue options pg-boss has no column for (ttl), the pub/sub rooms'
 * events with their per-room sequence, and the transactions that make a batch all or nothing.
 *
 * Mapping in short (docs/delivery.md has the long form):
 * - queue names and ordering keys are escaped into pg-boss's alphabet ([A-Za-z0-9.-/] kept, every
 *   other byte as `_hh`), which keeps them reversible and keeps prefixes prefixes;
 * - job ids become deterministic UUIDs (SHA-1 of the id, version 5 layout), so one id is one pg-boss
 *   job per queue and a repeated enqueue is a conflict pg-boss ignores; the id itself rides in the data;
 * - pg-boss counts in whole seconds: retry delays, the lease of a pulled job and the keep time are
 *   rounded up to the next second.
 */
import { createHash } from 'node:crypto'
import pg from 'pg'
import { PgBoss } from 'pg-boss'
import type { Db as BossDb, JobWithMetadata } from 'pg-boss'
import {
  perQueueSlots,
  QueueError,
  type DeliveryQueue, type EventQuery, type Job, type JobHandler, type JobQuery, type JobState, type NewJob,
  type NewRoomEvent, type Outcome, type QueueOptions, type QueueStats, type RoomEvent
} from './queue.ts'

/** What a job carries in pg-boss's `data` column: the original id, key and payload. */
interface JobData { i: string; k: string | null; p: string }

/** What pg-boss keeps in `output`: a result (base64) after success, an error message after a failure. */
interface JobOutput { r?: string | null; e?: string; value?: { message?: string }; message?: string }

/** A job row as this module reads it straight from pg-boss's table. */
interface JobRow {
  name: string
  id: string
  data: JobData
  state: 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed'
  retry_count: number
  started_on: Date | null
  created_on: Date
  start_after: Date
  completed_on: Date | null
  output: JobOutput | null
}

const JOB_COLUMNS = 'name, id, data, state, retry_count, started_on, created_on, start_after, completed_on, output'

/** pg-boss's longest allowed `expireInSeconds` (24 h): the lease of a pulled job cannot exceed it. */
const MAX_EXPIRE_SECONDS = 24 * 60 * 60
/** How long an undelivered job stays in pg-boss before its own retention deletes it: ten years, so only our ttl decides. */
const RETENTION_SECONDS = 10 * 365 * 24 * 60 * 60
/**
 * How long a pushed attempt may run before pg-boss takes it back as timed out, and so how long the
 * attempts of a node that died stay claimed before another node (or the restarted one) retries them.
 * Attempts end well before: adapters carry the service's deadline (30 s by default).
 */
const PUSH_EXPIRE_SECONDS = 120
/** The push loop's idle poll. */
const POLL_MS = 250
/** The singleton key of a job without an ordering key on a FIFO queue: `_k` cannot come out of `encodeName`. */
const NO_KEY = '_k'

/** Thrown inside publish's transaction to roll it back when the event is already stored. */
const ALREADY_PUBLISHED = new Error('already published')

const KEPT = /[A-Za-z0-9.\-/]/

/** Escapes a name into pg-boss's alphabet, reversibly: kept characters stay, every other UTF-8 byte becomes `_hh`. */
export function encodeName (name: string): string {
  let out = ''
  for (const ch of name) {
    if (KEPT.test(ch)) out += ch
    else for (const byte of Buffer.from(ch, 'utf8')) out += '_' + byte.toString(16).padStart(2, '0')
  }
  return out
}

export function decodeName (encoded: string): string {
  const bytes: number[] = []
  for (let i = 0; i < encoded.length; i++) {
    if (encoded[i] === '_') {
      bytes.push(parseInt(encoded.slice(i + 1, i + 3), 16))
      i += 2
    } else bytes.push(encoded.charCodeAt(i))
  }
  return Buffer.from(bytes).toString('utf8')
}

/** The pg-boss id of a ura job id: the same in every queue, so `find` looks up one UUID. */
export function jobUuid (id: string): string {
  const hash = createHash('sha1').update('ura-delivery-job\0').update(id, 'utf8').digest()
  hash[6] = (hash[6] & 0x0f) | 0x50
  hash[8] = (hash[8] & 0x3f) | 0x80
  const hex = hash.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

const seconds = (ms: number): number => Math.max(0, Math.ceil(ms / 1000))

const STATE_OF: Record<JobRow['state'], JobState> = {
  created: 'queued', retry: 'retry', active: 'active', completed: 'delivered', failed: 'dead', cancelled: 'dead'
}
const BOSS_STATES: Record<JobState, string[]> = {
  queued: ['created'], retry: ['retry'], active: ['active'], delivered: ['completed'], dead: ['failed', 'cancelled']
}

function toJob (row: JobRow): Job {
  const state = STATE_OF[row.state]
  const finished = state === 'delivered' || state === 'dead'
  const output = row.output
  let lastError: string | null = null
  if (output !== null && state !== 'delivered') {
    lastError = output.e ?? output.value?.message ?? output.message ?? null
  }
  return {
    queue: decodeName(row.name),
    id: row.data.i,
    key: row.data.k,
    state,
    attempts: row.started_on === null ? 0 : row.retry_count + 1,
    payload: Buffer.from(row.data.p, 'base64'),
    createdAt: row.created_on,
    nextAt: state === 'queued' || state === 'retry'
      ? row.start_after
      : (finished ? row.completed_on : row.started_on) ?? row.created_on,
    finishedAt: finished ? row.completed_on : null,
    lastError,
    result: state === 'delivered' && typeof output?.r === 'string' ? Buffer.from(output.r, 'base64') : null
  }
}

/** A pg client in a transaction, seen by pg-boss as its database (the `{ db }` option). */
function asBossDb (client: pg.PoolClient): BossDb {
  return { executeSql: async (text, values) => await client.query(text, values as unknown[]) }
}

interface Worker { prefix: string; handler: JobHandler; concurrency: number; perQueue: number; running: number }

export class PgBossQueue implements DeliveryQueue {
  readonly home = 'postgres' as const
  readonly #boss: PgBoss
  readonly #pool: pg.Pool
  readonly #schema: string
  readonly #workers: Worker[] = []
  readonly #inFlight = new Set<Promise<void>>()
  /** Jobs of each queue (encoded name) this node's push workers are running now. */
  readonly #busy = new Map<string, number>()
  #timer: NodeJS.Timeout | undefined
  #looping = false
  #again = false
  #closed = false

  private constructor (boss: PgBoss, pool: pg.Pool, schema: string) {
    this.#boss = boss
    this.#pool = pool
    this.#schema = schema
  }

  /** Connects to `url` (a `postgres://` URL), installs or migrates pg-boss and ura's tables in `schema`. */
  static async open (url: string, opts: { schema?: string } = {}): Promise<PgBossQueue> {
    const schema = opts.schema ?? 'ura_queue'
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`PostgreSQL schema name ${JSON.stringify(schema)}: lower-case letters, digits and _ only`)
    const boss = new PgBoss({
      connectionString: url,
      schema,
      max: 4,
      schedule: false,
      supervise: true,
      // Lapsed claims (a pulled job's lease, a crashed node's pushes) are taken back by the monitor
      // pass: every second, so a lease is honoured to within about a second.
      superviseIntervalSeconds: 1,
      monitorIntervalSeconds: 1,
      maintenanceIntervalSeconds: 60,
      registerInstance: false
    })
    // pg-boss reports background failures as events; without a listener an 'error' event would end the process.
    boss.on('error', () => {})
    await boss.start()
    const pool = new pg.Pool({ connectionString: url, max: 6 })
    pool.on('error', () => {})
    try {
      await pool.query(`
        CREATE TABLE IF NOT EXISTS ${schema}.ura_queue (
          name text PRIMARY KEY, queue text NOT NULL, fifo boolean NOT NULL, ttl_ms bigint NOT NULL);
        CREATE TABLE IF NOT EXISTS ${schema}.room_seq (room text PRIMARY KEY, seq bigint NOT NULL);
        CREATE TABLE IF NOT EXISTS ${schema}.room_event (
          room text NOT NULL, id text NOT NULL, type text NOT NULL, seq bigint NOT NULL,
          publisher text NOT NULL, published_at timestamptz NOT NULL, data bytea NOT NULL,
          PRIMARY KEY (room, id));
        CREATE UNIQUE INDEX IF NOT EXISTS room_event_seq ON ${schema}.room_event (room, seq);`)
    } catch (err) {
      await pool.end()
      await boss.stop({ graceful: false })
      throw err
    }
    return new PgBossQueue(boss, pool, schema)
  }

  #open (): void {
    if (this.#closed) throw new QueueError('Delivery.Closed', 'the delivery queue is closed')
  }

  async define (queue: string, options: QueueOptions): Promise<void> {
    this.#open()
    const name = encodeName(queue)
    const retry = {
      retryLimit: options.retry.limit,
      retryDelay: seconds(options.retry.delayMs),
      retryBackoff: options.retry.backoff,
      ...(options.retry.backoff ? { retryDelayMax: Math.max(1, seconds(options.retry.maxDelayMs)) } : {})
    }
    const common = {
      ...retry,
      expireInSeconds: PUSH_EXPIRE_SECONDS,
      retentionSeconds: RETENTION_SECONDS,
      deleteAfterSeconds: Math.max(1, seconds(options.keepMs))
    }
    const existing = await this.#boss.getQueue(name)
    if (existing === null) {
      await this.#boss.createQueue(name, { ...common, policy: options.fifo ? 'key_strict_fifo' : 'standard' })
    } else {
      if ((existing.policy === 'key_strict_fifo') !== options.fifo) {
        throw new Error(`queue ${queue}: the PostgreSQL home cannot switch an existing queue ${options.fifo ? 'to' : 'from'} FIFO`)
      }
      await this.#boss.updateQueue(name, common)
    }
    await this.#pool.query(
      `INSERT INTO ${this.#schema}.ura_queue (name, queue, fifo, ttl_ms) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET fifo = EXCLUDED.fifo, ttl_ms = EXCLUDED.ttl_ms`,
      [name, queue, options.fifo, options.ttlMs])
  }

  /** Runs `body` in one transaction on one pooled connection. */
  async #transaction<T> (body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect()
    try {
      await client.query('BEGIN')
      const out = await body(client)
      await client.query('COMMIT')
      return out
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      client.release()
    }
  }

  /** Inserts the jobs through pg-boss inside the caller's transaction; per job, whether it was new. */
  async #insert (client: pg.PoolClient, jobs: NewJob[]): Promise<boolean[]> {
    if (jobs.length === 0) return []
    const names = [...new Set(jobs.map(job => encodeName(job.queue)))]
    const { rows } = await client.query<{ name: string; fifo: boolean }>(
      `SELECT name, fifo FROM ${this.#schema}.ura_queue WHERE name = ANY($1)`, [names])
    const fifo = new Map(rows.map(row => [row.name, row.fifo]))
    for (const job of jobs) {
      if (!fifo.has(encodeName(job.queue))) throw new QueueError('Delivery.UnknownQueue', `no queue ${JSON.stringify(job.queue)} is defined`)
    }
    const db = asBossDb(client)
    const inserted = new Set<string>()
    const seen = new Set<string>()
    // pg-boss refuses a batch that names one id twice: the repeat is dropped here (and reported false below).
    const unique = jobs.filter(job => {
      const key = `${encodeName(job.queue)}\0${job.id}`
      if (seen.has(key)) return false
      seen.add(key)
      return true
    })
    for (const name of names) {
      const batch = unique.filter(job => encodeName(job.queue) === name).map(job => {
        const data: JobData = { i: job.id, k: job.key ?? null, p: job.payload.toString('base64') }
        return {
          id: jobUuid(job.id),
          data,
          ...(fifo.get(name) === true ? { singletonKey: job.key === undefined ? `${NO_KEY}${jobUuid(job.id)}` : encodeName(job.key) } : {})
        }
      })
      const ids = await this.#boss.insert(name, batch, { db, returnId: true }) ?? []
      for (const id of ids) inserted.add(`${name}\0${id}`)
    }
    const fresh = jobs.map(job => {
      const key = `${encodeName(job.queue)}\0${jobUuid(job.id)}`
      const isNew = inserted.has(key)
      inserted.delete(key) // the same id twice in one batch: only the first is new
      return isNew
    })
    // One transaction shares one now(): spread the batch over microseconds so enqueue order is creation order (FIFO).
    const ordered = jobs.filter((_, i) => fresh[i])
    if (ordered.length > 1) {
      await client.query(
        `UPDATE ${this.#schema}.job j SET created_on = j.created_on + (o.n * interval '1 microsecond')
         FROM unnest($1::text[], $2::uuid[]) WITH ORDINALITY AS o(name, id, n)
         WHERE j.name = o.name AND j.id = o.id`,
        [ordered.map(job => encodeName(job.queue)), ordered.map(job => jobUuid(job.id))])
    }
    return fresh
  }

  async enqueue (jobs: NewJob[]): Promise<boolean[]> {
    this.#open()
    const out = await this.#transaction(async client => await this.#insert(client, jobs))
    this.#wake()
    return out
  }

  async publish (event: NewRoomEvent, jobs: NewJob[]): Promise<{ stored: boolean; jobs: boolean[]; seq: number }> {
    this.#open()
    const result = await this.#transaction(async client => {
      // The counter row is the room's lock: a second publisher of the same id waits here, then finds the event.
      const { rows: [{ seq }] } = await client.query<{ seq: string }>(
        `INSERT INTO ${this.#schema}.room_seq (room, seq) VALUES ($1, 1)
         ON CONFLICT (room) DO UPDATE SET seq = room_seq.seq + 1 RETURNING seq`, [event.room])
      const { rowCount } = await client.query(
        `INSERT INTO ${this.#schema}.room_event (room, id, type, seq, publisher, published_at, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (room, id) DO NOTHING`,
        [event.room, event.id, event.type, seq, event.publisher, event.publishedAt, event.data])
      // Already stored: undo the counter's step.
      if (rowCount === 0) throw ALREADY_PUBLISHED
      return { stored: true, jobs: await this.#insert(client, jobs), seq: Number(seq) }
    }).catch((err: unknown) => {
      if (err === ALREADY_PUBLISHED) return undefined
      throw err
    })
    if (result !== undefined) {
      this.#wake()
      return result
    }
    const stored = await this.event(event.room, event.id)
    return { stored: false, jobs: jobs.map(() => false), seq: stored?.seq ?? 0 }
  }

  async events (room: string, query: EventQuery): Promise<RoomEvent[]> {
    this.#open()
    const { rows } = await this.#pool.query(
      `SELECT room, id, type, seq, publisher, published_at, data FROM ${this.#schema}.room_event
       WHERE room = $1 AND ($2::text[] IS NULL OR type = ANY($2)) AND ($3::bigint IS NULL OR seq < $3)
       ORDER BY seq DESC LIMIT $4`,
      [room, query.types ?? null, query.beforeSeq ?? null, query.limit])
    return rows.map(toEvent)
  }

  async event (room: string, id: string): Promise<RoomEvent | undefined> {
    this.#open()
    const { rows } = await this.#pool.query(
      `SELECT room, id, type, seq, publisher, published_at, data FROM ${this.#schema}.room_event WHERE room = $1 AND id = $2`,
      [room, id])
    return rows.length === 0 ? undefined : toEvent(rows[0])
  }

  async #row (name: string, uuid: string): Promise<JobRow | undefined> {
    const { rows } = await this.#pool.query<JobRow>(
      `SELECT ${JOB_COLUMNS} FROM ${this.#schema}.job WHERE name = $1 AND id = $2`, [name, uuid])
    return rows[0]
  }

  /**
   * Claims up to `limit` due jobs of one queue through pg-boss; a claimed job already past its queue's
   * ttl is failed for good (`expired`) instead of handed out. `leaseMs` sets how long the claim holds.
   */
  async #claim (name: string, limit: number, leaseMs?: number): Promise<JobRow[]> {
    const { rows: [options] } = await this.#pool.query<{ ttl_ms: string }>(
      `SELECT ttl_ms FROM ${this.#schema}.ura_queue WHERE name = $1`, [name])
    if (options === undefined) return []
    const ttlMs = Number(options.ttl_ms)
    for (;;) {
      const claimed = await this.#claimOnce(name, limit, ttlMs, leaseMs)
      // Only expired jobs came up: look again, the next due job may be live.
      if (claimed !== 'expired') return claimed
    }
  }

  async #claimOnce (name: string, limit: number, ttlMs: number, leaseMs?: number): Promise<JobRow[] | 'expired'> {
    return await this.#transaction(async client => {
      const db = asBossDb(client)
      const fetched = await this.#boss.fetch<JobData>(name, { batchSize: limit, includeMetadata: true, db })
      if (fetched.length === 0) return []
      const ids = fetched.map(job => job.id)
      if (leaseMs !== undefined) {
        await client.query(`UPDATE ${this.#schema}.job SET expire_seconds = $3 WHERE name = $1 AND id = ANY($2::uuid[])`,
          [name, ids, Math.min(MAX_EXPIRE_SECONDS, Math.max(1, seconds(leaseMs)))])
      }
      const expired = ttlMs > 0
        ? fetched.filter(job => Date.now() - (job as JobWithMetadata<JobData>).createdOn.getTime() > ttlMs)
        : []
      if (expired.length > 0) await this.#failForGood(db, client, name, expired.map(job => job.id), 'expired')
      const live = ids.filter(id => !expired.some(job => job.id === id))
      if (live.length === 0) return 'expired'
      const { rows } = await client.query<JobRow>(
        `SELECT ${JOB_COLUMNS} FROM ${this.#schema}.job WHERE name = $1 AND id = ANY($2::uuid[]) ORDER BY created_on`, [name, live])
      return rows
    })
  }

  /** Fails active jobs without a further attempt: their retry limit is lowered to what they have used. */
  async #failForGood (db: BossDb, client: pg.PoolClient | pg.Pool, name: string, ids: string[], error: string): Promise<void> {
    await client.query(`UPDATE ${this.#schema}.job SET retry_limit = retry_count WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'active'`, [name, ids])
    await this.#boss.fail(name, ids, { e: error }, { db })
  }

  work (prefix: string, handler: JobHandler, opts: { concurrency: number }): void {
    this.#open()
    const concurrency = Math.max(1, opts.concurrency)
    this.#workers.push({ prefix: encodeName(prefix), handler, concurrency, perQueue: perQueueSlots(concurrency), running: 0 })
    this.#wake()
  }

  /** Runs the push loop now (after an enqueue, a finished handler, or the poll timer). */
  #wake (): void {
    if (this.#closed || this.#workers.length === 0) return
    if (this.#looping) {
      this.#again = true
      return
    }
    clearTimeout(this.#timer)
    this.#looping = true
    this.#pass().catch(() => {}).finally(() => {
      this.#looping = false
      if (this.#closed) return
      if (this.#again) {
        this.#again = false
        this.#wake()
      } else this.#timer = setTimeout(() => this.#wake(), POLL_MS)
    })
  }

  /** One pass: for each worker with free slots, the queues under its prefix that have due jobs, claimed and handed out. */
  async #pass (): Promise<void> {
    for (const worker of this.#workers) {
      if (this.#closed) return
      let free = worker.concurrency - worker.running
      if (free <= 0) continue
      const { rows } = await this.#pool.query<{ name: string }>(
        `SELECT DISTINCT j.name FROM ${this.#schema}.job j
         WHERE starts_with(j.name, $1) AND j.state < 'active' AND j.start_after <= now()`, [worker.prefix])
      for (const { name } of rows.sort(() => Math.random() - 0.5)) {
        if (free <= 0 || this.#closed) break
        const room = Math.min(free, worker.perQueue - (this.#busy.get(name) ?? 0))
        if (room <= 0) continue
        const jobs = await this.#claim(name, room)
        for (const row of jobs) {
          free--
          this.#run(worker, row)
        }
      }
    }
  }

  #run (worker: Worker, row: JobRow): void {
    worker.running++
    this.#busy.set(row.name, (this.#busy.get(row.name) ?? 0) + 1)
    const running = (async () => {
      let outcome: Outcome
      try {
        outcome = await worker.handler(toJob(row))
      } catch (err) {
        outcome = { ok: false, error: err instanceof Error ? err.message : String(err) }
      }
      const attempt = { id: row.id, retryCount: row.retry_count }
      try {
        if (outcome.ok) {
          await this.#boss.complete(row.name, attempt, { r: outcome.result?.toString('base64') ?? null })
        } else if (outcome.retry === false) {
          await this.#transaction(async client => {
            await client.query(`UPDATE ${this.#schema}.job SET retry_limit = retry_count WHERE name = $1 AND id = $2 AND state = 'active' AND retry_count = $3`,
              [row.name, row.id, row.retry_count])
            await this.#boss.fail(row.name, attempt, { e: outcome.error }, { db: asBossDb(client) })
          })
        } else {
          await this.#boss.fail(row.name, attempt, { e: outcome.error })
        }
      } catch {
        // The database went away mid-settle: the claim lapses and pg-boss hands the job out again.
      }
    })()
    this.#inFlight.add(running)
    void running.finally(() => {
      this.#inFlight.delete(running)
      worker.running--
      const left = (this.#busy.get(row.name) ?? 1) - 1
      if (left > 0) this.#busy.set(row.name, left)
      else this.#busy.delete(row.name)
      this.#wake()
    })
  }

  async fetch (queue: string, leaseMs: number): Promise<Job | undefined> {
    this.#open()
    const name = encodeName(queue)
    const [row] = await this.#claim(name, 1, leaseMs)
    return row === undefined ? undefined : toJob(row)
  }

  async complete (queue: string, id: string, result?: Buffer): Promise<boolean> {
    this.#open()
    const res = await this.#boss.complete(encodeName(queue), jobUuid(id), { r: result?.toString('base64') ?? null }) as { affected?: number }
    if ((res.affected ?? 0) > 0) return true
    return false
  }

  async get (queue: string, id: string): Promise<Job | undefined> {
    this.#open()
    const row = await this.#row(encodeName(queue), jobUuid(id))
    return row === undefined ? undefined : toJob(row)
  }

  async find (id: string): Promise<Job[]> {
    this.#open()
    const { rows } = await this.#pool.query<JobRow>(
      `SELECT ${JOB_COLUMNS} FROM ${this.#schema}.job WHERE id = $1 ORDER BY name`, [jobUuid(id)])
    return rows.filter(row => row.data?.i === id).map(toJob)
  }

  async list (query: JobQuery): Promise<Job[]> {
    this.#open()
    const { rows } = await this.#pool.query<JobRow>(
      `SELECT ${JOB_COLUMNS} FROM ${this.#schema}.job
       WHERE ($1::text IS NULL OR name = $1) AND ($2::text IS NULL OR starts_with(name, $2))
         AND ($3::text[] IS NULL OR state::text = ANY($3))
       ORDER BY created_on, name LIMIT $4`,
      [query.queue === undefined ? null : encodeName(query.queue), query.prefix === undefined ? null : encodeName(query.prefix),
        query.state === undefined ? null : BOSS_STATES[query.state], query.limit])
    return rows.map(toJob)
  }

  async redrive (queue: string, ids?: string[]): Promise<number> {
    this.#open()
    const { rowCount } = await this.#pool.query(
      `UPDATE ${this.#schema}.job SET state = 'created', retry_count = 0, started_on = NULL, completed_on = NULL,
         start_after = now(), keep_until = now() + $3 * interval '1 second'
       WHERE name = $1 AND state IN ('failed', 'cancelled') AND ($2::uuid[] IS NULL OR id = ANY($2))`,
      [encodeName(queue), ids === undefined ? null : ids.map(jobUuid), RETENTION_SECONDS])
    this.#wake()
    return rowCount ?? 0
  }

  async stats (): Promise<QueueStats[]> {
    this.#open()
    const { rows } = await this.#pool.query<{ queue: string; state: JobRow['state'] | null; n: string; oldest: Date | null }>(
      `SELECT q.queue, j.state, count(j.id) AS n, min(j.created_on) FILTER (WHERE j.state < 'completed') AS oldest
       FROM ${this.#schema}.ura_queue q LEFT JOIN ${this.#schema}.job j ON j.name = q.name
       GROUP BY q.queue, j.state ORDER BY q.queue`)
    const out = new Map<string, QueueStats>()
    const now = Date.now()
    for (const row of rows) {
      let stats = out.get(row.queue)
      if (stats === undefined) {
        stats = { queue: row.queue, queued: 0, active: 0, retry: 0, delivered: 0, dead: 0, oldestMs: 0 }
        out.set(row.queue, stats)
      }
      if (row.state === null) continue
      stats[STATE_OF[row.state]] += Number(row.n)
      if (row.oldest !== null) stats.oldestMs = Math.max(stats.oldestMs, now - row.oldest.getTime())
    }
    return [...out.values()]
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#timer)
    while (this.#looping) await new Promise(resolve => setTimeout(resolve, 10))
    await Promise.allSettled([...this.#inFlight])
    await this.#boss.stop({ graceful: true, close: true, timeout: 5000 })
    await this.#pool.end()
  }
}

function toEvent (row: { room: string; id: string; type: string; seq: string; publisher: string; published_at: Date; data: Buffer }): RoomEvent {
  return { room: row.room, id: row.id, type: row.type, seq: Number(row.seq), publisher: row.publisher, publishedAt: row.published_at, data: row.data }
}
