/**
 * The Chromium inside the npm package @sparticuz/chromium (a brotli-packed headless shell, Linux
 * x86-64), so the browser test needs no system browser. The package unpacks it into the temp
 * directory on first use; here that happens in a private staging directory renamed into place once
 * complete, so an interrupted unpack, or two test processes unpacking at once, never leave a
 * half-written browser for the next run to pick up.
 */
import chromium from '@sparticuz/chromium'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { QUIET_ARGS } from './catalogue-browser.ts'

/**
 * The package's flags relax the browser's security for scraping (`--disable-web-security`,
 * `--allow-running-insecure-content`); a test of what a person's browser shows keeps them out.
 */
const RELAXING = new Set(['--disable-web-security', '--allow-running-insecure-content'])

export async function npmChromium (): Promise<{ executablePath: string; args: string[] }> {
  const pkg = fileURLToPath(new URL('../package.json', import.meta.resolve('@sparticuz/chromium')))
  const { version } = JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }
  const home = join(tmpdir(), `ura-sparticuz-chromium-${version}`)
  if (!existsSync(join(home, 'chromium'))) {
    const staging = await mkdtemp(join(tmpdir(), 'ura-chromium-unpack-'))
    // The package unpacks into os.tmpdir(), which follows TMPDIR at each call.
    const saved = process.env.TMPDIR
    process.env.TMPDIR = staging
    try {
      const unpacked = await chromium.executablePath()
      if (unpacked !== join(staging, 'chromium')) throw new Error(`@sparticuz/chromium unpacked to ${unpacked}, expected ${staging}`)
    } finally {
      if (saved === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = saved
    }
    try {
      await rename(staging, home)
    } catch (err) {
      // Another process got there first with a complete copy: use that one.
      await rm(staging, { recursive: true, force: true })
      if (!existsSync(join(home, 'chromium'))) throw err
    }
  }
  const args = chromium.args.filter(a => !RELAXING.has(a))
  return { executablePath: join(home, 'chromium'), args: [...args, ...QUIET_ARGS.filter(a => !args.includes(a))] }
}
