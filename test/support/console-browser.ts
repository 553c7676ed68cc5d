/**
 * The operator console as a person's browser sees it, for the browser test and the screenshot
 * script: the npm-packaged Chromium launched with the admin listener's certificate pinned (its
 * SubjectPublicKeyInfo hash, so no other certificate error is ignored), contexts that refuse any
 * request leaving the loopback interface and record every Content-Security-Policy violation,
 * sign-in by typing into the forms (or by keyboard alone), and the page checks every console page
 * must pass: axe-core without serious or critical findings, `<html lang>`, one `<h1>`, a `<main>`.
 * The crawler walks the menu and the links found on its pages, so new pages are covered as they come.
 */
import { createHash, type X509Certificate } from 'node:crypto'
import tls from 'node:tls'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { AxeResults } from 'axe-core'
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core'
import { NAV } from '../../admin/console/layout.ts'
import { totpCode } from '../../admin/totp.ts'
import { npmChromium } from './chromium.ts'

export type Lang = 'sq' | 'en'
export const PHONE = { width: 375, height: 740 }
export const DESKTOP = { width: 1200, height: 900 }

/** The base64 SHA-256 of the SubjectPublicKeyInfo of the certificate a TLS listener presents. */
export async function listenerSpki (url: string): Promise<string> {
  const u = new URL(url)
  const peer = await new Promise<X509Certificate>((resolve, reject) => {
    const socket = tls.connect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false }, () => {
      const cert = socket.getPeerX509Certificate()
      socket.end()
      if (cert === undefined) reject(new Error(`${url} presented no certificate`))
      else resolve(cert)
    })
    socket.on('error', reject)
  })
  return createHash('sha256').update(peer.publicKey.export({ type: 'spki', format: 'der' })).digest('base64')
}

/** What a guarded context saw besides its pages: requests refused for leaving loopback, CSP violations. */
export interface Guard { external: string[]; csp: string[] }

export interface ConsoleBrowser {
  browser: Browser
  spki: string
  /** A new context (own cookies) on the console, guarded; `caPem` lets a client-certificate context check the listener. */
  context (opts?: BrowserContextOptions): Promise<{ context: BrowserContext; guard: Guard }>
  close (): Promise<void>
}

/**
 * Chromium with `--ignore-certificate-errors-spki-list` set to the listener's key only. A context
 * with `clientCertificates` is different: Playwright presents the certificate from its own TLS
 * connection (the browser talks to Playwright's local relay, whose certificate it must accept), so
 * there the listener is checked by Node against the node's CA, added to Node's default CAs.
 */
export async function openConsoleBrowser (url: string, caPem: string): Promise<ConsoleBrowser> {
  const spki = await listenerSpki(url)
  const { executablePath, args } = await npmChromium()
  const browser = await chromium.launch({ executablePath, headless: true, args: [...args, `--ignore-certificate-errors-spki-list=${spki}`] })
  if (!tls.getCACertificates('default').includes(caPem)) tls.setDefaultCACertificates([...tls.getCACertificates('default'), caPem])
  return {
    browser,
    spki,
    async context (opts = {}) {
      const context = await browser.newContext({ viewport: DESKTOP, locale: 'sq-AL', ...opts })
      return { context, guard: await guardContext(context) }
    },
    close: () => browser.close(),
  }
}

/** Refuses requests leaving loopback; records CSP violations from the console and `securitypolicyviolation` events. */
export async function guardContext (context: BrowserContext): Promise<Guard> {
  const guard: Guard = { external: [], csp: [] }
  await context.route('**/*', route => {
    const url = new URL(route.request().url())
    if (url.hostname === '127.0.0.1' || url.protocol === 'data:' || url.protocol === 'blob:') return route.continue()
    guard.external.push(url.href)
    return route.abort()
  })
  await context.addInitScript({ content: AXE_SOURCE })
  // Injected by the browser's debugging protocol, so the page's CSP (no scripts at all) does not stop it.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', e => {
      const w = window as unknown as { __cspViolations?: string[] }
      ;(w.__cspViolations ??= []).push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`)
    })
  })
  context.on('console', msg => {
    if (/Content.Security.Policy/i.test(msg.text())) guard.csp.push(`${msg.page()?.url() ?? '?'}: ${msg.text()}`)
  })
  return guard
}

/** The `securitypolicyviolation` events of the page so far. */
export async function pageCspViolations (page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? [])
}

export interface Login { username: string; password: string; totpSecret: string }

/**
 * Signs in through the forms: username and password, then the TOTP code for `at`. With `keyboard`,
 * only Tab, typing and Enter are used.
 */
export async function signIn (page: Page, base: string, login: Login, at: Date, opts: { keyboard?: boolean; lang?: Lang } = {}): Promise<void> {
  await page.goto(`${base}/console/signin${opts.lang === undefined ? '' : `?lang=${opts.lang}`}`)
  const code = totpCode(login.totpSecret, at)
  if (opts.keyboard === true) {
    await tabTo(page, 'username')
    await page.keyboard.type(login.username)
    await page.keyboard.press('Tab')
    await page.keyboard.type(login.password)
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/console\/signin\/code/)
    await tabTo(page, 'code')
    await page.keyboard.type(code)
    await page.keyboard.press('Enter')
  } else {
    await page.locator('#username').fill(login.username)
    await page.locator('#password').fill(login.password)
    await page.locator('form[action="/console/signin"] button[type=submit]').click()
    await page.waitForURL(/\/console\/signin\/code/)
    await page.locator('#code').fill(code)
    await page.locator('form[action="/console/signin/code"] button[type=submit]').click()
  }
  await page.waitForURL(u => u.pathname.startsWith('/console') && !u.pathname.startsWith('/console/signin'))
}

/** Presses Tab until the element with `id` has the focus (at most 30 times). */
export async function tabTo (page: Page, id: string): Promise<void> {
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab')
    if (await page.evaluate(() => document.activeElement?.id) === id) return
  }
  throw new Error(`Tab never reached #${id} on ${page.url()}`)
}

/**
 * The axe-core engine that @axe-core/playwright ships. AxeBuilder injects its half-megabyte source
 * into the page at every call (and opens a helper page to finish the run): several times the cost
 * of the run itself, which adds up over a crawl. Guarded contexts load it once per document as an
 * init script instead, and `axe.run` is called in the page.
 */
const AXE_SOURCE = (createRequire(fileURLToPath(import.meta.resolve('@axe-core/playwright')))('axe-core') as { source: string }).source

/** axe-core's serious and critical findings on the page, one readable line each. */
export async function axeProblems (page: Page): Promise<string[]> {
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe?: { run: (ctx: Document, opts: object) => Promise<AxeResults> } }).axe
    if (axe === undefined) throw new Error('axe-core is not loaded in this page')
    return axe.run(document, { resultTypes: ['violations'] })
  })
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .flatMap(v => v.nodes.map(n => `${v.impact} ${v.id}: ${v.help} — ${n.target.join(' ')} — ${n.failureSummary?.replaceAll('\n', ' ') ?? ''} (${v.helpUrl})`))
}

/** The frame's structure: the document language, one h1, a main landmark. */
export async function structureProblems (page: Page, lang: Lang): Promise<string[]> {
  const problems: string[] = []
  const htmlLang = await page.getAttribute('html', 'lang')
  if (htmlLang !== lang) problems.push(`<html lang="${htmlLang}">, expected "${lang}"`)
  const h1 = await page.locator('h1').count()
  if (h1 !== 1) problems.push(`${h1} <h1> elements, expected exactly one`)
  const main = await page.locator('main').count()
  if (main !== 1) problems.push(`${main} <main> elements, expected one`)
  return problems
}

/**
 * A `<form method="post">` as found on a page: its absolute action, its fields with their values,
 * and whether it is a filter (class `filters`), which changes nothing.
 */
export interface PostForm { page: string; action: string; multipart: boolean; filter: boolean; fields: Array<[string, string]> }

export async function postForms (page: Page): Promise<PostForm[]> {
  const found = await page.locator('form').evaluateAll(forms => forms
    .filter(f => (f as HTMLFormElement).method === 'post')
    .map(f => {
      const form = f as HTMLFormElement
      const fields: Array<[string, string]> = []
      for (const el of Array.from(form.elements) as Array<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>) {
        if (el.name === '' || el.disabled) continue
        if (el instanceof HTMLInputElement && (el.type === 'checkbox' || el.type === 'radio') && !el.checked) continue
        if (el instanceof HTMLInputElement && el.type === 'file') continue
        if (el instanceof HTMLButtonElement) continue
        let value = el.value
        // An empty required field gets a value of its kind, so the form is complete as a person would send it.
        if (value === '' && el.required) value = el.name === '_reason' ? 'browser role check' : el.type === 'email' ? 'check@example.invalid' : el.type === 'number' ? '1' : el.type === 'date' ? '2026-01-01' : 'x'
        fields.push([el.name, value])
      }
      return { action: form.action, multipart: form.enctype === 'multipart/form-data', filter: form.classList.contains('filters'), fields }
    }))
  return found.map(f => ({ page: page.url(), ...f }))
}

/** Forms every signed-in page has and that change nothing in the registry. */
export const FRAME_FORMS = new Set(['/console/signout'])

/** Whether a form changes something: not the frame's sign-out, not a filter. */
export function changes (form: PostForm): boolean {
  return !form.filter && !FRAME_FORMS.has(new URL(form.action).pathname)
}

export interface CrawledPage {
  /** Path and query, without `lang`. */
  path: string
  lang: Lang
  status: number
  /** From the menu (NAV) rather than from a link on a page. */
  fromMenu: boolean
  problems: string[]
  forms: PostForm[]
}

export interface CrawlOptions {
  base: string
  /** At most this many paths (default 60), each checked in both languages. */
  limit?: number
  /** Paths to start from besides the menu. */
  extra?: string[]
}

const SKIPPED = /^\/console\/(signout|signin)(\/|$)|\.(css|csv|json|pem|crt|cer|zip|pdf|xml|yaml|txt|png|svg)$/

/** Path and query of a same-origin console URL, without `lang`; undefined for anything else. */
export function consolePath (href: string, base: string): string | undefined {
  const u = new URL(href, base)
  if (u.origin !== new URL(base).origin || !(u.pathname === '/console' || u.pathname.startsWith('/console/'))) return undefined
  if (SKIPPED.test(u.pathname)) return undefined
  u.searchParams.delete('lang')
  u.searchParams.sort()
  return `${u.pathname}${u.search}`
}

/**
 * Visits every menu entry and every console GET link found on the pages visited (breadth first,
 * `limit` paths): each in Albanian, then in English by its language switch, checking the page in
 * both; answers what it found. Every page must answer below 400.
 */
export async function crawl (page: Page, opts: CrawlOptions): Promise<CrawledPage[]> {
  const limit = opts.limit ?? 60
  const queue: Array<{ path: string; fromMenu: boolean }> = [...NAV.map(n => ({ path: n.href, fromMenu: true })), ...(opts.extra ?? []).map(path => ({ path, fromMenu: false }))]
  const seen = new Set(queue.map(q => q.path))
  const out: CrawledPage[] = []
  for (let visited = 0; queue.length > 0 && visited < limit; visited++) {
    const { path, fromMenu } = queue.shift()!
    const u = new URL(path, opts.base)
    u.searchParams.set('lang', 'sq')
    let res
    try {
      res = await page.goto(u.href)
    } catch (err) {
      // A link to a file the browser downloads: not a page to check.
      if (/Download is starting/.test((err as Error).message)) { out.push({ path, lang: 'sq', status: 200, fromMenu, problems: [], forms: [] }); continue }
      throw err
    }
    for (const lang of ['sq', 'en'] as const) {
      if (lang === 'en') {
        // The switch, as a person uses it: the English page is the one its link leads to.
        ;[res] = await Promise.all([page.waitForNavigation(), page.locator('nav.langs a[hreflang="en"]').click()])
        if (consolePath(page.url(), opts.base) !== path) { out.push({ path, lang, status: 0, fromMenu, problems: [`the switch to en led to ${page.url()}`], forms: [] }); break }
      }
      const status = res?.status() ?? 0
      const type = res?.headers()['content-type'] ?? ''
      if (!type.startsWith('text/html')) { out.push({ path, lang, status, fromMenu, problems: [], forms: [] }); break }
      const problems: string[] = []
      if (status >= 400) problems.push(`answered ${status}`)
      problems.push(...await structureProblems(page, lang), ...await axeProblems(page), ...await switchProblems(page, opts.base, path, lang))
      problems.push(...(await pageCspViolations(page)).map(v => `CSP: ${v}`))
      for (const href of await page.locator('a[href]').evaluateAll(as => as.filter(a => !a.hasAttribute('download')).map(a => (a as HTMLAnchorElement).href))) {
        const next = consolePath(href, opts.base)
        if (next !== undefined && !seen.has(next)) { seen.add(next); queue.push({ path: next, fromMenu: false }) }
      }
      out.push({ path, lang, status, fromMenu, problems, forms: await postForms(page) })
    }
  }
  return out
}

/** The language switch of a page: both languages offered, the current one marked, each link to the same page. */
async function switchProblems (page: Page, base: string, path: string, lang: Lang): Promise<string[]> {
  const other: Lang = lang === 'sq' ? 'en' : 'sq'
  const problems: string[] = []
  const current = await page.locator('nav.langs a[aria-current]').getAttribute('hreflang').catch(() => null)
  if (current !== lang) problems.push(`the language switch marks ${current ?? 'nothing'} as current`)
  const href = await page.locator(`nav.langs a[hreflang="${other}"]`).getAttribute('href').catch(() => null)
  if (href === null) problems.push(`no switch to ${other}`)
  else if (consolePath(href, base) !== path || new URL(href, base).searchParams.get('lang') !== other) problems.push(`the switch to ${other} points to ${href}`)
  return problems
}
