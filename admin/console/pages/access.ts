/**
 * The access rights page (`/console/access`): a matrix of clients × services — a column per
 * service, and one per endpoint of a REST service — showing each cell's allow or deny (as text
 * badges) read from `GET /grants`, filtered by provider and client so it never grows into a giant
 * table; each cell opens a small form that sets it to allow, deny or nothing through
 * `PUT /grants/{service}`, made on the ETag the page read and keeping every other entry of the
 * service (admin/console/pages/access-cells.ts). Below it: access requests (access-requests.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AdminContext } from '../../context.ts'
import { ApiError } from '../api.ts'
import { html, type Html } from '../html.ts'
import { COMMON, words, type Lang } from '../i18n.ts'
import { field, formState, kitOf, redirectWith, sendPage, type ConsoleKit } from '../kit.ts'
import { can } from '../layout.ts'
import { cellOf, grantPattern, setCell, type Cell, type CellChange, type Endpoint, type Entry } from './access-cells.ts'
import { requestsSection, requestRoutes } from './access-requests.ts'
import { fieldState, keptReason, localRefusal, refusalNotice, refusalOf, type Refusal } from './refusal.ts'

export const AW = words({
  sq: {
    title: 'Të drejtat e aksesit',
    lead: 'Kush mund të thërrasë cilin shërbim: lejimet dhe ndalimet për çdo klient, për të gjithë shërbimin ose për pika të veçanta (REST).',
    provider: 'Ofruesi i shërbimit',
    clientMember: 'Institucioni i klientit',
    q: 'Klienti përmban',
    all: 'Të gjithë',
    matrix: 'Matrica e aksesit',
    client: 'Klienti',
    whole: 'i gjithë shërbimi',
    allow: 'lejuar',
    deny: 'ndaluar',
    nothing: 'asgjë',
    viaGroup: 'nëpërmjet grupit',
    change: 'Ndrysho',
    changeFor: 'Ndrysho aksesin e',
    set: 'Vendos',
    remove: 'hiq (asgjë)',
    apply: 'Zbato',
    addClient: 'Shto një klient',
    addClientFor: 'Shto një klient te',
    noServices: 'Asnjë shërbim nuk përputhet me filtrin.',
    noClients: 'Asnjë klient nuk përputhet me filtrin.',
    shown: (n: number, of: number) => `Shfaqen ${n} nga ${of} klientë. Ngushtoni filtrin për të parë të tjerët.`,
    chooseFilter: (n: number) => `Ka ${n} klientë: zgjidhni një ofrues ose një institucion klienti për të parë matricën.`,
    saved: (client: string, service: string) => `Aksesi i ${client} te ${service} u ndryshua.`,
    grantTitle: 'Ndrysho një qelizë të aksesit',
    service: 'Shërbimi',
    endpoint: 'Pika (REST)',
    method: 'Metoda',
    path: 'Shtegu',
    endpointHint: 'Bosh: i gjithë shërbimi. Shtegu si në të drejtat: * zë vendin e një pjese.',
    clientHint: 'Identifikuesi i plotë: AL-DEV/GOV/K11503002N/e-albania',
    badChange: 'Zgjidhni lejo, ndalo ose hiq.',
    badClient: 'Shkruani identifikuesin e plotë të klientit.',
    badEndpoint: 'Një pikë ka metodë dhe shteg që fillon me /.',
    legend: 'Shenjat: «lejuar» dhe «ndaluar» janë të drejta të vetë klientit; «nëpërmjet grupit» vjen nga një grup ku bën pjesë; «—» asgjë (ndalohet).',
  },
  en: {
    title: 'Access rights',
    lead: 'Who may call which service: the allow and deny entries for each client, for a whole service or for single endpoints (REST).',
    provider: 'Service provider',
    clientMember: 'Client institution',
    q: 'Client contains',
    all: 'All',
    matrix: 'Access matrix',
    client: 'Client',
    whole: 'whole service',
    allow: 'allowed',
    deny: 'denied',
    nothing: 'nothing',
    viaGroup: 'through group',
    change: 'Change',
    changeFor: 'Change the access of',
    set: 'Set',
    remove: 'remove (nothing)',
    apply: 'Apply',
    addClient: 'Add a client',
    addClientFor: 'Add a client to',
    noServices: 'No service matches the filter.',
    noClients: 'No client matches the filter.',
    shown: (n: number, of: number) => `Showing ${n} of ${of} clients. Narrow the filter to see the others.`,
    chooseFilter: (n: number) => `There are ${n} clients: choose a provider or a client institution to see the matrix.`,
    saved: (client: string, service: string) => `The access of ${client} to ${service} was changed.`,
    grantTitle: 'Change one cell of access',
    service: 'Service',
    endpoint: 'Endpoint (REST)',
    method: 'Method',
    path: 'Path',
    endpointHint: 'Empty: the whole service. The path as rights write it: * stands for one segment.',
    clientHint: 'The whole identifier: AL-DEV/GOV/K11503002N/e-albania',
    badChange: 'Choose allow, deny or remove.',
    badClient: 'Write the client\'s whole identifier.',
    badEndpoint: 'An endpoint has a method and a path starting with /.',
    legend: 'Marks: “allowed” and “denied” are the client\'s own rights; “through group” comes from a group it is in; “—” nothing (refused).',
  },
})

/** Rows a matrix shows at most; past that the page asks for a narrower filter. */
export const MAX_ROWS = 40
/** Without a filter, a matrix of more clients than this is not drawn at all. */
const UNFILTERED_ROWS = 15

interface Service { provider: string; code: string; type: string; title?: string; endpoints?: Endpoint[] }
interface Listed<T> { items: T[] }
interface Grants { service: string; entries: Entry[] }

export const memberOf = (id: string): string => id.split('/').slice(0, 3).join('/')
export const toParam = (id: string): string => id.replaceAll('/', ':')
const serviceText = (s: Service): string => `${s.provider}/${s.code}`
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', '*']

interface Column { service: Service; text: string; endpoint?: Endpoint }

/** Whether the viewer may change the grants of a service (the page shows controls only then). */
const mayGrant = (kit: ConsoleKit, service: string): boolean => can(kit.viewer, 'grant.update', memberOf(service))

function badge (lang: Lang, effect: 'allow' | 'deny'): Html {
  const t = AW[lang]
  return html`<span class="badge ${effect === 'allow' ? 'ok' : 'bad'}">${effect === 'allow' ? t.allow : t.deny}</span>`
}

function cellView (lang: Lang, cell: Cell): Html {
  const t = AW[lang]
  const parts: Html[] = []
  if (cell.direct !== undefined) parts.push(badge(lang, cell.direct))
  for (const g of cell.viaGroups) parts.push(html` <span class="badge ${g.effect === 'allow' ? 'ok' : 'bad'}">${g.effect === 'allow' ? t.allow : t.deny} · ${t.viaGroup} ${g.group}</span>`)
  for (const o of cell.other) parts.push(html` <span class="badge ${o.effect === 'allow' ? 'ok' : 'bad'}">${o.effect === 'allow' ? t.allow : t.deny}: ${o.endpoints.map(e => `${e.method} ${e.path}`).join(', ')}</span>`)
  if (parts.length === 0) return html`<span class="muted" aria-hidden="true">—</span><span class="vh">${t.nothing}</span>`
  return html`${parts}`
}

/** The small form of one cell: the change and the reason, posted to /console/access/grant. */
function cellForm (kit: ConsoleKit, col: Column, client: string, etag: string | undefined, id: string, back: string): Html {
  const t = AW[kit.lang]
  const what = `${client} → ${col.text}${col.endpoint === undefined ? '' : ` ${col.endpoint.method} ${col.endpoint.path}`}`
  return html`<details><summary>${t.change}<span class="vh"> ${what}</span></summary>
<form method="post" action="/console/access/grant">${formState(kit, etag)}
<input type="hidden" name="client" value="${client}"><input type="hidden" name="service" value="${col.text}">
<input type="hidden" name="method" value="${col.endpoint?.method ?? ''}"><input type="hidden" name="path" value="${col.endpoint?.path ?? ''}"><input type="hidden" name="back" value="${back}">
<div class="field"><label for="${id}-change">${t.set}</label><select id="${id}-change" name="change"><option value="allow">${t.allow}</option><option value="deny">${t.deny}</option><option value="remove">${t.remove}</option></select></div>
<div class="field"><label for="${id}-reason">${COMMON[kit.lang].reason}</label><input id="${id}-reason" name="_reason" required maxlength="500" autocomplete="off"></div>
<button type="submit">${t.apply}</button></form></details>`
}

interface MatrixQuery { provider: string; clientMember: string; q: string }

async function matrix (request: FastifyRequest, query: MatrixQuery): Promise<Html> {
  const kit = kitOf(request)
  const t = AW[kit.lang]
  const [services, grants, groups, members] = await Promise.all([
    kit.api.read<Listed<Service>>('/services'),
    kit.api.read<Listed<Grants>>('/grants'),
    kit.api.read<Listed<{ name: string; clients: string[] }>>('/groups'),
    kit.api.read<Listed<{ id: string; name: string }>>('/members'),
  ])
  const groupMap = Object.fromEntries(groups.items.map(g => [g.name, g.clients]))
  const entriesOf = (text: string): Entry[] => grants.items.find(g => g.service === text)?.entries ?? []
  const memberIds = members.items.map(m => m.id.replaceAll(':', '/'))
  const memberName = new Map(members.items.map(m => [m.id.replaceAll(':', '/'), m.name]))

  // Clients: the visible members' systems, and every client the visible grants name.
  const subsystems = await Promise.all(memberIds.map(async m => (await kit.api.read<Listed<{ code: string }>>(`/members/${toParam(m)}/subsystems`)).items.map(s => `${m}/${s.code}`)))
  const named = grants.items.flatMap(g => g.entries.flatMap(e => [...e.clients ?? [], ...(e.groups ?? []).flatMap(n => groupMap[n] ?? [])]))
  const allClients = [...new Set([...subsystems.flat(), ...named])].sort()
  const clientMembers = [...new Set(allClients.map(memberOf))].sort()
  const providers = [...new Set(services.items.map(s => memberOf(s.provider)))].sort()

  const shownServices = services.items.filter(s => query.provider === '' || memberOf(s.provider) === query.provider)
  const matching = allClients.filter(c => (query.clientMember === '' || memberOf(c) === query.clientMember) && (query.q === '' || c.toLowerCase().includes(query.q.toLowerCase())))
  const filtered = query.provider !== '' || query.clientMember !== '' || query.q !== ''

  const label = (id: string): string => memberName.has(id) ? `${memberName.get(id)!} (${id})` : id
  const option = (value: string, chosen: string, text: string): Html => html`<option value="${value}"${value === chosen ? html` selected` : ''}>${text}</option>`
  const filters = html`<form class="filters" method="get" action="/console/access">
<div><label for="f-provider">${t.provider}</label><select id="f-provider" name="provider">${option('', query.provider, t.all)}${providers.map(p => option(p, query.provider, label(p)))}</select></div>
<div><label for="f-client">${t.clientMember}</label><select id="f-client" name="clientMember">${option('', query.clientMember, t.all)}${clientMembers.map(p => option(p, query.clientMember, label(p)))}</select></div>
<div><label for="f-q">${t.q}</label><input id="f-q" name="q" value="${query.q}" maxlength="200"></div>
<div><button type="submit">${COMMON[kit.lang].filter}</button></div></form>`

  if (shownServices.length === 0) return html`${filters}<p>${t.noServices}</p>`
  if (matching.length === 0) return html`${filters}<p>${t.noClients}</p>`
  if (!filtered && matching.length > UNFILTERED_ROWS) return html`${filters}<p class="notice">${t.chooseFilter(matching.length)}</p>`
  const rows = matching.slice(0, MAX_ROWS)

  const columns: Column[] = shownServices.flatMap(s => [
    { service: s, text: serviceText(s) },
    ...(s.type === 'rest' ? (s.endpoints ?? []).map(e => ({ service: s, text: serviceText(s), endpoint: { method: e.method, path: grantPattern(e.path) } })) : []),
  ])
  // The ETag of each service's grants, for the forms of the services the viewer may change.
  const etags = new Map<string, string | undefined>()
  for (const s of shownServices) {
    if (!mayGrant(kit, serviceText(s))) continue
    etags.set(serviceText(s), (await kit.api.get(`/grants/${toParam(serviceText(s))}`)).etag)
  }
  const back = `/console/access?${new URLSearchParams({ provider: query.provider, clientMember: query.clientMember, q: query.q }).toString()}`
  const endpointColumns = (s: Service): Endpoint[] => columns.filter(c => c.service === s && c.endpoint !== undefined).map(c => c.endpoint!)

  const head = html`<tr><th scope="col">${t.client}</th>${columns.map(c => html`<th scope="col">${c.endpoint === undefined
    ? html`<span>${c.service.title ?? c.service.code}</span><br><code>${c.text}</code>${mayGrant(kit, c.text) ? html`<br><a href="/console/access/grant?${new URLSearchParams({ service: c.text }).toString()}">${t.addClient}<span class="vh"> (${c.text})</span></a>` : ''}`
    : html`<span class="muted">${c.service.code}</span><br><code>${c.endpoint.method} ${c.endpoint.path}</code>`}</th>`)}</tr>`
  const body = rows.map((client, i) => html`<tr><th scope="row"><code>${client}</code></th>${columns.map((c, j) => {
    const cell = cellOf(entriesOf(c.text), client, c.endpoint, groupMap, endpointColumns(c.service))
    const control = mayGrant(kit, c.text) ? cellForm(kit, c, client, etags.get(c.text), `c${i}-${j}`, back) : ''
    return html`<td>${cellView(kit.lang, cell)}${control}</td>`
  })}</tr>`)
  const more = matching.length > rows.length ? html`<p class="notice">${t.shown(rows.length, matching.length)}</p>` : ''
  return html`${filters}<h2 id="matrix">${t.matrix}</h2><p class="hint">${t.legend}</p>${more}
<div class="table"><table aria-labelledby="matrix"><thead>${head}</thead><tbody>${body}</tbody></table></div>`
}

export interface GrantForm {
  client: string
  service: string
  method: string
  path: string
  change: string
  reason: string
  back: string
  etag?: string
}

/** The one-cell form on its own page: for a client not in the matrix yet, and to come back to when the API refuses. */
function grantFormPage (kit: ConsoleKit, f: GrantForm, r: Refusal | undefined): Html {
  const t = AW[kit.lang]
  const c = COMMON[kit.lang]
  const client = fieldState(r, 'client', 'g-client')
  const endpoint = fieldState(r, 'endpoints', 'g-path')
  const change = fieldState(r, 'change', 'g-change')
  const opt = (v: string, text: string): Html => html`<option value="${v}"${f.change === v ? html` selected` : ''}>${text}</option>`
  return html`<h1>${t.grantTitle}</h1>${refusalNotice(r)}
<form method="post" action="/console/access/grant" class="panel">${formState(kit, f.etag)}
<input type="hidden" name="service" value="${f.service}"><input type="hidden" name="back" value="${f.back}">
<dl class="facts"><div><dt>${t.service}</dt><dd><code>${f.service}</code></dd></div></dl>
<div class="${client.cls}"><label for="g-client">${t.client} <span class="hint">${t.clientHint}</span></label><input id="g-client" name="client" required maxlength="300" value="${f.client}"${client.describedBy}>${client.problems}</div>
<fieldset><legend>${t.endpoint}</legend><p class="hint">${t.endpointHint}</p><div class="grid">
<div class="field"><label for="g-method">${t.method}</label><select id="g-method" name="method"><option value="">—</option>${METHODS.map(m => html`<option${f.method === m ? html` selected` : ''}>${m}</option>`)}</select></div>
<div class="${endpoint.cls}"><label for="g-path">${t.path}</label><input id="g-path" name="path" maxlength="500" value="${f.path}"${endpoint.describedBy}>${endpoint.problems}</div></div></fieldset>
<div class="${change.cls}"><label for="g-change">${t.set}</label><select id="g-change" name="change"${change.describedBy}>${opt('allow', t.allow)}${opt('deny', t.deny)}${opt('remove', t.remove)}</select>${change.problems}</div>
${keptReason(c.reason, c.reasonHint, f.reason, r, 'g-reason')}
<div class="actions"><button type="submit">${t.apply}</button><a href="${f.back}">${c.cancel}</a></div></form>`
}

const safeBack = (v: string): string => /^\/console\/access(\?[^#\s]*)?$/.test(v) ? v : '/console/access'


export async function accessPages (app: FastifyInstance, ctx: AdminContext): Promise<void> {
  app.get('/console/access', async (request, reply) => {
    const kit = kitOf(request)
    const t = AW[kit.lang]
    const q = request.query as Record<string, unknown>
    const str = (v: unknown): string => typeof v === 'string' ? v.slice(0, 200) : ''
    const body = await matrix(request, { provider: str(q.provider), clientMember: str(q.clientMember), q: str(q.q) })
    const requests = await requestsSection(request, ctx)
    return sendPage(request, reply, { title: t.title, nav: 'access', body: html`<h1>${t.title}</h1><p class="lead">${t.lead}</p>${body}${requests}` })
  })

  app.get('/console/access/grant', async (request, reply) => {
    const kit = kitOf(request)
    const q = request.query as Record<string, unknown>
    const service = typeof q.service === 'string' ? q.service : ''
    const answer = await kit.api.get(`/grants/${toParam(service)}`)
    if (!answer.ok) throw new ApiError(answer.status, answer.problem!)
    const str = (v: unknown): string => typeof v === 'string' ? v : ''
    const form: GrantForm = { client: str(q.client), service, method: str(q.method), path: str(q.path), change: 'allow', reason: '', back: '/console/access', ...(answer.etag === undefined ? {} : { etag: answer.etag }) }
    if (!mayGrant(kit, service)) throw new ApiError(403, { type: 'Admin.Forbidden', message: `operator ${kit.viewer.id} may not grant.update for ${memberOf(service)}` })
    return sendPage(request, reply, { title: AW[kit.lang].grantTitle, nav: 'access', body: grantFormPage(kit, form, undefined) })
  })

  app.post('/console/access/grant', async (request, reply) => {
    const kit = kitOf(request)
    const t = AW[kit.lang]
    const f: GrantForm = {
      client: field(request, 'client').trim(), service: field(request, 'service').trim(), method: field(request, 'method').trim(), path: field(request, 'path').trim(),
      change: field(request, 'change'), reason: field(request, '_reason'), back: safeBack(field(request, 'back')), etag: field(request, '_etag'),
    }
    const again = (r: Refusal, status: number): ReturnType<typeof sendPage> => sendPage(request, reply, { title: t.grantTitle, nav: 'access', status, body: grantFormPage(kit, f, r) })
    const current = await kit.api.get<Grants>(`/grants/${toParam(f.service)}`)
    if (!current.ok) throw new ApiError(current.status, current.problem!)
    if (!['allow', 'deny', 'remove'].includes(f.change)) return again(localRefusal(t.badChange, 'change'), 400)
    if (!/^[^/\s]+(\/[^/\s]+){2,3}$/.test(f.client)) return again(localRefusal(t.badClient, 'client'), 400)
    let endpoint: Endpoint | undefined
    if (f.method !== '' || f.path !== '') {
      if (!METHODS.includes(f.method) || !f.path.startsWith('/')) return again(localRefusal(t.badEndpoint, 'endpoints'), 400)
      endpoint = { method: f.method, path: f.path }
    }
    const entries = setCell(current.body.entries, f.client, endpoint, f.change as CellChange)
    const answer = await kit.api.send('PUT', `/grants/${toParam(f.service)}`, { entries }, { ifMatch: f.etag ?? '', reason: f.reason })
    const refused = refusalOf(answer, { path: p => /clients/.test(p) ? 'client' : /endpoints/.test(p) ? 'endpoints' : undefined })
    if (refused !== undefined) {
      // Made on a page read before another change: the form is shown again on the current ETag.
      if (current.etag !== undefined) f.etag = current.etag
      return again(refused, answer.status)
    }
    return redirectWith(request, reply, f.back, { kind: 'ok', text: t.saved(f.client, f.service) })
  })

  await requestRoutes(app, ctx)
}
