/**
 * The audit trail in the console (`/console/audit`): the admin API's trail of operator actions,
 * filtered by operator, action, target and time (typed as Tirana time), in pages that follow the
 * API's keyset (`after` = the previous page's `next`), and one record's page with what the action
 * changed (admin/console/pages/audit-record.ts).
 */
import type { FastifyInstance } from 'fastify'
import type { AuditRecord } from '../../../messagelog/audit/record.ts'
import { html, type Html } from '../html.ts'
import { COMMON, when } from '../i18n.ts'
import { kitOf, sendPage } from '../kit.ts'
import { auditRecordPage } from './audit-record.ts'
import { AUDIT_WORDS, resultBadge } from './audit-words.ts'
import { filterField, readFilters, searchLink, searchPage, timesOf, type Filters } from './search-form.ts'

const FILTERS = ['operator', 'action', 'target', 'from', 'to'] as const
const link = (q: Filters, extra: Filters): string => searchLink('/console/audit', q, extra)

export async function auditPages (app: FastifyInstance): Promise<void> {
  app.get('/console/audit', async (request, reply) => {
    const kit = kitOf(request)
    const t = AUDIT_WORDS[kit.lang]
    const q = readFilters(request.query, [...FILTERS, 'limit', 'after'])
    const { iso, bad: badTimes } = timesOf(q, ['from', 'to'])
    const query: Filters = { operator: q.operator, action: q.action, target: q.target, after: q.after, limit: q.limit ?? '50', ...iso }
    const { items, next, status, problem } = await searchPage<AuditRecord>(kit.api, '/audit', query, badTimes)
    const input = (k: typeof FILTERS[number], type: string): Html => filterField(`f-${k}`, k, t[k], type, q[k], badTimes.has(k) ? t.badTime : undefined)
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
