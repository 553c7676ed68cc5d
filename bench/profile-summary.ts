/**
 * Summarises a `.cpuprofile` (from `npm run bench -- --profile`): self time per function and per
 * file, heaviest first.   node bench/profile-summary.ts bench/results/profiles/<file>.cpuprofile [top]
 */
import { readFile } from 'node:fs/promises'

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
const [file, topArg] = process.argv.slice(2)
const profile = JSON.parse(await readFile(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] }
const self = new Map<number, number>()
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
const total = [...self.values()].reduce((a, b) => a + b, 0)
const byFn = new Map<string, number>()
const byFile = new Map<string, number>()
for (const n of profile.nodes) {
  const us = self.get(n.id) ?? 0
  const where = n.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|gateway|adapters|schemas|config|bench)\//, '$1/')
  const fn = `${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber + 1}`
  byFn.set(fn, (byFn.get(fn) ?? 0) + us)
  const f = where === '' ? `(${n.callFrame.functionName})` : where.replace(/^(node_modules\/(@[^/]+\/)?[^/]+).*/, '$1')
  byFile.set(f, (byFile.get(f) ?? 0) + us)
}
// Inclusive time (a function and everything it called), for the node's own code and its packages.
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const nodeById = new Map(profile.nodes.map(n => [n.id, n]))
const inclusive = new Map<string, number>()
for (const [id, us] of self) {
  const seen = new Set<string>()
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = nodeById.get(cur)!
    const url = n.callFrame.url
    if (!/\/(gateway|adapters|schemas)\//.test(url) || /node_modules/.test(url)) continue
    const key = `${n.callFrame.functionName || '(anonymous)'} ${url.replace(/^.*?\/(gateway|adapters|schemas)\//, '$1/')}:${n.callFrame.lineNumber + 1}`
    if (seen.has(key)) continue
    seen.add(key)
    inclusive.set(key, (inclusive.get(key) ?? 0) + us)
  }
}
const top = Number(topArg ?? 30)
const show = (title: string, m: Map<string, number>): void => {
  console.log(`\n${title}`)
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(100 * v / total).toFixed(1).padStart(5)}%  ${k}`)
}
show('self time by file/package', byFile)
show('self time by function', byFn)
show('inclusive time, node code (gateway/, adapters/, schemas/)', inclusive)
