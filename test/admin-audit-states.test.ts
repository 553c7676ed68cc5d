/**
 * `GET /admin/v1/audit/{seq}`: an audit record with the states before and after that it digests,
 * read again from the registry versions the change was made on and produced, and checked against
 * the signed digests — token hashes masked, applications withheld from operators who may not read
 * them, a change that changed nothing read from one version, a record altered in the database no
 * longer verified; `?version=` finds the change that produced a version. And the unsigned columns
 * that link a record to its versions join a trail made without them, in both stores, any number of
 * times, leaving its records as signed.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import pg from 'pg'
import t, { type Test } from 'tap'
import { BatchSigner } from '../certs/batch-signer.ts'
import { keystoreSigningKeys } from '../certs/keystore-signer.ts'
import { AuditStore, AuditTrail, stateDigest, verifyAudit } from '../messagelog/audit/index.ts'
import { startAdminRig, TIRANA, type AdminRig, type Answer } from './support/admin.ts'
import { scratchDatabase } from './support/postgres.ts'

const TIRANA_P = TIRANA.replaceAll('/', ':')

let rig: AdminRig
t.before(async () => { rig = await startAdminRig() })
t.teardown(() => rig.close())

const as = (operator: string): { token: string } => ({ token: rig.tokens[operator] })
const etagOf = async (path: string): Promise<string> => (await rig.call('GET', path, as('sa'))).headers.etag as string
const change = async (method: string, path: string, body: unknown, ifMatch: string): Promise<Answer> => {
  const res = await rig.call(method, path, { ...as('sa'), ...(body === undefined ? {} : { body }), headers: { 'x-ura-reason': 'prova', 'if-match': ifMatch } })
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`)
  return res
}
/** The audit record of the change that produced registry version `v` (found through `?version=`). */
const producing = async (v: number): Promise<Record<string, any>> => {
  const res = await rig.call('GET', `/admin/v1/audit?version=${v}`, as('sec'))
  if (res.json.items.length !== 1) throw new Error(`version ${v}: ${res.text}`)
  return res.json.items[0]
}
const detail = async (seq: number, operator = 'sa'): Promise<Answer> => rig.call('GET', `/admin/v1/audit/${seq}`, as(operator))

t.test('a change reads back with its states before and after, which digest to the signed ones', async t => {
  const path = `/admin/v1/members/${TIRANA_P}`
  const res = await change('PATCH', path, { name: 'Bashkia e Tiranës' }, await etagOf(path))
  const v = Number(res.headers['x-ura-registry-version'])
  const record = await producing(v)
  t.same([record.action, record.target, record.registryVersion, record.registryBase], ['member.update', TIRANA, v, v - 1], 'found by the version it produced')
  const d = await detail(record.seq)
  t.equal(d.status, 200, d.text)
  t.same(d.json.before, { id: TIRANA_P, class: 'NJQV', code: 'L21603004L', name: 'Bashkia Tiranë' })
  t.same(d.json.after, { id: TIRANA_P, class: 'NJQV', code: 'L21603004L', name: 'Bashkia e Tiranës' })
  t.same([d.json.states, d.json.verified], ['reconstructed', true])
  t.equal(d.json.afterDigest, stateDigest(d.json.after), 'the SHA-512 of the canonical JSON shown')
  t.same({ ...d.json, before: undefined, after: undefined, states: undefined, verified: undefined }, { ...record, before: undefined, after: undefined, states: undefined, verified: undefined }, 'the record as listed')

  // A record altered in the database: the states read again no longer match what it says was signed.
  await rig.trail.store.exec('UPDATE ura_audit_records SET after_digest = before_digest WHERE seq = $1', record.seq)
  const altered = await detail(record.seq)
  t.same([altered.json.states, altered.json.verified], ['reconstructed', false], 'not verified')
})

t.test('a create has no state before, a delete none after; a change that changed nothing reads both from one version', async t => {
  const created = await change('POST', '/admin/v1/groups', { name: 'prova', clients: [] }, '*')
  const c = await detail((await producing(Number(created.headers['x-ura-registry-version']))).seq)
  t.notOk('before' in c.json, 'nothing before a create')
  t.same([c.json.after, c.json.verified, c.json.beforeDigest], [[], true, null])

  const same = await change('PUT', '/admin/v1/groups/prova', { clients: [] }, await etagOf('/admin/v1/groups/prova'))
  const current = Number(same.headers['x-ura-registry-version'])
  const noop = (await rig.trail.list({ action: 'group.update' })).at(-1)!
  t.same([noop.registryVersion, noop.registryBase], [null, current], 'no version produced; made on the current one')
  const n = await detail(noop.seq)
  t.same([n.json.before, n.json.after, n.json.verified], [[], [], true])

  const gone = await rig.call('DELETE', '/admin/v1/groups/prova', { ...as('sa'), headers: { 'x-ura-reason': 'prova', 'if-match': await etagOf('/admin/v1/groups/prova') } })
  t.equal(gone.status, 204)
  const del = await detail((await rig.trail.list({ action: 'group.delete' })).at(-1)!.seq)
  t.same([del.json.before, 'after' in del.json, del.json.verified], [[], false, true])
})

t.test('token hashes are masked; whole contents with applications are withheld from who may not read applications', async t => {
  const token = await change('POST', '/admin/v1/operators/obs/tokens', { label: 'prova' }, '*')
  t.equal(token.status, 201)
  const path = '/admin/v1/operators/obs'
  await change('PATCH', path, { name: 'Vëzhguesi' }, await etagOf(path))
  const update = (await rig.trail.list({ action: 'operator.update' })).at(-1)!
  const d = await detail(update.seq)
  t.same([d.json.states, d.json.verified], ['reconstructed', true])
  t.same(d.json.after.tokens.map((x: { sha256: string }) => x.sha256), ['(hidden)', '(hidden)'], 'verified on the hashes, shown without them')
  t.notOk(d.text.includes(token.json.token.split('_').at(-1)), 'no secret')

  const list = await rig.call('GET', '/admin/v1/versions', as('sa'))
  const back = await change('POST', `/admin/v1/versions/${list.json.current - 1}/rollback`, undefined, list.headers.etag as string)
  const rollback = await producing(back.json.version)
  const sa = await detail(rollback.seq)
  t.same([sa.json.states, sa.json.verified], ['reconstructed', true], 'the whole content, checked')
  t.ok(Array.isArray(sa.json.after.members) && sa.json.after.operators.every((o: { tokens?: Array<{ sha256: string }> }) => (o.tokens ?? []).every(x => x.sha256 === '(hidden)')), 'every token hash masked')
  const sec = await detail(rollback.seq, 'sec')
  t.same([sec.json.states, sec.json.verified, 'before' in sec.json, 'after' in sec.json], ['withheld', true, false, false], 'a security officer may not read applications')
  t.match(sec.json.note, /application\.read/)
})

t.test('records without states, records that cannot be read again, unknown records', async t => {
  t.equal((await rig.call('GET', '/admin/v1/members', as('obs'))).status, 200)
  const read = (await rig.trail.list({ action: 'member.list' })).at(-1)!
  const none = await detail(read.seq)
  t.same([none.json.states, none.json.verified, 'before' in none.json], ['none', true, false], 'a read digests nothing')

  // An entry recorded without a link (as onboarding's public endpoints and older nodes record).
  const bare = await rig.trail.record({ operator: 'applicant:a-1', role: 'none', action: 'application.submit', target: 'a-1', after: { state: 'submitted' }, result: 'allowed', requestId: 'r-1' })
  const u = await detail(bare.seq)
  t.same([u.json.states, u.json.verified], ['unavailable', false])
  t.match(u.json.note, /does not name the registry versions/)

  const missing = await rig.trail.record({ operator: 'sa', role: 'system-administrator', action: 'member.update', target: TIRANA, before: { a: 1 }, after: { a: 2 }, result: 'allowed', requestId: 'r-2', link: { registryVersion: 9999, registryBase: 9998, stateRefs: { before: { name: 'member-view', args: [TIRANA] }, after: { name: 'member-view', args: [TIRANA] } } } })
  const m = await detail(missing.seq)
  t.same([m.json.states, m.json.verified], ['unavailable', false])
  t.match(m.json.note, /registry version 9998 is not in the registry store/)

  const t404 = await detail(999999)
  t.same([t404.status, t404.json.type], [404, 'Admin.NotFound'])
  const t400 = await rig.call('GET', '/admin/v1/audit/0', as('sa'))
  t.same([t400.status, t400.json.type], [400, 'Admin.InvalidRequest'])
  const svc = await detail(read.seq, 'svc')
  t.same([svc.status, svc.json.type], [403, 'Admin.Forbidden'], 'a service administrator does not read the trail')
})

/** The columns a trail made before the link had; what `drop` takes away from a current one. */
async function migrates (t: Test, open: () => Promise<AuditStore>, drop: (sql: string) => Promise<void>): Promise<void> {
  const signer = new BatchSigner(keystoreSigningKeys(rig.pki.keystore, rig.pki.trust), { batchMs: 0, batchMax: 8 })
  const member = rig.trail.signerMember
  let store = await open()
  let trail = new AuditTrail(store, signer, member)
  const old = await trail.record({ operator: 'sa', role: 'system-administrator', action: 'member.update', target: TIRANA, before: { a: 1 }, after: { a: 2 }, result: 'allowed', requestId: 'r-old' })
  await store.close()
  await drop('DROP INDEX IF EXISTS ura_audit_records_registry_version')
  for (const column of ['registry_version', 'registry_base', 'state_refs']) await drop(`ALTER TABLE ura_audit_records DROP COLUMN ${column}`)

  for (let i = 0; i < 2; i++) {
    store = await open()
    const [again] = await store.list({})
    t.same({ ...again }, { ...old, registryVersion: null, registryBase: null, stateRefs: null }, `open ${i + 1}: the old record, unlinked`)
    await store.close()
  }
  store = await open()
  trail = new AuditTrail(store, signer, member)
  const linked = await trail.record({ operator: 'sa', role: 'system-administrator', action: 'member.update', target: TIRANA, after: { a: 3 }, result: 'allowed', requestId: 'r-new', link: { registryVersion: 7, registryBase: 6, stateRefs: { before: null, after: { name: 'member-view', args: [TIRANA] } } } })
  t.same((await store.list({ registryVersion: 7 })).map(r => r.seq), [linked.seq], 'found by the version it produced')
  t.same((await store.get(linked.seq))?.stateRefs, { before: null, after: { name: 'member-view', args: [TIRANA] } })
  const verdict = await verifyAudit(store, { trust: rig.pki.trust })
  t.ok(verdict.ok, `both records verify: ${JSON.stringify(verdict.firstBad)}`)
  t.equal(verdict.records, 2)
  t.same([linked.registryVersion, linked.registryBase], [7, 6], 'the appended record carries its link')
  await store.close()
}

t.test('embedded trail: the link columns join an older trail, idempotently', async t => {
  const file = join(await mkdtemp(join(tmpdir(), 'ura-audit-')), 'audit.db')
  await migrates(t, () => AuditStore.openFile(file), async sql => {
    const db = new DatabaseSync(file)
    try { db.exec(sql) } finally { db.close() }
  })
})

t.test('PostgreSQL trail: the link columns join an older trail, idempotently', async t => {
  const { url } = await scratchDatabase(t, 'ura_audit_link')
  await migrates(t, () => AuditStore.openPostgres(url), async sql => {
    const c = new pg.Client(url)
    await c.connect()
    try { await c.query(sql) } finally { await c.end() }
  })
})
