/**
 * How the console shows what changed, for the audit and versions pages: a unified line diff of two
 * JSON values (pretty-printed with sorted keys, so only real changes differ), and the registry's
 * own diff between two versions (registry/store/diff.ts: entries added, removed, changed by
 * identity). Every line carries a text marker (+, −) besides its colour class.
 */
import type { RegistryDiff } from '../../../registry/store/diff.ts'
import { html, type Html } from '../html.ts'
import { words, type Lang } from '../i18n.ts'

const W = words({
  sq: {
    legend: '+ shtuar · − hequr', same: 'Asnjë ndryshim.', gap: (n: number) => `⋯ ${n} rreshta të pandryshuar`,
    added: 'shtuar', removed: 'hequr', changed: 'ndryshuar',
    sections: { members: 'Anëtarët', subsystems: 'Nënsistemet', groups: 'Grupet', services: 'Shërbimet', grants: 'Të drejtat e aksesit' },
  },
  en: {
    legend: '+ added · − removed', same: 'No difference.', gap: (n: number) => `⋯ ${n} unchanged lines`,
    added: 'added', removed: 'removed', changed: 'changed',
    sections: { members: 'Members', subsystems: 'Subsystems', groups: 'Groups', services: 'Services', grants: 'Access rights' },
  },
})

export interface DiffLine { op: ' ' | '+' | '-'; text: string }

/** Larger middles than this (lines × lines) are shown as all removed, then all added. */
const MAX_CELLS = 4_000_000
const CONTEXT = 3

/** Line diff (longest common subsequence, after trimming the common head and tail). */
export function lineDiff (a: string[], b: string[]): DiffLine[] {
  let head = 0
  while (head < a.length && head < b.length && a[head] === b[head]) head++
  let tail = 0
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++
  const x = a.slice(head, a.length - tail)
  const y = b.slice(head, b.length - tail)
  const middle: DiffLine[] = []
  if (x.length * y.length > MAX_CELLS) {
    middle.push(...x.map(text => ({ op: '-' as const, text })), ...y.map(text => ({ op: '+' as const, text })))
  } else {
    // lcs[i][j]: the common subsequence's length of x[i..] and y[j..].
    const w = y.length + 1
    const lcs = new Uint32Array((x.length + 1) * w)
    for (let i = x.length - 1; i >= 0; i--) {
      for (let j = y.length - 1; j >= 0; j--) lcs[i * w + j] = x[i] === y[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1])
    }
    let i = 0
    let j = 0
    while (i < x.length || j < y.length) {
      if (i < x.length && j < y.length && x[i] === y[j]) { middle.push({ op: ' ', text: x[i] }); i++; j++ } else if (i < x.length && (j === y.length || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) { middle.push({ op: '-', text: x[i] }); i++ } else { middle.push({ op: '+', text: y[j] }); j++ }
    }
  }
  return [...a.slice(0, head).map(text => ({ op: ' ' as const, text })), ...middle, ...a.slice(a.length - tail).map(text => ({ op: ' ' as const, text }))]
}

/** Objects with their keys sorted at every level, so two values print alike where they are alike. */
function sorted (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.keys(value).sort().map(k => [k, sorted((value as Record<string, unknown>)[k])]))
}

function linesOf (value: unknown): string[] {
  return value === undefined || value === null ? [] : JSON.stringify(sorted(value), null, 2).split('\n')
}

/** The unified diff of two JSON values (undefined/null: nothing), unchanged runs folded beyond a few lines of context. */
export function jsonDiff (before: unknown, after: unknown, lang: Lang): Html {
  const t = W[lang]
  const lines = lineDiff(linesOf(before), linesOf(after))
  if (lines.every(l => l.op === ' ')) return html`<p>${t.same}</p>`
  const near = lines.map(() => false)
  lines.forEach((l, i) => { if (l.op !== ' ') for (let k = Math.max(0, i - CONTEXT); k <= Math.min(lines.length - 1, i + CONTEXT); k++) near[k] = true })
  const out: Html[] = []
  for (let i = 0; i < lines.length;) {
    if (!near[i]) {
      let n = 0
      while (i < lines.length && !near[i]) { n++; i++ }
      out.push(html`<span class="diff-gap">${t.gap(n)}</span>`)
      continue
    }
    const l = lines[i++]
    out.push(l.op === '+' ? html`<span class="diff-add">+ ${l.text}</span>` : l.op === '-' ? html`<span class="diff-del">− ${l.text}</span>` : html`<span>  ${l.text}</span>`)
  }
  return html`<p class="hint">${t.legend}</p><pre class="json-diff">${out}</pre>`
}

/** The registry diff route's answer, one list per kind of entry, each under a heading of `level`. */
export function registryDiffView (d: RegistryDiff, lang: Lang, level: 3 | 4 = 3): Html {
  const t = W[lang]
  const kinds = (['members', 'subsystems', 'groups', 'services', 'grants'] as const).filter(k => d[k].added.length + d[k].removed.length + d[k].changed.length > 0)
  if (kinds.length === 0) return html`<p>${t.same}</p>`
  return html`<p class="hint">${t.legend} · ± ${t.changed}</p>${kinds.map(k => html`${level === 3 ? html`<h3>${t.sections[k]}</h3>` : html`<h4>${t.sections[k]}</h4>`}<ul class="diff-list">${[
    d[k].added.map(id => html`<li class="diff-add">+ <code>${id}</code> <span class="muted">(${t.added})</span></li>`),
    d[k].removed.map(id => html`<li class="diff-del">− <code>${id}</code> <span class="muted">(${t.removed})</span></li>`),
    d[k].changed.map(id => html`<li>± <code>${id}</code> <span class="muted">(${t.changed})</span></li>`),
  ]}</ul>`)}`
}
