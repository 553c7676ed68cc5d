/**
 * One page of a municipality's feed, read from its room: the newest events first, 50 to a page,
 * each further page reached with `?para=<seq>` (the events published before that one: RFC 5005
 * paging). The page knows its addresses, so the three views (Atom, JSON Feed, HTML) link the same
 * places.
 */
import type { DeliveryQueue } from '../../delivery/queue.ts'
import type { Lang } from '../../config/catalogue-labels.ts'
import type { Bashki } from '../../schemas/bashki.ts'
import { TRANSPARENCY_EVENT_TYPES } from '../../schemas/transparency.ts'
import { feedEntry, type FeedEntry } from './entries.ts'
import { feedId, feedSlug } from './municipality.ts'

export const PAGE_SIZE = 50

export type FeedFormat = 'atom' | 'json' | 'html'

export interface FeedPage {
  bashkia: Bashki
  lang: Lang
  /** The feed's id, the same on every page and in both formats. */
  id: string
  title: string
  subtitle: string
  /** The newest entry's publication, or the Unix epoch for an empty page. */
  updated: Date
  entries: FeedEntry[]
  /** `?para=` of this page; undefined for the first (newest) page. */
  para?: number
  /** `?para=` of the next (older) page; undefined on the last page. */
  next?: number
  /** Absolute address of a view of this feed (`para` undefined: the first page). */
  url: (format: FeedFormat, para?: number, lang?: Lang) => string
}

export interface PageRequest {
  events: Pick<DeliveryQueue, 'events'>
  room: string
  bashkia: Bashki
  lang: Lang
  para?: number
  /** `https://ura.example.al`: where the node is reached, without a trailing slash. */
  origin: string
}

const EPOCH = new Date(0)

export function feedPath (bashkia: Bashki, format: FeedFormat, para?: number, lang: Lang = 'sq'): string {
  const params = new URLSearchParams()
  if (lang !== 'sq') params.set('lang', lang)
  if (para !== undefined) params.set('para', String(para))
  const qs = params.toString()
  const path = `/feeds/${feedSlug(bashkia)}${format === 'html' ? '' : `.${format}`}`
  return qs === '' ? path : `${path}?${qs}`
}

export async function readFeedPage (req: PageRequest): Promise<FeedPage> {
  const { bashkia, lang, para } = req
  // One more than a page tells whether an older page exists.
  const events = await req.events.events(req.room, { types: [...TRANSPARENCY_EVENT_TYPES], limit: PAGE_SIZE + 1, ...(para === undefined ? {} : { beforeSeq: para }) })
  const shown = events.slice(0, PAGE_SIZE)
  const entries = shown.map(ev => feedEntry(ev, bashkia.emri, lang)).filter((e): e is FeedEntry => e !== undefined)
  const en = lang === 'en'
  return {
    bashkia,
    lang,
    id: feedId(bashkia),
    title: en ? `Transparency — Municipality of ${bashkia.emri}` : `Transparenca — Bashkia ${bashkia.emri}`,
    subtitle: en ? `Decisions, public consultations and notices of the Municipality of ${bashkia.emri}` : `Vendime, konsultime publike dhe njoftime — Bashkia ${bashkia.emri}`,
    updated: entries.reduce<Date>((newest, e) => e.published > newest ? e.published : newest, EPOCH),
    entries,
    ...(para === undefined ? {} : { para }),
    ...(events.length > PAGE_SIZE ? { next: shown[shown.length - 1].seq } : {}),
    url: (format, p, l = lang) => `${req.origin}${feedPath(bashkia, format, p, l)}`,
  }
}

/** RFC 3339 without milliseconds: `2026-03-14T08:30:00Z`. */
export function rfc3339 (d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}
