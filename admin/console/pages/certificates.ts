/**
 * Certificates the node's CA issued (`/console/certificates`): sorted by expiry, with text badges
 * for expired, expiring within 30 days and revoked; issuing one from a CSR (uploaded as a file or
 * pasted as PEM, a multipart form — `POST /certificates`); one certificate with its PEM and the
 * revoke form (a reason; `POST /certificates/{serial}/revoke`); and the revocations list.
 */
import type { FastifyInstance } from 'fastify'
import type { AdminContext } from '../../context.ts'
import { grantFor } from '../../roles.ts'
import { ApiError } from '../api.ts'
import { html, type Html } from '../html.ts'
import { COMMON, when, words } from '../i18n.ts'
import { field, formState, kitOf, redirectWith, sendPage, upload, type ConsoleKit } from '../kit.ts'
import { can } from '../layout.ts'
import { fieldState, keptReason, localRefusal, refusalNotice, refusalOf, type Refusal } from './refusal.ts'

const ROLES = ['tls', 'sign', 'operator'] as const
const EXPIRING_DAYS = 30

const W = words({
  sq: {
    title: 'Certifikatat',
    lead: 'Certifikatat që lëshoi autoriteti i nyjës, sipas datës së skadimit.',
    serial: 'Numri serial',
    role: 'Roli',
    roles: { tls: 'TLS i sistemit', sign: 'vula elektronike', operator: 'operator' } as Record<string, string>,
    owner: 'Zotëruesi',
    subject: 'Subjekti',
    notAfter: 'Skadon',
    state: 'Gjendja',
    expired: 'ka skaduar',
    expiring: (d: number) => `skadon për ${d} ditë`,
    valid: 'e vlefshme',
    revoked: 'e revokuar',
    none: 'Asnjë certifikatë.',
    open: 'Hap',
    issue: 'Lësho një certifikatë nga një CSR',
    ownerHint: 'TLS: sistemi (AL-DEV/NJQV/…/sistemi); vula: anëtari (AL-DEV/NJQV/…); operator: id e operatorit.',
    csrFile: 'Skedari CSR',
    csrPem: 'ose ngjiteni CSR-në (PEM)',
    days: 'Vlefshmëria në ditë',
    daysHint: 'Bosh: 365.',
    issueButton: 'Lësho',
    issued: (s: string) => `Certifikata ${s} u lëshua.`,
    noCsr: 'Ngarkoni një skedar CSR ose ngjitni PEM-in.',
    badDays: 'Ditët janë një numër nga 1 deri në 825.',
    revoke: 'Revoko',
    revokeHint: 'Nyja e refuzon certifikatën nga ky version.',
    revokedFlash: (s: string) => `Certifikata ${s} u revokua.`,
    revocations: 'Revokimet',
    revokedAt: 'Revokuar më',
    reason: 'Arsyeja',
    by: 'Nga',
    pem: 'Certifikata (PEM)',
    issuedAt: 'Lëshuar më',
    fingerprint: 'Gjurma SHA-256',
  },
  en: {
    title: 'Certificates',
    lead: 'Certificates the node\'s authority issued, by expiry date.',
    serial: 'Serial number',
    role: 'Role',
    roles: { tls: 'system TLS', sign: 'e-seal', operator: 'operator' } as Record<string, string>,
    owner: 'Owner',
    subject: 'Subject',
    notAfter: 'Expires',
    state: 'State',
    expired: 'expired',
    expiring: (d: number) => `expires in ${d} days`,
    valid: 'valid',
    revoked: 'revoked',
    none: 'No certificate.',
    open: 'Open',
    issue: 'Issue a certificate from a CSR',
    ownerHint: 'TLS: the system (AL-DEV/NJQV/…/system); e-seal: the member (AL-DEV/NJQV/…); operator: the operator\'s id.',
    csrFile: 'CSR file',
    csrPem: 'or paste the CSR (PEM)',
    days: 'Validity in days',
    daysHint: 'Empty: 365.',
    issueButton: 'Issue',
    issued: (s: string) => `Certificate ${s} was issued.`,
    noCsr: 'Upload a CSR file or paste its PEM.',
    badDays: 'Days are a number from 1 to 825.',
    revoke: 'Revoke',
    revokeHint: 'The node refuses the certificate from that version on.',
    revokedFlash: (s: string) => `Certificate ${s} was revoked.`,
    revocations: 'Revocations',
    revokedAt: 'Revoked at',
    reason: 'Reason',
    by: 'By',
    pem: 'Certificate (PEM)',
    issuedAt: 'Issued at',
    fingerprint: 'SHA-256 fingerprint',
  },
})

interface Certificate { serial: string; role: string; owner: string; subject: string; notAfter: string; issuedAt: string; fingerprint?: string; daysLeft: number; state: string; pem?: string }
interface Revocation { serial: string; subject: string; revokedAt: string; reason: string; revokedBy?: string }

/** May the viewer take `action` on this certificate? An operator's is the node's business (global roles only). */
function mayAct (kit: ConsoleKit, action: string, role: string, owner: string): boolean {
  if (role === 'operator') return grantFor(kit.viewer.roles, action) !== undefined
  return can(kit.viewer, action, owner.split('/').slice(0, 3).join('/'))
}

function stateBadge (kit: ConsoleKit, c: Certificate): Html {
  const t = W[kit.lang]
  if (c.state === 'revoked') return html`<span class="badge bad">${t.revoked}</span>`
  if (c.daysLeft < 0 || c.state === 'expired') return html`<span class="badge bad">${t.expired}</span>`
  if (c.daysLeft < EXPIRING_DAYS) return html`<span class="badge warn">${t.expiring(c.daysLeft)}</span>`
  return html`<span class="badge ok">${t.valid}</span>`
}

interface IssueForm { role: string; owner: string; csr: string; days: string; reason: string }

function issueForm (kit: ConsoleKit, f: IssueForm, r: Refusal | undefined): Html {
  const t = W[kit.lang]
  const c = COMMON[kit.lang]
  const owner = fieldState(r, 'owner', 'i-owner')
  const csr = fieldState(r, 'csr', 'i-csr')
  const days = fieldState(r, 'days', 'i-days')
  return html`<h2 id="issue">${t.issue}</h2>${refusalNotice(r)}
<form method="post" action="/console/certificates" enctype="multipart/form-data" class="panel">${formState(kit, '*')}
<div class="grid"><div class="field"><label for="i-role">${t.role}</label><select id="i-role" name="role">${ROLES.map(x => html`<option value="${x}"${f.role === x ? html` selected` : ''}>${t.roles[x]}</option>`)}</select></div>
<div class="${owner.cls}"><label for="i-owner">${t.owner} <span class="hint">${t.ownerHint}</span></label><input id="i-owner" name="owner" required maxlength="300" value="${f.owner}"${owner.describedBy}>${owner.problems}</div></div>
<div class="${csr.cls}"><label for="i-file">${t.csrFile}</label><input id="i-file" name="csrFile" type="file" accept=".csr,.pem,.req,application/pkcs10">
<label for="i-csr">${t.csrPem}</label><textarea id="i-csr" name="csr" rows="6"${csr.describedBy}>${f.csr}</textarea>${csr.problems}</div>
<div class="${days.cls}"><label for="i-days">${t.days} <span class="hint">${t.daysHint}</span></label><input id="i-days" name="days" inputmode="numeric" pattern="[0-9]{1,3}" maxlength="3" value="${f.days}"${days.describedBy}>${days.problems}</div>
${keptReason(c.reason, c.reasonHint, f.reason, r, 'i-reason')}
<button type="submit">${t.issueButton}</button></form>`
}

async function listPage (kit: ConsoleKit, form: Html | string): Promise<Html> {
  const t = W[kit.lang]
  const [certs, revocations] = await Promise.all([
    kit.api.read<{ items: Certificate[] }>('/certificates'),
    kit.api.read<{ items: Revocation[] }>('/revocations'),
  ])
  const items = [...certs.items].sort((a, b) => a.notAfter.localeCompare(b.notAfter))
  const rows = items.map(c => html`<tr><th scope="row"><a href="/console/certificates/${c.serial}"><code>${c.serial}</code></a></th><td>${t.roles[c.role] ?? c.role}</td><td><code>${c.owner}</code></td><td>${when(c.notAfter, kit.lang)}</td><td>${stateBadge(kit, c)}</td></tr>`)
  const table = items.length === 0
    ? html`<p>${t.none}</p>`
    : html`<div class="table"><table><thead><tr><th scope="col">${t.serial}</th><th scope="col">${t.role}</th><th scope="col">${t.owner}</th><th scope="col">${t.notAfter}</th><th scope="col">${t.state}</th></tr></thead><tbody>${rows}</tbody></table></div>`
  const revoked = [...revocations.items].reverse()
  const revTable = revoked.length === 0
    ? html`<p>${t.none}</p>`
    : html`<div class="table"><table><thead><tr><th scope="col">${t.serial}</th><th scope="col">${t.subject}</th><th scope="col">${t.revokedAt}</th><th scope="col">${t.reason}</th><th scope="col">${t.by}</th></tr></thead><tbody>${revoked.map(r =>
      html`<tr><th scope="row"><code>${r.serial}</code></th><td><code>${r.subject}</code></td><td>${when(r.revokedAt, kit.lang)}</td><td>${r.reason}</td><td>${r.revokedBy ?? ''}</td></tr>`)}</tbody></table></div>`
  return html`<h1>${t.title}</h1><p class="lead">${t.lead}</p>${table}${form}<h2>${t.revocations}</h2>${revTable}`
}

function certificatePage (kit: ConsoleKit, c: Certificate, etag: string | undefined, kept: { reason: string; refusal?: Refusal } = { reason: '' }): Html {
  const t = W[kit.lang]
  const fact = (dt: string, dd: Html | string): Html => html`<div><dt>${dt}</dt><dd>${dd}</dd></div>`
  const revoke = c.state !== 'revoked' && mayAct(kit, 'certificate.revoke', c.role, c.owner)
    ? html`<h2>${t.revoke}</h2><p class="hint">${t.revokeHint}</p>${refusalNotice(kept.refusal)}<form method="post" action="/console/certificates/${c.serial}/revoke" class="panel">${formState(kit, etag)}
${keptReason(COMMON[kit.lang].reason, COMMON[kit.lang].reasonHint, kept.reason, kept.refusal, 'r-reason')}<button type="submit" class="danger">${t.revoke}</button></form>`
    : refusalNotice(kept.refusal)
  return html`<h1>${t.serial} <code>${c.serial}</code></h1><p>${stateBadge(kit, c)}</p>
<dl class="facts">${fact(t.role, t.roles[c.role] ?? c.role)}${fact(t.owner, html`<code>${c.owner}</code>`)}${fact(t.subject, html`<code>${c.subject}</code>`)}${fact(t.issuedAt, when(c.issuedAt, kit.lang))}${fact(t.notAfter, when(c.notAfter, kit.lang))}${c.fingerprint === undefined ? '' : fact(t.fingerprint, html`<code>${c.fingerprint}</code>`)}</dl>
${revoke}<h2>${t.pem}</h2><pre>${c.pem ?? ''}</pre><p><a href="/console/certificates">${COMMON[kit.lang].back}</a></p>`
}

export async function certificatePages (app: FastifyInstance, _ctx: AdminContext): Promise<void> {
  const blank: IssueForm = { role: 'tls', owner: '', csr: '', days: '', reason: '' }

  app.get('/console/certificates', async (request, reply) => {
    const kit = kitOf(request)
    const form = can(kit.viewer, 'certificate.issue') ? issueForm(kit, blank, undefined) : ''
    return sendPage(request, reply, { title: W[kit.lang].title, nav: 'certificates', body: await listPage(kit, form) })
  })

  app.post('/console/certificates', async (request, reply) => {
    const kit = kitOf(request)
    const t = W[kit.lang]
    const file = upload(request, 'csrFile')
    const f: IssueForm = { role: field(request, 'role'), owner: field(request, 'owner').trim(), csr: file === undefined ? field(request, 'csr').trim() : file.bytes.toString('utf8').trim(), days: field(request, 'days').trim(), reason: field(request, '_reason') }
    const again = async (r: Refusal, status: number): Promise<ReturnType<typeof sendPage>> =>
      sendPage(request, reply, { title: t.title, nav: 'certificates', status, body: await listPage(kit, issueForm(kit, f, r)) })
    // The console's own checks help those who may issue; anyone else gets the API's refusal (and its audit record).
    if (can(kit.viewer, 'certificate.issue')) {
      if (f.csr === '') return again(localRefusal(t.noCsr, 'csr'), 400)
      if (f.days !== '' && !/^[0-9]{1,3}$/.test(f.days)) return again(localRefusal(t.badDays, 'days'), 400)
    }
    const body = { role: f.role, owner: f.owner, csr: f.csr + '\n', ...(/^[0-9]{1,3}$/.test(f.days) ? { days: Number(f.days) } : {}) }
    const answer = await kit.api.send<Certificate>('POST', '/certificates', body, { ifMatch: field(request, '_etag') || '*', reason: f.reason })
    const refused = refusalOf(answer, {
      path: p => /^(role|owner|csr|days)/.exec(p)?.[1],
      type: { 'Onboarding.InvalidCsr': 'csr', 'Onboarding.CsrSubjectMismatch': 'csr', 'Onboarding.UnknownClient': 'owner', 'Onboarding.DuplicateKey': 'csr' },
    })
    if (refused !== undefined) return again(refused, answer.status)
    return redirectWith(request, reply, `/console/certificates/${answer.body.serial}`, { kind: 'ok', text: t.issued(answer.body.serial) })
  })

  app.get('/console/certificates/:serial', async (request, reply) => {
    const kit = kitOf(request)
    const serial = (request.params as { serial: string }).serial
    const answer = await kit.api.get<Certificate>(`/certificates/${encodeURIComponent(serial)}`)
    if (!answer.ok) throw new ApiError(answer.status, answer.problem!)
    return sendPage(request, reply, { title: `${W[kit.lang].serial} ${serial}`, nav: 'certificates', body: certificatePage(kit, answer.body, answer.etag) })
  })

  app.post('/console/certificates/:serial/revoke', async (request, reply) => {
    const kit = kitOf(request)
    const t = W[kit.lang]
    const serial = (request.params as { serial: string }).serial
    const reason = field(request, '_reason')
    const path = `/certificates/${encodeURIComponent(serial)}`
    const answer = await kit.api.send('POST', `${path}/revoke`, { reason }, { ifMatch: field(request, '_etag'), reason })
    const refused = refusalOf(answer, { path: p => p === 'reason' ? '_reason' : undefined, type: { 'Onboarding.ReasonRequired': '_reason' } })
    if (refused === undefined) return redirectWith(request, reply, `/console/certificates/${serial}`, { kind: 'ok', text: t.revokedFlash(serial) })
    const current = await kit.api.get<Certificate>(path)
    if (!current.ok) throw new ApiError(current.status, current.problem!)
    return sendPage(request, reply, { title: `${t.serial} ${serial}`, nav: 'certificates', status: answer.status, body: certificatePage(kit, current.body, current.etag, { reason, refusal: refused }) })
  })
}
