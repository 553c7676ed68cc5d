/**
 * The console's first page: how the node is doing and what needs an operator — exchanges per
 * service over the last hour and day with their error rate, the slowest providers, open circuit
 * breakers, certificates expiring, pending applications and access requests. Small charts for the
 * eye, the same figures in tables for screen readers and for exact numbers. All of it through the
 * admin API (`/traffic`, `/applications`, `/access-requests`), as the operator sees it: a
 * municipality's administrator sees its own member's traffic only.
 */
import type { FastifyInstance } from 'fastify'
import { grantName } from '../../roles.ts'
import { barChart, type Bucket } from '../chart.ts'
import { html, type Html } from '../html.ts'
import { when, words, type Lang } from '../i18n.ts'
import { kitOf, sendPage } from '../kit.ts'
import { can } from '../layout.ts'

const W = words({
  sq: {
    title: 'Përmbledhje', roles: 'Rolet tuaja', registry: 'Versioni i regjistrit',
    pendingApplications: 'Aplikime në pritje', pendingAccess: 'Kërkesa për akses në pritje',
    hour: 'Ora e fundit', day: '24 orët e fundit', exchanges: 'Shkëmbime', errorRate: 'Gabime',
    breakers: 'Qarqe të hapura', expiring: 'Certifikata që skadojnë', services: 'Shkëmbimet sipas shërbimit (24 orët e fundit)',
    service: 'Shërbimi', errors: 'Gabime', rate: 'Përqindja e gabimeve', p50: 'Mesatarja (p50)', p95: 'p95', providers: 'Ofruesit më të ngadaltë (24 orët e fundit)',
    provider: 'Ofruesi', slowest: 'Shërbimi më i ngadaltë', noTraffic: 'Asnjë shkëmbim në këtë periudhë.', none: 'Asnjë.',
    chartHour: 'Shkëmbimet në orën e fundit, për 5 minuta', chartDay: 'Shkëmbimet në 24 orët e fundit, për orë',
    chartDesc: (total: number, errors: number) => `${total} shkëmbime, nga të cilat ${errors} me gabim. Shifrat janë edhe në tabelën më poshtë.`,
    state: 'Gjendja', since: 'Që nga', subject: 'Subjekti', notAfter: 'Skadon', daysLeft: (n: number) => n < 0 ? 'ka skaduar' : `${n} ditë`,
    breakerStates: { open: 'i hapur', 'half-open': 'gjysmë i hapur' } as Record<string, string>,
    seeLog: 'Shiko regjistrin e mesazheve',
  },
  en: {
    title: 'Overview', roles: 'Your roles', registry: 'Registry version',
    pendingApplications: 'Pending applications', pendingAccess: 'Pending access requests',
    hour: 'Last hour', day: 'Last 24 hours', exchanges: 'Exchanges', errorRate: 'Errors',
    breakers: 'Open circuit breakers', expiring: 'Certificates expiring', services: 'Exchanges per service (last 24 hours)',
    service: 'Service', errors: 'Errors', rate: 'Error rate', p50: 'Median (p50)', p95: 'p95', providers: 'Slowest providers (last 24 hours)',
    provider: 'Provider', slowest: 'Slowest service', noTraffic: 'No exchange in this period.', none: 'None.',
    chartHour: 'Exchanges in the last hour, per 5 minutes', chartDay: 'Exchanges in the last 24 hours, per hour',
    chartDesc: (total: number, errors: number) => `${total} exchanges, ${errors} of them failed. The figures are also in the table below.`,
    state: 'State', since: 'Since', subject: 'Subject', notAfter: 'Expires', daysLeft: (n: number) => n < 0 ? 'expired' : `${n} days`,
    breakerStates: { open: 'open', 'half-open': 'half-open' } as Record<string, string>,
    seeLog: 'See the message log',
  },
})

interface ServiceTraffic { service: string; member: string; exchanges: number; errors: number; errorRate: number; p50Ms: number | null; p95Ms: number | null }
interface Traffic {
  window: string
  services: ServiceTraffic[]
  providers: Array<{ member: string; exchanges: number; errors: number; slowest?: { service: string; p50Ms: number | null; p95Ms: number | null } }>
  series: Array<{ start: string; exchanges: number; errors: number }>
  breakers?: Array<{ service: string; state: string; since?: string }>
  certificatesExpiringSoon?: Array<{ role: string; id?: string; subject: string; serial: string; notAfter: string; daysLeft: number; state: string }>
}
interface Listed { version: number; items: Array<{ state?: string }> }

const percent = (rate: number): string => `${(rate * 100).toFixed(rate > 0 && rate < 0.01 ? 2 : 1)} %`
const ms = (v: number | null | undefined): string => v === null || v === undefined ? '—' : `${Math.round(v)} ms`

function clock (iso: string, lang: Lang, withDay: boolean): string {
  return new Date(iso).toLocaleString(lang === 'sq' ? 'sq-AL' : 'en-GB', { timeZone: 'Europe/Tirane', hour: '2-digit', minute: '2-digit', ...(withDay ? { day: 'numeric', month: 'short' } : {}) })
}

function totals (t: Traffic): { exchanges: number; errors: number } {
  return t.series.reduce((a, b) => ({ exchanges: a.exchanges + b.exchanges, errors: a.errors + b.errors }), { exchanges: 0, errors: 0 })
}

function trafficCard (id: string, title: string, chartTitle: string, t: Traffic, lang: Lang, withDay: boolean): Html {
  const w = W[lang]
  const sum = totals(t)
  const buckets: Bucket[] = t.series.map(b => ({ label: clock(b.start, lang, withDay), total: b.exchanges, errors: b.errors }))
  return html`<section class="card" aria-labelledby="${id}-h"><h2 id="${id}-h">${title}</h2>
<p><span class="big">${sum.exchanges}</span> ${w.exchanges.toLowerCase()} · ${w.errorRate.toLowerCase()} <strong>${percent(sum.exchanges === 0 ? 0 : sum.errors / sum.exchanges)}</strong></p>
${barChart({ id, title: chartTitle, description: w.chartDesc(sum.exchanges, sum.errors), buckets })}</section>`
}

export async function overviewPages (app: FastifyInstance): Promise<void> {
  app.get('/console', async (request, reply) => {
    const kit = kitOf(request)
    const t = W[kit.lang]
    const lang = kit.lang
    const [hour, day] = await Promise.all([
      kit.api.get<Traffic>('/traffic', { window: '1h' }),
      kit.api.get<Traffic>('/traffic', { window: '24h' }),
    ])
    const node = await kit.api.read<{ registry: { version: number } }>('/node')
    const cards: Html[] = []
    const attention: Html[] = [html`<div class="card"><h2>${t.registry}</h2><p class="big">${node.registry.version}</p></div>`]
    if (can(kit.viewer, 'application.list')) {
      const apps = await kit.api.read<Listed>('/applications')
      attention.push(html`<div class="card"><h2><a href="/console/applications">${t.pendingApplications}</a></h2><p class="big">${apps.items.filter(a => a.state === 'submitted').length}</p></div>`)
    }
    if (can(kit.viewer, 'access-request.list')) {
      const reqs = await kit.api.read<Listed>('/access-requests', { state: 'pending' })
      attention.push(html`<div class="card"><h2><a href="/console/access">${t.pendingAccess}</a></h2><p class="big">${reqs.items.length}</p></div>`)
    }
    let details: Html | string = ''
    // Traffic comes from the message log; a node without one (or a role without the right) shows the rest.
    if (hour.ok && day.ok) {
      cards.push(trafficCard('chart-hour', t.hour, t.chartHour, hour.body, lang, false), trafficCard('chart-day', t.day, t.chartDay, day.body, lang, true))
      const breakers = day.body.breakers ?? []
      const expiring = day.body.certificatesExpiringSoon ?? []
      attention.push(
        html`<div class="card"><h2>${t.breakers}</h2><p class="big">${breakers.length}</p></div>`,
        html`<div class="card"><h2><a href="/console/certificates">${t.expiring}</a></h2><p class="big">${expiring.length}</p></div>`,
      )
      const services = [...day.body.services].sort((a, b) => b.exchanges - a.exchanges).slice(0, 15)
      const providers = day.body.providers.filter(p => p.slowest !== undefined).sort((a, b) => (b.slowest!.p95Ms ?? 0) - (a.slowest!.p95Ms ?? 0)).slice(0, 5)
      details = html`
<h2>${t.services}</h2>
${services.length === 0
  ? html`<p>${t.noTraffic}</p>`
  : html`<div class="table"><table><thead><tr><th scope="col">${t.service}</th><th scope="col" class="num">${t.exchanges}</th><th scope="col" class="num">${t.errors}</th><th scope="col" class="num">${t.rate}</th><th scope="col" class="num">${t.p50}</th><th scope="col" class="num">${t.p95}</th></tr></thead><tbody>${services.map(s =>
    html`<tr><th scope="row"><a href="/console/log?service=${encodeURIComponent(s.service)}">${s.service}</a></th><td class="num">${s.exchanges}</td><td class="num">${s.errors}</td><td class="num">${s.errors > 0 ? html`<span class="badge bad">${percent(s.errorRate)}</span>` : percent(0)}</td><td class="num">${ms(s.p50Ms)}</td><td class="num">${ms(s.p95Ms)}</td></tr>`)}</tbody></table></div>`}
<h2>${t.providers}</h2>
${providers.length === 0
  ? html`<p>${t.noTraffic}</p>`
  : html`<div class="table"><table><thead><tr><th scope="col">${t.provider}</th><th scope="col">${t.slowest}</th><th scope="col" class="num">${t.p50}</th><th scope="col" class="num">${t.p95}</th></tr></thead><tbody>${providers.map(p =>
    html`<tr><th scope="row">${p.member}</th><td>${p.slowest!.service}</td><td class="num">${ms(p.slowest!.p50Ms)}</td><td class="num">${ms(p.slowest!.p95Ms)}</td></tr>`)}</tbody></table></div>`}
<h2>${t.breakers}</h2>
${breakers.length === 0
  ? html`<p>${t.none}</p>`
  : html`<div class="table"><table><thead><tr><th scope="col">${t.service}</th><th scope="col">${t.state}</th><th scope="col">${t.since}</th></tr></thead><tbody>${breakers.map(b =>
    html`<tr><th scope="row">${b.service}</th><td><span class="badge ${b.state === 'open' ? 'bad' : 'warn'}">${t.breakerStates[b.state] ?? b.state}</span></td><td>${when(b.since, lang)}</td></tr>`)}</tbody></table></div>`}
<h2>${t.expiring}</h2>
${expiring.length === 0
  ? html`<p>${t.none}</p>`
  : html`<div class="table"><table><thead><tr><th scope="col">${t.subject}</th><th scope="col">${t.notAfter}</th><th scope="col">${t.state}</th></tr></thead><tbody>${expiring.map(c =>
    html`<tr><th scope="row">${c.subject}</th><td>${when(c.notAfter, lang)}</td><td><span class="badge ${c.state === 'expired' ? 'bad' : 'warn'}">${t.daysLeft(c.daysLeft)}</span></td></tr>`)}</tbody></table></div>`}
${can(kit.viewer, 'log.read') ? html`<p><a href="/console/log">${t.seeLog}</a></p>` : ''}`
    }
    return sendPage(request, reply, {
      title: t.title,
      nav: 'overview',
      body: html`<h1>${t.title}</h1>
<div class="cards">${attention}</div>
<div class="cards">${cards}</div>
${details}
<h2>${t.roles}</h2><ul>${kit.viewer.roles.map(r => html`<li><code>${grantName(r)}</code></li>`)}</ul>`,
    })
  })
}
