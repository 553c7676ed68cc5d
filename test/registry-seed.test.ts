/**
 * `ura start` runs the node on its registry store: the first start seeds an empty store with the
 * configuration directory's registry (version 1, by `ura`), later starts serve what the store holds
 * and say so. The demo's store follows its YAML for as long as it holds nothing but such seeds.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t from 'tap'
import { initPki } from '../certs/dev-pki.ts'
import { Keystore } from '../certs/keystore.ts'
import { registryStoreLocation, seedReason, seedRegistryStore, SEED_AUTHOR } from '../registry/node-store.ts'
import type { RegistryContent } from '../registry/store/index.ts'
import { SqliteRegistryStore } from '../registry/store/sqlite-store.ts'
import { demoConfig, TAX_SERVICE, TEST_PASSPHRASE } from './support/gateway.ts'

const MAIN = resolve(import.meta.dirname, '../cli/main.ts')

/** `ura start --config <dir>` in its own process until it listens; its log lines, then SIGTERM. */
async function startOnce (dir: string): Promise<Array<Record<string, unknown>>> {
  const child = spawn(process.execPath, [MAIN, 'start', '--config', dir], { env: { ...process.env, URA_KEY_PASSPHRASE: TEST_PASSPHRASE }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', d => { output += d })
  child.stderr.on('data', d => { output += d })
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`ura start did not listen within 30 s:\n${output}`)), 30_000)
    child.stdout.on('data', () => { if (output.includes('Server listening at')) { clearTimeout(timer); ok() } })
    child.once('exit', code => { clearTimeout(timer); fail(new Error(`ura start exited (${code}):\n${output}`)) })
  })
  child.removeAllListeners('exit')
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const [code] = await exited
  if (code !== 0) throw new Error(`ura start stopped with ${code}:\n${output}`)
  return output.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>)
}

const messages = (lines: Array<Record<string, unknown>>): string[] => lines.map(l => String(l.msg))

t.test('ura start seeds an empty registry store once, then serves the store', async t => {
  const dataDir = await mkdtemp(join(tmpdir(), 'ura-data-'))
  const config = await demoConfig({ 'node.yaml': s => s.replace(/dataDir: [^\n]*/, `dataDir: ${dataDir}`).replace('port: 8443', 'port: 0') })
  initPki({ keystore: new Keystore(dataDir, { passphrase: TEST_PASSPHRASE }), config })
  const file = registryStoreLocation(config)
  t.equal(file, join(dataDir, 'registry.sqlite'), 'the store is registry.sqlite in the data directory by default')

  const first = messages(await startOnce(config.dir))
  t.ok(first.some(m => /^registry store was empty: seeded version 1 from /.test(m)), 'the first start seeds')
  t.ok(first.includes(`serving registry version 1 from ${file}`), 'and names the version it serves')

  let store = await SqliteRegistryStore.open(file, { instance: 'AL-DEV' })
  const versions = await store.list()
  t.match(versions, [{ version: 1, who: SEED_AUTHOR, why: seedReason(config.dir) }])
  t.match(seedReason(config.dir), /^seeded from the configuration directory /)
  t.equal(versions.length, 1)
  // An operator changes the registry in the store; the YAML files stay as they were.
  await store.commit(c => ({ ...c, access: c.access.filter(g => g.service !== TAX_SERVICE) }), { who: 'ana', why: 'grant withdrawn', expectedVersion: 1 })
  await store.close()

  const second = await startOnce(config.dir)
  t.notOk(messages(second).some(m => /seeded/.test(m)), 'a later start does not seed again')
  t.ok(messages(second).includes(`serving registry version 2 from ${file}`), 'it serves the store\'s version, not the YAML')
  t.ok(second.some(l => l.level === 40 && /the registry files in .* differ from registry version 2, which the node serves/.test(String(l.msg))), 'and warns that the YAML differs')
  store = await SqliteRegistryStore.open(file, { instance: 'AL-DEV' })
  t.equal((await store.list()).length, 2, 'nothing was committed by the second start')
  await store.close()
})

t.test('the demo follows its YAML while the store holds nothing but seeds', async t => {
  const config = await demoConfig()
  const store = await SqliteRegistryStore.open(join(await mkdtemp(join(tmpdir(), 'ura-registry-')), 'registry.sqlite'), { instance: 'AL-DEV' })
  t.teardown(() => store.close())
  t.match(await seedRegistryStore(store, config, { followConfig: true }), { action: 'seeded', version: 1, differs: false })
  t.match(await seedRegistryStore(store, config, { followConfig: true }), { action: 'kept', version: 1, differs: false }, 'unchanged YAML: nothing to do')

  const access = join(config.dir, 'access.yaml')
  await writeFile(access, (await readFile(access, 'utf8')).replace(/\n  # e-Albania may read tax obligations[\s\S]*$/, '\n'))
  t.match(await seedRegistryStore(store, config), { action: 'kept', version: 1, differs: true }, 'a node keeps the store')
  t.match(await seedRegistryStore(store, config, { followConfig: true }), { action: 'followed', version: 2, differs: false }, 'the demo takes the edited YAML as a new version')
  const current = await store.current()
  t.equal(current.who, SEED_AUTHOR)
  t.notOk(current.content.access.some((g: RegistryContent['access'][number]) => g.service === TAX_SERVICE))

  await store.commit(c => c, { who: 'ana', why: 'an operator was here', expectedVersion: 2 })
  await writeFile(access, (await readFile(access, 'utf8')) + '  - service: AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet\n    clients: [AL-DEV/GOV/K11503002N/e-albania]\n')
  t.match(await seedRegistryStore(store, config, { followConfig: true }), { action: 'kept', version: 3, differs: true }, 'once an operator committed, the store is the registry, demo or not')
})
