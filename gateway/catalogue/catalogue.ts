/**
 * The published catalogue: every configured service whose metadata is complete, with what people
 * and programs need to find it (filters, text search) and nothing they must not see (no adapter
 * URLs, no internal addresses). Built from one registry snapshot, when it is first asked for: a new
 * registry version gets a new catalogue.
 */
import type { UraConfig } from '../../config/types.ts'
import { providerKey, serviceText } from '../../protocol/identifiers.ts'
import type { Registry, ServiceEntry } from '../../registry/registry.ts'
import { CATEGORY_LABELS, type CatalogueMetadata, type Category, type Lang, type Text } from '../../config/catalogue-labels.ts'
import { checkService } from './metadata.ts'

export interface CatalogueEntry {
  /** Service id in text form, with version when configured: the entry's key in URLs. */
  id: string
  service: ServiceEntry
  metadata: CatalogueMetadata
  type: 'rest' | 'soap'
  provider: { id: string; member: string; subsystem?: string }
  /** Lower-case, accent-free text of every field in both languages, for search. */
  searchText: string
}

export interface CatalogueFilter {
  institution?: string
  category?: string
  municipality?: string
  q?: string
}

/** Case- and accent-insensitive form: "Tiranë" and "tirane" match, "Çajupi" and "cajupi" too. */
export function fold (text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()
}

function texts (m: CatalogueMetadata): Text[] {
  return [
    m.title, m.description, m.institution, CATEGORY_LABELS[m.category],
    ...m.steps, ...m.documents, ...m.legalBasis.map(a => a.title),
    ...(m.fees === 'none' ? [] : m.fees.map(f => f.for)),
  ]
}

export class Catalogue {
  readonly entries: CatalogueEntry[]
  private readonly byId: Map<string, CatalogueEntry>

  private constructor (entries: CatalogueEntry[]) {
    this.entries = entries
    this.byId = new Map(entries.map(e => [e.id, e]))
  }

  static build (registry: Registry, config: UraConfig): Catalogue {
    const members = new Map(config.members.map(m => [`${config.node.instance}/${m.class}/${m.code}`, m]))
    const entries: CatalogueEntry[] = []
    for (const service of [...registry.services.values()].flat()) {
      const metadata = checkService(service.config).metadata
      if (metadata === undefined) continue
      const member = members.get(`${service.id.instance}/${service.id.memberClass}/${service.id.memberCode}`)
      const subsystem = member?.subsystems.find(s => s.code === service.id.subsystemCode)
      const provider = { id: providerKey(service.id), member: member?.name ?? service.id.memberCode, ...(subsystem?.name === undefined ? {} : { subsystem: subsystem.name }) }
      entries.push({
        id: serviceText(service.id),
        service,
        metadata,
        type: service.config.type,
        provider,
        searchText: fold([...texts(metadata).flatMap(t => [t.sq, t.en]), provider.member, provider.subsystem ?? '', serviceText(service.id), ...(metadata.municipalities ?? [])].join('\n')),
      })
    }
    entries.sort((a, b) => a.metadata.title.sq.localeCompare(b.metadata.title.sq, 'sq'))
    return new Catalogue(entries)
  }

  find (id: string): CatalogueEntry | undefined {
    return this.byId.get(id)
  }

  /**
   * All filters must hold. `municipality` keeps the services offered there: national ones (no
   * municipality list) and those that name it. `institution` matches the responsible institution,
   * the provider's name or its member code (NIPT). `q` needs every word somewhere in the entry.
   */
  filter (f: CatalogueFilter): CatalogueEntry[] {
    const words = f.q === undefined ? [] : fold(f.q).split(/\s+/).filter(Boolean)
    const institution = f.institution === undefined || f.institution.trim() === '' ? undefined : fold(f.institution.trim())
    const municipality = f.municipality === undefined || f.municipality.trim() === '' ? undefined : fold(f.municipality.trim())
    return this.entries.filter(e => {
      const m = e.metadata
      if (f.category !== undefined && f.category !== '' && m.category !== f.category) return false
      if (municipality !== undefined && m.municipalities !== undefined && !m.municipalities.some(x => fold(x) === municipality)) return false
      if (institution !== undefined) {
        const names = [m.institution.sq, m.institution.en, e.provider.member, e.service.id.memberCode].map(fold)
        if (!names.some(n => n.includes(institution))) return false
      }
      return words.every(w => e.searchText.includes(w))
    })
  }

  /** Filter values that occur, for the page's selection lists. */
  facets (): { categories: Category[]; institutions: Text[]; municipalities: string[] } {
    const categories = [...new Set(this.entries.map(e => e.metadata.category))]
    const institutions = [...new Map(this.entries.map(e => [e.metadata.institution.sq, e.metadata.institution])).values()]
    const municipalities = [...new Set(this.entries.flatMap(e => e.metadata.municipalities ?? []))].sort((a, b) => a.localeCompare(b, 'sq'))
    return { categories, institutions, municipalities }
  }
}

const built = new WeakMap<Registry, Catalogue>()

/** The catalogue of a registry snapshot, built on first use and kept while the snapshot lives. */
export function catalogueOf (registry: Registry): Catalogue {
  let catalogue = built.get(registry)
  if (catalogue === undefined) built.set(registry, catalogue = Catalogue.build(registry, registry.config))
  return catalogue
}

/** Links of an entry, relative to the node: never the provider's address. */
export function entryLinks (e: CatalogueEntry): { page: string; openapi?: string; wsdl?: string } {
  const path = e.id.split('/').map(encodeURIComponent).join('/')
  return {
    page: `/catalogue/services/${path}`,
    ...(e.type === 'rest' ? { openapi: `/catalogue/openapi/${path}` } : {}),
    ...(e.type === 'soap' && e.service.wsdl !== undefined ? { wsdl: `/catalogue/wsdl/${path}` } : {}),
  }
}

/** Texts as `{sq, en}`, or as plain strings in one language. */
function pick (t: Text, lang: Lang | undefined): Text | string {
  return lang === undefined ? { sq: t.sq, en: t.en } : t[lang]
}

/** The JSON form of an entry for programs (the portal, other catalogues). */
export function entryJson (e: CatalogueEntry, lang: Lang | undefined): Record<string, unknown> {
  const m = e.metadata
  return {
    id: e.id,
    type: e.type,
    provider: e.provider,
    status: e.service.config.disabled === undefined ? 'available' : 'disabled',
    ...(e.service.config.disabled === undefined ? {} : { notice: e.service.config.disabled.notice }),
    title: pick(m.title, lang),
    description: pick(m.description, lang),
    category: { code: m.category, label: pick(CATEGORY_LABELS[m.category], lang) },
    institution: pick(m.institution, lang),
    municipalities: m.municipalities ?? null,
    legalBasis: m.legalBasis.map(a => ({ act: a.act, number: a.number, date: a.date, title: pick(a.title, lang), ...(a.articles === undefined ? {} : { articles: a.articles }) })),
    steps: m.steps.map(s => pick(s, lang)),
    documents: m.documents.map(d => pick(d, lang)),
    processingTime: m.processingTime,
    fees: m.fees === 'none' ? 'none' : m.fees.map(f => ({ amount: f.amount, currency: f.currency, for: pick(f.for, lang) })),
    validity: m.validity,
    channel: m.channel,
    ...(m.contact === undefined ? {} : { contact: { ...m.contact, ...(m.contact.address === undefined ? {} : { address: pick(m.contact.address, lang) }) } }),
    links: entryLinks(e),
  }
}

/** The published REST services' OpenAPI documents, for the Swagger UI's selection list. */
export function publishedOpenApiUrls (catalogue: Catalogue): Array<{ url: string; name: string }> {
  return catalogue.entries
    .filter(e => e.type === 'rest')
    .map(e => ({ url: `/catalogue/openapi/${e.id.split('/').map(encodeURIComponent).join('/')}`, name: `${e.metadata.title.sq} (${e.id})` }))
}
