/**
 * Small bar charts drawn on the server as inline SVG (no script, nothing loaded): one bar per time
 * bucket, the failed part of each bar in the error colour on top of the rest. The chart carries a
 * text title and description, and the page shows the same figures in a table, so nothing is
 * said only in a picture.
 */
import { html, type Html } from './html.ts'

export interface Bucket { label: string; total: number; errors: number }

export interface ChartInput {
  id: string
  title: string
  description: string
  buckets: Bucket[]
  width?: number
  height?: number
}

export function barChart (input: ChartInput): Html {
  const width = input.width ?? 360
  const height = input.height ?? 120
  const pad = { top: 8, bottom: 18, left: 4, right: 4 }
  const n = Math.max(1, input.buckets.length)
  const max = Math.max(1, ...input.buckets.map(b => b.total))
  const slot = (width - pad.left - pad.right) / n
  const barW = Math.max(1, slot * 0.75)
  const plotH = height - pad.top - pad.bottom
  const bars = input.buckets.map((b, i) => {
    const x = pad.left + i * slot + (slot - barW) / 2
    const h = (b.total / max) * plotH
    const e = (Math.min(b.errors, b.total) / max) * plotH
    const y = pad.top + plotH - h
    return html`<g><title>${b.label}: ${b.total}${b.errors > 0 ? ` (${b.errors} ✗)` : ''}</title><rect class="bar" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${(h - e).toFixed(1)}"></rect>${e > 0 ? html`<rect class="err" x="${x.toFixed(1)}" y="${(pad.top + plotH - e).toFixed(1)}" width="${barW.toFixed(1)}" height="${e.toFixed(1)}"></rect>` : ''}</g>`
  })
  const first = input.buckets[0]?.label ?? ''
  const last = input.buckets.at(-1)?.label ?? ''
  return html`<svg class="chart" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" aria-labelledby="${input.id}-t ${input.id}-d"><title id="${input.id}-t">${input.title}</title><desc id="${input.id}-d">${input.description}</desc>${bars}<text x="${pad.left}" y="${height - 4}">${first}</text><text x="${width - pad.right}" y="${height - 4}" text-anchor="end">${last}</text></svg>`
}
