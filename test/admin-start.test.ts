/**
 * The admin API as `ura start` runs it (startAdmin): onboarding's public endpoints are mounted on
 * the admin listener, answer in the admin API's error shape and are rate limited per address; the
 * certificate expiry notices job adds the 30-day notice of a certificate once at start, a second
 * run adds nothing, and two nodes running it at once on one store add a notice once.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Agent, request } from 'undici'
import { addExpiryNotices, EXPIRY_NOTICE_WHY } from '../admin/expiry-job.ts'
import { caIssuer, issueCertificate } from '../admin/onboarding/index.ts'
import { startAdmin } from '../admin/start.ts'
import { BatchSigner } from '../certs/batch-signer.ts'
import { initPki } from '../certs/dev-pki.ts'
import { Keystore } from '../certs/keystore.ts'
import { keystoreSigningKeys } from '../certs/keystore-signer.ts'
import { openNodePki } from '../certs/node-pki.ts'
import { createRootCa } from '../certs/pki.ts'
import { importDir, openRegistryStore, REGISTRY_FILE, type RegistryContent } from '../registry/store/index.ts'
import { demoConfig, TEST_PASSPHRASE } from './support/gateway.ts'
import { csr } from './support/onboarding.ts'

const DAY = 24 * 60 * 60 * 1000
const OWNER = 'AL-DEV/GOV/K11503002N/e-albania'
/** The demo's security officer (config/demo/operators.yaml; published in docs/admin-api.md). */
const SECURITY_OFFICER = 'ura_akshi-siguria-demo_6a282f456a5445f57fdd9cbb9295adb317cdc088aae1f59d4d36b41aae9d6717'

/** A certificate for e-Albania's system, valid `days` from now, issued by a CA of the test's. */
function withCertificate (content: RegistryContent, days: number): { content: RegistryContent; serial: string } {
  const { content: next, certificate } = issueCertificate(content, { csr: csr(OWNER).pem, role: 'tls', owner: OWNER, by: 'test', now: new Date(), issue: caIssuer(createRootCa(), { days }) })
  return { content: next, serial: certificate.serial }
}

t.test('startAdmin mounts public onboarding and keeps expiry notices; several nodes add each notice once', async t => {
  process.env.URA_KEY_PASSPHRASE = TEST_PASSPHRASE
  const dataDir = await mkdtemp(join(tmpdir(), 'ura-admin-start-'))
  const config = await demoConfig({ 'node.yaml': text => text.replace(/dataDir: .*/, `dataDir: ${dataDir}`).replace(/port: 8444/, 'port: 0') })
  initPki({ keystore: new Keystore(dataDir, { passphrase: TEST_PASSPHRASE }), config })
  const pki = openNodePki(dataDir, { passphrase: TEST_PASSPHRASE })
  const store = await openRegistryStore(join(dataDir, REGISTRY_FILE), { instance: config.node.instance })
  t.teardown(() => store.close())
  const seeded = withCertificate(await importDir(config.dir), 29)
  await store.commit(seeded.content, { who: 'test', why: 'a certificate that expires in 29 days', expectedVersion: 0 })

  const signer = new BatchSigner(keystoreSigningKeys(pki.keystore, pki.trust), { batchMs: 0, batchMax: 64 })
  const running = await startAdmin({ config, pki, signer, store })
  t.ok(running)
  t.teardown(() => running?.close())
  const admin = running!

  // The notice is due at start: one version by `ura`, one notice, its key naming the 30-day stage.
  let v = await store.current()
  t.equal(v.version, 2, 'one version at start')
  t.same([v.who, v.why], ['ura', EXPIRY_NOTICE_WHY])
  const expiry = (c: RegistryContent): RegistryContent['outbox'] => c.outbox.filter(n => n.key !== undefined)
  t.same(expiry(v.content).map(n => n.key), [`expiry:${seeded.serial}:30`])
  t.match(expiry(v.content)[0].subject, /expires in (28|29) days/)
  t.equal(await admin.expiry.tick(), undefined, 'a second run adds nothing')
  t.equal((await store.current()).version, 2)

  // Two nodes on one store at once, a certificate now 13 days from its end: the notice is added once.
  const later = withCertificate(v.content, 13)
  await store.commit(later.content, { who: 'test', why: 'a certificate that expires in 13 days', expectedVersion: 2 })
  const runs = await Promise.all([addExpiryNotices(store, new Date()), addExpiryNotices(store, new Date())])
  t.equal(runs.filter(r => r !== undefined).length, 1, 'one node commits, the other loses the race and adds nothing')
  t.equal(await admin.expiry.tick(), undefined, 'and finds it there at its next run')
  v = await store.current()
  t.equal(v.version, 4)
  t.same(expiry(v.content).map(n => n.key), [`expiry:${seeded.serial}:30`, `expiry:${later.serial}:14`])

  // Onboarding's public endpoints on the admin listener, in its error shape, rate limited.
  const agent = new Agent({ connect: { ca: pki.trust.anchors.map(a => a.toString()) } })
  t.teardown(() => agent.close())
  const post = async (): Promise<{ status: number; headers: Record<string, unknown>; json: any }> => {
    const res = await request(`${admin.url}/public/v1/applications`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', dispatcher: agent })
    return { status: res.statusCode, headers: res.headers, json: await res.body.json() }
  }
  const first = await post()
  t.equal(first.status, 415)
  t.same(first.json, { type: 'Onboarding.UnsupportedMediaType', message: first.json.message, detail: { requestId: first.headers['x-request-id'] } })
  let limited
  for (let i = 0; i < 30 && limited === undefined; i++) {
    const res = await post()
    if (res.status === 429) limited = res
  }
  t.equal(limited?.json.type, 'Admin.RateLimited', 'an address is slowed down')
  t.ok(Number(limited?.headers['retry-after']) >= 1, 'with Retry-After')
  // Read back as the demo's security officer does.
  const trail = await request(`${admin.url}/admin/v1/audit?action=application.submit&limit=1000`, { headers: { authorization: `Bearer ${SECURITY_OFFICER}` }, dispatcher: agent })
  const submits = ((await trail.body.json()) as { items: Array<{ operator: string; result: string; errorCode: string }> }).items
  t.ok(submits.length >= 20 && submits.every(r => r.operator === 'anonymous' && r.result === 'refused'), 'every refused submission is in the audit trail, by anonymous')
  t.same([...new Set(submits.map(r => r.errorCode))].sort(), ['Admin.RateLimited', 'Onboarding.UnsupportedMediaType'], 'with its code')
  t.equal((await store.current()).version, 4, 'no refusal moved the registry')
})
