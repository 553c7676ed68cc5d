/**
 * How the embedded store keeps a record's hashes and identifiers: as bytes, not as their text. A
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
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** A UUID's 16 bytes, or the text itself when it is not a lowercase UUID. */
export function packId (id: unknown): unknown {
  if (typeof id !== 'string' || id.length !== 36 || !UUID.test(id)) return id
  return Buffer.from(id.slice(0, 8) + id.slice(9, 13) + id.slice(14, 18) + id.slice(19, 23) + id.slice(24), 'hex')
}

/** A digest's 64 bytes, or the text itself when it is not the canonical base64 of 64 bytes. */
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

/** The text of a digest as stored: bytes are its base64. */
export function unpackDigest (value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') : value
}

/** Both forms an identifier may be stored in (bytes as written now, text as earlier versions wrote it): what a lookup matches. */
export function idForms (id: string): [unknown, unknown] {
  return [packId(id), id]
}

/** Which columns hold identifiers and which digests, by name. */
export const ID_COLUMNS: ReadonlySet<string> = new Set(['message_id', 'request_id', 'signature_id'])
export const DIGEST_COLUMNS: ReadonlySet<string> = new Set(['request_hash', 'headers_digest', 'body_digest', 'hash'])

/** Packs, in place, the values of a row whose columns are `names` (in order); returns the row. */
export function packRow (row: unknown[], names: readonly string[]): unknown[] {
  for (let i = 0; i < names.length; i++) {
    if (ID_COLUMNS.has(names[i])) row[i] = packId(row[i])
    else if (DIGEST_COLUMNS.has(names[i])) row[i] = packDigest(row[i])
  }
  return row
}

/**
 * A select list of `names` in which a packed value comes as text: U+0001 and its bytes in hex
 * (SQLite's `hex()`), so a long read (a verification's scan) makes no buffer per value — each costs
 * an allocation and a share of the garbage collector's time, ≈ 6 µs a row for seven of them. A
 * stored text never starts with U+0001: identifiers come from HTTP headers and XML, which cannot
 * carry it, and digests are base64.
 */
export function hexSelect (names: readonly string[]): string {
  return names.map(n => ID_COLUMNS.has(n) || DIGEST_COLUMNS.has(n) ? `CASE WHEN typeof(${n}) = 'blob' THEN char(1) || hex(${n}) ELSE ${n} END` : n).join(', ')
}

const MARK = 1

/** An identifier read through hexSelect: 32 hex digits are a UUID (lowercase, as written). */
function hexId (value: unknown): unknown {
  if (typeof value !== 'string' || value.charCodeAt(0) !== MARK || value.length !== 33) return value
  const hex = value.toLowerCase()
  return `${hex.slice(1, 9)}-${hex.slice(9, 13)}-${hex.slice(13, 17)}-${hex.slice(17, 21)}-${hex.slice(21)}`
}

/** A digest read through hexSelect: its bytes in base64. */
function hexDigest (value: unknown): unknown {
  if (typeof value !== 'string' || value.charCodeAt(0) !== MARK) return value
  return Buffer.from(value.slice(1), 'hex').toString('base64')
}

/** Turns array rows of `names`, read through hexSelect, back into their texts, in place. */
export function hexUnpacker (names: readonly string[]): (row: unknown[]) => unknown[] {
  const ids: number[] = []
  const digests: number[] = []
  names.forEach((n, i) => { if (ID_COLUMNS.has(n)) ids.push(i); else if (DIGEST_COLUMNS.has(n)) digests.push(i) })
  return row => {
    for (const i of ids) row[i] = hexId(row[i])
    for (const i of digests) row[i] = hexDigest(row[i])
    return row
  }
}

/** Unpacks, in place, a row read as an object of its column names. */
export function unpackNamed<T extends Record<string, unknown>> (row: T): T {
  const r = row as Record<string, unknown>
  for (const name in r) {
    if (ID_COLUMNS.has(name)) r[name] = unpackId(r[name])
    else if (DIGEST_COLUMNS.has(name)) r[name] = unpackDigest(r[name])
  }
  return row
}
