/**
 * The console's two languages: Albanian first (the node's public), English on a switch in every
 * page's header. A page's words live beside the page as `{ sq, en }` dictionaries of the same shape
 * (TypeScript holds them to it); the words every page shares are here. The language comes from
 * `?lang=` (which also sets the `ura-lang` cookie), else that cookie, else Albanian.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'

export type Lang = 'sq' | 'en'
export const LANGS: readonly Lang[] = ['sq', 'en']
export const LANG_COOKIE = 'ura-lang'

/** The same dictionary in both languages: `en` must have every word `sq` has. */
export function words<T extends Record<string, unknown>> (dict: { sq: T; en: NoInfer<T> }): { sq: T; en: T } {
  return dict
}

/** The request's language; a `?lang=` switch is remembered in a cookie for the next pages. */
export function langOf (request: FastifyRequest, reply?: FastifyReply): Lang {
  const asked = (request.query as { lang?: unknown } | undefined)?.lang
  if (asked === 'sq' || asked === 'en') {
    reply?.header('set-cookie', `${LANG_COOKIE}=${asked}; Path=/; Max-Age=31536000; SameSite=Lax; Secure`)
    return asked
  }
  const cookie = /(?:^|;\s*)ura-lang=(sq|en)(?:;|$)/.exec(request.headers.cookie ?? '')
  return (cookie?.[1] as Lang | undefined) ?? 'sq'
}

export const COMMON = words({
  sq: {
    console: 'Konsola e operatorëve',
    skip: 'Kalo te përmbajtja',
    languages: 'Gjuha',
    menu: 'Menuja kryesore',
    signOut: 'Dil',
    signedInAs: 'Hyrë si',
    save: 'Ruaj',
    cancel: 'Anulo',
    search: 'Kërko',
    filter: 'Filtro',
    reason: 'Arsyeja e ndryshimit',
    reasonHint: 'Ruhet në versionin e regjistrit dhe në gjurmën e auditimit.',
    none: 'Asgjë për të treguar.',
    yes: 'Po',
    no: 'Jo',
    back: '← Kthehu',
    next: 'Më tej →',
    error: 'Veprimi nuk u krye',
    forbidden: 'Nuk keni të drejtë për këtë veprim',
    notFound: 'Faqja nuk u gjet',
    saved: 'U ruajt.',
    footer: 'ura — porta e ndërveprimit',
    apiDocs: 'API e administrimit',
    catalogue: 'Katalogu',
    required: 'e detyrueshme',
    nav: {
      overview: 'Përmbledhje', institutions: 'Institucionet', services: 'Shërbimet', access: 'Të drejtat e aksesit',
      applications: 'Aplikimet', certificates: 'Certifikatat', officials: 'Zyrtarët', audit: 'Gjurma e auditimit',
      log: 'Regjistri i mesazheve', versions: 'Versionet e konfigurimit',
    },
  },
  en: {
    console: 'Operator console',
    skip: 'Skip to content',
    languages: 'Language',
    menu: 'Main menu',
    signOut: 'Sign out',
    signedInAs: 'Signed in as',
    save: 'Save',
    cancel: 'Cancel',
    search: 'Search',
    filter: 'Filter',
    reason: 'Reason for the change',
    reasonHint: 'Kept with the registry version and in the audit trail.',
    none: 'Nothing to show.',
    yes: 'Yes',
    no: 'No',
    back: '← Back',
    next: 'Next →',
    error: 'The action was not done',
    forbidden: 'You may not do this',
    notFound: 'Page not found',
    saved: 'Saved.',
    footer: 'ura — the interoperability gateway',
    apiDocs: 'Admin API',
    catalogue: 'Catalogue',
    required: 'required',
    nav: {
      overview: 'Overview', institutions: 'Institutions', services: 'Services', access: 'Access rights',
      applications: 'Applications', certificates: 'Certificates', officials: 'Officials', audit: 'Audit trail',
      log: 'Message log', versions: 'Configuration versions',
    },
  },
})

export type NavKey = keyof typeof COMMON.sq.nav

/** A date and time as people of the language read it, in Tirana's time zone. */
export function when (iso: string | undefined | null, lang: Lang): string {
  if (iso === undefined || iso === null || iso === '') return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return d.toLocaleString(lang === 'sq' ? 'sq-AL' : 'en-GB', { timeZone: 'Europe/Tirane', dateStyle: 'medium', timeStyle: 'short' })
}
