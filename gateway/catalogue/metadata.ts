/**
 * Catalogue metadata of a service (DESIGN §9): the e-service form fields, checked against
 * `schemas/catalogue/service-entry.json`. Incomplete metadata never stops the node: the service
 * keeps working for its callers but is left out of the catalogue, and `ura config check` lists
 * what is missing.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { Ajv, type ErrorObject } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { ServiceConfig } from '../../config/types.ts'

const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (ajv: Ajv) => Ajv

export const CATALOGUE_SCHEMA_FILE = resolve(import.meta.dirname, '../../schemas/catalogue/service-entry.json')
export const catalogueSchema = JSON.parse(readFileSync(CATALOGUE_SCHEMA_FILE, 'utf8')) as Record<string, any>

export interface Text { sq: string; en: string }
export type Category = 'civil-status' | 'local-taxes' | 'property' | 'business' | 'construction' | 'social-assistance' | 'health' | 'education' | 'transport' | 'environment' | 'public-order' | 'other'
export interface LegalAct { act: 'law' | 'dcm' | 'instruction' | 'order' | 'council-decision'; number: string; date: string; title: Text; articles?: string }
export interface Fee { amount: number; currency: 'ALL'; for: Text }
export type Validity = 'unlimited' | 'calendar-year' | { value: number; unit: 'days' | 'months' | 'years' }

export interface CatalogueMetadata {
  title: Text
  description: Text
  category: Category
  institution: Text
  municipalities?: string[]
  legalBasis: LegalAct[]
  steps: Text[]
  documents: Text[]
  processingTime: { min: number; max: number; unit: 'minutes' | 'hours' | 'working-days' }
  fees: 'none' | Fee[]
  validity: Validity
  channel: Array<'online' | 'assisted'>
  contact?: { email?: string; phone?: string; address?: Text }
}

/** What the catalogue decided about one configured service. */
export interface CatalogueCheck {
  service: ServiceConfig
  /** Service id in text form, with version when configured. */
  id: string
  /** Set when the metadata is complete: the service is published. */
  metadata?: CatalogueMetadata
  /** Why the service is not published (empty when published, or when it has no `catalogue:` at all). */
  problems: string[]
}

// verbose: keeps each failing subschema, so a oneOf failure can be told in the schema's own words.
const ajv = addFormats(new Ajv({ allErrors: true, strict: false, verbose: true }))
const validateMetadata = ajv.compile(catalogueSchema)

export function serviceIdText (s: ServiceConfig): string {
  return s.version === undefined ? `${s.provider}/${s.code}` : `${s.provider}/${s.code}/${s.version}`
}

export function checkService (service: ServiceConfig): CatalogueCheck {
  const id = serviceIdText(service)
  if (service.catalogue === undefined) return { service, id, problems: [] }
  const problems = metadataProblems(service.catalogue)
  if (problems.length > 0) return { service, id, problems }
  return { service, id, metadata: service.catalogue as unknown as CatalogueMetadata, problems }
}

export function checkCatalogue (services: ServiceConfig[]): CatalogueCheck[] {
  return services.map(checkService)
}

/** Every reason the metadata is incomplete or malformed, as `catalogue.<path>: <what>` lines. */
export function metadataProblems (metadata: unknown): string[] {
  if (validateMetadata(metadata)) {
    const m = metadata as CatalogueMetadata
    return m.processingTime.min > m.processingTime.max ? [`catalogue.processingTime: min (${m.processingTime.min}) is greater than max (${m.processingTime.max})`] : []
  }
  return readableErrors(validateMetadata.errors ?? [])
}

function displayPath (instancePath: string): string {
  return 'catalogue' + instancePath.split('/').slice(1).map(s => /^\d+$/.test(s) ? `[${s}]` : `.${s}`).join('')
}

/**
 * A failed `oneOf` reports one line in the schema's words ("'none', or a list of amounts…")
 * instead of every branch's complaint.
 */
function readableErrors (errors: ErrorObject[]): string[] {
  const alternatives = errors.filter(e => e.keyword === 'oneOf')
  const lines: string[] = []
  for (const e of errors) {
    if (e.keyword !== 'oneOf' && alternatives.some(a => e.schemaPath.startsWith(a.schemaPath + '/') && e.instancePath.startsWith(a.instancePath))) continue
    const at = displayPath(e.instancePath)
    const p = e.params as Record<string, any>
    let what: string
    if (e.keyword === 'required') what = `${at === 'catalogue' ? 'catalogue' : at}: missing required field '${p.missingProperty}'`
    else if (e.keyword === 'additionalProperties') what = `${at}: unknown field '${p.additionalProperty}'`
    else if (e.keyword === 'enum') what = `${at}: must be one of ${p.allowedValues.join(', ')}`
    else if (e.keyword === 'oneOf') what = `${at}: must be ${(e.parentSchema as { description?: string } | undefined)?.description ?? 'one of the allowed forms'}`
    else what = `${at}: ${e.message ?? 'is invalid'}`
    if (!lines.includes(what)) lines.push(what)
  }
  return lines
}

// ---- labels for people ------------------------------------------------------------------------

export type Lang = 'sq' | 'en'

export const CATEGORY_LABELS: Record<Category, Text> = {
  'civil-status': { sq: 'Gjendja civile', en: 'Civil status' },
  'local-taxes': { sq: 'Taksat dhe tarifat vendore', en: 'Local taxes and fees' },
  property: { sq: 'Pronat dhe kadastra', en: 'Property and cadastre' },
  business: { sq: 'Biznesi', en: 'Business' },
  construction: { sq: 'Leje ndërtimi dhe territori', en: 'Building permits and land use' },
  'social-assistance': { sq: 'Ndihma dhe shërbime sociale', en: 'Social assistance' },
  health: { sq: 'Shëndetësia', en: 'Health' },
  education: { sq: 'Arsimi', en: 'Education' },
  transport: { sq: 'Transporti', en: 'Transport' },
  environment: { sq: 'Mjedisi', en: 'Environment' },
  'public-order': { sq: 'Rendi publik', en: 'Public order' },
  other: { sq: 'Të tjera', en: 'Other' },
}

const ACT_LABELS: Record<LegalAct['act'], Text> = {
  law: { sq: 'Ligji', en: 'Law' },
  dcm: { sq: 'VKM', en: 'Council of Ministers Decision' },
  instruction: { sq: 'Udhëzimi', en: 'Instruction' },
  order: { sq: 'Urdhri', en: 'Order' },
  'council-decision': { sq: 'Vendimi i Këshillit Bashkiak', en: 'Municipal Council Decision' },
}

const UNIT_LABELS: Record<string, { sq: [string, string]; en: [string, string] }> = {
  minutes: { sq: ['minutë', 'minuta'], en: ['minute', 'minutes'] },
  hours: { sq: ['orë', 'orë'], en: ['hour', 'hours'] },
  'working-days': { sq: ['ditë pune', 'ditë pune'], en: ['working day', 'working days'] },
  days: { sq: ['ditë', 'ditë'], en: ['day', 'days'] },
  months: { sq: ['muaj', 'muaj'], en: ['month', 'months'] },
  years: { sq: ['vit', 'vjet'], en: ['year', 'years'] },
}

function unit (n: number, u: string, lang: Lang): string {
  const forms = UNIT_LABELS[u][lang]
  return n === 1 ? forms[0] : forms[1]
}

/** "12 mars 2009" style dates without locale data (the node may run without full ICU). */
const MONTHS: Record<Lang, string[]> = {
  sq: ['janar', 'shkurt', 'mars', 'prill', 'maj', 'qershor', 'korrik', 'gusht', 'shtator', 'tetor', 'nëntor', 'dhjetor'],
  en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
}

export function formatDate (iso: string, lang: Lang): string {
  const [y, m, d] = iso.split('-').map(Number)
  return lang === 'sq' ? `${d} ${MONTHS.sq[m - 1]} ${y}` : `${d} ${MONTHS.en[m - 1]} ${y}`
}

export function actLabel (a: LegalAct, lang: Lang): string {
  const kind = ACT_LABELS[a.act][lang]
  const dated = lang === 'sq' ? `datë ${formatDate(a.date, lang)}` : `of ${formatDate(a.date, lang)}`
  const articles = a.articles === undefined ? '' : `, ${a.articles}`
  return `${kind} nr. ${a.number}, ${dated}, “${a.title[lang]}”${articles}`
}

export function processingTimeLabel (t: CatalogueMetadata['processingTime'], lang: Lang): string {
  if (t.min === t.max) return `${t.max} ${unit(t.max, t.unit, lang)}`
  if (t.min === 0) return lang === 'sq' ? `deri në ${t.max} ${unit(t.max, t.unit, lang)}` : `up to ${t.max} ${unit(t.max, t.unit, lang)}`
  return `${t.min}–${t.max} ${unit(t.max, t.unit, lang)}`
}

/** Amounts as people write them: "1 500 lekë" / "1,500.50 lek". */
export function formatLek (amount: number, lang: Lang): string {
  const [whole, cents] = amount.toFixed(2).split('.')
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, lang === 'sq' ? '\u00a0' : ',')
  const number = cents === '00' ? grouped : `${grouped}${lang === 'sq' ? ',' : '.'}${cents}`
  return `${number} ${lang === 'sq' ? 'lekë' : 'lek'}`
}

export function feesLabel (fees: CatalogueMetadata['fees'], lang: Lang): string[] {
  if (fees === 'none') return [lang === 'sq' ? 'Pa pagesë' : 'Free of charge']
  return fees.map(f => `${formatLek(f.amount, lang)} (ALL) — ${f.for[lang]}`)
}

export function validityLabel (v: Validity, lang: Lang): string {
  if (v === 'unlimited') return lang === 'sq' ? 'Pa afat' : 'No expiry'
  if (v === 'calendar-year') return lang === 'sq' ? 'Deri më 31 dhjetor të vitit të lëshimit' : 'Until 31 December of the year of issue'
  return `${v.value} ${unit(v.value, v.unit, lang)}`
}

export const CHANNEL_LABELS: Record<'online' | 'assisted', Text> = {
  online: { sq: 'Online nga qytetari (e-Albania)', en: 'Online by the citizen (e-Albania)' },
  assisted: { sq: 'Me ndihmën e një nëpunësi', en: 'Assisted by an official' },
}
