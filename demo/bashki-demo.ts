/**
 * Who each of the 61 municipalities is in the demo: a URL slug, a made-up NIPT with a valid check
 * letter and its member id. The config generator and the demo subscriber server both read this, so
 * the adapter URLs in the configuration and the paths the server answers cannot drift apart.
 */
import { BASHKI, type Bashki } from '../schemas/bashki.ts'
import { checkLetter } from '../schemas/checks.ts'

/** The two municipalities the hand-written demo already hosts keep their NIPTs (config/demo/members.yaml). */
export const EXISTING_NIPTS: Readonly<Record<string, string>> = Object.freeze({ Tiranë: 'L21603004L', Durrës: 'M51305009K' })

export interface DemoBashki {
  bashki: Bashki
  /** ASCII name, lower case, spaces as hyphens: `malesi-e-madhe`, `fushe-arrez`. */
  slug: string
  nipt: string
  /** `AL-DEV/NJQV/<nipt>` */
  member: string
}

/** `Malësi e Madhe` → `malesi-e-madhe` (from the data file's ASCII form). */
export function bashkiSlug (b: Bashki): string {
  return b.ascii.toLowerCase().replace(/\s+/g, '-')
}

/**
 * A synthetic NIPT: `K9`, the sequence number twice (2 + 3 digits) around `15`, then the check letter
 * of the project's NIPT rule. No real institution is meant; the digits only make it deterministic.
 */
export function demoNipt (b: Bashki): string {
  const existing = EXISTING_NIPTS[b.emri]
  if (existing !== undefined) return existing
  const first9 = `K9${String(b.n).padStart(2, '0')}15${String(b.n).padStart(3, '0')}`
  return first9 + checkLetter(first9)
}

export const DEMO_BASHKI: readonly DemoBashki[] = Object.freeze(BASHKI.map(b => {
  const nipt = demoNipt(b)
  return Object.freeze({ bashki: b, slug: bashkiSlug(b), nipt, member: `AL-DEV/NJQV/${nipt}` })
}))

const BY_SLUG = new Map(DEMO_BASHKI.map(d => [d.slug, d]))

export function demoBashkiBySlug (slug: string): DemoBashki | undefined {
  return BY_SLUG.get(slug)
}
