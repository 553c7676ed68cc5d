/**
 * A strict reader of the Prometheus text exposition format (0.0.4), so that the tests can check
 * `/metrics` without promtool (which `npm run conformance` still runs). Two readings must agree:
 * the npm parser parse-prometheus-text-format, and the line grammar below, which also checks what
 * that parser lets through — HELP and TYPE once per family and before its samples, families in one
 * block, label and value syntax, no duplicate series, histogram buckets (le ascending, cumulative,
 * ending in +Inf equal to _count, _sum present) — plus the naming rules promtool's linter applies
 * (help text, `_total` on counters and only there, snake_case, `le`/`quantile` kept for their
 * types). A text with any of these faults comes back with a non-empty `problems` list.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format'

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'

export interface Sample {
  /** The line's own name: for a histogram `…_bucket`, `…_sum` or `…_count`. */
  name: string
  labels: Record<string, string>
  value: number
  line: number
}

/** One label set of a histogram: its buckets in the order written, its _count and _sum. */
export interface HistogramSeries {
  labels: Record<string, string>
  buckets: Array<[le: number, count: number]>
  count: number | undefined
  sum: number | undefined
}

export interface Family {
  name: string
  help: string | undefined
  type: MetricType | undefined
  samples: Sample[]
  /** Histograms only: the samples grouped per label set (without `le`). */
  histograms: HistogramSeries[]
}

export interface Exposition {
  families: Map<string, Family>
  /** Everything wrong with the text, one sentence each; empty when the text is valid. */
  problems: string[]
}

const TYPES = new Set<string>(['counter', 'gauge', 'histogram', 'summary', 'untyped'])
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/
const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Inf|NaN)$/
const TIMESTAMP = /^-?\d+$/

/** A number as Prometheus writes it (`+Inf`, `-Inf`, `NaN` included); NaN also for anything else. */
export function promNumber (text: string): number {
  return FLOAT.test(text) ? Number(text.replace(/Inf$/, 'Infinity')) : NaN
}

/** Label set as a stable key (sorted by name). */
export function labelKey (labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
}

const withoutLe = (labels: Record<string, string>): Record<string, string> => {
  const { le: _le, ...rest } = labels
  return rest
}

/** Reads one sample line, or says what is wrong with it. */
function sampleLine (line: string): { name: string; labels: Array<[string, string]>; value: string } | string {
  const name = METRIC_NAME.exec(line)?.[0]
  if (name === undefined) return 'no metric name'
  let pos = name.length
  const labels: Array<[string, string]> = []
  if (line[pos] === '{') {
    pos++
    while (line[pos] !== '}') {
      const label = LABEL_NAME.exec(line.slice(pos))?.[0]
      if (label === undefined) return `bad label name at column ${pos + 1}`
      pos += label.length
      if (line.slice(pos, pos + 2) !== '="') return `label ${label}: expected ="`
      pos += 2
      let value = ''
      for (;;) {
        const c = line[pos]
        if (c === undefined) return `label ${label}: unterminated value`
        pos++
        if (c === '"') break
        if (c === '\\') {
          const e = line[pos++]
          if (e === '\\') value += '\\'
          else if (e === '"') value += '"'
          else if (e === 'n') value += '\n'
          else return `label ${label}: invalid escape \\${e ?? ''}`
        } else {
          value += c
        }
      }
      labels.push([label, value])
      if (line[pos] === ',') pos++
      else if (line[pos] !== '}') return `label ${label}: expected , or } after the value`
    }
    pos++
  }
  const rest = /^[ \t]+(\S+)(?:[ \t]+(\S+))?$/.exec(line.slice(pos))
  if (rest === null) return 'expected a value (and an optional timestamp) after the name and labels'
  if (!FLOAT.test(rest[1])) return `value ${JSON.stringify(rest[1])} is not a number`
  if (rest[2] !== undefined && !TIMESTAMP.test(rest[2])) return `timestamp ${JSON.stringify(rest[2])} is not an integer`
  return { name, labels, value: rest[1] }
}

/** HELP text with its two escapes (`\\`, `\n`) undone, or an error. */
function helpText (raw: string): string | { error: string } {
  let out = ''
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== '\\') { out += raw[i]; continue }
    const e = raw[++i]
    if (e === '\\') out += '\\'
    else if (e === 'n') out += '\n'
    else return { error: `invalid escape \\${e ?? ''}` }
  }
  return out
}

/** Does a sample named `sample` belong to the family block `f`? */
function belongs (f: Family, sample: string): boolean {
  if (f.type === 'histogram') return sample === `${f.name}_bucket` || sample === `${f.name}_sum` || sample === `${f.name}_count`
  if (f.type === 'summary') return sample === f.name || sample === `${f.name}_sum` || sample === `${f.name}_count`
  return sample === f.name
}

/** Reads a whole exposition; every fault found goes to `problems`. */
export function readExposition (text: string): Exposition {
  const problems: string[] = []
  const families = new Map<string, Family>()
  let current: Family | undefined
  const series = new Set<string>()

  if (!text.endsWith('\n')) problems.push('the text does not end with a line feed')
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()

  const open = (name: string, n: number): Family => {
    if (current?.name === name) return current
    let f = families.get(name)
    if (f !== undefined) problems.push(`line ${n}: family ${name} continues after another family (its lines must form one block)`)
    else families.set(name, f = { name, help: undefined, type: undefined, samples: [], histograms: [] })
    current = f
    return f
  }

  lines.forEach((line, i) => {
    const n = i + 1
    if (line === '') return
    if (line.startsWith('#')) {
      const meta = /^# (HELP|TYPE) ([^ ]+)(?: (.*))?$/.exec(line)
      if (meta === null) {
        if (/^#\s*(HELP|TYPE)\b/.test(line)) problems.push(`line ${n}: malformed ${line.slice(0, 40)}`)
        return // any other comment
      }
      const [, kind, name, arg = ''] = meta
      if (METRIC_NAME.exec(name)?.[0] !== name) problems.push(`line ${n}: bad metric name ${JSON.stringify(name)}`)
      const f = open(name, n)
      if (f.samples.length > 0) problems.push(`line ${n}: # ${kind} ${name} comes after samples of its family`)
      if (kind === 'HELP') {
        if (f.help !== undefined) problems.push(`line ${n}: second # HELP for ${name}`)
        const help = helpText(arg)
        if (typeof help === 'string') f.help = help
        else problems.push(`line ${n}: # HELP ${name}: ${help.error}`)
      } else {
        if (f.type !== undefined) problems.push(`line ${n}: second # TYPE for ${name}`)
        if (TYPES.has(arg)) f.type = arg as MetricType
        else problems.push(`line ${n}: # TYPE ${name}: unknown type ${JSON.stringify(arg)}`)
      }
      return
    }
    const parsed = sampleLine(line)
    if (typeof parsed === 'string') {
      problems.push(`line ${n}: ${parsed}: ${line.slice(0, 120)}`)
      return
    }
    const labels: Record<string, string> = {}
    for (const [label, value] of parsed.labels) {
      if (label in labels) problems.push(`line ${n}: label ${label} given twice`)
      if (label.startsWith('__')) problems.push(`line ${n}: label ${label} uses the reserved prefix __`)
      labels[label] = value
    }
    let f = current
    if (f === undefined || !belongs(f, parsed.name)) {
      problems.push(`line ${n}: sample ${parsed.name} is outside its family's block (no # TYPE for it right before)`)
      const owner = [...families.values()].find(x => belongs(x, parsed.name))
      f = owner ?? open(parsed.name, n)
      if (owner === undefined) f.type = 'untyped'
    }
    if (f.type === undefined) problems.push(`line ${n}: sample ${parsed.name} comes before the # TYPE of its family`)
    const key = parsed.name + labelKey(labels)
    if (series.has(key)) problems.push(`line ${n}: duplicate series ${parsed.name}${labelKey(labels)}`)
    series.add(key)
    f.samples.push({ name: parsed.name, labels, value: promNumber(parsed.value), line: n })
  })

  for (const f of families.values()) checkFamily(f, problems)
  crossCheck(text, families, problems)
  return { families, problems }
}

/** Per-family rules: metadata, promtool's lint rules, values by type, histogram structure. */
function checkFamily (f: Family, problems: string[]): void {
  const p = (msg: string): void => { problems.push(`${f.name}: ${msg}`) }
  if (f.help === undefined || f.help.trim() === '') p('no help text')
  if (f.type === undefined) p('no # TYPE')
  if (/[a-z][A-Z]/.test(f.name)) p('metric names are snake_case, not camelCase')
  if (f.name.includes(':')) p('colons are reserved for recording rules')
  if (f.type === 'counter' && !f.name.endsWith('_total')) p('a counter name ends in _total')
  if (f.type !== 'counter' && f.name.endsWith('_total')) p(`a ${f.type ?? 'untyped'} metric must not end in _total (reserved for counters)`)
  const labelNames = new Set(f.samples.flatMap(s => Object.keys(s.labels)))
  for (const l of labelNames) if (/[a-z][A-Z]/.test(l)) p(`label ${l}: label names are snake_case`)
  if (f.type !== 'histogram' && labelNames.has('le')) p('only histograms carry an le label')
  if (f.type !== 'summary' && labelNames.has('quantile')) p('only summaries carry a quantile label')

  for (const s of f.samples) {
    if (f.type === 'counter' && !(s.value >= 0)) p(`line ${s.line}: a counter is never negative or NaN (${s.value})`)
    if (f.type === 'histogram' && s.name !== `${f.name}_sum` && !(s.value >= 0 && Number.isFinite(s.value))) p(`line ${s.line}: a bucket or count is a finite number ≥ 0 (${s.value})`)
  }
  if (f.type === 'histogram') f.histograms = histogramSeries(f, p)
}

function histogramSeries (f: Family, p: (msg: string) => void): HistogramSeries[] {
  const groups = new Map<string, HistogramSeries>()
  for (const s of f.samples) {
    const labels = withoutLe(s.labels)
    const key = labelKey(labels)
    let g = groups.get(key)
    if (g === undefined) groups.set(key, g = { labels, buckets: [], count: undefined, sum: undefined })
    if (s.name === `${f.name}_bucket`) {
      if (s.labels.le === undefined) { p(`line ${s.line}: a bucket without le`); continue }
      const le = promNumber(s.labels.le)
      if (Number.isNaN(le)) p(`line ${s.line}: le=${JSON.stringify(s.labels.le)} is not a number`)
      g.buckets.push([le, s.value])
    } else {
      if ('le' in s.labels) p(`line ${s.line}: ${s.name} must not carry le`)
      if (s.name === `${f.name}_count`) g.count = s.value
      else g.sum = s.value
    }
  }
  for (const g of groups.values()) {
    const where = labelKey(g.labels)
    if (g.buckets.length === 0) p(`${where}: no buckets`)
    for (let i = 1; i < g.buckets.length; i++) {
      const [le0, c0] = g.buckets[i - 1]
      const [le1, c1] = g.buckets[i]
      if (!(le1 > le0)) p(`${where}: bucket le=${le1} does not follow le=${le0} in ascending order`)
      if (!(c1 >= c0)) p(`${where}: buckets are not cumulative (le=${le0}: ${c0}, le=${le1}: ${c1})`)
    }
    const last = g.buckets.at(-1)
    if (last !== undefined && last[0] !== Infinity) p(`${where}: the last bucket is le=${last[0]}, not +Inf`)
    if (g.count === undefined) p(`${where}: no _count`)
    if (g.sum === undefined) p(`${where}: no _sum`)
    if (last !== undefined && last[0] === Infinity && g.count !== undefined && last[1] !== g.count) p(`${where}: the +Inf bucket (${last[1]}) differs from _count (${g.count})`)
  }
  return [...groups.values()]
}

/** The npm parser must read the same families, metadata and (outside histograms) the same samples. */
function crossCheck (text: string, families: Map<string, Family>, problems: string[]): void {
  let theirs: ReturnType<typeof parsePrometheusTextFormat>
  try {
    theirs = parsePrometheusTextFormat(text)
  } catch (err) {
    problems.push(`parse-prometheus-text-format refuses the text: ${(err as Error).message}`)
    return
  }
  const ours = [...families.values()]
  const meta = (list: Array<{ name: string; type?: string; help?: string }>): string => JSON.stringify(list.map(f => [f.name, (f.type ?? 'untyped').toLowerCase(), f.help ?? '']))
  if (meta(theirs) !== meta(ours)) {
    problems.push(`parse-prometheus-text-format reads other families: ${meta(theirs).slice(0, 300)} … against ${meta(ours).slice(0, 300)} …`)
    return
  }
  theirs.forEach((tf, i) => {
    const of = ours[i]
    if (of.type === 'histogram') {
      // The package folds the buckets of all label sets into one object keyed by le (see its
      // README), so only the set of bounds can be compared.
      const theirLe = new Set(tf.metrics.flatMap(m => Object.keys(m.buckets ?? {})).map(promNumber))
      const ourLe = new Set(of.histograms.flatMap(g => g.buckets.map(([le]) => le)))
      if ([...ourLe].some(le => !theirLe.has(le)) || [...theirLe].some(le => !ourLe.has(le))) problems.push(`${of.name}: parse-prometheus-text-format reads other bucket bounds`)
      return
    }
    if (of.type === 'summary') return
    const a = JSON.stringify(tf.metrics.map(m => [labelKey(m.labels ?? {}), String(promNumber(m.value ?? ''))]))
    const b = JSON.stringify(of.samples.map(s => [labelKey(s.labels), String(s.value)]))
    if (a !== b) problems.push(`${of.name}: parse-prometheus-text-format reads other samples: ${a.slice(0, 200)} against ${b.slice(0, 200)}`)
  })
}

/** The value of the sample `name` with exactly these labels, or undefined. */
export function sampleValue (exp: Exposition, family: string, labels: Record<string, string>, name = family): number | undefined {
  const key = labelKey(labels)
  return exp.families.get(family)?.samples.find(s => s.name === name && labelKey(s.labels) === key)?.value
}

/** Every label set of a counter or gauge with its value, keyed by `labelKey`. */
export function seriesOf (exp: Exposition, family: string): Map<string, number> {
  return new Map((exp.families.get(family)?.samples ?? []).map(s => [labelKey(s.labels), s.value]))
}
