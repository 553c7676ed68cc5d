/**
 * Access requests on the access rights page: the pending ones with approve and refuse forms for the
 * provider's side (`access-request.decide`, refusing needs a reason the client sees), the latest
 * decisions, and the form a client's service administrator uses to ask for one of its member's
 * systems to call another member's service (`access-request.create`). Approval adds the allow grant
 * in the same registry version, so it shows in the matrix above at once.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AccessRequestRecord } from '../../../config/registry-sections.ts'
import type { AdminContext } from '../../context.ts'
import { ApiError } from '../api.ts'
import { html, type Html } from '../html.ts'
import { COMMON, when, words } from '../i18n.ts'
import { field, formState, kitOf, redirectWith, sendPage, type ConsoleKit } from '../kit.ts'
import { can } from '../layout.ts'
import type { Endpoint } from './access-cells.ts'
import { fieldState, keptReason, localRefusal, refusalNotice, refusalOf, type Refusal } from './refusal.ts'

const W = words({
  sq: {
    requests: 'Kërkesat për akses',
    pending: 'Në pritje të vendimit',
    decided: 'Vendimet e fundit',
    noPending: 'Asnjë kërkesë në pritje.',
    id: 'Kërkesa',
    client: 'Klienti',
    service: 'Shërbimi',
    purpose: 'Qëllimi',
    asked: 'Kërkuar nga',
    state: 'Gjendja',
    actions: 'Veprime',
    approve: 'Mirato',
    refuse: 'Refuzo',
    refuseHint: 'Arsyeja i tregohet klientit.',
    states: { pending: 'në pritje', approved: 'miratuar', refused: 'refuzuar', withdrawn: 'tërhequr' } as Record<string, string>,
    ask: 'Kërko akses për një sistem',
    askLead: 'Për një sistem të institucionit tuaj, te shërbimi i një institucioni tjetër. Ofruesi e miraton ose e refuzon.',
    serviceHint: 'Ofruesi dhe kodi, si në katalog: AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet',
    endpoints: 'Pikat (vetëm REST)',
    endpointsHint: 'Një për rresht: metoda dhe shtegu, p.sh. GET /subjekte/*/detyrime. Bosh: i gjithë shërbimi.',
    send: 'Dërgo kërkesën',
    sent: (id: string) => `Kërkesa ${id} u dërgua te ofruesi.`,
    approved: (id: string) => `Kërkesa ${id} u miratua: e drejta u shtua.`,
    refused: (id: string) => `Kërkesa ${id} u refuzua.`,
    decideTitle: 'Vendim për kërkesën',
    badEndpoints: 'Çdo rresht: një metodë (GET, POST…) dhe një shteg që fillon me /.',
    wholeService: 'i gjithë shërbimi',
  },
  en: {
    requests: 'Access requests',
    pending: 'Waiting for a decision',
    decided: 'Latest decisions',
    noPending: 'No request is waiting.',
    id: 'Request',
    client: 'Client',
    service: 'Service',
    purpose: 'Purpose',
    asked: 'Asked by',
    state: 'State',
    actions: 'Actions',
    approve: 'Approve',
    refuse: 'Refuse',
    refuseHint: 'The reason is shown to the client.',
    states: { pending: 'pending', approved: 'approved', refused: 'refused', withdrawn: 'withdrawn' } as Record<string, string>,
    ask: 'Request access for a system',
    askLead: 'For a system of your institution, to another institution\'s service. The provider approves or refuses.',
    serviceHint: 'Provider and code, as in the catalogue: AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet',
    endpoints: 'Endpoints (REST only)',
    endpointsHint: 'One a line: method and path, e.g. GET /subjekte/*/detyrime. Empty: the whole service.',
    send: 'Send the request',
    sent: (id: string) => `Request ${id} was sent to the provider.`,
    approved: (id: string) => `Request ${id} was approved: the right was added.`,
    refused: (id: string) => `Request ${id} was refused.`,
    decideTitle: 'Decide an access request',
    badEndpoints: 'Each line: a method (GET, POST…) and a path starting with /.',
    wholeService: 'whole service',
  },
})

interface Listed<T> { items: T[] }
const memberOf = (id: string): string => id.split('/').slice(0, 3).join('/')
const mayDecide = (kit: ConsoleKit, r: AccessRequestRecord): boolean => can(kit.viewer, 'access-request.decide', memberOf(r.service))
const stateBadge = (kit: ConsoleKit, state: string): Html =>
  html`<span class="badge ${state === 'approved' ? 'ok' : state === 'refused' ? 'bad' : state === 'pending' ? 'warn' : ''}">${W[kit.lang].states[state] ?? state}</span>`
const endpointsText = (kit: ConsoleKit, e: Endpoint[] | undefined): string => e === undefined ? W[kit.lang].wholeService : e.map(x => `${x.method} ${x.path}`).join(', ')

/** Approve and refuse, each its own form with the reason (the refusal's reason is the one the client reads). */
function decideForms (kit: ConsoleKit, r: AccessRequestRecord, etag: string | undefined, kept: { reason: string; refusal?: Refusal; which?: string } = { reason: '' }): Html {
  const t = W[kit.lang]
  const c = COMMON[kit.lang]
  const form = (which: 'approve' | 'refuse'): Html => html`<form method="post" action="/console/access/requests/${r.id}/${which}">${formState(kit, etag)}
${keptReason(which === 'refuse' ? `${c.reason} — ${t.refuseHint}` : c.reason, c.reasonHint, kept.which === which ? kept.reason : '', kept.which === which ? kept.refusal : undefined, `${which}-${r.id}`)}
<button type="submit"${which === 'refuse' ? html` class="danger"` : ''}>${which === 'approve' ? t.approve : t.refuse}<span class="vh"> ${r.id}</span></button></form>`
  return html`<div class="grid">${form('approve')}${form('refuse')}</div>`
}

interface AskForm { client: string; service: string; endpoints: string; purpose: string; reason: string }

function askForm (kit: ConsoleKit, clients: string[], services: string[], f: AskForm, r: Refusal | undefined): Html {
  const t = W[kit.lang]
  const c = COMMON[kit.lang]
  const s = (name: string, id: string): ReturnType<typeof fieldState> => fieldState(r, name, id)
  const client = s('client', 'ask-client')
  const service = s('service', 'ask-service')
  const endpoints = s('endpoints', 'ask-endpoints')
  const purpose = s('purpose', 'ask-purpose')
  return html`<h2 id="ask">${t.ask}</h2><p class="hint">${t.askLead}</p>${refusalNotice(r)}
<form method="post" action="/console/access/requests" class="panel">${formState(kit, '*')}
<div class="${client.cls}"><label for="ask-client">${t.client}</label><select id="ask-client" name="client" required${client.describedBy}>${clients.map(x => html`<option${x === f.client ? html` selected` : ''}>${x}</option>`)}</select>${client.problems}</div>
<div class="${service.cls}"><label for="ask-service">${t.service} <span class="hint">${t.serviceHint}</span></label><input id="ask-service" name="service" required maxlength="300" list="ask-services" autocomplete="off" value="${f.service}"${service.describedBy}>${service.problems}
<datalist id="ask-services">${services.map(x => html`<option value="${x}"></option>`)}</datalist></div>
<div class="${endpoints.cls}"><label for="ask-endpoints">${t.endpoints} <span class="hint">${t.endpointsHint}</span></label><textarea id="ask-endpoints" name="endpoints" rows="3"${endpoints.describedBy}>${f.endpoints}</textarea>${endpoints.problems}</div>
<div class="${purpose.cls}"><label for="ask-purpose">${t.purpose}</label><textarea id="ask-purpose" name="purpose" required maxlength="2000" rows="3"${purpose.describedBy}>${f.purpose}</textarea>${purpose.problems}</div>
${keptReason(c.reason, c.reasonHint, f.reason, r, 'ask-reason')}
<button type="submit">${t.send}</button></form>`
}

/** The systems the viewer may ask access for (its members' subsystems), and the services it can list. */
async function askChoices (kit: ConsoleKit): Promise<{ clients: string[]; services: string[] }> {
  const members = await kit.api.read<Listed<{ id: string }>>('/members')
  const mine = members.items.map(m => m.id.replaceAll(':', '/')).filter(m => can(kit.viewer, 'access-request.create', m))
  const clients = (await Promise.all(mine.map(async m => (await kit.api.read<Listed<{ code: string }>>(`/members/${m.replaceAll('/', ':')}/subsystems`)).items.map(s => `${m}/${s.code}`)))).flat().sort()
  const services = (await kit.api.read<Listed<{ provider: string; code: string }>>('/services')).items.map(s => `${s.provider}/${s.code}`)
  return { clients, services }
}

/** The requests part of the access page, as the viewer's roles allow. */
export async function requestsSection (request: FastifyRequest, _ctx: AdminContext): Promise<Html> {
  const kit = kitOf(request)
  const t = W[kit.lang]
  const parts: Html[] = []
  if (can(kit.viewer, 'access-request.list')) {
    const all = (await kit.api.read<Listed<AccessRequestRecord>>('/access-requests')).items
    const pending = all.filter(r => r.state === 'pending')
    const rows: Html[] = []
    for (const r of pending) {
      const decide = mayDecide(kit, r) ? decideForms(kit, r, (await kit.api.get(`/access-requests/${r.id}`)).etag) : ''
      rows.push(html`<tr><th scope="row"><code>${r.id}</code></th><td><code>${r.client}</code></td><td><code>${r.service}</code><br><span class="muted">${endpointsText(kit, r.endpoints)}</span></td><td>${r.purpose ?? ''}</td><td>${r.requestedBy}<br><span class="muted">${when(r.requestedAt, kit.lang)}</span></td><td>${decide}</td></tr>`)
    }
    const head = html`<tr><th scope="col">${t.id}</th><th scope="col">${t.client}</th><th scope="col">${t.service}</th><th scope="col">${t.purpose}</th><th scope="col">${t.asked}</th><th scope="col">${t.actions}</th></tr>`
    parts.push(html`<h3>${t.pending}</h3>${pending.length === 0 ? html`<p>${t.noPending}</p>` : html`<div class="table"><table><thead>${head}</thead><tbody>${rows}</tbody></table></div>`}`)
    const decided = all.filter(r => r.state !== 'pending').sort((a, b) => (b.decidedAt ?? '').localeCompare(a.decidedAt ?? '')).slice(0, 10)
    if (decided.length > 0) {
      parts.push(html`<h3>${t.decided}</h3><div class="table"><table><thead><tr><th scope="col">${t.id}</th><th scope="col">${t.client}</th><th scope="col">${t.service}</th><th scope="col">${t.state}</th></tr></thead><tbody>${decided.map(r =>
        html`<tr><th scope="row"><code>${r.id}</code></th><td><code>${r.client}</code></td><td><code>${r.service}</code></td><td>${stateBadge(kit, r.state)} ${r.reason ?? ''}<br><span class="muted">${r.decidedBy ?? ''} · ${when(r.decidedAt, kit.lang)}</span></td></tr>`)}</tbody></table></div>`)
    }
  }
  if (can(kit.viewer, 'access-request.create')) {
    const { clients, services } = await askChoices(kit)
    const q = request.query as Record<string, unknown>
    if (clients.length > 0) parts.push(askForm(kit, clients, services, { client: '', service: typeof q.service === 'string' ? q.service : '', endpoints: '', purpose: '', reason: '' }, undefined))
  }
  return parts.length === 0 ? html`` : html`<h2>${t.requests}</h2>${parts}`
}

/** `GET /x` lines as endpoints; undefined for no lines; null when a line is not one. */
function parseEndpoints (text: string): Endpoint[] | undefined | null {
  const lines = text.split(/\r?\n/).map(l => l.trim()).filter(l => l !== '')
  if (lines.length === 0) return undefined
  const out: Endpoint[] = []
  for (const l of lines) {
    const m = /^([A-Za-z*]+)\s+(\/\S*)$/.exec(l)
    if (m === null) return null
    out.push({ method: m[1].toUpperCase(), path: m[2] })
  }
  return out
}

export async function requestRoutes (app: FastifyInstance, _ctx: AdminContext): Promise<void> {
  app.post('/console/access/requests', async (request, reply) => {
    const kit = kitOf(request)
    const t = W[kit.lang]
    const f: AskForm = { client: field(request, 'client'), service: field(request, 'service').trim(), endpoints: field(request, 'endpoints'), purpose: field(request, 'purpose'), reason: field(request, '_reason') }
    const again = async (r: Refusal, status: number): Promise<ReturnType<typeof sendPage>> => {
      const { clients, services } = await askChoices(kit)
      return sendPage(request, reply, { title: t.ask, nav: 'access', status, body: html`<h1>${W[kit.lang].requests}</h1>${askForm(kit, clients, services, f, r)}<p><a href="/console/access">${COMMON[kit.lang].back}</a></p>` })
    }
    const endpoints = parseEndpoints(f.endpoints)
    if (endpoints === null) return again(localRefusal(t.badEndpoints, 'endpoints'), 400)
    const body = { client: f.client, service: f.service, purpose: f.purpose, ...(endpoints === undefined ? {} : { endpoints }) }
    const answer = await kit.api.send<AccessRequestRecord>('POST', '/access-requests', body, { ifMatch: field(request, '_etag') || '*', reason: f.reason })
    const refused = refusalOf(answer, {
      path: p => /^(client|service|purpose)/.exec(p)?.[1] ?? (p.startsWith('endpoints') ? 'endpoints' : undefined),
      type: { 'Onboarding.UnknownService': 'service', 'Onboarding.UnknownClient': 'client', 'Onboarding.DuplicateAccessRequest': 'service', 'Onboarding.AlreadyGranted': 'service', 'Onboarding.InvalidRequest': 'endpoints' },
    })
    if (refused !== undefined) return again(refused, answer.status)
    return redirectWith(request, reply, '/console/access', { kind: 'ok', text: t.sent(answer.body.id) })
  })

  for (const which of ['approve', 'refuse'] as const) {
    app.post(`/console/access/requests/:id/${which}`, async (request, reply) => {
      const kit = kitOf(request)
      const t = W[kit.lang]
      const id = (request.params as { id: string }).id
      const reason = field(request, '_reason')
      const path = `/access-requests/${encodeURIComponent(id)}`
      const answer = await kit.api.send('POST', `${path}/${which}`, which === 'refuse' ? { reason } : undefined, { ifMatch: field(request, '_etag'), reason })
      const refused = refusalOf(answer, { path: p => p === 'reason' ? '_reason' : undefined, type: { 'Onboarding.ReasonRequired': '_reason' } })
      if (refused === undefined) return redirectWith(request, reply, '/console/access', { kind: 'ok', text: which === 'approve' ? t.approved(id) : t.refused(id) })
      const current = await kit.api.get<AccessRequestRecord>(path)
      if (!current.ok) throw new ApiError(current.status, current.problem!)
      const r = current.body
      const facts = html`<dl class="facts"><div><dt>${t.client}</dt><dd><code>${r.client}</code></dd></div><div><dt>${t.service}</dt><dd><code>${r.service}</code> (${endpointsText(kit, r.endpoints)})</dd></div><div><dt>${t.purpose}</dt><dd>${r.purpose ?? ''}</dd></div><div><dt>${t.state}</dt><dd>${stateBadge(kit, r.state)}</dd></div></dl>`
      return sendPage(request, reply, {
        title: t.decideTitle,
        nav: 'access',
        status: answer.status,
        body: html`<h1>${t.decideTitle} <code>${r.id}</code></h1>${refusalNotice(refused)}${facts}${r.state === 'pending' && mayDecide(kit, r) ? decideForms(kit, r, current.etag, { reason, refusal: refused, which }) : ''}<p><a href="/console/access">${COMMON[kit.lang].back}</a></p>`,
      })
    })
  }
}
