/**
 * The service form: a service's own settings and its catalogue metadata in both languages, as plain
 * fields (lists one entry a line, so the form needs no script), read back into the service's JSON
 * shape. What the form itself cannot read (a legal act line with too few parts, a number that is
 * not one) is a problem on its field; whether the metadata is complete enough for the catalogue is
 * told by the catalogue's own check (config/catalogue-metadata.ts), as a warning: the API accepts
 * incomplete metadata, and the catalogue leaves the service out until it is complete.
 */
import type { CatalogueMetadata, Lang } from '../../../config/catalogue-labels.ts'
import { CATEGORY_LABELS } from '../../../config/catalogue-labels.ts'
import { metadataProblems } from '../../../config/catalogue-metadata.ts'
import type { ServiceConfig } from '../../../config/types.ts'
import type { FastifyRequest } from 'fastify'
import { html, type Html } from '../html.ts'
import { words } from '../i18n.ts'
import type { FormBody } from '../kit.ts'
import { addProblem, idOf, input, select, textarea, type FormProblems } from './form-fields.ts'

export type FormValues = Record<string, string | string[]>

const W = words({
  sq: {
    service: 'Shërbimi', provider: 'Ofruesi', code: 'Kodi i shërbimit', version: 'Versioni', versionHint: 'Opsional, p.sh. v1.',
    type: 'Protokolli për klientët', adapterKind: 'Si arrihet ofruesi', url: 'Adresa e sistemit të ofruesit', title: 'Titulli i brendshëm',
    timeout: 'Afati i pritjes (ms)', bodyLogging: 'Regjistrimi i trupit të mesazheve', responseValidation: 'Kontrolli i përgjigjeve',
    requireOfficial: 'Çdo thirrje duhet të emërojë një zyrtar aktiv të institucionit thirrës',
    catalogue: 'Të dhënat në katalog', catalogueLead: 'Çdo tekst jepet në shqip dhe në anglisht. Katalogu e publikon shërbimin vetëm kur të dhënat janë të plota.',
    titleSq: 'Titulli (shqip)', titleEn: 'Titulli (anglisht)', descSq: 'Përshkrimi (shqip)', descEn: 'Përshkrimi (anglisht)',
    category: 'Kategoria', chooseCategory: '— zgjidhni —', institutionSq: 'Institucioni përgjegjës (shqip)', institutionEn: 'Institucioni përgjegjës (anglisht)',
    municipalities: 'Bashkitë', municipalitiesHint: 'Të ndara me presje; bosh: në të gjithë vendin.',
    legalBasis: 'Baza ligjore', legalBasisHint: 'Një akt në rresht: lloji; numri; data (VVVV-MM-DD); titulli shqip; titulli anglisht; nenet (opsionale). Llojet: law, dcm, instruction, order, council-decision.',
    stepsSq: 'Hapat (shqip)', stepsEn: 'Hapat (anglisht)', stepsHint: 'Një hap në rresht, me të njëjtën radhë në të dy gjuhët.',
    docsSq: 'Dokumentet (shqip)', docsEn: 'Dokumentet (anglisht)', docsHint: 'Një dokument në rresht; bosh: nuk kërkohet asnjë.',
    timeMin: 'Koha, nga', timeMax: 'Koha, deri në', timeUnit: 'Njësia e kohës',
    units: { minutes: 'minuta', hours: 'orë', 'working-days': 'ditë pune', days: 'ditë', months: 'muaj', years: 'vjet' } as Record<string, string>,
    fees: 'Kostot', feesHint: 'Bosh: pa pagesë. Përndryshe një kosto në rresht: shuma në lekë; për çfarë (shqip); për çfarë (anglisht).',
    validity: 'Vlefshmëria', unlimited: 'Pa afat', calendarYear: 'Deri në fund të vitit kalendarik', period: 'Një periudhë', validityValue: 'Periudha (numri)', validityUnit: 'Periudha (njësia)',
    channel: 'Mënyra e marrjes', online: 'Online nga qytetari', assisted: 'Me ndihmën e një nëpunësi',
    email: 'E-mail kontakti', phone: 'Telefon kontakti', addressSq: 'Adresa (shqip)', addressEn: 'Adresa (anglisht)',
    badLine: (n: number, what: string) => `Rreshti ${n}: ${what}`, parts: 'duhen të paktën 5 pjesë të ndara me «;»', notNumber: 'nuk është numër',
    stepsMismatch: 'Hapat në shqip dhe në anglisht duhet të jenë po aq.', docsMismatch: 'Dokumentet në shqip dhe në anglisht duhet të jenë po aq.',
  },
  en: {
    service: 'Service', provider: 'Provider', code: 'Service code', version: 'Version', versionHint: 'Optional, e.g. v1.',
    type: 'Protocol for clients', adapterKind: 'How the provider is reached', url: 'Address of the provider\'s system', title: 'Internal title',
    timeout: 'Timeout (ms)', bodyLogging: 'Logging of message bodies', responseValidation: 'Checking of responses',
    requireOfficial: 'Every call must name an active official of the calling institution',
    catalogue: 'Catalogue metadata', catalogueLead: 'Every text in Albanian and in English. The catalogue publishes the service only when its metadata is complete.',
    titleSq: 'Title (Albanian)', titleEn: 'Title (English)', descSq: 'Description (Albanian)', descEn: 'Description (English)',
    category: 'Category', chooseCategory: '— choose —', institutionSq: 'Responsible institution (Albanian)', institutionEn: 'Responsible institution (English)',
    municipalities: 'Municipalities', municipalitiesHint: 'Separated by commas; empty: nationwide.',
    legalBasis: 'Legal basis', legalBasisHint: 'One act a line: kind; number; date (YYYY-MM-DD); title in Albanian; title in English; articles (optional). Kinds: law, dcm, instruction, order, council-decision.',
    stepsSq: 'Steps (Albanian)', stepsEn: 'Steps (English)', stepsHint: 'One step a line, in the same order in both languages.',
    docsSq: 'Documents (Albanian)', docsEn: 'Documents (English)', docsHint: 'One document a line; empty: none needed.',
    timeMin: 'Time, from', timeMax: 'Time, up to', timeUnit: 'Unit of time',
    units: { minutes: 'minutes', hours: 'hours', 'working-days': 'working days', days: 'days', months: 'months', years: 'years' } as Record<string, string>,
    fees: 'Fees', feesHint: 'Empty: free of charge. Otherwise one fee a line: amount in lek; what for (Albanian); what for (English).',
    validity: 'Validity', unlimited: 'No expiry', calendarYear: 'Until the end of the calendar year', period: 'A period', validityValue: 'Period (number)', validityUnit: 'Period (unit)',
    channel: 'How it is received', online: 'Online by the citizen', assisted: 'Assisted by an official',
    email: 'Contact e-mail', phone: 'Contact phone', addressSq: 'Address (Albanian)', addressEn: 'Address (English)',
    badLine: (n: number, what: string) => `Line ${n}: ${what}`, parts: 'needs at least 5 parts separated by “;”', notNumber: 'is not a number',
    stepsMismatch: 'There must be as many steps in Albanian as in English.', docsMismatch: 'There must be as many documents in Albanian as in English.',
  },
})

/** The form's field names: a service's settings, then its catalogue metadata (names follow the JSON paths, so the API's problems land on them). */
export const SERVICE_FIELDS = ['provider', 'code', 'version', 'type', 'adapter.kind', 'adapter.url', 'title', 'timeoutMs', 'bodyLogging', 'responseValidation', 'requireOfficial'] as const
export const CATALOGUE_FIELDS = [
  'catalogue.title.sq', 'catalogue.title.en', 'catalogue.description.sq', 'catalogue.description.en', 'catalogue.category',
  'catalogue.institution.sq', 'catalogue.institution.en', 'catalogue.municipalities', 'catalogue.legalBasis',
  'catalogue.steps.sq', 'catalogue.steps.en', 'catalogue.documents.sq', 'catalogue.documents.en',
  'catalogue.processingTime.min', 'catalogue.processingTime.max', 'catalogue.processingTime.unit', 'catalogue.fees',
  'catalogue.validity', 'catalogue.validity.value', 'catalogue.validity.unit', 'catalogue.channel',
  'catalogue.contact.email', 'catalogue.contact.phone', 'catalogue.contact.address.sq', 'catalogue.contact.address.en',
] as const
export const ALL_FIELDS: readonly string[] = [...SERVICE_FIELDS, ...CATALOGUE_FIELDS]

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '')
const lines = (text: string): string[] => text.split(/\r?\n/).map(l => l.trim()).filter(l => l !== '')
const one = (v: FormValues, k: string): string => { const x = v[k]; return Array.isArray(x) ? (x.at(-1) ?? '') : (x ?? '') }

/** The form's values from a posted form. */
export function valuesOf (request: FastifyRequest): FormValues {
  const body = (request.body ?? {}) as FormBody
  const out: FormValues = {}
  for (const k of ALL_FIELDS) {
    const v = body[k]
    if (typeof v === 'string' || Array.isArray(v)) out[k] = v
  }
  return out
}

/** The form's values for an existing service (or a new one: defaults). */
export function valuesOfService (s?: ServiceConfig): FormValues {
  if (s === undefined) return { type: 'rest', 'adapter.kind': 'rest', timeoutMs: '30000', bodyLogging: 'digest', responseValidation: 'enforce', 'catalogue.validity': 'unlimited', 'catalogue.processingTime.unit': 'working-days' }
  const c = (s.catalogue ?? {}) as Partial<CatalogueMetadata>
  const v: FormValues = {
    provider: s.provider, code: s.code, version: s.version ?? '', type: s.type, 'adapter.kind': s.adapter.kind, 'adapter.url': s.adapter.url,
    title: s.title ?? '', timeoutMs: String(s.timeoutMs), bodyLogging: s.bodyLogging, responseValidation: s.responseValidation,
    requireOfficial: s.requireOfficial === true ? 'on' : '',
  }
  const text = (k: string, t: { sq?: string; en?: string } | undefined): void => { v[`${k}.sq`] = str(t?.sq); v[`${k}.en`] = str(t?.en) }
  text('catalogue.title', c.title)
  text('catalogue.description', c.description)
  text('catalogue.institution', c.institution)
  v['catalogue.category'] = str(c.category)
  v['catalogue.municipalities'] = (c.municipalities ?? []).join(', ')
  v['catalogue.legalBasis'] = (c.legalBasis ?? []).map(a => [a.act, a.number, a.date, a.title?.sq, a.title?.en, ...(a.articles === undefined ? [] : [a.articles])].join('; ')).join('\n')
  v['catalogue.steps.sq'] = (c.steps ?? []).map(x => str(x.sq)).join('\n')
  v['catalogue.steps.en'] = (c.steps ?? []).map(x => str(x.en)).join('\n')
  v['catalogue.documents.sq'] = (c.documents ?? []).map(x => str(x.sq)).join('\n')
  v['catalogue.documents.en'] = (c.documents ?? []).map(x => str(x.en)).join('\n')
  v['catalogue.processingTime.min'] = str(c.processingTime?.min)
  v['catalogue.processingTime.max'] = str(c.processingTime?.max)
  v['catalogue.processingTime.unit'] = str(c.processingTime?.unit) || 'working-days'
  v['catalogue.fees'] = Array.isArray(c.fees) ? c.fees.map(f => [f.amount, f.for?.sq, f.for?.en].join('; ')).join('\n') : ''
  if (typeof c.validity === 'object' && c.validity !== null) {
    v['catalogue.validity'] = 'period'; v['catalogue.validity.value'] = str(c.validity.value); v['catalogue.validity.unit'] = str(c.validity.unit)
  } else v['catalogue.validity'] = str(c.validity) || 'unlimited'
  v['catalogue.channel'] = c.channel ?? []
  v['catalogue.contact.email'] = str(c.contact?.email)
  v['catalogue.contact.phone'] = str(c.contact?.phone)
  text('catalogue.contact.address', c.contact?.address)
  return v
}

export interface ReadForm {
  /** The service's fields the form sets (identity fields only when creating). */
  service: Record<string, unknown>
  /** The metadata typed, undefined when every catalogue field is empty. */
  catalogue?: Record<string, unknown>
  /** Why the catalogue would leave the service out (from the catalogue's own check). */
  warnings: string[]
}

/** The form's values as a service body; what cannot be read is added to `problems`. */
export function readForm (v: FormValues, lang: Lang, problems: FormProblems, creating: boolean): ReadForm {
  const t = W[lang]
  const service: Record<string, unknown> = {}
  if (creating) {
    service.provider = one(v, 'provider')
    service.code = one(v, 'code').trim()
    if (one(v, 'version').trim() !== '') service.version = one(v, 'version').trim()
    service.type = one(v, 'type')
    service.adapter = { kind: one(v, 'adapter.kind'), url: one(v, 'adapter.url').trim() }
  }
  service.title = one(v, 'title').trim() === '' ? null : one(v, 'title').trim()
  const timeout = Number(one(v, 'timeoutMs'))
  if (one(v, 'timeoutMs').trim() === '' || !Number.isInteger(timeout)) addProblem(problems, 'timeoutMs', t.notNumber)
  else service.timeoutMs = timeout
  service.bodyLogging = one(v, 'bodyLogging')
  service.responseValidation = one(v, 'responseValidation')
  service.requireOfficial = one(v, 'requireOfficial') === 'on' ? true : null
  // An edit is a merge patch (null removes a field, the adapter keeps its other settings); a new service has no nulls.
  if (!creating) service.adapter = { url: one(v, 'adapter.url').trim() }
  if (creating) for (const [k, x] of Object.entries(service)) if (x === null) delete service[k]

  const typed = CATALOGUE_FIELDS.some(k => k !== 'catalogue.validity' && k !== 'catalogue.processingTime.unit' && (Array.isArray(v[k]) ? (v[k] as string[]).length > 0 : one(v, k).trim() !== ''))
  if (!typed) return { service, warnings: [] }

  const c: Record<string, unknown> = {}
  const text = (k: string): { sq: string; en: string } | undefined => {
    const sq = one(v, `${k}.sq`).trim(); const en = one(v, `${k}.en`).trim()
    return sq === '' && en === '' ? undefined : { sq, en }
  }
  const set = (k: string, value: unknown): void => { if (value !== undefined) c[k] = value }
  set('title', text('catalogue.title'))
  set('description', text('catalogue.description'))
  if (one(v, 'catalogue.category') !== '') c.category = one(v, 'catalogue.category')
  set('institution', text('catalogue.institution'))
  const municipalities = one(v, 'catalogue.municipalities').split(',').map(s => s.trim()).filter(s => s !== '')
  if (municipalities.length > 0) c.municipalities = municipalities
  const acts: unknown[] = []
  lines(one(v, 'catalogue.legalBasis')).forEach((line, i) => {
    const parts = line.split(';').map(s => s.trim())
    if (parts.length < 5) { addProblem(problems, 'catalogue.legalBasis', t.badLine(i + 1, t.parts)); return }
    const [act, number, date, sq, en, ...rest] = parts
    acts.push({ act, number, date, title: { sq, en }, ...(rest.join('; ') === '' ? {} : { articles: rest.join('; ') }) })
  })
  if (acts.length > 0) c.legalBasis = acts
  const pairs = (k: string, mismatch: string): Array<{ sq: string; en: string }> | undefined => {
    const sq = lines(one(v, `${k}.sq`)); const en = lines(one(v, `${k}.en`))
    if (sq.length !== en.length) { addProblem(problems, `${k}.en`, mismatch); return undefined }
    return sq.map((s, i) => ({ sq: s, en: en[i] }))
  }
  const steps = pairs('catalogue.steps', t.stepsMismatch)
  if (steps !== undefined && steps.length > 0) c.steps = steps
  const documents = pairs('catalogue.documents', t.docsMismatch)
  if (documents !== undefined) c.documents = documents
  const num = (k: string): number | undefined => {
    const raw = one(v, k).trim()
    if (raw === '') return undefined
    const n = Number(raw.replace(',', '.'))
    if (!Number.isFinite(n)) { addProblem(problems, k, t.notNumber); return undefined }
    return n
  }
  const min = num('catalogue.processingTime.min'); const max = num('catalogue.processingTime.max')
  if (min !== undefined || max !== undefined) c.processingTime = { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }), unit: one(v, 'catalogue.processingTime.unit') }
  const fees: unknown[] = []
  lines(one(v, 'catalogue.fees')).forEach((line, i) => {
    const [amount, sq, en] = line.split(';').map(s => s.trim())
    const n = Number((amount ?? '').replace(/\s/g, '').replace(',', '.'))
    if (!Number.isFinite(n) || amount === '') { addProblem(problems, 'catalogue.fees', t.badLine(i + 1, t.notNumber)); return }
    fees.push({ amount: n, currency: 'ALL', for: { sq: sq ?? '', en: en ?? '' } })
  })
  c.fees = fees.length === 0 ? 'none' : fees
  const validity = one(v, 'catalogue.validity')
  if (validity === 'period') {
    const value = num('catalogue.validity.value')
    c.validity = { ...(value === undefined ? {} : { value }), unit: one(v, 'catalogue.validity.unit') }
  } else c.validity = validity
  const channel = Array.isArray(v['catalogue.channel']) ? v['catalogue.channel'] : one(v, 'catalogue.channel') === '' ? [] : [one(v, 'catalogue.channel')]
  if (channel.length > 0) c.channel = channel
  const contact: Record<string, unknown> = {}
  if (one(v, 'catalogue.contact.email').trim() !== '') contact.email = one(v, 'catalogue.contact.email').trim()
  if (one(v, 'catalogue.contact.phone').trim() !== '') contact.phone = one(v, 'catalogue.contact.phone').trim()
  const address = text('catalogue.contact.address')
  if (address !== undefined) contact.address = address
  if (Object.keys(contact).length > 0) c.contact = contact
  return { service, catalogue: c, warnings: metadataProblems(c) }
}

/** The form's fields (identity fields only when creating; `providers` are the clients the operator may add services for). */
export function serviceFields (v: FormValues, lang: Lang, p: FormProblems, creating: boolean, providers: string[]): Html {
  const t = W[lang]
  const val = (k: string): string => one(v, k)
  const opts = (xs: string[], labels?: Record<string, string>): Array<{ value: string; label: string }> => xs.map(x => ({ value: x, label: labels?.[x] ?? x }))
  const channel = Array.isArray(v['catalogue.channel']) ? v['catalogue.channel'] : [one(v, 'catalogue.channel')]
  const check = (value: string, label: string): Html => {
    const id = idOf(`catalogue.channel-${value}`)
    return html`<div><input type="checkbox" id="${id}" name="catalogue.channel" value="${value}"${channel.includes(value) ? html` checked` : ''}><label for="${id}" class="inline-label">${label}</label></div>`
  }
  const identity = creating
    ? html`<div class="grid">
${select({ name: 'provider', label: t.provider, value: val('provider'), options: opts(providers), required: true }, p)}
${input({ name: 'code', label: t.code, value: val('code'), required: true }, p)}
${input({ name: 'version', label: t.version, hint: t.versionHint, value: val('version') }, p)}
${select({ name: 'type', label: t.type, value: val('type'), options: opts(['rest', 'soap']) }, p)}
${select({ name: 'adapter.kind', label: t.adapterKind, value: val('adapter.kind'), options: opts(['rest', 'soap']) }, p)}
</div>`
    : ''
  const channelProblems = p.fields.get('catalogue.channel') ?? []
  return html`<fieldset><legend>${t.service}</legend>${identity}<div class="grid">
${input({ name: 'adapter.url', label: t.url, value: val('adapter.url'), type: 'url', required: true }, p)}
${input({ name: 'title', label: t.title, value: val('title') }, p)}
${input({ name: 'timeoutMs', label: t.timeout, value: val('timeoutMs'), type: 'number', attrs: html` min="1" max="600000"` }, p)}
${select({ name: 'bodyLogging', label: t.bodyLogging, value: val('bodyLogging'), options: opts(['digest', 'full']) }, p)}
${select({ name: 'responseValidation', label: t.responseValidation, value: val('responseValidation'), options: opts(['enforce', 'warn', 'off']) }, p)}
</div><div class="field"><input type="checkbox" id="${idOf('requireOfficial')}" name="requireOfficial" value="on"${val('requireOfficial') === 'on' ? html` checked` : ''}><label for="${idOf('requireOfficial')}" class="inline-label">${t.requireOfficial}</label></div></fieldset>
<fieldset><legend>${t.catalogue}</legend><p class="hint">${t.catalogueLead}</p><div class="grid">
${input({ name: 'catalogue.title.sq', label: t.titleSq, value: val('catalogue.title.sq') }, p)}
${input({ name: 'catalogue.title.en', label: t.titleEn, value: val('catalogue.title.en') }, p)}
${textarea({ name: 'catalogue.description.sq', label: t.descSq, value: val('catalogue.description.sq') }, p)}
${textarea({ name: 'catalogue.description.en', label: t.descEn, value: val('catalogue.description.en') }, p)}
${select({ name: 'catalogue.category', label: t.category, value: val('catalogue.category'), options: [{ value: '', label: t.chooseCategory }, ...Object.entries(CATEGORY_LABELS).map(([k, l]) => ({ value: k, label: l[lang] }))] }, p)}
${input({ name: 'catalogue.municipalities', label: t.municipalities, hint: t.municipalitiesHint, value: val('catalogue.municipalities') }, p)}
${input({ name: 'catalogue.institution.sq', label: t.institutionSq, value: val('catalogue.institution.sq') }, p)}
${input({ name: 'catalogue.institution.en', label: t.institutionEn, value: val('catalogue.institution.en') }, p)}
</div>
${textarea({ name: 'catalogue.legalBasis', label: t.legalBasis, hint: t.legalBasisHint, value: val('catalogue.legalBasis') }, p)}
<div class="grid">
${textarea({ name: 'catalogue.steps.sq', label: t.stepsSq, hint: t.stepsHint, value: val('catalogue.steps.sq') }, p)}
${textarea({ name: 'catalogue.steps.en', label: t.stepsEn, hint: t.stepsHint, value: val('catalogue.steps.en') }, p)}
${textarea({ name: 'catalogue.documents.sq', label: t.docsSq, hint: t.docsHint, value: val('catalogue.documents.sq') }, p)}
${textarea({ name: 'catalogue.documents.en', label: t.docsEn, hint: t.docsHint, value: val('catalogue.documents.en') }, p)}
${input({ name: 'catalogue.processingTime.min', label: t.timeMin, value: val('catalogue.processingTime.min'), type: 'number', attrs: html` min="0"` }, p)}
${input({ name: 'catalogue.processingTime.max', label: t.timeMax, value: val('catalogue.processingTime.max'), type: 'number', attrs: html` min="1"` }, p)}
${select({ name: 'catalogue.processingTime.unit', label: t.timeUnit, value: val('catalogue.processingTime.unit'), options: opts(['minutes', 'hours', 'working-days'], t.units) }, p)}
</div>
${textarea({ name: 'catalogue.fees', label: t.fees, hint: t.feesHint, value: val('catalogue.fees') }, p)}
<div class="grid">
${select({ name: 'catalogue.validity', label: t.validity, value: val('catalogue.validity'), options: [{ value: 'unlimited', label: t.unlimited }, { value: 'calendar-year', label: t.calendarYear }, { value: 'period', label: t.period }] }, p)}
${input({ name: 'catalogue.validity.value', label: t.validityValue, value: val('catalogue.validity.value'), type: 'number', attrs: html` min="1"` }, p)}
${select({ name: 'catalogue.validity.unit', label: t.validityUnit, value: val('catalogue.validity.unit'), options: opts(['days', 'months', 'years'], t.units) }, p)}
</div>
<fieldset class="field${channelProblems.length === 0 ? '' : ' invalid'}"><legend>${t.channel}</legend>${check('online', t.online)}${check('assisted', t.assisted)}${channelProblems.length === 0 ? '' : html`<p class="problem">${channelProblems.join(' ')}</p>`}</fieldset>
<div class="grid">
${input({ name: 'catalogue.contact.email', label: t.email, value: val('catalogue.contact.email'), type: 'email' }, p)}
${input({ name: 'catalogue.contact.phone', label: t.phone, value: val('catalogue.contact.phone'), type: 'tel' }, p)}
${input({ name: 'catalogue.contact.address.sq', label: t.addressSq, value: val('catalogue.contact.address.sq') }, p)}
${input({ name: 'catalogue.contact.address.en', label: t.addressEn, value: val('catalogue.contact.address.en') }, p)}
</div></fieldset>`
}
