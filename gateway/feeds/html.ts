/**
 * The feeds for people: a page per municipality listing its entries (with links to its Atom and
 * JSON feeds, also announced in the head for feed readers) and an index of the municipalities. Same
 * rules as the catalogue pages, whose style sheet and Content-Security-Policy they share: server
 * rendered, Albanian by default with an English switch, no scripts, no external assets, every value
 * escaped.
 */
import type { Lang } from '../../config/catalogue-labels.ts'
import type { Bashki } from '../../schemas/bashki.ts'
import { esc, publicPage } from '../catalogue/html.ts'
import { kindLabel, TYPE_LABELS, type FeedEntry, type LangText } from './entries.ts'
import { feedPath, rfc3339, type FeedPage } from './page.ts'

const L = {
  sq: {
    site: 'Transparenca', skip: 'Kalo te përmbajtja', languages: 'Gjuha',
    indexTitle: 'Transparenca e bashkive',
    indexLead: 'Vendimet, konsultimet publike dhe njoftimet e bashkive, siç publikohen nëpërmjet kësaj nyjeje ura. Çdo bashki ka një faqe dhe dy burime (feeds) për lexuesit e lajmeve dhe programet.',
    feeds: 'Burimet', none: 'Ende asnjë publikim.', document: 'Dokumenti', report: 'Raporti i konsultimit',
    older: 'Publikimet më të vjetra →', newest: '← Publikimet më të reja', published: 'Publikuar më',
    notFound: 'Bashkia nuk u gjet', notFoundText: 'Nuk ka burim transparence për këtë bashki në këtë nyje.',
    back: '← Të gjitha bashkitë', catalogue: 'Katalogu i shërbimeve', count: (n: number) => n === 1 ? '1 publikim në këtë faqe' : `${n} publikime në këtë faqe`,
  },
  en: {
    site: 'Transparency', skip: 'Skip to content', languages: 'Language',
    indexTitle: 'Municipal transparency',
    indexLead: 'Decisions, public consultations and notices of the municipalities, as published through this ura node. Each municipality has a page and two feeds, for feed readers and programs.',
    feeds: 'Feeds', none: 'Nothing published yet.', document: 'Document', report: 'Consultation report',
    older: 'Older publications →', newest: '← Newest publications', published: 'Published',
    notFound: 'Municipality not found', notFoundText: 'This node has no transparency feed for that municipality.',
    back: '← All municipalities', catalogue: 'Service catalogue', count: (n: number) => n === 1 ? '1 publication on this page' : `${n} publications on this page`,
  },
} as const

function withLang (path: string, lang: Lang): string {
  return lang === 'sq' ? path : `${path}${path.includes('?') ? '&' : '?'}lang=${lang}`
}

/** Text in a language other than the page's gets its own `lang` attribute. */
function langText (t: LangText, pageLang: Lang, tag = 'span'): string {
  return t.lang === pageLang ? esc(t.text) : `<${tag} lang="${t.lang}">${esc(t.text)}</${tag}>`
}

function shell (lang: Lang, title: string, switchTo: Record<Lang, string>, head: string, body: string): string {
  const t = L[lang]
  const footer = `<a href="${esc(withLang('/catalogue', lang))}">${t.catalogue}</a>`
  return publicPage({ lang, title, switchTo, head, brand: { href: withLang('/feeds', lang), text: t.site }, skip: t.skip, languages: t.languages, body, footer })
}

function entryHtml (e: FeedEntry, lang: Lang, i: number): string {
  const t = L[lang]
  const href = e.document?.url
  const title = href === undefined ? langText(e.title, lang) : `<a href="${esc(href)}">${langText(e.title, lang)}</a>`
  const files = [
    e.document === undefined ? '' : `<a href="${esc(e.document.url)}" type="${esc(e.document.mediaType)}">${t.document} <span class="tag">${esc(e.document.mediaType)}</span><span class="vh"> — ${esc(e.title.text)}</span></a>`,
    e.report === undefined ? '' : `<a href="${esc(e.report.url)}" type="${esc(e.report.mediaType)}">${t.report}<span class="vh"> — ${esc(e.title.text)}</span></a>`,
  ].filter(Boolean).join('')
  const summary = e.summary.text.split('\n').map(esc).join('<br>')
  return `<li id="${e.eventId}"><article aria-labelledby="entry-${i}">
<h2 id="entry-${i}">${title}</h2>
<p class="meta">${langText(e.author, lang)} · <span class="tag">${esc(TYPE_LABELS[e.type][lang])}</span> · <span class="tag">${esc(kindLabel(e.kind, lang))}</span> · ${t.published} <time datetime="${rfc3339(e.published)}">${rfc3339(e.published).slice(0, 10)}</time></p>
<p${e.summary.lang === lang ? '' : ` lang="${e.summary.lang}"`}>${summary}</p>
${files === '' ? '' : `<p class="links">${files}</p>`}
</article></li>`
}

export function municipalityPage (page: FeedPage): string {
  const { lang } = page
  const t = L[lang]
  const path = (format: 'atom' | 'json' | 'html', para?: number, l: Lang = lang): string => feedPath(page.bashkia, format, para, l)
  const head = `<link rel="alternate" type="application/atom+xml" title="${esc(page.title)} (Atom)" href="${esc(path('atom'))}">
<link rel="alternate" type="application/feed+json" title="${esc(page.title)} (JSON Feed)" href="${esc(path('json'))}">
`
  const pager = [
    page.para === undefined ? '' : `<a href="${esc(path('html'))}">${t.newest}</a>`,
    page.next === undefined ? '' : `<a rel="next" href="${esc(path('html', page.next))}">${t.older}</a>`,
  ].filter(Boolean).join(' ')
  const body = `<h1>${esc(page.title)}</h1>
<p class="lead">${esc(page.subtitle)}</p>
<p class="links">${t.feeds}: <a href="${esc(path('atom', page.para))}" type="application/atom+xml">Atom</a><a href="${esc(path('json', page.para))}" type="application/feed+json">JSON Feed</a></p>
<p class="count" role="status">${t.count(page.entries.length)}</p>
${page.entries.length === 0 ? `<p>${t.none}</p>` : `<ul class="entries">\n${page.entries.map((e, i) => entryHtml(e, lang, i)).join('\n')}\n</ul>`}
${pager === '' ? '' : `<nav class="links" aria-label="${t.feeds}">${pager}</nav>`}`
  return shell(lang, page.title, { sq: path('html', page.para, 'sq'), en: path('html', page.para, 'en') }, head, body)
}

export function indexPage (municipalities: Bashki[], lang: Lang): string {
  const t = L[lang]
  const items = municipalities.map(b => `<li><a href="${esc(feedPath(b, 'html', undefined, lang))}">${esc(b.emri)}</a> <span class="meta">(${esc(b.qarku)})</span> · <a href="${esc(feedPath(b, 'atom', undefined, lang))}" type="application/atom+xml">Atom<span class="vh"> — ${esc(b.emri)}</span></a> · <a href="${esc(feedPath(b, 'json', undefined, lang))}" type="application/feed+json">JSON<span class="vh"> — ${esc(b.emri)}</span></a></li>`).join('\n')
  const body = `<h1>${t.indexTitle}</h1>
<p class="lead">${t.indexLead}</p>
${municipalities.length === 0 ? `<p>${t.none}</p>` : `<ul>\n${items}\n</ul>`}`
  return shell(lang, t.indexTitle, { sq: '/feeds', en: '/feeds?lang=en' }, '', body)
}

export function notFoundPage (lang: Lang): string {
  const t = L[lang]
  return shell(lang, t.notFound, { sq: '/feeds', en: '/feeds?lang=en' }, '', `<h1>${t.notFound}</h1><p>${t.notFoundText}</p><p><a href="${esc(withLang('/feeds', lang))}">${t.back}</a></p>`)
}
