/**
 * Room events as feed entries: the one model the Atom, JSON Feed and HTML views are written from.
 * An event shows only if it is a transparency event of this municipality whose JSON holds what an
 * entry needs; anything else in the room (a malformed or foreign event) is left out rather than
 * break the feed. Texts are taken in the asked language where the event gives it, in Albanian
 * otherwise, and each keeps the language it is really in.
 */
import { uuidV5 } from './municipality.ts'
import type { RoomEvent } from '../../delivery/queue.ts'
import type { Lang } from '../../config/catalogue-labels.ts'
import { isTransparencyEventType, type Dokument, type Teksti, type TransparencyEvent, type TransparencyEventType } from '../../schemas/transparency.ts'

export interface LangText { text: string; lang: Lang }

export interface FeedEntry {
  /** `urn:uuid:<event id>` */
  id: string
  eventId: string
  seq: number
  type: TransparencyEventType
  published: Date
  title: LangText
  /** The body that acted: the entry's author. */
  author: LangText
  /** A line of dates or numbers, then the event's summary when it has one. */
  summary: LangText
  kind: string
  document?: Dokument
  /** A closed consultation's report. */
  report?: Dokument
  event: TransparencyEvent
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export const TYPE_LABELS: Record<TransparencyEventType, Record<Lang, string>> = {
  vendim: { sq: 'Vendim', en: 'Decision' },
  konsultim: { sq: 'Konsultim publik', en: 'Public consultation' },
  njoftim: { sq: 'Njoftim', en: 'Notice' },
}

export const KIND_LABELS: Record<string, Record<Lang, string>> = {
  vendim: { sq: 'Vendim', en: 'Decision' },
  rregullore: { sq: 'Rregullore', en: 'Regulation' },
  urdher: { sq: 'Urdhër', en: 'Order' },
  projektakt: { sq: 'Projektakt', en: 'Draft act' },
  'dokument-strategjik': { sq: 'Dokument strategjik', en: 'Strategic document' },
  politike: { sq: 'Politikë', en: 'Policy' },
  'mbledhje-keshilli': { sq: 'Mbledhje e këshillit', en: 'Council meeting' },
  'degjese-publike': { sq: 'Dëgjesë publike', en: 'Public hearing' },
  'njoftim-paraprak': { sq: 'Njoftim paraprak', en: 'Prior notice' },
  tjeter: { sq: 'Tjetër', en: 'Other' },
}

export function kindLabel (kind: string, lang: Lang): string {
  return KIND_LABELS[kind]?.[lang] ?? kind
}

function isTeksti (v: unknown): v is Teksti {
  return typeof v === 'object' && v !== null && typeof (v as Teksti).sq === 'string' && ((v as Teksti).en === undefined || typeof (v as Teksti).en === 'string')
}

function isDokument (v: unknown): v is Dokument {
  return typeof v === 'object' && v !== null && typeof (v as Dokument).url === 'string' && /^https:\/\//.test((v as Dokument).url) && typeof (v as Dokument).mediaType === 'string'
}

function pick (t: Teksti, lang: Lang): LangText {
  return lang === 'en' && t.en !== undefined ? { text: t.en, lang: 'en' } : { text: t.sq, lang: 'sq' }
}

/** The dates and numbers of an event as one line, in `lang`. */
function detailLine (type: TransparencyEventType, e: TransparencyEvent, lang: Lang): string {
  const en = lang === 'en'
  switch (type) {
    case 'vendim':
      return en ? `No. ${e.numri ?? '—'} of ${e.data}.` : `Nr. ${e.numri ?? '—'}, datë ${e.data}.`
    case 'konsultim':
      if (e.faza === 'mbyllur') return en ? `Consultation closed (comments were taken from ${e.fillon} to ${e.mbaron}).` : `Konsultimi u mbyll (komentet u pranuan nga ${e.fillon} deri më ${e.mbaron}).`
      return en ? `Comments from ${e.fillon} to ${e.mbaron}.` : `Komente nga ${e.fillon} deri më ${e.mbaron}.`
    case 'njoftim':
      return e.ngjarja === undefined ? (en ? `Notice of ${e.data}.` : `Njoftim i datës ${e.data}.`) : (en ? `On ${e.ngjarja}.` : `Më ${e.ngjarja}.`)
  }
}

/** The entry for a room event, or undefined when the event does not belong in this municipality's feed. */
export function feedEntry (ev: RoomEvent, bashkia: string, lang: Lang): FeedEntry | undefined {
  if (!isTransparencyEventType(ev.type)) return undefined
  let e: TransparencyEvent
  try {
    e = JSON.parse(ev.data.toString('utf8'))
  } catch {
    return undefined
  }
  if (typeof e !== 'object' || e === null || e.bashkia !== bashkia || !isTeksti(e.titull) || !isTeksti(e.organ) || typeof e.lloji !== 'string' || typeof e.data !== 'string') return undefined
  if (e.pershkrim !== undefined && !isTeksti(e.pershkrim)) return undefined
  if (e.dokument !== undefined && !isDokument(e.dokument)) return undefined
  const report = (e as { raport?: unknown }).raport
  // The summary is written wholly in the language of the event's own summary (or the asked one without it).
  const own = e.pershkrim === undefined ? undefined : pick(e.pershkrim, lang)
  const summaryLang = own?.lang ?? lang
  const line = detailLine(ev.type, e, summaryLang)
  // The event id is its X-Road-Id: a UUID is the entry's id as it is; any other id gets a version 5 UUID of its room and id.
  const uuid = UUID.test(ev.id) ? ev.id.toLowerCase() : uuidV5(`https://ura.gov.al/rooms/${ev.room}/events/${ev.id}`)
  return {
    id: `urn:uuid:${uuid}`,
    eventId: uuid,
    seq: ev.seq,
    type: ev.type,
    published: ev.publishedAt,
    title: pick(e.titull, lang),
    author: pick(e.organ, lang),
    summary: { text: own === undefined ? line : `${line}\n${own.text}`, lang: summaryLang },
    kind: e.lloji,
    ...(e.dokument === undefined ? {} : { document: e.dokument }),
    ...(isDokument(report) ? { report } : {}),
    event: e,
  }
}
