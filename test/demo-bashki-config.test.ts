/**
 * The generated configuration of the 61 municipalities (demo/generate-bashki-config.ts): the
 * committed files are what the generator writes; the demo with them loads and builds like any
 * configuration; the rooms and subscriptions name only registered systems, defined services and
 * event types, schemas that compile, and push targets the demo subscriber server answers.
 */
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { request } from 'undici'
import { parse } from 'yaml'
import { loadConfig } from '../config/load.ts'
import { DEMO_BASHKI, EXISTING_NIPTS } from '../demo/bashki-demo.ts'
import {
  CIVIL_ROOM, DEMO_CONFIG_DIR, EVENT_TYPES, TIRANE_ROOM, bashkiYaml, existingMembers, roomsYaml, writeBashkiConfig,
} from '../demo/generate-bashki-config.ts'
import { startDemoSubscriber } from '../demo/subscriber.ts'
import { Registry } from '../registry/registry.ts'
import { BASHKI } from '../schemas/bashki.ts'
import { checkLetter, niptProblem } from '../schemas/checks.ts'
import { PROJECT_SCHEMA_DIR, SchemaLibrary } from '../schemas/library.ts'

const ROOT = resolve(import.meta.dirname, '..')
/** The files that hold the generated NIPTs on purpose. */
const GENERATED = new Set(['demo/generate-bashki-config.ts', 'config/demo/bashki.yaml', 'config/demo/rooms.yaml', 'config/demo/members.yaml'].map(f => join(ROOT, f)))
const run = promisify(execFile)

/** A copy of the demo directory whose WSDL paths still resolve from the temp dir. */
async function demoCopy (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ura-bashki-'))
  for (const name of await readdir(DEMO_CONFIG_DIR)) {
    const text = await readFile(join(DEMO_CONFIG_DIR, name), 'utf8')
    await writeFile(join(dir, name), text.replaceAll('../../schemas/', join(ROOT, 'schemas') + '/'))
  }
  return dir
}

t.test('the committed files are what `npm run demo:bashki` writes', async t => {
  t.equal(readFileSync(join(DEMO_CONFIG_DIR, 'bashki.yaml'), 'utf8'), bashkiYaml(existingMembers(DEMO_CONFIG_DIR)), 'bashki.yaml is up to date')
  t.equal(readFileSync(join(DEMO_CONFIG_DIR, 'rooms.yaml'), 'utf8'), roomsYaml(), 'rooms.yaml is up to date')
  const dir = await demoCopy()
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const members = readFileSync(join(dir, 'members.yaml'), 'utf8')
  const { stdout } = await run(process.execPath, ['demo/generate-bashki-config.ts', '--live', '--dir', dir], { cwd: ROOT })
  t.match(stdout, /wrote/)
  t.equal(readFileSync(join(dir, 'members.yaml'), 'utf8'), members, 'a run on the generated demo adds nothing to members.yaml')
  t.equal(readFileSync(join(dir, 'bashki.yaml'), 'utf8'), readFileSync(join(DEMO_CONFIG_DIR, 'bashki.yaml'), 'utf8'))
})

t.test('the demo NIPTs: valid, distinct, Tiranë and Durrës unchanged, no clash with any NIPT of the project', async t => {
  t.equal(DEMO_BASHKI.length, 61)
  for (const d of DEMO_BASHKI) {
    t.match(d.nipt, /^[A-Z][0-9]{8}[A-Z]$/)
    t.equal(niptProblem(d.nipt), undefined, `${d.bashki.emri} ${d.nipt}`)
  }
  t.equal(new Set(DEMO_BASHKI.map(d => d.nipt)).size, 61)
  for (const [emri, nipt] of Object.entries(EXISTING_NIPTS)) t.equal(DEMO_BASHKI.find(d => d.bashki.emri === emri)!.nipt, nipt, emri)
  // Every identifier-shaped string in the sources, docs and configuration other than the generated files.
  const generated = new Set(DEMO_BASHKI.map(d => d.nipt).filter(n => !Object.values(EXISTING_NIPTS).includes(n)))
  const clashes: string[] = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (['node_modules', '.git', '.tap', 'data'].includes(name) || name.endsWith('.pending')) continue
      const path = join(dir, name)
      if (statSync(path).isDirectory()) { walk(path); continue }
      // docs/demo.md shows one of them on purpose (Berat's).
      if (!/\.(ts|ya?ml|md|json|xml|xsd|wsdl)$/.test(name) || GENERATED.has(path) || path.endsWith(join('docs', 'demo.md'))) continue
      // Naming a generated municipality by its member id (`AL-DEV/NJQV/<NIPT>`, in docs and tests) is a reference, not a clash.
      for (const m of readFileSync(path, 'utf8').matchAll(/(AL-DEV\/NJQV\/)?\b([A-Z][0-9]{8}[A-Z])\b/g)) if (m[1] === undefined && generated.has(m[2])) clashes.push(`${path}: ${m[2]}`)
    }
  }
  walk(ROOT)
  t.same(clashes, [], 'no generated NIPT is used elsewhere')
})

t.test('the demo with the 61 municipalities loads and builds, rooms and subscriptions included', async t => {
  const dir = await demoCopy()
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const config = await loadConfig(dir)
  t.equal(config.members.length, 64, 'the 59 generated members beside the demo\'s five')
  const ids = new Set(config.members.flatMap(m => [`AL-DEV/${m.class}/${m.code}`, ...m.subsystems.map(s => `AL-DEV/${m.class}/${m.code}/${s.code}`)]))
  for (const d of DEMO_BASHKI) {
    const member = config.members.find(m => m.code === d.nipt)!
    t.equal(member.name, `Bashkia ${d.bashki.emri}`)
    t.equal(member.class, 'NJQV')
    t.ok(ids.has(`${d.member}/gjendja-civile`), `${d.slug} has gjendja-civile`)
  }
  t.ok(ids.has(CIVIL_ROOM) && ids.has(TIRANE_ROOM), 'the room subsystems belong to their owners')
  t.same(config.members.find(m => m.code === 'M51305009K')!.subsystems.map(s => s.code), ['ndihma-sociale', 'gjendja-civile'])
  const registry = await Registry.build(config, await SchemaLibrary.load([PROJECT_SCHEMA_DIR]))
  t.teardown(() => registry.close())
  t.same([...registry.rooms.keys()], [CIVIL_ROOM, TIRANE_ROOM])
  t.equal(registry.rooms.get(CIVIL_ROOM)!.subscriptions.filter(s => s.config.mode === 'push').length, 61, 'all 61 municipalities subscribe')
  const { stdout } = await run(process.execPath, ['cli/main.ts', 'config', 'check', dir], { cwd: ROOT })
  t.match(stdout, /valid — instance AL-DEV, 64 members, \d+ client ids, \d+ services, \d+ grants/)
})

t.test('the rooms and subscriptions name what the configuration holds', async t => {
  const dir = await demoCopy()
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  writeBashkiConfig(dir, true)
  const rooms = parse(readFileSync(join(dir, 'rooms.yaml'), 'utf8')) as {
    rooms: Array<{ room: string; title: { sq: string; en: string }; publishers: string[]; eventTypes: Array<{ name: string; schema: { $ref: string }; orderingKey?: string }> }>
    subscriptions: Array<{ id: string; room: string; eventTypes: string[]; subscriber: string; mode: string; push?: { service: string }; fifo?: boolean }>
  }
  const config = await loadConfig(dir)
  const ids = new Set(config.members.flatMap(m => m.subsystems.map(s => `AL-DEV/${m.class}/${m.code}/${s.code}`)))
  const services = new Map(config.services.map(s => [`${s.provider}/${s.code}`, s]))
  const library = await SchemaLibrary.load([PROJECT_SCHEMA_DIR])

  t.same(rooms.rooms.map(r => r.room), [CIVIL_ROOM, TIRANE_ROOM])
  for (const r of rooms.rooms) {
    t.ok(ids.has(r.room), `room ${r.room} is a registered subsystem`)
    for (const p of r.publishers) t.ok(ids.has(p), `publisher ${p} is registered`)
    t.ok(r.title.sq !== '' && r.title.en !== '')
  }
  const civil = rooms.rooms[0]
  t.same(civil.eventTypes.map(e => e.name), [...EVENT_TYPES])
  for (const e of civil.eventTypes) {
    t.equal(e.orderingKey, '/nid')
    t.ok(library.compileBody(e.schema), `${e.schema.$ref} compiles`)
  }
  const birth = { nid: 'M50314123' + checkLetter('M50314123'), emri: 'Ana', mbiemri: 'Hoxha', datelindja: '2025-03-14', gjinia: 'F', vendlindja: 'Tiranë', bashkia: 'Tiranë' }
  t.equal(library.compileBody(civil.eventTypes[0].schema)(birth), true, 'a birth passes the room\'s lindje schema')
  for (const e of rooms.rooms[1].eventTypes) {
    t.equal(e.schema.$ref, `https://ura.gov.al/schemas/transparency/v1/${e.name}`)
    t.ok(library.compileBody(e.schema), `${e.name} compiles`)
  }

  const push = rooms.subscriptions.filter(s => s.mode === 'push')
  t.equal(push.length, 61)
  t.equal(new Set(rooms.subscriptions.map(s => s.id)).size, rooms.subscriptions.length, 'subscription ids are unique')
  const sub = await startDemoSubscriber({ port: 0 })
  t.teardown(() => sub.close())
  for (const s of rooms.subscriptions) {
    t.match(s.id, /^[a-z0-9]+(-[a-z0-9]+)*$/, `${s.id} is a slug`)
    const room = rooms.rooms.find(r => r.room === s.room)
    t.ok(room !== undefined, `${s.id}: its room exists`)
    t.ok(s.eventTypes.every(e => room!.eventTypes.some(x => x.name === e)), `${s.id}: event types of its room`)
    t.ok(ids.has(s.subscriber), `${s.id}: subscriber ${s.subscriber} is registered`)
  }
  // Every push target is a defined service of the subscriber, and its adapter URL reaches the demo subscriber server.
  for (const s of push) {
    t.equal(s.fifo, true)
    const service = services.get(s.push!.service)
    t.ok(service !== undefined, `${s.id}: push service ${s.push!.service} is defined`)
    t.equal(service!.provider, s.subscriber, `${s.id}: the subscriber provides its push target`)
    const url = new URL(service!.adapter.url)
    t.equal(url.origin, 'http://127.0.0.1:4403', 'the demo subscriber port')
    const res = await request(sub.url.replace(/\/bashki$/, '') + url.pathname, { method: 'POST', headers: { 'content-type': 'application/json', 'x-road-id': s.id }, body: '{}' })
    await res.body.dump()
    t.equal(res.statusCode, 200, `${s.id}: ${url.pathname} is answered`)
  }
  t.same(DEMO_BASHKI.map(d => sub.received(d.slug)!.events.map(e => e.id)), DEMO_BASHKI.map(d => [`${d.slug}-ngjarje-civile`]), 'each municipality\'s subscription reaches its own inbox')
  t.same(BASHKI.map(b => b.emri), DEMO_BASHKI.map(d => d.bashki.emri))
})
