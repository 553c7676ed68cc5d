/**
 * How the embedded store keeps a record's hashes, identifiers, time and names: as bytes, not as their text. A
 * SHA-512 digest is 64 bytes and 88 characters of base64; a UUID is 16 bytes and 36 characters. A
 * record holds four digests and up to three UUIDs (message id, request id, batch signature id), and
 * two of them are indexed, so storing the bytes takes ≈ a quarter off every record (docs/message-log.md,
 * "How the embedded store keeps hashes and identifiers"). Nothing above the store sees it: rows are decoded as they are read, so records, their
 * hashes and evidence are the same texts as before.
 *
 * Only a value whose text comes back exactly from its bytes is stored as bytes: canonical base64 of
 * 64 bytes, a lowercase UUID in its usual form. Anything else (an uppercase UUID, a message id of the
 * client's own making, a tampered digest) stays text, so every value reads back as it was written.
 * SQLite keeps a value's own type in any column; the type tells the two apart, and a log written
 * before, as text, reads as it always did.
 *
 * The same holds for the record's time (6 bytes of milliseconds since 1970, big-endian, so bytes
 * sort as times do; 24 characters as text) and its client, service and signer, which are keys into
 * the file's dictionary of names (sqlite-names.ts).
 */
import { keyNumber, type NameKeys, type NameLookup } from './sqlite-names.ts'

/** Each ASCII character's value as a lowercase hex digit, or -1. */
const HEX_DIGIT = new Int8Array(128).fill(-1)
for (let c = 0; c < 10; c++) HEX_DIGIT[0x30 + c] = c
for (let c = 0; c < 6; c++) HEX_DIGIT[0x61 + c] = 10 + c
const DASH = 0x2d

/**
 * A UUID's 16 bytes, or the text itself when it is not a lowercase UUID in its usual form
 * (8-4-4-4-12 lowercase hex digits), decoded in one pass: a record carries up to three, so this
 * runs on the log writer's thread for each (a pattern test and a hex decode took three times as long).
 */
export function packId (id: unknown): unknown {
  if (typeof id !== 'string' || id.length !== 36 || id.charCodeAt(8) !== DASH || id.charCodeAt(13) !== DASH || id.charCodeAt(18) !== DASH || id.charCodeAt(23) !== DASH) return id
  const bytes = Buffer.allocUnsafe(16)
  for (let i = 0, j = 0; j < 16; i += 2, j++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) i++
    const hi = id.charCodeAt(i)
    const lo = id.charCodeAt(i + 1)
    const h = hi < 128 ? HEX_DIGIT[hi] : -1
    const l = lo < 128 ? HEX_DIGIT[lo] : -1
    if ((h | l) < 0) return id
    bytes[j] = (h << 4) | l
  }
  return bytes
}

/**
 * A digest's 64 bytes, or the text itself when it is not the canonical base64 of 64 bytes — the one
 * text those bytes encode to. Decoding alone would not tell: the decoder skips characters outside
 * the alphabet, takes the URL-safe one too and ignores the last character's spare bits, so the
 * bytes are encoded again and must give back the very text (cheaper than testing a pattern first).
 */
export function packDigest (digest: unknown): unknown {
  if (typeof digest !== 'string' || digest.length !== 88) return digest
  const bytes = Buffer.from(digest, 'base64')
  return bytes.length === 64 && bytes.toString('base64') === digest ? bytes : digest
}

/** The text of an identifier as stored: 16 bytes are a UUID. */
export function unpackId (value: unknown): unknown {
  if (!(value instanceof Uint8Array) || value.length !== 16) return value
  const hex = Buffer.from(value.buffer, value.byteOffset, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** The text of a digest or a signature value as stored: bytes are its base64. */
export function unpackDigest (value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') : value
}

/** A time's 6 bytes (milliseconds since 1970), or the text itself when it is not an ISO time in milliseconds, UTC, that comes back exactly. */
export function packTime (time: unknown): unknown {
  if (typeof time !== 'string' || time.length !== 24) return time
  // A group's records share their second: its text up to the fraction is checked once.
  const f1 = time.charCodeAt(20) - 48
  const f2 = time.charCodeAt(21) - 48
  const f3 = time.charCodeAt(22) - 48
  if (f1 >= 0 && f1 <= 9 && f2 >= 0 && f2 <= 9 && f3 >= 0 && f3 <= 9 && time.charCodeAt(23) === 90 && time.startsWith(packedPrefix)) {
    return timeBytes(packedSecond + f1 * 100 + f2 * 10 + f3)
  }
  const ms = Date.parse(time)
  if (!(ms >= 0) || new Date(ms).toISOString() !== time) return time
  packedSecond = ms - ms % 1000
  packedPrefix = time.slice(0, 20)
  return timeBytes(ms)
}

/** The last second a time was packed in: its milliseconds and its text up to the fraction ("2026-12-03T16:29:30."). */
let packedSecond = 0
let packedPrefix = '\u0000'

/** The 6 bytes a time of `ms` since 1970 is stored as (what a range over stored times compares with). */
export function timeBytes (ms: number): Buffer {
  const bytes = Buffer.allocUnsafe(6)
  bytes.writeUIntBE(ms, 0, 6)
  return bytes
}

/** The text of a time as stored: 6 bytes are milliseconds since 1970. */
export function unpackTime (value: unknown): unknown {
  if (!(value instanceof Uint8Array) || value.length !== 6) return value
  return new Date(Buffer.from(value.buffer, value.byteOffset, 6).readUIntBE(0, 6)).toISOString()
}

/** A name as stored: bytes are a key into the dictionary (a key it lacks reads as `#` and the key in hex, which no record's hash matches). */
export function unpackName (value: unknown, names: NameLookup): unknown {
  if (!(value instanceof Uint8Array)) return value
  return names.name(keyNumber(value)) ?? `#${Buffer.from(value).toString('hex')}`
}

/** Both forms an identifier may be stored in (bytes as written now, text as earlier versions wrote it): what a lookup matches. */
export function idForms (id: string): [unknown, unknown] {
  return [packId(id), id]
}

/** Which columns hold identifiers and which digests, by name. */
export const ID_COLUMNS: ReadonlySet<string> = new Set(['message_id', 'request_id', 'signature_id'])
export const DIGEST_COLUMNS: ReadonlySet<string> = new Set(['request_hash', 'headers_digest', 'body_digest', 'hash'])
export const NAME_COLUMNS: ReadonlySet<string> = new Set(['client', 'service', 'signer'])
export const TIME_COLUMNS: ReadonlySet<string> = new Set(['time'])

/** What a column holds, as rowPacker and hexSelect read it. */
const PLAIN = 0
const ID = 1
const DIGEST = 2
const NAME = 3
const TIME = 4
const kindOf = (c: string): number => ID_COLUMNS.has(c) ? ID : DIGEST_COLUMNS.has(c) ? DIGEST : NAME_COLUMNS.has(c) ? NAME : TIME_COLUMNS.has(c) ? TIME : PLAIN
const PACKED = (n: string): boolean => kindOf(n) !== PLAIN

/** A packer of rows whose columns are `columns` (in order): packs a row's values in place, names through `keys`, and returns it. */
export function rowPacker (columns: readonly string[], keys: NameKeys): (row: unknown[]) => unknown[] {
  // Each column's kind found once, not by name for every row the writer stores.
  const kinds = columns.map(kindOf)
  return row => {
    for (let i = 0; i < kinds.length; i++) {
      switch (kinds[i]) {
        case ID: row[i] = packId(row[i]); break
        case DIGEST: row[i] = packDigest(row[i]); break
        case NAME: row[i] = keys.keyOf(row[i]); break
        case TIME: row[i] = packTime(row[i]); break
      }
    }
    return row
  }
}

/**
 * A select list of `names` in which a packed value comes as text: U+0001 and its bytes in hex
 * (SQLite's `hex()`), so a long read (a verification's scan) makes no buffer per value — each costs
 * an allocation and a share of the garbage collector's time, ≈ 6 µs a row for seven of them. A
 * stored text never starts with U+0001: identifiers come from HTTP headers and XML, which cannot
 * carry it, and digests are base64.
 */
export function hexSelect (names: readonly string[]): string {
  return names.map(n => PACKED(n) ? `CASE WHEN typeof(${n}) = 'blob' THEN char(1) || hex(${n}) ELSE ${n} END` : n).join(', ')
}

const MARK = 1

/** An identifier read through hexSelect: 32 hex digits are a UUID (lowercase, as written). */
function hexId (value: unknown): unknown {
  if (typeof value !== 'string' || value.charCodeAt(0) !== MARK || value.length !== 33) return value
  const hex = value.toLowerCase()
  return `${hex.slice(1, 9)}-${hex.slice(9, 13)}-${hex.slice(13, 17)}-${hex.slice(17, 21)}-${hex.slice(21)}`
}

/** Where a digest's hex is decoded (64 bytes; a longer, tampered value gets a buffer of its own). */
const scratch = Buffer.alloc(64)

/** A digest read through hexSelect: its bytes in base64. */
function hexDigest (value: unknown): unknown {
  if (typeof value !== 'string' || value.charCodeAt(0) !== MARK) return value
  if (value.length > 129) return Buffer.from(value.slice(1), 'hex').toString('base64')
  const n = scratch.write(value.slice(1), 'hex')
  return scratch.toString('base64', 0, n)
}

/** The ISO text of the last second a time was read in, up to its fraction ("2026-12-03T16:29:30."). */
let lastSecond = -1
let lastPrefix = ''

/** A time read through hexSelect: 12 hex digits of milliseconds. The records of a scan lie close in time, so a second's text is made once. */
function hexTime (value: unknown): unknown {
  if (typeof value !== 'string' || value.charCodeAt(0) !== MARK || value.length !== 13) return value
  const ms = parseInt(value.slice(1), 16)
  const second = Math.floor(ms / 1000)
  if (second !== lastSecond) {
    const text = new Date(ms).toISOString()
    if (text.length !== 24) return text
    lastSecond = second
    lastPrefix = text.slice(0, 20)
  }
  const fraction = ms - second * 1000
  return lastPrefix + (fraction < 10 ? '00' : fraction < 100 ? '0' : '') + fraction + 'Z'
}

/** A name read through hexSelect: its key's number in hex, looked up in the dictionary. */
function hexName (value: unknown, names: NameLookup): unknown {
  if (typeof value !== 'string' || value.charCodeAt(0) !== MARK) return value
  return names.name(parseInt(value.slice(1), 16)) ?? `#${value.slice(1).toLowerCase()}`
}

/** Turns array rows of `columns`, read through hexSelect, back into their texts, in place; names through `names`. */
export function hexUnpacker (columns: readonly string[], names: NameLookup): (row: unknown[]) => unknown[] {
  const ids: number[] = []
  const digests: number[] = []
  const named: number[] = []
  const times: number[] = []
  columns.forEach((n, i) => {
    if (ID_COLUMNS.has(n)) ids.push(i)
    else if (DIGEST_COLUMNS.has(n)) digests.push(i)
    else if (NAME_COLUMNS.has(n)) named.push(i)
    else if (TIME_COLUMNS.has(n)) times.push(i)
  })
  return row => {
    for (const i of ids) row[i] = hexId(row[i])
    for (const i of digests) row[i] = hexDigest(row[i])
    for (const i of named) row[i] = hexName(row[i], names)
    for (const i of times) row[i] = hexTime(row[i])
    return row
  }
}

/** Unpacks, in place, a row read as an object of its column names (`time` and `response_time` are times); names through `names`. */
export function unpackNamed<T extends Record<string, unknown>> (row: T, names: NameLookup): T {
  const r = row as Record<string, unknown>
  for (const name in r) {
    if (ID_COLUMNS.has(name)) r[name] = unpackId(r[name])
    else if (DIGEST_COLUMNS.has(name)) r[name] = unpackDigest(r[name])
    else if (NAME_COLUMNS.has(name)) r[name] = unpackName(r[name], names)
    else if (TIME_COLUMNS.has(name) || name === 'response_time') r[name] = unpackTime(r[name])
  }
  return row
}
