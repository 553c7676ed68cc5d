/**
 * `npm run bench:fanout`: how fast a room's events reach every municipality. An ura node (child
 * process, signing with ECDSA member keys, embedded message log and delivery queue) carries one room
 * with one event type and a push subscription for each of the 61 municipalities (schemas/data/
 * bashki.json), all pointing at one subscriber server in this process (one path per municipality).
 * A publisher posts events at a fixed rate, each carrying its send time; the subscriber server notes
 * when each municipality got each event. Reported: fan-out latency (publish sent → received) p50/p99/
 * max, deliveries/s, errors, the node's RSS and CPU.
 *
 *   npm run bench:fanout -- [--rate 100] [--seconds 20] [--warmup-seconds 5] [--subscribers 61] [--concurrency N]
 *                           [--offline 10 --offline-seconds 60] [--fifo] [--keys 4] [--profile] [--json]
 *
 * --offline N: N subscribers answer 503 from the start for --offline-seconds while events are
 * published (FIFO per ordering key on); afterwards every subscriber must have every event, at
 * least once, in order per key — the check is printed, with how long the catch-up took.
 * --profile leaves the node's CPU profile in bench/results/profiles/ (read it with profile-summary.ts).
 * bench/run.ts calls runFanout() for its last row.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { initPki } from '../certs/dev-pki.ts'
import { Keystore } from '../certs/keystore.ts'
import { loadConfig } from '../config/load.ts'
import { BENCH_PASSPHRASE, INSTANCE } from './fixtures.ts'
import { cpuSeconds, LAUNCHER_NODE_OPTIONS, rssMb, startRole, threadCpuSeconds } from './procs.ts'

export interface FanoutOptions {
  rate: number
  /** Seconds of publishing at `rate` before the measured ones: their deliveries are checked but their latency is reported apart (the node starts cold: JIT, connections, caches). */
  warmupSeconds: number
  seconds: number
  subscribers: number
  /** Subscribers that answer 503 from the start, for offlineSeconds. */
  offline: number
  offlineSeconds: number
  /** FIFO subscriptions with the event type's ordering key (always on with offline > 0). */
  fifo: boolean
  /** How many ordering-key values the events are spread over. */
  keys: number
  /** node.delivery.concurrency of the node (absent: the node's default). */
  concurrency?: number
  /** Give up waiting for the deliveries this long after the last publication. */
  waitMs?: number
  /** Run the node under `node --cpu-prof`, leaving the profile in this directory. */
  profileDir?: string
}

interface Percentiles { n: number; p50Ms: number; p99Ms: number; maxMs: number }

export interface FanoutResult {
  options: FanoutOptions
  published: number
  publishErrors: number
  publishP99Ms: number
  expected: number
  delivered: number
  missing: number
  duplicates: number
  outOfOrder: number
  refused: number
  /** Events published after the warm-up. */
  latency: Percentiles
  /** Events published during the warm-up. */
  warmupLatency: Percentiles
  /** The subscribers that were never offline. */
  onlineLatency: Percentiles
  deliveriesPerSecond: number
  /** From the first publication to the last first delivery. */
  spanMs: number
  /** From the end of the offline window to the moment every subscriber had every event. */
  catchUpMs?: number
  peakRssMb: number
  cpuSeconds: number
  /** Mean CPU use of the node over the run, in cores. */
  cpuCores: number
  /** The node's CPU over the run by kind of thread, in µs per delivery made (Linux only; empty elsewhere). */
  cpuPerDeliveryUs: Record<string, number>
  /** This process's CPU (publisher and subscriber server) in µs per delivery made. */
  benchCpuPerDeliveryUs: number
}

const ROOM_OWNER = `${INSTANCE}/GOV/L01417001D`
const ROOM = `${ROOM_OWNER}/ngjarje-civile`
const PUBLISHER = `${ROOM_OWNER}/regjistri-civil`

interface Municipality { slug: string; name: string; code: string }

/** The 61 bashki with slugs and NIPT-shaped member codes made up for the bench. */
export function municipalities (): Municipality[] {
  const data = JSON.parse(readFileSync(resolve(import.meta.dirname, '../schemas/data/bashki.json'), 'utf8')) as { bashki: Array<{ n: number; emri: string; ascii: string }> }
  return data.bashki.map(b => ({
    slug: b.ascii.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
    name: `Bashkia ${b.emri}`,
    code: `L${String(61000000 + b.n * 1013).padStart(8, '0')}${String.fromCharCode(65 + (b.n % 26))}`,
  }))
}

/** The node's configuration: the room, its publisher, and one member, push service and subscription per municipality. */
function fanoutYaml (o: FanoutOptions, dataDir: string, subscriberUrl: string, subs: Municipality[]): string {
  const fifo = o.fifo || o.offline > 0
  const lines = [
    'node:',
    `  instance: ${INSTANCE}`,
    '  listen: { host: 127.0.0.1, port: 0 }',
    `  dataDir: ${JSON.stringify(dataDir)}`,
    '  log: { store: embedded }',
    ...(o.concurrency === undefined ? [] : [`  delivery: { concurrency: ${o.concurrency} }`]),
    'members:',
    '  - class: GOV',
    '    code: L01417001D',
    '    name: Regjistri Kombëtar i Gjendjes Civile',
    '    subsystems: [{ code: regjistri-civil, connection: http }, { code: ngjarje-civile }]',
    ...subs.flatMap(m => [
      '  - class: NJQV',
      `    code: ${m.code}`,
      `    name: ${JSON.stringify(m.name)}`,
      '    subsystems: [{ code: gjendja-civile }]',
    ]),
    'services:',
    ...subs.flatMap(m => [
      `  - provider: ${INSTANCE}/NJQV/${m.code}/gjendja-civile`,
      '    code: ngjarje',
      '    type: rest',
      `    adapter: { kind: rest, url: "${subscriberUrl}/${m.slug}", connections: 8 }`,
      '    timeoutMs: 5000',
      '    resilience: { breaker: { enabled: false } }',
    ]),
    'rooms:',
    `  - room: ${ROOM}`,
    '    title: { sq: Ngjarjet e gjendjes civile }',
    `    publishers: [${PUBLISHER}]`,
    // Retries every second (no backoff) for as long as a subscriber may be away in this bench.
    '    delivery: { retry: { limit: 1000, delayMs: 1000, backoff: false, maxDelayMs: 1000 } }',
    '    eventTypes:',
    '      - name: lindje',
    '        orderingKey: /nid',
    '        schema:',
    '          type: object',
    '          additionalProperties: false',
    '          required: [nid, n, sentAt]',
    '          properties: { nid: { type: string }, n: { type: integer }, sentAt: { type: number }, emri: { type: string } }',
    'subscriptions:',
    ...subs.map(m => `  - { id: ${m.slug}, room: ${ROOM}, eventTypes: [lindje], subscriber: ${INSTANCE}/NJQV/${m.code}/gjendja-civile, mode: push, push: { service: ${INSTANCE}/NJQV/${m.code}/gjendja-civile/ngjarje, path: /ngjarje }, fifo: ${fifo} }`),
  ]
  return lines.join('\n') + '\n'
}

/** What one subscriber got: first receipt time per event id, copies per id, the order of first receipts. */
interface Inbox { first: Map<string, number>; copies: Map<string, number>; order: Array<{ key: string; id: string }>; refused: number }

function percentiles (values: number[]): Percentiles {
  const v = [...values].sort((a, b) => a - b)
  const at = (q: number): number => v.length === 0 ? NaN : v[Math.min(v.length - 1, Math.floor(q * v.length))]
  return { n: v.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: v.length === 0 ? NaN : v[v.length - 1] }
}

export async function runFanout (o: FanoutOptions): Promise<FanoutResult> {
  const fifo = o.fifo || o.offline > 0
  const subs = municipalities().slice(0, Math.max(1, Math.min(61, o.subscribers)))
  const offline = new Set(subs.slice(0, Math.min(o.offline, subs.length)).map(m => m.slug))
  const inbox = new Map<string, Inbox>(subs.map(m => [m.slug, { first: new Map(), copies: new Map(), order: [], refused: 0 }]))
  const sentAt = new Map<string, number>()
  let offlineUntil = Infinity // set when publishing starts
  let lastFirst = 0
  let firstDeliveries = 0
  let allDoneAt = NaN
  let expected = Infinity
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const now = performance.now()
      const slug = (req.url ?? '').split('/')[1] ?? ''
      const box = inbox.get(slug)
      if (box === undefined) { res.writeHead(404).end(); return }
      if (offline.has(slug) && now < offlineUntil) { box.refused++; res.writeHead(503).end(); return }
      const id = String(req.headers['x-road-id'] ?? '')
      const copies = (box.copies.get(id) ?? 0) + 1
      box.copies.set(id, copies)
      if (copies === 1) {
        box.first.set(id, now)
        const ev = JSON.parse(Buffer.concat(chunks).toString()) as { nid: string }
        box.order.push({ key: ev.nid, id })
        lastFirst = now
        if (++firstDeliveries === expected) allDoneAt = now
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>(ok => server.listen(0, '127.0.0.1', ok))
  const subscriberUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`

  const dataDir = await mkdtemp(join(tmpdir(), 'ura-fanout-data-'))
  const configDir = await mkdtemp(join(tmpdir(), 'ura-fanout-'))
  await writeFile(join(configDir, 'ura.yaml'), fanoutYaml(o, dataDir, subscriberUrl, subs))
  initPki({ keystore: new Keystore(dataDir, { passphrase: BENCH_PASSPHRASE }), config: await loadConfig(configDir), memberKeyType: 'ec-p256' })
  const node = await startRole(['ura', configDir, dataDir, 'plain', 'log', 'delivery'], [...LAUNCHER_NODE_OPTIONS, ...(o.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`])])
  const pid = node.child.pid!
  const pool = new Pool(node.url, { connections: 32, keepAliveTimeout: 30_000 })
  let peakRss = await rssMb(pid)
  const rssTimer = setInterval(() => { void rssMb(pid).then(v => { peakRss = Math.max(peakRss, v) }) }, 250)
  const cpu0 = await cpuSeconds(pid)
  const threads0 = await threadCpuSeconds(pid)
  const bench0 = process.cpuUsage()
  try {
    // Publish at a fixed rate (open loop): event i is due at t0 + i / rate, whatever the node's answers.
    const total = Math.round(o.rate * (o.warmupSeconds + o.seconds))
    const warmupEnds = Math.round(o.rate * o.warmupSeconds)
    const warmup = new Set<string>()
    const keys = Array.from({ length: Math.max(1, o.keys) }, (_, i) => `J0010${String(1000 + i).padStart(4, '0')}X`)
    let publishErrors = 0
    let published = 0
    const publishMs: number[] = []
    const inFlight = new Set<Promise<void>>()
    const t0 = performance.now()
    offlineUntil = offline.size === 0 ? -Infinity : t0 + o.offlineSeconds * 1000
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / o.rate
      const wait = due - performance.now()
      if (wait > 1) await new Promise(ok => setTimeout(ok, wait))
      const id = randomUUID()
      const at = performance.now()
      sentAt.set(id, at)
      if (i < warmupEnds) warmup.add(id)
      const body = JSON.stringify({ nid: keys[i % keys.length], n: i, sentAt: at, emri: `Fëmija ${i}` })
      const p = pool.request({ method: 'POST', path: `/r1/${ROOM}/pub/v1/lindje`, headers: { 'content-type': 'application/json', 'x-road-client': PUBLISHER, 'x-road-id': id }, body })
        .then(async res => {
          await res.body.text()
          if (res.statusCode === 201) { published++; publishMs.push(performance.now() - at) } else { publishErrors++; sentAt.delete(id) }
        }, () => { publishErrors++; sentAt.delete(id) })
        .finally(() => { inFlight.delete(p) })
      inFlight.add(p)
    }
    await Promise.all([...inFlight])
    const publishedAt = performance.now()
    expected = published * subs.length
    if (firstDeliveries >= expected) allDoneAt = lastFirst
    // Wait for every subscriber to have every published event (or give up).
    const waitMs = o.waitMs ?? Math.max(60_000, (offline.size > 0 ? o.offlineSeconds * 1000 : 0) + 120_000)
    while (firstDeliveries < expected && performance.now() - publishedAt < waitMs) await new Promise(ok => setTimeout(ok, 100))
    // A moment more for repeats to show up, if there are any.
    await new Promise(ok => setTimeout(ok, 500))
    const cpu = await cpuSeconds(pid) - cpu0
    const threads = await threadCpuSeconds(pid)
    const bench = process.cpuUsage(bench0)
    const perDelivery = (seconds: number): number => firstDeliveries === 0 ? NaN : seconds * 1e6 / firstDeliveries
    const cpuPerDeliveryUs = Object.fromEntries(Object.entries(threads).map(([kind, s]) => [kind, perDelivery(s - (threads0[kind] ?? 0))]))
    const wallS = (performance.now() - t0) / 1000
    // FIFO promises the node's publication order, which concurrent publications may not share with
    // the publisher's sending order: the node tells each event's sequence in the room.
    const seqOf = new Map<string, number>()
    if (fifo) {
      await Promise.all([...sentAt.keys()].map(async id => {
        const res = await pool.request({ method: 'GET', path: `/r1/${ROOM}/pub/v1/lindje/${id}`, headers: { 'x-road-client': PUBLISHER } })
        const status = JSON.parse(await res.body.text()) as { sequence?: number }
        if (typeof status.sequence === 'number') seqOf.set(id, status.sequence)
      }))
    }

    const all: number[] = []
    const warm: number[] = []
    const online: number[] = []
    let missing = 0
    let duplicates = 0
    let outOfOrder = 0
    let refused = 0
    for (const m of subs) {
      const box = inbox.get(m.slug)!
      refused += box.refused
      for (const [id, sent] of sentAt) {
        const got = box.first.get(id)
        if (got === undefined) { missing++; continue }
        if (warmup.has(id)) { warm.push(got - sent); continue }
        all.push(got - sent)
        if (!offline.has(m.slug)) online.push(got - sent)
      }
      for (const c of box.copies.values()) if (c > 1) duplicates += c - 1
      const last = new Map<string, number>()
      for (const { key, id } of box.order) {
        const seq = seqOf.get(id)
        if (seq === undefined) continue
        if ((last.get(key) ?? -1) > seq) outOfOrder++
        last.set(key, Math.max(seq, last.get(key) ?? -1))
      }
    }
    const spanMs = lastFirst - t0
    return {
      options: o,
      published,
      publishErrors,
      publishP99Ms: percentiles(publishMs).p99Ms,
      expected,
      delivered: firstDeliveries,
      missing,
      duplicates,
      outOfOrder,
      refused,
      latency: percentiles(all),
      warmupLatency: percentiles(warm),
      onlineLatency: percentiles(online),
      deliveriesPerSecond: firstDeliveries / (spanMs / 1000),
      spanMs,
      ...(offline.size > 0 && Number.isFinite(allDoneAt) ? { catchUpMs: allDoneAt - offlineUntil } : {}),
      peakRssMb: peakRss,
      cpuSeconds: cpu,
      cpuCores: cpu / wallS,
      cpuPerDeliveryUs,
      benchCpuPerDeliveryUs: perDelivery((bench.user + bench.system) / 1e6),
    }
  } finally {
    clearInterval(rssTimer)
    await pool.close()
    await node.stop()
    await new Promise(ok => server.close(ok))
    server.closeAllConnections()
    await rm(dataDir, { recursive: true, force: true })
    await rm(configDir, { recursive: true, force: true })
  }
}

const fmt = (n: number, digits = 0): string => Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–'

/** The report's lines (bench/run.ts prints them as its last row). */
export function describeFanout (r: FanoutResult): string[] {
  const o = r.options
  const fifo = o.fifo || o.offline > 0
  const l = (p: Percentiles): string => `p50 ${fmt(p.p50Ms)} ms, p99 ${fmt(p.p99Ms)} ms, max ${fmt(p.maxMs)} ms`
  const out = [
    `fan-out: ${o.subscribers} push subscribers, ${fmt(o.rate)} events/s for ${o.seconds} s after ${o.warmupSeconds} s of warm-up at the same rate${fifo ? `, FIFO over ${o.keys} keys` : ''}${o.offline > 0 ? `, ${o.offline} subscribers offline (503) for the first ${o.offlineSeconds} s` : ''}`,
    `  published ${fmt(r.published)} (${fmt(r.publishErrors)} errors, publish p99 ${fmt(r.publishP99Ms, 1)} ms); deliveries ${fmt(r.delivered)} of ${fmt(r.expected)} in ${fmt(r.spanMs / 1000, 1)} s = ${fmt(r.deliveriesPerSecond)} deliveries/s`,
    `  latency publish sent → subscriber received: ${l(r.latency)}${o.offline > 0 ? `; subscribers never offline: ${l(r.onlineLatency)}` : ''}`,
    ...(o.warmupSeconds > 0 ? [`  during the warm-up (node just started, not in the figures above): ${l(r.warmupLatency)}`] : []),
    `  node: peak RSS ${fmt(r.peakRssMb)} MB, CPU ${fmt(r.cpuSeconds, 1)} s (${fmt(r.cpuCores, 2)} cores on average)`,
  ]
  const byThread = Object.entries(r.cpuPerDeliveryUs).filter(([, us]) => us >= 0.5).sort((a, b) => b[1] - a[1])
  if (byThread.length > 0) out.push(`  CPU per delivery: ${byThread.map(([kind, us]) => `${kind} ${fmt(us)} µs`).join(', ')}; this bench (publisher, subscriber server) ${fmt(r.benchCpuPerDeliveryUs)} µs`)
  const goal = o.offline > 0 ? r.onlineLatency : r.latency
  if (o.rate >= 100) out.push(`  p99 < 1 s at ${fmt(o.rate)} events/s${o.offline > 0 ? ' (subscribers never offline)' : ''}: ${goal.p99Ms < 1000 && r.missing === 0 ? 'met' : 'NOT met'}`)
  out.push(`  check: ${r.missing === 0 ? 'every subscriber got every event' : `${fmt(r.missing)} deliveries MISSING`}, ${fmt(r.duplicates)} repeated, ${fifo ? `${fmt(r.outOfOrder)} out of the node's publication order per key` : 'order not checked (FIFO off)'}, ${fmt(r.refused)} refused while offline`)
  if (o.offline > 0) out.push(`  caught up ${r.catchUpMs === undefined ? 'NOT within the wait' : `${fmt(r.catchUpMs / 1000, 1)} s after the offline subscribers came back`}`)
  return out
}

if (process.argv[1] === import.meta.filename) {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '100' },
      seconds: { type: 'string', default: '20' },
      'warmup-seconds': { type: 'string', default: '5' },
      subscribers: { type: 'string', default: '61' },
      offline: { type: 'string', default: '0' },
      'offline-seconds': { type: 'string', default: '60' },
      fifo: { type: 'boolean', default: false },
      keys: { type: 'string', default: '4' },
      concurrency: { type: 'string' },
      profile: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  })
  const options: FanoutOptions = {
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    warmupSeconds: Number(values['warmup-seconds']),
    subscribers: Number(values.subscribers),
    offline: Number(values.offline),
    offlineSeconds: Number(values['offline-seconds']),
    fifo: values.fifo,
    keys: Number(values.keys),
    ...(values.concurrency === undefined ? {} : { concurrency: Number(values.concurrency) }),
    ...(values.profile ? { profileDir: resolve(import.meta.dirname, 'results', 'profiles') } : {}),
  }
  const say = (line: string): void => { (values.json ? process.stderr : process.stdout).write(line + '\n') }
  say(`machine load average ${loadavg().map(l => l.toFixed(1)).join(' ')}, ${cpus().length} CPUs, node ${process.version}`)
  const result = await runFanout(options)
  for (const line of describeFanout(result)) say(line)
  if (values.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n')
}
