/**
 * The onboarding queue (`/console/applications`): applications by state; one application whole —
 * the institution, the authorised employee, the sealed letter (downloaded through the console, the
 * API's bytes as they are), each CSR's subject and key checked against the ids the application will
 * register (csr-checks.ts) — with approve and reject (a reason the applicant reads) for the roles
 * that decide, and after approval the serials of the certificates the node's CA issued.
 */
import type { FastifyInstance } from 'fastify'
import type { AdminContext } from '../../context.ts'
import { ApiError } from '../api.ts'
import { html, type Html } from '../html.ts'
import { COMMON, when, words } from '../i18n.ts'
import { field, formState, kitOf, redirectWith, sendPage, type ConsoleKit } from '../kit.ts'
import { can } from '../layout.ts'
import { checkCsrs, type CheckName, type CsrReport } from './csr-checks.ts'
import { keptReason, refusalNotice, refusalOf, type Refusal } from './refusal.ts'

const STATES = ['submitted', 'issued', 'active', 'rejected', 'approved'] as const

const W = words({
  sq: {
    title: 'Aplikimet',
    lead: 'Institucionet që kërkojnë të bashkohen: shqyrtoni letrën dhe kërkesat për certifikata, pastaj miratoni ose refuzoni.',
    state: 'Gjendja',
    all: 'Të gjitha',
    states: { submitted: 'në pritje', approved: 'miratuar', issued: 'certifikatat u lëshuan', active: 'aktiv', rejected: 'refuzuar' } as Record<string, string>,
    id: 'Aplikimi',
    institution: 'Institucioni',
    nipt: 'NIPT',
    memberClass: 'Klasa',
    systems: 'Sistemet',
    submitted: 'Paraqitur',
    none: 'Asnjë aplikim.',
    employee: 'Punonjësi i autorizuar',
    name: 'Emri',
    position: 'Pozicioni',
    nid: 'Numri personal',
    email: 'E-mail',
    phone: 'Telefoni',
    letter: 'Letra e vulosur',
    download: 'Shkarko letrën (PDF)',
    bytes: 'bajt',
    csrs: 'Kërkesat për certifikata (CSR)',
    csr: 'CSR',
    expected: 'Duhet të emërtojë',
    subject: 'Subjekti',
    keyType: 'Lloji i çelësit',
    checks: 'Kontrollet',
    seal: 'vula elektronike (e-seal)',
    noSeal: 'Pa CSR për vulën: nyja krijon çelësin e vulës kur miratohet.',
    check: { signature: 'lexohet dhe nënshkrimi verifikohet', serialNumber: 'serialNumber emërton identifikuesin', cn: 'CN emërton identifikuesin', uniqueKey: 'çelës më vete' } as Record<CheckName, string>,
    pass: 'në rregull',
    fail: 'gabim',
    services: 'Shërbimet e kërkuara',
    decision: 'Vendimi',
    approve: 'Mirato',
    reject: 'Refuzo',
    rejectHint: 'Arsyeja i tregohet aplikuesit.',
    approved: (id: string) => `Aplikimi ${id} u miratua: anëtari u regjistrua dhe certifikatat u lëshuan.`,
    rejected: (id: string) => `Aplikimi ${id} u refuzua.`,
    certificates: 'Certifikatat e lëshuara',
    serial: 'Numri serial',
    role: 'Roli',
    owner: 'Zotëruesi',
    notAfter: 'Skadon',
    member: 'Anëtari',
    decided: 'Vendosur nga',
    reason: 'Arsyeja',
  },
  en: {
    title: 'Applications',
    lead: 'Institutions asking to join: review the letter and the certificate requests, then approve or reject.',
    state: 'State',
    all: 'All',
    states: { submitted: 'waiting', approved: 'approved', issued: 'certificates issued', active: 'active', rejected: 'rejected' } as Record<string, string>,
    id: 'Application',
    institution: 'Institution',
    nipt: 'NIPT',
    memberClass: 'Class',
    systems: 'Systems',
    submitted: 'Submitted',
    none: 'No application.',
    employee: 'Authorised employee',
    name: 'Name',
    position: 'Position',
    nid: 'Personal number',
    email: 'E-mail',
    phone: 'Phone',
    letter: 'Sealed letter',
    download: 'Download the letter (PDF)',
    bytes: 'bytes',
    csrs: 'Certificate requests (CSR)',
    csr: 'CSR',
    expected: 'Must name',
    subject: 'Subject',
    keyType: 'Key type',
    checks: 'Checks',
    seal: 'e-seal',
    noSeal: 'No e-seal CSR: the node makes the seal key at approval.',
    check: { signature: 'reads and its signature verifies', serialNumber: 'serialNumber names the id', cn: 'CN names the id', uniqueKey: 'a key of its own' } as Record<CheckName, string>,
    pass: 'passed',
    fail: 'failed',
    services: 'Services asked for',
    decision: 'Decision',
    approve: 'Approve',
    reject: 'Reject',
    rejectHint: 'The reason is shown to the applicant.',
    approved: (id: string) => `Application ${id} was approved: the member is registered and its certificates issued.`,
    rejected: (id: string) => `Application ${id} was rejected.`,
    certificates: 'Certificates issued',
    serial: 'Serial number',
    role: 'Role',
    owner: 'Owner',
    notAfter: 'Expires',
    member: 'Member',
    decided: 'Decided by',
    reason: 'Reason',
  },
})

interface Summary { id: string; state: string; submittedAt: string; institution: { name: string; nipt: string; memberClass: string }; systems: Array<{ code: string }>; reason?: string; decidedBy?: string; decidedAt?: string }
interface Application extends Summary {
  employee: { name: string; position: string; nid: string; email: string; phone: string }
  systems: Array<{ code: string; name?: string; csr: string }>
  sealCsr?: string
  services?: string[]
  letter?: { sha256: string; bytes: number; filename?: string }
  member?: string
  certificates?: Array<{ serial: string; role: string; owner: string; notAfter: string }>
}

const stateBadge = (kit: ConsoleKit, state: string): Html =>
  html`<span class="badge ${state === 'rejected' ? 'bad' : state === 'submitted' ? 'warn' : 'ok'}">${W[kit.lang].states[state] ?? state}</span>`

function csrTable (kit: ConsoleKit, reports: CsrReport[]): Html {
  const t = W[kit.lang]
  const rows = reports.map(r => html`<tr><th scope="row">${r.field === 'sealCsr' ? t.seal : r.field}</th><td><code>${r.expected}</code></td><td>${r.subject === undefined ? '—' : html`<code>${r.subject}</code>`}</td><td>${r.keyType ?? '—'}</td>
<td><ul class="checks">${r.checks.map(c => html`<li><span class="badge ${c.ok ? 'ok' : 'bad'}">${c.ok ? '✓' : '✗'} ${c.ok ? t.pass : t.fail}</span> ${t.check[c.name]}${c.detail === undefined ? '' : html`: <code>${c.detail}</code>`}</li>`)}</ul></td></tr>`)
  return html`<div class="table"><table><thead><tr><th scope="col">${t.csr}</th><th scope="col">${t.expected}</th><th scope="col">${t.subject}</th><th scope="col">${t.keyType}</th><th scope="col">${t.checks}</th></tr></thead><tbody>${rows}</tbody></table></div>`
}

function decisionForms (kit: ConsoleKit, a: Application, etag: string | undefined, kept: { which?: string; reason: string; refusal?: Refusal }): Html {
  const t = W[kit.lang]
  const c = COMMON[kit.lang]
  const forms: Html[] = []
  for (const which of ['approve', 'reject'] as const) {
    if (!can(kit.viewer, `application.${which}`)) continue
    const mine = kept.which === which
    forms.push(html`<form method="post" action="/console/applications/${a.id}/${which}" class="panel">${formState(kit, etag)}
${keptReason(which === 'reject' ? `${c.reason} — ${t.rejectHint}` : c.reason, c.reasonHint, mine ? kept.reason : '', mine ? kept.refusal : undefined, `${which}-reason`)}
<button type="submit"${which === 'reject' ? html` class="danger"` : ''}>${which === 'approve' ? t.approve : t.reject}</button></form>`)
  }
  return forms.length === 0 ? html`` : html`<h2>${t.decision}</h2>${refusalNotice(kept.refusal)}<div class="grid">${forms}</div>`
}

function detail (kit: ConsoleKit, instance: string, a: Application, etag: string | undefined, kept: { which?: string; reason: string; refusal?: Refusal } = { reason: '' }): Html {
  const t = W[kit.lang]
  const member = `${instance}/${a.institution.memberClass}/${a.institution.nipt}`
  const reports = checkCsrs([
    ...a.systems.map((s, i) => ({ field: `systems[${i}] ${s.code}`, pem: s.csr, expected: `${member}/${s.code}` })),
    ...(a.sealCsr === undefined ? [] : [{ field: 'sealCsr', pem: a.sealCsr, expected: member }]),
  ])
  const fact = (dt: string, dd: Html | string): Html => html`<div><dt>${dt}</dt><dd>${dd}</dd></div>`
  const issued = (a.certificates ?? []).length === 0
    ? ''
    : html`<h2>${t.certificates}</h2><div class="table"><table><thead><tr><th scope="col">${t.serial}</th><th scope="col">${t.role}</th><th scope="col">${t.owner}</th><th scope="col">${t.notAfter}</th></tr></thead><tbody>${(a.certificates ?? []).map(x =>
      html`<tr><th scope="row"><code>${x.serial}</code></th><td>${x.role}</td><td><code>${x.owner}</code></td><td>${when(x.notAfter, kit.lang)}</td></tr>`)}</tbody></table></div>`
  return html`<h1>${t.id} <code>${a.id}</code></h1>
<p>${stateBadge(kit, a.state)}${a.decidedBy === undefined ? '' : html` · ${t.decided} ${a.decidedBy}, ${when(a.decidedAt, kit.lang)}`}${a.reason === undefined ? '' : html` · ${t.reason}: ${a.reason}`}</p>
<h2>${t.institution}</h2><dl class="facts">${fact(t.name, a.institution.name)}${fact(t.nipt, a.institution.nipt)}${fact(t.memberClass, a.institution.memberClass)}${fact(t.member, html`<code>${member}</code>`)}${fact(t.submitted, when(a.submittedAt, kit.lang))}</dl>
<h2>${t.employee}</h2><dl class="facts">${fact(t.name, a.employee.name)}${fact(t.position, a.employee.position)}${fact(t.nid, a.employee.nid)}${fact(t.email, a.employee.email)}${fact(t.phone, a.employee.phone)}</dl>
<h2>${t.letter}</h2>${a.letter === undefined ? html`<p>—</p>` : html`<p><a href="/console/applications/${a.id}/letter">${t.download}</a> <span class="muted">(${a.letter.bytes} ${t.bytes}, SHA-256 <code>${a.letter.sha256}</code>)</span></p>`}
<h2>${t.csrs}</h2>${csrTable(kit, reports)}${a.sealCsr === undefined ? html`<p class="hint">${t.noSeal}</p>` : ''}
${(a.services ?? []).length === 0 ? '' : html`<h2>${t.services}</h2><ul>${(a.services ?? []).map(s => html`<li><code>${s}</code></li>`)}</ul>`}
${issued}
${a.state === 'submitted' ? decisionForms(kit, a, etag, kept) : ''}
<p><a href="/console/applications">${COMMON[kit.lang].back}</a></p>`
}

export async function applicationPages (app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const instance = ctx.config.node.instance

  app.get('/console/applications', async (request, reply) => {
    const kit = kitOf(request)
    const t = W[kit.lang]
    const asked = (request.query as { state?: unknown }).state
    const state = typeof asked === 'string' && (STATES as readonly string[]).includes(asked) ? asked : ''
    const list = await kit.api.read<{ items: Summary[] }>('/applications', { state })
    const items = [...list.items].sort((a, b) => b.submittedAt.localeCompare(a.submittedAt))
    const filters = html`<form class="filters" method="get" action="/console/applications"><div><label for="f-state">${t.state}</label><select id="f-state" name="state"><option value="">${t.all}</option>${STATES.map(s => html`<option value="${s}"${s === state ? html` selected` : ''}>${t.states[s]}</option>`)}</select></div><div><button type="submit">${COMMON[kit.lang].filter}</button></div></form>`
    const rows = items.map(a => html`<tr><th scope="row"><a href="/console/applications/${a.id}"><code>${a.id}</code></a></th><td>${a.institution.name}</td><td>${a.institution.nipt}</td><td>${a.institution.memberClass}</td><td>${a.systems.map(s => s.code).join(', ')}</td><td>${when(a.submittedAt, kit.lang)}</td><td>${stateBadge(kit, a.state)}</td></tr>`)
    const table = items.length === 0
      ? html`<p>${t.none}</p>`
      : html`<div class="table"><table><thead><tr><th scope="col">${t.id}</th><th scope="col">${t.institution}</th><th scope="col">${t.nipt}</th><th scope="col">${t.memberClass}</th><th scope="col">${t.systems}</th><th scope="col">${t.submitted}</th><th scope="col">${t.state}</th></tr></thead><tbody>${rows}</tbody></table></div>`
    return sendPage(request, reply, { title: t.title, nav: 'applications', body: html`<h1>${t.title}</h1><p class="lead">${t.lead}</p>${filters}${table}` })
  })

  app.get('/console/applications/:id', async (request, reply) => {
    const kit = kitOf(request)
    const id = (request.params as { id: string }).id
    const answer = await kit.api.get<Application>(`/applications/${encodeURIComponent(id)}`)
    if (!answer.ok) throw new ApiError(answer.status, answer.problem!)
    return sendPage(request, reply, { title: `${W[kit.lang].id} ${id}`, nav: 'applications', body: detail(kit, instance, answer.body, answer.etag) })
  })

  // The letter as the API sends it: the same bytes, type and file name, always as a download.
  app.get('/console/applications/:id/letter', async (request, reply) => {
    const kit = kitOf(request)
    const id = (request.params as { id: string }).id
    const answer = await kit.api.get(`/applications/${encodeURIComponent(id)}/letter`)
    if (!answer.ok) throw new ApiError(answer.status, answer.problem!)
    const disposition = String(answer.headers['content-disposition'] ?? `attachment; filename="${id}.pdf"`)
    return reply.type(String(answer.headers['content-type'] ?? 'application/pdf'))
      .header('content-disposition', disposition.startsWith('attachment') ? disposition : `attachment; filename="${id}.pdf"`)
      .send(answer.raw)
  })

  for (const which of ['approve', 'reject'] as const) {
    app.post(`/console/applications/:id/${which}`, async (request, reply) => {
      const kit = kitOf(request)
      const t = W[kit.lang]
      const id = (request.params as { id: string }).id
      const reason = field(request, '_reason')
      const path = `/applications/${encodeURIComponent(id)}`
      const answer = await kit.api.send('POST', `${path}/${which}`, which === 'reject' ? { reason } : undefined, { ifMatch: field(request, '_etag'), reason })
      const refused = refusalOf(answer, { path: p => p === 'reason' ? '_reason' : undefined, type: { 'Onboarding.ReasonRequired': '_reason' } })
      if (refused === undefined) return redirectWith(request, reply, `/console/applications/${id}`, { kind: 'ok', text: which === 'approve' ? t.approved(id) : t.rejected(id) })
      const current = await kit.api.get<Application>(path)
      if (!current.ok) throw new ApiError(current.status, current.problem!)
      return sendPage(request, reply, { title: `${t.id} ${id}`, nav: 'applications', status: answer.status, body: html`${current.body.state === 'submitted' ? '' : refusalNotice(refused)}${detail(kit, instance, current.body, current.etag, { which, reason, refusal: refused })}` })
    })
  }
}
