/**
 * The catalogue for people: small server-rendered pages, Albanian by default with an English
 * switch, no scripts and no external assets (the node may run on a closed network). Every value
 * is escaped; the only style sheet is inline and pinned by its hash in the page's CSP.
 */
import { createHash } from 'node:crypto'
import type { CatalogueEntry, CatalogueFilter } from './catalogue.ts'
import { entryLinks } from './catalogue.ts'
import {
  actLabel, CATEGORY_LABELS, CHANNEL_LABELS, feesLabel, processingTimeLabel, validityLabel,
  type Category, type Lang, type Text,
} from '../../config/catalogue-labels.ts'

export function esc (text: string): string {
  return text.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** The one style sheet of the public pages (the transparency feeds' pages use it too, under the same CSP). */
export const CSS = `
:root{--ink:#1b1f24;--muted:#4a5563;--line:#c9d1d9;--brand:#a4161a;--link:#0b4f9c;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:1rem/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--ink);background:#fff}
a{color:var(--link)}a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #f0b400;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:1}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
header{background:var(--brand);color:#fff}header a{color:#fff}
.wrap{max-width:62rem;margin:0 auto;padding:0 1rem}
.bar{display:flex;justify-content:space-between;align-items:center;gap:1rem;padding:.6rem 0}
.brand{font-weight:700;font-size:1.25rem;letter-spacing:.02em;text-decoration:none}
.langs a{margin-left:.75rem}.langs a[aria-current]{font-weight:700;text-decoration:none;border-bottom:2px solid #fff}
h1{font-size:1.7rem;line-height:1.25;margin:1.5rem 0 .5rem}h2{font-size:1.2rem;margin:0 0 .25rem}h3{font-size:1.05rem;margin:1.25rem 0 .35rem}
.lead{color:var(--muted);margin-top:0}
form.search{display:grid;grid-template-columns:repeat(auto-fit,minmax(12rem,1fr));gap:.75rem;align-items:end;background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:1rem;margin:1rem 0}
label{display:block;font-weight:600;font-size:.9rem;margin-bottom:.2rem}
input,select,button{font:inherit;width:100%;padding:.45rem .5rem;border:1px solid #8b96a3;border-radius:4px;background:#fff;color:var(--ink)}
button{background:var(--brand);color:#fff;border-color:var(--brand);font-weight:600;cursor:pointer}
.count{font-weight:600}
ul.entries{list-style:none;padding:0;margin:0}
ul.entries>li{border:1px solid var(--line);border-radius:6px;padding:1rem;margin:0 0 1rem}
.meta{color:var(--muted);margin:.1rem 0 .5rem;font-size:.95rem}
.tag{display:inline-block;background:var(--bg);border:1px solid var(--line);border-radius:999px;padding:0 .6rem;font-size:.85rem}
dl.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:.5rem 1rem;margin:.5rem 0}
dl.facts dt,dl.fields dt{font-weight:600;font-size:.9rem;color:var(--muted)}dl.facts dd,dl.fields dd{margin:0}
dl.fields{margin:0}dl.fields>div{padding:.75rem 0;border-top:1px solid var(--line)}
dl.fields ol,dl.fields ul{margin:.25rem 0;padding-left:1.4rem}
.links a{margin-right:1rem}
.notice{background:#fff4e5;border:1px solid #f0b400;border-radius:6px;padding:.5rem .75rem}
code{font-size:.9rem;background:var(--bg);padding:0 .25rem;border-radius:3px;word-break:break-all}
footer{border-top:1px solid var(--line);margin-top:2rem;padding:1rem 0;color:var(--muted);font-size:.9rem}
`

/** The page's Content-Security-Policy: nothing loads from anywhere but this inline style sheet. */
export const CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`

const L = {
  sq: {
    title: 'Katalogu i shërbimeve',
    heading: 'Katalogu i shërbimeve të integruara',
    lead: 'Shërbimet që institucionet publikojnë nëpërmjet kësaj nyjeje ura: çfarë jep secili, baza ligjore, hapat, dokumentet, koha, kostoja dhe afati.',
    skip: 'Kalo te përmbajtja',
    languages: 'Gjuha',
    search: 'Kërko', searchLabel: 'Fjalë kyçe', all: 'Të gjitha', allMunicipalities: 'Të gjitha bashkitë',
    category: 'Kategoria', institution: 'Institucioni përgjegjës', municipality: 'Bashkia',
    count: (n: number) => n === 1 ? '1 shërbim' : `${n} shërbime`,
    none: 'Asnjë shërbim nuk përputhet me kërkimin.',
    details: 'Shiko të gjitha të dhënat', time: 'Koha e nevojshme', fees: 'Kostot', channel: 'Mënyra e marrjes',
    description: 'Përshkrimi', offeredIn: 'Ofrohet në', national: 'Në të gjithë vendin', legalBasis: 'Baza ligjore',
    steps: 'Hapat e procedurës', documents: 'Dokumentacioni i nevojshëm', noDocuments: 'Nuk kërkohet asnjë dokument.',
    validity: 'Periudha e vlefshmërisë', contact: 'Kontakti', email: 'E-mail', phone: 'Telefon', address: 'Adresa',
    developers: 'Për zhvilluesit', serviceId: 'Identifikuesi X-Road', protocol: 'Protokolli',
    openapi: 'Përshkrimi OpenAPI (JSON)', wsdl: 'Përshkrimi WSDL', docs: 'Dokumentacioni i API-ve (Swagger UI)',
    back: '← Kthehu te katalogu', disabled: 'Shërbimi është përkohësisht i pezulluar', notFound: 'Shërbimi nuk u gjet',
    notFoundText: 'Ky shërbim nuk është publikuar në katalog.',
    footer: 'Katalogu në formë të lexueshme nga programet', clients: 'Institucionet në këtë nyje',
    provider: 'Ofruesi', feeds: 'Transparenca e bashkive (vendime, konsultime, njoftime)',
  },
  en: {
    title: 'Service catalogue',
    heading: 'Catalogue of integrated services',
    lead: 'The services institutions publish through this ura node: what each one provides, its legal basis, steps, documents, time, cost and validity.',
    skip: 'Skip to content',
    languages: 'Language',
    search: 'Search', searchLabel: 'Keywords', all: 'All', allMunicipalities: 'All municipalities',
    category: 'Category', institution: 'Responsible institution', municipality: 'Municipality',
    count: (n: number) => n === 1 ? '1 service' : `${n} services`,
    none: 'No service matches the search.',
    details: 'See every detail', time: 'Time needed', fees: 'Fees', channel: 'How to receive it',
    description: 'Description', offeredIn: 'Offered in', national: 'Nationwide', legalBasis: 'Legal basis',
    steps: 'Procedure steps', documents: 'Required documents', noDocuments: 'No documents are required.',
    validity: 'Validity period', contact: 'Contact', email: 'E-mail', phone: 'Phone', address: 'Address',
    developers: 'For developers', serviceId: 'X-Road identifier', protocol: 'Protocol',
    openapi: 'OpenAPI description (JSON)', wsdl: 'WSDL description', docs: 'API documentation (Swagger UI)',
    back: '← Back to the catalogue', disabled: 'The service is temporarily suspended', notFound: 'Service not found',
    notFoundText: 'This service is not published in the catalogue.',
    footer: 'The catalogue in machine-readable form', clients: 'Institutions on this node',
    provider: 'Provider', feeds: 'Municipal transparency (decisions, consultations, notices)',
  },
} as const

function withLang (path: string, lang: Lang, query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams()
  if (lang !== 'sq') params.set('lang', lang)
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, v)
  const qs = params.toString()
  return qs === '' ? path : `${path}?${qs}`
}

/** The public pages' frame (catalogue, feeds): head with the shared style, skip link, brand, language switch, main, footer. */
export interface PublicPage {
  lang: 'sq' | 'en'
  title: string
  switchTo: { sq: string; en: string }
  /** Extra `<head>` elements (feed links). */
  head?: string
  brand: { href: string; text: string }
  skip: string
  languages: string
  body: string
  footer: string
}

export function publicPage (p: PublicPage): string {
  const langLink = (l: 'sq' | 'en', name: string): string =>
    `<a href="${esc(p.switchTo[l])}" lang="${l}" hreflang="${l}"${l === p.lang ? ' aria-current="true"' : ''}>${name}</a>`
  return `<!doctype html>
<html lang="${p.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(p.title)} — ura</title>
${p.head ?? ''}<style>${CSS}</style>
</head>
<body>
<a class="skip" href="#main">${p.skip}</a>
<header><div class="wrap bar"><a class="brand" href="${esc(p.brand.href)}">ura · ${p.brand.text}</a>
<nav class="langs" aria-label="${p.languages}">${langLink('sq', 'Shqip')}${langLink('en', 'English')}</nav></div></header>
<main id="main" class="wrap">
${p.body}
</main>
<footer><div class="wrap">${p.footer}</div></footer>
</body>
</html>
`
}

function page (lang: Lang, title: string, switchTo: { sq: string; en: string }, body: string, feeds = false): string {
  const t = L[lang]
  const footer = `<a href="/docs">${t.docs}</a> · <a href="/catalogue?format=json">${t.footer}</a> · <a href="/listClients">${t.clients}</a>${feeds ? ` · <a href="${esc(withLang('/feeds', lang))}">${t.feeds}</a>` : ''}`
  return publicPage({ lang, title, switchTo, brand: { href: withLang('/catalogue', lang), text: esc(t.title) }, skip: t.skip, languages: t.languages, body, footer })
}

function options (values: Array<{ value: string; label: string }>, selected: string | undefined, allLabel: string): string {
  return `<option value="">${esc(allLabel)}</option>` + values.map(v =>
    `<option value="${esc(v.value)}"${v.value === selected ? ' selected' : ''}>${esc(v.label)}</option>`).join('')
}

export interface ListPageInput {
  lang: Lang
  /** The node serves the transparency feeds (`/feeds`): the footer links them. */
  feeds?: boolean
  filter: CatalogueFilter
  entries: CatalogueEntry[]
  facets: { categories: Category[]; institutions: Text[]; municipalities: string[] }
}

export function listPage ({ lang, filter, entries, facets, feeds = false }: ListPageInput): string {
  const t = L[lang]
  const form = `<form class="search" role="search" method="get" action="/catalogue">
${lang === 'sq' ? '' : `<input type="hidden" name="lang" value="${lang}">`}
<div><label for="q">${t.searchLabel}</label><input id="q" name="q" type="search" value="${esc(filter.q ?? '')}"></div>
<div><label for="category">${t.category}</label><select id="category" name="category">${options(facets.categories.map(c => ({ value: c, label: CATEGORY_LABELS[c][lang] })), filter.category, t.all)}</select></div>
<div><label for="institution">${t.institution}</label><select id="institution" name="institution">${options(facets.institutions.map(i => ({ value: i.sq, label: i[lang] })), filter.institution, t.all)}</select></div>
<div><label for="municipality">${t.municipality}</label><select id="municipality" name="municipality">${options(facets.municipalities.map(m => ({ value: m, label: m })), filter.municipality, t.allMunicipalities)}</select></div>
<div><button type="submit">${t.search}</button></div>
</form>`
  const items = entries.map((e, i) => {
    const m = e.metadata
    const links = entryLinks(e)
    return `<li><article aria-labelledby="entry-${i}">
<h2 id="entry-${i}"><a href="${esc(withLang(links.page, lang))}">${esc(m.title[lang])}</a></h2>
<p class="meta">${esc(m.institution[lang])} · <span class="tag">${esc(CATEGORY_LABELS[m.category][lang])}</span>${e.service.config.disabled === undefined ? '' : ` · <strong>${t.disabled}</strong>`}</p>
<p>${esc(m.description[lang])}</p>
<dl class="facts">
<div><dt>${t.time}</dt><dd>${esc(processingTimeLabel(m.processingTime, lang))}</dd></div>
<div><dt>${t.fees}</dt><dd>${feesLabel(m.fees, lang).map(esc).join('<br>')}</dd></div>
<div><dt>${t.validity}</dt><dd>${esc(validityLabel(m.validity, lang))}</dd></div>
<div><dt>${t.offeredIn}</dt><dd>${esc(m.municipalities?.join(', ') ?? t.national)}</dd></div>
</dl>
<p class="links"><a href="${esc(withLang(links.page, lang))}">${t.details}<span class="vh"> — ${esc(m.title[lang])}</span></a>${links.openapi === undefined ? '' : `<a href="${esc(links.openapi)}">OpenAPI</a>`}${links.wsdl === undefined ? '' : `<a href="${esc(links.wsdl)}">WSDL</a>`}</p>
</article></li>`
  }).join('\n')
  const query = { q: filter.q, category: filter.category, institution: filter.institution, municipality: filter.municipality }
  const body = `<h1>${t.heading}</h1>
<p class="lead">${t.lead}</p>
${form}
<p class="count" role="status">${t.count(entries.length)}</p>
${entries.length === 0 ? `<p>${t.none}</p>` : `<ul class="entries">\n${items}\n</ul>`}`
  return page(lang, t.title, { sq: withLang('/catalogue', 'sq', query), en: withLang('/catalogue', 'en', query) }, body, feeds)
}

export function entryPage (e: CatalogueEntry, lang: Lang): string {
  const t = L[lang]
  const m = e.metadata
  const links = entryLinks(e)
  const field = (label: string, html: string): string => `<div><dt>${label}</dt><dd>${html}</dd></div>`
  const list = (tag: 'ol' | 'ul', items: string[]): string => `<${tag}>${items.map(i => `<li>${esc(i)}</li>`).join('')}</${tag}>`
  const contact = m.contact === undefined ? '' : field(t.contact, [
    m.contact.email === undefined ? '' : `${t.email}: <a href="mailto:${esc(m.contact.email)}">${esc(m.contact.email)}</a>`,
    m.contact.phone === undefined ? '' : `${t.phone}: ${esc(m.contact.phone)}`,
    m.contact.address === undefined ? '' : `${t.address}: ${esc(m.contact.address[lang])}`,
  ].filter(Boolean).join('<br>'))
  const disabled = e.service.config.disabled
  const body = `<p><a href="${esc(withLang('/catalogue', lang))}">${t.back}</a></p>
<article aria-labelledby="entry-title">
<h1 id="entry-title">${esc(m.title[lang])}</h1>
<p class="meta">${esc(m.institution[lang])} · <span class="tag">${esc(CATEGORY_LABELS[m.category][lang])}</span></p>
${disabled === undefined ? '' : `<p class="notice" role="note"><strong>${t.disabled}:</strong> ${esc(disabled.notice)}</p>`}
<dl class="fields">
${field(t.description, esc(m.description[lang]))}
${field(t.category, esc(CATEGORY_LABELS[m.category][lang]))}
${field(t.institution, esc(m.institution[lang]))}
${field(t.provider, esc(e.provider.subsystem === undefined ? e.provider.member : `${e.provider.member} — ${e.provider.subsystem}`))}
${field(t.offeredIn, esc(m.municipalities?.join(', ') ?? t.national))}
${field(t.legalBasis, list('ul', m.legalBasis.map(a => actLabel(a, lang))))}
${field(t.steps, list('ol', m.steps.map(s => s[lang])))}
${field(t.documents, m.documents.length === 0 ? esc(t.noDocuments) : list('ul', m.documents.map(d => d[lang])))}
${field(t.time, esc(processingTimeLabel(m.processingTime, lang)))}
${field(t.fees, feesLabel(m.fees, lang).map(esc).join('<br>'))}
${field(t.validity, esc(validityLabel(m.validity, lang)))}
${field(t.channel, m.channel.map(c => esc(CHANNEL_LABELS[c][lang])).join('<br>'))}
${contact}
</dl>
<h2>${t.developers}</h2>
<dl class="fields">
${field(t.serviceId, `<code>${esc(e.id)}</code>`)}
${field(t.protocol, e.type === 'rest' ? 'X-Road REST (r1)' : 'X-Road SOAP 4.0')}
${links.openapi === undefined ? '' : field('OpenAPI', `<a href="${esc(links.openapi)}">${t.openapi}</a>`)}
${links.wsdl === undefined ? '' : field('WSDL', `<a href="${esc(links.wsdl)}">${t.wsdl}</a>`)}
${field('Swagger UI', `<a href="/docs">${t.docs}</a>`)}
</dl>
</article>`
  return page(lang, m.title[lang], { sq: withLang(links.page, 'sq'), en: withLang(links.page, 'en') }, body)
}

export function notFoundPage (lang: Lang): string {
  const t = L[lang]
  return page(lang, t.notFound, { sq: '/catalogue', en: '/catalogue?lang=en' }, `<h1>${t.notFound}</h1><p>${t.notFoundText}</p><p><a href="${esc(withLang('/catalogue', lang))}">${t.back}</a></p>`)
}
