/**
 * The institutions pages: members with their subsystems (a list with a text filter) and one
 * member's page — its subsystems, the certificates the node issued to it, who may call its services
 * and what its clients may call — with the changes its roles allow: rename the member, add a
 * subsystem, remove one (after a confirmation page). Everything is read and changed through the
 * admin API; member ids travel in URLs in the API's `:` form (admin/ids.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { memberOfClient, memberToParam } from '../../ids.ts'
import { html, type Html } from '../html.ts'
import { COMMON, when, words, type Lang } from '../i18n.ts'
import { field, formState, kitOf, reasonField, redirectWith, sendPage, type ConsoleKit } from '../kit.ts'
import { can } from '../layout.ts'
import { input, noProblems, problemSummary, refusal, select, type FormProblems } from './form-fields.ts'

const W = words({
  sq: {
    title: 'Institucionet', lead: 'Anëtarët e nyjes dhe sistemet e tyre (nënsistemet).', filter: 'Kërko sipas emrit ose kodit',
    member: 'Institucioni', id: 'Identifikuesi', subsystems: 'Nënsistemet', code: 'Kodi', name: 'Emri', connection: 'Lidhja',
    none: 'Asnjë institucion nuk përputhet me kërkimin.', noSubsystems: 'Asnjë nënsistem.',
    certificates: 'Certifikatat e lëshuara nga nyja', noCertificates: 'Nyja nuk i ka lëshuar asnjë certifikatë.',
    serial: 'Numri serial', role: 'Lloji', owner: 'Zotëruesi', notAfter: 'Skadon', state: 'Gjendja',
    states: { valid: 'E vlefshme', expiring: 'Skadon së shpejti', expired: 'E skaduar', revoked: 'E revokuar' } as Record<string, string>,
    callers: 'Kush mund të thërrasë shërbimet e tij', calls: 'Çfarë mund të thërrasin sistemet e tij', noGrants: 'Asnjë e drejtë aksesi.',
    service: 'Shërbimi', clients: 'Klientët dhe grupet', endpoints: 'Pikat fundore', whole: 'I gjithë shërbimi', effect: 'Efekti',
    allow: 'Lejohet', deny: 'Ndalohet', via: 'përmes grupit',
    rename: 'Ndrysho emrin', renamed: 'Emri i institucionit u ndryshua.', addSubsystem: 'Shto një nënsistem', added: 'Nënsistemi u shtua.',
    remove: 'Hiq', removeTitle: 'Heqja e nënsistemit', removeLead: 'Nënsistemi hiqet nga regjistri; sistemet e tij nuk mund të thërrasin më.', removed: 'Nënsistemi u hoq.',
    connectionHint: 'mtls: me certifikatë klienti TLS; http: vetëm për zhvillim.',
  },
  en: {
    title: 'Institutions', lead: 'The node\'s members and their systems (subsystems).', filter: 'Search by name or code',
    member: 'Institution', id: 'Identifier', subsystems: 'Subsystems', code: 'Code', name: 'Name', connection: 'Connection',
    none: 'No institution matches the search.', noSubsystems: 'No subsystems.',
    certificates: 'Certificates the node issued', noCertificates: 'The node issued it no certificate.',
    serial: 'Serial number', role: 'Kind', owner: 'Owner', notAfter: 'Expires', state: 'State',
    states: { valid: 'Valid', expiring: 'Expiring soon', expired: 'Expired', revoked: 'Revoked' } as Record<string, string>,
    callers: 'Who may call its services', calls: 'What its systems may call', noGrants: 'No access rights.',
    service: 'Service', clients: 'Clients and groups', endpoints: 'Endpoints', whole: 'The whole service', effect: 'Effect',
    allow: 'Allowed', deny: 'Denied', via: 'through group',
    rename: 'Rename', renamed: 'The institution was renamed.', addSubsystem: 'Add a subsystem', added: 'The subsystem was added.',
    remove: 'Remove', removeTitle: 'Removing a subsystem', removeLead: 'The subsystem leaves the registry; its systems can no longer call.', removed: 'The subsystem was removed.',
    connectionHint: 'mtls: with a TLS client certificate; http: for development only.',
  },
})

interface Member { id: string; class: string; code: string; name: string }
interface Subsystem { id: string; member: string; code: string; name?: string; connection: string }
interface Certificate { serial: string; role: string; owner: string; notAfter: string; state: string }
interface GrantEntry { effect?: 'allow' | 'deny'; clients?: string[]; groups?: string[]; endpoints?: Array<{ method: string; path: string }> }
interface Grants { service: string; entries: GrantEntry[] }
interface Listed<T> { version: number; items: T[] }

const memberPath = (param: string): string => `/members/${encodeURIComponent(param)}`
export const memberPage = (memberId: string): string => `/console/institutions/${encodeURIComponent(memberToParam(memberId))}`
const memberIdOf = (param: string): string => param.replaceAll(':', '/')

const STATE_BADGE: Record<string, string> = { valid: 'ok', expiring: 'warn', expired: 'bad', revoked: 'bad' }

export async function institutionPages (app: FastifyInstance): Promise<void> {
  app.get('/console/institutions', async (request, reply) => {
    const kit = kitOf(request)
    const t = W[kit.lang]
    const q = String((request.query as { q?: unknown }).q ?? '').trim()
    const members = await kit.api.read<Listed<Member>>('/members')
    const rows: Html[] = []
    for (const m of members.items) {
      const subs = await kit.api.read<Listed<Subsystem>>(`${memberPath(m.id)}/subsystems`)
      const text = [m.id, m.name, ...subs.items.flatMap(s => [s.code, s.name ?? ''])].join(' ').toLowerCase()
      if (q !== '' && !text.includes(q.toLowerCase())) continue
      rows.push(html`<tr><th scope="row"><a href="${memberPage(m.id.replaceAll(':', '/'))}">${m.name}</a></th><td><code>${m.id.replaceAll(':', '/')}</code></td><td>${subs.items.length === 0 ? html`<span class="muted">${t.noSubsystems}</span>` : html`<ul>${subs.items.map(s => html`<li><code>${s.code}</code>${s.name === undefined ? '' : html` — ${s.name}`}</li>`)}</ul>`}</td></tr>`)
    }
    return sendPage(request, reply, {
      title: t.title,
      nav: 'institutions',
      body: html`<h1>${t.title}</h1><p class="lead">${t.lead}</p>
<form class="filters" method="get" action="/console/institutions" role="search"><div><label for="q">${t.filter}</label><input id="q" name="q" type="search" value="${q}"></div><div><button type="submit">${COMMON[kit.lang].filter}</button></div></form>
${rows.length === 0 ? html`<p>${t.none}</p>` : html`<div class="table"><table><thead><tr><th scope="col">${t.member}</th><th scope="col">${t.id}</th><th scope="col">${t.subsystems}</th></tr></thead><tbody>${rows}</tbody></table></div>`}`,
    })
  })

  app.get('/console/institutions/:member', async (request, reply) => memberDetail(request, reply, {}))

  app.post('/console/institutions/:member/rename', async (request, reply) => {
    const kit = kitOf(request)
    const param = (request.params as { member: string }).member
    const name = field(request, 'name')
    const a = await kit.api.send('PATCH', memberPath(param), { name }, { ifMatch: field(request, '_etag'), reason: field(request, '_reason') })
    if (a.ok) return redirectWith(request, reply, memberPage(memberIdOf(param)), { kind: 'ok', text: W[kit.lang].renamed })
    return memberDetail(request, reply, { rename: { problems: refusal(a, ['name']), name } })
  })

  app.post('/console/institutions/:member/subsystems', async (request, reply) => {
    const kit = kitOf(request)
    const param = (request.params as { member: string }).member
    const typed = { code: field(request, 'code'), name: field(request, 'name'), connection: field(request, 'connection') }
    const body = { code: typed.code, connection: typed.connection, ...(typed.name.trim() === '' ? {} : { name: typed.name.trim() }) }
    const a = await kit.api.send('POST', `${memberPath(param)}/subsystems`, body, { ifMatch: field(request, '_etag'), reason: field(request, '_reason') })
    if (a.ok) return redirectWith(request, reply, memberPage(memberIdOf(param)), { kind: 'ok', text: W[kit.lang].added })
    return memberDetail(request, reply, { add: { problems: refusal(a, ['code', 'name', 'connection']), ...typed } })
  })

  app.get('/console/institutions/:member/subsystems/:code/remove', async (request, reply) => removePage(request, reply))

  app.post('/console/institutions/:member/subsystems/:code/remove', async (request, reply) => {
    const kit = kitOf(request)
    const { member: param, code } = request.params as { member: string; code: string }
    const a = await kit.api.send('DELETE', `${memberPath(param)}/subsystems/${encodeURIComponent(code)}`, undefined, { ifMatch: field(request, '_etag'), reason: field(request, '_reason') })
    if (a.ok) return redirectWith(request, reply, memberPage(memberIdOf(param)), { kind: 'ok', text: W[kit.lang].removed })
    return removePage(request, reply, refusal(a, []))
  })
}

interface Typed {
  rename?: { problems: FormProblems; name: string }
  add?: { problems: FormProblems; code: string; name: string; connection: string }
}

async function memberDetail (request: FastifyRequest, reply: FastifyReply, typed: Typed): Promise<FastifyReply> {
  const kit = kitOf(request)
  const t = W[kit.lang]
  const param = (request.params as { member: string }).member
  const memberA = await kit.api.get<Member>(memberPath(param))
  if (!memberA.ok) refusal(memberA, [])
  const m = memberA.body
  const id = memberIdOf(m.id)
  const subs = await kit.api.get<Listed<Subsystem>>(`${memberPath(param)}/subsystems`)
  if (!subs.ok) refusal(subs, [])
  const certificates: Certificate[] = []
  for (const owner of [id, ...subs.body.items.map(s => `${id}/${s.code}`)]) {
    certificates.push(...(await kit.api.read<Listed<Certificate>>('/certificates', { owner })).items)
  }
  const grants = await grantsOf(kit, id)

  const controls: Html[] = []
  if (can(kit.viewer, 'member.update', id)) {
    const p = typed.rename?.problems ?? noProblems()
    controls.push(html`<section class="panel" aria-labelledby="rename-h"><h2 id="rename-h">${t.rename}</h2>${problemSummary(p)}
<form method="post" action="${memberPage(id)}/rename">${formState(kit, memberA.etag)}
${input({ name: 'name', id: 'rename-name', label: t.name, value: typed.rename?.name ?? m.name, required: true, attrs: html` maxlength="300"` }, p)}
${reasonField(kit.lang, 'rename-reason')}<div class="actions"><button type="submit">${t.rename}</button></div></form></section>`)
  }
  if (can(kit.viewer, 'subsystem.create', id)) {
    const p = typed.add?.problems ?? noProblems()
    controls.push(html`<section class="panel" aria-labelledby="add-h"><h2 id="add-h">${t.addSubsystem}</h2>${problemSummary(p)}
<form method="post" action="${memberPage(id)}/subsystems">${formState(kit, subs.etag)}<div class="grid">
${input({ name: 'code', id: 'add-code', label: t.code, value: typed.add?.code, required: true }, p)}
${input({ name: 'name', id: 'add-name', label: t.name, value: typed.add?.name }, p)}
${select({ name: 'connection', id: 'add-connection', label: t.connection, hint: t.connectionHint, value: typed.add?.connection ?? 'mtls', options: [{ value: 'mtls', label: 'mtls' }, { value: 'http', label: 'http' }] }, p)}</div>
${reasonField(kit.lang, 'add-reason')}<div class="actions"><button type="submit">${t.addSubsystem}</button></div></form></section>`)
  }
  const mayRemove = can(kit.viewer, 'subsystem.delete', id)
  const subsystemRows = subs.body.items.map(s => html`<tr><th scope="row"><code>${s.code}</code></th><td>${s.name ?? ''}</td><td>${s.connection}</td>${mayRemove ? html`<td><a href="${memberPage(id)}/subsystems/${encodeURIComponent(s.code)}/remove">${t.remove}<span class="vh"> ${s.code}</span></a></td>` : ''}</tr>`)
  const certRows = certificates.map(c => html`<tr><th scope="row"><code>${c.serial}</code></th><td>${c.role}</td><td><code>${c.owner}</code></td><td>${when(c.notAfter, kit.lang)}</td><td><span class="badge ${STATE_BADGE[c.state] ?? ''}">${t.states[c.state] ?? c.state}</span></td></tr>`)

  return sendPage(request, reply, {
    title: m.name,
    nav: 'institutions',
    status: typed.rename?.problems.status ?? typed.add?.problems.status ?? 200,
    body: html`<p><a href="/console/institutions">${COMMON[kit.lang].back}</a></p><h1>${m.name}</h1>
<dl class="facts"><div><dt>${t.id}</dt><dd><code>${id}</code></dd></div><div><dt>${t.code}</dt><dd>${m.code}</dd></div></dl>
<h2>${t.subsystems}</h2>
${subsystemRows.length === 0 ? html`<p>${t.noSubsystems}</p>` : html`<div class="table"><table><thead><tr><th scope="col">${t.code}</th><th scope="col">${t.name}</th><th scope="col">${t.connection}</th>${mayRemove ? html`<th scope="col"><span class="vh">${t.remove}</span></th>` : ''}</tr></thead><tbody>${subsystemRows}</tbody></table></div>`}
<h2>${t.certificates}</h2>
${certRows.length === 0 ? html`<p>${t.noCertificates}</p>` : html`<div class="table"><table><thead><tr><th scope="col">${t.serial}</th><th scope="col">${t.role}</th><th scope="col">${t.owner}</th><th scope="col">${t.notAfter}</th><th scope="col">${t.state}</th></tr></thead><tbody>${certRows}</tbody></table></div>`}
<h2>${t.callers}</h2>${grantTable(kit.lang, grants.callers)}
<h2>${t.calls}</h2>${grantTable(kit.lang, grants.calls)}
${controls}`,
  })
}

interface GrantRow { service: string; entry: GrantEntry; via?: string[] }

/** Grants on the member's services, and grant entries naming its clients (directly or through a group). */
async function grantsOf (kit: ConsoleKit, memberId: string): Promise<{ callers: GrantRow[]; calls: GrantRow[] }> {
  const all = await kit.api.read<Listed<Grants>>('/grants')
  const groups = await kit.api.read<Listed<{ name: string; clients: string[] }>>('/groups')
  const ours = (client: string): boolean => memberOfClient(client) === memberId
  const callers: GrantRow[] = []
  const calls: GrantRow[] = []
  for (const g of all.items) {
    for (const entry of g.entries) {
      if (memberOfClient(g.service) === memberId) callers.push({ service: g.service, entry })
      const via = (entry.groups ?? []).filter(name => groups.items.find(x => x.name === name)?.clients.some(ours) === true)
      if ((entry.clients ?? []).some(ours) || via.length > 0) calls.push({ service: g.service, entry, via })
    }
  }
  return { callers, calls }
}

function grantTable (lang: Lang, rows: GrantRow[]): Html {
  const t = W[lang]
  if (rows.length === 0) return html`<p>${t.noGrants}</p>`
  return html`<div class="table"><table><thead><tr><th scope="col">${t.service}</th><th scope="col">${t.effect}</th><th scope="col">${t.clients}</th><th scope="col">${t.endpoints}</th></tr></thead><tbody>${rows.map(r => html`<tr>
<th scope="row"><code>${r.service}</code></th>
<td><span class="badge ${r.entry.effect === 'deny' ? 'bad' : 'ok'}">${r.entry.effect === 'deny' ? t.deny : t.allow}</span></td>
<td><ul>${(r.entry.clients ?? []).map(c => html`<li><code>${c}</code></li>`)}${(r.entry.groups ?? []).map(g => html`<li>${t.via} <code>${g}</code></li>`)}</ul></td>
<td>${r.entry.endpoints === undefined ? t.whole : html`<ul>${r.entry.endpoints.map(e => html`<li><code>${e.method} ${e.path}</code></li>`)}</ul>`}</td></tr>`)}</tbody></table></div>`
}

async function removePage (request: FastifyRequest, reply: FastifyReply, problems?: FormProblems): Promise<FastifyReply> {
  const kit = kitOf(request)
  const t = W[kit.lang]
  const { member: param, code } = request.params as { member: string; code: string }
  const sub = await kit.api.get<Subsystem>(`${memberPath(param)}/subsystems/${encodeURIComponent(code)}`)
  if (!sub.ok) refusal(sub, [])
  const id = memberIdOf(param)
  return sendPage(request, reply, {
    title: t.removeTitle,
    nav: 'institutions',
    status: problems?.status ?? 200,
    body: html`<p><a href="${memberPage(id)}">${COMMON[kit.lang].back}</a></p><h1>${t.removeTitle}</h1>
<p><code>${id}/${sub.body.code}</code>${sub.body.name === undefined ? '' : html` — ${sub.body.name}`}</p><p>${t.removeLead}</p>
${problems === undefined ? '' : problemSummary(problems)}
${can(kit.viewer, 'subsystem.delete', id) ? html`<form method="post" action="${memberPage(id)}/subsystems/${encodeURIComponent(code)}/remove">${formState(kit, sub.etag)}${reasonField(kit.lang)}<div class="actions"><button type="submit" class="danger">${t.remove}</button><a href="${memberPage(id)}">${COMMON[kit.lang].cancel}</a></div></form>` : ''}`,
  })
}
