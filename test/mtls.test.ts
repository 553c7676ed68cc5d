import { X509Certificate, type KeyObject } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent, request as httpsRequest } from 'node:https'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { certIssue, certRequest, certRevoke } from './support/cli.ts'
import { Keystore } from '../certs/keystore.ts'
import { createRootCa, fingerprintOf, generateKeyPair, issueCertificate, type CertificateAuthority, type Profile } from '../certs/pki.ts'
import { demoConfig, E_ALBANIA, startTlsRig, TAX_SERVICE, TEST_PASSPHRASE, TIRANA_CIVIL, type TlsRig } from './support/gateway.ts'

const DAY = 24 * 60 * 60 * 1000
const TAX_PATH = `/r1/${TAX_SERVICE}/subjekte/K81305012I/detyrime?viti=2026`
const ENVELOPE = readFileSync(new URL('../demo/kerkoShtetas.xml', import.meta.url), 'utf8')

interface ClientCert { key: string; cert: string }

const portOf = (url: string): number => Number(new URL(url).port)

/** PEM key + certificate chain for node:https, from KeyObjects and PEM. */
function material (key: KeyObject, certPem: string): ClientCert {
  return { key: key.export({ type: 'pkcs8', format: 'pem' }) as string, cert: certPem }
}

function issue (ca: CertificateAuthority, id: string, extra: { profile?: Profile; notBefore?: Date; notAfter?: Date } = {}): ClientCert {
  const { privateKey, publicKey } = generateKeyPair('ec-p256')
  const cert = issueCertificate(ca, { subject: { C: 'AL', serialNumber: id, CN: id }, publicKey, profile: extra.profile ?? 'tls-client', ...extra })
  return material(privateKey, cert + ca.pem)
}

/** The demo client certificate `ura init` made for a subsystem. */
function demoClient (rig: TlsRig, id: string): ClientCert {
  const files = rig.keystore.paths.client(id)
  return material(rig.keystore.privateKey(files.key), readFileSync(files.cert, 'utf8'))
}

interface Answer { status: number; headers: IncomingMessage['headers']; text: string }

async function read (res: IncomingMessage): Promise<Answer> {
  const chunks: Buffer[] = []
  for await (const c of res) chunks.push(c as Buffer)
  return { status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }
}

/** One HTTPS request with (or without) a client certificate, verifying the node against the dev CA. */
async function tls (rig: TlsRig, client: ClientCert | undefined, path: string, init: { claim: string; soap?: boolean; agent?: Agent }): Promise<Answer> {
  const headers: Record<string, string> = init.soap === true ? { 'content-type': 'text/xml; charset=utf-8' } : { 'X-Road-Client': init.claim }
  const req = httpsRequest({
    host: '127.0.0.1',
    port: portOf(rig.url),
    path: init.soap === true ? '/' : path,
    method: init.soap === true ? 'POST' : 'GET',
    headers,
    ca: readFileSync(rig.keystore.paths.caCert, 'utf8'),
    ...(client ?? {}),
    ...(init.agent === undefined ? { agent: false } : { agent: init.agent }),
  })
  req.end(init.soap === true ? soapAs(init.claim) : undefined)
  const [res] = await once(req, 'response') as [IncomingMessage]
  return read(res)
}

/** The demo envelope with another client in xrd:client. */
function soapAs (client: string): string {
  const [instance, memberClass, memberCode, subsystem] = client.split('/')
  return ENVELOPE
    .replace('<id:xRoadInstance>AL-DEV</id:xRoadInstance>\n      <id:memberClass>NJQV</id:memberClass>\n      <id:memberCode>L21603004L</id:memberCode>\n      <id:subsystemCode>gjendja-civile</id:subsystemCode>',
      `<id:xRoadInstance>${instance}</id:xRoadInstance>\n      <id:memberClass>${memberClass}</id:memberClass>\n      <id:memberCode>${memberCode}</id:memberCode>\n      <id:subsystemCode>${subsystem}</id:subsystemCode>`)
}

/** Asserts the same refusal on the REST and the SOAP edge. */
async function refused (t: Test, rig: TlsRig, client: ClientCert | undefined, claim: string, code: string, why: RegExp) {
  const rest = await tls(rig, client, TAX_PATH, { claim })
  t.equal(rest.headers['x-road-error'], code, `REST: ${code}`)
  t.equal(rest.status, code === 'Client.InvalidClientIdentifier' ? 400 : 401)
  t.match(JSON.parse(rest.text).message, why)
  const soap = await tls(rig, client, '/', { claim, soap: true })
  t.equal(soap.status, 500)
  t.match(soap.text, new RegExp(`<faultcode>${code.replaceAll('.', '\\.')}</faultcode>`), `SOAP: ${code}`)
}

t.test('mutual TLS at the client edge', async t => {
  const rig = await startTlsRig()
  t.teardown(() => rig.close())
  const ca = rig.keystore.ca()
  const eAlbania = demoClient(rig, E_ALBANIA)
  const tiranaCivil = demoClient(rig, TIRANA_CIVIL)

  t.test('the registered certificate passes (REST and SOAP)', async t => {
    const rest = await tls(rig, eAlbania, TAX_PATH, { claim: E_ALBANIA })
    t.equal(rest.status, 200)
    t.equal(rest.headers['x-road-client'], E_ALBANIA)
    t.match(JSON.parse(rest.text), { bashkia: 'Tiranë' })
    const soap = await tls(rig, tiranaCivil, '/', { claim: TIRANA_CIVIL, soap: true })
    t.equal(soap.status, 200)
    t.match(soap.text, /<gjetur>true<\/gjetur>/)
  })

  t.test('each failure has its code', async t => {
    await refused(t, rig, undefined, E_ALBANIA, 'Server.ClientProxy.SslAuthenticationFailed', /presented no client certificate/)
    await refused(t, rig, issue(createRootCa(), E_ALBANIA), E_ALBANIA, 'Server.ClientProxy.SslAuthenticationFailed', /does not chain to a trusted CA/)
    await refused(t, rig, issue(ca, E_ALBANIA, { notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) }), E_ALBANIA, 'Server.ClientProxy.SslAuthenticationFailed', /expired on/)
    await refused(t, rig, issue(ca, E_ALBANIA, { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 30 * DAY) }), E_ALBANIA, 'Server.ClientProxy.SslAuthenticationFailed', /not valid before/)
    await refused(t, rig, issue(ca, 'AL-DEV/GOV/K11503002N', { profile: 'signing' }), E_ALBANIA, 'Server.ClientProxy.SslAuthenticationFailed', /not a TLS client certificate/)
    // A valid certificate of Tirana's civil-status office claiming to be e-Albania.
    await refused(t, rig, tiranaCivil, E_ALBANIA, 'Client.InvalidClientIdentifier', /is registered for AL-DEV\/NJQV\/L21603004L\/gjendja-civile, not for AL-DEV\/GOV\/K11503002N\/e-albania/)
    // A trusted certificate with no X-Road identifier in its subject identifies nobody.
    const { privateKey, publicKey } = generateKeyPair()
    await refused(t, rig, material(privateKey, issueCertificate(ca, { subject: { CN: 'somebody' }, publicKey, profile: 'tls-client' })), E_ALBANIA, 'Client.InvalidClientIdentifier', /carries no X-Road identifier/)
  })

  t.test('an mtls client cannot fall back to the plain HTTP port', async t => {
    const call = async (claim: string) => {
      const req = httpRequest({ host: '127.0.0.1', port: portOf(rig.plainUrl), path: TAX_PATH, headers: { 'X-Road-Client': claim }, agent: false })
      req.end()
      const [res] = await once(req, 'response') as [IncomingMessage]
      return read(res)
    }
    const res = await call(E_ALBANIA)
    t.equal(res.status, 401)
    t.equal(res.headers['x-road-error'], 'Server.ClientProxy.SslAuthenticationFailed')
    t.match(JSON.parse(res.text).message, /must connect over mutual TLS/)
  })

  t.test('revocation applies at once, even on an open connection', async t => {
    const fresh = issue(ca, E_ALBANIA)
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    t.teardown(() => agent.destroy())
    t.equal((await tls(rig, fresh, TAX_PATH, { claim: E_ALBANIA, agent })).status, 200, 'accepted before revocation')
    // The operator revokes with the CLI (a separate writer of revoked.json); the node re-reads it within a second.
    const file = join(rig.dataDir, 'to-revoke.pem')
    writeFileSync(file, fresh.cert)
    const code = await certRevoke([file, '--data', rig.dataDir, '--reason', 'key compromise'])
    t.equal(code, 0)
    await sleep(1100)
    const after = await tls(rig, fresh, TAX_PATH, { claim: E_ALBANIA, agent })
    t.equal(after.headers['x-road-error'], 'Server.ClientProxy.SslAuthenticationFailed')
    t.match(JSON.parse(after.text).message, /revoked .*key compromise/)
    await refused(t, rig, fresh, E_ALBANIA, 'Server.ClientProxy.SslAuthenticationFailed', /was revoked/)
    t.equal((await tls(rig, eAlbania, TAX_PATH, { claim: E_ALBANIA })).status, 200, 'other certificates are unaffected')
  })

  t.test('certificate checks are cached per certificate, not redone per request', async t => {
    const certs = rig.gateway.context.clientCertificates!
    const agent = new Agent({ keepAlive: false })
    t.teardown(() => agent.destroy())
    await tls(rig, eAlbania, TAX_PATH, { claim: E_ALBANIA, agent })
    const before = certs.pathChecks
    for (let i = 0; i < 5; i++) t.equal((await tls(rig, eAlbania, TAX_PATH, { claim: E_ALBANIA, agent })).status, 200)
    t.equal(certs.pathChecks, before, 'five new connections with a known certificate: no new chain verification')
  })

  t.test('/readyz lists certificates expiring within 30 days', async t => {
    const res = await tls(rig, undefined, '/readyz', { claim: '' })
    t.equal(res.status, 200, 'health checks need no client certificate')
    t.same(JSON.parse(res.text).certificatesExpiringSoon, [], 'a fresh PKI has none')
  })
})

t.test('certificates: pinning, expiry report, onboarding a new institution', async t => {
  const dataDir = await mkdtemp(join(tmpdir(), 'ura-data-'))
  process.env.URA_KEY_PASSPHRASE = TEST_PASSPHRASE
  // A first node run makes the PKI; the institution then goes through the certificate flow.
  const SHKODER = 'AL-DEV/NJQV/J61922018S/gjendja-civile'
  const first = await startTlsRig({ dataDir })
  const ca = first.keystore.ca()
  await first.close()

  // 1. The institution makes a key and a CSR carrying its subsystem id.
  const work = await mkdtemp(join(tmpdir(), 'ura-institution-'))
  t.equal(await certRequest(['--id', SHKODER, '--name', 'Bashkia Shkodër', '--out', work]), 0)
  const base = join(work, 'AL-DEV_NJQV_J61922018S_gjendja-civile.tls-client')
  t.match(readFileSync(`${base}.key.pem`, 'utf8'), /ENCRYPTED PRIVATE KEY/)
  // 2. The operator issues from the CSR (a request for a member-less id or a bad one is refused).
  t.equal(await certIssue([`${base}.csr.pem`, '--data', dataDir]), 0)
  const chain = readFileSync(`${base}.cert.pem`, 'utf8')
  const issued = new X509Certificate(chain)
  t.ok(issued.verify(ca.certificate.publicKey), 'issued by the node CA')
  t.equal(await certRequest(['--id', 'AL-DEV/NJQV', '--out', work]), 2, 'an incomplete id is refused')
  // 3. The operator registers the subsystem (pinned to this certificate) and grants it the service.
  const pinned = fingerprintOf(issued).match(/../g)!.join(':').toUpperCase()
  const config = await demoConfig({}, {
    'shkoder.yaml': `members:
  - class: NJQV
    code: J61922018S
    name: Bashkia Shkodër
    subsystems:
      - code: gjendja-civile
        certificates: ["${pinned}"]
access:
  - service: AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas
    clients: [${SHKODER}]
`,
  }, { mtls: true })
  const rig = await startTlsRig({ config, dataDir })
  t.teardown(() => rig.close())

  // 4. The institution calls with its key (decrypted with its passphrase) and the issued chain.
  const own = material(new Keystore(dataDir).privateKey(`${base}.key.pem`), chain)
  const ok = await tls(rig, own, '/', { claim: SHKODER, soap: true })
  t.equal(ok.status, 200)
  t.match(ok.text, /<gjetur>true<\/gjetur>/)
  // Another valid certificate for the same subsystem is not the pinned one.
  await refused(t, rig, issue(ca, SHKODER), SHKODER, 'Client.InvalidClientIdentifier', /not for AL-DEV\/NJQV\/J61922018S\/gjendja-civile/)

  // Expiry report: a certificate issued by the CA that ends within 30 days shows in /readyz and cert list.
  t.equal(await certIssue([`${base}.csr.pem`, '--data', dataDir, '--days', '10', '--out', join(work, 'short.cert.pem')]), 0)
  const rig2 = await startTlsRig({ config, dataDir })
  t.teardown(() => rig2.close())
  const ready = JSON.parse((await tls(rig2, undefined, '/readyz', { claim: '' })).text)
  t.match(ready.certificatesExpiringSoon, [{ role: 'issued', id: SHKODER, state: 'expiring', daysLeft: 9 }])
})
