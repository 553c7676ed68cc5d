/**
 * Signed, logged exchanges through the real gateway: evidence retrieval (parties and operators only),
 * offline verification with `ura verify` and `ura log verify`, altered evidence refused, and
 * `Server.ClientProxy.LoggingFailed` when the log or the signing key cannot be used.
 */
import { execFile } from 'node:child_process'
import { hash, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { Agent, request } from 'undici'
import { initPki } from '../certs/dev-pki.ts'
import { Keystore } from '../certs/keystore.ts'
import { keystoreSigningKeys } from '../certs/keystore-signer.ts'
import { createRootCa, type KeyType } from '../certs/pki.ts'
import { TrustStore } from '../certs/trust-store.ts'
import { anchorsOnly } from '../certs/verifier.ts'
import type { UraConfig } from '../config/types.ts'
import { verifyEvidence, type EvidenceDocument } from '../messagelog/evidence.ts'
import { openMessageLog, type MessageLog } from '../messagelog/index.ts'
import { WRITER_YOUNG_MB } from '../messagelog/sqlite-store.ts'
import { scratchDatabase } from './support/postgres.ts'
import { demoConfig, DURRES_SOCIAL, E_ALBANIA, startRig, startTlsRig, TAX_SERVICE, TEST_PASSPHRASE, type Rig } from './support/gateway.ts'

const run = promisify(execFile)
const URA = resolve(import.meta.dirname, '../cli/main.ts')
const OPERATOR = 'AL-DEV/GOV/M01712003P/operimet'
const TIRANA_TAXES = 'AL-DEV/NJQV/L21603004L/taksat-vendore'
const TAX = `/r1/${TAX_SERVICE}/subjekte/K81305012I/detyrime?viti=2026`

/** The demo configuration in a temp dir with its own data dir, an operator, and the tax service logging full bodies. */
async function logConfig (log: string): Promise<UraConfig> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ura-data-'))
  return demoConfig({
    'node.yaml': text => text.replace(/\n  operators: .*/, '').replace(/dataDir: .*/, `dataDir: ${dataDir}\n  operators: [${OPERATOR}]\n  log: ${log}`),
    // The provider system asks for evidence itself in these tests, over plain HTTP.
    'members.yaml': text => text.replace('name: Sistemi i taksave dhe tarifave vendore', 'name: Sistemi i taksave dhe tarifave vendore\n        connection: http'),
    'services.yaml': text => text.replace(/(code: detyrimet[\s\S]*?)bodyLogging: digest/, '$1bodyLogging: full'),
  }, {
    'operators.yaml': `members:\n  - class: GOV\n    code: M01712003P\n    name: Operatori i nyjes\n    subsystems:\n      - code: operimet\n        connection: http\n` +
      `access:\n  - service: ${TAX_SERVICE}\n    clients: [AL-DEV/NJQV/L21603004L/gjendja-civile]\n`,
  })
}

interface LoggedRig extends Rig { config: UraConfig; log: MessageLog; keystore: Keystore; caFile: string }

/** A gateway signing with the dev PKI's member keys (`ura init`), logging to the configured store. */
async function loggedRig (config: UraConfig, memberKeyType: KeyType): Promise<LoggedRig> {
  const keystore = new Keystore(resolve(config.dir, config.node.dataDir), { passphrase: 'test-passphrase' })
  initPki({ keystore, config, memberKeyType })
  const log = await openMessageLog(config, keystoreSigningKeys(keystore, TrustStore.load(keystore.paths)))
  const rig = await startRig({ config, messageLog: log })
  return { ...rig, config, log, keystore, caFile: keystore.paths.caCert }
}

async function call (rig: Rig, path: string, headers: Record<string, string>, body?: string) {
  const res = await request(`${rig.url}${path}`, { method: body === undefined ? 'GET' : 'POST', headers, ...(body === undefined ? {} : { body }) })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, text }
}

async function evidence (rig: Rig, messageId: string, caller: string) {
  const res = await call(rig, `/evidence/${encodeURIComponent(messageId)}`, { 'X-Road-Client': caller })
  return { ...res, doc: res.status === 200 ? JSON.parse(res.text) as EvidenceDocument : undefined }
}

async function ura (args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [URA, ...args], { env: { ...process.env, URA_KEY_PASSPHRASE: 'test-passphrase' } })
    return { code: 0, out: stdout + stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, out: e.stdout + e.stderr }
  }
}

t.test('configuration: operators must be registered, a postgres log needs its url', async t => {
  const fails = async (log: string, operators: string, re: RegExp) => {
    await t.rejects(demoConfig({ 'node.yaml': text => text.replace(/\n  operators: .*/, '').replace(/dataDir: .*/, `dataDir: data\n  operators: [${operators}]\n  log: ${log}`) }), re)
  }
  await fails('{ store: embedded }', 'AL-DEV/GOV/NOBODY/x', /node\.operators\[0\]: operator AL-DEV\/GOV\/NOBODY\/x is not a registered member or subsystem/)
  await fails('{ store: postgres }', '', /node\.log: missing required property 'url'/)
  await fails('{ store: embedded, batchMax: 0 }', '', /node\.log\.batchMax: must be >= 1/)
})

t.test('embedded log, ECDSA keys: evidence for a real exchange, offline verification, access rules', async t => {
  const rig = await loggedRig(await logConfig('{ store: embedded, batchMs: 1 }'), 'ec-p256')
  t.teardown(() => rig.close())
  const trust = anchorsOnly([await readFile(rig.caFile, 'utf8')])

  const res = await call(rig, TAX, { 'X-Road-Client': E_ALBANIA, 'X-Road-Id': 'ev-rest-1', 'X-Road-UserId': 'AL-I50314123V' })
  t.equal(res.status, 200)
  // The log's writer thread reports its own heap: nodejs_heap_* is the main thread's alone.
  const metrics = (await call(rig, '/metrics', {})).text
  const heap = (kind: string): number => Number(new RegExp(`^ura_thread_heap_bytes\\{thread="log-writer",kind="${kind}"\\} (\\S+)$`, 'm').exec(metrics)?.[1])
  t.ok(heap('used') > 1e6 && heap('used') <= heap('total'), `the log writer's heap: ${heap('used')} of ${heap('total')} bytes in use`)
  t.ok(heap('total') < (WRITER_YOUNG_MB + 64) * 1048576, 'within its capped young generation and a modest old space')
  const mine = await evidence(rig, 'ev-rest-1', E_ALBANIA)
  t.equal(mine.status, 200, 'the client reads its evidence')
  t.match(mine.headers['content-disposition'], /evidence-ev-rest-1\.json/)
  const doc = mine.doc!
  t.same(doc.records.map(r => r.direction), ['request', 'response'])
  const [req, resp] = doc.records
  t.equal(req.signer, 'AL-DEV/GOV/K11503002N', 'the request is signed by the client member')
  t.equal(resp.signer, 'AL-DEV/NJQV/L21603004L', 'the response is signed by the provider member')
  t.equal(req.userId, 'AL-I50314123V')
  t.equal(req.path, '/subjekte/K81305012I/detyrime?viti=2026')
  t.equal(req.requestHash, res.headers['x-road-request-hash'], 'the record carries the request hash the client received')
  t.equal(resp.status, 200)
  t.equal(Buffer.from(resp.body!, 'base64').toString(), res.text, 'bodyLogging full: the response body as the client received it')
  t.equal(req.bodyDigest, hash('sha512', Buffer.alloc(0), 'base64'), 'a request without a body has the digest of no bytes')
  t.match(JSON.parse(doc.signatures[0].header), { alg: 'ECDSA-P256-SHA256' })
  t.match(doc.signatures[0].chain[0], /BEGIN CERTIFICATE/)
  const verdict = verifyEvidence(doc, trust)
  t.same(verdict.problems, [])
  t.ok(verdict.ok)

  t.equal((await evidence(rig, 'ev-rest-1', TIRANA_TAXES)).status, 200, 'the provider reads it')
  t.equal((await evidence(rig, 'ev-rest-1', OPERATOR)).status, 200, 'an operator reads it')
  const other = await evidence(rig, 'ev-rest-1', DURRES_SOCIAL)
  t.equal(other.status, 403, 'a third party does not')
  t.equal(other.headers['x-road-error'], 'Server.ServerProxy.AccessDenied')
  const unknown = await evidence(rig, 'no-such-message', E_ALBANIA)
  t.equal(unknown.status, 404)
  t.equal(unknown.headers['x-road-error'], 'Client.MessageNotFound')
  t.equal((await call(rig, '/evidence/ev-rest-1', {})).headers['x-road-error'], 'Client.MissingHeader')
  t.equal((await call(rig, '/evidence/ev-rest-1', { 'X-Road-Client': 'AL-DEV/GOV/L01417001D/regjistri-civil' })).headers['x-road-error'], 'Server.ClientProxy.SslAuthenticationFailed', 'an mTLS client cannot ask over plain HTTP')

  // SOAP: body logging `digest` keeps only digests; the evidence still verifies.
  const soapId = randomUUID()
  const envelope = (await readFile(resolve(import.meta.dirname, '../demo/kerkoShtetas.xml'), 'utf8')).replace(/<xrd:id>[^<]*<\/xrd:id>/, `<xrd:id>${soapId}</xrd:id>`)
  const soap = await call(rig, '/', { 'Content-Type': 'text/xml; charset=utf-8' }, envelope)
  t.equal(soap.status, 200)
  const soapDoc = (await evidence(rig, soapId, 'AL-DEV/NJQV/L21603004L/gjendja-civile')).doc!
  t.same(soapDoc.records.map(r => [r.direction, r.protocol, r.body]), [['request', 'soap', null], ['response', 'soap', null]])
  // The request digest is taken over from the request hash: it must still be the digest of the bytes sent.
  t.equal(soapDoc.records[0].bodyDigest, hash('sha512', Buffer.from(envelope), 'base64'), 'request digest = SHA-512 of the envelope sent')
  t.equal(soapDoc.records[1].bodyDigest, hash('sha512', Buffer.from(soap.text), 'base64'), 'response digest = SHA-512 of the answer received')
  t.equal(soapDoc.records[1].signer, 'AL-DEV/GOV/L01417001D')
  t.ok(verifyEvidence(soapDoc, trust).ok)

  // A message id reused by another client: each party sees only its own exchange.
  await call(rig, TAX, { 'X-Road-Client': 'AL-DEV/NJQV/L21603004L/gjendja-civile', 'X-Road-Id': 'ev-rest-1' })
  t.equal((await evidence(rig, 'ev-rest-1', E_ALBANIA)).doc!.records.length, 2)
  t.equal((await evidence(rig, 'ev-rest-1', OPERATOR)).doc!.records.length, 4)

  // Altered evidence does not verify.
  const altered: Array<[string, (d: EvidenceDocument) => void, RegExp]> = [
    ['one byte of the logged body', d => { const b = Buffer.from(d.records[1].body!, 'base64'); b[10] ^= 1; d.records[1].body = b.toString('base64') }, /body does not match its digest/],
    ['the response status', d => { d.records[1].status = 404 }, /not covered by its batch signature/],
    ['one character of a digest', d => { const h = d.records[0].headersDigest; d.records[0].headersDigest = (h[0] === 'A' ? 'B' : 'A') + h.slice(1) }, /not covered by its batch signature/],
    ['the signature value', d => { d.signatures[0].value = d.signatures[1].value }, /signature does not verify/],
    ['the certificate chain', d => { d.signatures[0].chain = d.signatures[1].chain }, /signature does not verify|not issued to/],
    ['the request removed', d => { d.records.shift() }, /request it answers .* is not in the document/],
    ['the response re-labelled as signed by the client', d => { d.records[1].signer = d.records[0].signer }, /must be signed by AL-DEV\/NJQV\/L21603004L/],
  ]
  for (const [what, change, problem] of altered) {
    const copy = structuredClone(doc)
    change(copy)
    const v = verifyEvidence(copy, trust)
    t.notOk(v.ok, `altered ${what}: refused`)
    t.match(v.problems.join(' | '), problem, `altered ${what}: ${v.problems.join(' | ')}`)
  }
  t.notOk(verifyEvidence(doc, anchorsOnly([createRootCa().pem])).ok, 'another CA: refused')
  t.notOk(verifyEvidence({ hello: 'world' }, trust).ok, 'not an evidence document')

  // The CLI, offline: nothing but the file and the CA certificate.
  const dir = await mkdtemp(join(tmpdir(), 'ura-evidence-'))
  await writeFile(join(dir, 'evidence.json'), mine.text)
  const bad = structuredClone(doc)
  bad.records[1].status = 500
  await writeFile(join(dir, 'altered.json'), JSON.stringify(bad))
  const ok = await ura(['verify', join(dir, 'evidence.json'), '--ca', rig.caFile])
  t.equal(ok.code, 0, ok.out)
  t.match(ok.out, /evidence verified/)
  t.match(ok.out, /signed by AL-DEV\/NJQV\/L21603004L \(ECDSA-P256-SHA256\)/)
  const refused = await ura(['verify', join(dir, 'altered.json'), '--ca', rig.caFile])
  t.equal(refused.code, 1)
  t.match(refused.out, /evidence INVALID[\s\S]*record 2 \(response ev-rest-1\): the record is not covered by its batch signature/)
  t.equal((await ura(['verify', join(dir, 'evidence.json')])).code, 2, 'usage error without --ca')

  // `ura log verify` on the node's store, then after tampering with it (the CLI opens the same SQLite file).
  const good = await ura(['log', 'verify', '--config', rig.config.dir])
  t.equal(good.code, 0, good.out)
  t.match(good.out, /message log \(embedded\) verified: 6 records/)
  await (rig.log.store as unknown as { exec (sql: string): Promise<void> }).exec("UPDATE ura_log_records SET client = 'AL-DEV/NJQV/M51305009K/ndihma-sociale' WHERE seq = 3")
  const broken = await ura(['log', 'verify', '--config', rig.config.dir])
  t.equal(broken.code, 1)
  t.match(broken.out, /FAILED at record 3 \(message [0-9a-f-]{36}\), after 2 good records/)
  t.match((await ura(['log', '--help'])).out, /ura log verify/, 'log commands are listed')
  t.match((await ura(['log', 'verify', '--help'])).out, /names? the first bad record|first bad record/)

  // The log cannot be written: the exchange fails, nothing reaches the provider unlogged.
  await rig.log.store.close()
  const failed = await call(rig, TAX, { 'X-Road-Client': E_ALBANIA })
  t.equal(failed.status, 500)
  t.equal(failed.headers['x-road-error'], 'Server.ClientProxy.LoggingFailed')
  t.match(JSON.parse(failed.text).message, /could not be logged: the message log is closed/)
})

t.test('PostgreSQL log, RSA-2048 keys: evidence verifies; a lost database or a revoked seal fails the exchange', async t => {
  const { name, url, admin } = await scratchDatabase(t, 'ura_test_evidence')
  const rig = await loggedRig(await logConfig(`{ store: postgres, url: "${url}" }`), 'rsa-2048')
  t.teardown(() => rig.close())
  const trust = anchorsOnly([await readFile(rig.caFile, 'utf8')])

  // Concurrent exchanges: all logged, batch-signed, verifiable.
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => call(rig, TAX, { 'X-Road-Client': E_ALBANIA, 'X-Road-Id': `pg-${i}` })))
  t.same(results.map(r => r.status), Array(20).fill(200))
  const signatures = new Set((await rig.log.store.scan(0, 100)).map(r => r.signatureId)).size
  t.ok(signatures < 40, `40 records under ${signatures} RSA signatures`)
  const doc = (await evidence(rig, 'pg-7', E_ALBANIA)).doc!
  t.match(JSON.parse(doc.signatures[0].header), { alg: 'RSASSA-PSS-SHA512' })
  t.ok(verifyEvidence(doc, trust).ok)
  const logVerified = await ura(['log', 'verify', '--config', rig.config.dir, '--ca', rig.caFile])
  t.equal(logVerified.code, 0, logVerified.out)
  t.match(logVerified.out, /message log \(postgres\) verified: 40 records/)

  // The database refuses connections and drops the node's: the exchange fails with LoggingFailed.
  await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`)
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name])
  const lost = await call(rig, TAX, { 'X-Road-Client': E_ALBANIA, 'X-Road-Id': 'pg-lost' })
  t.equal(lost.status, 500)
  t.equal(lost.headers['x-road-error'], 'Server.ClientProxy.LoggingFailed')
  // It comes back: the node reconnects by itself, and the chain continues.
  await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`)
  t.equal((await call(rig, TAX, { 'X-Road-Client': E_ALBANIA, 'X-Road-Id': 'pg-back' })).status, 200)
  t.equal((await evidence(rig, 'pg-lost', OPERATOR)).status, 404, 'the failed exchange left no record')
  t.equal((await ura(['log', 'verify', '--config', rig.config.dir, '--ca', rig.caFile])).code, 0)

  // A member whose signing certificate is revoked can no longer exchange; others can.
  rig.keystore.signingIdentity('AL-DEV/GOV/K11503002N')
  TrustStore.load(rig.keystore.paths).revocations.revoke(rig.keystore.signingIdentity('AL-DEV/GOV/K11503002N').certificate, 'keyCompromise')
  await new Promise(r => setTimeout(r, 1100)) // the revocation list is re-read at most once a second
  const revoked = await call(rig, TAX, { 'X-Road-Client': E_ALBANIA })
  t.equal(revoked.headers['x-road-error'], 'Server.ClientProxy.LoggingFailed')
  t.match(JSON.parse(revoked.text).message, /signing certificate of AL-DEV\/GOV\/K11503002N: .*revoked/)
  t.equal((await call(rig, TAX, { 'X-Road-Client': 'AL-DEV/NJQV/L21603004L/gjendja-civile' })).status, 200)
})

t.test('over mutual TLS: the provider system proves who it is with its certificate to read the evidence', async t => {
  const dataDir = await mkdtemp(join(tmpdir(), 'ura-data-'))
  const config = await demoConfig({}, {}, { mtls: true })
  config.node.dataDir = dataDir
  const keystore = new Keystore(dataDir, { passphrase: TEST_PASSPHRASE })
  initPki({ keystore, config })
  const log = await openMessageLog(config, keystoreSigningKeys(keystore, TrustStore.load(keystore.paths)))
  const rig = await startTlsRig({ config, dataDir, messageLog: log })
  t.teardown(() => rig.close())
  const cert = (id: string) => {
    const files = keystore.paths.client(id)
    return { key: keystore.privateKey(files.key).export({ type: 'pkcs8', format: 'pem' }) as string, cert: readFileSync(files.cert, 'utf8') }
  }
  const ca = readFileSync(keystore.paths.caCert, 'utf8')
  const https = async (path: string, claim: string, client: { key: string; cert: string }, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) => {
    const res = await request(`${rig.url}${path}`, {
      method: (init.method ?? 'GET') as 'GET',
      headers: { 'X-Road-Client': claim, ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
      dispatcher: new Agent({ connect: { ca, ...client } }),
    })
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() }
  }
  const id = randomUUID()
  const envelope = readFileSync(resolve(import.meta.dirname, '../demo/kerkoShtetas.xml'), 'utf8').replace(/<xrd:id>[^<]*<\/xrd:id>/, `<xrd:id>${id}</xrd:id>`)
  const tirana = 'AL-DEV/NJQV/L21603004L/gjendja-civile'
  const sent = await https('/', tirana, cert(tirana), { method: 'POST', body: envelope, headers: { 'content-type': 'text/xml; charset=utf-8' } })
  t.equal(sent.status, 200, 'the SOAP exchange over mutual TLS is signed and logged')
  const registry = 'AL-DEV/GOV/L01417001D/regjistri-civil'
  const byProvider = await https(`/evidence/${id}`, registry, cert(registry))
  t.equal(byProvider.status, 200, 'the provider system reads the evidence with its own certificate')
  t.ok(verifyEvidence(JSON.parse(byProvider.text), anchorsOnly([ca])).ok)
  const impostor = await https(`/evidence/${id}`, registry, cert(tirana))
  t.equal(impostor.headers['x-road-error'], 'Client.InvalidClientIdentifier', 'another system\'s certificate cannot claim to be the provider')
  t.equal((await https(`/evidence/${id}`, E_ALBANIA, cert(E_ALBANIA))).headers['x-road-error'], 'Server.ServerProxy.AccessDenied', 'a system that is no party is refused')
})

t.test('deferred signing: an exchange answers before its batch is signed; its evidence is refused with a typed error until then, and verifies after', async t => {
  const rig = await loggedRig(await logConfig('{ store: embedded, signing: deferred, signWithinMs: 1500 }'), 'ec-p256')
  t.teardown(() => rig.close())
  const trust = anchorsOnly([await readFile(rig.caFile, 'utf8')])
  const res = await call(rig, TAX, { 'X-Road-Client': E_ALBANIA, 'X-Road-Id': 'ev-deferred-1' })
  t.equal(res.status, 200, 'the exchange goes on once its records are stored')
  const early = await evidence(rig, 'ev-deferred-1', E_ALBANIA)
  t.equal(early.status, 503, 'no evidence before the batch is signed')
  t.equal(early.headers['x-road-error'], 'Server.ServerProxy.EvidenceNotSigned')
  const records = await rig.log.store.byMessageId('ev-deferred-1')
  t.equal(records.length, 2, 'both records are in the log already')
  t.match((await call(rig, '/metrics', {})).text, /^ura_queue_depth\{queue="unsigned"\} 2$/m, 'the node shows its records awaiting their signature')
  const end = Date.now() + 10_000
  let later = early
  while (later.status === 503 && Date.now() < end) {
    await new Promise(resolve => setTimeout(resolve, 100))
    later = await evidence(rig, 'ev-deferred-1', E_ALBANIA)
  }
  t.equal(later.status, 200, 'the evidence is given once the batch is signed')
  t.ok(verifyEvidence(later.doc!, trust).ok)
})
