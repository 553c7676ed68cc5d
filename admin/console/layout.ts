/**
 * The frame every console page shares: header with the node's name, the language switch and who is
 * signed in (with the sign-out form), the main menu — only the pages the operator's roles may read —,
 * a skip link and landmarks, and the flash message a redirect left. Pages give a title and a body.
 */
import type { RoleGrant } from '../../config/registry-sections.ts'
import { grantFor } from '../roles.ts'
import { CSS_PATH } from './assets.ts'
import { html, type Html, type HtmlValue } from './html.ts'
import { COMMON, type Lang, type NavKey } from './i18n.ts'

/** Each menu entry with the action that lets an operator read the page. */
export const NAV: ReadonlyArray<{ key: NavKey; href: string; action: string }> = [
  { key: 'overview', href: '/console', action: 'traffic.read' },
  { key: 'institutions', href: '/console/institutions', action: 'member.list' },
  { key: 'services', href: '/console/services', action: 'service.list' },
  { key: 'access', href: '/console/access', action: 'grant.list' },
  { key: 'applications', href: '/console/applications', action: 'application.list' },
  { key: 'certificates', href: '/console/certificates', action: 'certificate.list' },
  { key: 'officials', href: '/console/officials', action: 'official.list' },
  { key: 'audit', href: '/console/audit', action: 'audit.list' },
  { key: 'log', href: '/console/log', action: 'log.read' },
  { key: 'versions', href: '/console/versions', action: 'version.list' },
]

export interface Viewer {
  id: string
  name: string
  roles: RoleGrant[]
}

export interface Flash { kind: 'ok' | 'bad' | 'info'; text: string }

export interface FrameInput {
  lang: Lang
  title: string
  /** The request's path and query, for the language switch. */
  url: string
  /** Signed-in operator; absent on the sign-in pages and the public form. */
  viewer?: Viewer
  /** The menu entry this page belongs to. */
  nav?: NavKey
  csrf?: string
  flash?: Flash
  body: HtmlValue
  /** The brand line's text and link (the public form names itself, not the console). */
  brand?: { text: string; href: string }
}

/** The URL with `lang` set to `to` (other query parameters kept). */
export function switchLang (url: string, to: Lang): string {
  const u = new URL(url, 'https://node.invalid')
  u.searchParams.set('lang', to)
  return `${u.pathname}${u.search}`
}

/** May the viewer take `action` (for `member`, when the action is member-scoped)? Decides what the page shows; the API decides what happens. */
export function can (viewer: Viewer | undefined, action: string, member?: string): boolean {
  if (viewer === undefined) return false
  return grantFor(viewer.roles, action, member) !== undefined || (member === undefined && viewer.roles.some(r => r.member !== undefined && grantFor([r], action, r.member) !== undefined))
}

export function frame (input: FrameInput): Html {
  const t = COMMON[input.lang]
  const brand = input.brand ?? { text: `ura · ${t.console}`, href: '/console' }
  const langLink = (l: Lang, name: string): Html =>
    html`<a href="${switchLang(input.url, l)}" lang="${l}" hreflang="${l}"${l === input.lang ? html` aria-current="true"` : ''}>${name}</a>`
  const viewer = input.viewer
  const menu = viewer === undefined
    ? ''
    : html`<nav class="main" aria-label="${t.menu}"><div class="wrap"><ul>${NAV.filter(n => can(viewer, n.action)).map(n =>
      html`<li><a href="${n.href}"${n.key === input.nav ? html` aria-current="page"` : ''}>${t.nav[n.key]}</a></li>`)}</ul></div></nav>`
  const who = viewer === undefined
    ? ''
    : html`<span>${t.signedInAs} <strong>${viewer.name}</strong></span><form method="post" action="/console/signout"><input type="hidden" name="_csrf" value="${input.csrf ?? ''}"><button type="submit">${t.signOut}</button></form>`
  const flash = input.flash === undefined ? '' : html`<div class="notice ${input.flash.kind === 'info' ? '' : input.flash.kind}" role="status">${input.flash.text}</div>`
  return html`<!doctype html>
<html lang="${input.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${input.title} — ura</title>
<link rel="stylesheet" href="${CSS_PATH}">
</head>
<body>
<a class="skip" href="#main">${t.skip}</a>
<header class="top"><div class="wrap bar"><a class="brand" href="${brand.href}">${brand.text}</a>
<div class="who">${who}<nav class="langs" aria-label="${t.languages}">${langLink('sq', 'Shqip')}${langLink('en', 'English')}</nav></div></div></header>
${menu}
<main id="main" class="wrap">
${flash}
${input.body}
</main>
<footer><div class="wrap">${t.footer} · <a href="/admin/docs">${t.apiDocs}</a></div></footer>
</body>
</html>
`
}
