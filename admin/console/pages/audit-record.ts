/**
 * One audit record's page (`/console/audit/{seq}`): its fields, and what the action changed shown as
 * a diff of the target's state before and after. The admin API's `GET /audit/{seq}` gives both
 * states, rebuilt from registry versions and checked against the record's digests; where that route
 * does not answer, the page shows the record's digests and the registry version the same operator
 * committed at the same moment (matched by operator and time, so not proof).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuditRecord } from '../../../messagelog/audit/record.ts'
import type { RegistryDiff } from '../../../registry/store/diff.ts'
import type { RegistryVersion, VersionInfo } from '../../../registry/store/store.ts'
import { AdminError } from '../../errors.ts'
import { html, type Html } from '../html.ts'
import { when, words } from '../i18n.ts'
import { kitOf, sendPage, type ConsoleKit } from '../kit.ts'
import { AUDIT_WORDS, resultBadge } from './audit-words.ts'
import { jsonDiff, registryDiffView } from './diff-view.ts'

const W = words({
  sq: {
    title: (n: number) => `Regjistrimi i auditimit nr. ${n}`, requestId: 'ID e kërkesës', signer: 'Nënshkruar nga', hash: 'Hash-i',
    changes: 'Para dhe pas', beforeDigest: 'Gjurma (SHA-512) e gjendjes para', afterDigest: 'Gjurma (SHA-512) e gjendjes pas',
    verified: 'verifikuar: gjendjet përputhen me gjurmët e regjistrimit', unverified: 'e paverifikuar: gjendjet nuk përputhen me gjurmët e regjistrimit',
    digestsOnly: 'Gjurma e auditimit ruan vetëm gjurmët e gjendjeve. Më poshtë: versioni i regjistrit që i njëjti operator bëri në të njëjtin çast (gjetur sipas operatorit dhe kohës).',
    version: (v: VersionInfo) => `Versioni ${v.version} i regjistrit, nga ${v.who}: „${v.why}”`, summary: 'Çfarë ndryshoi', content: 'Përmbajtja e regjistrit',
    noVersion: 'Asnjë version i regjistrit nuk përputhet me këtë regjistrim.', noState: 'Ky veprim nuk ndryshoi gjendje.', back: '← Gjurma e auditimit',
  },
  en: {
    title: (n: number) => `Audit record ${n}`, requestId: 'Request id', signer: 'Signed by', hash: 'Hash',
    changes: 'Before and after', beforeDigest: 'Digest (SHA-512) of the state before', afterDigest: 'Digest (SHA-512) of the state after',
    verified: 'verified: the states match the record\'s digests', unverified: 'not verified: the states do not match the record\'s digests',
    digestsOnly: 'The audit trail keeps only digests of the states. Below: the registry version the same operator committed at the same moment (found by operator and time).',
    version: (v: VersionInfo) => `Registry version ${v.version}, by ${v.who}: “${v.why}”`, summary: 'What changed', content: 'Registry content',
    noVersion: 'No registry version matches this record.', noState: 'This action changed no state.', back: '← Audit trail',
  },
})

/** What the API's record route answers: the record (whole or under `record`), both states, and whether they match its digests. */
type FullRecord = (AuditRecord | { record: AuditRecord }) & { before?: unknown; after?: unknown; verified?: boolean }

/** How far apart a commit and its audit record may be in time. */
const SAME_MOMENT_MS = 5_000

export async function auditRecordPage (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const kit = kitOf(request)
  const t = W[kit.lang]
  const a = AUDIT_WORDS[kit.lang]
  const param = (request.params as { seq: string }).seq
  if (!/^[0-9]{1,15}$/.test(param)) throw new AdminError('Admin.NotFound', `there is no audit record ${param}`)
  const seq = Number(param)

  let record: AuditRecord
  let changes: Html
  const full = await kit.api.get<FullRecord>(`/audit/${seq}`)
  if (full.status === 200) {
    const body = full.body
    record = 'record' in body ? body.record : body
    changes = html`<p>${body.verified === true ? html`<span class="badge ok">${t.verified}</span>` : html`<span class="badge bad">${t.unverified}</span>`}</p>${jsonDiff(body.before, body.after, kit.lang)}`
  } else {
    const page = await kit.api.read<{ items: AuditRecord[] }>('/audit', { ...(seq > 0 ? { after: String(seq - 1) } : {}), limit: '1' })
    const found = page.items[0]
    if (found?.seq !== seq) throw new AdminError('Admin.NotFound', `there is no audit record ${seq}`)
    record = found
    changes = await fromVersions(kit, record)
  }

  const r = record
  return sendPage(request, reply, {
    title: t.title(seq),
    nav: 'audit',
    body: html`<p><a href="/console/audit">${t.back}</a></p><h1>${t.title(seq)}</h1>
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
${changes}`,
  })
}

/** The fallback: the record's digests, and the registry version its operator committed at its time. */
async function fromVersions (kit: ConsoleKit, r: AuditRecord): Promise<Html> {
  const t = W[kit.lang]
  const digests = html`<dl class="facts"><div><dt>${t.beforeDigest}</dt><dd><code>${r.beforeDigest ?? '—'}</code></dd></div><div><dt>${t.afterDigest}</dt><dd><code>${r.afterDigest ?? '—'}</code></dd></div></dl>`
  if (r.result !== 'allowed' || (r.beforeDigest === null && r.afterDigest === null)) return html`${digests}<p>${t.noState}</p>`
  const v = await versionOf(kit, r)
  if (v === undefined) return html`${digests}<p>${t.noVersion}</p>`
  const [diff, before, after] = await Promise.all([
    kit.api.read<RegistryDiff>(`/versions/${v.version - 1}/diff/${v.version}`),
    kit.api.read<RegistryVersion>(`/versions/${v.version - 1}`),
    kit.api.read<RegistryVersion>(`/versions/${v.version}`),
  ])
  return html`${digests}<p class="hint">${t.digestsOnly}</p>
<p><a href="/console/versions?upto=${v.version}">${t.version(v)}</a> · ${when(v.when, kit.lang)}</p>
<h3>${t.summary}</h3>${registryDiffView(diff, kit.lang, 4)}
<h3>${t.content}</h3>${jsonDiff(before.content, after.content, kit.lang)}`
}

/** The version committed by the record's operator closest to its time (within a few seconds). */
async function versionOf (kit: ConsoleKit, r: AuditRecord): Promise<VersionInfo | undefined> {
  const at = new Date(r.time).getTime()
  let best: VersionInfo | undefined
  let after = 0
  for (;;) {
    const page = await kit.api.read<{ items: VersionInfo[] }>('/versions', { after: String(after), limit: '1000' })
    for (const v of page.items) {
      const gap = Math.abs(new Date(v.when).getTime() - at)
      if (v.who === r.operator && v.version > 0 && gap <= SAME_MOMENT_MS && (best === undefined || gap < Math.abs(new Date(best.when).getTime() - at))) best = v
    }
    if (page.items.length < 1000) return best
    after = page.items.at(-1)!.version
  }
}
