/**
 * The admin API on the PostgreSQL registry store (cluster mode): a change through the API is one
 * version in the shared database that another client of the store reads, stale ETags are refused,
 * and a failure inside the commit's transaction leaves the previous version current.
 */
import t from 'tap'
import { openRegistryStore } from '../registry/store/index.ts'
import { startAdminRig } from './support/admin.ts'
import { scratchDatabase } from './support/postgres.ts'

t.test('PostgreSQL store: one version per change, seen by every client; a failed commit changes nothing', async t => {
  const { url } = await scratchDatabase(t, 'ura_test_admin')
  let fail = false
  const rig = await startAdminRig({ storeUrl: url, duringCommit: () => { if (fail) { fail = false; throw new Error('connection lost mid-commit') } } })
  t.teardown(() => rig.close())
  t.equal(rig.store.kind, 'postgres')
  const other = await openRegistryStore(url, { instance: 'AL-DEV' })
  t.teardown(() => other.close())

  const token = { token: rig.tokens.svc }
  const path = '/admin/v1/services/AL-DEV:NJQV:L21603004L:taksat-vendore:detyrimet'
  const before = await rig.call('GET', path, token)
  t.equal(before.status, 200)
  const node = await rig.call('GET', '/admin/v1/node', token)
  t.equal(node.json.registry.store, 'postgres')

  fail = true
  const failed = await rig.call('PATCH', path, { ...token, body: { timeoutMs: 9000 }, headers: { 'x-ura-reason': 'slower', 'if-match': before.headers.etag as string } })
  t.equal(failed.status, 503)
  t.equal(failed.json.type, 'Admin.StoreFailed')
  t.equal((await other.current()).version, 1, 'the failed change left version 1 current')

  const ok = await rig.call('PATCH', path, { ...token, body: { timeoutMs: 9000 }, headers: { 'x-ura-reason': 'slower', 'if-match': before.headers.etag as string } })
  t.equal(ok.status, 200, ok.text)
  const seen = await other.current()
  t.same({ version: seen.version, who: seen.who, why: seen.why }, { version: 2, who: 'svc', why: 'slower' }, 'another client of the database reads the new version')
  t.equal(seen.content.services.find(s => s.code === 'detyrimet')?.timeoutMs, 9000)
  const stale = await rig.call('PATCH', path, { ...token, body: { timeoutMs: 7000 }, headers: { 'x-ura-reason': 'x', 'if-match': before.headers.etag as string } })
  t.equal(stale.json.type, 'Admin.PreconditionFailed')
  t.equal((await other.current()).version, 2)
})
