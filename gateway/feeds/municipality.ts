/**
 * Which municipality a feed URL names, and the feed's identity. The URL carries the municipality's
 * ASCII name in lower case with hyphens for spaces (`tirane`, `kucove`, `malesi-e-madhe`), from the
 * one list of the 61 bashki (schemas/data/bashki.json); titles use the official name with diacritics.
 *
 * The feed id is a name-based UUID (RFC 9562 version 5, URL namespace) of the municipality's LAU
 * code, so it stays the same across nodes, restarts, renamed slugs and moved rooms.
 */
import { createHash } from 'node:crypto'
import { BASHKI, type Bashki } from '../../schemas/bashki.ts'

export function feedSlug (b: Bashki): string {
  return b.ascii.toLowerCase().replace(/\s+/g, '-')
}

const BY_SLUG = new Map(BASHKI.map(b => [feedSlug(b), b]))

export function bashkiaBySlug (slug: string): Bashki | undefined {
  return BY_SLUG.get(slug)
}

/** RFC 9562 §6.6: the URL namespace. */
const URL_NAMESPACE = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex')

/** A version 5 UUID: SHA-1 of namespace and name, version and variant bits set. */
export function uuidV5 (name: string, namespace = URL_NAMESPACE): string {
  const b = createHash('sha1').update(namespace).update(name, 'utf8').digest().subarray(0, 16)
  b[6] = (b[6] & 0x0f) | 0x50
  b[8] = (b[8] & 0x3f) | 0x80
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** The municipality's feed id: the same for its Atom and JSON feeds and every page of them. */
export function feedId (b: Bashki): string {
  return `urn:uuid:${uuidV5(`https://ura.gov.al/feeds/transparenca/${b.lau}`)}`
}
