/**
 * The officials pages: a member's staff who may apply on a citizen's behalf (the assisted channel).
 * Choose a member, see its officials with whether each may still act, add one (the API checks the
 * NID and says what is wrong, shown next to the field), change an official's role or last day, or
 * remove one. Everything goes through the admin API's `official.*` routes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { html, type Html } from '../html.ts'
import { COMMON, words } from '../i18n.ts'
import { field, formState, kitOf, reasonField, redirectWith, sendPage } from '../kit.ts'
import { can } from '../layout.ts'
import { input, noProblems, problemSummary, refusal, type FormProblems } from './form-fields.ts'

const W = words({
  sq: {
    title: 'Zyrtarët', lead: 'Punonjësit e institucioneve që aplikojnë në emër të shtetasve.', member: 'Institucioni', choose: 'Shfaq',
    officialsOf: (m: string) => `Zyrtarët e ${m}`, none: 'Ky institucion nuk ka zyrtarë.', nid: 'Numri personal (NID)', name: 'Emri dhe mbiemri',
    role: 'Detyra', validUntil: 'Dita e fundit', validHint: 'VVVV-MM-DD, dita e fundit (përfshirë) kur zyrtari mund të veprojë.', state: 'Gjendja',
    active: 'Aktiv', expired: 'I skaduar', count: 'Zyrtarë', add: 'Shto një zyrtar', added: 'Zyrtari u shtua.',
    change: 'Ndrysho', changeTitle: (n: string) => `Zyrtari ${n}`, changed: 'Zyrtari u ndryshua.', remove: 'Hiq zyrtarin', removed: 'Zyrtari u hoq.',
  },
  en: {
    title: 'Officials', lead: 'Institutions\' staff who apply on a citizen\'s behalf.', member: 'Institution', choose: 'Show',
    officialsOf: (m: string) => `Officials of ${m}`, none: 'This institution has no officials.', nid: 'Personal number (NID)', name: 'Full name',
    role: 'Role', validUntil: 'Last day', validHint: 'YYYY-MM-DD, the last day (inclusive) the official may act.', state: 'State',
    active: 'Active', expired: 'Expired', count: 'Officials', add: 'Add an official', added: 'The official was added.',
    change: 'Change', changeTitle: (n: string) => `Official ${n}`, changed: 'The official was changed.', remove: 'Remove the official', removed: 'The official was removed.',
  },
})

interface Member { id: string; name: string }
interface Official { nid: string; name: string; role: string; validUntil: string }
interface Listed<T> { version: number; items: T[] }

const officialsPath = (param: string): string => `/members/${encodeURIComponent(param)}/officials`
const listPage = (param: string): string => `/console/officials?member=${encodeURIComponent(param)}`
const editPage = (param: string, nid: string): string => `/console/officials/${encodeURIComponent(param)}/${encodeURIComponent(nid)}`
const memberIdOf = (param: string): string => param.replaceAll(':', '/')
/** Today in Albania, as `YYYY-MM-DD` (an official acts through its last day, the date in Albania). */
const today = (): string => new Date().toLocaleDateString('sv-SE', { timeZone: 'Europe/Tirane' })

export async function officialPages (app: FastifyInstance): Promise<void> {
  app.get('/console/officials', async (request, reply) => listView(request, reply))

  app.post('/console/officials/:member', async (request, reply) => {
    const kit = kitOf(request)
    const param = (request.params as { member: string }).member
    const typed = { nid: field(request, 'nid').trim().toUpperCase(), name: field(request, 'name').trim(), role: field(request, 'role').trim(), validUntil: field(request, 'validUntil').trim() }
    const a = await kit.api.send('POST', officialsPath(param), typed, { ifMatch: field(request, '_etag'), reason: field(request, '_reason') })
    if (a.ok) return redirectWith(request, reply, listPage(param), { kind: 'ok', text: W[kit.lang].added })
    return listView(request, reply, { member: param, problems: refusal(a, ['nid', 'name', 'role', 'validUntil']), typed })
  })

  app.get('/console/officials/:member/:nid', async (request, reply) => editView(request, reply))

  app.post('/console/officials/:member/:nid', async (request, reply) => {
    const kit = kitOf(request)
    const { member: param, nid } = request.params as { member: string; nid: string }
    const typed = { name: field(request, 'name').trim(), role: field(request, 'role').trim(), validUntil: field(request, 'validUntil').trim() }
    const a = await kit.api.send('PUT', `${officialsPath(param)}/${encodeURIComponent(nid)}`, typed, { ifMatch: field(request, '_etag'), reason: field(request, '_reason') })
    if (a.ok) return redirectWith(request, reply, listPage(param), { kind: 'ok', text: W[kit.lang].changed })
    return editView(request, reply, { problems: refusal(a, ['name', 'role', 'validUntil']), typed })
  })

  app.post('/console/officials/:member/:nid/remove', async (request, reply) => {
    const kit = kitOf(request)
    const { member: param, nid } = request.params as { member: string; nid: string }
    const a = await kit.api.send('DELETE', `${officialsPath(param)}/${encodeURIComponent(nid)}`, undefined, { ifMatch: field(request, '_etag'), reason: field(request, '_reason') })
    if (a.ok) return redirectWith(request, reply, listPage(param), { kind: 'ok', text: W[kit.lang].removed })
    return editView(request, reply, { problems: refusal(a, []) })
  })
}

interface Typed { member: string; problems: FormProblems; typed: { nid: string; name: string; role: string; validUntil: string } }

async function listView (request: FastifyRequest, reply: FastifyReply, typed?: Typed): Promise<FastifyReply> {
  const kit = kitOf(request)
  const t = W[kit.lang]
  const members = await kit.api.read<Listed<Member>>('/members')
  const asked = typed?.member ?? String((request.query as { member?: unknown }).member ?? '')
  const chosen = members.items.find(m => m.id === asked)
  const chooser = html`<form class="filters" method="get" action="/console/officials"><div><label for="member">${t.member}</label><select id="member" name="member">${members.items.map(m => html`<option value="${m.id}"${m.id === chosen?.id ? html` selected` : ''}>${m.name}</option>`)}</select></div><div><button type="submit">${t.choose}</button></div></form>`
  let body: Html
  if (chosen === undefined) {
    const rows: Html[] = []
    for (const m of members.items) {
      const list = await kit.api.read<Listed<Official>>(officialsPath(m.id))
      rows.push(html`<tr><th scope="row"><a href="${listPage(m.id)}">${m.name}</a></th><td class="num">${list.items.length}</td></tr>`)
    }
    body = html`<div class="table"><table><thead><tr><th scope="col">${t.member}</th><th scope="col" class="num">${t.count}</th></tr></thead><tbody>${rows}</tbody></table></div>`
  } else {
    const list = await kit.api.get<Listed<Official>>(officialsPath(chosen.id))
    if (!list.ok) refusal(list, [])
    const id = memberIdOf(chosen.id)
    const day = today()
    const mayChange = can(kit.viewer, 'official.update', id) || can(kit.viewer, 'official.delete', id)
    const rows = list.body.items.map(o => html`<tr><th scope="row"><code>${o.nid}</code></th><td>${o.name}</td><td>${o.role}</td><td>${o.validUntil}</td>
<td>${o.validUntil >= day ? html`<span class="badge ok">${t.active}</span>` : html`<span class="badge bad">${t.expired}</span>`}</td>
${mayChange ? html`<td><a href="${editPage(chosen.id, o.nid)}">${t.change}<span class="vh"> ${o.name}</span></a></td>` : ''}</tr>`)
    const p = typed?.problems ?? noProblems()
    const v = typed?.typed
    const add = can(kit.viewer, 'official.create', id)
      ? html`<section class="panel" aria-labelledby="add-h"><h2 id="add-h">${t.add}</h2>${problemSummary(p)}
<form method="post" action="/console/officials/${encodeURIComponent(chosen.id)}">${formState(kit, list.etag)}<div class="grid">
${input({ name: 'nid', label: t.nid, value: v?.nid, required: true, attrs: html` autocomplete="off" maxlength="10"` }, p)}
${input({ name: 'name', label: t.name, value: v?.name, required: true }, p)}
${input({ name: 'role', label: t.role, value: v?.role, required: true }, p)}
${input({ name: 'validUntil', label: t.validUntil, hint: t.validHint, value: v?.validUntil, type: 'date', required: true }, p)}
</div>${reasonField(kit.lang)}<div class="actions"><button type="submit">${t.add}</button></div></form></section>`
      : ''
    body = html`<h2>${t.officialsOf(chosen.name)}</h2>
${rows.length === 0 ? html`<p>${t.none}</p>` : html`<div class="table"><table><thead><tr><th scope="col">${t.nid}</th><th scope="col">${t.name}</th><th scope="col">${t.role}</th><th scope="col">${t.validUntil}</th><th scope="col">${t.state}</th>${mayChange ? html`<th scope="col"><span class="vh">${t.change}</span></th>` : ''}</tr></thead><tbody>${rows}</tbody></table></div>`}
${add}`
  }
  return sendPage(request, reply, {
    title: t.title,
    nav: 'officials',
    status: typed?.problems.status ?? 200,
    body: html`<h1>${t.title}</h1><p class="lead">${t.lead}</p>${chooser}${body}`,
  })
}

async function editView (request: FastifyRequest, reply: FastifyReply, typed?: { problems: FormProblems; typed?: { name: string; role: string; validUntil: string } }): Promise<FastifyReply> {
  const kit = kitOf(request)
  const t = W[kit.lang]
  const { member: param, nid } = request.params as { member: string; nid: string }
  const a = await kit.api.get<Official>(`${officialsPath(param)}/${encodeURIComponent(nid)}`)
  if (!a.ok) refusal(a, [])
  const o = a.body
  const id = memberIdOf(param)
  const p = typed?.problems ?? noProblems()
  const v = typed?.typed ?? o
  const forms: Html[] = []
  if (can(kit.viewer, 'official.update', id)) {
    forms.push(html`<section class="panel" aria-labelledby="change-h"><h2 id="change-h">${t.change}</h2>
<form method="post" action="${editPage(param, nid)}">${formState(kit, a.etag)}<div class="grid">
${input({ name: 'name', label: t.name, value: v.name, required: true }, p)}
${input({ name: 'role', label: t.role, value: v.role, required: true }, p)}
${input({ name: 'validUntil', label: t.validUntil, hint: t.validHint, value: v.validUntil, type: 'date', required: true }, p)}
</div>${reasonField(kit.lang, 'change-reason')}<div class="actions"><button type="submit">${COMMON[kit.lang].save}</button></div></form></section>`)
  }
  if (can(kit.viewer, 'official.delete', id)) {
    forms.push(html`<section class="panel" aria-labelledby="remove-h"><h2 id="remove-h">${t.remove}</h2>
<form method="post" action="${editPage(param, nid)}/remove">${formState(kit, a.etag)}${reasonField(kit.lang, 'remove-reason')}<div class="actions"><button type="submit" class="danger">${t.remove}</button></div></form></section>`)
  }
  return sendPage(request, reply, {
    title: t.changeTitle(o.name),
    nav: 'officials',
    status: p.status ?? 200,
    body: html`<p><a href="${listPage(param)}">${COMMON[kit.lang].back}</a></p><h1>${t.changeTitle(o.name)}</h1>
<dl class="facts"><div><dt>${t.nid}</dt><dd><code>${o.nid}</code></dd></div><div><dt>${t.member}</dt><dd><code>${id}</code></dd></div></dl>
${problemSummary(p)}${forms}`,
  })
}
