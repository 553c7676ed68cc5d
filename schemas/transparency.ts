/**
 * The municipal transparency events (decisions, public consultations, notices) published to each
 * municipality's `transparenca` room and read back by the public feeds. Their JSON Schemas live in
 * `transparency/v1/` (loaded into the schema library like every other); this module names them and
 * adds the rule a schema cannot state: a consultation's comment period of 20 to 40 working days
 * (Law 146/2014), counted by working-days.ts.
 *
 * A publisher validates an event against its schema first, then calls checkTransparencyEvent.
 */
import { isFullDate } from './full-date.ts'
import { workingDaysAfter } from './working-days.ts'

export const TRANSPARENCY_EVENT_TYPES = ['vendim', 'konsultim', 'njoftim'] as const

export type TransparencyEventType = typeof TRANSPARENCY_EVENT_TYPES[number]

export const TRANSPARENCY_SCHEMA_BASE = 'https://ura.gov.al/schemas/transparency/v1'

/** The `$id` of each event type's schema (the `common` schema holds shared definitions only). */
export const TRANSPARENCY_SCHEMA_IDS: Readonly<Record<TransparencyEventType, string>> = Object.freeze({
  vendim: `${TRANSPARENCY_SCHEMA_BASE}/vendim`,
  konsultim: `${TRANSPARENCY_SCHEMA_BASE}/konsultim`,
  njoftim: `${TRANSPARENCY_SCHEMA_BASE}/njoftim`,
})

/** Law 146/2014: comments for at least 20 working days, at most 40 when the period is extended. */
export const COMMENT_PERIOD = Object.freeze({ minWorkingDays: 20, maxWorkingDays: 40 })

export function isTransparencyEventType (type: string): type is TransparencyEventType {
  return (TRANSPARENCY_EVENT_TYPES as readonly string[]).includes(type)
}

/** A text with sq and maybe en, as the events carry titles, summaries and body names. */
export interface Teksti { sq: string; en?: string }

export interface Dokument { url: string; mediaType: string; sha256?: string }

/** What the feeds read of any transparency event (the schemas say the rest). */
export interface TransparencyEvent {
  personalData: false
  bashkia: string
  organ: Teksti
  lloji: string
  data: string
  titull: Teksti
  pershkrim?: Teksti
  dokument?: Dokument
  /** vendim */
  numri?: string
  mbledhja?: string
  /** konsultim */
  fillon?: string
  mbaron?: string
  faza?: 'hapur' | 'mbyllur'
  /** njoftim */
  ngjarja?: string
}

/**
 * The violations of a transparency event that its schema cannot see, one readable line each;
 * empty when there are none. Assumes the event already passed its schema (a field the schema
 * requires but that is missing or malformed is skipped here, not reported twice).
 */
export function checkTransparencyEvent (type: string, data: unknown): string[] {
  if (!isTransparencyEventType(type)) return [`${type}: not a transparency event type (one of ${TRANSPARENCY_EVENT_TYPES.join(', ')})`]
  if (type !== 'konsultim' || data === null || typeof data !== 'object') return []
  const { data: announced, fillon, mbaron } = data as Record<string, unknown>
  const out: string[] = []
  if (typeof announced === 'string' && typeof fillon === 'string' && isFullDate(announced) && isFullDate(fillon) && fillon < announced) {
    out.push(`fillon: the comment period starts on ${fillon}, before the consultation is announced (data ${announced})`)
  }
  if (typeof fillon === 'string' && typeof mbaron === 'string' && isFullDate(fillon) && isFullDate(mbaron)) {
    const { minWorkingDays: min, maxWorkingDays: max } = COMMENT_PERIOD
    const days = workingDaysAfter(fillon, mbaron, max)
    if (days < min) out.push(`mbaron: the comment period ${fillon} → ${mbaron} is ${days} working days; Law 146/2014 requires at least ${min}`)
    else if (days > max) out.push(`mbaron: the comment period ${fillon} → ${mbaron} is more than ${max} working days, the most Law 146/2014 allows`)
  }
  return out
}
