/**
 * The console's overview and message log pages over real TLS, on a node whose admin API reads a real
 * message log (exchanges written through the signing recorder): the overview's figures and charts,
 * the breakers and certificates the node reports; the log's search, an exchange's records (bodies
 * only for roles that may read them) and its evidence, which verifies offline; a municipality's
 * administrator sees its own member's exchanges only.
 */
import t from 'tap'
import type { NodeHealth } from '../admin/context.ts'
import { anchorsOnly } from '../certs/verifier.ts'
import { verifyEvidence } from '../messagelog/evidence.ts'
import { TIRANA } from './support/admin.ts'
import { signedIn, startConsoleRig } from './support/console-signins.ts'
import { logExchange } from './support/message-log.ts'

const E_ALBANIA = 'AL-DEV/GOV/K11503002N/e-albania'
const TAX = 'AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet'
const CIVIL = 'AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas/v1'
const MIN = 60_000
const ago = (ms: number): Date => new Date(Date.now() - ms)

const health = (): NodeHealth => ({
  breakers: [{ service: TAX, state: 'open', since: ago(2 * MIN).toISOString() }],
  certificatesExpiringSoon: [{ role: 'member signing', id: TIRANA, subject: `CN=${TIRANA}`, serial: '0a', notAfter: ago(-10 * 24 * 60 * MIN).toISOString(), daysLeft: 10, state: 'expiring' }],
})

t.test('overview and message log', async t => {
  const rig = await startConsoleRig({ messageLog: true, health })
  t.teardown(() => rig.close())
  const recorder = rig.log!.recorder
  const body = '{"nipt":"K81305012I"}'
  const taxCall = await logExchange(recorder, { client: E_ALBANIA, service: TAX, at: ago(20 * MIN), ms: 35, body, keepBody: true })
  await logExchange(recorder, { client: E_ALBANIA, service: CIVIL, at: ago(10 * MIN), ms: 120, status: 500 })
  await logExchange(recorder, { client: E_ALBANIA, service: CIVIL, at: ago(5 * MIN), ms: 80 })
  await logExchange(recorder, { client: E_ALBANIA, service: CIVIL, at: ago(5 * 60 * MIN), ms: 60 })

  const sa = await signedIn(t, rig, 'sa')
  const obs = await signedIn(t, rig, 'obs')
  const tirana = await signedIn(t, rig, 'svc-tirana')

  t.test('the overview counts the last hour and day, draws them, and lists breakers and certificates', async t => {
    const page = await sa.get('/console')
    t.equal(page.status, 200)
    t.match(page.text, /<h2 id="chart-hour-h">Ora e fundit<\/h2>\s*<p><span class="big">3<\/span>/, 'three exchanges in the last hour')
    t.match(page.text, /<h2 id="chart-day-h">24 orët e fundit<\/h2>\s*<p><span class="big">4<\/span>/, 'four in the day')
    t.match(page.text, /gabime <strong>33\.3 %<\/strong>/, 'one of three failed in the hour')
    t.match(page.text, /<svg class="chart" role="img"/)
    t.match(page.text, /<rect class="err"/, 'the failure is drawn')
    t.match(page.text, /taksat-vendore\/detyrimet<\/th><td><span class="badge bad">i hapur<\/span>/, 'the open breaker')
    t.match(page.text, /CN=AL-DEV\/NJQV\/L21603004L<\/th>.*10 ditë/s, 'the certificate expiring')
    t.match(page.text, /regjistri-civil\/kerkoShtetas\/v1<\/a><\/th><td class="num">3<\/td><td class="num">1<\/td>/, 'per service: exchanges and errors')
    const en = await sa.get('/console?lang=en')
    t.match(en.text, /Exchanges in the last hour, per 5 minutes/)
    t.match(en.text, /Slowest providers/)
    await sa.get('/console?lang=sq')
  })

  t.test('a municipality\'s administrator sees its own member\'s traffic only', async t => {
    const page = await tirana.get('/console')
    t.equal(page.status, 200)
    t.match(page.text, /<h2 id="chart-day-h">24 orët e fundit<\/h2>\s*<p><span class="big">1<\/span>/, 'only the exchange with Tirana\'s service')
    t.notMatch(page.text, /kerkoShtetas/)
    const log = await tirana.get('/console/log')
    t.equal(log.status, 200)
    t.match(log.text, new RegExp(taxCall))
    t.notMatch(log.text, /kerkoShtetas/)
  })

  t.test('the log finds an exchange by message id; its page shows its records and gives its evidence', async t => {
    const list = await sa.get('/console/log')
    t.equal(list.status, 200)
    t.equal([...list.text.matchAll(/<tr><td>/g)].length, 4, 'four exchanges')
    const found = await sa.get(`/console/log?messageId=${encodeURIComponent(taxCall)}`)
    t.equal([...found.text.matchAll(/<tr><td>/g)].length, 1)
    t.match(found.text, new RegExp(`href="/console/log/${encodeURIComponent(taxCall)}"`))
    const one = await sa.get(`/console/log/${encodeURIComponent(taxCall)}`)
    t.equal(one.status, 200)
    t.match(one.text, /kërkesë/)
    t.match(one.text, /përgjigje/)
    t.match(one.text, /Shkarko trupin/, 'a security-capable role may download the kept body')
    const seq = /records\/(\d+)\/body/.exec(one.text)![1]
    const bytes = await sa.get(`/console/log/${encodeURIComponent(taxCall)}/records/${seq}/body`)
    t.equal(bytes.status, 200)
    t.equal(bytes.text, body)
    const evidence = await sa.get(`/console/log/${encodeURIComponent(taxCall)}/evidence`)
    t.equal(evidence.status, 200)
    t.match(evidence.headers['content-disposition'], /attachment; filename="evidence-/)
    const verdict = verifyEvidence(JSON.parse(evidence.text), anchorsOnly([rig.caPem]))
    t.equal(verdict.ok, true, 'the evidence verifies offline')
  })

  t.test('an observer sees the records but not the bodies, and cannot fetch them', async t => {
    const one = await obs.get(`/console/log/${encodeURIComponent(taxCall)}`)
    t.equal(one.status, 200)
    t.notMatch(one.text, /Shkarko trupin/)
    t.match(one.text, /roli juaj nuk e lexon/)
    const bytes = await obs.get(`/console/log/${encodeURIComponent(taxCall)}/records/1/body`)
    t.equal(bytes.status, 403)
  })

  t.test('bad input is a page, not a crash', async t => {
    const bad = await sa.get('/console/log?from=yesterday')
    t.equal(bad.status, 400)
    t.match(bad.text, /Kjo nuk është një kohë e vlefshme/)
    const unknown = await sa.get('/console/log/no-such-message')
    t.equal(unknown.status, 404)
    const other = await tirana.get(`/console/log/${encodeURIComponent((await sa.get('/console/log?service=' + encodeURIComponent(CIVIL))).text.match(/href="\/console\/log\/([^"]+)"/)![1])}`)
    t.equal(other.status, 403, 'another member\'s exchange')
  })
})
