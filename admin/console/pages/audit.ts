/**
 * The audit trail in the console (`/console/audit`): the admin API's trail of operator actions,
 * filtered by operator, action, target and time (typed as Tirana time), in pages that follow the
 * API's keyset (`after` = the previous page's `next`), and one record's page with what the action
 * changed (admin/console/pages/audit-record.ts).
 */
import type { FastifyInstance } from 'fastify'
import type { AuditRecord } from '../../../messagelog/audit/record.ts'
import { ApiError } from '../api.ts'
import { html, type Html } from '../html.ts'
import { COMMON, when } from '../i18n.ts'
import { kitOf, sendPage } from '../kit.ts'
import { auditRecordPage } from './audit-record.ts'
import { AUDIT_WORDS, resultBadge } from './audit-words.ts'
import { tiranaToIso } from './tirana-time.ts'

const FILTERS = ['operator', 'action', 'target', 'from', 'to'] as const
type Filters = Partial<Record<typeof FILTERS[number] | 'limit' | 'after', string>>

function link (q: Filters, extra: Filters): string {
  const u = new URLSearchParams()
  for (const [k, v] of Object.entries({ ...q, ...extra })) if (v !== undefined && v !== '') u.set(k, v)
  return `/console/audit${u.size > 0 ? `?${u.toString()}` : ''}`
}

export async function auditPages (app: FastifyInstance): Promise<void> {
  app.get('/console/audit', async (request, reply) => {
    const kit = kitOf(request)
    const t = AUDIT_WORDS[kit.lang]
    const raw = request.query as Record<string, unknown>
    const q: Filters = {}
    for (const k of [...FILTERS, 'limit', 'after'] as const) if (typeof raw[k] === 'string' && raw[k] !== '') q[k] = (raw[k] as string).trim()
    const badTimes = new Set<string>()
    const query: Record<string, string | undefined> = { operator: q.operator, action: q.action, target: q.target, after: q.after, limit: q.limit ?? '50' }
    for (const k of ['from', 'to'] as const) {
      if (q[k] === undefined) continue
      const iso = tiranaToIso(q[k])
      if (iso === undefined) badTimes.add(k)
      else query[k] = iso
    }
    let items: AuditRecord[] = []
    let next: number | undefined
    let problem: Html | string = ''
    let status = 200
    if (badTimes.size > 0) {
      status = 400
    } else {
      const a = await kit.api.get<{ items: AuditRecord[]; next?: number }>('/audit', query)
      // A filter the API refuses is shown beside the form; any other refusal is the page's error.
      if (a.status === 400) {
        status = 400
        problem = html`<div class="notice bad" role="alert"><p>${a.problem!.message}</p></div>`
      } else if (!a.ok) {
        throw new ApiError(a.status, a.problem!)
      } else {
        items = a.body.items
        next = a.body.next
      }
    }
    const input = (k: typeof FILTERS[number], type: string): Html => {
      const bad = badTimes.has(k)
      return html`<div class="field${bad ? ' invalid' : ''}"><label for="f-${k}">${t[k]}</label><input id="f-${k}" name="${k}" type="${type}" value="${q[k] ?? ''}"${type === 'datetime-local' ? html` step="1"` : ''}${bad ? html` aria-invalid="true" aria-describedby="f-${k}-bad"` : ''}>${bad ? html`<p class="problem" id="f-${k}-bad">${t.badTime}</p>` : ''}</div>`
    }
    const rows = items.map(r => html`<tr><td><a href="/console/audit/${r.seq}" aria-label="${t.open(r.seq)}">${r.seq}</a></td><td>${when(r.time, kit.lang)}</td><td>${r.operator}</td><td><code>${r.role}</code></td><td><code>${r.action}</code></td><td>${r.target ?? '—'}</td><td>${resultBadge(r, kit.lang)}</td></tr>`)
    const paging: Html[] = []
    if (q.after !== undefined) paging.push(html`<a href="${link(q, { after: undefined })}">${t.first}</a>`)
    if (next !== undefined) paging.push(html`<a href="${link(q, { after: String(next) })}" rel="next">${COMMON[kit.lang].next}</a>`)
    return sendPage(request, reply, {
      title: t.title,
      nav: 'audit',
      status,
      body: html`<h1>${t.title}</h1>
<form class="filters" method="get" action="/console/audit">
${input('operator', 'text')}${input('action', 'text')}${input('target', 'text')}${input('from', 'datetime-local')}${input('to', 'datetime-local')}
${q.limit === undefined ? '' : html`<input type="hidden" name="limit" value="${q.limit}">`}
<div class="actions"><button type="submit">${COMMON[kit.lang].filter}</button></div>
</form>
<p class="hint">${t.zone}</p>
${problem}
${items.length === 0
  ? html`<p>${COMMON[kit.lang].none}</p>`
  : html`<div class="table"><table><caption>${t.entries}</caption><thead><tr><th scope="col">${t.seq}</th><th scope="col">${t.time}</th><th scope="col">${t.operator}</th><th scope="col">${t.role}</th><th scope="col">${t.action}</th><th scope="col">${t.target}</th><th scope="col">${t.result}</th></tr></thead><tbody>${rows}</tbody></table></div>`}
${paging.length === 0 ? '' : html`<nav class="actions" aria-label="${t.paging}">${paging}</nav>`}`,
    })
  })

  app.get('/console/audit/:seq', async (request, reply) => auditRecordPage(request, reply))
}
