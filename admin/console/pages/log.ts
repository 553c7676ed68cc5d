/**
 * The message log in the console (`/console/log`): find an exchange by message id, client, service
 * and time window (typed as Tirana time), newest first, in pages that follow the API's keyset
 * (`before` = the previous page's `next`); an exchange's page (`/console/log/{message id}`) with its
 * records — the bodies only where the service logs them and the operator's role may read them — and
 * its evidence document to download. Everything is read through the admin API (`/admin/v1/log…`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ApiError, type ApiAnswer } from '../api.ts'
import { html, type Html } from '../html.ts'
import { COMMON, when, words, type Lang } from '../i18n.ts'
import { kitOf, sendPage } from '../kit.ts'
import { can } from '../layout.ts'
import { filterField, readFilters, searchLink, searchPage, timesOf, type Filters } from './search-form.ts'

const W = words({
  sq: {
    title: 'Regjistri i mesazheve', lead: 'Shkëmbimet që kaloi kjo nyje, më të rejat në krye. Trupat e mesazheve shfaqen vetëm kur shërbimi i ruan dhe roli juaj lejon t\'i lexojë.',
    messageId: 'ID e mesazhit (X-Road-Id)', client: 'Klienti', service: 'Shërbimi', from: 'Nga', to: 'Deri', zone: 'Kohët jepen sipas orës së Tiranës.',
    time: 'Koha', request: 'Kërkesa', status: 'Përgjigja', duration: 'Kohëzgjatja', none: 'Asnjë shkëmbim nuk përputhet me kërkimin.',
    noAnswer: 'pa përgjigje', newest: 'Më të rejat', badTime: 'Kjo nuk është një kohë e vlefshme.', open: (id: string) => `Hap shkëmbimin ${id}`,
    exchange: (id: string) => `Shkëmbimi ${id}`, records: 'Regjistrimet', direction: 'Drejtimi', signer: 'Nënshkruesi', hash: 'Hash-i i zinxhirit',
    body: 'Trupi', bodyDigest: 'Përmbledhja e trupit', bodyKept: 'Shkarko trupin', bodyHidden: 'i ruajtur (roli juaj nuk e lexon)', bodyNotKept: 'nuk ruhet (vetëm përmbledhja)',
    evidence: 'Shkarko dokumentin e provës (JSON)', evidenceHint: 'Dokumenti i provës mban regjistrimet, nënshkrimet e tyre dhe provat Merkle; verifikohet me `ura verify`.',
    user: 'Përdoruesi', directions: { request: 'kërkesë', response: 'përgjigje' },
  },
  en: {
    title: 'Message log', lead: 'The exchanges this node carried, newest first. Message bodies show only where the service keeps them and your role may read them.',
    messageId: 'Message id (X-Road-Id)', client: 'Client', service: 'Service', from: 'From', to: 'Until', zone: 'Times are Tirana time.',
    time: 'Time', request: 'Request', status: 'Answer', duration: 'Duration', none: 'No exchange matches the search.',
    noAnswer: 'no answer', newest: 'Newest', badTime: 'This is not a valid time.', open: (id: string) => `Open exchange ${id}`,
    exchange: (id: string) => `Exchange ${id}`, records: 'Records', direction: 'Direction', signer: 'Signer', hash: 'Chain hash',
    body: 'Body', bodyDigest: 'Body digest', bodyKept: 'Download the body', bodyHidden: 'kept (your role may not read it)', bodyNotKept: 'not kept (digest only)',
    evidence: 'Download the evidence document (JSON)', evidenceHint: 'The evidence document holds the records, their signatures and Merkle proofs; `ura verify` checks it.',
    user: 'User', directions: { request: 'request', response: 'response' },
  },
})

interface Exchange {
  seq: number; messageId: string; client: string; service: string; protocol: string; method: string | null; path: string | null
  userId: string | null; requestTime: string; responseTime: string | null; status: number | null; fault: string | null; durationMs: number | null
}
interface LogRecord {
  seq: number; time: string; direction: 'request' | 'response'; protocol: string; client: string; service: string; userId: string | null
  method: string | null; path: string | null; status: number | null; fault: string | null; bodyDigest: string; signer: string; hash: string; bodyLogged: boolean; body?: string
}

const FILTERS = ['messageId', 'client', 'service', 'from', 'to'] as const

const logPath = (id: string): string => `/console/log/${encodeURIComponent(id)}`
const link = (q: Filters, extra: Filters): string => searchLink('/console/log', q, extra)

function answerCell (e: Pick<Exchange, 'status' | 'fault' | 'responseTime'>, lang: Lang): Html {
  if (e.responseTime === null) return html`<span class="badge bad">${W[lang].noAnswer}</span>`
  const bad = e.fault !== null || (e.status ?? 0) >= 500
  const warn = !bad && (e.status ?? 0) >= 400
  return html`<span class="badge ${bad ? 'bad' : warn ? 'warn' : 'ok'}">${e.status ?? ''}${e.fault === null ? '' : ` ${e.fault}`}</span>`
}

/** Streams an API download (evidence, body) to the browser with the API's type and file name. */
function passDownload (reply: FastifyReply, a: ApiAnswer): FastifyReply {
  if (!a.ok) throw new ApiError(a.status, a.problem!)
  return reply.code(200).type(String(a.headers['content-type'] ?? 'application/octet-stream'))
    .header('content-disposition', String(a.headers['content-disposition'] ?? 'attachment')).send(a.raw)
}

export async function logPages (app: FastifyInstance): Promise<void> {
  app.get('/console/log', async (request, reply) => {
    const kit = kitOf(request)
    const t = W[kit.lang]
    const q = readFilters(request.query, [...FILTERS, 'before'])
    const { iso, bad } = timesOf(q, ['from', 'to'])
    const query: Filters = { messageId: q.messageId, client: q.client, service: q.service, before: q.before, limit: '50', ...iso }
    const { items, next, status, problem } = await searchPage<Exchange>(kit.api, '/log', query, bad)
    const input = (k: typeof FILTERS[number], type: string): Html => filterField(`l-${k}`, k, t[k], type, q[k], bad.has(k) ? t.badTime : undefined)
    const rows = items.map(e => html`<tr><td>${when(e.requestTime, kit.lang)}</td><td><a href="${logPath(e.messageId)}" aria-label="${t.open(e.messageId)}"><code>${e.messageId}</code></a></td><td>${e.client}</td><td>${e.service}</td><td>${e.method === null ? e.protocol.toUpperCase() : html`<code>${e.method} ${e.path ?? ''}</code>`}</td><td>${answerCell(e, kit.lang)}</td><td class="num">${e.durationMs === null ? '—' : `${e.durationMs} ms`}</td></tr>`)
    const paging: Html[] = []
    if (q.before !== undefined) paging.push(html`<a href="${link(q, { before: undefined })}">${t.newest}</a>`)
    if (next !== undefined) paging.push(html`<a href="${link(q, { before: String(next) })}" rel="next">${COMMON[kit.lang].next}</a>`)
    return sendPage(request, reply, {
      title: t.title,
      nav: 'log',
      status,
      body: html`<h1>${t.title}</h1><p class="lead">${t.lead}</p>
<form class="filters" method="get" action="/console/log">
${input('messageId', 'text')}${input('client', 'text')}${input('service', 'text')}${input('from', 'datetime-local')}${input('to', 'datetime-local')}
<div class="actions"><button type="submit">${COMMON[kit.lang].search}</button></div>
</form>
<p class="hint">${t.zone}</p>
${problem}
${items.length === 0
  ? html`<p>${t.none}</p>`
  : html`<div class="table"><table><thead><tr><th scope="col">${t.time}</th><th scope="col">${t.messageId}</th><th scope="col">${t.client}</th><th scope="col">${t.service}</th><th scope="col">${t.request}</th><th scope="col">${t.status}</th><th scope="col" class="num">${t.duration}</th></tr></thead><tbody>${rows}</tbody></table></div>`}
${paging.length === 0 ? '' : html`<p class="actions">${paging}</p>`}`,
    })
  })

  const idOf = (request: FastifyRequest): string => (request.params as { id: string }).id

  app.get('/console/log/:id', async (request, reply) => {
    const kit = kitOf(request)
    const t = W[kit.lang]
    const id = idOf(request)
    const found = await kit.api.read<{ messageId: string; records: LogRecord[] }>(`/log/${encodeURIComponent(id)}`)
    const mayReadBodies = can(kit.viewer, 'log.bodies')
    const bodyCell = (r: LogRecord): Html => {
      if (!r.bodyLogged) return html`<span class="muted">${t.bodyNotKept}</span>`
      if (r.body === undefined || !mayReadBodies) return html`<span class="muted">${t.bodyHidden}</span>`
      return html`<a href="${logPath(id)}/records/${r.seq}/body">${t.bodyKept}</a>`
    }
    const rows = found.records.map(r => html`<tr><th scope="row">${r.seq}</th><td>${t.directions[r.direction]}</td><td>${when(r.time, kit.lang)}</td><td>${r.method === null ? r.protocol.toUpperCase() : html`<code>${r.method} ${r.path ?? ''}</code>`}</td><td>${r.direction === 'response' ? answerCell({ status: r.status, fault: r.fault, responseTime: r.time }, kit.lang) : '—'}</td><td><code>${r.signer}</code></td><td>${r.userId ?? '—'}</td><td>${bodyCell(r)}<br><code class="muted">${r.bodyDigest.slice(0, 16)}…</code></td></tr>`)
    const first = found.records[0]
    return sendPage(request, reply, {
      title: t.exchange(id),
      nav: 'log',
      body: html`<p><a href="/console/log">${COMMON[kit.lang].back}</a></p><h1>${t.exchange(id)}</h1>
${first === undefined ? '' : html`<dl class="facts"><div><dt>${t.client}</dt><dd>${first.client}</dd></div><div><dt>${t.service}</dt><dd>${first.service}</dd></div></dl>`}
<h2>${t.records}</h2>
<div class="table"><table><thead><tr><th scope="col">#</th><th scope="col">${t.direction}</th><th scope="col">${t.time}</th><th scope="col">${t.request}</th><th scope="col">${t.status}</th><th scope="col">${t.signer}</th><th scope="col">${t.user}</th><th scope="col">${t.body}</th></tr></thead><tbody>${rows}</tbody></table></div>
<p class="actions"><a class="button" href="${logPath(id)}/evidence">${t.evidence}</a></p>
<p class="hint">${t.evidenceHint}</p>`,
    })
  })

  app.get('/console/log/:id/evidence', async (request, reply) => passDownload(reply, await kitOf(request).api.get(`/log/${encodeURIComponent(idOf(request))}/evidence`)))

  app.get('/console/log/:id/records/:seq/body', async (request, reply) => {
    const seq = (request.params as { seq: string }).seq
    if (!/^[0-9]{1,15}$/.test(seq)) throw new ApiError(404, { type: 'Admin.NotFound', message: 'no such record' })
    return passDownload(reply, await kitOf(request).api.get(`/log/${encodeURIComponent(idOf(request))}/records/${seq}/body`))
  })
}
