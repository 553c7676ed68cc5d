/**
 * Catalogue metadata in people's words: the metadata's shape (DESIGN §9, checked against
 * `schemas/catalogue/service-entry.json`) and the labels of its coded values — categories, legal
 * acts, processing time, fees, validity, channels — in Albanian and English. Pure functions, shared
 * by the public catalogue and the operator console's preview of a catalogue card.
 */

export type Lang = 'sq' | 'en'

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
