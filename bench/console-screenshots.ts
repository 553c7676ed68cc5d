/**
 * `npm run screenshots`: pictures of the operator console for the documentation. Starts the admin
 * API with the console on the demo registry (as the tests' rig does, on a free loopback port), signs
 * in as a system administrator in the npm-packaged Chromium, and saves the sign-in page, the
 * overview and, where they exist, the services, access, applications and audit pages to
 * docs/screenshots/ (in Albanian, the console's default; the sign-in page at a phone's size too).
 * A page that is not there yet (404) is skipped and said so.
 */
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { createConsole } from '../admin/console/index.ts'
import { CONSOLE_PAGES, PUBLIC_PAGES } from '../admin/console/pages/index.ts'
import { startAdminRig } from '../test/support/admin.ts'
import { logExchange } from '../test/support/message-log.ts'
import { openConsoleBrowser, PHONE, signIn } from '../test/support/console-browser.ts'

const OUT = resolve(import.meta.dirname, '../docs/screenshots')
const PAGES: Array<[string, string]> = [
  ['overview', '/console'],
  ['services', '/console/services'],
  ['access', '/console/access'],
  ['applications', '/console/applications'],
  ['audit', '/console/audit'],
  ['log', '/console/log'],
]

const rig = await startAdminRig({
  console: createConsole({ pages: CONSOLE_PAGES, publicPages: PUBLIC_PAGES }),
  messageLog: true,
  seed: content => {
    const sa = content.operators.find(o => o.id === 'sa')
    if (sa !== undefined) sa.name = 'Administratori i sistemit (AKSHI)'
  },
})
// A day of exchanges in the message log, so the overview and the log have something to show.
{
  const E_ALBANIA = 'AL-DEV/GOV/K11503002N/e-albania'
  const services = ['AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas/v1', 'AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet']
  const now = Date.now()
  for (let i = 0; i < 160; i++) {
    const at = new Date(now - (i < 60 ? i * 55_000 : i * 520_000))
    await logExchange(rig.log!.recorder, { client: E_ALBANIA, service: services[i % 2], at, ms: 20 + (i * 37) % 180, ...(i % 23 === 5 ? { status: 503 } : {}) })
  }
}
const browser = await openConsoleBrowser(rig.url, rig.caPem)
try {
  await mkdir(OUT, { recursive: true })
  const etag = (await rig.call('GET', '/admin/v1/operators/sa', { token: rig.tokens.sa })).headers.etag as string
  const login = await rig.call('PUT', '/admin/v1/operators/sa/login', { token: rig.tokens.sa, body: { username: 'akshi-admin', password: 'demo-akshi-admin-2026' }, headers: { 'x-ura-reason': 'screenshots', 'if-match': etag } })
  if (login.status !== 200) throw new Error(`setting the sign-in: ${login.status} ${login.text}`)
  const saved: string[] = []

  const phone = await (await browser.context({ viewport: PHONE, isMobile: true, hasTouch: true })).context.newPage()
  await phone.goto(`${rig.url}/console/signin`)
  await phone.screenshot({ path: join(OUT, 'console-signin-phone.png'), fullPage: true })
  saved.push('console-signin-phone.png')

  // Wider than the frame's 76rem, as on an office screen.
  const page = await (await browser.context({ viewport: { width: 1280, height: 800 } })).context.newPage()
  await page.goto(`${rig.url}/console/signin`)
  await page.screenshot({ path: join(OUT, 'console-signin.png') })
  saved.push('console-signin.png')
  await signIn(page, rig.url, { username: 'akshi-admin', password: 'demo-akshi-admin-2026', totpSecret: login.json.totpSecret }, new Date())
  for (const [name, path] of PAGES) {
    const res = await page.goto(`${rig.url}${path}`)
    if (res?.status() !== 200) { console.log(`${path}: ${res?.status() ?? 'no answer'}, no screenshot`); continue }
    await page.screenshot({ path: join(OUT, `console-${name}.png`), fullPage: true })
    saved.push(`console-${name}.png`)
  }
  console.log(`saved in docs/screenshots/: ${saved.join(', ')}`)
} finally {
  await browser.close()
  await rig.close()
}
