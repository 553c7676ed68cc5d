/**
 * The message log: batch signatures (Merkle proofs, RSA and ECDSA keys), and one shared suite run
 * against both stores — embedded SQLite and PostgreSQL — covering group commit, the hash chain,
 * pruning and tampering (`verifyStore` must name the first bad record).
 */
import { generateKeyPairSync } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { scratchDatabases } from './support/postgres.ts'
import { BatchSigner, timeOrderedId, type BatchSignature } from '../certs/batch-signer.ts'
import { buildTree, leafHash, rootFromProof, type ProofStep } from '../certs/merkle.ts'
import { createRootCa } from '../certs/pki.ts'
import { anchorsOnly, SignatureInvalid, verifyBatchSignature } from '../certs/verifier.ts'
import { PgLogStore } from '../messagelog/pg-store.ts'
import { recordLeaf, sha512, type RecordContent, type StoredRecord } from '../messagelog/record.ts'
import { SqliteLogStore } from '../messagelog/sqlite-store.ts'
import type { LogStore } from '../messagelog/store.ts'
import { verifyStore } from '../messagelog/verify.ts'
import { testSigningKeys, type TestKeys } from './support/signing.ts'

const CLIENT = 'AL-DEV/GOV/K11503002N/e-albania'
const SERVICE = 'AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet'
const CLIENT_MEMBER = 'AL-DEV/GOV/K11503002N'
const PROVIDER_MEMBER = 'AL-DEV/NJQV/L21603004L'

// ---- Merkle trees and batch signatures ----------------------------------------------------------

t.test('Merkle proofs lead every leaf to the root, for any batch size', async t => {
  for (let n = 1; n <= 9; n++) {
    const leaves = Array.from({ length: n }, (_, i) => leafHash(`record ${i}`))
    const { root, proofs } = buildTree(leaves)
    leaves.forEach((leaf, i) => t.ok(rootFromProof(leaf, proofs[i]).equals(root), `n=${n} leaf ${i}`))
    if (n > 1) {
      t.notOk(rootFromProof(leafHash('record 99'), proofs[0]).equals(root), `n=${n}: another leaf does not fit the proof`)
      t.notOk(rootFromProof(leaves[0], proofs[1]).equals(root), `n=${n}: a leaf does not fit another leaf's proof`)
    }
  }
  // An inner node cannot pass for a leaf (domain separation).
  const { root, proofs } = buildTree([leafHash('a'), leafHash('b'), leafHash('c'), leafHash('d')])
  const inner = rootFromProof(leafHash('a'), proofs[0].slice(0, 1))
  t.notOk(rootFromProof(inner, proofs[0].slice(1)).equals(rootFromProof(leafHash(inner), proofs[0].slice(1))), 'a leaf hash differs from the inner node it imitates')
  t.ok(rootFromProof(inner, proofs[0].slice(1)).equals(root))
  t.throws(() => rootFromProof(leafHash('a'), [['X', 'AA=='] as unknown as ProofStep]), /malformed/)
  t.throws(() => buildTree([]), /at least one leaf/)
})

t.test('batch signer: one signature per window and key, RSA and ECDSA, verifiable offline', async t => {
  const keys = testSigningKeys({ [CLIENT_MEMBER]: 'ec-p256', [PROVIDER_MEMBER]: 'rsa-2048', 'AL-DEV/GOV/L01417001D': 'rsa-3072' })
  const trust = anchorsOnly([keys.ca.pem])
  const signer = new BatchSigner(keys, { batchMs: 5, batchMax: 4 })
  const leaves = Array.from({ length: 10 }, (_, i) => leafHash(`leaf ${i}`))
  const results = await Promise.all([
    ...leaves.slice(0, 6).map(l => signer.sign(CLIENT_MEMBER, l)),
    ...leaves.slice(6).map(l => signer.sign(PROVIDER_MEMBER, l)),
  ])
  t.equal(signer.stats.leaves, 10)
  t.equal(signer.stats.batches, 3, 'client: 4 (full batch) + 2 (window); provider: 4 (full batch)')
  const ids = new Set(results.map(r => r.signature.id))
  t.equal(ids.size, 3)
  results.forEach((r, i) => {
    const header = verifyBatchSignature(r.signature, { trust })
    t.equal(header.signer, i < 6 ? CLIENT_MEMBER : PROVIDER_MEMBER)
    t.equal(header.alg, i < 6 ? 'ECDSA-P256-SHA256' : 'RSASSA-PSS-SHA512')
    t.equal(rootFromProof(leaves[i], r.proof).toString('base64'), header.root, `leaf ${i} is under its signed root`)
  })
  const rsa3072 = await signer.sign('AL-DEV/GOV/L01417001D', leafHash('x'))
  t.equal(verifyBatchSignature(rsa3072.signature, { trust }).alg, 'RSASSA-PSS-SHA512', 'RSA-3072 signs too')
  t.equal(verifyBatchSignature(results[0].signature).signer, CLIENT_MEMBER, 'without a CA: chain consistency only')

  const sig = results[0].signature
  const fails = (s: BatchSignature, re: RegExp, what: string): void => {
    t.throws(() => verifyBatchSignature(s, { trust }), re, what)
    t.throws(() => verifyBatchSignature(s, { trust }), SignatureInvalid)
  }
  const header = JSON.parse(sig.header)
  fails({ ...sig, header: JSON.stringify({ ...header, root: results[6].signature.header.length > 0 ? JSON.parse(results[6].signature.header).root : '' }) }, /does not verify/, 'another root')
  fails({ ...sig, header: JSON.stringify({ ...header, alg: 'ECDSA-P384-SHA384' }) }, /does not verify/, 'relabelled algorithm')
  fails({ ...sig, header: JSON.stringify({ ...header, alg: 'RSASSA-PSS-SHA512' }) }, /does not verify/, 'RSA label on an EC key')
  fails({ ...sig, value: results[6].signature.value }, /does not verify/, 'another batch\'s signature')
  fails({ ...sig, chain: results[6].signature.chain }, /does not verify/, 'another member\'s certificate')
  fails({ ...sig, header: JSON.stringify({ ...header, signer: PROVIDER_MEMBER }) }, /does not verify/, 'another signer named')
  fails({ ...sig, chain: [] }, /no certificate chain/, 'no chain')
  fails({ ...sig, header: 'nope' }, /not JSON/, 'garbage header')
  t.throws(() => verifyBatchSignature(sig, { trust: anchorsOnly([createRootCa().pem]) }), /does not chain to a trusted CA/, 'unknown CA')

  // A certificate issued to another member, and one that expired before the signing time.
  const impostor = testSigningKeys({}, keys.ca)
  impostor.add(CLIENT_MEMBER, 'ec-p256', { serialNumber: PROVIDER_MEMBER })
  const wrongHolder = await new BatchSigner(impostor, { batchMs: 0, batchMax: 10 }).sign(CLIENT_MEMBER, leafHash('x'))
  t.throws(() => verifyBatchSignature(wrongHolder.signature, { trust }), /issued to AL-DEV\/NJQV\/L21603004L, not to AL-DEV\/GOV\/K11503002N/)
  const expired = testSigningKeys({}, keys.ca)
  expired.add(CLIENT_MEMBER, 'ec-p256', { notBefore: new Date(Date.now() - 10 * 86400000), notAfter: new Date(Date.now() - 86400000) })
  const late = await new BatchSigner(expired, { batchMs: 0, batchMax: 10 }).sign(CLIENT_MEMBER, leafHash('x'))
  t.throws(() => verifyBatchSignature(late.signature, { trust }), /expired/)
  t.throws(() => verifyBatchSignature(late.signature), /not valid at the signing time/)

  await t.rejects(signer.sign('AL-DEV/GOV/NOKEY', leafHash('x')), /no signing key for member AL-DEV\/GOV\/NOKEY/)
})

// ---- the shared store suite -----------------------------------------------------------------------

interface TestStore extends LogStore {
  exec (sql: string, ...params: unknown[]): Promise<void>
  readonly stats: { groups: number; records: number }
}

interface Harness {
  name: string
  fresh (): Promise<{ store: TestStore; reopen (): Promise<TestStore> }>
}

const embedded: Harness = {
  name: 'embedded (SQLite)',
  async fresh () {
    const file = join(await mkdtemp(join(tmpdir(), 'ura-log-')), 'message-log.sqlite')
    return { store: await SqliteLogStore.open(file), reopen: () => SqliteLogStore.open(file) }
  },
}

const createPgDatabase = scratchDatabases(t, 'ura_test_log')
const postgres: Harness = {
  name: 'PostgreSQL',
  async fresh () {
    const url = await createPgDatabase()
    return { store: await PgLogStore.open(url), reopen: () => PgLogStore.open(url) }
  },
}


function content (i: number, direction: 'request' | 'response', body: Buffer): RecordContent {
  return {
    time: new Date().toISOString(),
    direction,
    protocol: 'rest',
    messageId: `msg-${i}`,
    requestId: `req-${i}`,
    client: CLIENT,
    service: SERVICE,
    userId: i % 3 === 0 ? 'AL-I50314123V' : null,
    issue: null,
    representedParty: null,
    method: 'GET',
    path: `/subjekte/K81305012I/detyrime?i=${i}`,
    status: direction === 'response' ? 200 : null,
    fault: null,
    requestHash: sha512(`request ${i}`),
    headersDigest: sha512(`headers ${i} ${direction}`),
    bodyDigest: sha512(body),
    signer: direction === 'request' ? CLIENT_MEMBER : PROVIDER_MEMBER,
  }
}

/** What the recorder does: sign the record's leaf (batched), then append it durably. */
t.test('batch signature ids are version 7 UUIDs: they sort by the time they were made', async t => {
  const ids = [timeOrderedId(1_700_000_000_000), timeOrderedId(1_700_000_000_001), timeOrderedId(1_800_000_000_000)]
  for (const id of ids) t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  t.same([...ids].sort(), ids, 'later ids sort after earlier ones')
  t.equal(ids[0].slice(0, 13), '018bcfe5-6800', 'the first 48 bits are the milliseconds')
  t.not(timeOrderedId(1_700_000_000_000), ids[0], 'random after the time')
})

t.test('batch signer: leaves that may wait share a signature across turns; one that may not closes the batch', async t => {
  const keys = testSigningKeys({ [CLIENT_MEMBER]: 'ec-p256' })
  const signer = new BatchSigner(keys, { batchMs: 0, batchMax: 64 })
  // Three delivery attempts' records arriving in three different turns, each allowed to wait 200 ms.
  const waiting: Array<Promise<{ signature: BatchSignature }>> = []
  for (let i = 0; i < 3; i++) {
    waiting.push(signer.sign(CLIENT_MEMBER, leafHash(`push ${i}`), 200))
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  t.equal(signer.stats.batches, 0, 'nothing signed while every leaf may still wait')
  const started = Date.now()
  const first = await Promise.all(waiting)
  t.ok(Date.now() - started < 200, 'the batch closed at the first leaf\'s deadline, not later')
  t.equal(new Set(first.map(r => r.signature.id)).size, 1, 'one signature for the three')
  // A record a client waits for joins the waiting ones and the batch is signed at once.
  const more = [signer.sign(CLIENT_MEMBER, leafHash('push 3'), 5000), signer.sign(CLIENT_MEMBER, leafHash('push 4'), 5000)]
  const t0 = Date.now()
  const sync = await signer.sign(CLIENT_MEMBER, leafHash('exchange'))
  const rest = await Promise.all(more)
  t.ok(Date.now() - t0 < 1000, 'not held for the 5 s the waiting leaves allowed')
  t.equal(rest[0].signature.id, sync.signature.id)
  t.equal(rest[1].signature.id, sync.signature.id)
  t.equal(signer.stats.batches, 2)
})

/** What the recorder does: hand the content to the store, which signs it with its group (per key) and appends it. */
async function record (store: LogStore, keys: TestKeys, c: RecordContent, body: Buffer | null): Promise<StoredRecord> {
  const seq = await store.append({ content: c, body }, keys.identityFor(c.signer)!)
  return (await store.scan(seq - 1, 1))[0]
}

/** `waves` rounds of `perWave` concurrent exchanges (request, then response): batches of several records. */
async function fill (store: LogStore, signer: TestKeys, waves = 3, perWave = 4): Promise<StoredRecord[]> {
  const out: StoredRecord[] = []
  let i = 0
  for (let w = 0; w < waves; w++) {
    const ids = Array.from({ length: perWave }, () => i++)
    const requests = await Promise.all(ids.map(n => { const b = Buffer.from(`{"pyetje":${n}}`); return record(store, signer, content(n, 'request', b), n % 2 === 0 ? b : null) }))
    const responses = await Promise.all(ids.map(n => { const b = Buffer.from(`{"pergjigje":${n}}`); return record(store, signer, content(n, 'response', b), b) }))
    out.push(...requests, ...responses)
  }
  return out.sort((a, b) => a.seq - b.seq)
}

function storeSuite (h: Harness, keys: TestKeys): void {
  const trust = anchorsOnly([keys.ca.pem])
  const newSigner = (): TestKeys => keys

  t.test(`${h.name}: appends durably in one chain, sharing commits and signatures`, async t => {
    const { store, reopen } = await h.fresh()
    const signer = newSigner()
    const records = await fill(store, signer, 3, 8)
    t.same(records.map(r => r.seq), Array.from({ length: 48 }, (_, i) => i + 1), 'sequence 1..48, no gaps')
    for (let i = 1; i < records.length; i++) t.equal(records[i].prevHash, records[i - 1].hash)
    t.ok(store.stats.groups < 48 / 4, `48 records in ${store.stats.groups} commits`)
    const signatures = new Set(records.map(r => r.signatureId)).size
    t.ok(signatures <= 12, `48 records under ${signatures} signatures`)
    t.equal(new Set(records.filter(r => r.seq <= 8).map(r => r.signatureId)).size, 1, 'the first wave\'s requests, one group for one key, share one signature')

    const pair = await store.byMessageId('msg-3')
    t.same(pair.map(r => r.direction), ['request', 'response'])
    t.equal(pair[0].body, null, 'an odd request was logged as digest only')
    t.equal(pair[1].body?.toString(), '{"pergjigje":3}')
    t.equal(pair[0].userId, 'AL-I50314123V')
    t.equal(pair[1].status, 200)
    t.same(pair[1].proof, records.find(r => r.seq === pair[1].seq)!.proof)
    const sig = await store.signature(pair[0].signatureId)
    t.same(sig?.chain, keys.identities.get(CLIENT_MEMBER)!.chain, 'the certificate chain is stored with the signature')
    t.equal(await store.signature('no-such-id'), undefined)
    t.same(await store.byMessageId('no-such-message'), [])

    t.same(await verifyStore(store, { trust }), { ok: true, records: 48, signatures })
    const untrusted = await verifyStore(store, { trust: anchorsOnly([createRootCa().pem]) })
    t.equal(untrusted.firstBad?.seq, 1)
    t.match(untrusted.firstBad?.problems.join(), /does not chain to a trusted CA/)

    // Another process (or a restart) continues the same chain.
    await store.close()
    await t.rejects(store.append({ content: records[0], body: null }, keys.identityFor(CLIENT_MEMBER)!), /closed/, 'a closed store refuses appends')
    const again = await reopen()
    t.teardown(() => again.close())
    const more = await fill(again, newSigner(), 1, 2)
    t.equal(more[0].seq, 49)
    t.equal(more[0].prevHash, records[47].hash)
    t.equal((await verifyStore(again, { trust })).records, 52)
  })

  t.test(`${h.name}: a record whose key cannot sign fails alone; its group is written`, async t => {
    const { store } = await h.fresh()
    t.teardown(() => store.close())
    const good = keys.identityFor(CLIENT_MEMBER)!
    // A key the node does not sign with (RSA under 2048 bits): its batch fails when the group is sealed.
    const weak = { key: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, chain: good.chain }
    const body = Buffer.from('{}')
    const results = await Promise.allSettled([
      store.append({ content: content(1, 'request', body), body: null }, good),
      store.append({ content: content(2, 'request', body), body: null }, weak),
      store.append({ content: content(3, 'request', body), body: null }, good),
    ])
    t.same(results.map(r => r.status), ['fulfilled', 'rejected', 'fulfilled'])
    t.match((results[1] as PromiseRejectedResult).reason.message, /at least 2048 bits/)
    t.same(results.map(r => r.status === 'fulfilled' ? r.value : null), [1, null, 2], 'the chain skips the failed record: no gap')
    const written = await store.scan(0, 10)
    t.same(written.map(r => r.messageId), ['msg-1', 'msg-3'])
    t.equal(written[0].signatureId, written[1].signatureId, 'the two of one key in one group share a signature')
    t.ok((await verifyStore(store, { trust })).ok)
  })

  t.test(`${h.name}: a renewed certificate for the same key signs with its new chain`, async t => {
    const { store } = await h.fresh()
    t.teardown(() => store.close())
    const first = keys.identityFor(PROVIDER_MEMBER)!
    const body = Buffer.from('{}')
    await store.append({ content: content(1, 'response', body), body: null }, first)
    const renewed = { key: first.key, chain: [...first.chain].reverse() }
    await store.append({ content: content(2, 'response', body), body: null }, renewed)
    await store.append({ content: content(3, 'response', body), body: null }, { key: first.key, chain: [...first.chain] })
    const [a, b, c] = await store.scan(0, 10)
    t.same((await store.signature(a.signatureId))?.chain, first.chain)
    t.same((await store.signature(b.signatureId))?.chain, renewed.chain, 'the chain current when the record was signed')
    t.same((await store.signature(c.signatureId))?.chain, first.chain, 'an equal chain in a new array is the same identity')
  })

  t.test(`${h.name}: many concurrent exchanges share one commit`, async t => {
    const { store } = await h.fresh()
    t.teardown(() => store.close())
    const signer = newSigner()
    await fill(store, signer, 1, 200)
    t.ok(store.stats.groups <= 20, `400 records in ${store.stats.groups} commits`)
    t.ok((await verifyStore(store, { trust })).ok)
  })

  const tamperCases: Array<{ name: string; tamper (s: TestStore, r: StoredRecord[]): Promise<number>; problem: RegExp }> = [
    {
      name: 'one byte of a logged body changed',
      async tamper (s, r) {
        const target = r.find(x => x.seq >= 5 && x.body !== null)!
        const body = Buffer.from(target.body!)
        body[2] ^= 0x01
        await s.exec('UPDATE ura_log_records SET body = $1 WHERE seq = $2', body, target.seq)
        return target.seq
      },
      problem: /body does not match its digest/,
    },
    {
      name: 'one byte of a digest changed',
      async tamper (s, r) {
        const d = r[6].headersDigest
        await s.exec('UPDATE ura_log_records SET headers_digest = $1 WHERE seq = 7', (d[0] === 'A' ? 'B' : 'A') + d.slice(1))
        return 7
      },
      problem: /not covered by its batch signature/,
    },
    {
      name: 'a field changed (user id)',
      async tamper (s) {
        await s.exec("UPDATE ura_log_records SET user_id = 'AL-J00000000X' WHERE seq = 4")
        return 4
      },
      problem: /not covered by its batch signature/,
    },
    {
      name: 'a record deleted',
      async tamper (s) {
        await s.exec('DELETE FROM ura_log_records WHERE seq = 6')
        return 7
      },
      problem: /records 6–6 are missing/,
    },
    {
      name: 'the first record deleted',
      async tamper (s) {
        await s.exec('DELETE FROM ura_log_records WHERE seq = 1')
        return 2
      },
      problem: /log starts at record 2/,
    },
    {
      name: 'two records reordered',
      async tamper (s) {
        await s.exec('UPDATE ura_log_records SET seq = -1 WHERE seq = 8')
        await s.exec('UPDATE ura_log_records SET seq = 8 WHERE seq = 9')
        await s.exec('UPDATE ura_log_records SET seq = 9 WHERE seq = -1')
        return 8
      },
      problem: /does not follow its predecessor/,
    },
    {
      name: 'two batch signatures swapped',
      async tamper (s, r) {
        const a = r.find(x => x.seq >= 5)!.signatureId
        const b = r.find(x => x.signatureId !== a && x.signer === r.find(y => y.signatureId === a)!.signer && x.seq > 5)!.signatureId
        const sa = (await s.signature(a))!
        const sb = (await s.signature(b))!
        await s.exec('UPDATE ura_log_signatures SET value = $1 WHERE id = $2', sb.value, a)
        await s.exec('UPDATE ura_log_signatures SET value = $1 WHERE id = $2', sa.value, b)
        return r.find(x => x.signatureId === a || x.signatureId === b)!.seq
      },
      problem: /signature does not verify/,
    },
    {
      name: 'a record pointed at another batch\'s signature',
      async tamper (s, r) {
        const other = r.find(x => x.signatureId !== r[9].signatureId && x.signer === r[9].signer)!.signatureId
        await s.exec('UPDATE ura_log_records SET signature_id = $1 WHERE seq = 10', other)
        return 10
      },
      problem: /not covered by its batch signature/,
    },
    {
      name: 'a record rewritten with a recomputed chain hash',
      async tamper (s) {
        await s.exec("UPDATE ura_log_records SET path = '/subjekte/X/detyrime', hash = 'recomputed' WHERE seq = 11")
        return 11
      },
      problem: /not covered by its batch signature/,
    },
  ]

  t.test(`${h.name}: tampering is detected at the first bad record`, async t => {
    for (const c of tamperCases) {
      const { store } = await h.fresh()
      const records = await fill(store, newSigner())
      t.ok((await verifyStore(store, { trust })).ok, `${c.name}: sound before`)
      const expected = await c.tamper(store, records)
      const verdict = await verifyStore(store, { trust })
      t.equal(verdict.ok, false, `${c.name}: detected`)
      t.equal(verdict.firstBad?.seq, expected, `${c.name}: first bad record is ${expected}`)
      t.match(verdict.firstBad?.problems.join(' | '), c.problem, `${c.name}: ${verdict.firstBad?.problems.join(' | ')}`)
      await store.close()
    }
  })

  t.test(`${h.name}: pruning keeps the rest of the chain verifiable`, async t => {
    const { store } = await h.fresh()
    t.teardown(() => store.close())
    const signer = newSigner()
    const records = await fill(store, signer)
    await store.exec("UPDATE ura_log_records SET time = '2020-01-01T00:00:00.000Z' WHERE seq <= 10")
    t.equal(await store.prune(new Date('2021-01-01')), 10)
    t.equal(await store.prune(new Date('2021-01-01')), 0, 'nothing more to prune')
    t.same(await store.anchor(), { seq: 10, hash: records[9].hash })
    const after = await verifyStore(store, { trust })
    t.same(after, { ok: true, records: 14, signatures: after.signatures })
    const more = await fill(store, signer, 1, 1)
    t.equal(more[0].seq, 25)
    t.ok((await verifyStore(store, { trust })).ok)
    // Removing the first remaining record is still caught.
    await store.exec('DELETE FROM ura_log_records WHERE seq = 11')
    t.equal((await verifyStore(store, { trust })).firstBad?.seq, 12)
  })
}

const keys = testSigningKeys({ [CLIENT_MEMBER]: 'ec-p256', [PROVIDER_MEMBER]: 'rsa-2048' })
storeSuite(embedded, keys)
storeSuite(postgres, keys)
