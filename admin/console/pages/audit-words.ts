/** The audit pages' shared words (sq, en) and how a record's result is shown: a badge that says it in words. */
import type { AuditRecord } from '../../../messagelog/audit/record.ts'
import { html, type Html } from '../html.ts'
import { words, type Lang } from '../i18n.ts'

export const AUDIT_WORDS = words({
  sq: {
    title: 'Gjurma e auditimit', operator: 'Operatori', role: 'Roli', action: 'Veprimi', target: 'Objekti', time: 'Koha',
    from: 'Nga', to: 'Deri', result: 'Rezultati', seq: 'Nr.', allowed: 'lejuar', refused: 'refuzuar',
    zone: 'Kohët janë me orën e Tiranës (Europe/Tirane); filtri "Deri" nuk e përfshin vetë atë çast.',
    badTime: 'Jo një kohë e vlefshme', first: 'Faqja e parë', paging: 'Faqet', open: (n: number) => `Hap regjistrimin ${n}`,
    entries: 'Regjistrimet e gjurmës',
  },
  en: {
    title: 'Audit trail', operator: 'Operator', role: 'Role', action: 'Action', target: 'Target', time: 'Time',
    from: 'From', to: 'Until', result: 'Result', seq: 'No.', allowed: 'allowed', refused: 'refused',
    zone: 'Times are Tirana time (Europe/Tirane); "Until" excludes that instant itself.',
    badTime: 'Not a valid time', first: 'First page', paging: 'Pages', open: (n: number) => `Open record ${n}`,
    entries: 'Trail entries',
  },
})

/** The result as a badge that says it in words: allowed, or refused with the error code. */
export function resultBadge (r: Pick<AuditRecord, 'result' | 'errorCode'>, lang: Lang): Html {
  const t = AUDIT_WORDS[lang]
  return r.result === 'allowed'
    ? html`<span class="badge ok">${t.allowed}</span>`
    : html`<span class="badge bad">${t.refused}${r.errorCode === null ? '' : html` · <code>${r.errorCode}</code>`}</span>`
}
