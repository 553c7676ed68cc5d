/**
 * The console's filter forms take times as a browser's `datetime-local` input gives them — a wall
 * clock without a zone — and read them as Tirana time (Europe/Tirane, the time every console page
 * shows), so an operator types the time printed on the page. This turns such a value into the UTC
 * instant the admin API's filters want.
 */

const ZONE = 'Europe/Tirane'
const LOCAL = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?$/

const parts = new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })

/** Milliseconds Tirana's clock is ahead of UTC at `instant`. */
function offsetAt (instant: number): number {
  const p = Object.fromEntries(parts.formatToParts(new Date(instant)).map(x => [x.type, x.value]))
  const wall = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second))
  return wall - Math.floor(instant / 1000) * 1000
}

/** `2025-03-01T14:30` (Tirana) → `2025-03-01T13:30:00.000Z`; undefined when the value is not such a time. */
export function tiranaToIso (local: string): string | undefined {
  const m = LOCAL.exec(local)
  if (m === null) return undefined
  const [, y, mo, d, h, mi, s] = m
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0))
  // Date.UTC rolls 2025-13-01 over into the next year: such a value is refused, not moved.
  if (Number.isNaN(wall) || new Date(wall).toISOString().slice(0, 16) !== local.slice(0, 16)) return undefined
  // The offset at the wall time read as UTC is right except within hours of a change; one more step settles it.
  let instant = wall - offsetAt(wall)
  instant = wall - offsetAt(instant)
  const back = new Date(instant)
  return Number.isNaN(back.getTime()) ? undefined : back.toISOString()
}

