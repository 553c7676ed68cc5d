/**
 * The registry's configuration versions in the console (`/console/versions`): who changed the
 * registry, when and why, newest first; what changed between any two versions (the API's diff
 * route); and a rollback to an earlier version, which is asked twice: the first post shows what
 * would change (current → target) and only the confirmation, with the ETag the page was made on and
 * a reason, asks the API.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { RegistryDiff } from '../../../registry/store/diff.ts'
import type { VersionInfo } from '../../../registry/store/store.ts'
import { AdminError } from '../../errors.ts'
import { ApiError } from '../api.ts'
import { html, type Html } from '../html.ts'
import { COMMON, when, words } from '../i18n.ts'
import { field, forbiddenPage, formState, kitOf, reasonField, redirectWith, sendPage } from '../kit.ts'
import { can } from '../layout.ts'
import { registryDiffView } from './diff-view.ts'

const W = words({
  sq: {
    title: 'Versionet e konfigurimit', version: 'Versioni', who: 'Kush', when: 'Kur', why: 'Pse', current: 'aktual',
    list: 'Versionet e regjistrit, më i riu i pari', older: 'Më të vjetrat →', newer: '← Më të rejat', paging: 'Faqet',
    compare: 'Krahaso dy versione', a: 'Versioni A (nga)', b: 'Versioni B (te)', show: 'Shfaq ndryshimet',
    diffTitle: (a: number, b: number) => `Nga versioni ${a} te versioni ${b}`, badNumber: 'Jepni numrin e një versioni.',
    rollbackLabel: (n: number) => `Kthe regjistrin te versioni ${n}`, actions: 'Veprime',
    confirmTitle: (n: number) => `Të kthehet regjistri te versioni ${n}?`,
    confirmLead: (n: number, c: number) => `Do të krijohet një version i ri me përmbajtjen e versionit ${n}. Ky është ndryshimi nga versioni aktual (${c}):`,
    confirm: 'Po, ktheje', nothing: 'Versioni aktual ka tashmë këtë përmbajtje: nuk do të ndryshojë asgjë.',
    done: (v: number, n: number) => `U krijua versioni ${v} me përmbajtjen e versionit ${n}.`, target: 'Versioni i synuar',
  },
  en: {
    title: 'Configuration versions', version: 'Version', who: 'Who', when: 'When', why: 'Why', current: 'current',
    list: 'Registry versions, newest first', older: 'Older →', newer: '← Newer', paging: 'Pages',
    compare: 'Compare two versions', a: 'Version A (from)', b: 'Version B (to)', show: 'Show changes',
    diffTitle: (a: number, b: number) => `From version ${a} to version ${b}`, badNumber: 'Give a version number.',
    rollbackLabel: (n: number) => `Roll the registry back to version ${n}`, actions: 'Actions',
    confirmTitle: (n: number) => `Roll the registry back to version ${n}?`,
    confirmLead: (n: number, c: number) => `A new version will be made with version ${n}'s content. This is the change from the current version (${c}):`,
    confirm: 'Yes, roll back', nothing: 'The current version has this content already: nothing will change.',
    done: (v: number, n: number) => `Version ${v} was made with version ${n}'s content.`, target: 'Target version',
  },
})

const PAGE = 50
const NUMBER = /^[0-9]{1,12}$/

interface VersionList { version: number; current: number; items: VersionInfo[] }

function versionParam (request: FastifyRequest): number {
  const v = (request.params as { version: string }).version
  if (!NUMBER.test(v)) throw new AdminError('Admin.NotFound', `there is no registry version ${v}`)
  return Number(v)
}

export async function versionPages (app: FastifyInstance): Promise<void> {
  app.get('/console/versions', async (request, reply) => {
    const kit = kitOf(request)
    const t = W[kit.lang]
    const head = await kit.api.read<VersionList>('/versions', { after: '0', limit: '1' })
    const current = head.current
    const asked = (request.query as { upto?: unknown }).upto
    const upto = typeof asked === 'string' && NUMBER.test(asked) ? Math.min(Number(asked), current) : current
    const from = Math.max(0, upto - PAGE)
    const page = await kit.api.read<VersionList>('/versions', { after: String(from), limit: String(upto - from || 1) })
    const items = page.items.filter(v => v.version <= upto).reverse()
    const mayRollBack = can(kit.viewer, 'version.rollback')
    const rows = items.map(v => html`<tr><th scope="row">${v.version}${v.version === current ? html` <span class="badge ok">${t.current}</span>` : ''}</th><td>${v.who}</td><td>${when(v.when, kit.lang)}</td><td>${v.why}</td>${mayRollBack
      ? html`<td>${v.version === current ? '' : html`<form method="post" action="/console/versions/${v.version}/rollback">${formState(kit)}<button type="submit" class="secondary">${t.rollbackLabel(v.version)}…</button></form>`}</td>`
      : ''}</tr>`)
    const paging: Html[] = []
    if (upto < current) paging.push(html`<a href="/console/versions?upto=${Math.min(current, upto + PAGE)}">${t.newer}</a>`)
    if (from > 0) paging.push(html`<a href="/console/versions?upto=${from}">${t.older}</a>`)
    return sendPage(request, reply, {
      title: t.title,
      nav: 'versions',
      body: html`<h1>${t.title}</h1>
${compareForm(t, current > 0 ? current - 1 : 0, current)}
${items.length === 0
  ? html`<p>${COMMON[kit.lang].none}</p>`
  : html`<div class="table"><table><caption>${t.list}</caption><thead><tr><th scope="col">${t.version}</th><th scope="col">${t.who}</th><th scope="col">${t.when}</th><th scope="col">${t.why}</th>${mayRollBack ? html`<th scope="col">${t.actions}</th>` : ''}</tr></thead><tbody>${rows}</tbody></table></div>`}
${paging.length === 0 ? '' : html`<nav class="actions" aria-label="${t.paging}">${paging}</nav>`}`,
    })
  })

  app.get('/console/versions/diff', async (request, reply) => {
    const kit = kitOf(request)
    const t = W[kit.lang]
    const q = request.query as { a?: unknown; b?: unknown }
    const a = typeof q.a === 'string' ? q.a.trim() : ''
    const b = typeof q.b === 'string' ? q.b.trim() : ''
    const ok = NUMBER.test(a) && NUMBER.test(b)
    const diff = ok ? await kit.api.read<RegistryDiff>(`/versions/${a}/diff/${b}`) : undefined
    return sendPage(request, reply, {
      title: t.compare,
      nav: 'versions',
      status: ok ? 200 : 400,
      body: html`<p><a href="/console/versions">${COMMON[kit.lang].back}</a></p><h1>${t.compare}</h1>
${compareForm(t, a, b, !ok)}
${diff === undefined ? '' : html`<h2>${t.diffTitle(diff.from, diff.to)}</h2>${registryDiffView(diff, kit.lang)}`}`,
    })
  })

  // Step one: what the rollback would change; nothing is asked of the API but reads.
  app.post('/console/versions/:version/rollback', async (request, reply) => {
    if (!can(kitOf(request).viewer, 'version.rollback')) return forbiddenPage(request, reply, '/console/versions')
    return confirmPage(request, reply, versionParam(request))
  })

  // Step two: the rollback itself, on the version the confirmation page was made on.
  app.post('/console/versions/:version/rollback/confirm', async (request, reply) => {
    const kit = kitOf(request)
    const n = versionParam(request)
    const done = await kit.api.send<{ version: number }>('POST', `/versions/${n}/rollback`, undefined, { ifMatch: field(request, '_etag'), reason: field(request, '_reason') })
    if (done.ok) return redirectWith(request, reply, '/console/versions', { kind: 'ok', text: W[kit.lang].done(done.body.version, n) })
    // A missing reason or a registry changed meanwhile: the confirmation again, on the current version.
    if ([400, 412, 428].includes(done.status)) return confirmPage(request, reply, n, done.status, done.problem!.message)
    throw new ApiError(done.status, done.problem!)
  })
}

function compareForm (t: typeof W.sq, a: number | string, b: number | string, invalid = false): Html {
  const input = (name: 'a' | 'b', value: number | string): Html =>
    html`<div class="field${invalid ? ' invalid' : ''}"><label for="v-${name}">${t[name]}</label><input id="v-${name}" name="${name}" type="number" min="0" step="1" required value="${value}"${invalid ? html` aria-invalid="true" aria-describedby="v-bad"` : ''}></div>`
  return html`<h2>${t.compare}</h2><form class="filters" method="get" action="/console/versions/diff">${input('a', a)}${input('b', b)}<div class="actions"><button type="submit">${t.show}</button></div></form>${invalid ? html`<p class="problem" id="v-bad">${t.badNumber}</p>` : ''}`
}

async function confirmPage (request: FastifyRequest, reply: FastifyReply, n: number, status = 200, problem?: string): Promise<FastifyReply> {
  const kit = kitOf(request)
  const t = W[kit.lang]
  const list = await kit.api.get<VersionList>('/versions', { ...(n > 0 ? { after: String(n - 1) } : {}), limit: '1' })
  if (!list.ok) throw new ApiError(list.status, list.problem!)
  const target = list.body.items[0]
  if (target?.version !== n) throw new AdminError('Admin.NotFound', `there is no registry version ${n}`)
  const current = list.body.current
  const diff = await kit.api.read<RegistryDiff>(`/versions/${current}/diff/${n}`)
  const title = t.confirmTitle(n)
  return sendPage(request, reply, {
    title,
    nav: 'versions',
    status,
    body: html`<h1>${title}</h1>
${problem === undefined ? '' : html`<div class="notice bad" role="alert"><p>${problem}</p></div>`}
<dl class="facts"><div><dt>${t.target}</dt><dd>${n} · ${target.who} · ${when(target.when, kit.lang)} · ${target.why}</dd></div></dl>
<p>${current === n ? t.nothing : t.confirmLead(n, current)}</p>
<section aria-labelledby="changes"><h2 id="changes">${t.diffTitle(current, n)}</h2>${registryDiffView(diff, kit.lang)}</section>
<form method="post" action="/console/versions/${n}/rollback/confirm">
${formState(kit, list.etag)}
${reasonField(kit.lang)}
<div class="actions"><button type="submit" class="danger">${t.confirm}</button><a href="/console/versions">${COMMON[kit.lang].cancel}</a></div>
</form>`,
  })
}
