/**
 * The message log: batch signatures (Merkle proofs, RSA and ECDSA keys), and one shared suite run
 * against both stores — embedded SQLite and PostgreSQL — covering group commit, the hash chain,
 * pruning and tampering (`verifyStore` must name the first bad record).
 */
import { generateKeyPairSync } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import t from 'tap'
import { scratchDatabases } from './support/postgres.ts'
import { BatchSigner, timeOrderedId, type BatchSignature } from '../certs/batch-signer.ts'
import { buildTree, leafHash, rootFromProof, type ProofStep } from '../certs/merkle.ts'
import { createRootCa } from '../certs/pki.ts'
import { anchorsOnly, SignatureInvalid, verifyBatchSignature } from '../certs/verifier.ts'
import { PgLogStore } from '../messagelog/pg-store.ts'
import { chainHash2, GENESIS_HASH, recordLeaf, sha512, type RecordContent, type StoredRecord } from '../messagelog/record.ts'
import { SqliteLogStore, WRITER_OLD_MB, WRITER_YOUNG_MB } from '../messagelog/sqlite-store.ts'
import { buildEvidence, verifyEvidence, type EvidenceDocument } from '../messagelog/evidence.ts'
import type { LogStore, LogStoreOptions } from '../messagelog/store.ts'
import { verifyStore } from '../messagelog/verify.ts'
import { verifyLog } from '../messagelog/verify-log.ts'
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
  fresh (opts?: LogStoreOptions): Promise<{ store: TestStore; reopen (opts?: LogStoreOptions): Promise<TestStore> }>
}

const embedded: Harness = {
  name: 'embedded (SQLite)',
  async fresh (opts) {
    const file = join(await mkdtemp(join(tmpdir(), 'ura-log-')), 'message-log.sqlite')
    return { store: await SqliteLogStore.open(file, opts), reopen: again => SqliteLogStore.open(file, again) }
  },
}

const createPgDatabase = scratchDatabases(t, 'ura_test_log')
const postgres: Harness = {
  name: 'PostgreSQL',
  async fresh (opts) {
    const url = await createPgDatabase()
    return { store: await PgLogStore.open(url, opts), reopen: again => PgLogStore.open(url, again) }
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
  // The random part is drawn from a pool refilled every 256 ids: none repeats across refills.
  const many = Array.from({ length: 2000 }, () => timeOrderedId(1_700_000_000_000))
  t.equal(new Set(many).size, 2000, 'ids made in the same millisecond, past several refills, all differ')
  t.equal(new Set(many.map(id => id.slice(15, 18))).size > 1, true, 'the bits after the version vary')
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
async function fill (store: LogStore, signer: TestKeys, waves = 3, perWave = 4, from = 0): Promise<StoredRecord[]> {
  const out: StoredRecord[] = []
  let i = from
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
    t.ok(records.every(r => r.chain === 2 && r.prevHash === '' && r.proof.length === 0), 'format 2: neither a proof nor the previous hash is stored')
    const bySignature = Map.groupBy(records, r => r.signatureId)
    t.ok([...bySignature.values()].every(b => b[b.length - 1].seq - b[0].seq === b.length - 1), 'each batch\'s records lie next to each other')
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
    // Handed out whole: the proof rebuilt from the batch, the previous hash read from the record before.
    for (const r of pair) {
      const header = JSON.parse((await store.signature(r.signatureId))!.header) as { root: string; count: number }
      t.equal(rootFromProof(recordLeaf(r), r.proof).toString('base64'), header.root, `record ${r.seq}: its rebuilt proof leads to the signed root`)
      t.equal(r.proof.length, Math.ceil(Math.log2(header.count)), `record ${r.seq}: one step per level`)
      t.equal(r.prevHash, r.seq === 1 ? GENESIS_HASH : records[r.seq - 2].hash, `record ${r.seq}: the previous hash filled in`)
    }
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
    t.equal((await again.byMessageId(more[0].messageId)).find(r => r.seq === 49)?.prevHash, records[47].hash, 'record 49 follows record 48')
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
      problem: /chain hash does not match its content/,
    },
    {
      name: 'a field changed (user id)',
      async tamper (s) {
        await s.exec("UPDATE ura_log_records SET user_id = 'AL-J00000000X' WHERE seq = 4")
        return 4
      },
      problem: /chain hash does not match its content/,
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
      // Format 2's chain hash covers the sequence number and the previous hash.
      problem: /chain hash does not match its content/,
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
      problem: /chain hash does not match its content/,
    },
    {
      name: 'a record rewritten with a recomputed chain hash',
      async tamper (s) {
        await s.exec("UPDATE ura_log_records SET path = '/subjekte/X/detyrime', hash = 'recomputed' WHERE seq = 11")
        return 11
      },
      problem: /chain hash does not match its content/,
    },
    {
      // Whoever can rewrite the chain from a record on is stopped by the batch signature: at the batch's last record.
      name: 'a record rewritten and the chain recomputed from it on',
      async tamper (s, r) {
        let prev: Buffer = Buffer.from(r[10].hash, 'base64')
        for (const x of r.slice(11)) {
          const content = x.seq === 12 ? { ...x, path: '/subjekte/X/detyrime' } : x
          prev = chainHash2(x.seq, prev, recordLeaf(content), x.signatureId)
          await s.exec('UPDATE ura_log_records SET path = $1, hash = $2 WHERE seq = $3', content.path, prev.toString('base64'), x.seq)
        }
        return r.filter(x => x.signatureId === r[11].signatureId).at(-1)!.seq
      },
      problem: /its batch \(records \d+–\d+\) is not covered by its batch signature/,
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

  t.test(`${h.name}: a log of format 1 continued in format 2 verifies as one chain; evidence from both`, async t => {
    const { store: earlier, reopen } = await h.fresh({ format: 1 })
    const old = await fill(earlier, keys, 2, 4)
    t.ok(old.every(r => r.chain === undefined && r.prevHash !== ''), 'format 1: proofs and previous hashes stored')
    await earlier.close()
    const store = await reopen()
    t.teardown(() => store.close())
    const lean = await fill(store, keys, 2, 4, 100)
    t.same(lean.map(r => r.seq), Array.from({ length: 16 }, (_, i) => i + 17), 'the chain goes on at record 17')
    t.ok(lean.every(r => r.chain === 2), 'format 2 from there on')
    t.same(await verifyStore(store, { trust }), { ok: true, records: 32, signatures: new Set([...old, ...lean].map(r => r.signatureId)).size })
    t.same(await verifyLog(store, { trust }, { threads: 2, parallelFrom: 0, chunkSize: 5, pageSize: 3 }), await verifyStore(store, { trust }), 'in ranges, on rows, the same verdict')

    const sigs = async (records: StoredRecord[]) => Promise.all([...new Set(records.map(r => r.signatureId))].map(async id => (await store.signature(id))!))
    for (const [id, format] of [['msg-1', 'ura-evidence/1'], ['msg-101', 'ura-evidence/2']] as const) {
      const records = await store.byMessageId(id)
      const doc = JSON.parse(JSON.stringify(buildEvidence(id, records, await sigs(records)))) as EvidenceDocument
      t.equal(doc.format, format, `${id}: ${format}`)
      const verdict = verifyEvidence(doc, trust)
      t.same(verdict.problems, [], `${id}: its evidence verifies offline`)
      t.equal(verdict.verified.length, 2)
      // The rebuilt proof is what proves the record: another record's proof does not.
      if (format === 'ura-evidence/2') {
        const wrong = structuredClone(doc)
        wrong.records[0].proof = (await store.byMessageId('msg-102'))[0].proof
        t.match(verifyEvidence(wrong, trust).problems.join(), /not covered by its batch signature/, `${id}: another record's proof is refused`)
        const relabelled = { ...doc, format: 'ura-evidence/1' }
        t.match(verifyEvidence(relabelled, trust).problems.join(), /does not belong in a document of format ura-evidence\/1/, `${id}: a format 2 record in a format 1 document is refused`)
      }
    }
    // The join of the formats is checked like any link: the first format 2 record altered is caught there.
    await store.exec("UPDATE ura_log_records SET path = '/x' WHERE seq = 17")
    t.equal((await verifyStore(store, { trust })).firstBad?.seq, 17)
  })

  t.test(`${h.name}: pruning keeps the rest of the chain verifiable`, async t => {
    const { store } = await h.fresh()
    t.teardown(() => store.close())
    const signer = newSigner()
    const records = await fill(store, signer)
    // Records 1–10 are old; record 10's batch goes on past it, so the whole batch stays (its proofs are rebuilt from all of it).
    const batchOf10 = records.filter(r => r.signatureId === records[9].signatureId).map(r => r.seq)
    t.ok(batchOf10[0] < 10 && batchOf10.at(-1)! > 10, `record 10's batch is records ${batchOf10[0]}–${batchOf10.at(-1)}`)
    const kept = batchOf10[0]
    await store.exec("UPDATE ura_log_records SET time = '2020-01-01T00:00:00.000Z' WHERE seq <= 10")
    t.equal(await store.prune(new Date('2021-01-01')), kept - 1, `records 1–${kept - 1} pruned: a batch goes whole or stays whole`)
    t.equal(await store.prune(new Date('2021-01-01')), 0, 'nothing more to prune')
    // The records that stayed get their own times back (the times are part of what was signed).
    for (const r of records.slice(kept - 1, 10)) await store.exec('UPDATE ura_log_records SET time = $1 WHERE seq = $2', r.time, r.seq)
    t.same(await store.anchor(), { seq: kept - 1, hash: records[kept - 2].hash })
    const after = await verifyStore(store, { trust })
    t.same(after, { ok: true, records: 25 - kept, signatures: after.signatures })
    const first = (await store.byMessageId(records[kept - 1].messageId)).find(r => r.seq === kept)!
    t.equal(first.prevHash, records[kept - 2].hash, 'the first record left follows the anchor')
    const more = await fill(store, signer, 1, 1)
    t.equal(more[0].seq, 25)
    t.ok((await verifyStore(store, { trust })).ok)
    // Removing the first remaining record is still caught.
    await store.exec('DELETE FROM ura_log_records WHERE seq = $1', kept)
    t.equal((await verifyStore(store, { trust })).firstBad?.seq, kept + 1)
  })
}

const keys = testSigningKeys({ [CLIENT_MEMBER]: 'ec-p256', [PROVIDER_MEMBER]: 'rsa-2048' })
storeSuite(embedded, keys)
storeSuite(postgres, keys)

t.test('PostgreSQL: a signing chain\'s certificates are written once, and again after the group that wrote them rolled back', async t => {
  const { store } = await postgres.fresh()
  t.teardown(() => store.close())
  // Attempts counted by a sequence (not undone by a rollback); a flag makes the next record insert fail.
  await store.exec(`CREATE SEQUENCE cert_attempts;
    CREATE FUNCTION count_cert () RETURNS trigger AS $$ BEGIN PERFORM nextval('cert_attempts'); RETURN NEW; END $$ LANGUAGE plpgsql;
    CREATE TRIGGER count_cert BEFORE INSERT ON ura_log_certificates FOR EACH ROW EXECUTE FUNCTION count_cert();
    CREATE TABLE fail_next (x INTEGER);
    CREATE FUNCTION refuse () RETURNS trigger AS $$ BEGIN IF EXISTS (SELECT 1 FROM fail_next) THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
    CREATE TRIGGER refuse BEFORE INSERT ON ura_log_records FOR EACH ROW EXECUTE FUNCTION refuse();
    INSERT INTO fail_next VALUES (1);`)
  const identity = keys.identityFor(CLIENT_MEMBER)!
  const body = Buffer.from('{}')
  await t.rejects(store.append({ content: content(1, 'request', body), body: null }, identity), /refused for the test/, 'the group rolls back')
  const db = new pg.Client(store.location.kind === 'postgres' ? store.location.url : '')
  await db.connect()
  t.teardown(() => db.end())
  const count = async (): Promise<{ attempts: number; rows: number }> => {
    const { rows } = await db.query("SELECT (SELECT last_value FROM cert_attempts) AS attempts, (SELECT COUNT(*) FROM ura_log_certificates) AS rows, (SELECT is_called FROM cert_attempts) AS called")
    return { attempts: rows[0].called === true ? Number(rows[0].attempts) : 0, rows: Number(rows[0].rows) }
  }
  t.same(await count(), { attempts: identity.chain.length, rows: 0 }, 'its certificates were tried, and rolled back with it')
  await store.exec('DELETE FROM fail_next')
  for (let i = 2; i <= 4; i++) await store.append({ content: content(i, 'request', body), body: null }, identity)
  t.same(await count(), { attempts: 2 * identity.chain.length, rows: identity.chain.length }, 'written again by the next group, then not by the two after it')
  t.ok((await verifyStore(store, { trust: anchorsOnly([keys.ca.pem]) })).ok, 'the log verifies with its certificates')
})

t.test('the embedded log writer runs with a heap of its own size, not the host-sized default', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'ura-log-young-'))
  const store = await SqliteLogStore.open(join(dir, 'message-log.sqlite'))
  t.teardown(async () => { await store.close(); await rm(dir, { recursive: true, force: true }) })
  const writer = (store as unknown as { writer: { resourceLimits?: { maxYoungGenerationSizeMb: number; maxOldGenerationSizeMb: number }; getHeapStatistics (): Promise<{ total_heap_size: number; heap_size_limit: number }> } }).writer
  t.equal(writer.resourceLimits?.maxYoungGenerationSizeMb, WRITER_YOUNG_MB, 'the thread was started with the young generation\'s limit')
  t.equal(writer.resourceLimits?.maxOldGenerationSizeMb, WRITER_OLD_MB, 'and the old generation\'s')
  // V8 took it: the heap's limit is the two together (a worker's default on a large host is gigabytes).
  const limitMb = (await writer.getHeapStatistics()).heap_size_limit / 1048576
  t.ok(limitMb >= WRITER_OLD_MB && limitMb <= WRITER_OLD_MB + 4 * WRITER_YOUNG_MB, `the writer's heap limit is ${limitMb.toFixed(0)} MB`)
  // Its whole heap stays within the young generation and a few MB of old space while it writes.
  const identity = testSigningKeys({ [CLIENT_MEMBER]: 'ec-p256' }).identityFor(CLIENT_MEMBER)!
  const body = Buffer.alloc(1024, 0x61)
  for (let round = 0; round < 20; round++) {
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.append({ content: content(round * 200 + i, 'request', body), body }, identity)))
  }
  const heap = await writer.getHeapStatistics()
  t.ok(heap.total_heap_size < (WRITER_YOUNG_MB + 40) * 1048576, `the writer's heap holds ${(heap.total_heap_size / 1048576).toFixed(1)} MB`)
})
