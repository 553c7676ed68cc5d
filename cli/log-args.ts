/** The arguments of `ura log archive`, checked as the command line is parsed (usage errors, exit 2). */
import { InvalidArgumentError } from 'commander'

const DAY_MS = 24 * 60 * 60 * 1000

/**
 * `--before`: an ISO 8601 date or time (`2026-01-31`, `2026-01-31T12:00:00Z`) or a whole number of
 * days before now (`90d`); a cut in the future is refused (it would archive what is still being written).
 */
export function cutInstant (value: string, now = Date.now()): Date {
  const days = /^(\d{1,6})d$/.exec(value)
  const at = days !== null ? new Date(now - Number(days[1]) * DAY_MS) : new Date(value)
  if (days === null && (!/^\d{4}-\d{2}-\d{2}(T|$)/.test(value) || Number.isNaN(at.getTime()))) {
    throw new InvalidArgumentError('It must be an ISO 8601 date or time (2026-01-31, 2026-01-31T12:00:00Z) or a number of days before now (90d).')
  }
  if (at.getTime() > now) throw new InvalidArgumentError(`It is in the future (${at.toISOString()}): only records older than now can be archived.`)
  return at
}
