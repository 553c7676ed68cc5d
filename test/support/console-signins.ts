/**
 * Console tests of the access, applications and certificates pages: a rig with the console and the
 * public onboarding endpoints, a console sign-in (password and TOTP) set through the API for any
 * operator, and a signed-in ConsoleClient per operator. A TOTP step is used once per operator, so
 * each operator signs in once per test file.
 */
import type { Test } from 'tap'
import { createConsole } from '../../admin/console/index.ts'
import { CONSOLE_PAGES, PUBLIC_PAGES } from '../../admin/console/pages/index.ts'
import { publicOnboarding } from '../../admin/public-onboarding.ts'
import { totpCode } from '../../admin/totp.ts'
import { startAdminRig, type AdminRig, type RigOptions } from './admin.ts'
import { ConsoleClient } from './console.ts'

export async function startConsoleRig (opts: RigOptions = {}): Promise<AdminRig> {
  return startAdminRig({ ...opts, console: createConsole({ pages: CONSOLE_PAGES, publicPages: PUBLIC_PAGES }), publicPlugins: [publicOnboarding()] })
}

/** Gives `id` a console sign-in and signs it in; answers its client. */
export async function signedIn (t: Test, rig: AdminRig, id: string): Promise<ConsoleClient> {
  const password = `correct horse ${id} battery`
  const etag = (await rig.call('GET', `/admin/v1/operators/${id}`, { token: rig.tokens.sa })).headers.etag as string
  const set = await rig.call('PUT', `/admin/v1/operators/${id}/login`, { token: rig.tokens.sa, body: { username: `${id}.user`, password }, headers: { 'x-ura-reason': 'console test', 'if-match': etag } })
  if (set.status !== 200) throw new Error(`login for ${id}: ${set.status} ${set.text}`)
  const c = new ConsoleClient(rig.url, rig.caPem)
  t.teardown(() => c.close())
  await c.get('/console/signin')
  const first = await c.post('/console/signin', { username: `${id}.user`, password, next: '/console' })
  if (first.status !== 303 || first.location === undefined) throw new Error(`password for ${id}: ${first.status}`)
  await c.get(first.location)
  const done = await c.post('/console/signin/code', { code: totpCode(set.json.totpSecret as string, new Date()), next: '/console' })
  if (done.status !== 303) throw new Error(`code for ${id}: ${done.status} ${done.text.slice(0, 300)}`)
  return c
}

const unescape = (s: string): string => s.replaceAll('&quot;', '"').replaceAll('&#39;', '\'').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&')

/**
 * The hidden fields of the first form posting to `action` whose HTML holds every string of
 * `containing`; undefined when the page has no such form.
 */
export function formOf (text: string, action: string, ...containing: string[]): Record<string, string> | undefined {
  for (const m of text.matchAll(/<form\b[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)) {
    if (unescape(m[1]) !== action || !containing.every(c => m[2].includes(c))) continue
    const out: Record<string, string> = {}
    for (const h of m[2].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) out[h[1]] = unescape(h[2])
    return out
  }
  return undefined
}
