/**
 * The two gauges other parts of the node feed, checked against their real sources:
 * `ura_certificate_expiry_timestamp_seconds` against the certificates on disk (and the one the node
 * serves), `ura_queue_depth` against records held in the batch signer and the group commit of a real
 * PostgreSQL message log. The feeds are read at scrape time, so nothing here sets a metric by hand.
 */
import { X509Certificate } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { connect } from 'node:tls'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import t from 'tap'
import { request } from 'undici'
import { BatchSigner } from '../certs/batch-signer.ts'
import { initPki } from '../certs/dev-pki.ts'
import { Keystore, recordIssued } from '../certs/keystore.ts'
import { keystoreSigningKeys } from '../certs/keystore-signer.ts'
import { generateKeyPair, issueCertificate, splitPemCertificates } from '../certs/pki.ts'
import { TrustStore } from '../certs/trust-store.ts'
import { openMessageLog } from '../messagelog/index.ts'
import { GroupCommit, type GroupResult } from '../messagelog/store.ts'
import { demoConfig, E_ALBANIA, startTlsRig, TAX_SERVICE, TEST_PASSPHRASE } from './support/gateway.ts'
import { scratchDatabase } from './support/postgres.ts'
import { testSigningKeys } from './support/signing.ts'


const TAX = `/r1/${TAX_SERVICE}/subjekte/K81305012I/detyrime?viti=2026`

interface Sample { labels: Record<string, string>; value: number }

/** The samples of one metric in Prometheus text, labels unescaped. */
function samples (text: string, name: string): Sample[] {
  const out: Sample[] = []
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    const m = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line)!
    const labels: Record<string, string> = {}
    for (const [, key, value] of (m[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value.replace(/\\(.)/g, (_, c: string) => c === 'n' ? '\n' : c)
    out.push({ labels, value: Number(m[2]) })
  }
  return out
}

const seconds = (c: X509Certificate): number => Math.floor(c.validToDate.getTime() / 1000)
/** A serial as `ura cert list` shows it: hexadecimal, upper case, no leading zeros. */
const serialOf = (c: X509Certificate): string => c.serialNumber.toUpperCase().replace(/^0+(?=.)/, '')

t.test('queue depth sources: records not yet durable, read when asked', async t => {
  t.test('group commit: queued and in-flight records count until their group is written', async t => {
    const writes: Array<{ release (): void; fail (err: Error): void }> = []
    const group = new GroupCommit<string>(items => new Promise<GroupResult[]>((resolve, reject) => {
      writes.push({ release: () => resolve(items.map((_, i) => i + 1)), fail: reject })
    }), { groupMax: 2 })
    t.equal(group.waiting, 0, 'idle')
    const first = [group.append('a'), group.append('b'), group.append('c')]
    t.equal(group.waiting, 3, 'queued for the next group')
    await new Promise(resolve => setImmediate(resolve))
    t.equal(writes.length, 1, 'a group of two is being written')
    t.equal(group.waiting, 3, 'two in the group being written, one queued behind it')
    writes[0].release()
    t.same(await Promise.all(first.slice(0, 2)), [1, 2], 'each append resolves with what the write gave it')
    t.equal(group.waiting, 1, 'the written group no longer counts')
    await new Promise(resolve => setImmediate(resolve))
    t.equal(writes.length, 2)
    writes[1].fail(new Error('disk full'))
    await t.rejects(first[2], /disk full/)
    t.equal(group.waiting, 0, 'a failed group does not stay counted')
  })

  t.test('group commit: one record of a group may fail alone', async t => {
    const group = new GroupCommit<string>(async items => items.map((item, i) => item === 'bad' ? new Error('no signing key') : i + 10))
    const [good, bad, other] = [group.append('x'), group.append('bad'), group.append('y')]
    t.equal(await good, 10)
    await t.rejects(bad, /no signing key/)
    t.equal(await other, 12)
    t.same(group.stats, { groups: 1, records: 2 }, 'only written records count')
  })

  t.test('group commit: records someone waits for go first, a quarter of a group stays for the background', async t => {
    const groups: string[][] = []
    const group = new GroupCommit<string>(async items => {
      groups.push([...items])
      return items.map((_, i) => i)
    }, { groupMax: 8 })
    const all = [
      ...Array.from({ length: 10 }, (_, i) => group.append(`b${i}`, 1)),
      ...Array.from({ length: 10 }, (_, i) => group.append(`f${i}`)),
    ]
    await Promise.all(all)
    t.same(groups, [
      ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'b0', 'b1'],
      ['f6', 'f7', 'f8', 'f9', 'b2', 'b3', 'b4', 'b5'],
      ['b6', 'b7', 'b8', 'b9'],
    ], 'appended background first, written after: each lane in its own order')
  })

  t.test('group commit: background records alone wait for their earliest deadline; one someone waits for takes them along', async t => {
    const groups: string[][] = []
    const group = new GroupCommit<string>(async items => {
      groups.push([...items])
      return items.map((_, i) => i)
    })
    const started = Date.now()
    const early = [group.append('p0', 150)]
    await new Promise(resolve => setTimeout(resolve, 30))
    early.push(group.append('p1', 5000))
    t.same(groups, [], 'nothing written while every record may still wait')
    await Promise.all(early)
    const took = Date.now() - started
    t.ok(took >= 140 && took < 2000, `written at the first record's deadline (${took} ms)`)
    t.same(groups, [['p0', 'p1']], 'both in one group')
    const later = [group.append('p2', 5000), group.append('p3', 5000)]
    const t0 = Date.now()
    await group.append('exchange')
    await Promise.all(later)
    t.ok(Date.now() - t0 < 1000, 'not held for the 5 s the background records allowed')
    t.same(groups[1], ['exchange', 'p2', 'p3'])
  })

  t.test('group commit: a window keeps the group open for records someone waits for', async t => {
    const groups: string[][] = []
    const group = new GroupCommit<string>(async items => { groups.push([...items]); return items.map((_, i) => i) }, { windowMs: 60 })
    const a = group.append('a')
    await new Promise(resolve => setTimeout(resolve, 20))
    const b = group.append('b')
    await Promise.all([a, b])
    t.same(groups, [['a', 'b']], 'two turns, one group')
    await group.drain()
    await t.rejects(group.append('c'), /closed/, 'a drained group commit refuses appends')
  })

  t.test('batch signer: leaves gathering into a batch and being signed', async t => {
    const MEMBER = 'AL-DEV/GOV/K11503002N'
    // A window far longer than the test: only a full batch is signed.
    const signer = new BatchSigner(testSigningKeys({ [MEMBER]: 'ec-p256' }), { batchMs: 600_000, batchMax: 3 })
    t.equal(signer.waiting, 0, 'idle')
    const leaves = [signer.sign(MEMBER, Buffer.alloc(64, 1)), signer.sign(MEMBER, Buffer.alloc(64, 2))]
    t.equal(signer.waiting, 2, 'two leaves wait for their batch to fill')
    leaves.push(signer.sign(MEMBER, Buffer.alloc(64, 3)))
    t.equal(signer.waiting, 3, 'the full batch is being signed')
    await Promise.all(leaves)
    await new Promise(resolve => setImmediate(resolve))
    t.equal(signer.waiting, 0, 'signed')
    t.equal(signer.stats.batches, 1)
    const prompt = new BatchSigner(testSigningKeys({}), { batchMs: 0, batchMax: 10 })
    const unknown = prompt.sign('AL-DEV/GOV/NOKEY', Buffer.alloc(64))
    t.equal(prompt.waiting, 1)
    await t.rejects(unknown, /no signing key/)
    await new Promise(resolve => setImmediate(resolve))
    t.equal(prompt.waiting, 0, 'a failed batch does not stay counted')
  })
})

t.test('a node with its PKI and a PostgreSQL message log feeds both gauges', async t => {
  // The PKI of `ura init`, plus two client certificates from `ura cert issue`, one of them revoked.
  process.env.URA_KEY_PASSPHRASE = TEST_PASSPHRASE
  const dataDir = await mkdtemp(join(tmpdir(), 'ura-data-'))
  const { url: dbUrl } = await scratchDatabase(t, 'ura_test_metrics')
  // batchMs 1000: a record waits a whole second in the signer, long enough to be seen there.
  const config = await demoConfig({ 'node.yaml': text => text.replace(/dataDir: .*/, `dataDir: ${dataDir}\n  log: { store: postgres, url: "${dbUrl}", batchMs: 1000 }`) })
  const keystore = new Keystore(resolve(config.dir, config.node.dataDir), { passphrase: TEST_PASSPHRASE })
  initPki({ keystore, config })
  const issue = (id: string, days: number): X509Certificate => {
    const pem = issueCertificate(keystore.ca(), { subject: { C: 'AL', serialNumber: id, CN: id }, publicKey: generateKeyPair('ec-p256').publicKey, profile: 'tls-client', days })
    recordIssued(keystore.paths, pem)
    return new X509Certificate(pem)
  }
  const shortLived = issue('AL-DEV/NJQV/J61922018S/gjendja-civile', 10)
  const revoked = issue('AL-DEV/NJQV/J61922018S/arkiva', 200)
  TrustStore.load(keystore.paths).revocations.revoke(revoked, 'superseded')

  const messageLog = await openMessageLog(config, keystoreSigningKeys(keystore, TrustStore.load(keystore.paths)))
  const rig = await startTlsRig({ config, dataDir, messageLog })
  t.teardown(() => rig.close())
  const scrape = async (): Promise<string> => {
    const res = await request(`${rig.plainUrl}/metrics`)
    if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`)
    return res.body.text()
  }

  t.test('ura_certificate_expiry_timestamp_seconds: one series per certificate, with its exact notAfter', async t => {
    // What the data directory holds, read here with node:crypto, by role; the first listing wins.
    const expected = new Map<string, { role: string; certificate: X509Certificate }>()
    const add = (role: string, certificate: X509Certificate): void => {
      if (![...expected.values()].some(e => e.certificate.fingerprint256 === certificate.fingerprint256)) expected.set(serialOf(certificate), { role, certificate })
    }
    const first = (file: string): X509Certificate => new X509Certificate(splitPemCertificates(readFileSync(file, 'utf8'))[0])
    const leaves = (dir: string, file: string): X509Certificate[] => readdirSync(dir).sort().filter(d => existsSync(join(dir, d, file))).map(d => first(join(dir, d, file)))
    const paths = keystore.paths
    for (const file of readdirSync(paths.trustDir)) for (const pem of splitPemCertificates(readFileSync(join(paths.trustDir, file), 'utf8'))) add('ca', new X509Certificate(pem))
    add('tls-server', first(paths.nodeCert))
    for (const c of leaves(join(paths.root, 'members'), 'sign.cert.pem')) add('signing', c)
    for (const c of leaves(join(paths.root, 'clients'), 'tls.cert.pem')) add('client', c)
    for (const file of readdirSync(paths.issuedDir)) {
      const c = first(join(paths.issuedDir, file))
      if (c.serialNumber !== revoked.serialNumber) add('issued', c)
    }

    const series = samples(await scrape(), 'ura_certificate_expiry_timestamp_seconds')
    t.equal(series.length, expected.size, `one series per certificate (${expected.size})`)
    t.same(new Set(series.map(s => s.labels.serial)), new Set(expected.keys()), 'the same serials')
    for (const s of series) {
      const e = expected.get(s.labels.serial)
      if (e === undefined) continue
      t.same(s.labels, { subject: e.certificate.subject.split('\n').join(', '), serial: s.labels.serial, role: e.role }, `${e.role} ${s.labels.serial}: subject and role`)
      t.equal(s.value, seconds(e.certificate), `${e.role} ${s.labels.serial}: notAfter ${e.certificate.validTo}`)
    }
    const roles = series.map(s => s.labels.role)
    t.ok(['ca', 'tls-server', 'signing', 'client', 'issued'].every(r => roles.includes(r)), 'every role is there')
    t.equal(roles.filter(r => r === 'signing').length, readdirSync(join(paths.root, 'members')).length, 'each member e-seal')
    t.equal(series.find(s => s.labels.serial === serialOf(shortLived))?.value, seconds(shortLived), 'an issued certificate ending in 10 days')
    t.notOk(series.some(s => s.labels.serial === serialOf(revoked)), 'a revoked certificate is out of use')

    // The certificate the node actually serves is the tls-server series.
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(rig.url).port), rejectUnauthorized: false })
    await new Promise((ok, fail) => socket.once('secureConnect', ok).once('error', fail))
    const served = new X509Certificate(socket.getPeerCertificate().raw)
    socket.destroy()
    t.same(series.filter(s => s.labels.role === 'tls-server').map(s => s.value), [seconds(served)], 'the served TLS certificate')
  })

  t.test('ura_queue_depth: 0 when idle, the record while the store holds it', async t => {
    const depth = (text: string): Record<string, number> => Object.fromEntries(samples(text, 'ura_queue_depth').map(s => [s.labels.queue, s.value]))
    const until = async (what: string, ok: (d: Record<string, number>) => boolean): Promise<Record<string, number>> => {
      for (const end = Date.now() + 15_000; Date.now() < end; await sleep(10)) {
        const d = depth(await scrape())
        if (ok(d)) return d
      }
      throw new Error(`ura_queue_depth never showed ${what}`)
    }
    t.same(depth(await scrape()), { signer: 0, log: 0 }, 'idle: both queues, empty')

    // A cluster peer holds the chain head: the node's group commit waits for it.
    const peer = new pg.Client(dbUrl)
    await peer.connect()
    t.teardown(() => peer.end())
    await peer.query('BEGIN')
    await peer.query('SELECT seq FROM ura_log_head WHERE id = 1 FOR UPDATE')
    const exchange = request(`${rig.plainUrl}${TAX}`, { headers: { 'X-Road-Client': E_ALBANIA } })
    t.same(await until('the request record in the store', d => d.log === 1), { signer: 0, log: 1 }, 'the request record waits for its group: signed with it, then committed')
    await sleep(200)
    t.same(depth(await scrape()), { signer: 0, log: 1 }, 'and keeps waiting while the chain head is held')
    await peer.query('ROLLBACK')
    const res = await exchange
    t.equal(res.statusCode, 200, 'the exchange completes once the commit goes through')
    await res.body.text()
    t.same(depth(await scrape()), { signer: 0, log: 0 }, 'both records durable: nothing waits')
  })
})
