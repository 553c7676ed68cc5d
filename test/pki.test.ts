import { execFileSync } from 'node:child_process'
import { createPublicKey, sign, verify, X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { initPki } from '../certs/dev-pki.ts'
import { expiringSoon, inventory } from '../certs/inventory.ts'
import { Keystore, KeystoreError, readPrivateKey, writePrivateKey } from '../certs/keystore.ts'
import { createCsr, createRootCa, generateKeyPair, identityOf, issueCertificate, issueFromCsr, PkiError, readCsr, subjectOf } from '../certs/pki.ts'
import { RevocationList } from '../certs/revocation.ts'
import { TrustStore } from '../certs/trust-store.ts'
import { certIssue, certList, certRequest, certRevoke, init } from './support/cli.ts'
import { DEMO_DIR, demoConfig } from './support/gateway.ts'

const DAY = 24 * 60 * 60 * 1000
const TAXES = 'AL-DEV/NJQV/L21603004L/taksat-vendore'

t.test('certificates made by the PKI are standard X.509 (RSA and ECDSA)', async t => {
  try {
    execFileSync('openssl', ['version'])
  } catch {
    t.fail('openssl is not installed: this test checks ura certificates with it (apt-get install openssl; .ci/run does)')
    return
  }
  const dir = await mkdtemp(join(tmpdir(), 'ura-pki-'))
  for (const caType of ['ec-p256', 'rsa-2048'] as const) {
    const ca = createRootCa({ keyType: caType })
    t.ok(ca.certificate.ca, `${caType} CA is a CA`)
    for (const keyType of ['ec-p256', 'rsa-2048'] as const) {
      const { publicKey } = generateKeyPair(keyType)
      const pem = issueCertificate(ca, { subject: { C: 'AL', O: 'Bashkia Tiranë', serialNumber: TAXES, CN: TAXES }, publicKey, profile: 'tls-client' })
      const cert = new X509Certificate(pem)
      t.ok(cert.verify(ca.certificate.publicKey), `${caType} CA signature on a ${keyType} certificate verifies`)
      t.equal(identityOf(cert), TAXES, 'the X-Road id is read back from the subject')
      t.equal(subjectOf(cert).O, 'Bashkia Tiranë', 'UTF-8 names survive')
      // An independent implementation agrees.
      await writeFile(join(dir, 'ca.pem'), ca.pem)
      await writeFile(join(dir, 'leaf.pem'), pem)
      const out = execFileSync('openssl', ['verify', '-purpose', 'sslclient', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')]).toString()
      t.match(out, /OK/, `openssl verifies the ${caType}/${keyType} chain`)
    }
  }
})

t.test('CSR: the institution keeps its key, the operator issues from the request', async t => {
  const ca = createRootCa()
  const { privateKey } = generateKeyPair('rsa-2048')
  const csr = createCsr(privateKey, { C: 'AL', O: 'Bashkia Durrës', serialNumber: 'AL-DEV/NJQV/M51305009K', CN: 'AL-DEV/NJQV/M51305009K' })
  const read = readCsr(csr)
  t.equal(read.subject.serialNumber, 'AL-DEV/NJQV/M51305009K')
  t.equal(read.subject.O, 'Bashkia Durrës')
  const cert = new X509Certificate(issueFromCsr(ca, csr, { profile: 'signing' }))
  t.ok(cert.publicKey.equals(createPublicKey(privateKey)), 'the certificate carries the requester\'s key')
  t.equal(identityOf(cert), 'AL-DEV/NJQV/M51305009K')

  // A request whose signature was made with another key (or altered) is refused.
  const other = generateKeyPair('rsa-2048')
  const forged = createCsr(other.privateKey, { CN: 'x' })
  const body = Buffer.from(csr.split('\n').slice(1, -2).join(''), 'base64')
  const spliced = Buffer.from(body)
  spliced[spliced.length - 5] ^= 0xff // flip a byte inside the signature
  const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${spliced.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`
  t.throws(() => readCsr(tampered), PkiError)
  t.throws(() => readCsr('garbage'), PkiError)
  t.ok(readCsr(forged), 'a well-formed request verifies')
})

t.test('private keys on disk need the passphrase', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'ura-keys-'))
  const { privateKey } = generateKeyPair('ec-p256')
  const path = join(dir, 'k.pem')
  writePrivateKey(path, privateKey, 'right horse battery')
  const text = await readFile(path, 'utf8')
  t.match(text, /BEGIN ENCRYPTED PRIVATE KEY/)
  t.notMatch(text, /BEGIN PRIVATE KEY/)
  t.equal(((await stat(path)).mode & 0o777), 0o600, 'only the owner can read it')
  t.throws(() => readPrivateKey(path, 'wrong'), KeystoreError)
  const back = readPrivateKey(path, 'right horse battery')
  const sig = sign('sha256', Buffer.from('x'), back)
  t.ok(verify('sha256', Buffer.from('x'), createPublicKey(privateKey), sig))

  await writeFile(join(dir, 'plain.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }))
  t.throws(() => readPrivateKey(join(dir, 'plain.pem'), 'x'), /not an encrypted private key/, 'unencrypted keys are refused')
})

t.test('trust store: path, validity, usage, revocation', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'ura-trust-'))
  const ca = createRootCa()
  const stranger = createRootCa()
  const trust = new TrustStore([ca.certificate], new RevocationList(join(dir, 'revoked.json'), { refreshMs: 0 }))
  const issue = (extra: Partial<Parameters<typeof issueCertificate>[1]> = {}, by = ca) => new X509Certificate(issueCertificate(by, {
    subject: { serialNumber: TAXES, CN: TAXES }, publicKey: generateKeyPair().publicKey, profile: 'tls-client', ...extra,
  }))

  const good = issue()
  const ok = trust.verify(good, { usage: 'tls-client' })
  t.ok(ok.ok, 'a current certificate from the CA is usable')
  t.equal(ok.ok && ok.path.certificates.length, 2, 'path is leaf + CA')

  const reasons = (c: X509Certificate, usage: 'tls-client' | 'signing' = 'tls-client') => { const r = trust.verify(c, { usage }); return r.ok ? 'ok' : r.reason }
  t.equal(reasons(issue({}, stranger)), 'untrusted')
  t.equal(reasons(issue({ notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) })), 'expired')
  t.equal(reasons(issue({ notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 10 * DAY) })), 'not-yet-valid')
  t.equal(reasons(good, 'signing'), 'wrong-usage', 'a TLS certificate is not an e-seal')
  t.equal(reasons(issue({ profile: 'signing' })), 'wrong-usage', 'an e-seal is not a TLS client certificate')

  trust.revocations.revoke(good, 'key compromise')
  t.equal(reasons(good), 'revoked')
  // The list is persisted: a fresh store (a restarted node) sees the revocation.
  const again = new TrustStore([ca.certificate], new RevocationList(join(dir, 'revoked.json')))
  const r = again.verify(good)
  t.equal(r.ok ? 'ok' : r.reason, 'revoked')
  t.match(r.ok ? '' : r.message, /key compromise/)
})

t.test('ura init: a complete dev PKI, idempotent, with signing identities', async t => {
  const dataDir = await mkdtemp(join(tmpdir(), 'ura-data-'))
  const config = await demoConfig()
  const keystore = new Keystore(dataDir, { passphrase: 'test-pass' })
  const first = initPki({ keystore, config, memberKeyType: 'rsa-2048' })
  t.ok(first.created.length >= 1 + 1 + 1 + 4 + 2, `made the CA, trust entry, node cert, 4 members, client certs (${first.created.length})`)
  const second = initPki({ keystore: new Keystore(dataDir, { passphrase: 'test-pass' }), config })
  t.same(second.created, [], 'a second run makes nothing')
  t.equal(second.kept.length, first.created.length - 1, 'and keeps everything (the trust entry is not listed)')

  const id = keystore.signingIdentity('AL-DEV/GOV/L01417001D')
  t.equal(id.algorithm, 'rsa')
  t.equal(id.chainPem.length, 2, 'chain = member certificate + CA')
  t.equal(identityOf(id.certificate), 'AL-DEV/GOV/L01417001D')
  t.equal(keystore.signingIdentity('AL-DEV/GOV/L01417001D'), id, 'loaded once, then cached')
  const sig = sign(id.hash, Buffer.from('record'), id.key)
  t.ok(verify(id.hash, Buffer.from('record'), id.certificate.publicKey, sig))
  t.throws(() => keystore.signingIdentity('AL-DEV/GOV/X99999999X'), KeystoreError)
  t.throws(() => new Keystore(dataDir, { passphrase: 'wrong' }).signingIdentity('AL-DEV/GOV/L01417001D'), /wrong passphrase/)
  t.same(keystore.signingMembers().sort(), ['AL-DEV/GOV/K11503002N', 'AL-DEV/GOV/L01417001D', 'AL-DEV/NJQV/L21603004L', 'AL-DEV/NJQV/M51305009K'])

  const trust = TrustStore.load(keystore.paths)
  t.equal(trust.anchors.length, 1)
  const node = keystore.nodeTls()
  t.ok(trust.verify(node.certificate, { usage: 'tls-server' }).ok, 'node certificate chains to the dev CA')
  t.match(node.certificate.subjectAltName ?? '', /IP Address:127\.0\.0\.1/)

  const rows = inventory(keystore, trust)
  t.ok(rows.some(r => r.role === 'client TLS' && r.id === TAXES), 'client certificates are listed with their id')
  t.same(expiringSoon(rows), [], 'nothing expires soon right after init')
  t.same(expiringSoon(inventory(keystore, trust, Date.now() + 340 * DAY)).map(r => r.role).includes('node TLS'), true, 'in 340 days the node certificate is flagged')
})

t.test('CLI: init, request, issue, list', async t => {
  const dataDir = await mkdtemp(join(tmpdir(), 'ura-cli-'))
  const work = await mkdtemp(join(tmpdir(), 'ura-cli-work-'))
  process.env.URA_KEY_PASSPHRASE = 'cli-pass'
  const printed: string[] = []
  const log = console.log
  const error = console.error
  console.log = (...a: unknown[]) => { printed.push(a.join(' ')) }
  console.error = (...a: unknown[]) => { printed.push(a.join(' ')) }
  t.teardown(() => { console.log = log; console.error = error })

  t.equal(await init(['--data', dataDir, '--member-key', 'rsa-2048']), 0)
  t.equal(await init(['--data', dataDir, '--member-key', 'dsa']), 2, 'unknown key types are refused')
  t.equal(await certRequest(['--id', 'AL-DEV/GOV/L01417001D', '--usage', 'signing', '--key-type', 'rsa-3072', '--out', work]), 0)
  const csr = join(work, 'AL-DEV_GOV_L01417001D.signing.csr.pem')
  t.equal(await certRequest(['--id', 'AL-DEV/GOV/L01417001D', '--usage', 'signing', '--out', work]), 1, 'an existing private key is never overwritten')
  t.equal(await certIssue([csr, '--data', dataDir, '--usage', 'tls-server', '--days', '0']), 2, 'validity must be at least a day')
  // A member id cannot get a subsystem TLS certificate for another instance.
  t.equal(await certRequest(['--id', 'AL/GOV/L01417001D/x', '--out', work]), 0)
  t.equal(await certIssue([join(work, 'AL_GOV_L01417001D_x.tls-client.csr.pem'), '--data', dataDir, '--config', DEMO_DIR]), 1, 'ids of another instance are refused')
  t.match(printed.join('\n'), /not in this node's instance AL-DEV/)
  t.equal(await certIssue([csr, '--data', dataDir, '--usage', 'signing', '--days', '20']), 0)
  const issued = new X509Certificate(await readFile(join(work, 'AL-DEV_GOV_L01417001D.signing.cert.pem'), 'utf8'))
  t.equal(issued.publicKey.asymmetricKeyDetails?.modulusLength, 3072)

  printed.length = 0
  t.equal(await certList(['--data', dataDir, '--json']), 0)
  const rows = JSON.parse(printed.join('\n'))
  const row = rows.find((r: { serial: string }) => r.serial === issued.serialNumber)
  t.match(row, { role: 'issued', profile: 'signing', id: 'AL-DEV/GOV/L01417001D', state: 'expiring' }, 'a 20-day certificate is flagged')
  printed.length = 0
  t.equal(await certList(['--data', dataDir]), 0)
  t.match(printed.join('\n'), /! 1 certificate expires within 30 days/)
  t.equal(await certRevoke(['ABCDEF', '--data', dataDir]), 1, 'an unknown serial is reported')
  t.equal(await certRevoke([issued.serialNumber, '--data', dataDir]), 0)
  printed.length = 0
  await certList(['--data', dataDir, '--json'])
  t.equal(JSON.parse(printed.join('\n')).find((r: { serial: string }) => r.serial === issued.serialNumber).state, 'revoked')
})
