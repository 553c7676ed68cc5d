/**
 * Albanian working days, for the deadlines the law counts in them (Law 146/2014: comments on a public
 * consultation for at least 20 working days, at most 40). A working day is Monday to Friday and not a
 * fixed-date public holiday (Law 7651/1992 "Për festat zyrtare dhe ditët përkujtimore", as amended).
 *
 * Not counted as holidays, so every count here is lenient by those days (it may call a period long
 * enough that is a day or two short, never the reverse):
 * - the movable feasts — Catholic and Orthodox Easter (always a Sunday, so no working day is lost
 *   unless a Monday is also given off), Bajram i Madh and Bajram i Vogël (set each year by the Muslim
 *   Community of Albania; no table is kept here because the dates are announced, not computed);
 * - the Monday given off when a holiday falls on a weekend, and days off decreed ad hoc by the
 *   Council of Ministers.
 * Dates are calendar dates (`YYYY-MM-DD`) without a time zone: the law counts days, not hours.
 */
import { isFullDate } from './full-date.ts'

/** Fixed-date public holidays: [month, day, name]. */
export const FIXED_HOLIDAYS: ReadonlyArray<readonly [number, number, string]> = Object.freeze([
  [1, 1, 'Viti i Ri'],
  [1, 2, 'Viti i Ri (dita e dytë)'],
  [3, 14, 'Dita e Verës'],
  [3, 22, 'Dita e Sulltan Nevruzit'],
  [5, 1, 'Dita Ndërkombëtare e Punëtorëve'],
  [10, 19, 'Dita e Lumturimit të Shenjtë Nënë Terezës'],
  [11, 28, 'Dita e Pavarësisë'],
  [11, 29, 'Dita e Çlirimit'],
  [12, 8, 'Dita Kombëtare e Rinisë'],
  [12, 25, 'Krishtlindjet'],
] as const)

const HOLIDAY_KEYS = new Set(FIXED_HOLIDAYS.map(([m, d]) => m * 100 + d))

const DAY_MS = 86_400_000

/** Days since 1970-01-01 of a full date; NaN when it is not one. */
function dayNumber (date: string): number {
  if (!isFullDate(date)) return NaN
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / DAY_MS
}

function isWorkingDayNumber (n: number): boolean {
  const d = new Date(n * DAY_MS)
  const weekday = d.getUTCDay()
  if (weekday === 0 || weekday === 6) return false
  return !HOLIDAY_KEYS.has((d.getUTCMonth() + 1) * 100 + d.getUTCDate())
}

/** Whether a `YYYY-MM-DD` date is a working day; throws a RangeError for anything else. */
export function isWorkingDay (date: string): boolean {
  const n = dayNumber(date)
  if (Number.isNaN(n)) throw new RangeError(`not a calendar date: ${JSON.stringify(date)}`)
  return isWorkingDayNumber(n)
}

/**
 * The working days after `from` up to and including `to` — how a period "of N working days from"
 * a date is counted: the first day does not count, the last does. 0 when `to` is not after `from`.
 * Counting stops once it passes `cap` (a far-off date costs nothing): the answer is then `cap + 1`.
 */
export function workingDaysAfter (from: string, to: string, cap = Number.MAX_SAFE_INTEGER): number {
  const start = dayNumber(from)
  const end = dayNumber(to)
  if (Number.isNaN(start) || Number.isNaN(end)) throw new RangeError(`not calendar dates: ${JSON.stringify(from)}, ${JSON.stringify(to)}`)
  let count = 0
  for (let n = start + 1; n <= end; n++) {
    if (isWorkingDayNumber(n) && ++count > cap) return count
  }
  return count
}
