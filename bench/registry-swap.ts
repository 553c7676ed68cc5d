/**
 * What a registry change costs a running node at national scale: 61 municipalities with 10 REST
 * services each and 100 grants per service (610 services and adapters, 61,000 grants), in the embedded
 * registry store, under a gateway that runs on it. Each round commits a version that changes one grant
 * and waits until the gateway serves it. Reported, median and max over the rounds:
 *
 *   commit       store.commit: schema and cross-checks of the whole content, one SQLite transaction
 *   build+swap   the gateway's own work once it has the version: schema, defaults and cross-checks with
 *                the node's settings, the new snapshot built (unchanged services keep their entries:
 *                adapters, compiled schemas), then the swap (one assignment)
 *   read         reading and parsing the version from the store, before build+swap
 *   to served    from the commit's return to the gateway serving the version (wake, read, build+swap)
 *
 * The grants are written two ways, both run: `entries` (one access entry per client and service: 61,000
 * entries) and `lists` (one entry per service listing its 100 clients, as the demo's YAML does).
 * Services point at http://127.0.0.1:9: no provider is called.
 *
 *   npm run bench:registry [-- --rounds 20 --json]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { parseArgs } from 'node:util'
import { DEMO_CONFIG_DIR } from '../config/defaults.ts'
import { loadConfig } from '../config/load.ts'
import { emptySections } from '../config/registry-sections.ts'
import type { GrantConfig, MemberConfig, ServiceConfig } from '../config/types.ts'
import { buildGateway } from '../gateway/server.ts'
import type { RegistryContent } from '../registry/store/index.ts'
import { SqliteRegistryStore } from '../registry/store/sqlite-store.ts'
import { PROJECT_SCHEMA_DIR, SchemaLibrary } from '../schemas/library.ts'

const { values: opts } = parseArgs({ options: { rounds: { type: 'string', default: '20' }, json: { type: 'boolean', default: false } } })
const ROUNDS = Math.max(1, Number(opts.rounds))
const MUNICIPALITIES = 61
const SERVICES = 10
const GRANTS = 100
const CALLERS = ['gjendja-civile', 'ndihma-sociale']

type Shape = 'entries' | 'lists'

const say = (line: string): void => { (opts.json ? process.stderr : process.stdout).write(line + '\n') }

/** A synthetic member code per municipality (the registry checks its shape, not its check letter). */
const code = (m: number): string => `K${String(10_000_000 + m * 7919).slice(0, 8)}A`

function content (shape: Shape): RegistryContent {
  const members: MemberConfig[] = []
  const services: ServiceConfig[] = []
  const access: GrantConfig[] = []
  const callers: string[] = []
  for (let m = 0; m < MUNICIPALITIES; m++) {
    members.push({ class: 'NJQV', code: code(m), name: `Bashkia ${m + 1}`, subsystems: [{ code: 'sherbime', connection: 'mtls' }, ...CALLERS.map(c => ({ code: c, connection: 'mtls' as const }))] })
    for (const c of CALLERS) callers.push(`AL-DEV/NJQV/${code(m)}/${c}`)
  }
  for (let m = 0; m < MUNICIPALITIES; m++) {
    for (let s = 0; s < SERVICES; s++) {
      const provider = `AL-DEV/NJQV/${code(m)}/sherbime`
      services.push({
        provider,
        code: `sherbimi-${s}`,
        type: 'rest',
        adapter: { kind: 'rest', url: 'http://127.0.0.1:9/api' },
        timeoutMs: 5000,
        bodyLogging: 'digest',
        responseValidation: 'enforce',
        endpoints: [{ method: 'GET', path: '/subjekte/{nipt}', params: { type: 'object', properties: { nipt: { $ref: 'https://ura.gov.al/schemas/core/v1#/definitions/nipt' } } }, response: { type: 'object' } }],
      })
      const clients = Array.from({ length: GRANTS }, (_, g) => callers[(m * 2 + g) % callers.length])
      const service = `${provider}/sherbimi-${s}`
      if (shape === 'lists') access.push({ service, clients, groups: [] })
      else for (const client of clients) access.push({ service, clients: [client], groups: [] })
    }
  }
  return { members, groups: {}, services, access, ...emptySections() }
}

interface Stats { median: number; max: number }
const stats = (xs: number[]): Stats => ({ median: [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)], max: Math.max(...xs) })
const ms = (x: number): string => `${x.toFixed(1)} ms`
const line = (name: string, s: Stats): string => `  ${name.padEnd(12)} median ${ms(s.median).padStart(9)}   max ${ms(s.max).padStart(9)}`

// The demo node's settings without its operators and admin API (the generated registry has none of the demo's members).
const demo = await loadConfig(DEMO_CONFIG_DIR)
const { admin: _admin, ...node } = demo.node
const config = { ...demo, node: { ...node, operators: [] } }
const library = await SchemaLibrary.load([PROJECT_SCHEMA_DIR], config.node.schemas)

async function run (shape: Shape): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'ura-bench-registry-'))
  const store = await SqliteRegistryStore.open(join(dir, 'registry.sqlite'), { instance: config.node.instance })
  const registry = content(shape)
  say(`\n${shape}: ${registry.services.length} services, ${registry.access.length} access entries (${MUNICIPALITIES * SERVICES * GRANTS} grants), ${(Buffer.byteLength(JSON.stringify(registry)) / 1e6).toFixed(1)} MB of JSON`)
  let started = performance.now()
  await store.commit(registry, { who: 'bench', why: 'the national registry', expectedVersion: 0 })
  const firstCommit = performance.now() - started
  // The gateway's log line for each applied version carries its read and build times.
  const applied = new Map<number, { readMs: number; buildMs: number }>()
  const logs = new Writable({
    write (chunk: Buffer, _enc, done) {
      for (const text of chunk.toString().split('\n')) {
        if (!text.includes('"registryVersion"') || !text.includes('applied')) continue
        const entry = JSON.parse(text) as { registryVersion: number; readMs: number; buildMs: number }
        applied.set(entry.registryVersion, entry)
      }
      done()
    },
  })
  started = performance.now()
  const gateway = await buildGateway({ config, library, registryStore: store, logger: { level: 'info', stream: logs } })
  const firstBuild = performance.now() - started
  say(`  first commit ${ms(firstCommit)}; first build (every adapter new), gateway included ${ms(firstBuild)}`)

  const commits: number[] = []
  const served: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    // One grant changes per version: a client of one service gives way to another caller.
    const current = await store.current()
    const change = structuredClone(current.content)
    const grant = change.access[(i * 7919) % change.access.length]
    grant.clients[0] = grant.clients[0] === 'AL-DEV/NJQV/K10000000A/gjendja-civile' ? 'AL-DEV/NJQV/K10000000A/ndihma-sociale' : 'AL-DEV/NJQV/K10000000A/gjendja-civile'
    const t0 = performance.now()
    const version = await store.commit(change, { who: 'bench', why: `round ${i}`, expectedVersion: current.version })
    const t1 = performance.now()
    // The commit wakes the gateway's watch at once (same store object, as the admin API's commits do).
    await gateway.waitForVersion(version.version, 30_000)
    commits.push(t1 - t0)
    served.push(performance.now() - t1)
  }
  if (gateway.registryVersion() !== ROUNDS + 1) throw new Error(`the gateway serves version ${gateway.registryVersion()}, not ${ROUNDS + 1}`)
  const rounds = [...applied.values()]
  const result = {
    shape,
    services: registry.services.length,
    accessEntries: registry.access.length,
    commit: stats(commits),
    buildSwap: stats(rounds.map(r => r.buildMs)),
    read: stats(rounds.map(r => r.readMs)),
    toServed: stats(served),
  }
  say(`  ${ROUNDS} versions, one grant changed in each:`)
  say(line('commit', result.commit))
  say(`${line('build+swap', result.buildSwap)}   (target < 50 ms: ${result.buildSwap.median < 50 ? 'met' : 'NOT met'})`)
  say(line('read', result.read))
  say(line('to served', result.toServed))
  await gateway.close()
  await store.close()
  await rm(dir, { recursive: true, force: true })
  return result
}

const results = [await run('entries'), await run('lists')]
if (opts.json) process.stdout.write(JSON.stringify(results) + '\n')
