/**
 * The catalogue and the API docs as a person sees them, in the Chromium that the npm package
 * @sparticuz/chromium ships (so the suite needs no system browser), headless, driven by
 * playwright-core against the demo. The walk-through and its assertions live in
 * support/catalogue-browser.ts; `npm run conformance` runs the same one on Debian's chromium.
 * Screenshots go to `.tap/screenshots/catalogue/`; any request leaving loopback fails the test.
 */
import t from 'tap'
import { catalogueWalkthrough } from './support/catalogue-browser.ts'
import { npmChromium } from './support/chromium.ts'

catalogueWalkthrough(t, { screenshots: 'catalogue', browser: npmChromium })
