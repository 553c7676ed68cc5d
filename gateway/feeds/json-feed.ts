/**
 * A feed page as JSON Feed 1.1 (jsonfeed.org/version/1.1), from the same page model as the Atom
 * view: same ids, dates and links. Each item also carries the published event itself under the
 * `_transparenca` extension (JSON Feed's underscore convention), for programs that want the fields.
 */
import { TYPE_LABELS, kindLabel, type FeedEntry } from './entries.ts'
import { rfc3339, type FeedPage } from './page.ts'

/** The entry's files (not web pages): its document and a closed consultation's report. */
function attachments (e: FeedEntry): { attachments?: Array<{ url: string; mime_type: string }> } {
  const files = [e.document, e.report].filter(d => d !== undefined && d.mediaType !== 'text/html').map(d => ({ url: d!.url, mime_type: d!.mediaType }))
  return files.length === 0 ? {} : { attachments: files }
}

export function jsonFeed (page: FeedPage): string {
  const feed = {
    version: 'https://jsonfeed.org/version/1.1',
    title: page.title,
    description: page.subtitle,
    home_page_url: page.url('html', page.para),
    feed_url: page.url('json', page.para),
    ...(page.next === undefined ? {} : { next_url: page.url('json', page.next) }),
    language: page.lang,
    authors: [{ name: `Bashkia ${page.bashkia.emri}` }],
    items: page.entries.map(e => ({
      id: e.id,
      url: e.document?.url ?? `${page.url('html')}#${e.eventId}`,
      title: e.title.text,
      content_text: e.summary.text,
      summary: e.summary.text,
      date_published: rfc3339(e.published),
      date_modified: rfc3339(e.published),
      authors: [{ name: e.author.text }],
      tags: [TYPE_LABELS[e.type][page.lang], kindLabel(e.kind, page.lang)],
      language: e.title.lang,
      ...attachments(e),
      _transparenca: { about: 'https://ura.gov.al/schemas/transparency/v1', type: e.type, seq: e.seq, event: e.event },
    })),
  }
  return JSON.stringify(feed)
}
