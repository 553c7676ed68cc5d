/**
 * Crash test of asynchronous exchange: a real node (`ura start`, a child process) takes asynchronous
 * REST POSTs for a `delivery: { mode: async }` service (202) and events published to a room with
 * five push subscribers (201); a provider on loopback plays the service and the five subscribers
 * and records every X-Road-Id it receives, sometimes slowly, so deliveries are in flight; the node
 * is SIGKILLed mid-delivery and started again on the same data, `--rounds` times. Then: every
 * request the client got a 202 for reaches the provider, and every event it got a 201 for reaches
 * every subscriber, at least once (or, when a killed node's claim still holds it, is still in the
 * queue: never lost); duplicates are counted (they carry the same X-Road-Id by construction);
 * `ura log verify` passes.
 *
 *   npm run crash:async [-- --rounds 20 --store embedded|postgres --clients 16 --wait-ms 60000 --final-wait-ms 180000]
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { createServer as netServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { request } from 'undici'
import type { DeliveryQueue } from '../delivery/queue.ts'
import { freshDatabase } from './scratch-db.ts'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    store: { type: 'string', default: 'embedded' },
    clients: { type: 'string', default: '16' },
    'wait-ms': { type: 'string', default: '60000' },
    // The wait for the backlog after the last round (default: --wait-ms); on PostgreSQL a killed node's claims hold for 2 minutes.
    'final-wait-ms': { type: 'string' },
  },
})
const ROOT = resolve(import.meta.dirname, '..')
const URA = join(ROOT, 'bin/ura.js')
const PASSPHRASE = 'crash-async-passphrase'
const PG_DB = 'ura_crash_async'
const PG_URL = `postgres://postgres@127.0.0.1:5432/${PG_DB}`
const POSTGRES = values.store === 'postgres'
const CLIENT = 'AL-DEV/GOV/K11503002N/e-albania'
const SERVICE = 'AL-DEV/NJQV/L21603004L/taksat-vendore/njoftime-crash'
const QUEUE = `svc.${SERVICE}`
const ROOM = 'AL-DEV/GOV/L01417001D/ngjarje-civile'
const SUBSCRIBERS = [1, 2, 3, 4, 5]
const env = { ...process.env, URA_KEY_PASSPHRASE: PASSPHRASE }

async function freePort (): Promise<number> {
  const s = netServer()
  await new Promise<void>(ok => s.listen(0, '127.0.0.1', () => ok()))
  const port = (s.address() as { port: number }).port
  await new Promise(ok => s.close(ok))
  return port
}

/**
 * The provider: records each X-Road-Id it is sent (pushed events under `<subscriber> <id>`, from
 * the path `/sub/<k>`); one request in five takes 0.5–2 s, so deliveries are in flight.
 */
function startProvider (): Promise<{ url: string; received: Map<string, number>; events: Map<string, number>; server: Server }> {
  const received = new Map<string, number>()
  const events = new Map<string, number>()
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const id = req.headers['x-road-id']
      const sub = /^\/sub\/(\d+)/.exec(req.url ?? '')?.[1]
      const slow = Math.random() < 0.2 ? 500 + Math.random() * 1500 : Math.random() * 30
      setTimeout(() => {
        if (typeof id === 'string' && sub !== undefined) events.set(`${sub} ${id}`, (events.get(`${sub} ${id}`) ?? 0) + 1)
        else if (typeof id === 'string') received.set(id, (received.get(id) ?? 0) + 1)
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"pranuar":true}')
      }, slow)
    })
  })
  return new Promise(ok => server.listen(0, '127.0.0.1', () => ok({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, received, events, server })))
}

/** The demo configuration in a scratch directory: its own ports and data, plain HTTP for e-Albania, the async service. */
async function writeConfig (dir: string, providerUrl: string): Promise<{ configDir: string; httpPort: number }> {
  const configDir = join(dir, 'config')
  await cp(join(ROOT, 'config/demo'), configDir, { recursive: true })
  // The demo's 61 subscribers are not running here: this test brings its own room and subscribers.
  await rm(join(configDir, 'rooms.yaml'), { force: true })
  await rm(join(configDir, 'bashki.yaml'), { force: true })
  // The demo's schema and WSDL paths are relative to its directory: made absolute here.
  for (const f of await readdir(configDir)) {
    if (f.endsWith('.yaml')) await writeFile(join(configDir, f), (await readFile(join(configDir, f), 'utf8')).replaceAll('../../schemas/', `${join(ROOT, 'schemas')}/`))
  }
  const [port, httpPort, adminPort] = [await freePort(), await freePort(), await freePort()]
  let node = await readFile(join(configDir, 'node.yaml'), 'utf8')
  node = node
    .replace(/port: 8443.*/, `port: ${port}\n    httpPort: ${httpPort}`)
    .replace(/dataDir: .*/, `dataDir: ${join(dir, 'data')}`)
    .replace(/port: 8444 }/, `port: ${adminPort} }`)
  if (POSTGRES) node = node.replace(/^node:\n/m, `node:\n  log: { store: postgres, url: ${PG_URL} }\n  delivery: { store: '${PG_URL}' }\n`)
  await writeFile(join(configDir, 'node.yaml'), node)
  const members = await readFile(join(configDir, 'members.yaml'), 'utf8')
  await writeFile(join(configDir, 'members.yaml'), members.replace(/( *)- code: e-albania\n/, '$1- code: e-albania\n$1  connection: http\n'))
  await writeFile(join(configDir, 'crash-async.yaml'), `services:
  - provider: AL-DEV/NJQV/L21603004L/taksat-vendore
    code: njoftime-crash
    type: rest
    adapter: { kind: rest, url: ${providerUrl} }
    timeoutMs: 5000
    resilience: { breaker: { enabled: false } }
    delivery: { mode: async, retry: { limit: 100, delayMs: 1000, backoff: false, maxDelayMs: 1000 } }
${SUBSCRIBERS.map(k => `  - provider: AL-DEV/NJQV/L21603004L/taksat-vendore
    code: sub-${k}
    type: rest
    adapter: { kind: rest, url: ${providerUrl}/sub/${k} }
    timeoutMs: 5000
    resilience: { breaker: { enabled: false } }
`).join('')}access:
  - service: ${SERVICE}
    clients: [${CLIENT}]
rooms:
  - room: ${ROOM}
    publishers: [${CLIENT}]
    delivery: { retry: { limit: 100, delayMs: 1000, backoff: false, maxDelayMs: 1000 }, ttlMs: 0 }
    eventTypes: [{ name: prove, schema: { type: object } }]
subscriptions:
${SUBSCRIBERS.map(k => `  - { id: crash-${k}, room: ${ROOM}, eventTypes: [prove], subscriber: AL-DEV/NJQV/L21603004L/taksat-vendore, mode: push, push: { service: AL-DEV/NJQV/L21603004L/taksat-vendore/sub-${k} } }
`).join('')}`)
  return { configDir, httpPort }
}

function ura (args: string[]): Promise<{ code: number; out: string }> {
  return new Promise(done => execFile(process.execPath, [URA, ...args], { env, encoding: 'utf8', timeout: 600_000 }, (err, stdout, stderr) =>
    done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, out: `${stdout}${stderr}` })))
}

async function startNode (configDir: string, base: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [URA, 'start', '--config', configDir], { env, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-4000) })
  const end = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the node exited with ${child.exitCode}: ${stderr}`)
    try {
      const res = await request(`${base}/healthz`)
      await res.body.text()
      if (res.statusCode === 200) return child
    } catch { /* not yet listening */ }
    if (Date.now() > end) throw new Error(`the node did not come up: ${stderr}`)
    await new Promise(r => setTimeout(r, 100))
  }
}

function exited (child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise(r => child.once('exit', () => r()))
}

const resetPg = (): Promise<void> => freshDatabase(PG_DB)

interface Round { round: number; killedAfterMs: number; accepted: number; inFlightAtKill: number; recoveredMs: number }

const rounds = Number(values.rounds)
const waitMs = Number(values['wait-ms'])
const dir = await mkdtemp(join(tmpdir(), 'ura-crash-async-'))
if (POSTGRES) await resetPg()
const provider = await startProvider()
const results: Round[] = []
const acked = new Set<string>()
const ackedEvents = new Set<string>()
let failures = 0
/** Accepted work not yet seen by the provider: requests, and (event, subscriber) pairs. */
const pending = (): number => [...acked].filter(id => !provider.received.has(id)).length +
  [...ackedEvents].reduce((n, id) => n + SUBSCRIBERS.filter(k => !provider.events.has(`${k} ${id}`)).length, 0)
try {
  const { configDir, httpPort } = await writeConfig(dir, provider.url)
  const base = `http://127.0.0.1:${httpPort}`
  const init = await ura(['init', '--config', configDir])
  if (init.code !== 0) throw new Error(`ura init failed: ${init.out}`)
  console.log(`crash test of asynchronous exchange (queued requests and pub/sub events): ${rounds} rounds, ${values.store} home, ${values.clients} clients, SIGKILL after 1.5–3 s of load`)
  let node = await startNode(configDir, base)
  for (let round = 1; round <= rounds; round++) {
    let stopped = false
    let n = 0
    let accepted = 0
    let published = 0
    const client = async (c: number): Promise<void> => {
      while (!stopped) {
        // Odd clients publish events, even ones send queued requests.
        const publishing = c % 2 === 1
        const id = `${publishing ? 'ev' : 'crash'}-${round}-${c}-${n++}`
        try {
          const path = publishing ? `/r1/${ROOM}/pub/v1/prove` : `/r1/${SERVICE}/njoftim`
          const res = await request(`${base}${path}`, { method: 'POST', headers: { 'x-road-client': CLIENT, 'x-road-id': id, 'content-type': 'application/json' }, body: JSON.stringify({ nr: n, teksti: 'njoftim për tatimpaguesin' }) })
          await res.body.text()
          if (res.statusCode === 202) { acked.add(id); accepted++ }
          if (res.statusCode === 201) { ackedEvents.add(id); published++ }
        } catch {
          await new Promise(r => setTimeout(r, 20)) // the node is gone
        }
      }
    }
    const clients = Array.from({ length: Number(values.clients) }, (_, c) => client(c))
    const killedAfterMs = 1500 + Math.floor(Math.random() * 1500)
    await new Promise(r => setTimeout(r, killedAfterMs))
    node.kill('SIGKILL')
    await exited(node)
    stopped = true
    await Promise.all(clients)
    const inFlightAtKill = pending()
    const t0 = Date.now()
    node = await startNode(configDir, base)
    // The restarted node delivers what it had accepted; wait for the backlog to drain (or the wait to run out).
    while (Date.now() - t0 < waitMs && pending() > 0) await new Promise(r => setTimeout(r, 100))
    results.push({ round, killedAfterMs, accepted, inFlightAtKill, recoveredMs: Date.now() - t0 })
    const left = pending()
    console.log(`round ${String(round).padStart(2)}: killed after ${killedAfterMs} ms — ${accepted} accepted (202), ${published} events published (201), ${inFlightAtKill} deliveries owed at the kill, ` +
      `${left === 0 ? `all delivered ${Date.now() - t0} ms after the restart` : `${left} still undelivered after ${waitMs} ms`}`)
  }
  // A last wait for the backlog, then a clean stop.
  const end = Date.now() + Number(values['final-wait-ms'] ?? waitMs)
  while (Date.now() < end && pending() > 0) await new Promise(r => setTimeout(r, 200))
  node.kill('SIGTERM')
  await exited(node)

  const undelivered = [...acked].filter(id => !provider.received.has(id))
  // Not delivered yet is not lost: each must still be a job in the queue (a killed node's claim on PostgreSQL holds for 2 minutes).
  let queue: DeliveryQueue
  if (POSTGRES) queue = await (await import('../delivery/pg-boss-queue.ts')).PgBossQueue.open(PG_URL)
  else queue = (await import('../delivery/sqlite-queue.ts')).SqliteQueue.open(join(dir, 'data', 'delivery.sqlite'))
  const held: Record<string, number> = {}
  let lost = 0
  for (const id of undelivered) {
    const job = await queue.get(QUEUE, `${CLIENT} ${id}`)
    if (job === undefined) lost++
    else held[job.state] = (held[job.state] ?? 0) + 1
  }
  let eventsLost = 0
  let eventsHeld = 0
  for (const id of ackedEvents) {
    for (const k of SUBSCRIBERS) {
      if (provider.events.has(`${k} ${id}`)) continue
      if (await queue.get(`sub.crash-${k}`, id) === undefined) eventsLost++
      else eventsHeld++
    }
  }
  await queue.close()
  const pushes = [...provider.events.values()].reduce((a, b) => a + b, 0)
  const pushedTwice = [...provider.events.values()].filter(c => c > 1).length
  const unackedEvents = new Set([...provider.events.keys()].map(k => k.split(' ')[1]).filter(id => !ackedEvents.has(id))).size
  const deliveries = [...provider.received.values()].reduce((a, b) => a + b, 0)
  const duplicated = [...provider.received.values()].filter(c => c > 1).length
  const extra = deliveries - provider.received.size
  const unacked = [...provider.received.keys()].filter(id => !acked.has(id)).length
  const verify = await ura(['log', 'verify', '--config', configDir, '--quiet'])
  if (lost > 0 || eventsLost > 0 || verify.code !== 0) failures++

  const rows: Array<[string, string]> = [
    ['home', `${values.store}${POSTGRES ? ' (log and queue on PostgreSQL, pg-boss)' : ' (SQLite log and queue)'}`],
    ['rounds (SIGKILL + restart)', String(rounds)],
    ['requests accepted (202)', String(acked.size)],
    ['deliveries owed at a kill (requests and event × subscriber, sum over rounds)', String(results.reduce((a, r) => a + r.inFlightAtKill, 0))],
    ['delivered to the provider (distinct X-Road-Ids)', String(provider.received.size)],
    ['  of them never acknowledged to the client (killed before its 202)', String(unacked)],
    ['deliveries in all (attempts that reached the provider)', String(deliveries)],
    ['X-Road-Ids delivered more than once', `${duplicated} (${extra} extra deliveries, same X-Road-Id each)`],
    ['accepted, not delivered at the end', `${undelivered.length}${undelivered.length === 0 ? '' : ` (still in the queue: ${Object.entries(held).map(([s, c]) => `${c} ${s}`).join(', ') || 'none'})`}`],
    ['accepted and lost (in neither the provider nor the queue)', String(lost)],
    ['events published (201), five push subscribers each', String(ackedEvents.size)],
    ['  pushed (distinct event × subscriber)', `${provider.events.size} of ${ackedEvents.size * SUBSCRIBERS.length} owed (+ ${unackedEvents} events never acknowledged to the publisher)`],
    ['  pushes in all / pairs pushed more than once', `${pushes} / ${pushedTwice} (same X-Road-Id each)`],
    ['  owed, still in the queue at the end', String(eventsHeld)],
    ['  owed and lost (neither pushed nor queued)', String(eventsLost)],
    ['median time to drain the backlog after a restart', `${median(results.map(r => r.recoveredMs))} ms`],
    ['ura log verify', verify.code === 0 ? `passes: ${verify.out.trim().split('\n').at(-1)}` : `FAILS: ${verify.out.trim()}`],
  ]
  console.log('')
  const w = Math.max(...rows.map(r => r[0].length))
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`)
  console.log(failures === 0 ? 'PASS' : 'FAIL')
} finally {
  provider.server.close()
  await rm(dir, { recursive: true, force: true })
}
process.exitCode = failures === 0 ? 0 : 1

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]
}
