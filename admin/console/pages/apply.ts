/**
 * The public application form (`/apliko`): an institution applies to join with the fields of the
 * credentials form — the institution, its authorised employee, its systems with their TLS CSRs, an
 * optional e-seal CSR, the services it wants to call and the sealed letter. Without any script:
 * the browser checks what HTML can state (required, pattern, maxlength), the "Check" step reads
 * each CSR and shows its subject against the id it must name, and the submit posts the application
 * to the public onboarding API in-process, so its validation and audit trail apply. The receipt
 * shows the status token once (from the session, never in a URL).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AdminContext } from '../../context.ts'
import { MEMBER_CLASSES } from '../../onboarding/application.ts'
import { html, type Html } from '../html.ts'
import { normaliseNipt } from '../../../schemas/checks.ts'
import { langOf, words, type Lang } from '../i18n.ts'
import { field, upload, type UploadedFile } from '../kit.ts'
import { callPublic, postLimit, publicPage, type ApplyPagesOptions } from './apply-kit.ts'
import { csrReport, NID_PATTERN, NIPT_PATTERN, nidFieldProblem, niptFieldProblem, subjectText, type CsrReport } from './apply-checks.ts'

declare module 'fastify' {
  interface Session {
    /** The receipt of the application just submitted: shown once, then forgotten. */
    applyReceipt?: { id: string; token: string }
  }
}

/** Rows of systems the form offers (the API takes up to ten: more through the API itself). */
export const SYSTEM_ROWS = 3

const W = words({
  sq: {
    title: 'Aplikim për anëtarësim',
    lead: 'Institucioni juaj aplikon për t\'u lidhur me portën e ndërveprimit. Plotësoni të dhënat e formularit për pajisjen me kredenciale dhe ngarkoni letrën e vulosur. Një nëpunës regjistrimi e shqyrton aplikimin.',
    requiredNote: 'Fushat me * janë të detyrueshme.',
    institution: 'Institucioni', instName: 'Emri i institucionit', nipt: 'NIPT', niptHint: 'Një shkronjë, tetë shifra, një shkronjë kontrolli, p.sh. K81305012I.',
    memberClass: 'Klasa e anëtarit', classes: { GOV: 'GOV — administrata qendrore', NJQV: 'NJQV — njësi e qeverisjes vendore (bashki)', COM: 'COM — shoqëri tregtare', NGO: 'NGO — organizatë jofitimprurëse' } as Record<string, string>,
    employee: 'Punonjësi i autorizuar', empName: 'Emri dhe mbiemri', position: 'Pozicioni', nid: 'Numri personal (NID)', nidHint: 'P.sh. I50314123V: dhjetë shenja, e fundit shkronjë kontrolli.',
    email: 'E-mail', phone: 'Telefoni', phoneHint: 'P.sh. +355 67 212 3456.',
    systems: 'Sistemet që lidhen', systemsHint: 'Për çdo sistem: kodi i nënsistemit dhe kërkesa për certifikatë TLS (CSR, skedar PEM), e krijuar me `ura cert request`. Subjekti i CSR duhet të emërtojë instance/klasa/NIPT/kodi.',
    system: (n: number) => `Sistemi ${n}`, code: 'Kodi i nënsistemit', sysName: 'Emërtimi (opsional)', csr: 'CSR për certifikatën TLS',
    kept: (subject: string) => `Ruajtur nga hapi i kontrollit: ${subject}. Zgjidhni një skedar tjetër vetëm për ta zëvendësuar.`,
    seal: 'Vula elektronike (opsionale)', sealHint: 'Vetëm nëse institucioni e mban vetë çelësin e vulës: CSR që emërton instance/klasa/NIPT. Pa të, nyja e krijon dhe e ruan çelësin.', sealCsr: 'CSR për vulën elektronike',
    services: 'Shërbimet që kërkoni të thërrisni', servicesLabel: 'Shërbimet (një për rresht, opsionale)', servicesHint: 'Siç i emërton katalogu, p.sh. AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas.',
    letter: 'Letra e vulosur', letterLabel: 'Letra e kërkesës, e vulosur (PDF, deri në 5 MB)',
    check: 'Kontrollo', submit: 'Dërgo aplikimin',
    checkHint: '“Kontrollo” lexon CSR-të dhe tregon çfarë emërtojnë, pa dërguar asgjë.',
    chooseAgain: 'Skedarët nuk ruhen nga një hap në tjetrin: zgjidhni përsëri letrën (dhe CSR-të që nuk janë ruajtur më lart).',
    fix: 'Aplikimi nuk u dërgua. Korrigjoni fushat e shënuara.',
    checked: 'Kontrolli i CSR-ve', matches: (id: string) => `Përputhet me ${id}`, mismatch: (id: string) => `Nuk përputhet: duhet të emërtojë ${id}`, unreadable: 'Nuk lexohet',
    noCsr: 'Asnjë CSR për t\'u kontrolluar.', subject: 'Subjekti', expected: 'Duhet të emërtojë', verdict: 'Rezultati', which: 'CSR',
    allGood: 'Të gjitha CSR-të përputhen. Zgjidhni letrën dhe dërgoni aplikimin.',
    required: 'Kjo fushë është e detyrueshme.',
    niptShape: 'NIPT-i duhet të jetë një shkronjë A–M, tetë shifra dhe një shkronjë, p.sh. K81305012I.',
    nidShape: 'Numri personal duhet të jetë dhjetë shenja: shkronjë, shifra të një date të vlefshme, shkronjë kontrolli.',
    badLetter: 'Shkronja e kontrollit nuk përputhet.',
    needSystem: 'Jepni të paktën një sistem me kodin dhe CSR-në e tij.',
    needCsr: 'Zgjidhni skedarin CSR të këtij sistemi.',
    needLetter: 'Zgjidhni letrën e vulosur (PDF).',
    receiptTitle: 'Aplikimi u dërgua',
    receiptLead: 'Aplikimi juaj u regjistrua dhe pret vendimin e një nëpunësi regjistrimi.',
    number: 'Numri i aplikimit', token: 'Kodi i ndjekjes (status token)',
    keep: 'Ruajeni kodin e ndjekjes tani, në një vend të sigurt: shfaqet vetëm këtë herë dhe nuk mund të rikthehet. Ju duhet bashkë me numrin e aplikimit për të ndjekur aplikimin, për të shkarkuar certifikatat dhe për të krijuar hyrjen në konsolë.',
    follow: 'Ndiqni aplikimin', goneTitle: 'Nuk ka dëftesë për të treguar', gone: 'Dëftesa shfaqet vetëm një herë, menjëherë pas dërgimit.',
  },
  en: {
    title: 'Application to join',
    lead: 'Your institution applies to connect to the interoperability gateway. Fill in the data of the credentials form and upload the sealed letter. A registration officer reviews the application.',
    requiredNote: 'Fields marked * are required.',
    institution: 'The institution', instName: 'Name of the institution', nipt: 'NIPT', niptHint: 'A letter, eight digits, a check letter, e.g. K81305012I.',
    memberClass: 'Member class', classes: { GOV: 'GOV — central government', NJQV: 'NJQV — local government unit (municipality)', COM: 'COM — company', NGO: 'NGO — non-governmental organisation' } as Record<string, string>,
    employee: 'The authorised employee', empName: 'Full name', position: 'Position', nid: 'Personal number (NID)', nidHint: 'E.g. I50314123V: ten characters, the last a check letter.',
    email: 'E-mail', phone: 'Phone', phoneHint: 'E.g. +355 67 212 3456.',
    systems: 'The systems that connect', systemsHint: 'For each system: its subsystem code and the request for its TLS certificate (CSR, a PEM file), made with `ura cert request`. The CSR\'s subject must name instance/class/NIPT/code.',
    system: (n: number) => `System ${n}`, code: 'Subsystem code', sysName: 'Name (optional)', csr: 'CSR for the TLS certificate',
    kept: (subject: string) => `Kept from the check step: ${subject}. Choose another file only to replace it.`,
    seal: 'E-seal (optional)', sealHint: 'Only when the institution keeps its seal key itself: a CSR naming instance/class/NIPT. Without it, the node makes and keeps the key.', sealCsr: 'CSR for the e-seal',
    services: 'Services you want to call', servicesLabel: 'Services (one per line, optional)', servicesHint: 'As the catalogue names them, e.g. AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas.',
    letter: 'The sealed letter', letterLabel: 'The request letter, sealed (PDF, up to 5 MB)',
    check: 'Check', submit: 'Submit the application',
    checkHint: '“Check” reads the CSRs and shows what they name, without sending anything.',
    chooseAgain: 'Files are not kept from one step to the next: choose the letter again (and any CSR not kept above).',
    fix: 'The application was not sent. Correct the marked fields.',
    checked: 'The CSRs checked', matches: (id: string) => `Matches ${id}`, mismatch: (id: string) => `Does not match: it must name ${id}`, unreadable: 'Unreadable',
    noCsr: 'No CSR to check.', subject: 'Subject', expected: 'Must name', verdict: 'Result', which: 'CSR',
    allGood: 'Every CSR matches. Choose the letter and submit the application.',
    required: 'This field is required.',
    niptShape: 'A NIPT is a letter A–M, eight digits and a letter, e.g. K81305012I.',
    nidShape: 'A personal number is ten characters: a letter, the digits of a real date, a check letter.',
    badLetter: 'The check letter does not match.',
    needSystem: 'Give at least one system with its code and its CSR.',
    needCsr: 'Choose this system\'s CSR file.',
    needLetter: 'Choose the sealed letter (PDF).',
    receiptTitle: 'The application is sent',
    receiptLead: 'Your application is registered and waits for a registration officer\'s decision.',
    number: 'Application number', token: 'Status token',
    keep: 'Keep the status token now, somewhere safe: it is shown only this once and cannot be shown again. You need it with the application number to follow the application, download the certificates and create the console sign-in.',
    follow: 'Follow the application', goneTitle: 'No receipt to show', gone: 'The receipt is shown only once, right after submitting.',
  },
})

const TEXT_FIELDS = ['institution.name', 'institution.nipt', 'institution.memberClass', 'employee.name', 'employee.position', 'employee.nid', 'employee.email', 'employee.phone'] as const
type TextField = typeof TEXT_FIELDS[number]

/** What the visitor typed (kept across re-renders), and the CSRs read so far (kept as PEM text in hidden fields). */
export interface Typed {
  text: Record<TextField, string>
  systems: Array<{ code: string; name: string; csr?: string }>
  sealCsr?: string
  services: string
}

type Errors = Record<string, string>

const idOf = (name: string): string => `f-${name.replace(/[^A-Za-z0-9]+/g, '-')}`

function input (name: string, label: string, o: { value: string; errors: Errors; required?: boolean; pattern?: string; maxlength: number; hint?: string; type?: string; autocomplete?: string; inputmode?: string }): Html {
  const id = idOf(name)
  const err = o.errors[name]
  const described = [o.hint === undefined ? '' : `${id}-hint`, err === undefined ? '' : `${id}-error`].filter(x => x !== '').join(' ')
  return html`<div class="field${err === undefined ? '' : ' invalid'}"><label for="${id}">${label}${o.required === true ? ' *' : ''}</label>${o.hint === undefined ? '' : html`<p class="hint" id="${id}-hint">${o.hint}</p>`}<input id="${id}" name="${name}" type="${o.type ?? 'text'}" value="${o.value}" maxlength="${o.maxlength}"${o.required === true ? html` required` : ''}${o.pattern === undefined ? '' : html` pattern="${o.pattern}"`}${o.autocomplete === undefined ? '' : html` autocomplete="${o.autocomplete}"`}${o.inputmode === undefined ? '' : html` inputmode="${o.inputmode}"`}${described === '' ? '' : html` aria-describedby="${described}"`}${err === undefined ? '' : html` aria-invalid="true"`}>${err === undefined ? '' : html`<p class="problem" id="${id}-error">${err}</p>`}</div>`
}

function fileInput (name: string, label: string, o: { errors: Errors; required: boolean; accept: string; hint?: string }): Html {
  const id = idOf(name)
  const err = o.errors[name]
  const described = [o.hint === undefined ? '' : `${id}-hint`, err === undefined ? '' : `${id}-error`].filter(x => x !== '').join(' ')
  return html`<div class="field${err === undefined ? '' : ' invalid'}"><label for="${id}">${label}${o.required ? ' *' : ''}</label>${o.hint === undefined ? '' : html`<p class="hint" id="${id}-hint">${o.hint}</p>`}<input id="${id}" name="${name}" type="file" accept="${o.accept}"${o.required ? html` required` : ''}${described === '' ? '' : html` aria-describedby="${described}"`}${err === undefined ? '' : html` aria-invalid="true"`}>${err === undefined ? '' : html`<p class="problem" id="${id}-error">${err}</p>`}</div>`
}

/** A CSR read in an earlier step rides along as base64 of its PEM (a hidden field keeps no line breaks reliably). */
const keptName = (name: string): string => `${name}.kept`
const keep = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64')

function keptNote (lang: Lang, name: string, pem: string | undefined, expected: string): Html | '' {
  if (pem === undefined) return ''
  const report = csrReport(pem, expected, name)
  return html`<input type="hidden" name="${keptName(name)}" value="${keep(pem)}"><p class="hint">${W[lang].kept(report.subject === undefined ? '—' : subjectText(report.subject))}</p>`
}

export interface FormView {
  typed: Typed
  errors: Errors
  /** Problems not tied to one field (the API's, mostly). */
  general?: string
  reports?: Array<{ label: string; report: CsrReport }>
  /** Files were sent: say they must be chosen again. */
  resent: boolean
}

/** The member id and system ids the CSRs must name, from what was typed (`?` for what is missing). */
function expectedIds (instance: string, typed: Typed): { member: string; system: (code: string) => string } {
  const member = `${instance}/${typed.text['institution.memberClass'] || '?'}/${normaliseNipt(typed.text['institution.nipt']) || '?'}`
  return { member, system: code => `${member}/${code || '?'}` }
}

export function applicationForm (lang: Lang, csrf: string, instance: string, view: FormView): Html {
  const t = W[lang]
  const { typed, errors } = view
  const ids = expectedIds(instance, typed)
  const text = (name: TextField, label: string, o: Omit<Parameters<typeof input>[2], 'value' | 'errors'>): Html => input(name, label, { ...o, value: typed.text[name], errors })
  const classErr = errors['institution.memberClass']
  const systems = Array.from({ length: SYSTEM_ROWS }, (_, i) => {
    const s = typed.systems[i] ?? { code: '', name: '' }
    const first = i === 0
    return html`<fieldset><legend>${t.system(i + 1)}</legend><div class="grid">
${input(`systems[${i}].code`, t.code, { value: s.code, errors, required: first, pattern: "[A-Za-z0-9'\\(\\)+,\\-.=?]{1,64}", maxlength: 64, autocomplete: 'off' })}
${input(`systems[${i}].name`, t.sysName, { value: s.name, errors, maxlength: 200, autocomplete: 'off' })}
</div>
${fileInput(`systems[${i}].csr`, t.csr, { errors, required: first && s.csr === undefined, accept: '.pem,.csr,.txt,application/pkcs10' })}
${keptNote(lang, `systems[${i}].csr`, s.csr, ids.system(s.code))}
</fieldset>`
  })
  const reports = view.reports === undefined
    ? ''
    : html`<section class="panel" aria-labelledby="checked"><h2 id="checked">${t.checked}</h2>${view.reports.length === 0
      ? html`<p>${t.noCsr}</p>`
      : html`<div class="table"><table><thead><tr><th scope="col">${t.which}</th><th scope="col">${t.subject}</th><th scope="col">${t.expected}</th><th scope="col">${t.verdict}</th></tr></thead><tbody>${view.reports.map(r => html`<tr><th scope="row">${r.label}</th><td><code>${r.report.subject === undefined ? '—' : subjectText(r.report.subject)}</code></td><td><code>${r.report.expected}</code></td><td>${r.report.ok
        ? html`<span class="badge ok">${t.matches(r.report.expected)}</span>`
        : html`<span class="badge bad">${r.report.subject === undefined ? t.unreadable : t.mismatch(r.report.expected)}</span><br><span class="hint">${r.report.problem}</span>`}</td></tr>`)}</tbody></table></div>${view.reports.every(r => r.report.ok) && Object.keys(errors).length === 0 ? html`<p class="notice ok">${t.allGood}</p>` : ''}`}</section>`
  const problems = Object.keys(errors).length > 0 || view.general !== undefined
  return html`<h1>${t.title}</h1>
<p class="lead">${t.lead}</p>
${problems ? html`<div class="notice bad" role="alert"><p><strong>${t.fix}</strong></p>${view.general === undefined ? '' : html`<p>${view.general}</p>`}</div>` : ''}
${view.resent ? html`<p class="notice" role="status">${t.chooseAgain}</p>` : ''}
${reports}
<form method="post" action="/apliko" enctype="multipart/form-data" class="apply">
<input type="hidden" name="_csrf" value="${csrf}">
<p class="muted">${t.requiredNote}</p>
<fieldset><legend>${t.institution}</legend>
${text('institution.name', t.instName, { required: true, maxlength: 300, autocomplete: 'organization' })}
<div class="grid">
${text('institution.nipt', t.nipt, { required: true, pattern: NIPT_PATTERN, maxlength: 20, hint: t.niptHint, autocomplete: 'off' })}
<div class="field${classErr === undefined ? '' : ' invalid'}"><label for="${idOf('institution.memberClass')}">${t.memberClass} *</label><select id="${idOf('institution.memberClass')}" name="institution.memberClass" required${classErr === undefined ? '' : html` aria-invalid="true" aria-describedby="${idOf('institution.memberClass')}-error"`}>${MEMBER_CLASSES.map(c => html`<option value="${c}"${typed.text['institution.memberClass'] === c ? html` selected` : ''}>${t.classes[c] ?? c}</option>`)}</select>${classErr === undefined ? '' : html`<p class="problem" id="${idOf('institution.memberClass')}-error">${classErr}</p>`}</div>
</div>
</fieldset>
<fieldset><legend>${t.employee}</legend><div class="grid">
${text('employee.name', t.empName, { required: true, maxlength: 200, autocomplete: 'name' })}
${text('employee.position', t.position, { required: true, maxlength: 200, autocomplete: 'organization-title' })}
${text('employee.nid', t.nid, { required: true, pattern: NID_PATTERN, maxlength: 20, hint: t.nidHint, autocomplete: 'off' })}
${text('employee.email', t.email, { required: true, maxlength: 254, type: 'email', autocomplete: 'email' })}
${text('employee.phone', t.phone, { required: true, maxlength: 30, type: 'tel', hint: t.phoneHint, autocomplete: 'tel' })}
</div></fieldset>
<fieldset><legend>${t.systems}</legend>
<p class="hint">${t.systemsHint}</p>
${errors.systems === undefined ? '' : html`<p class="problem" id="f-systems-error" role="alert">${errors.systems}</p>`}
${systems}
</fieldset>
<fieldset><legend>${t.seal}</legend>
${fileInput('sealCsr', t.sealCsr, { errors, required: false, accept: '.pem,.csr,.txt,application/pkcs10', hint: t.sealHint })}
${keptNote(lang, 'sealCsr', typed.sealCsr, ids.member)}
</fieldset>
<fieldset><legend>${t.services}</legend>
<div class="field${errors.services === undefined ? '' : ' invalid'}"><label for="f-services">${t.servicesLabel}</label><p class="hint" id="f-services-hint">${t.servicesHint}</p><textarea id="f-services" name="services" rows="3" maxlength="6300" aria-describedby="f-services-hint${errors.services === undefined ? '' : ' f-services-error'}"${errors.services === undefined ? '' : html` aria-invalid="true"`}>${typed.services}</textarea>${errors.services === undefined ? '' : html`<p class="problem" id="f-services-error">${errors.services}</p>`}</div>
</fieldset>
<fieldset><legend>${t.letter}</legend>
${fileInput('letter', t.letterLabel, { errors, required: true, accept: 'application/pdf,.pdf' })}
</fieldset>
<p class="hint" id="check-hint">${t.checkHint}</p>
<div class="actions"><button type="submit" name="step" value="check" class="secondary" formnovalidate aria-describedby="check-hint">${t.check}</button><button type="submit" name="step" value="submit">${t.submit}</button></div>
</form>`
}

export const EMPTY: Typed = {
  text: { 'institution.name': '', 'institution.nipt': '', 'institution.memberClass': 'NJQV', 'employee.name': '', 'employee.position': '', 'employee.nid': '', 'employee.email': '', 'employee.phone': '' },
  systems: [],
  services: '',
}

/** A CSR of the form: the file chosen now, else the one kept from an earlier step. */
function csrOf (request: FastifyRequest, name: string): { pem?: string; chosen: boolean } {
  const file: UploadedFile | undefined = upload(request, name)
  if (file !== undefined) return { pem: file.bytes.subarray(0, 64 * 1024).toString('utf8'), chosen: true }
  const kept = field(request, keptName(name))
  if (kept !== '' && /^[A-Za-z0-9+/=]{1,12000}$/.test(kept)) return { pem: Buffer.from(kept, 'base64').toString('utf8'), chosen: false }
  return { chosen: false }
}

function typedOf (request: FastifyRequest): { typed: Typed; resent: boolean } {
  const text = {} as Record<TextField, string>
  for (const name of TEXT_FIELDS) text[name] = field(request, name).slice(0, 400)
  let resent = upload(request, 'letter') !== undefined
  const systems = Array.from({ length: SYSTEM_ROWS }, (_, i) => {
    const csr = csrOf(request, `systems[${i}].csr`)
    if (csr.chosen) resent = true
    return { code: field(request, `systems[${i}].code`).trim().slice(0, 64), name: field(request, `systems[${i}].name`).slice(0, 200), ...(csr.pem === undefined ? {} : { csr: csr.pem }) }
  })
  const seal = csrOf(request, 'sealCsr')
  if (seal.chosen) resent = true
  return { typed: { text, systems, ...(seal.pem === undefined ? {} : { sealCsr: seal.pem }), services: field(request, 'services').slice(0, 6300) }, resent }
}

/** The checks the form makes itself before sending anything: required fields, NIPT, NID, a system, the letter. */
function ownChecks (lang: Lang, typed: Typed, letter: boolean): Errors {
  const t = W[lang]
  const errors: Errors = {}
  for (const name of TEXT_FIELDS) if (typed.text[name].trim() === '') errors[name] = t.required
  const idText = (p: ReturnType<typeof niptFieldProblem>, shape: string): string | undefined => p === undefined ? undefined : p.kind === 'shape' ? shape : `${t.badLetter} (${p.detail})`
  const nipt = typed.text['institution.nipt'].trim() === '' ? undefined : idText(niptFieldProblem(typed.text['institution.nipt']), t.niptShape)
  if (nipt !== undefined) errors['institution.nipt'] = nipt
  const nid = typed.text['employee.nid'].trim() === '' ? undefined : idText(nidFieldProblem(typed.text['employee.nid']), t.nidShape)
  if (nid !== undefined) errors['employee.nid'] = nid
  if (!typed.systems.some(s => s.code !== '')) errors['systems[0].code'] = t.needSystem
  typed.systems.forEach((s, i) => { if (s.code !== '' && s.csr === undefined) errors[`systems[${i}].csr`] = t.needCsr })
  if (!letter) errors.letter = t.needLetter
  return errors
}

function csrReports (lang: Lang, instance: string, typed: Typed): Array<{ label: string; report: CsrReport }> {
  const t = W[lang]
  const ids = expectedIds(instance, typed)
  const out: Array<{ label: string; report: CsrReport }> = []
  typed.systems.forEach((s, i) => { if (s.csr !== undefined) out.push({ label: `${t.system(i + 1)}${s.code === '' ? '' : ` (${s.code})`}`, report: csrReport(s.csr, ids.system(s.code), `systems[${i}].csr`) }) })
  if (typed.sealCsr !== undefined) out.push({ label: t.sealCsr, report: csrReport(typed.sealCsr, ids.member, 'sealCsr') })
  return out
}

/** The form field an API refusal is about, read from its code, its problems or its message. */
export function fieldOfProblem (type: string, message: string, problems: Array<{ path: string }> = []): string | undefined {
  const path = problems[0]?.path
  if (path !== undefined && path !== '(body)') {
    const m = /^systems\.([0-9]+)\.(code|name|csr)$/.exec(path)
    if (m !== null) return `systems[${m[1]}].${m[2]}`
    if (path === 'systems') return 'systems'
    if (path.startsWith('services')) return 'services'
    return path
  }
  const named = /(systems\[[0-9]+\]\.(?:code|csr)|sealCsr)/.exec(message)
  switch (type) {
    case 'Onboarding.InvalidNipt': case 'Onboarding.MemberExists': case 'Onboarding.ApplicationPending': case 'Onboarding.OperatorExists': return 'institution.nipt'
    case 'Onboarding.InvalidNid': return 'employee.nid'
    case 'Onboarding.InvalidMemberClass': return 'institution.memberClass'
    case 'Onboarding.UnknownService': return 'services'
    case 'Onboarding.LetterMissing': case 'Onboarding.LetterNotPdf': case 'Onboarding.LetterTooLarge': return 'letter'
    case 'Onboarding.InvalidSubsystemCode': return named?.[1] ?? 'systems'
    case 'Onboarding.DuplicateSystem': return 'systems'
    case 'Onboarding.InvalidCsr': case 'Onboarding.CsrSubjectMismatch': case 'Onboarding.DuplicateKey': return named?.[1] ?? 'systems'
    default: return undefined
  }
}

const pemPart = (pem: string): Blob => new Blob([pem.replace(/\r\n?/g, '\n')], { type: 'application/x-pem-file' })

/** The application as the public API takes it: the fields named as its form names them, the CSRs as text, the letter as the file part. */
function submission (typed: Typed, letter: UploadedFile): FormData {
  const form = new FormData()
  for (const name of TEXT_FIELDS) form.append(name, typed.text[name].trim())
  let j = 0
  for (const s of typed.systems) {
    if (s.code === '' && s.csr === undefined) continue
    form.append(`systems[${j}].code`, s.code)
    if (s.name.trim() !== '') form.append(`systems[${j}].name`, s.name.trim())
    // As a file part: its bytes travel as they are (a text field's line breaks would become CRLF).
    form.append(`systems[${j}].csr`, pemPart(s.csr ?? ''), 'csr.pem')
    j++
  }
  if (typed.sealCsr !== undefined) form.append('sealCsr', pemPart(typed.sealCsr), 'seal.csr.pem')
  for (const service of typed.services.split(/[\s,]+/)) if (service !== '') form.append('services', service)
  form.append('letter', new Blob([new Uint8Array(letter.bytes)], { type: letter.type }), letter.filename === '' ? 'letter.pdf' : letter.filename)
  return form
}

export function applyPages (opts: ApplyPagesOptions = {}): (app: FastifyInstance, ctx: AdminContext) => Promise<void> {
  return async (app, ctx) => {
    const instance = ctx.config.node.instance
    app.addHook('onRequest', postLimit(opts.rate))

    const show = (request: FastifyRequest, reply: FastifyReply, lang: Lang, view: FormView, status = 200): FastifyReply =>
      publicPage(request, reply, { lang, title: W[lang].title, status, body: applicationForm(lang, reply.generateCsrf(), instance, view) })

    app.get('/apliko', async (request, reply) => {
      const lang = langOf(request, reply)
      return show(request, reply, lang, { typed: EMPTY, errors: {}, resent: false })
    })

    app.post('/apliko', async (request, reply) => {
      const lang = langOf(request)
      const { typed, resent } = typedOf(request)
      const letter = upload(request, 'letter')
      if (field(request, 'step') === 'check') {
        const errors = ownChecks(lang, typed, true)
        return show(request, reply, lang, { typed, errors, reports: csrReports(lang, instance, typed), resent })
      }
      const errors = ownChecks(lang, typed, letter !== undefined)
      if (Object.keys(errors).length > 0 || letter === undefined) return show(request, reply, lang, { typed, errors, resent }, 400)
      const answer = await callPublic<{ id: string; statusToken: string }>(app, request, reply, { method: 'POST', path: '', form: submission(typed, letter) })
      if (!answer.ok || answer.json === undefined) {
        const p = answer.problem!
        const where = fieldOfProblem(p.type, p.message, p.detail?.problems)
        const text = `${p.message} (${p.type})`
        return show(request, reply, lang, { typed, errors: where === undefined ? {} : { [where]: text }, ...(where === undefined ? { general: text } : {}), resent: true }, answer.status)
      }
      request.session.set('applyReceipt', { id: answer.json.id, token: answer.json.statusToken })
      return reply.code(303).header('location', '/apliko/deftesa').send()
    })

    app.get('/apliko/deftesa', async (request, reply) => {
      const lang = langOf(request, reply)
      const t = W[lang]
      const receipt = request.session.get('applyReceipt')
      if (receipt === undefined) {
        return publicPage(request, reply, { lang, title: t.goneTitle, status: 404, body: html`<h1>${t.goneTitle}</h1><p>${t.gone}</p><p><a href="/apliko/statusi">${t.follow}</a></p>` })
      }
      // Shown once: the session forgets it with this page.
      request.session.set('applyReceipt', undefined)
      return publicPage(request, reply, {
        lang,
        title: t.receiptTitle,
        body: html`<h1>${t.receiptTitle}</h1><p class="lead">${t.receiptLead}</p>
<dl class="facts receipt"><div><dt>${t.number}</dt><dd><code>${receipt.id}</code></dd></div><div><dt>${t.token}</dt><dd><code class="secret">${receipt.token}</code></dd></div></dl>
<div class="notice bad" role="alert"><p><strong>${t.keep}</strong></p></div>
<p><a class="button" href="/apliko/statusi">${t.follow}</a></p>`,
      })
    })
  }
}
