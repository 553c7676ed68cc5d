/**
 * The message log and the traffic summary on the admin API, against the embedded and the PostgreSQL
 * log store: exchanges written through the real recorder (signed, appended) at chosen times, then
 * searched (filters, keyset pages, member scope), read (bodies only for log.bodies), downloaded as
 * evidence that verifies offline, and counted per service and time bucket with the node's open
 * breakers. Also a real exchange through the gateway found on the admin API, and 503
 * Admin.LogUnavailable on a node that gives the admin API no log.
 */
import t, { type Test } from 'tap'
import { request } from 'undici'
import type { NodeHealth } from '../admin/context.ts'
import { BatchSigner } from '../certs/batch-signer.ts'
import { keystoreSigningKeys } from '../certs/keystore-signer.ts'
import { anchorsOnly } from '../certs/verifier.ts'
import { verifyEvidence, type EvidenceDocument } from '../messagelog/evidence.ts'
import { SigningRecorder } from '../messagelog/recorder.ts'
import { startAdminRig, TIRANA, type AdminRig, type Answer } from './support/admin.ts'
import { startRig } from './support/gateway.ts'
import { logExchange } from './support/message-log.ts'
import { scratchDatabases } from './support/postgres.ts'

const E_ALBANIA = 'AL-DEV/GOV/K11503002N/e-albania'
const TIRANA_CIVIL = 'AL-DEV/NJQV/L21603004L/gjendja-civile'
const TAX = 'AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet'
const CIVIL = 'AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas/v1'
const NOW = new Date('2026-03-10T12:00:00.000Z')
const MIN = 60 * 1000
const ago = (ms: number): Date => new Date(NOW.getTime() - ms)
const q = encodeURIComponent

function refused (t: Test, res: Answer, status: number, type: string, what: string): void {
  t.equal(res.status, status, `${what}: ${status}`)
  t.equal(res.json?.type, type, `${what}: ${type}`, { body: res.text.slice(0, 300) })
}

const database = scratchDatabases(t, 'ura_admin_log')

/** What the node says of its health: one breaker open on each provider. */
const health = (): NodeHealth => ({
  breakers: [{ service: TAX, state: 'open', since: ago(2 * MIN).toISOString() }, { service: CIVIL, state: 'half-open', since: ago(9 * MIN).toISOString() }],
  certificatesExpiringSoon: [
    { role: 'member signing', id: TIRANA, subject: `CN=${TIRANA}`, serial: '0a', notAfter: ago(-10 * 24 * 60 * MIN).toISOString(), daysLeft: 10, state: 'expiring' },
    { role: 'node TLS', subject: 'CN=ura-node', serial: '0b', notAfter: ago(-20 * 24 * 60 * MIN).toISOString(), daysLeft: 20, state: 'expiring' },
  ],
})

function suite (name: string, where: () => Promise<{ messageLog: true | string; storeUrl?: string }>): void {
  t.test(`${name} log store`, async t => {
    const opts = await where()
    const rig: AdminRig = await startAdminRig({ ...opts, health, now: () => NOW })
    t.teardown(() => rig.close())
    const as = (operator: string): { token: string } => ({ token: rig.tokens[operator] })
    const get = (path: string, operator = 'sa'): Promise<Answer> => rig.call('GET', path, as(operator))
    const recorder = rig.log!.recorder

    // Oldest first, so the log's order is the order of time.
    const old = await logExchange(recorder, { client: E_ALBANIA, service: CIVIL, at: ago(2 * 24 * 60 * MIN) })
    const earlier = await logExchange(recorder, { client: E_ALBANIA, service: CIVIL, at: ago(3 * 60 * MIN), ms: 60 })
    const a = await logExchange(recorder, { messageId: 'msg/tirana 1', client: E_ALBANIA, service: TAX, at: ago(50 * MIN), ms: 30, userId: 'AL-I50314123V', body: '{"nipt":"K81305012I"}', keepBody: true })
    const b = await logExchange(recorder, { client: E_ALBANIA, service: CIVIL, at: ago(40 * MIN), ms: 120, status: 500, keepBody: true })
    const c = await logExchange(recorder, { client: TIRANA_CIVIL, service: CIVIL, at: ago(30 * MIN), ms: 700, fault: 'Server.ServiceFailed' })
    const d = await logExchange(recorder, { client: E_ALBANIA, service: CIVIL, at: ago(20 * MIN), status: null })
    const e = await logExchange(recorder, { client: E_ALBANIA, service: TAX, at: ago(10 * MIN), ms: 8 })
    const newestFirst = [e, d, c, b, a, earlier, old]

    t.test('search: newest first, one item per exchange with its response, in keyset pages', async t => {
      const all = await get('/admin/v1/log')
      t.equal(all.status, 200, all.text)
      t.same(all.json.items.map((i: { messageId: string }) => i.messageId), newestFirst)
      t.notOk('next' in all.json, 'one page holds them all')
      const [ie, id, ic, , ia] = all.json.items
      t.same(ia, {
        seq: ia.seq, messageId: a, requestId: ia.requestId, client: E_ALBANIA, service: TAX, protocol: 'rest', method: 'GET', path: '/subjekte/K81305012I/detyrime?viti=2026',
        userId: 'AL-I50314123V', requestTime: ago(50 * MIN).toISOString(), responseTime: ago(50 * MIN - 30).toISOString(), status: 200, fault: null, durationMs: 30,
      })
      t.equal(ie.durationMs, 8)
      t.same([id.responseTime, id.status, id.durationMs], [null, null, null], 'no response yet')
      t.same([ic.protocol, ic.fault, ic.durationMs], ['soap', 'Server.ServiceFailed', 700])

      const seen: string[] = []
      let next: number | undefined
      let pages = 0
      do {
        const page = await get(`/admin/v1/log?limit=3${next === undefined ? '' : `&before=${next}`}`)
        t.equal(page.status, 200, page.text)
        seen.push(...page.json.items.map((i: { messageId: string }) => i.messageId))
        next = page.json.next
        pages++
      } while (next !== undefined)
      t.same(seen, newestFirst, 'the pages walk the whole log once')
      t.equal(pages, 3)
    })

    t.test('search filters: message id, client, service, time', async t => {
      const ids = async (query: string): Promise<string[]> => {
        const res = await get(`/admin/v1/log?${query}`)
        t.equal(res.status, 200, `${query}: ${res.text}`)
        return res.json.items.map((i: { messageId: string }) => i.messageId)
      }
      t.same(await ids(`service=${q(TAX)}`), [e, a])
      t.same(await ids(`client=${q(TIRANA_CIVIL)}`), [c])
      t.same(await ids(`messageId=${q(a)}`), [a])
      t.same(await ids(`service=${q(CIVIL)}&from=${q(ago(45 * MIN).toISOString())}&to=${q(ago(20 * MIN).toISOString())}`), [c, b], 'from inclusive, to exclusive')
      t.same(await ids(`from=${q('2026-03-10T13:00:00+02:00')}`), [e, d, c, b, a], 'an offset is a time like any other')
      t.same(await ids('client=AL-DEV/GOV/K11503002N'), [], 'ids are exact: a member is not its subsystems')
    })

    t.test('a member-scoped operator finds the exchanges its member is party to, as client or as provider', async t => {
      const scoped = await get('/admin/v1/log', 'svc-tirana')
      t.equal(scoped.status, 200, scoped.text)
      t.same(scoped.json.items.map((i: { messageId: string }) => i.messageId), [e, c, a], 'its service called, and its system calling')
      const other = await get(`/admin/v1/log?service=${q(CIVIL)}`, 'svc-tirana')
      t.same(other.json.items.map((i: { messageId: string }) => i.messageId), [c], 'another member\'s service: only the exchanges its system made')
      refused(t, await get('/admin/v1/log', 'ro'), 403, 'Admin.Forbidden', 'a registration officer does not read the log')
    })

    t.test('bad search input is a typed 400', async t => {
      refused(t, await get('/admin/v1/log?limit=501'), 400, 'Admin.InvalidRequest', 'more than 500')
      refused(t, await get('/admin/v1/log?limit=0'), 400, 'Admin.InvalidRequest', 'zero')
      refused(t, await get('/admin/v1/log?from=yesterday'), 400, 'Admin.InvalidRequest', 'not a time')
      refused(t, await get(`/admin/v1/log?from=${q('2026-02-30T10:00:00Z')}`), 400, 'Admin.InvalidRequest', 'no such day')
      refused(t, await get(`/admin/v1/log?from=${q(NOW.toISOString())}&to=${q(ago(MIN).toISOString())}`), 400, 'Admin.InvalidRequest', 'from after to')
      refused(t, await get('/admin/v1/log?before=abc'), 400, 'Admin.InvalidRequest', 'a page key that is not a sequence number')
      refused(t, await get('/admin/v1/log?user=x'), 400, 'Admin.InvalidRequest', 'an unknown filter')
    })

    t.test('an exchange\'s records: bodies for those who may read them, the fact of a body for the others', async t => {
      const sa = await get(`/admin/v1/log/${q(a)}`)
      t.equal(sa.status, 200, sa.text)
      t.equal(sa.json.messageId, a)
      t.same(sa.json.records.map((r: { direction: string }) => r.direction), ['request', 'response'])
      const [req] = sa.json.records
      t.equal(Buffer.from(req.body, 'base64').toString(), '{"nipt":"K81305012I"}', 'the system administrator reads the body')
      t.same([req.bodyLogged, req.client, req.service, req.signer, req.userId], [true, E_ALBANIA, TAX, 'AL-DEV/GOV/K11503002N', 'AL-I50314123V'])
      t.ok(req.hash && req.signatureId && req.bodyDigest, 'where it is in the chain, and its digests')
      t.notOk('proof' in req, 'proofs are in the evidence')

      const obs = await get(`/admin/v1/log/${q(a)}`, 'obs')
      t.equal(obs.status, 200, obs.text)
      t.same(obs.json.records.map((r: Record<string, unknown>) => [r.bodyLogged, 'body' in r]), [[true, false], [true, false]], 'an observer learns a body was kept, not its bytes')
      const digestOnly = await get(`/admin/v1/log/${q(e)}`, 'sec')
      t.same(digestOnly.json.records.map((r: Record<string, unknown>) => [r.bodyLogged, 'body' in r]), [[false, false], [false, false]], 'a service that logs digests only')

      refused(t, await get('/admin/v1/log/no-such-message'), 404, 'Admin.NotFound', 'an unknown message id')
      t.equal((await get(`/admin/v1/log/${q(a)}`, 'svc-tirana')).status, 200, 'its own member\'s exchange')
      refused(t, await get(`/admin/v1/log/${q(b)}`, 'svc-tirana'), 403, 'Admin.Forbidden', 'another member\'s exchange')
      refused(t, await get('/admin/v1/log/no-such-message', 'svc-tirana'), 403, 'Admin.Forbidden', 'a scoped operator learns nothing of unknown ids either')
    })

    t.test('evidence: a download that verifies offline, with bodies only for log.bodies', async t => {
      const trust = anchorsOnly([rig.caPem])
      const obs = await get(`/admin/v1/log/${q(a)}/evidence`, 'obs')
      t.equal(obs.status, 200, obs.text)
      t.match(obs.headers['content-disposition'], /^attachment; filename="evidence-msg_tirana_1\.json"$/)
      t.match(obs.headers['content-type'], /^application\/json/)
      const withoutBodies = obs.json as EvidenceDocument
      t.same(withoutBodies.records.map(r => r.body), [null, null], 'no bodies for an observer')
      const verdict = verifyEvidence(withoutBodies, trust)
      t.ok(verdict.ok, verdict.problems.join('; '))
      t.match(verdict.verified.join('\n'), /body digest only/)

      const sec = await get(`/admin/v1/log/${q(a)}/evidence`, 'sec')
      const withBodies = sec.json as EvidenceDocument
      t.equal(Buffer.from(withBodies.records[0].body!, 'base64').toString(), '{"nipt":"K81305012I"}', 'a security officer gets the bodies')
      t.ok(verifyEvidence(withBodies, trust).ok)
      const altered = structuredClone(withBodies)
      altered.records[0].body = Buffer.from('{"nipt":"L00000000A"}').toString('base64')
      t.notOk(verifyEvidence(altered, trust).ok, 'an altered body does not verify')
      refused(t, await get(`/admin/v1/log/${q(b)}/evidence`, 'svc-tirana'), 403, 'Admin.Forbidden', 'another member\'s evidence')
      refused(t, await get('/admin/v1/log/no-such-message/evidence'), 404, 'Admin.NotFound', 'an unknown message id')
    })

    t.test('a body as a download, for log.bodies only', async t => {
      const records = (await get(`/admin/v1/log/${q(a)}`)).json.records as Array<{ seq: number }>
      const res = await get(`/admin/v1/log/${q(a)}/records/${records[0].seq}/body`, 'sec')
      t.equal(res.status, 200, res.text)
      t.equal(res.text, '{"nipt":"K81305012I"}')
      t.equal(res.headers['content-type'], 'application/octet-stream')
      t.match(res.headers['content-disposition'], /^attachment; filename="msg_tirana_1-\d+-request\.bin"$/)
      refused(t, await get(`/admin/v1/log/${q(a)}/records/${records[0].seq}/body`, 'obs'), 403, 'Admin.Forbidden', 'an observer')
      const digestOnly = (await get(`/admin/v1/log/${q(e)}`)).json.records as Array<{ seq: number }>
      refused(t, await get(`/admin/v1/log/${q(e)}/records/${digestOnly[0].seq}/body`), 404, 'Admin.NotFound', 'no body was kept')
      refused(t, await get(`/admin/v1/log/${q(a)}/records/${digestOnly[0].seq}/body`), 404, 'Admin.NotFound', 'a record of another message')
    })

    t.test('traffic of the last hour: per service, per provider, per bucket; breakers and certificates', async t => {
      const res = await get('/admin/v1/traffic')
      t.equal(res.status, 200, res.text)
      const s = res.json
      t.same([s.window, s.from, s.to, s.bucketMs], ['1h', ago(60 * MIN).toISOString(), NOW.toISOString(), 5 * MIN])
      const tax = s.services.find((x: { service: string }) => x.service === TAX)
      const civil = s.services.find((x: { service: string }) => x.service === CIVIL)
      t.same({ ...tax, p50Ms: undefined, p95Ms: undefined }, { service: TAX, member: TIRANA, exchanges: 2, errors: 0, errorRate: 0, p50Ms: undefined, p95Ms: undefined, series: [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0] })
      t.ok(tax.p50Ms > 5 && tax.p50Ms <= 20, `p50 ${tax.p50Ms} between the two`)
      t.ok(tax.p95Ms > 20 && tax.p95Ms <= 50, `p95 ${tax.p95Ms} near the slower one (30 ms)`)
      t.same([civil.exchanges, civil.errors, civil.errorRate], [3, 3, 1], 'a 500, a fault and no response are errors')
      t.ok(civil.p95Ms > 500 && civil.p95Ms <= 1000, `p95 ${civil.p95Ms} (700 ms)`)
      t.same(s.series.map((b: { exchanges: number }) => b.exchanges), [0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0])
      t.same(s.series.map((b: { errors: number }) => b.errors), [0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0])
      t.equal(s.series[2].start, ago(50 * MIN).toISOString())
      t.same(s.providers.map((p: { member: string; slowest: { service: string } }) => [p.member, p.slowest.service]), [['AL-DEV/GOV/L01417001D', CIVIL], [TIRANA, TAX]])
      t.same(s.breakers.map((x: { service: string; state: string }) => [x.service, x.state]), [[TAX, 'open'], [CIVIL, 'half-open']])
      t.equal(s.certificatesExpiringSoon.length, 2)

      const day = await get('/admin/v1/traffic?window=24h')
      t.equal(day.status, 200, day.text)
      t.equal(day.json.series.length, 24)
      t.equal(day.json.services.find((x: { service: string }) => x.service === CIVIL).exchanges, 4, 'three hours ago is in the day')

      const scoped = await get('/admin/v1/traffic', 'svc-tirana')
      t.equal(scoped.status, 200, scoped.text)
      t.same(scoped.json.services.map((x: { service: string; exchanges: number }) => [x.service, x.exchanges]), [[CIVIL, 1], [TAX, 2]], 'its member\'s exchanges only')
      t.same(scoped.json.breakers.map((x: { service: string }) => x.service), [TAX], 'its member\'s breakers')
      t.same(scoped.json.certificatesExpiringSoon.map((x: { serial: string }) => x.serial), ['0a'], 'its member\'s certificates')
      refused(t, await get('/admin/v1/traffic?window=2h'), 400, 'Admin.InvalidRequest', 'a window it does not have')
    })
  })
}

suite('embedded', async () => ({ messageLog: true }))
suite('PostgreSQL', async () => {
  const url = await database()
  return { messageLog: url, storeUrl: url }
})

t.test('without a message log the log and traffic routes answer 503 Admin.LogUnavailable', async t => {
  const rig = await startAdminRig()
  t.teardown(() => rig.close())
  for (const path of ['/admin/v1/log', '/admin/v1/log/x', '/admin/v1/log/x/evidence', '/admin/v1/traffic']) {
    refused(t, await rig.call('GET', path, { token: rig.tokens.obs }), 503, 'Admin.LogUnavailable', path)
  }
  refused(t, await rig.call('GET', '/admin/v1/log', { token: rig.tokens.ro }), 403, 'Admin.Forbidden', 'authorization comes first')
})

t.test('an exchange through the gateway is found on the admin API', async t => {
  const rig = await startAdminRig({ messageLog: true })
  const keys = keystoreSigningKeys(rig.pki.keystore, rig.pki.trust)
  const signer = new BatchSigner(keys, { batchMs: 0, batchMax: 64 })
  const log = rig.log!
  const gateway = await startRig({ config: rig.config, messageLog: { store: log.store, signer, recorder: new SigningRecorder(log.store, keys), close: async () => {} } })
  t.teardown(async () => { await gateway.close(); await rig.close() })
  const res = await request(`${gateway.url}/r1/${TAX}/subjekte/K81305012I/detyrime?viti=2026`, { headers: { 'X-Road-Client': E_ALBANIA, 'X-Road-Id': 'shkembim-1', 'X-Road-UserId': 'AL-I50314123V' } })
  await res.body.text()
  t.equal(res.statusCode, 200)
  const found = await rig.call('GET', `/admin/v1/log?messageId=shkembim-1`, { token: rig.tokens.obs })
  t.equal(found.status, 200, found.text)
  t.equal(found.json.items.length, 1)
  const [item] = found.json.items
  t.same([item.client, item.service, item.status, item.userId, item.method], [E_ALBANIA, TAX, 200, 'AL-I50314123V', 'GET'])
  t.ok(item.durationMs >= 0, 'the provider\'s time')
  const evidence = await rig.call('GET', '/admin/v1/log/shkembim-1/evidence', { token: rig.tokens.obs })
  t.ok(verifyEvidence(evidence.json, anchorsOnly([rig.caPem])).ok, 'its evidence verifies')
})

t.test('deferred signing: the evidence of an exchange whose batch is not signed yet answers 503 Admin.EvidenceNotSigned with Retry-After, then downloads', async t => {
  const rig = await startAdminRig({ messageLog: 'deferred' })
  t.teardown(() => rig.close())
  const id = await logExchange(rig.log!.recorder, { client: E_ALBANIA, service: TAX, at: new Date() })
  const early = await rig.call('GET', `/admin/v1/log/${q(id)}/evidence`, { token: rig.tokens.obs })
  refused(t, early, 503, 'Admin.EvidenceNotSigned', 'before the batch is signed')
  t.equal(early.headers['retry-after'], '1')
  t.equal((early.json?.detail as { pending?: string[] }).pending?.length, 2, 'the request\'s and the response\'s batches are named')
  const end = Date.now() + 10_000
  let later = early
  while (later.status === 503 && Date.now() < end) {
    await new Promise(resolve => setTimeout(resolve, 100))
    later = await rig.call('GET', `/admin/v1/log/${q(id)}/evidence`, { token: rig.tokens.obs })
  }
  t.equal(later.status, 200, 'downloaded once signed')
  t.ok(verifyEvidence(JSON.parse(later.text) as EvidenceDocument, anchorsOnly([rig.caPem])).ok)
})
