/**
 * Cost of stage 1's certificate checks per request, on a real TLS connection over loopback:
 * - cold: first sight of a certificate (signature path to the CA, subject parsed), once per certificate;
 * - warm: every further request (validity window, revocation list, usage): what each request pays.
 * The TLS handshake itself is not measured here.
 * Run: node bench/client-cert-check.ts   (a few seconds, loopback only)
 */
import { X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, createServer, type TLSSocket } from 'node:tls'
import { createRootCa, generateKeyPair, issueCertificate } from '../certs/pki.ts'
import { RevocationList } from '../certs/revocation.ts'
import { TrustStore } from '../certs/trust-store.ts'
import { ClientCertificates } from '../gateway/edge/client-cert.ts'

const ca = createRootCa()
const server = generateKeyPair()
const serverCert = issueCertificate(ca, { subject: { CN: 'bench' }, publicKey: server.publicKey, profile: 'tls-server' })
const client = generateKeyPair()
const id = 'AL-DEV/GOV/K11503002N/e-albania'
const clientCert = issueCertificate(ca, { subject: { serialNumber: id, CN: id }, publicKey: client.publicKey, profile: 'tls-client' })

// A realistic list: 1,000 revoked certificates of the same CA (written once, then read back like a node would).
const dir = await mkdtemp(join(tmpdir(), 'ura-bench-'))
const writer = new RevocationList()
const revokedFile = join(dir, 'revoked.json')
const revoked = Array.from({ length: 1000 }, (_, i) => new X509Certificate(issueCertificate(ca, { subject: { CN: `r${i}` }, publicKey: client.publicKey, profile: 'tls-client' })))
for (const c of revoked) writer.revoke(c)
const { writeFileSync } = await import('node:fs')
writeFileSync(revokedFile, JSON.stringify({ revoked: writer.entries() }))
const revocations = new RevocationList(revokedFile)
const trust = new TrustStore([ca.certificate], revocations)

const tlsServer = createServer({ key: server.privateKey.export({ type: 'pkcs8', format: 'pem' }), cert: serverCert, requestCert: true, rejectUnauthorized: false })
tlsServer.listen(0, '127.0.0.1')
await once(tlsServer, 'listening')
const accepted = once(tlsServer, 'secureConnection')
const socket = connect({ host: '127.0.0.1', port: (tlsServer.address() as { port: number }).port, ca: ca.pem, key: client.privateKey.export({ type: 'pkcs8', format: 'pem' }), cert: clientCert, servername: 'localhost', rejectUnauthorized: false })
const [peerSocket] = await accepted as [TLSSocket]

const N_COLD = 2000
let t0 = performance.now()
for (let i = 0; i < N_COLD; i++) new ClientCertificates(trust).peerOf(peerSocket) // empty cache every time
const cold = (performance.now() - t0) * 1000 / N_COLD

const checks = new ClientCertificates(trust)
checks.peerOf(peerSocket)
const N_WARM = 500_000
let failures = 0
t0 = performance.now()
for (let i = 0; i < N_WARM; i++) {
  const peer = checks.peerOf(peerSocket)
  if (peer.transport !== 'tls' || peer.certificate?.failure !== undefined) failures++
}
const warm = (performance.now() - t0) * 1000 / N_WARM

console.log(`first request with a certificate (chain verification + subject, then cached): ${cold.toFixed(1)} µs`)
console.log(`every later request (validity, revocation among ${revocations.entries().length} entries, usage): ${warm.toFixed(2)} µs`)
console.log(`chain verifications during ${N_WARM} warm requests: ${checks.pathChecks - 1}; refusals: ${failures}`)
socket.destroy()
tlsServer.close()
