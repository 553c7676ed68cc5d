/**
 * What a node loads at start: one on the embedded stores (the default) loads no PostgreSQL client,
 * which its stores import only when a `postgres://` store is opened (docs/benchmarks.md, issue 14's
 * thirteenth round). Checked in a child Node that records every module it loads while it imports
 * what `ura start` imports and opens the embedded registry store.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'

const modules = (code: string): Promise<string[]> => new Promise((resolve, reject) => {
  execFile(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
    if (err !== null) reject(new Error(`${err.message}\n${stderr}`))
    else resolve(JSON.parse(stdout) as string[])
  })
})

const loader = (body: string): string => `
  import { registerHooks } from 'node:module'
  const loaded = []
  registerHooks({ load (url, context, next) { loaded.push(url); return next(url, context) } })
  ${body}
  process.stdout.write(JSON.stringify(loaded))
  process.exit(0)`

const at = (path: string): string => JSON.stringify(new URL(`../${path}`, import.meta.url).href)
const pgClient = (urls: string[]): string[] => urls.filter(u => /\/node_modules\/(pg|pg-pool|pg-boss)\//.test(u))

t.test('a node on the embedded stores loads no PostgreSQL client', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'ura-footprint-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const urls = await modules(loader(`
    await import(${at('cli/start.ts')})
    await import(${at('gateway/server.ts')})
    await import(${at('messagelog/index.ts')})
    await import(${at('messagelog/audit/index.ts')})
    await import(${at('delivery/index.ts')})
    const { openRegistryStore } = await import(${at('registry/store/index.ts')})
    const store = await openRegistryStore(${JSON.stringify(join(dir, 'registry.sqlite'))}, { instance: 'AL-TEST' })
    await store.close()`))
  t.ok(urls.some(u => u.endsWith('/registry/store/sqlite-store.ts')), 'the embedded registry store was loaded and opened')
  t.same(pgClient(urls), [], 'no module of PostgreSQL\'s client was loaded')
})

t.test('the same probe sees the client when a PostgreSQL store module is loaded', async t => {
  // The check above could pass by never seeing node_modules at all: here it must see pg.
  const urls = await modules(loader(`await import(${at('registry/store/pg-store.ts')})`))
  t.ok(pgClient(urls).length > 0, 'pg was loaded with the PostgreSQL registry store')
})
