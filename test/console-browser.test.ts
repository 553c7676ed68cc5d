/**
 * The operator console in a real browser (the Chromium of the npm package @sparticuz/chromium,
 * headless, driven by playwright-core), over TLS with the admin listener's key pinned: sign-in by
 * keyboard alone with password and TOTP code, by the operator certificate, sign-out; a crawl of
 * every menu entry and every console link on those pages in Albanian and English, each page checked
 * with axe-core (no serious or critical finding), for CSP violations, `<html lang>`, one `<h1>`, a
 * `<main>` and its language switch; the sign-in page and the public form at a phone's size too;
 * and the roles, generically: every form that changes something, as the system administrator sees
 * it, is absent for an observer, and posting it anyway with the observer's own CSRF token is
 * refused with 403 and changes no registry version. Pages added to the console are covered without
 * touching this file. Any request leaving loopback fails the test.
 */
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { BrowserContext, Page } from 'playwright-core'
import { ApiError } from '../admin/console/api.ts'
import { html } from '../admin/console/html.ts'
import { createConsole } from '../admin/console/index.ts'
import { formState, kitOf, reasonField, redirectWith, sendPage, field } from '../admin/console/kit.ts'
import { can } from '../admin/console/layout.ts'
import { CONSOLE_PAGES, PUBLIC_PAGES } from '../admin/console/pages/index.ts'
import { startAdminRig, type AdminRig } from './support/admin.ts'
import { logExchange } from './support/message-log.ts'
import {
  axeProblems, changes, crawl, openConsoleBrowser, pageCspViolations, PHONE, postForms, signIn, structureProblems,
  type ConsoleBrowser, type CrawledPage, type Guard, type Login, type PostForm,
} from './support/console-browser.ts'

// The crawl grows with the console (up to 60 pages, each in two languages, each checked by axe-core).
t.setTimeout(300_000)

// Real time (the rig's certificates are valid from now), moved forward so each sign-in has a TOTP step of its own.
let clock = Date.now()
const now = (): Date => new Date(clock)
const SERVICE = 'AL-DEV:NJQV:L21603004L:taksat-vendore:detyrimet'

/**
 * A page of this test only, reached by no menu: a form that changes the registry, shown to those who
 * may use it. It proves the roles check below finds such forms and that posting one goes to the API.
 */
async function probePages (app: FastifyInstance): Promise<void> {
  app.get('/console/probe', async (request, reply) => {
    const kit = kitOf(request)
    const service = await kit.api.get(`/services/${SERVICE}`)
    const form = can(kit.viewer, 'service.disable', 'AL-DEV/NJQV/L21603004L')
      ? html`<form method="post" action="/console/probe/disable">${formState(kit, service.etag)}<div class="field"><label for="notice">Njoftimi</label><input id="notice" name="notice" required></div>${reasonField(kit.lang)}<button type="submit">Çaktivizo</button></form>`
      : ''
    return sendPage(request, reply, { title: 'Provë', body: html`<h1>Provë</h1>${form}` })
  })
  app.post('/console/probe/disable', async (request, reply) => {
    const kit = kitOf(request)
    const res = await kit.api.send('POST', `/services/${SERVICE}/disable`, { notice: field(request, 'notice') }, { ifMatch: field(request, '_etag'), reason: field(request, '_reason') })
    if (!res.ok) throw new ApiError(res.status, res.problem!)
    return redirectWith(request, reply, '/console/probe', { kind: 'ok', text: 'OK' })
  })
}

let rig: AdminRig
let cb: ConsoleBrowser
const logins: Record<string, Login> = {}
const guards: Guard[] = []
/** The observer's page, signed in with its certificate; the pages the crawl checked. */
let observer: Page | undefined
const crawled: CrawledPage[] = []

t.before(async () => {
  rig = await startAdminRig({ console: createConsole({ pages: [...CONSOLE_PAGES, probePages], publicPages: PUBLIC_PAGES, now: () => clock }), now, messageLog: true })
  // One exchange in the message log, so the overview's charts and the log's pages have something to show.
  await logExchange(rig.log!.recorder, { client: 'AL-DEV/GOV/K11503002N/e-albania', service: 'AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet', at: new Date(clock - 60_000), ms: 25, body: '{}', keepBody: true })
  for (const id of ['sa', 'obs']) {
    const password = `correct horse ${id} battery`
    const res = await rig.call('PUT', `/admin/v1/operators/${id}/login`, { token: rig.tokens.sa, body: { username: `${id}.user`, password }, headers: { 'x-ura-reason': 'browser test', 'if-match': await etag(id) } })
    if (res.status !== 200) throw new Error(`login for ${id}: ${res.status} ${res.text}`)
    logins[id] = { username: `${id}.user`, password, totpSecret: res.json.totpSecret }
  }
  cb = await openConsoleBrowser(rig.url, rig.caPem)
})
t.teardown(async () => {
  // Closing the browser closes its contexts.
  await cb?.close()
  await rig?.close()
})

async function etag (id: string): Promise<string> {
  return (await rig.call('GET', `/admin/v1/operators/${id}`, { token: rig.tokens.sa })).headers.etag as string
}

async function registryVersion (): Promise<number> {
  return (await rig.call('GET', '/admin/v1/node', { token: rig.tokens.sa })).json.registry.version
}

async function newContext (opts: Parameters<ConsoleBrowser['context']>[0] = {}): Promise<BrowserContext> {
  const { context, guard } = await cb.context(opts)
  guards.push(guard)
  return context
}

/** A new TOTP step for the next sign-in. */
function nextStep (): Date {
  clock += 30_000
  return now()
}

/** What every test ends with: nothing left the loopback interface, no CSP violation anywhere. */
function checkGuards (t: Test): void {
  t.same(guards.flatMap(g => g.external), [], 'nothing was requested from outside the node')
  t.same(guards.flatMap(g => g.csp), [], 'no Content-Security-Policy violation in the browser console')
}

t.test('the listener certificate is pinned, not every certificate error ignored', async t => {
  t.match(cb.spki, /^[A-Za-z0-9+/]{43}=$/, 'a base64 SHA-256 of the listener key')
  // A browser pinned to another key refuses the listener.
  const { chromium } = await import('playwright-core')
  const { npmChromium } = await import('./support/chromium.ts')
  const { executablePath, args } = await npmChromium()
  const other = await chromium.launch({ executablePath, headless: true, args: [...args, `--ignore-certificate-errors-spki-list=${Buffer.alloc(32).toString('base64')}`] })
  try {
    const page = await other.newPage()
    await t.rejects(page.goto(`${rig.url}/console/signin`), /ERR_CERT_AUTHORITY_INVALID/)
  } finally {
    await other.close()
  }
})

t.test('keyboard only: Tab to the fields, type, Enter; the language switch; sign-out', async t => {
  const page = await (await newContext()).newPage()
  await page.goto(`${rig.url}/console/signin`)
  await page.keyboard.press('Tab')
  t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Kalo te përmbajtja', 'the skip link comes first')
  await signIn(page, rig.url, logins.sa, nextStep(), { keyboard: true })
  t.equal(new URL(page.url()).pathname, '/console')
  t.equal(await page.locator('h1').innerText(), 'Përmbledhje')
  t.match(await page.locator('header.top').innerText(), /Test operator sa/)
  t.same(await structureProblems(page, 'sq'), [])

  await page.getByRole('link', { name: 'English' }).click()
  await page.waitForURL(/lang=en/)
  t.equal(await page.getAttribute('html', 'lang'), 'en')
  t.equal(await page.locator('h1').innerText(), 'Overview')
  t.ok(await page.getByRole('navigation', { name: 'Main menu' }).getByRole('link', { name: 'Audit trail' }).isVisible(), 'the menu in English')
  await page.getByRole('link', { name: 'Shqip' }).click()
  await page.waitForURL(/lang=sq/)
  t.equal(await page.locator('h1').innerText(), 'Përmbledhje')

  await page.getByRole('button', { name: 'Dil' }).focus()
  await page.keyboard.press('Enter')
  await page.waitForURL(/\/console\/signin\?lang=sq/)
  t.equal(await page.locator('h1').innerText(), 'Hyrja në konsolë')
  await page.goto(`${rig.url}/console`)
  t.match(page.url(), /\/console\/signin\?next=%2Fconsole$/, 'signed out: the console asks for a sign-in again')
  t.same(await pageCspViolations(page), [])
  checkGuards(t)
})

t.test('the operator certificate signs in (Playwright presents it; the listener checked against the node CA)', async t => {
  const cert = rig.operatorCertificate('Vëzhguesi në shfletues')
  const pin = await rig.call('PUT', '/admin/v1/operators/obs/certificates', { token: rig.tokens.sa, body: { certificates: [cert.fingerprint] }, headers: { 'x-ura-reason': 'browser test', 'if-match': await etag('obs') } })
  t.equal(pin.status, 200)
  const context = await newContext({ clientCertificates: [{ origin: rig.url, cert: Buffer.from(cert.cert), key: Buffer.from(cert.key) }] })
  const page = await context.newPage()
  await page.goto(`${rig.url}/console/signin?lang=en`)
  await page.getByRole('button', { name: 'Sign in with your operator certificate' }).click()
  await page.waitForURL(u => u.pathname === '/console')
  t.equal(await page.locator('h1').innerText(), 'Overview')
  t.match(await page.locator('main').innerText(), /observer/)
  const trail = await rig.call('GET', '/admin/v1/audit?operator=obs&action=session.open', { token: rig.tokens.sa })
  t.ok(trail.json.items.some((r: { target: string; result: string }) => r.target === 'certificate sign-in' && r.result === 'allowed'), 'the audit trail has the certificate sign-in')
  // Without the certificate the same button is refused.
  const bare = await (await newContext()).newPage()
  await bare.goto(`${rig.url}/console/signin?lang=en`)
  await bare.getByRole('button', { name: 'Sign in with your operator certificate' }).click()
  t.match(await bare.locator('.notice.bad').innerText(), /The certificate was not accepted/)
  observer = page
  checkGuards(t)
})

t.test('every page the menu and its links reach, in Albanian and English: axe, CSP, lang, one h1, main, the switch', async t => {
  const page = await (await newContext()).newPage()
  await signIn(page, rig.url, logins.sa, nextStep())
  crawled.push(...await crawl(page, { base: rig.url, limit: 60, extra: ['/console/probe'] }))
  for (const p of crawled) {
    t.same(p.problems, [], `${p.lang} ${p.path} (${p.status})`)
  }
  t.ok(crawled.some(p => p.lang === 'en'), 'English pages too')
  t.ok(crawled.some(p => p.path === '/console' && p.status === 200), 'the overview was checked')
  t.ok(crawled.some(p => p.path === '/console/probe' && p.forms.length > 0), 'the probe page\'s form was found')
  checkGuards(t)
})

t.test('the sign-in page and the public application form, on a desktop and on a phone', async t => {
  for (const viewport of [undefined, PHONE]) {
    const page = await (await newContext(viewport === undefined ? {} : { viewport, isMobile: true, hasTouch: true })).newPage()
    const size = viewport === undefined ? 'desktop' : 'phone'
    for (const lang of ['sq', 'en'] as const) {
      await page.goto(`${rig.url}/console/signin?lang=${lang}`)
      t.same([...await structureProblems(page, lang), ...await axeProblems(page)], [], `sign-in, ${lang}, ${size}`)
      for (const path of ['/apliko', '/apliko/statusi']) {
        const res = await page.goto(`${rig.url}${path}?lang=${lang}`)
        t.equal(res?.status(), 200, `${path}, ${lang}, ${size}`)
        t.same([...await structureProblems(page, lang), ...await axeProblems(page)], [], `${path}, ${lang}, ${size}`)
      }
      t.same(await pageCspViolations(page), [])
    }
    if (viewport !== undefined) {
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)
      t.notOk(overflow, 'nothing wider than the phone')
    }
  }
  checkGuards(t)
})

t.test('roles, for every form found: an observer is shown none that changes things, and posting them is refused', async t => {
  if (observer === undefined) throw new Error('the observer did not sign in with its certificate')
  const forms = new Map<string, PostForm>()
  for (const p of crawled) {
    for (const f of p.forms) {
      if (changes(f)) forms.set(`${new URL(f.action).pathname} ${f.fields.map(([k]) => k).join(',')}`, f)
    }
  }
  t.ok(forms.size >= 1, `${forms.size} changing forms found as the system administrator`)

  // The observer opens the same pages: none of those forms.
  const paths = [...new Set(crawled.map(p => p.path))]
  for (const path of paths) {
    await observer.goto(`${rig.url}${path}`)
    const shown = (await postForms(observer)).filter(changes)
    t.same(shown.map(f => new URL(f.action).pathname), [], `observer on ${path}: no changing form`)
  }

  // And posts them anyway, with its own session's CSRF token.
  await observer.goto(`${rig.url}/console`)
  const csrf = await observer.locator('form[action="/console/signout"] input[name=_csrf]').inputValue()
  const before = await registryVersion()
  for (const f of forms.values()) {
    const values = f.fields.map(([k, v]): [string, string] => [k, k === '_csrf' ? csrf : v])
    const res = f.multipart
      ? await observer.context().request.post(f.action, { multipart: Object.fromEntries(values), maxRedirects: 0 })
      : await observer.context().request.post(f.action, { form: Object.fromEntries(values), maxRedirects: 0 })
    t.equal(res.status(), 403, `observer posting ${new URL(f.action).pathname} (found on ${new URL(f.page).pathname}): 403`)
  }
  t.equal(await registryVersion(), before, 'no registry version was made')
  // The same form, posted by whom it is for, does change the registry: the check above could fail.
  const sa = await (await newContext()).newPage()
  await signIn(sa, rig.url, logins.sa, nextStep(), { lang: 'en' })
  await sa.goto(`${rig.url}/console/probe`)
  await sa.locator('#notice').fill('Mirëmbajtje')
  await sa.locator('#reason').fill('browser test')
  await sa.getByRole('button', { name: 'Çaktivizo' }).click()
  await sa.waitForURL(/\/console\/probe$/)
  t.equal(await registryVersion(), before + 1, 'the system administrator\'s post made a version')
  checkGuards(t)
})
