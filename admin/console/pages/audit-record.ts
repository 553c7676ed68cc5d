/**
 * One audit record's page (`/console/audit/{seq}`): its fields, and what the action changed shown as
 * a diff of the target's state before and after. The admin API's `GET /audit/{seq}` gives both
 * states, rebuilt from the registry versions the change read and made, and says whether they match
 * the digests the trail signed; the page shows them as a diff, with the registry version the change
 * made and the digests themselves.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuditRecord } from '../../../messagelog/audit/record.ts'
import type { VersionInfo } from '../../../registry/store/store.ts'
import { AdminError } from '../../errors.ts'
import { html, type Html } from '../html.ts'
import { when, words } from '../i18n.ts'
import { kitOf, sendPage, type ConsoleKit } from '../kit.ts'
import { AUDIT_WORDS, resultBadge } from './audit-words.ts'
import { jsonDiff } from './diff-view.ts'

const W = words({
  sq: {
    title: (n: number) => `Regjistrimi i auditimit nr. ${n}`, requestId: 'ID e kërkesës', signer: 'Nënshkruar nga', hash: 'Hash-i',
    changes: 'Para dhe pas', beforeDigest: 'Gjurma (SHA-512) e gjendjes para', afterDigest: 'Gjurma (SHA-512) e gjendjes pas',
    verified: 'verifikuar: gjendjet përputhen me gjurmët e regjistrimit', unverified: 'e paverifikuar: gjendjet nuk përputhen me gjurmët e regjistrimit',
    withheld: 'Gjendjet mbajnë të dhëna personale të aplikimeve, që roli juaj nuk i lexon.', unavailable: 'Gjendjet nuk mund të lexohen përsëri.',
    version: (v: VersionInfo) => `Versioni ${v.version} i regjistrit, nga ${v.who}: „${v.why}”`,
    noState: 'Ky veprim nuk ndryshoi gjendje.', back: '← Gjurma e auditimit',
  },
  en: {
    title: (n: number) => `Audit record ${n}`, requestId: 'Request id', signer: 'Signed by', hash: 'Hash',
    changes: 'Before and after', beforeDigest: 'Digest (SHA-512) of the state before', afterDigest: 'Digest (SHA-512) of the state after',
    verified: 'verified: the states match the record\'s digests', unverified: 'not verified: the states do not match the record\'s digests',
    withheld: 'The states hold applications\' personal data, which your role may not read.', unavailable: 'The states cannot be read again.',
    version: (v: VersionInfo) => `Registry version ${v.version}, by ${v.who}: “${v.why}”`,
    noState: 'This action changed no state.', back: '← Audit trail',
  },
})

/** What the API's record route answers: the record, both states (as the API may show them), and whether they match its digests. */
type FullRecord = AuditRecord & {
  before?: unknown
  after?: unknown
  states: 'none' | 'reconstructed' | 'withheld' | 'unavailable'
  verified: boolean
  note?: string
  registryVersion?: number | null
}

export async function auditRecordPage (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const kit = kitOf(request)
  const t = W[kit.lang]
  const a = AUDIT_WORDS[kit.lang]
  const param = (request.params as { seq: string }).seq
  if (!/^[0-9]{1,15}$/.test(param)) throw new AdminError('Admin.NotFound', `there is no audit record ${param}`)
  const r = await kit.api.read<FullRecord>(`/audit/${param}`)
  return sendPage(request, reply, {
    title: t.title(r.seq),
    nav: 'audit',
    body: html`<p><a href="/console/audit">${t.back}</a></p><h1>${t.title(r.seq)}</h1>
<dl class="facts">
<div><dt>${a.time}</dt><dd>${when(r.time, kit.lang)} <span class="muted">(${r.time})</span></dd></div>
<div><dt>${a.operator}</dt><dd>${r.operator}</dd></div>
<div><dt>${a.role}</dt><dd><code>${r.role}</code></dd></div>
<div><dt>${a.action}</dt><dd><code>${r.action}</code></dd></div>
<div><dt>${a.target}</dt><dd>${r.target ?? '—'}</dd></div>
<div><dt>${a.result}</dt><dd>${resultBadge(r, kit.lang)}</dd></div>
<div><dt>${t.requestId}</dt><dd><code>${r.requestId}</code></dd></div>
<div><dt>${t.signer}</dt><dd>${r.signer}</dd></div>
</dl>
<h2>${t.changes}</h2>
${await changes(kit, r)}`,
  })
}

/** The states before and after as a diff, whether they match the signed digests, and the registry version the change made. */
async function changes (kit: ConsoleKit, r: FullRecord): Promise<Html> {
  const t = W[kit.lang]
  if (r.states === 'none') return html`<p>${t.noState}</p>`
  const digests = html`<dl class="facts"><div><dt>${t.beforeDigest}</dt><dd><code>${r.beforeDigest ?? '—'}</code></dd></div><div><dt>${t.afterDigest}</dt><dd><code>${r.afterDigest ?? '—'}</code></dd></div></dl>`
  const badge = r.verified ? html`<span class="badge ok">${t.verified}</span>` : html`<span class="badge bad">${t.unverified}</span>`
  let version: Html | string = ''
  if (typeof r.registryVersion === 'number') {
    const v = await kit.api.get<VersionInfo>(`/versions/${r.registryVersion}`)
    if (v.ok) version = html`<p><a href="/console/versions/diff?a=${r.registryVersion - 1}&amp;b=${r.registryVersion}">${t.version(v.body)}</a> · ${when(v.body.when, kit.lang)}</p>`
  }
  if (r.states === 'withheld') return html`<p>${badge}</p><p>${t.withheld}</p>${version}${digests}`
  if (r.states === 'unavailable') return html`<p>${badge}</p><p>${t.unavailable} ${r.note ?? ''}</p>${version}${digests}`
  return html`<p>${badge}</p>${version}${jsonDiff(r.before, r.after, kit.lang)}${digests}`
}
