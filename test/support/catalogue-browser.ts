/**
 * The catalogue and the API docs as a person sees them, driven by playwright-core against the demo:
 * visible text asserted at each step, screenshots kept in `.tap/screenshots/<name>/` for a human,
 * and any request that leaves the loopback interface blocked and reported (the pages must work on a
 * closed network). Shared by `test/catalogue-browser.test.ts` (the npm-packaged Chromium) and
 * `conformance/chromium.test.ts` (Debian's chromium); each says which browser to launch.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Test } from 'tap'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { startRig, type Rig } from './gateway.ts'

/** Flags that keep a browser off the network and quiet, whatever else it was given. */
export const QUIET_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

export interface Browser {
  executablePath: string
  args: string[]
}

/** Registers the walk-through on `t`, with the browser `browser()` names (called once, before). */
export function catalogueWalkthrough (t: Test, opts: { screenshots: string; browser: () => Promise<Browser> }): void {
  const shots = resolve(import.meta.dirname, '../../.tap/screenshots', opts.screenshots)
  let rig: Rig
  let context: BrowserContext
  let profile: string
  const external: string[] = []

  t.before(async () => {
    const { executablePath, args } = await opts.browser()
    rig = await startRig()
    await mkdir(shots, { recursive: true })
    profile = await mkdtemp(join(tmpdir(), 'ura-chromium-'))
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args,
      viewport: { width: 1200, height: 900 },
      locale: 'sq-AL',
    })
    await context.route('**/*', route => {
      const url = new URL(route.request().url())
      if (url.hostname === '127.0.0.1' || url.protocol === 'data:' || url.protocol === 'blob:') return route.continue()
      external.push(url.href)
      return route.abort()
    })
  })
  t.teardown(async () => {
    await context?.close()
    await rig?.close()
    if (profile !== undefined) await rm(profile, { recursive: true, force: true })
  })

  const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: join(shots, name), fullPage: true })

  t.test('browse the catalogue, switch language, open an entry, open the API docs', async t => {
    const page = await context.newPage()

    // Albanian by default.
    await page.goto(`${rig.url}/catalogue`)
    t.equal(await page.getAttribute('html', 'lang'), 'sq')
    t.equal(await page.locator('h1').innerText(), 'Katalogu i shërbimeve të integruara')
    t.equal(await page.locator('p.count').innerText(), '2 shërbime')
    const titles = await page.locator('ul.entries h2').allInnerTexts()
    t.same(titles, ['Vërtetim për detyrimet e taksave dhe tarifave vendore', 'Vërtetimi i të dhënave personale të shtetasit'])
    t.match(await page.locator('ul.entries').innerText(), /200 lekë \(ALL\)/)
    t.match(await page.locator('ul.entries').innerText(), /Pa pagesë/)
    await shot(page, '1-catalogue-sq.png')

    // The skip link is the first stop for keyboard users.
    await page.keyboard.press('Tab')
    t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Kalo te përmbajtja')

    // Switch to English.
    await page.getByRole('link', { name: 'English' }).click()
    await page.waitForURL(/lang=en/)
    t.equal(await page.getAttribute('html', 'lang'), 'en')
    t.equal(await page.locator('h1').innerText(), 'Catalogue of integrated services')
    t.equal(await page.locator('p.count').innerText(), '2 services')
    t.ok(await page.getByText('Free of charge').isVisible(), 'fees shown in English')
    await shot(page, '2-catalogue-en.png')

    // Filter with the form: only local taxes.
    await page.getByLabel('Category').selectOption({ label: 'Local taxes and fees' })
    await page.getByRole('button', { name: 'Search' }).click()
    await page.waitForURL(/category=local-taxes/)
    t.equal(await page.locator('p.count').innerText(), '1 service')
    t.equal(await page.getAttribute('html', 'lang'), 'en', 'the language survives the search')

    // Open the entry.
    await page.getByRole('link', { name: 'Statement of local tax and fee obligations' }).first().click()
    await page.waitForURL(/\/catalogue\/services\/AL-DEV\/NJQV\/L21603004L\/taksat-vendore\/detyrimet/)
    t.equal(await page.locator('h1').innerText(), 'Statement of local tax and fee obligations')
    const fields = await page.locator('dl.fields').first().innerText()
    for (const text of ['Legal basis', 'Law nr. 9632, of 30 October 2006, “On the local tax system”', 'Procedure steps', 'Required documents', '1–24 hours', '200 lek (ALL)', 'Until 31 December of the year of issue', 'Assisted by an official', 'Tiranë']) {
      t.ok(fields.includes(text), `the entry shows “${text}”`)
    }
    t.ok(await page.getByRole('link', { name: 'OpenAPI description (JSON)' }).isVisible())
    await shot(page, '3-entry-en.png')

    // Back to Albanian on the same entry.
    await page.getByRole('link', { name: 'Shqip' }).click()
    await page.waitForURL(u => !u.search.includes('lang=en'))
    t.equal(await page.locator('h1').innerText(), 'Vërtetim për detyrimet e taksave dhe tarifave vendore')
    t.match(await page.locator('dl.fields').first().innerText(), /Ligji nr\. 9632, datë 30 tetor 2006, “Për sistemin e taksave vendore”/)

    // The API documentation.
    await page.goto(`${rig.url}/docs`)
    await page.locator('.swagger-ui .info .title').waitFor({ timeout: 20000 })
    t.match(await page.locator('.swagger-ui .info .title').innerText(), /ura node/)
    await page.getByText('/listClients').first().waitFor()
    t.ok(await page.getByText('/catalogue', { exact: true }).first().isVisible(), 'the catalogue endpoint is listed')
    await shot(page, '4-docs-node.png')

    // The service documents are one choice away.
    const select = page.locator('.topbar select')
    await select.selectOption({ label: 'Vërtetim për detyrimet e taksave dhe tarifave vendore (AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet)' })
    await page.getByText('/subjekte/{nipt}/detyrime').first().waitFor({ timeout: 20000 })
    t.match(await page.locator('.swagger-ui .info .title').innerText(), /Vërtetim për detyrimet e taksave dhe tarifave vendore/)
    await shot(page, '5-docs-detyrimet.png')

    t.same(external, [], 'nothing was requested from outside the node')
    await page.close()
  })
}
