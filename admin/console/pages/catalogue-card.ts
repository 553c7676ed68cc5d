/**
 * A service's card as the public catalogue lists it (title, institution and category, description,
 * time, fees, validity, where it is offered), drawn with the console's own markup and style sheet so
 * an operator sees, before saving, what citizens will see. Metadata still being typed may be
 * incomplete: what is missing shows as a dash instead of failing.
 */
import { CATEGORY_LABELS, feesLabel, processingTimeLabel, validityLabel, type CatalogueMetadata, type Lang } from '../../../config/catalogue-labels.ts'
import { html, type Html } from '../html.ts'
import { words } from '../i18n.ts'

const W = words({
  sq: { time: 'Koha e nevojshme', fees: 'Kostot', validity: 'Periudha e vlefshmërisë', offeredIn: 'Ofrohet në', national: 'Në të gjithë vendin', disabled: 'Shërbimi është përkohësisht i pezulluar', card: 'Karta në katalog' },
  en: { time: 'Time needed', fees: 'Fees', validity: 'Validity period', offeredIn: 'Offered in', national: 'Nationwide', disabled: 'The service is temporarily suspended', card: 'Catalogue card' },
})

const safe = <T>(f: () => T, fallback: T): T => { try { return f() } catch { return fallback } }

/** The card; `level` is its heading's level in the page it is shown in. */
export function catalogueCard (metadata: Partial<CatalogueMetadata>, lang: Lang, opts: { level?: 2 | 3; disabled?: boolean; id?: string } = {}): Html {
  const t = W[lang]
  const m = metadata
  const id = opts.id ?? 'card-title'
  const title = m.title?.[lang] ?? '—'
  const heading = opts.level === 3 ? html`<h3 id="${id}">${title}</h3>` : html`<h2 id="${id}">${title}</h2>`
  const category = m.category === undefined ? undefined : CATEGORY_LABELS[m.category]?.[lang]
  const time = m.processingTime === undefined ? '—' : safe(() => processingTimeLabel(m.processingTime!, lang), '—')
  const fees = m.fees === undefined ? ['—'] : safe(() => feesLabel(m.fees!, lang), ['—'])
  const validity = m.validity === undefined ? '—' : safe(() => validityLabel(m.validity!, lang), '—')
  return html`<article class="catalogue-card" aria-labelledby="${id}">${heading}
<p class="meta">${m.institution?.[lang] ?? '—'}${category === undefined ? '' : html` · <span class="tag">${category}</span>`}${opts.disabled === true ? html` · <strong>${t.disabled}</strong>` : ''}</p>
<p>${m.description?.[lang] ?? ''}</p>
<dl class="facts">
<div><dt>${t.time}</dt><dd>${time}</dd></div>
<div><dt>${t.fees}</dt><dd>${fees.map((f, i) => html`${i === 0 ? '' : html`<br>`}${f}`)}</dd></div>
<div><dt>${t.validity}</dt><dd>${validity}</dd></div>
<div><dt>${t.offeredIn}</dt><dd>${m.municipalities?.join(', ') ?? t.national}</dd></div>
</dl></article>`
}
