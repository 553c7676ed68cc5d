/**
 * The Node options a node runs with: the `ura` launcher's first line gives them, `npm start` gives the
 * same, and the benchmarks start the gateway with them (so they measure what `ura start` runs).
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { delimiter, dirname, resolve } from 'node:path'
import t from 'tap'
import { gatewayNodeOptions, LAUNCHER_NODE_OPTIONS, shebangNodeOptions } from '../bench/procs.ts'

const ROOT = resolve(import.meta.dirname, '..')
const URA = resolve(ROOT, 'bin/ura.js')

t.test('the launcher gives a node 8 MB semi-spaces and a slow-growing old space, and npm start gives the same options', async t => {
  t.same(LAUNCHER_NODE_OPTIONS, ['--max-semi-space-size=8', '--heap-growing-percent=25'])
  const scripts = (JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
  t.equal(scripts.start, `node ${LAUNCHER_NODE_OPTIONS.join(' ')} cli/main.ts start --demo`)
})

t.test('run as a program, the launcher starts Node with its options', async t => {
  // Through the kernel and env(1), as a shell or npx runs it: Node reports its command-line options
  // from a module NODE_OPTIONS loads first. The Node running this test comes first on PATH.
  const probe = 'data:text/javascript,process.stderr.write(`execArgv=${JSON.stringify(process.execArgv)};`)'
  const { code, stderr, stdout } = await new Promise<{ code: number; stdout: string; stderr: string }>(done => {
    execFile(URA, ['--help'], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`, NODE_OPTIONS: `--import=${probe}` },
    }, (err, stdout, stderr) => { done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }) })
  })
  t.equal(code, 0, stderr)
  t.match(stdout, /^Usage: ura/)
  const line = /execArgv=(\[[^\]]*\]);/.exec(stderr)
  t.ok(line, stderr)
  t.same(JSON.parse(line![1]), LAUNCHER_NODE_OPTIONS)
})

t.test('a launcher line is read strictly', async t => {
  t.same(shebangNodeOptions('#!/usr/bin/env node'), [])
  t.same(shebangNodeOptions('#!/usr/bin/env -S node --max-semi-space-size=16 --max-old-space-size=2048'), ['--max-semi-space-size=16', '--max-old-space-size=2048'])
  t.throws(() => shebangNodeOptions('#!/bin/sh'), /not a launcher line for node/)
  t.throws(() => shebangNodeOptions('// no launcher line'), /not a launcher line for node/)
})

t.test("a bench's --node-options: the launcher's by default, none when empty, refused when not options", async t => {
  t.same(gatewayNodeOptions(undefined), LAUNCHER_NODE_OPTIONS)
  t.same(gatewayNodeOptions(''), [])
  t.same(gatewayNodeOptions(' --max-semi-space-size=32  --expose-gc '), ['--max-semi-space-size=32', '--expose-gc'])
  t.throws(() => gatewayNodeOptions('max-semi-space-size=32'), /takes Node options \(each starting with --\)/)
})

t.test("under the launcher's option, a worker started after `ura start` clears it keeps its own young generation", async t => {
  // A child Node with the launcher's options: the main thread and then a worker limited to a 4 MB young
  // generation churn through objects, many of them surviving a scavenge (so V8 grows each nursery to
  // its cap), and report the largest new space they reached, in MB.
  const churn = `(v8) => {
    let keep = [], most = 0
    for (let i = 0; i < 4e6; i++) {
      keep.push({ i, s: 'x' + i })
      if (keep.length > 5e5) keep = []
      if (i % 1e5 === 0) most = Math.max(most, v8.getHeapSpaceStatistics().find(s => s.space_name === 'new_space').space_size)
    }
    return most / 1048576
  }`
  const script = (release: boolean): string => `
    import v8 from 'node:v8'
    import { Worker } from 'node:worker_threads'
    import { releaseSemiSpaceOptions } from ${JSON.stringify(new URL('../cli/thread-memory.ts', import.meta.url).href)}
    if (${release}) releaseSemiSpaceOptions()
    const worker = await new Promise((resolve, reject) => {
      const code = "import v8 from 'node:v8'; import { parentPort } from 'node:worker_threads'; parentPort.postMessage((" + ${JSON.stringify(churn)} + ")(v8))"
      new Worker(new URL('data:text/javascript,' + encodeURIComponent(code)), { resourceLimits: { maxYoungGenerationSizeMb: 4 } })
        .once('message', resolve).once('error', reject)
    })
    console.log(JSON.stringify({ main: (${churn})(v8), worker }))`
  const run = (release: boolean): Promise<{ main: number; worker: number }> => new Promise((resolve, reject) => {
    execFile(process.execPath, [...LAUNCHER_NODE_OPTIONS, '--input-type=module', '-e', script(release)], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${err.message}\n${stderr}`))
      else resolve(JSON.parse(stdout) as { main: number; worker: number })
    })
  })
  // The launcher's semi-space size, in MB: a new space of two of them.
  const semi = Number(/^--max-semi-space-size=(\d+)$/.exec(LAUNCHER_NODE_OPTIONS.find(o => o.startsWith('--max-semi-space-size=')) ?? '')?.[1])
  t.ok(semi > 4, `the launcher sets a semi-space size above the worker's limit: ${semi} MB`)
  const kept = await run(false)
  t.ok(kept.worker >= 2 * semi, `the option wins over the worker's limit while it is set: ${kept.worker} MB of new space`)
  const released = await run(true)
  t.ok(released.worker < 2 * semi, `cleared, the worker keeps to its own limit: ${released.worker} MB of new space`)
  t.ok(released.main >= 2 * semi && released.main < 6 * semi, `and the main thread keeps the launcher's two ${semi} MB semi-spaces: ${released.main} MB (V8's own size follows the host's memory)`)
})
