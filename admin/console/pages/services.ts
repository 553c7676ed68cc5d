/**
 * The services pages: the list (provider, protocol, enabled or disabled, with a text filter), a
 * service's page with its catalogue card, the create and edit forms with the catalogue metadata in
 * both languages and a preview of the card ("Parashiko" re-renders the form with the card, nothing
 * is saved: no script is needed), and disabling with a notice for callers, enabling again. A
 * member-scoped service administrator sees its own member's services (the API filters the list) and
 * is shown controls only where its role allows them.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { CatalogueMetadata } from '../../../config/catalogue-labels.ts'
import { metadataProblems } from '../../../config/catalogue-metadata.ts'
import type { ServiceConfig } from '../../../config/types.ts'
import { memberOfClient } from '../../ids.ts'
import { html, type Html } from '../html.ts'
import { COMMON, words } from '../i18n.ts'
import { field, forbiddenPage, formState, kitOf, reasonField, redirectWith, sendPage } from '../kit.ts'
import { can } from '../layout.ts'
import { catalogueCard } from './catalogue-card.ts'
import { addProblem, hasProblems, noProblems, problemSummary, refusal, textarea, type FormProblems } from './form-fields.ts'
import { ALL_FIELDS, readForm, serviceFields, valuesOf, valuesOfService, type FormValues } from './service-form.ts'

const W = words({
  sq: {
    title: 'Shërbimet', lead: 'Shërbimet që ofrojnë institucionet e nyjes.', filter: 'Kërko sipas emrit ose kodit', none: 'Asnjë shërbim nuk përputhet me kërkimin.',
    service: 'Shërbimi', provider: 'Ofruesi', protocol: 'Protokolli', state: 'Gjendja', enabled: 'Aktiv', disabled: 'I çaktivizuar',
    create: 'Shto një shërbim', edit: 'Ndrysho', editTitle: (s: string) => `Ndryshimi i shërbimit ${s}`, id: 'Identifikuesi', adapter: 'Ofruesi arrihet me', url: 'Adresa',
    card: 'Karta në katalog', notPublished: 'Katalogu nuk e publikon këtë shërbim derisa të plotësohen:', noCatalogue: 'Shërbimi nuk ka të dhëna për katalogun.',
    preview: 'Parashiko', previewTitle: 'Parashikimi i kartës', previewLead: 'Kështu do të duket karta në katalog. Asgjë nuk është ruajtur ende.', save: 'Ruaj',
    created: 'Shërbimi u shtua.', saved: 'Shërbimi u ruajt.', disable: 'Çaktivizo', disableTitle: 'Çaktivizimi i shërbimit', notice: 'Njoftimi për thirrësit',
    noticeHint: 'Thirrësit e marrin këtë njoftim në vend të përgjigjes; katalogu e tregon.', disabledFlash: 'Shërbimi u çaktivizua.', enable: 'Aktivizo', enabledFlash: 'Shërbimi u aktivizua.',
    noticeNow: 'Njoftimi aktual', needNotice: 'Shkruani njoftimin për thirrësit.',
  },
  en: {
    title: 'Services', lead: 'The services the node\'s institutions provide.', filter: 'Search by name or code', none: 'No service matches the search.',
    service: 'Service', provider: 'Provider', protocol: 'Protocol', state: 'State', enabled: 'Enabled', disabled: 'Disabled',
    create: 'Add a service', edit: 'Edit', editTitle: (s: string) => `Editing service ${s}`, id: 'Identifier', adapter: 'Provider reached by', url: 'Address',
    card: 'Catalogue card', notPublished: 'The catalogue does not publish this service until these are complete:', noCatalogue: 'The service has no catalogue metadata.',
    preview: 'Preview', previewTitle: 'Preview of the card', previewLead: 'This is how the card will look in the catalogue. Nothing is saved yet.', save: 'Save',
    created: 'The service was added.', saved: 'The service was saved.', disable: 'Disable', disableTitle: 'Disabling the service', notice: 'Notice for callers',
    noticeHint: 'Callers receive this notice instead of an answer; the catalogue shows it.', disabledFlash: 'The service was disabled.', enable: 'Enable', enabledFlash: 'The service was enabled.',
    noticeNow: 'Current notice', needNotice: 'Write the notice for callers.',
  },
})

type Service = ServiceConfig & { id: string }
interface Listed<T> { version: number; items: T[] }

const apiPath = (id: string): string => `/services/${encodeURIComponent(id)}`
const pagePath = (id: string): string => `/console/services/${encodeURIComponent(id)}`
const idText = (s: Pick<ServiceConfig, 'provider' | 'code' | 'version'>): string => `${s.provider}/${s.code}${s.version === undefined ? '' : `/${s.version}`}`
const nameOf = (s: ServiceConfig): string => str((s.catalogue as { title?: { sq?: unknown } } | undefined)?.title?.sq) || s.title || s.code
const str = (v: unknown): string => (typeof v === 'string' ? v : '')
const SERVICE_PARAM = (request: FastifyRequest): string => (request.params as { service: string }).service

export async function servicePages (app: FastifyInstance): Promise<void> {
  app.get('/console/services', async (request, reply) => {
    const kit = kitOf(request)
    const t = W[kit.lang]
    const q = String((request.query as { q?: unknown }).q ?? '').trim().toLowerCase()
    const list = await kit.api.read<Listed<Service>>('/services')
    const items = list.items.filter(s => q === '' || [idText(s), s.title ?? '', nameOf(s), str((s.catalogue as { title?: { en?: unknown } } | undefined)?.title?.en)].join(' ').toLowerCase().includes(q))
    const rows = items.map(s => html`<tr><th scope="row"><a href="${pagePath(s.id)}">${nameOf(s)}</a><br><code>${s.code}${s.version === undefined ? '' : `@${s.version}`}</code></th>
<td><code>${s.provider}</code></td><td>${s.type.toUpperCase()}</td>
<td>${s.disabled === undefined ? html`<span class="badge ok">${t.enabled}</span>` : html`<span class="badge bad">${t.disabled}</span>`}</td>
<td>${can(kit.viewer, 'service.update', memberOfClient(s.provider)) ? html`<a href="${pagePath(s.id)}/edit">${t.edit}<span class="vh"> ${nameOf(s)}</span></a>` : ''}</td></tr>`)
    return sendPage(request, reply, {
      title: t.title,
      nav: 'services',
      body: html`<h1>${t.title}</h1><p class="lead">${t.lead}</p>
${can(kit.viewer, 'service.create') ? html`<p><a class="button" href="/console/services/new">${t.create}</a></p>` : ''}
<form class="filters" method="get" action="/console/services" role="search"><div><label for="q">${t.filter}</label><input id="q" name="q" type="search" value="${q}"></div><div><button type="submit">${COMMON[kit.lang].filter}</button></div></form>
${rows.length === 0 ? html`<p>${t.none}</p>` : html`<div class="table"><table><thead><tr><th scope="col">${t.service}</th><th scope="col">${t.provider}</th><th scope="col">${t.protocol}</th><th scope="col">${t.state}</th><th scope="col"><span class="vh">${t.edit}</span></th></tr></thead><tbody>${rows}</tbody></table></div>`}`,
    })
  })

  app.get('/console/services/new', async (request, reply) => {
    if (!can(kitOf(request).viewer, 'service.create')) return forbiddenPage(request, reply, '/console/services')
    return createForm(request, reply, valuesOfService(), noProblems(), false)
  })

  app.post('/console/services/new', async (request, reply) => {
    const kit = kitOf(request)
    const values = valuesOf(request)
    const problems = noProblems()
    const read = readForm(values, kit.lang, problems, true)
    // A role that may not create services gets the API's refusal (and its audit record), not a preview.
    const may = can(kit.viewer, 'service.create')
    if (may && (field(request, '_action') === 'preview' || hasProblems(problems))) return createForm(request, reply, values, problems, true)
    const body = { ...read.service, ...(read.catalogue === undefined ? {} : { catalogue: read.catalogue }) }
    const a = await kit.api.send<Service>('POST', '/services', body, { ifMatch: field(request, '_etag'), reason: field(request, '_reason') })
    if (a.ok) return redirectWith(request, reply, pagePath(a.body.id), { kind: 'ok', text: W[kit.lang].created })
    return createForm(request, reply, values, refusal(a, ALL_FIELDS), false)
  })

  app.get('/console/services/:service', async (request, reply) => detail(request, reply))

  app.get('/console/services/:service/edit', async (request, reply) => {
    const kit = kitOf(request)
    const a = await kit.api.get<Service>(apiPath(SERVICE_PARAM(request)))
    if (!a.ok) refusal(a, [])
    return editForm(request, reply, a.body, a.etag, valuesOfService(a.body), noProblems(), false)
  })

  app.post('/console/services/:service/edit', async (request, reply) => {
    const kit = kitOf(request)
    const current = await kit.api.get<Service>(apiPath(SERVICE_PARAM(request)))
    if (!current.ok) refusal(current, [])
    const values = valuesOf(request)
    const problems = noProblems()
    const read = readForm(values, kit.lang, problems, false)
    const etag = field(request, '_etag')
    if (field(request, '_action') === 'preview' || hasProblems(problems)) return editForm(request, reply, current.body, etag, values, problems, true)
    const patch = { ...read.service, adapter: { ...current.body.adapter, ...(read.service.adapter as object) }, catalogue: read.catalogue ?? null }
    const a = await kit.api.send('PATCH', apiPath(SERVICE_PARAM(request)), patch, { ifMatch: etag, reason: field(request, '_reason') })
    if (a.ok) return redirectWith(request, reply, pagePath(current.body.id), { kind: 'ok', text: W[kit.lang].saved })
    return editForm(request, reply, current.body, etag, values, refusal(a, ALL_FIELDS), false)
  })

  app.post('/console/services/:service/disable', async (request, reply) => {
    const kit = kitOf(request)
    const notice = field(request, 'notice').trim()
    if (notice === '') {
      const p = noProblems(); p.status = 400; addProblem(p, 'notice', W[kit.lang].needNotice)
      return detail(request, reply, { problems: p, notice })
    }
    const a = await kit.api.send('POST', `${apiPath(SERVICE_PARAM(request))}/disable`, { notice }, { ifMatch: field(request, '_etag'), reason: field(request, '_reason') })
    if (a.ok) return redirectWith(request, reply, pagePath(SERVICE_PARAM(request)), { kind: 'ok', text: W[kit.lang].disabledFlash })
    return detail(request, reply, { problems: refusal(a, ['notice']), notice })
  })

  app.post('/console/services/:service/enable', async (request, reply) => {
    const kit = kitOf(request)
    const a = await kit.api.send('POST', `${apiPath(SERVICE_PARAM(request))}/enable`, undefined, { ifMatch: field(request, '_etag'), reason: field(request, '_reason') })
    if (a.ok) return redirectWith(request, reply, pagePath(SERVICE_PARAM(request)), { kind: 'ok', text: W[kit.lang].enabledFlash })
    return detail(request, reply, { problems: refusal(a, []), notice: '' })
  })
}

async function detail (request: FastifyRequest, reply: FastifyReply, typed?: { problems: FormProblems; notice: string }): Promise<FastifyReply> {
  const kit = kitOf(request)
  const t = W[kit.lang]
  const a = await kit.api.get<Service>(apiPath(SERVICE_PARAM(request)))
  if (!a.ok) refusal(a, [])
  const s = a.body
  const member = memberOfClient(s.provider)
  const problems = s.catalogue === undefined ? [] : metadataProblems(s.catalogue)
  const controls: Html[] = []
  const p = typed?.problems ?? noProblems()
  if (s.disabled === undefined && can(kit.viewer, 'service.disable', member)) {
    controls.push(html`<section class="panel" aria-labelledby="disable-h"><h2 id="disable-h">${t.disableTitle}</h2>${problemSummary(p)}
<form method="post" action="${pagePath(s.id)}/disable">${formState(kit, a.etag)}
${textarea({ name: 'notice', label: t.notice, hint: t.noticeHint, value: typed?.notice, required: true, attrs: html` maxlength="2000"` }, p)}
${reasonField(kit.lang)}<div class="actions"><button type="submit" class="danger">${t.disable}</button></div></form></section>`)
  }
  if (s.disabled !== undefined && can(kit.viewer, 'service.enable', member)) {
    controls.push(html`<section class="panel" aria-labelledby="enable-h"><h2 id="enable-h">${t.enable}</h2>${problemSummary(p)}
<form method="post" action="${pagePath(s.id)}/enable">${formState(kit, a.etag)}${reasonField(kit.lang)}<div class="actions"><button type="submit">${t.enable}</button></div></form></section>`)
  }
  return sendPage(request, reply, {
    title: nameOf(s),
    nav: 'services',
    status: p.status ?? 200,
    body: html`<p><a href="/console/services">${COMMON[kit.lang].back}</a></p><h1>${nameOf(s)}</h1>
${s.disabled === undefined ? html`<p><span class="badge ok">${t.enabled}</span></p>` : html`<div class="notice" role="note"><p><span class="badge bad">${t.disabled}</span></p><p><strong>${t.noticeNow}:</strong> ${s.disabled.notice}</p></div>`}
<dl class="facts"><div><dt>${t.id}</dt><dd><code>${idText(s)}</code></dd></div><div><dt>${t.provider}</dt><dd><code>${s.provider}</code></dd></div>
<div><dt>${t.protocol}</dt><dd>${s.type.toUpperCase()}</dd></div><div><dt>${t.adapter}</dt><dd>${s.adapter.kind}</dd></div><div><dt>${t.url}</dt><dd><code>${s.adapter.url}</code></dd></div></dl>
${can(kit.viewer, 'service.update', member) ? html`<p><a class="button" href="${pagePath(s.id)}/edit">${t.edit}</a></p>` : ''}
<h2>${t.card}</h2>
${s.catalogue === undefined ? html`<p>${t.noCatalogue}</p>` : catalogueCard(s.catalogue as Partial<CatalogueMetadata>, kit.lang, { level: 3, disabled: s.disabled !== undefined })}
${problems.length === 0 ? '' : html`<div class="notice" role="note"><p>${t.notPublished}</p><ul>${problems.map(x => html`<li><code>${x}</code></li>`)}</ul></div>`}
${controls}`,
  })
}

/** The clients (members and subsystems) the operator may add services for. */
async function providers (request: FastifyRequest): Promise<string[]> {
  const kit = kitOf(request)
  const members = await kit.api.read<Listed<{ id: string }>>('/members')
  const out: string[] = []
  for (const m of members.items) {
    const id = m.id.replaceAll(':', '/')
    if (!can(kit.viewer, 'service.create', id)) continue
    out.push(id)
    const subs = await kit.api.read<Listed<{ code: string }>>(`/members/${encodeURIComponent(m.id)}/subsystems`)
    for (const s of subs.items) out.push(`${id}/${s.code}`)
  }
  return out
}

function previewSection (request: FastifyRequest, values: FormValues, creating: boolean): Html {
  const kit = kitOf(request)
  const t = W[kit.lang]
  const read = readForm(values, kit.lang, noProblems(), creating)
  return html`<section class="panel preview" aria-labelledby="preview-h"><h2 id="preview-h">${t.previewTitle}</h2><p class="hint">${t.previewLead}</p>
${catalogueCard((read.catalogue ?? {}) as Partial<CatalogueMetadata>, kit.lang, { level: 3 })}
${read.warnings.length === 0 ? '' : html`<div class="notice" role="note"><p>${t.notPublished}</p><ul>${read.warnings.map(x => html`<li><code>${x}</code></li>`)}</ul></div>`}</section>`
}

function formButtons (lang: 'sq' | 'en', cancel: string): Html {
  const t = W[lang]
  return html`<div class="actions"><button type="submit" name="_action" value="save">${t.save}</button><button type="submit" name="_action" value="preview" class="secondary">${t.preview}</button><a href="${cancel}">${COMMON[lang].cancel}</a></div>`
}

async function createForm (request: FastifyRequest, reply: FastifyReply, values: FormValues, problems: FormProblems, preview: boolean): Promise<FastifyReply> {
  const kit = kitOf(request)
  const t = W[kit.lang]
  const list = await kit.api.get('/services')
  if (!list.ok) refusal(list, [])
  const etag = field(request, '_etag') || list.etag
  return sendPage(request, reply, {
    title: t.create,
    nav: 'services',
    status: problems.status ?? (hasProblems(problems) ? 400 : 200),
    body: html`<p><a href="/console/services">${COMMON[kit.lang].back}</a></p><h1>${t.create}</h1>${problemSummary(problems)}
${preview ? previewSection(request, values, true) : ''}
<form method="post" action="/console/services/new">${formState(kit, etag)}
${serviceFields(values, kit.lang, problems, true, await providers(request))}
${reasonField(kit.lang)}${formButtons(kit.lang, '/console/services')}</form>`,
  })
}

function editForm (request: FastifyRequest, reply: FastifyReply, s: Service, etag: string | undefined, values: FormValues, problems: FormProblems, preview: boolean): FastifyReply {
  const kit = kitOf(request)
  const t = W[kit.lang]
  // The form is shown only to roles that may change the service; posting anyway is the API's to refuse.
  if (!can(kit.viewer, 'service.update', memberOfClient(s.provider))) {
    return sendPage(request, reply, { title: COMMON[kit.lang].forbidden, status: 403, nav: 'services', body: html`<h1>${COMMON[kit.lang].forbidden}</h1><p><a href="${pagePath(s.id)}">${COMMON[kit.lang].back}</a></p>` })
  }
  return sendPage(request, reply, {
    title: t.editTitle(idText(s)),
    nav: 'services',
    status: problems.status ?? (hasProblems(problems) ? 400 : 200),
    body: html`<p><a href="${pagePath(s.id)}">${COMMON[kit.lang].back}</a></p><h1>${t.editTitle(nameOf(s))}</h1><p><code>${idText(s)}</code></p>${problemSummary(problems)}
${preview ? previewSection(request, values, false) : ''}
<form method="post" action="${pagePath(s.id)}/edit">${formState(kit, etag)}
${serviceFields(values, kit.lang, problems, false, [])}
${reasonField(kit.lang)}${formButtons(kit.lang, pagePath(s.id))}</form>`,
  })
}

