import { test } from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { BATCH_CHARS, LogDestination } from '../../gateway/ops/process-log.ts'

const FLOOD = resolve(import.meta.dirname, '../fixtures/log-flood.ts')

test('lines are batched, written in order, and flush(done) waits for them', async t => {
  const file = join(await mkdtemp(join(tmpdir(), 'ura-log-')), 'node.log')
  const dest = new LogDestination(file)
  t.teardown(() => dest.end())
  dest.write('{"n":1}\n')
  dest.write('{"n":2}\n')
  t.equal(await readFile(file, 'utf8'), '', 'small lines wait for a batch')
  await new Promise<void>(done => dest.flush(() => done()))
  t.equal(await readFile(file, 'utf8'), '{"n":1}\n{"n":2}\n')
  // Past a batch's size the lines go out without waiting for the timer.
  const many = Array.from({ length: Math.ceil(2 * BATCH_CHARS / 80) }, (_, i) => `{"n":${i},"pad":"${'y'.repeat(60)}"}\n`)
  for (const line of many) dest.write(line)
  await sleep(50)
  t.ok((await readFile(file, 'utf8')).length > BATCH_CHARS, 'a full batch is written at once')
  await sleep(150)
  t.equal(await readFile(file, 'utf8'), '{"n":1}\n{"n":2}\n' + many.join(''), 'the rest follows within the flush interval, in order')
})

async function runFlood (lines: number, mode: 'wait' | 'exit', holdMs: number): Promise<string> {
  const child = spawn(process.execPath, [FLOOD, String(lines), mode], { stdio: ['ignore', 'pipe', 'inherit'] })
  // Not reading for a while: the pipe fills and the child's writes stall, as with a stuck consumer.
  child.stdout.pause()
  await sleep(holdMs)
  const chunks: Buffer[] = []
  child.stdout.on('data', c => chunks.push(c))
  child.stdout.resume()
  await new Promise(done => child.once('close', done))
  return Buffer.concat(chunks).toString('utf8')
}

test('a process that exits at once still writes every buffered line', async t => {
  const out = await runFlood(5000, 'exit', 0)
  const lines = out.split('\n').filter(Boolean)
  t.equal(lines.length, 5000)
  t.same(JSON.parse(lines[4999]).n, 4999)
})

test('a stuck destination cannot grow the backlog without bound: lines are dropped and counted', async t => {
  const written = 120_000 // ≈14 MB of lines, past the 8 MB backlog
  const out = await runFlood(written, 'wait', 800)
  const lines = out.split('\n').filter(Boolean).map(l => JSON.parse(l) as { n?: number; msg?: string })
  const notice = lines.find(l => l.msg !== undefined)
  t.ok(notice, 'a line says how many were dropped')
  const dropped = Number(/^(\d+) log lines dropped/.exec(notice!.msg!)?.[1])
  t.ok(dropped > 0)
  const kept = lines.filter(l => l.n !== undefined)
  t.equal(kept.length + dropped, written, 'every line is either written or counted as dropped')
  t.ok(kept.every((l, i) => i === 0 || l.n! > kept[i - 1].n!), 'written lines keep their order')
})
