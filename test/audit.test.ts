/**
 * The audit trail of admin actions: entries are signed, chained and listed by operator, action,
 * target and time; `verifyAudit` (the message log's chain walk) names the first bad record after a
 * flipped byte, a removed record or a reordered pair — on both stores, embedded SQLite and
 * PostgreSQL — and `ura audit verify` does the same from the command line.
 */
import { execFile } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { scratchDatabases } from './support/postgres.ts'
import { BatchSigner } from '../certs/batch-signer.ts'
import { initPki } from '../certs/dev-pki.ts'
import { Keystore } from '../certs/keystore.ts'
import { keystoreSigningKeys } from '../certs/keystore-signer.ts'
import { createRootCa } from '../certs/pki.ts'
import { TrustStore } from '../certs/trust-store.ts'
import { anchorsOnly } from '../certs/verifier.ts'
import type { UraConfig } from '../config/types.ts'
import {
  AuditStore, AuditTrail, auditSignerOf, canonicalJson, listAudit, openAuditTrail, stateDigest, verifyAudit,
  type AuditEntry, type AuditRecord,
} from '../messagelog/audit/index.ts'
import { sha512 } from '../messagelog/record.ts'
import { demoConfig } from './support/gateway.ts'
import { testSigningKeys } from './support/signing.ts'

const run = promisify(execFile)
const URA = resolve(import.meta.dirname, '../cli/main.ts')
const OPERATOR = 'AL-DEV/GOV/M01712003P/operimet'
const OPERATOR_MEMBER = 'AL-DEV/GOV/M01712003P'
const T0 = Date.parse('2026-03-01T09:00:00.000Z')
const minutes = (n: number): Date => new Date(T0 + n * 60_000)

const keys = testSigningKeys({ [OPERATOR_MEMBER]: 'ec-p256' })
const trust = anchorsOnly([keys.ca.pem])

// ---- the two stores -----------------------------------------------------------------------------

interface Harness { name: string; fresh (): Promise<{ store: AuditStore; reopen (): Promise<AuditStore> }> }

const embedded: Harness = {
  name: 'embedded',
  async fresh () {
    const file = join(await mkdtemp(join(tmpdir(), 'ura-audit-')), 'audit.db')
    return { store: await AuditStore.openFile(file), reopen: () => AuditStore.openFile(file) }
  },
}

const createPgDatabase = scratchDatabases(t, 'ura_test_audit')

const postgres: Harness = {
  name: 'PostgreSQL',
  async fresh () {
    const url = await createPgDatabase()
    return { store: await AuditStore.openPostgres(url), reopen: () => AuditStore.openPostgres(url) }
  },
}


// ---- entries ------------------------------------------------------------------------------------

const MEMBER = 'AL-DEV/NJQV/L21603004L'
const before = { code: 'L21603004L', name: 'Bashkia Tiranë', subsystems: ['taksat-vendore'] }
const after = { name: 'Bashkia Tiranë', code: 'L21603004L', subsystems: ['taksat-vendore', 'gjendja-civile'] }

/** Ten admin actions by two operators, the first five one after the other, the rest at once (one shared batch signature). */
function entries (): AuditEntry[] {
  return [
    { operator: 'op-ana', role: 'admin', action: 'member.create', target: MEMBER, after: before, result: 'allowed', requestId: 'req-1', time: minutes(0) },
    { operator: 'op-ana', role: 'admin', action: 'member.update', target: MEMBER, before, after, result: 'allowed', requestId: 'req-2', time: minutes(1) },
    { operator: 'op-ben', role: 'viewer', action: 'member.update', target: MEMBER, before: after, after: before, result: 'refused', errorCode: 'Client.Forbidden', requestId: 'req-3', time: minutes(2) },
    { operator: 'op-ben', role: 'viewer', action: 'audit.list', result: 'allowed', requestId: 'req-4', time: minutes(3) },
    { operator: 'op-ana', role: 'admin', action: 'grant.create', target: 'AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet', after: { clients: ['AL-DEV/GOV/K11503002N/e-albania'] }, result: 'allowed', requestId: 'req-5', time: minutes(4) },
    ...Array.from({ length: 5 }, (_, i): AuditEntry => ({
      operator: i % 2 === 0 ? 'op-ana' : 'op-ben', role: 'admin', action: 'service.delete', target: `${MEMBER}/taksat-vendore/s${i}`,
      before: { code: `s${i}` }, result: 'allowed', requestId: `req-${6 + i}`, time: minutes(10 + i),
    })),
  ]
}

async function fill (trail: AuditTrail): Promise<AuditRecord[]> {
  const list = entries()
  const out: AuditRecord[] = []
  for (const e of list.slice(0, 5)) out.push(await trail.record(e))
  out.push(...await Promise.all(list.slice(5).map(e => trail.record(e))))
  return out.sort((a, b) => a.seq - b.seq)
}

const newSigner = (): BatchSigner => new BatchSigner(keys, { batchMs: 2, batchMax: 64 })

t.test('the canonical digest of a state does not depend on key order, and nothing means null', async t => {
  t.equal(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 2 }], c: null } }), '{"a":{"c":null,"d":[2,{"x":2,"y":1}]},"b":1}')
  t.equal(stateDigest({ a: 1, b: 2 }), stateDigest({ b: 2, a: 1 }))
  t.equal(stateDigest({ a: 1, b: 2 }), sha512('{"a":1,"b":2}'))
  t.not(stateDigest({ a: 1 }), stateDigest({ a: 2 }))
  t.equal(stateDigest(undefined), null)
  t.equal(stateDigest(null), sha512('null'), 'null is a state; undefined is none')
})

t.test('the trail is signed by the node operator\'s member', async t => {
  const config = { node: { operators: [OPERATOR, 'AL-DEV/GOV/K11503002N/e-albania'] } } as unknown as UraConfig
  t.equal(auditSignerOf(config), OPERATOR_MEMBER, 'the first operator\'s member')
  t.throws(() => auditSignerOf({ node: { operators: [] } } as unknown as UraConfig), /node\.operators names none/)
})

function suite (h: Harness): void {
  t.test(`${h.name}: actions are recorded in one signed chain and listed by operator, action, target and time`, async t => {
    const { store, reopen } = await h.fresh()
    const signer = newSigner()
    const trail = new AuditTrail(store, signer, OPERATOR_MEMBER)
    const records = await fill(trail)
    t.same(records.map(r => r.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    for (let i = 1; i < records.length; i++) t.equal(records[i].prevHash, records[i - 1].hash, `record ${i + 1} follows record ${i}`)
    t.equal(signer.stats.batches, 6, 'five signed alone, the five concurrent ones under one signature')

    const all = await listAudit(trail)
    t.same(all, records, 'listed as recorded, oldest first')
    const [create, update, refused, listing] = all
    t.equal(create.beforeDigest, null, 'nothing before a create')
    t.equal(create.afterDigest, stateDigest(before))
    t.equal(update.beforeDigest, stateDigest(before))
    t.equal(update.afterDigest, stateDigest({ ...after }), 'the digest of the state after')
    t.equal(update.afterDigest, sha512(canonicalJson({ code: 'L21603004L', name: 'Bashkia Tiranë', subsystems: ['taksat-vendore', 'gjendja-civile'] })), 'whatever the key order')
    t.same([refused.result, refused.errorCode], ['refused', 'Client.Forbidden'])
    t.same([update.result, update.errorCode], ['allowed', null])
    t.equal(listing.target, null, 'a node-wide action has no target')
    t.equal(create.signer, OPERATOR_MEMBER)
    t.equal(create.time, '2026-03-01T09:00:00.000Z')
    t.notOk(JSON.stringify(all).includes('Bashkia'), 'the states themselves are not stored')

    const seqs = (rs: AuditRecord[]): number[] => rs.map(r => r.seq)
    t.same(seqs(await trail.list({ operator: 'op-ben' })), [3, 4, 7, 9], 'by operator')
    t.same(seqs(await trail.list({ action: 'member.update' })), [2, 3], 'by action')
    t.same(seqs(await trail.list({ target: MEMBER })), [1, 2, 3], 'by target')
    t.same(seqs(await trail.list({ from: minutes(2), to: minutes(11) })), [3, 4, 5, 6], 'by time window: from inclusive, to exclusive')
    t.same(seqs(await trail.list({ operator: 'op-ana', action: 'service.delete', from: minutes(11) })), [8, 10], 'conditions combine')
    t.same(seqs(await trail.list({ limit: 3, afterSeq: 4 })), [5, 6, 7], 'paged')
    t.same(await trail.list({ operator: 'nobody' }), [])

    await t.rejects(trail.record({ operator: 'op-ana', role: 'admin', action: 'member.delete', result: 'refused', requestId: 'req-x' }), /needs its error code/)
    await t.rejects(trail.record({ operator: 'op-ana', role: 'admin', action: 'member.delete', result: 'allowed', errorCode: 'Client.Forbidden', requestId: 'req-x' }), /no error code/)

    const verdict = await verifyAudit(store, { trust })
    t.same(verdict, { ok: true, records: 10, signatures: 6 })
    const untrusted = await verifyAudit(store, { trust: anchorsOnly([createRootCa().pem]) })
    t.equal(untrusted.firstBad?.seq, 1)
    t.match(untrusted.firstBad?.problems.join(), /does not chain to a trusted CA/)

    // A restart (or another node) continues the same chain.
    await trail.close()
    const again = new AuditTrail(await reopen(), newSigner(), OPERATOR_MEMBER)
    t.teardown(() => again.close())
    const next = await again.record({ operator: 'op-ana', role: 'admin', action: 'member.delete', target: MEMBER, before: after, result: 'allowed', requestId: 'req-11' })
    t.equal(next.seq, 11)
    t.equal(next.prevHash, records[9].hash)
    t.same(await verifyAudit(again.store, { trust }), { ok: true, records: 11, signatures: 7 })
  })

  t.test(`${h.name}: two writers on one trail (two processes, or two nodes) keep one chain`, async t => {
    const { store, reopen } = await h.fresh()
    const other = await reopen()
    const a = new AuditTrail(store, newSigner(), OPERATOR_MEMBER)
    const b = new AuditTrail(other, newSigner(), OPERATOR_MEMBER)
    t.teardown(async () => { await a.close(); await b.close() })
    const made = await Promise.all([...entries(), ...entries()].map((e, i) => (i % 2 === 0 ? a : b).record({ ...e, requestId: `both-${i}` })))
    t.same(made.map(r => r.seq).sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i + 1), 'sequence 1..20, no gaps, no duplicates')
    t.same(await verifyAudit(store, { trust }), { ok: true, records: 20, signatures: (await a.list()).reduce((ids, r) => ids.add(r.signatureId), new Set<string>()).size })
  })

  const tamperCases: Array<{ name: string; tamper (s: AuditStore, r: AuditRecord[]): Promise<number>; problem: RegExp }> = [
    {
      name: 'one byte of a digest flipped',
      async tamper (s, r) {
        const d = Buffer.from(r[3 - 1].afterDigest!, 'base64')
        d[0] ^= 0x01
        await s.exec('UPDATE ura_audit_records SET after_digest = $1 WHERE seq = 3', d.toString('base64'))
        return 3
      },
      problem: /not covered by its batch signature/,
    },
    {
      name: 'a refusal rewritten as allowed',
      async tamper (s) {
        await s.exec("UPDATE ura_audit_records SET result = 'allowed', error_code = NULL WHERE seq = 3")
        return 3
      },
      problem: /not covered by its batch signature/,
    },
    {
      name: 'the operator changed, with a recomputed chain hash',
      async tamper (s) {
        await s.exec("UPDATE ura_audit_records SET operator = 'op-ben', hash = 'recomputed' WHERE seq = 8")
        return 8
      },
      problem: /not covered by its batch signature/,
    },
    {
      name: 'a record removed',
      async tamper (s) {
        await s.exec('DELETE FROM ura_audit_records WHERE seq = 4')
        return 5
      },
      problem: /records 4–4 are missing[\s\S]*does not follow its predecessor/,
    },
    {
      name: 'the first record removed',
      async tamper (s) {
        await s.exec('DELETE FROM ura_audit_records WHERE seq = 1')
        return 2
      },
      problem: /starts at record 2/,
    },
    {
      name: 'the last record removed',
      async tamper (s) {
        await s.exec('DELETE FROM ura_audit_records WHERE seq = 10')
        return 10
      },
      problem: /records 10–10 are missing at the end/,
    },
    {
      name: 'two records reordered',
      async tamper (s) {
        await s.exec('UPDATE ura_audit_records SET seq = -1 WHERE seq = 6')
        await s.exec('UPDATE ura_audit_records SET seq = 6 WHERE seq = 7')
        await s.exec('UPDATE ura_audit_records SET seq = 7 WHERE seq = -1')
        return 6
      },
      problem: /does not follow its predecessor/,
    },
    {
      name: 'a record pointed at another batch\'s signature',
      async tamper (s, r) {
        await s.exec('UPDATE ura_audit_records SET signature_id = $1 WHERE seq = 2', r[0].signatureId)
        return 2
      },
      problem: /not covered by its batch signature/,
    },
  ]

  t.test(`${h.name}: tampering is detected at the first bad record`, async t => {
    for (const c of tamperCases) {
      const { store } = await h.fresh()
      const trail = new AuditTrail(store, newSigner(), OPERATOR_MEMBER)
      const records = await fill(trail)
      t.ok((await verifyAudit(store, { trust })).ok, `${c.name}: sound before`)
      const expected = await c.tamper(store, records)
      const verdict = await verifyAudit(store, { trust })
      t.equal(verdict.ok, false, `${c.name}: detected`)
      t.equal(verdict.firstBad?.seq, expected, `${c.name}: first bad record is ${expected}`)
      t.match(verdict.firstBad?.problems.join(' | '), c.problem, `${c.name}: ${verdict.firstBad?.problems.join(' | ')}`)
      await trail.close()
    }
  })
}

suite(embedded)
suite(postgres)

// ---- the command line ---------------------------------------------------------------------------

async function ura (args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [URA, ...args])
    return { code: 0, out: stdout + stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, out: e.stdout + e.stderr }
  }
}

/** The demo configuration with its own data dir, the log as given, and an operator (whose member signs the trail). */
async function auditConfig (log: string): Promise<UraConfig> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ura-data-'))
  return demoConfig({
    'node.yaml': text => text.replace(/\n  operators: .*/, '').replace(/dataDir: .*/, `dataDir: ${dataDir}\n  operators: [${OPERATOR}]\n  log: ${log}`),
  }, {
    'operators.yaml': 'members:\n  - class: GOV\n    code: M01712003P\n    name: Operatori i nyjes\n    subsystems:\n      - code: operimet\n        connection: http\n',
  })
}

/** Records three actions with the node's own keys (the dev PKI of `ura init`), as the node would. */
async function recordWithNodeKeys (t: Test, config: UraConfig): Promise<void> {
  const keystore = new Keystore(resolve(config.dir, config.node.dataDir), { passphrase: 'test-passphrase' })
  initPki({ keystore, config })
  const signer = new BatchSigner(keystoreSigningKeys(keystore, TrustStore.load(keystore.paths)), { batchMs: 0, batchMax: 64 })
  const trail = await openAuditTrail(config, signer)
  try {
    t.equal(trail.signerMember, OPERATOR_MEMBER)
    for (const e of entries().slice(0, 3)) await trail.record(e)
  } finally {
    await trail.close()
  }
}

for (const [name, log, open] of [
  ['embedded', 'embedded', (c: UraConfig) => AuditStore.openFile(join(resolve(c.dir, c.node.dataDir), 'audit.db'))],
  ['PostgreSQL', '', (c: UraConfig) => AuditStore.openPostgres(c.node.log.url!)],
] as const) {
  t.test(`ura audit verify (${name}): exit 0 on a sound trail, 1 naming the first bad record`, async t => {
    const config = await auditConfig(name === 'embedded' ? `{ store: ${log} }` : `{ store: postgres, url: '${await createPgDatabase()}' }`)
    await recordWithNodeKeys(t, config)
    const kind = name === 'embedded' ? 'embedded' : 'postgres'
    const good = await ura(['audit', 'verify', '--config', config.dir])
    t.equal(good.code, 0, good.out)
    t.match(good.out, `audit trail (${kind}) verified: 3 records`)

    const store = await open(config)
    try {
      await store.exec("UPDATE ura_audit_records SET target = 'AL-DEV/NJQV/M51305009K' WHERE seq = 2")
    } finally {
      await store.close()
    }
    const broken = await ura(['audit', 'verify', '--config', config.dir])
    t.equal(broken.code, 1, broken.out)
    t.match(broken.out, `audit trail (${kind}) FAILED at record 2 (member.update by op-ana, request req-2), after 1 good records`)
    t.match(broken.out, /not covered by its batch signature/)
    t.equal((await ura(['audit', 'verify', '--config', join(config.dir, 'missing')])).code, 2, 'a configuration that does not load')
  })
}
