/**
 * The curl commands in README.md and docs/*.md work exactly as printed. The demo is started the way
 * `npm start` starts it (fixed ports 8443, 8444 and 4401–4403, the PKI in data/), every curl command in a
 * fenced `sh` / `bash` / `shell` block is run through the shell, and where the page shows what the
 * command prints (the output block right after), the answer must agree: the HTTP status, the
 * X-Road-Error header and the SOAP faultcode for `curl -i` outputs, the shown text (with `…` for
 * anything) for the others. In a block marked `steps` (a walk-through, docs/operating.md) every
 * command runs, not only curl. The demo starts on a fresh registry (docs/operating.md onboards a
 * municipality, which can happen once per registry). Blocks marked `no-check` and `text` blocks are not run
 * (docs/README.md explains the conventions).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import t from 'tap'

const ROOT = resolve(import.meta.dirname, '..')
const DEMO_PORTS = [8443, 8444, 4401, 4402, 4403]
const SHELL_BLOCKS = new Set(['sh', 'bash', 'shell'])

/** A fenced block: `line` is the 1-based line of its opening fence, `end` the 0-based index of its closing one. */
interface Block { line: number; end: number; info: string[]; text: string }
interface Command { file: string; line: number; command: string; expected?: string }

/** Fenced code blocks of a Markdown page, dedented (blocks inside list items are indented). */
function fencedBlocks (lines: string[]): Block[] {
  const blocks: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(.*)$/.exec(lines[i])
    if (open === null) continue
    const [, indent, fence, info] = open
    const body: string[] = []
    let j = i + 1
    while (j < lines.length && !(lines[j].trim().startsWith(fence) && lines[j].trim().replace(/[`~]/g, '') === '')) {
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart())
      j++
    }
    blocks.push({ line: i + 1, end: j, info: info.trim().split(/\s+/).filter(Boolean), text: body.join('\n') })
    i = j
  }
  return blocks
}

/** The curl commands of a page, each with the output the page shows for it (if any). */
function curlCommands (file: string): Command[] {
  const lines = readFileSync(file, 'utf8').split('\n')
  const blocks = fencedBlocks(lines)
  const out: Command[] = []
  blocks.forEach((block, b) => {
    if (!SHELL_BLOCKS.has(block.info[0] ?? '') || block.info.includes('no-check')) return
    // Logical lines: a trailing backslash continues the command on the next line.
    const logical: Array<{ line: number; text: string }> = []
    let current: { line: number; text: string } | undefined
    block.text.split('\n').forEach((raw, k) => {
      const text = raw.replace(/\s+$/, '')
      if (current === undefined) current = { line: block.line + 1 + k, text: '' }
      current.text += (current.text === '' ? '' : ' ') + text.replace(/\\$/, '').trim()
      if (!text.endsWith('\\')) { logical.push(current); current = undefined }
    })
    // A `steps` block is a walk-through: every command in it runs (key making, too), in order.
    const commands = block.info.includes('steps')
      ? logical.filter(l => l.text !== '' && !l.text.startsWith('#'))
      : logical.filter(l => /^curl\s/.test(l.text) || /\|\s*curl\s/.test(l.text))
    if (commands.length === 0) return
    // The next block is this one's output when only blank lines separate them.
    const next = blocks[b + 1]
    const adjacent = next !== undefined && lines.slice(block.end + 1, next.line - 1).every(l => l.trim() === '')
    const expected = adjacent && (next.info.length === 0 || next.info[0] === 'text') ? next.text : undefined
    commands.forEach((c, k) => {
      out.push({ file, line: c.line, command: c.text, ...(k === commands.length - 1 && expected !== undefined ? { expected } : {}) })
    })
  })
  return out
}

const pages = [join(ROOT, 'README.md'), ...readdirSync(join(ROOT, 'docs')).filter(n => n.endsWith('.md')).sort().map(n => join(ROOT, 'docs', n))]
const commands = pages.flatMap(curlCommands)

function portFree (port: number): Promise<boolean> {
  return new Promise(resolve => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

async function startDemo (): Promise<ChildProcess> {
  const busy = []
  for (const port of DEMO_PORTS) if (!await portFree(port)) busy.push(port)
  if (busy.length > 0) throw new Error(`port ${busy.join(', ')} is in use (a demo node still running?): stop it and run the test again`)
  // The documented commands use the development passphrase, which the demo uses when none is set.
  const env = { ...process.env }
  delete env.URA_KEY_PASSPHRASE
  // A fresh demo registry: the walk-through in docs/operating.md registers a municipality once.
  // A fresh registry and a fresh delivery queue (nothing queued, pulled or leased by an earlier run).
  for (const file of ['registry.sqlite', 'delivery.sqlite']) for (const suffix of ['', '-wal', '-shm']) rmSync(join(ROOT, 'data', `${file}${suffix}`), { force: true })
  const child = spawn(process.execPath, ['cli/main.ts', 'start', '--demo'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', d => { output += d })
  child.stderr!.on('data', d => { output += d })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not start within 30 s:\n${output}`)), 30_000)
    child.stdout!.on('data', () => {
      if (output.includes('demo provider systems are running')) { clearTimeout(timer); resolve() }
    })
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`the demo exited (${code}):\n${output}`)) })
  })
  return child
}

async function stopDemo (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

function run (command: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    execFile('bash', ['-o', 'pipefail', '-c', command], { cwd, timeout: 15_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      resolve({ code, stdout, stderr })
    })
  })
}

/** Status codes of the response heads in `curl -i` output, 1xx interim answers left out. */
function finalStatus (output: string): number | undefined {
  const statuses = [...output.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)].map(m => Number(m[1])).filter(s => s >= 200)
  return statuses.at(-1)
}

t.test('the pages hold the documented calls', async t => {
  t.ok(commands.length >= 20, `${commands.length} curl commands found`)
  const readme = commands.filter(c => c.file === join(ROOT, 'README.md'))
  t.ok(readme.length >= 3, 'the README shows at least three calls')
  t.ok(readme.every(c => c.expected !== undefined), 'each README call shows its output')
})

t.test('every curl command in README.md and docs/ works as printed', async t => {
  const demo = await startDemo()
  t.teardown(() => stopDemo(demo))
  // A scratch directory that looks like the top of the repository: commands that write files
  // (evidence.json) write them here, not in the working tree.
  const cwd = mkdtempSync(join(tmpdir(), 'ura-docs-curl-'))
  symlinkSync(join(ROOT, 'data'), join(cwd, 'data'))
  symlinkSync(join(ROOT, 'demo'), join(cwd, 'demo'))
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }))

  for (const c of commands) {
    const where = `${relative(ROOT, c.file)}:${c.line}`
    const res = await run(c.command, cwd)
    t.equal(res.code, 0, `${where}: curl exits 0`, { command: c.command, stderr: res.stderr })
    if (c.expected === undefined) continue
    const expected = c.expected.trim()
    if (/^HTTP\//.test(expected)) {
      const want = finalStatus(expected)
      t.equal(finalStatus(res.stdout), want, `${where}: HTTP ${want}`, { command: c.command, stdout: res.stdout.slice(0, 2000) })
      const error = /^x-road-error:\s*(\S+)/im.exec(expected)
      if (error !== null) {
        t.equal(/^x-road-error:\s*(\S+)/im.exec(res.stdout)?.[1], error[1], `${where}: X-Road-Error ${error[1]}`)
      }
      const fault = /<faultcode>([^<]+)<\/faultcode>/.exec(expected)
      if (fault !== null) {
        t.equal(/<faultcode>([^<]+)<\/faultcode>/.exec(res.stdout)?.[1], fault[1], `${where}: faultcode ${fault[1]}`)
      }
    } else {
      // The shown text, with `…` standing for anything: each piece in order.
      let at = 0
      const missing = expected.split('…').map(p => p.trim()).filter(p => p !== '').find(piece => {
        const found = res.stdout.indexOf(piece, at)
        if (found === -1) return true
        at = found + piece.length
        return false
      })
      t.equal(missing, undefined, `${where}: the output shown on the page`, { stdout: res.stdout.slice(0, 2000) })
    }
  }
})
