/**
 * Deferred signing (node.log.signing: deferred, messagelog/deferred-batches.ts): a record is durable
 * and chained when its append resolves, its key's batch is signed within signWithinMs (or when full,
 * or at close), a verification tells records awaiting their signature from bad ones, a killed node's
 * pending batches are signed when the log is next opened, and pruning never splits a batch that
 * other keys' records interleave.
 */
import { fork } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { anchorsOnly } from '../certs/verifier.ts'
import { buildEvidence, signaturesOf, verifyEvidence } from '../messagelog/evidence.ts'
import { SqliteLogReader, SqliteLogStore } from '../messagelog/sqlite-store.ts'
import { verifyStore } from '../messagelog/verify.ts'
import { verifyLog } from '../messagelog/verify-log.ts'
import { deferredContent, DEFERRED_MEMBERS } from './support/log-deferred-records.ts'
import { testSigningKeys } from './support/signing.ts'

const dir = await mkdtemp(join(tmpdir(), 'ura-deferred-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
const keys = testSigningKeys({ [DEFERRED_MEMBERS[0]]: 'ec-p256', [DEFERRED_MEMBERS[1]]: 'rsa-2048' })
const trust = anchorsOnly([keys.ca.pem])
let files = 0
const fresh = (): string => join(dir, `log-${++files}.sqlite`)

async function until (what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/** Appends records 0…n-1 one after another (each its own commit group), records at base + i seconds. */
async function appendEach (store: SqliteLogStore, n: number, base = Date.now(), from = 0): Promise<number[]> {
  const seqs: number[] = []
  for (let i = from; i < from + n; i++) {
    const content = deferredContent(i, base + i * 1000)
    seqs.push(await store.append({ content, body: null }, keys.identityFor(content.signer)!))
  }
  return seqs
}

t.test('an append resolves once its record is stored; its key\'s batch is signed within signWithinMs, across commit groups', async t => {
  const store = await SqliteLogStore.open(fresh(), { signing: 'deferred', signWithinMs: 300 })
  t.teardown(() => store.close())
  const seqs = await appendEach(store, 8)
  t.same(seqs, [1, 2, 3, 4, 5, 6, 7, 8], 'stored and chained in order, one group each')
  const records = await store.scan(0, 100)
  const ids = [...new Set(records.map(r => r.signatureId))]
  t.equal(ids.length, 2, 'one open batch per signing key, spanning the groups')
  t.equal(store.unsigned, 8, 'the writer counts the records awaiting their signature')
  for (const id of ids) {
    t.equal(await store.signature(id), undefined, 'not signed yet')
    t.ok(DEFERRED_MEMBERS.includes(await store.pendingSigner(id) as typeof DEFERRED_MEMBERS[number]), 'listed as pending, with its signer')
  }
  const early = await verifyStore(store, { trust })
  t.ok(early.ok, 'a log with pending batches verifies')
  t.equal(early.awaiting, 8, 'every record is counted as awaiting its signature')
  t.equal(early.signatures, 0)
  const pending = await signaturesOf(store, records.filter(r => r.seq === 2))
  t.same(pending, { signatures: [], pending: [records[1].signatureId] }, 'evidence cannot be made yet: the batch is named as pending')

  await until('both batches signed', async () => (await Promise.all(ids.map(id => store.signature(id)))).every(s => s !== undefined))
  t.equal(await store.pendingSigner(ids[0]), undefined, 'no longer pending once signed')
  await until('the count of unsigned records back at 0', async () => store.unsigned === 0)
  const requests = await store.batch(records[0].signatureId)
  t.same(requests.map(r => r.seq), [1, 3, 5, 7], 'a batch\'s records interleave with the other key\'s, in sequence order')
  for (const verify of [() => verifyStore(store, { trust }), () => verifyLog(store, { trust })]) {
    const verdict = await verify()
    t.ok(verdict.ok, 'verifies once signed')
    t.equal(verdict.awaiting, undefined, 'nothing awaits')
    t.equal(verdict.records, 8)
    t.equal(verdict.signatures, 2, 'two signatures for eight records in eight commit groups')
  }
  const exchange = await store.byMessageId('msg-2')
  t.same(exchange.map(r => r.direction), ['request', 'response'])
  const { signatures } = await signaturesOf(store, exchange)
  const verdict = verifyEvidence(JSON.parse(JSON.stringify(buildEvidence('msg-2', exchange, signatures))), trust)
  t.ok(verdict.ok, `an evidence document of an interleaved batch verifies offline: ${verdict.problems.join('; ')}`)
})

t.test('a batch closes at batchMax records; close() signs the batches still open', async t => {
  const file = fresh()
  const store = await SqliteLogStore.open(file, { signing: 'deferred', signWithinMs: 60_000, batchMax: 3 })
  await appendEach(store, 14)
  await until('the full batches signed', async () => (await store.signature((await store.scan(0, 1))[0].signatureId)) !== undefined)
  await store.close()
  const reader = SqliteLogReader.open(file)
  t.teardown(() => reader.close())
  t.same(reader.pendingBatches(), [], 'nothing is left pending after close()')
  const counts = new Map<string, number>()
  for (const r of await reader.scan(0, 100)) counts.set(r.signatureId, (counts.get(r.signatureId) ?? 0) + 1)
  t.same([...counts.values()], [3, 3, 3, 3, 1, 1], 'each key: two full batches of three, then the one close() signed')
  const verdict = await verifyLog(reader, { trust })
  t.ok(verdict.ok)
  t.equal(verdict.signatures, 6)
})

t.test('tampering is still found: a record of a pending batch, and a pending batch\'s signature removed after signing', async t => {
  const store = await SqliteLogStore.open(fresh(), { signing: 'deferred', signWithinMs: 60_000 })
  t.teardown(() => store.close())
  await appendEach(store, 6)
  await store.exec("UPDATE ura_log_records SET path = '/altered' WHERE seq = 3")
  const altered = await verifyStore(store, { trust })
  t.notOk(altered.ok, 'a record of a pending batch altered: its chain hash no longer matches')
  t.equal(altered.firstBad?.seq, 3)
  t.match(altered.firstBad?.problems.join(' '), /chain hash/)
  await store.exec("UPDATE ura_log_records SET path = '/subjekte/K81305012I/detyrime?i=2' WHERE seq = 3")
  t.ok((await verifyStore(store, { trust })).ok, 'restored')
  await store.exec('DELETE FROM ura_log_pending')
  const unlisted = await verifyLog(store, { trust })
  t.notOk(unlisted.ok, 'a batch neither signed nor pending is a missing signature')
  t.equal(unlisted.firstBad?.seq, 1)
  t.match(unlisted.firstBad?.problems.join(' '), /signature .* is missing/)
})

t.test('a node killed with batches unsigned: every acknowledged record is there, and its batches are signed at the next open', async t => {
  const file = fresh()
  const child = fork(join(import.meta.dirname, 'support', 'log-deferred-appender.ts'), [file], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const acked = new Map<number, string>()
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { acked: number; messageId: string }) => {
      acked.set(m.acked, m.messageId)
      if (acked.size === 300) child.kill('SIGKILL')
    })
    child.on('exit', () => { resolve() })
    child.on('error', reject)
  })
  const reader = SqliteLogReader.open(file)
  const before = await verifyLog(reader)
  t.ok(before.ok, 'the killed node\'s log verifies')
  t.ok((before.awaiting ?? 0) >= 300, `its records await their signatures (${before.awaiting} of ${before.records})`)
  t.equal(reader.pendingBatches().length, 2, 'one pending batch per member')
  await reader.close()

  const store = await SqliteLogStore.open(file)
  t.equal(store.unsigned, undefined, 'a log that signs at once has no count of unsigned records')
  const { signed, left } = await store.signPending(keys)
  t.equal(signed, 2)
  t.same(left, [])
  const after = await verifyLog(store, { trust })
  t.ok(after.ok, 'verifies with the batches signed')
  t.equal(after.awaiting, undefined)
  for (const [seq, messageId] of acked) {
    const held = await store.byMessageId(messageId)
    if (!held.some(r => r.seq === seq)) t.fail(`acknowledged record ${seq} (${messageId}) is missing`)
  }
  t.pass(`all ${acked.size} acknowledged records are held`)
  await appendEach(store, 1, Date.now(), 10_000)
  await t.rejects(store.signPending(keys), /before the first append/, 'signing pending batches after an append is refused (the writer\'s own batches are pending too)')
  await store.close()
})

t.test('pruning never splits a batch: the cut moves back before batches that go on past it, pending ones too', async t => {
  const store = await SqliteLogStore.open(fresh(), { signing: 'deferred', signWithinMs: 60_000, batchMax: 3 })
  t.teardown(() => store.close())
  const base = Date.UTC(2026, 0, 1)
  const one = async (i: number, response: boolean): Promise<number> => {
    const content = deferredContent(i, base + i * 1000, response)
    return store.append({ content, body: null }, keys.identityFor(content.signer)!)
  }
  // Requests (R) and responses (S), batches of three: R [1,2,4], S [3,5,6], R [7,8,9], then S [10,…] stays open, R 11.
  const plan: Array<[number, boolean]> = [[1, false], [2, false], [3, true], [4, false], [5, true], [6, true], [7, false], [8, false], [9, false], [10, true], [11, false]]
  for (const [i, response] of plan) t.equal(await one(i, response), i)
  await until('the full batches signed', async () => (await store.signature((await store.scan(8, 1))[0].signatureId)) !== undefined)
  const at = (seq: number): Date => new Date(base + seq * 1000 + 500)
  t.equal(await store.cutBefore(at(4)), undefined, 'at 4: S [3,5,6] goes on past it, then R [1,2,4] past 2: nothing can go')
  t.equal((await store.cutBefore(at(6)))?.seq, 6, 'at 6: both batches end by it')
  t.equal((await store.cutBefore(at(11)))?.seq, 9, 'at 11: the pending S batch from 10 on keeps 10 and 11')
  t.equal(await store.prune(at(11)), 9)
  const verdict = await verifyStore(store, { trust })
  t.ok(verdict.ok, 'the rest verifies from the anchor')
  t.equal(verdict.records, 2)
  t.equal(verdict.awaiting, 2)
})
