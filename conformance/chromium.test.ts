/**
 * Conformance: the catalogue walk-through of test/catalogue-browser.test.ts on Debian's chromium
 * (a full browser, where `npm test` uses the headless shell packed in @sparticuz/chromium), with
 * the same assertions and the same closed network. Screenshots go to
 * `.tap/screenshots/catalogue-debian/`. Without /usr/bin/chromium this file fails (it never skips).
 */
import { accessSync, constants, statSync } from 'node:fs'
import t from 'tap'
import { QUIET_ARGS, catalogueWalkthrough } from '../test/support/catalogue-browser.ts'

const CHROMIUM = '/usr/bin/chromium'

const executable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

if (!executable(CHROMIUM)) {
  t.fail(`${CHROMIUM} is missing or not an executable file: install Debian's chromium package (apt-get install -y chromium; .ci/run does this)`)
} else {
  catalogueWalkthrough(t, { screenshots: 'catalogue-debian', browser: async () => ({ executablePath: CHROMIUM, args: ['--headless', ...QUIET_ARGS] }) })
}
