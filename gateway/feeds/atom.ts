/**
 * A feed page as Atom (RFC 4287), written directly over the codebase's XML escaping: the feed needs
 * per-element `xml:lang`, enclosures with types, categories with schemes and RFC 5005 paging links,
 * which is less code written out than configured through a feed library. Text that XML 1.0 cannot
 * carry (control characters, lone surrogates) becomes U+FFFD, so any event text gives a well-formed
 * feed.
 */
import { xmlEscape } from '../../protocol/soap/xml.ts'
import { TRANSPARENCY_SCHEMA_BASE } from '../../schemas/transparency.ts'
import { kindLabel, TYPE_LABELS, type FeedEntry, type LangText } from './entries.ts'
import { rfc3339, type FeedPage } from './page.ts'

const NOT_XML = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu

export function xmlText (text: string): string {
  return xmlEscape(text.replace(NOT_XML, '\uFFFD'))
}

function link (rel: string, href: string, type?: string): string {
  return `<link rel="${rel}" href="${xmlText(href)}"${type === undefined ? '' : ` type="${xmlText(type)}"`}/>`
}

function text (tag: string, t: LangText, pageLang: string): string {
  return `<${tag}${t.lang === pageLang ? '' : ` xml:lang="${t.lang}"`}>${xmlText(t.text)}</${tag}>`
}

function entryXml (e: FeedEntry, page: FeedPage): string {
  const lines = [
    `<id>${e.id}</id>`,
    text('title', e.title, page.lang),
    `<updated>${rfc3339(e.published)}</updated>`,
    `<published>${rfc3339(e.published)}</published>`,
    `<author><name>${xmlText(e.author.text)}</name></author>`,
    e.document === undefined
      ? link('alternate', `${page.url('html')}#${e.eventId}`, 'text/html')
      : link('alternate', e.document.url, e.document.mediaType),
  ]
  if (e.document !== undefined && e.document.mediaType !== 'text/html') lines.push(link('enclosure', e.document.url, e.document.mediaType))
  if (e.report !== undefined) lines.push(link('related', e.report.url, e.report.mediaType))
  lines.push(
    `<category scheme="${TRANSPARENCY_SCHEMA_BASE}" term="${e.type}" label="${xmlText(TYPE_LABELS[e.type][page.lang])}"/>`,
    `<category scheme="${TRANSPARENCY_SCHEMA_BASE}/${e.type}#lloji" term="${xmlText(e.kind)}" label="${xmlText(kindLabel(e.kind, page.lang))}"/>`,
    text('summary', e.summary, page.lang),
  )
  return `<entry>\n  ${lines.join('\n  ')}\n</entry>`
}

export function atomFeed (page: FeedPage): string {
  const head = [
    `<id>${page.id}</id>`,
    `<title>${xmlText(page.title)}</title>`,
    `<subtitle>${xmlText(page.subtitle)}</subtitle>`,
    `<updated>${rfc3339(page.updated)}</updated>`,
    `<author><name>${xmlText(`Bashkia ${page.bashkia.emri}`)}</name></author>`,
    link('self', page.url('atom', page.para), 'application/atom+xml'),
    link('alternate', page.url('html', page.para), 'text/html'),
    link('alternate', page.url('json', page.para), 'application/feed+json'),
    link('first', page.url('atom'), 'application/atom+xml'),
  ]
  if (page.next !== undefined) head.push(link('next', page.url('atom', page.next), 'application/atom+xml'))
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${page.lang}">
${head.join('\n')}
${page.entries.map(e => entryXml(e, page)).join('\n')}
</feed>
`
}
