/**
 * Certificates issued through the registry join the node's certificate inventory: each is
 * described (days left, expiring, revoked) for `/readyz` and the expiry metric, and the rows follow
 * the store as new versions are committed.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { X509Certificate } from 'node:crypto'
import t from 'tap'
import { expiringSoon } from '../certs/inventory.ts'
import { createRootCa, fingerprintOf, generateKeyPair, issueCertificate } from '../certs/pki.ts'
import { RevocationList } from '../certs/revocation.ts'
import { TrustStore } from '../certs/trust-store.ts'
import type { IssuedCertificate } from '../config/registry-sections.ts'
import { followIssuedCertificates } from '../registry/issued-certificates.ts'
import { emptyContent } from '../registry/store/content.ts'
import { openRegistryStore } from '../registry/store/index.ts'

const DAY = 24 * 60 * 60 * 1000

t.test('issued certificates are described from the current version and follow new ones', async t => {
  const ca = createRootCa()
  const now = Date.now()
  const issue = (id: string, days: number): IssuedCertificate => {
    const pem = issueCertificate(ca, { subject: { serialNumber: id, CN: id }, publicKey: generateKeyPair().publicKey, profile: 'tls-client', notBefore: new Date(now - DAY), notAfter: new Date(now + days * DAY) })
    const x = new X509Certificate(pem)
    return { serial: x.serialNumber, role: 'tls', owner: id, subject: x.subject, fingerprint: fingerprintOf(x), notBefore: x.validFromDate.toISOString(), notAfter: x.validToDate.toISOString(), issuedAt: new Date(now).toISOString(), pem }
  }
  const dir = await mkdtemp(join(tmpdir(), 'ura-issued-'))
  const store = await openRegistryStore(join(dir, 'registry.sqlite'), { instance: 'AL-DEV' })
  t.teardown(() => store.close())
  const soon = issue('AL-DEV/NJQV/J61922018S/taksat-vendore', 10)
  await store.commit({ ...emptyContent(), certificates: [soon] }, { who: 'prova', why: 'one certificate', expectedVersion: 0 })
  const revocations = new RevocationList()
  const issued = await followIssuedCertificates(store, new TrustStore([ca.certificate], revocations))
  t.teardown(() => issued.close())

  const rows = issued.rows()
  t.equal(rows.length, 1)
  t.match(rows[0], { role: 'issued', id: 'AL-DEV/NJQV/J61922018S/taksat-vendore', state: 'expiring', daysLeft: 9 })
  t.equal(expiringSoon(rows).length, 1, 'it shows among the certificates expiring soon')

  const later = issue('AL-DEV/NJQV/J61922018S/arkiva', 300)
  await store.commit(c => ({ ...c, certificates: [...c.certificates, later] }), { who: 'prova', why: 'a second', expectedVersion: 1 })
  const deadline = Date.now() + 5000
  while (issued.rows().length < 2 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
  const both = issued.rows()
  t.same(both.map(r => r.state).sort(), ['expiring', 'valid'], 'the new version is followed')
  revocations.setShared([{ serial: new X509Certificate(soon.pem).serialNumber, issuer: ca.certificate.subject, subject: 'x', revokedAt: new Date(now).toISOString(), reason: 'keyCompromise' }])
  t.equal(issued.rows().find(r => r.id?.endsWith('taksat-vendore'))?.state, 'revoked', 'a revocation the registry applied shows')
})
