/**
 * The JSON Schema `date` format (RFC 3339 full-date: `YYYY-MM-DD`, a day that exists in that month,
 * 29 February only in leap years), read by character codes. It replaces the regular-expression
 * check of ajv-formats with the same meaning: dates are the most common format in the services'
 * schemas and it runs for every one of them, both ways, on every exchange.
 */
const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
const DASH = 0x2d

/** The value of the ASCII digit at `i`, or -1. */
function digit (s: string, i: number): number {
  const d = s.charCodeAt(i) - 0x30
  return d >= 0 && d <= 9 ? d : -1
}

export function isFullDate (s: string): boolean {
  if (s.length !== 10 || s.charCodeAt(4) !== DASH || s.charCodeAt(7) !== DASH) return false
  const y0 = digit(s, 0); const y1 = digit(s, 1); const y2 = digit(s, 2); const y3 = digit(s, 3)
  const m0 = digit(s, 5); const m1 = digit(s, 6); const d0 = digit(s, 8); const d1 = digit(s, 9)
  if ((y0 | y1 | y2 | y3 | m0 | m1 | d0 | d1) < 0) return false
  const year = y0 * 1000 + y1 * 100 + y2 * 10 + y3
  const month = m0 * 10 + m1
  const day = d0 * 10 + d1
  if (month < 1 || month > 12 || day < 1) return false
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  return day <= (month === 2 && leap ? 29 : DAYS[month])
}
