/**
 * The versioned registry store: one shared suite run against both stores — embedded SQLite and
 * PostgreSQL — covering versions with who/when/why, optimistic concurrency, diffs, rollback,
 * validation with the configuration schema, atomicity when a commit fails midway, YAML import and
 * export, and a second client seeing commits through `watch`.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { scratchDatabases } from './support/postgres.ts'
import { exportDir, importDir, RegistryStoreError, type RegistryContent, type RegistryStore, type VersionInfo } from '../registry/store/index.ts'
import { emptySections } from '../config/registry-sections.ts'
import { PgRegistryStore } from '../registry/store/pg-store.ts'
import { SqliteRegistryStore } from '../registry/store/sqlite-store.ts'
import type { StoreOptions } from '../registry/store/store.ts'

const INSTANCE = 'AL-DEV'
const DEMO = new URL('../config/demo/', import.meta.url).pathname

interface Harness {
  name: string
  /** The watch test's polling backstop: PostgreSQL's is longer than the test waits, so LISTEN/NOTIFY must deliver. */
  pollMs: number
  /** A fresh store, and a way to open another client on the same storage. */
  fresh (options?: Partial<StoreOptions>): Promise<{ store: RegistryStore; another (options?: Partial<StoreOptions>): Promise<RegistryStore> }>
}

const embedded: Harness = {
  name: 'embedded (SQLite)',
  pollMs: 500,
  async fresh (options = {}) {
    const file = join(await mkdtemp(join(tmpdir(), 'ura-registry-')), 'registry.sqlite')
    const open = (o: Partial<StoreOptions> = {}): Promise<RegistryStore> => SqliteRegistryStore.open(file, { instance: INSTANCE, ...o })
    return { store: await open(options), another: open }
  },
}

const createPgDatabase = scratchDatabases(t, 'ura_test_registry')
const postgres: Harness = {
  name: 'PostgreSQL',
  pollMs: 60000,
  async fresh (options = {}) {
    const url = await createPgDatabase()
    const open = (o: Partial<StoreOptions> = {}): Promise<RegistryStore> => PgRegistryStore.open(url, { instance: INSTANCE, ...o })
    return { store: await open(options), another: open }
  },
}


/** A small registry: one provider with a REST service, one client, one grant. */
function small (): RegistryContent {
  return {
    ...emptySections(),
    members: [
      { class: 'NJQV', code: 'L21603004L', name: 'Bashkia Tiranë', subsystems: [{ code: 'taksat-vendore', connection: 'mtls' }] },
      { class: 'GOV', code: 'K11503002N', name: 'AKSHI', subsystems: [{ code: 'e-albania', connection: 'mtls' }] },
    ],
    groups: {},
    services: [
      { provider: 'AL-DEV/NJQV/L21603004L/taksat-vendore', code: 'detyrimet', type: 'rest', adapter: { kind: 'rest', url: 'http://127.0.0.1:4401/api/v1' }, timeoutMs: 5000, bodyLogging: 'digest', responseValidation: 'enforce' },
    ],
    access: [
      { service: 'AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet', clients: ['AL-DEV/GOV/K11503002N/e-albania'], groups: [] },
    ],
  }
}

/** One of each operator-plane item, sound for small(). */
function platformSections (): Pick<RegistryContent, 'operators' | 'certificates' | 'revocations' | 'applications' | 'accessRequests' | 'outbox'> {
  const at = '2026-11-30T09:00:00.000Z'
  return {
    operators: [{ id: 'arta', name: 'Arta Hoxha', roles: [{ role: 'registration-officer' }, { role: 'service-administrator', member: 'AL-DEV/NJQV/L21603004L' }], tokens: [{ id: 'arta-ci', sha256: 'a'.repeat(64), createdAt: at, roles: [{ role: 'observer' }] }] }],
    certificates: [{ serial: '1F', role: 'tls', owner: 'AL-DEV/GOV/K11503002N/e-albania', subject: 'CN=e-albania', notBefore: at, notAfter: '2027-11-30T09:00:00.000Z', issuedAt: at, pem: '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n' }],
    revocations: [{ serial: '1E', issuer: 'CN=ura dev root', subject: 'CN=old', revokedAt: at, reason: 'keyCompromise' }],
    applications: [{ id: 'app-1', state: 'submitted', submittedAt: at, statusTokenSha256: 'b'.repeat(64), institution: { name: 'Bashkia Shkodër', nipt: 'J61902003J', memberClass: 'NJQV' }, employee: { name: 'Drita Kola', position: 'IT', nid: 'J00101001A', email: 'drita@shkoder.gov.al', phone: '+355 69 000 0000' }, systems: [{ code: 'arkiva', csr: '-----BEGIN CERTIFICATE REQUEST-----\nMA==\n-----END CERTIFICATE REQUEST-----\n' }] }],
    accessRequests: [{ id: 'ar-1', client: 'AL-DEV/GOV/K11503002N/e-albania', service: 'AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet', state: 'pending', requestedBy: 'arta', requestedAt: at }],
    outbox: [{ id: 'm-1', at, to: ['drita@shkoder.gov.al'], subject: 'Aplikimi u mor', body: 'Aplikimi juaj u regjistrua.' }],
  }
}

async function refusal (t: Test, p: Promise<unknown>, code: string, what: string): Promise<RegistryStoreError | undefined> {
  try {
    await p
  } catch (err) {
    t.type(err, RegistryStoreError, what)
    t.equal((err as RegistryStoreError).code, code, what)
    return err as RegistryStoreError
  }
  t.fail(`${what}: expected ${code}, but it was accepted`)
  return undefined
}

function waitFor (infos: VersionInfo[], version: number, ms: number): Promise<boolean> {
  const start = Date.now()
  return new Promise(resolve => {
    const tick = (): void => {
      if (infos.some(i => i.version === version)) resolve(true)
      else if (Date.now() - start > ms) resolve(false)
      else setTimeout(tick, 20)
    }
    tick()
  })
}

for (const harness of [embedded, postgres]) {
  t.test(harness.name, async t => {
    t.test('versions: each commit is a new version with who, when, why and its full content', async t => {
      const { store, another } = await harness.fresh()
      t.teardown(() => store.close())
      const empty = await store.current()
      t.equal(empty.version, 0, 'a fresh store is at version 0')
      t.same(empty.content, { members: [], groups: {}, services: [], access: [], ...emptySections() })
      t.same(await store.list(), [], 'no versions committed yet')

      const before = Date.now()
      const v1 = await store.commit(small(), { who: 'operator-a', why: 'first services', expectedVersion: 0 })
      t.equal(v1.version, 1)
      t.equal(v1.who, 'operator-a')
      t.equal(v1.why, 'first services')
      t.ok(Date.parse(v1.when) >= before - 1000 && Date.parse(v1.when) <= Date.now() + 1000, 'when is the commit time')
      t.same(v1.content, small())

      const v2 = await store.commit(c => ({ ...c, groups: { bashki: ['AL-DEV/NJQV/L21603004L/taksat-vendore'] } }), { who: 'operator-b', why: 'a group', expectedVersion: 1 })
      t.equal(v2.version, 2)
      t.same((await store.current()).content.groups, { bashki: ['AL-DEV/NJQV/L21603004L/taksat-vendore'] })
      t.same((await store.version(1)).content, small(), 'version 1 is unchanged')
      t.same((await store.list()).map(v => [v.version, v.who, v.why]), [[1, 'operator-a', 'first services'], [2, 'operator-b', 'a group']])
      await refusal(t, store.version(3), 'UNKNOWN_VERSION', 'a version never committed')
      await refusal(t, store.commit(small(), { who: '', why: 'x', expectedVersion: 2 }), 'INVALID_COMMIT', 'who is required')
      await refusal(t, store.commit(small(), { who: 'a', why: ' ', expectedVersion: 2 }), 'INVALID_COMMIT', 'why is required')

      // Committed means durable: another client (a restart) reads the same versions.
      await store.close()
      const reopened = await another()
      t.teardown(() => reopened.close())
      t.equal((await reopened.current()).version, 2)
      t.same((await reopened.version(1)).content, small())
      t.equal((await reopened.version(2)).who, 'operator-b')
    })

    t.test('a change made on an old version is refused with STALE_VERSION, also between two clients', async t => {
      const { store, another } = await harness.fresh()
      const other = await another()
      t.teardown(async () => { await store.close(); await other.close() })
      await store.commit(small(), { who: 'a', why: 'start', expectedVersion: 0 })
      const stale = await refusal(t, store.commit(small(), { who: 'a', why: 'again', expectedVersion: 0 }), 'STALE_VERSION', 'expected 0, current 1')
      t.equal(stale?.expectedVersion, 0)
      t.equal(stale?.currentVersion, 1)

      // Both clients start from version 1 and commit at once: exactly one wins.
      const rename = (name: string) => (c: RegistryContent): RegistryContent => ({ ...c, members: c.members.map((m, i) => (i === 0 ? { ...m, name } : m)) })
      const results = await Promise.allSettled([
        store.commit(rename('A'), { who: 'a', why: 'rename A', expectedVersion: 1 }),
        other.commit(rename('B'), { who: 'b', why: 'rename B', expectedVersion: 1 }),
      ])
      const won = results.filter(r => r.status === 'fulfilled')
      const lost = results.filter(r => r.status === 'rejected')
      t.equal(won.length, 1, 'one commit wins')
      t.equal(lost.length, 1, 'the other is refused')
      t.equal((lost[0] as PromiseRejectedResult).reason.code, 'STALE_VERSION')
      const current = await other.current()
      t.equal(current.version, 2)
      t.equal(current.content.members[0].name, (won[0] as PromiseFulfilledResult<{ content: RegistryContent }>).value.content.members[0].name, 'the winner is current')
      t.equal((await store.list()).length, 2, 'no version from the loser')
    })

    t.test('diff names the members, subsystems, groups, services and grants added, removed and changed', async t => {
      const { store } = await harness.fresh()
      t.teardown(() => store.close())
      await store.commit(small(), { who: 'a', why: 'start', expectedVersion: 0 })
      await store.commit(c => ({
        ...c,
        members: [
          { ...c.members[0], name: 'Bashkia e Tiranës' },
          { ...c.members[1], subsystems: [...c.members[1].subsystems, { code: 'portali', connection: 'mtls' }] },
          { class: 'NJQV', code: 'M51305009K', name: 'Bashkia Durrës', subsystems: [{ code: 'ndihma-sociale', connection: 'mtls' }] },
        ],
        groups: { bashki: ['AL-DEV/NJQV/M51305009K/ndihma-sociale'] },
        services: [{ ...c.services[0], timeoutMs: 9000 }, { ...c.services[0], code: 'pagesat' }],
        access: [{ service: 'AL-DEV/NJQV/L21603004L/taksat-vendore/pagesat', clients: [], groups: ['bashki'] }],
      }), { who: 'a', why: 'more', expectedVersion: 1 })
      const d = await store.diff(1, 2)
      t.equal(d.from, 1)
      t.equal(d.to, 2)
      t.same(d.members, { added: ['AL-DEV/NJQV/M51305009K'], removed: [], changed: ['AL-DEV/NJQV/L21603004L'] })
      t.same(d.subsystems, { added: ['AL-DEV/GOV/K11503002N/portali', 'AL-DEV/NJQV/M51305009K/ndihma-sociale'], removed: [], changed: [] })
      t.same(d.groups, { added: ['bashki'], removed: [], changed: [] })
      t.same(d.services, { added: ['AL-DEV/NJQV/L21603004L/taksat-vendore/pagesat'], removed: [], changed: ['AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet'] })
      t.same(d.grants, { added: ['AL-DEV/NJQV/L21603004L/taksat-vendore/pagesat'], removed: ['AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet'], changed: [] })
      const back = await store.diff(2, 1)
      t.same(back.members, { added: [], removed: ['AL-DEV/NJQV/M51305009K'], changed: ['AL-DEV/NJQV/L21603004L'] }, 'the reverse diff')
      const none = await store.diff(2, 2)
      t.same([none.members, none.services, none.grants], [{ added: [], removed: [], changed: [] }, { added: [], removed: [], changed: [] }, { added: [], removed: [], changed: [] }])
    })

    t.test('rollback makes a new version equal to the old one', async t => {
      const { store } = await harness.fresh()
      t.teardown(() => store.close())
      await store.commit(small(), { who: 'a', why: 'start', expectedVersion: 0 })
      await store.commit(c => ({ ...c, access: [] }), { who: 'a', why: 'close everything', expectedVersion: 1 })
      const v3 = await store.rollback(1, { who: 'b', why: 'closed by mistake' })
      t.equal(v3.version, 3, 'history is kept: a new version')
      t.equal(v3.who, 'b')
      t.equal(v3.why, 'closed by mistake')
      t.same(v3.content, (await store.version(1)).content)
      t.same((await store.current()).content, small())
      t.equal((await store.version(2)).content.access.length, 0, 'the undone version stays readable')
      await refusal(t, store.rollback(1, { who: 'b', why: 'x', expectedVersion: 2 }), 'STALE_VERSION', 'a rollback can be made conditional too')
      await refusal(t, store.rollback(9, { who: 'b', why: 'x' }), 'UNKNOWN_VERSION', 'to a version that never was')
      const empty = await store.rollback(0, { who: 'b', why: 'start over' })
      t.same(empty.content, { members: [], groups: {}, services: [], access: [], ...emptySections() }, 'back to the empty registry')
    })

    t.test('invalid content is refused whole, with every problem named by its path', async t => {
      const { store } = await harness.fresh()
      t.teardown(() => store.close())
      await store.commit(small(), { who: 'a', why: 'start', expectedVersion: 0 })
      const bad = small()
      bad.services[0].adapter.url = 'ftp://nowhere'
      bad.access.push({ service: 'AL-DEV/NJQV/L21603004L/taksat-vendore/mungon', clients: ['AL-DEV/GOV/K11503002N/e-albania'], groups: [] })
      bad.members.push({ class: 'GOV', code: 'K71908001C', name: 'DPT', subsystems: [{ code: 'kontrolli', connection: 'mtls', certificates: ['not-a-fingerprint'] }] })
      const schema = await refusal(t, store.commit(bad, { who: 'a', why: 'bad', expectedVersion: 1 }), 'INVALID_CONTENT', 'schema errors')
      t.same(schema?.problems.map(p => p.path).sort(), ['members[2].subsystems[0].certificates[0]', 'services[0].adapter.url'], 'the schema names each bad value')
      t.match(schema?.message, /services\[0\]\.adapter\.url/)

      // Schema-valid, but the cross-checks fail: an undefined service, an unknown client and provider.
      const cross = small()
      cross.access.push({ service: 'AL-DEV/NJQV/L21603004L/taksat-vendore/mungon', clients: ['AL-DEV/GOV/X/y'], groups: ['nuk-ka'] })
      cross.services.push({ ...cross.services[0], provider: 'AL-DEV/GOV/ZZZ/nothing' })
      const checks = await refusal(t, store.commit(cross, { who: 'a', why: 'bad', expectedVersion: 1 }), 'INVALID_CONTENT', 'cross-check errors')
      t.same(checks?.problems.map(p => `${p.path}: ${p.message}`).sort(), [
        'access[1].clients[0]: AL-DEV/GOV/X/y is not a registered member or subsystem',
        "access[1].groups[0]: group 'nuk-ka' is not defined",
        'access[1].service: service AL-DEV/NJQV/L21603004L/taksat-vendore/mungon is not defined',
        'services[1].provider: provider AL-DEV/GOV/ZZZ/nothing is not a registered member or subsystem',
      ])
      const foreign = small()
      foreign.services[0].provider = 'AL/NJQV/L21603004L/taksat-vendore'
      const instance = await refusal(t, store.commit(foreign, { who: 'a', why: 'bad', expectedVersion: 1 }), 'INVALID_CONTENT', 'another instance')
      t.match(instance?.problems[0]?.message, /not in this node's instance AL-DEV/)
      await refusal(t, store.commit({ ...small(), officials: [] } as unknown as RegistryContent, { who: 'a', why: 'bad', expectedVersion: 1 }), 'INVALID_CONTENT', 'an unknown section')

      t.equal((await store.current()).version, 1, 'nothing was committed')
      t.same((await store.current()).content, small())
      t.equal((await store.list()).length, 1)
    })

    t.test('the operator plane\'s sections are checked: unique ids, registered scopes, pending requests for defined services', async t => {
      const { store } = await harness.fresh()
      t.teardown(() => store.close())
      const ok = { ...small(), ...platformSections() }
      await store.commit(ok, { who: 'a', why: 'start', expectedVersion: 0 })
      t.same((await store.current()).content.operators, ok.operators, 'operators stored as given')
      const bad = structuredClone(ok)
      bad.operators.push({ ...bad.operators[0], roles: [{ role: 'observer' }] })
      bad.operators[0].roles.push({ role: 'service-administrator', member: 'AL-DEV/NJQV/Q99999999Q' })
      bad.accessRequests[0].service = 'AL-DEV/NJQV/L21603004L/taksat-vendore/mungon'
      bad.applications[0].employee.nid = 'not a nid'
      const refused = await refusal(t, store.commit(bad, { who: 'a', why: 'bad', expectedVersion: 1 }), 'INVALID_CONTENT', 'section problems')
      t.same(refused?.problems.map(p => p.path).sort(), ['applications[0].employee.nid'], 'the schema first: a bad NID')
      bad.applications[0].employee.nid = ok.applications[0].employee.nid
      const cross = await refusal(t, store.commit(bad, { who: 'a', why: 'bad', expectedVersion: 1 }), 'INVALID_CONTENT', 'cross-checks')
      t.same(cross?.problems.map(p => p.message).sort(), [
        'operator arta is listed twice',
        'operator arta: role scoped to AL-DEV/NJQV/Q99999999Q, which is not a registered member',
        'service AL-DEV/NJQV/L21603004L/taksat-vendore/mungon is not defined',
        'token id arta-ci is used twice',
      ])
      const old = small() as Partial<RegistryContent>
      for (const k of ['operators', 'certificates', 'revocations', 'applications', 'accessRequests', 'outbox'] as const) delete old[k]
      const v2 = await store.commit(old as RegistryContent, { who: 'a', why: 'a change written before the operator plane', expectedVersion: 1 })
      t.same(v2.content.operators, [], 'a section left out reads as empty')
      t.equal((await store.current()).version, 2)
    })

    t.test('blobs: bytes stored by their SHA-256, read back whole, shared by every client', async t => {
      const { store, another } = await harness.fresh()
      t.teardown(() => store.close())
      const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(300_000, 7), Buffer.from('\n%%EOF\n')])
      const sha = await store.putBlob(pdf, 'application/pdf')
      t.equal(sha, createHash('sha256').update(pdf).digest('hex'))
      t.equal(await store.putBlob(pdf, 'application/pdf'), sha, 'storing twice is harmless')
      const other = await another()
      t.teardown(() => other.close())
      const back = await other.getBlob(sha)
      t.equal(back?.mediaType, 'application/pdf')
      t.ok(back?.bytes.equals(pdf), 'the same bytes')
      t.equal(await store.getBlob('0'.repeat(64)), undefined, 'unknown digest')
      t.equal(await store.getBlob('../../etc/passwd'), undefined, 'not a digest')
    })

    t.test('a failure in the middle of a commit leaves the previous version current', async t => {
      let fail = false
      const { store, another } = await harness.fresh({ duringCommit: () => { if (fail) throw new Error('disk gone mid-commit') } })
      t.teardown(() => store.close())
      await store.commit(small(), { who: 'a', why: 'start', expectedVersion: 0 })
      fail = true
      await t.rejects(store.commit(c => ({ ...c, access: [] }), { who: 'a', why: 'doomed', expectedVersion: 1 }), /disk gone mid-commit/)
      fail = false
      t.equal((await store.current()).version, 1, 'still version 1')
      t.same((await store.current()).content, small())
      t.same((await store.list()).map(v => v.version), [1], 'no trace of the failed version')
      await refusal(t, store.version(2), 'UNKNOWN_VERSION', 'the half-written row was rolled back')
      const other = await another()
      t.teardown(() => other.close())
      t.equal((await other.current()).version, 1, 'another client sees version 1 too')
      const v2 = await store.commit(c => ({ ...c, access: [] }), { who: 'a', why: 'retried', expectedVersion: 1 })
      t.equal(v2.version, 2, 'the next commit takes the number the failed one did not')
      t.equal((await other.version(2)).why, 'retried')
    })

    t.test('import → export → import gives the same content, which the store accepts', async t => {
      const { store } = await harness.fresh()
      t.teardown(() => store.close())
      const demo = await importDir(DEMO)
      t.equal(demo.members.length, 64, 'members from members.yaml, bridge.yaml and bashki.yaml')
      t.equal(demo.services.length, 65, 'services from services.yaml, bridge.yaml and bashki.yaml')
      t.equal(demo.rooms.length, 2, 'rooms from rooms.yaml')
      t.equal(demo.subscriptions.length, 62)
      t.equal(demo.access.length, 4)
      t.same(Object.keys(demo.groups), ['bashki-gjendje-civile'])
      Object.assign(demo, platformSections())
      const v1 = await store.commit(demo, { who: 'operator', why: 'import config/demo', expectedVersion: 0 })
      t.same(v1.content, demo)

      const out = await mkdtemp(join(tmpdir(), 'ura-registry-export-'))
      const files = await exportDir((await store.current()).content, out, 'Registry version 1.')
      t.same(files.map(f => f.slice(out.length + 1)), ['members.yaml', 'services.yaml', 'access.yaml', 'operators.yaml', 'certificates.yaml', 'onboarding.yaml', 'rooms.yaml'])
      t.match(await readFile(join(out, 'members.yaml'), 'utf8'), /^# Registry version 1\.\nmembers:\n/)
      const again = await importDir(out)
      t.same(again, demo, 'the round trip keeps every member, group, service, grant, catalogue entry and operator-plane section')
      t.equal(JSON.stringify(again), JSON.stringify(demo), 'in the same order')
      const unchanged = await store.commit(again, { who: 'operator', why: 're-import', expectedVersion: 1 })
      const d = await store.diff(1, unchanged.version)
      t.same([d.members, d.subsystems, d.groups, d.services, d.grants].flatMap(e => [...e.added, ...e.removed, ...e.changed]), [], 'no differences')
    })

    t.test('the polling backstop finds a version written without a notification', async t => {
      const { store } = await harness.fresh()
      t.teardown(() => store.close())
      const seen: VersionInfo[] = []
      const stop = await store.watch(v => { seen.push(v) }, { pollMs: 200 })
      t.teardown(stop)
      // Written behind the store's back, as a lost notification would leave it: no NOTIFY, no local wake.
      const content = JSON.stringify(small()).replace(/'/g, "''")
      await (store as unknown as { exec (sql: string): Promise<void> }).exec(
        `INSERT INTO ura_registry_versions (version, who, at, why, format, content) VALUES (1, 'sql', '2026-01-01T00:00:00.000Z', 'by hand', 1, '${content}'); UPDATE ura_registry_head SET version = 1 WHERE id = 1;`)
      t.ok(await waitFor(seen, 1, 5000), 'found by polling')
      t.same(seen.map(v => [v.version, v.who, v.why, v.when]), [[1, 'sql', 'by hand', '2026-01-01T00:00:00.000Z']])
      t.same((await store.current()).content, small())
    })

    t.test('a second client sees a commit through watch within 5 s', async t => {
      const { store, another } = await harness.fresh()
      const watcher = await another()
      t.teardown(async () => { await store.close(); await watcher.close() })
      const seen: VersionInfo[] = []
      const stop = await watcher.watch(v => { seen.push(v) }, { pollMs: harness.pollMs })
      await store.commit(small(), { who: 'a', why: 'one', expectedVersion: 0 })
      t.ok(await waitFor(seen, 1, 5000), 'version 1 reached the other client')
      await store.commit(c => ({ ...c, access: [] }), { who: 'b', why: 'two', expectedVersion: 1 })
      await store.commit(c => ({ ...c, groups: {} }), { who: 'c', why: 'three', expectedVersion: 2 })
      t.ok(await waitFor(seen, 3, 5000), 'and versions 2 and 3')
      t.same(seen.map(v => [v.version, v.who, v.why]), [[1, 'a', 'one'], [2, 'b', 'two'], [3, 'c', 'three']], 'each once, in order')
      await stop()
      await store.commit(c => c, { who: 'd', why: 'four', expectedVersion: 3 })
      await new Promise(resolve => setTimeout(resolve, 300))
      t.equal(seen.length, 3, 'nothing after stop')
    })
  })
}

t.test('importDir refuses a broken directory with the file and line', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'ura-registry-import-'))
  const { writeFile } = await import('node:fs/promises')
  await writeFile(join(dir, 'members.yaml'), 'members:\n  - class: GOV\n    code: [unclosed\n')
  await writeFile(join(dir, 'access.yaml'), 'access: not-a-list\n')
  await writeFile(join(dir, 'services.yaml'), 'servics: []\n')
  const err = await importDir(dir).catch((e: unknown) => e)
  t.type(err, RegistryStoreError)
  t.equal((err as RegistryStoreError).code, 'IMPORT_FAILED')
  const problems = (err as RegistryStoreError).problems
  t.ok(problems.some(p => p.file.endsWith('members.yaml') && p.line !== undefined && /YAML syntax/.test(p.message)), 'the syntax error with its line')
  t.ok(problems.some(p => p.file.endsWith('access.yaml') && p.path === 'access' && p.line === 1 && p.message === 'must be array'), 'the wrong shape, by the config schema')
  t.ok(problems.some(p => p.file.endsWith('services.yaml') && p.line === 1 && p.message === "unknown property 'servics'"), 'a misspelt section is not dropped silently')
  await writeFile(join(dir, 'members.yaml'), 'members:\n  - class: GOV\n    code: K11503002N\n    name: AKSHI\n    subsystems:\n      - code: e-albania\n        connection: ftp\n')
  const schema = (await importDir(dir).catch((e: unknown) => e) as RegistryStoreError).problems.find(p => p.file.endsWith('members.yaml'))
  t.same(schema && { path: schema.path, line: schema.line, message: schema.message }, { path: 'members[0].subsystems[0].connection', line: 7, message: 'must be one of http, mtls' }, 'a bad value with its path and line')
  const missing = await importDir(join(dir, 'nope')).catch((e: unknown) => e)
  t.equal((missing as RegistryStoreError).code, 'IMPORT_FAILED')
})

t.test('ura config import and export: YAML into the store as versions, and back', async t => {
  const { main } = await import('../cli/main.ts')
  const dir = await mkdtemp(join(tmpdir(), 'ura-registry-cli-'))
  const file = join(dir, 'registry.sqlite')
  const out: string[] = []
  const err: string[] = []
  const log = console.log
  const error = console.error
  console.log = (...args: unknown[]) => { out.push(args.join(' ')) }
  console.error = (...args: unknown[]) => { err.push(args.join(' ')) }
  t.teardown(() => { console.log = log; console.error = error })
  const ura = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
    out.length = 0; err.length = 0
    const code = await main(args)
    return { code, out: out.join('\n'), err: err.join('\n') }
  }

  const first = await ura('config', 'import', DEMO, '--store', file, '--who', 'operatori', '--why', 'the demo registry')
  t.equal(first.code, 0, first.err)
  t.match(first.out, /registry version 1 by operatori \(the demo registry\): 203 changes/)
  t.match(first.out, /\+ member AL-DEV\/GOV\/K71908001C/, '5 members, 6 subsystems, a group, 4 services, 4 grants')
  t.match(first.out, /\+ grant AL-DEV\/NJQV\/L21603004L\/taksat-vendore\/detyrimet/)

  const exported = join(dir, 'out')
  const exp = await ura('config', 'export', exported, '--store', file)
  t.equal(exp.code, 0, exp.err)
  t.same(await importDir(exported), await importDir(DEMO), 'the export holds the demo registry')
  t.match(await readFile(join(exported, 'access.yaml'), 'utf8'), /^# Registry version 1, .* by operatori: the demo registry\n/)

  const again = await ura('config', 'import', exported, '--store', file, '--who', 'operatori', '--why', 'round trip')
  t.equal(again.code, 0, again.err)
  t.match(again.out, /registry version 2 by operatori \(round trip\): no changes/)

  const stale = await ura('config', 'import', exported, '--store', file, '--why', 'late', '--expect', '1')
  t.equal(stale.code, 1)
  t.match(stale.err, /^STALE_VERSION: the registry is at version 2/)

  const { writeFile } = await import('node:fs/promises')
  await writeFile(join(exported, 'access.yaml'), 'access:\n  - service: AL-DEV/GOV/X/y/z\n    clients: [AL-DEV/GOV/K11503002N/e-albania]\n')
  const invalid = await ura('config', 'import', exported, '--store', file, '--why', 'broken')
  t.equal(invalid.code, 1)
  t.match(invalid.err, /INVALID_CONTENT: .*\n.*access\[0\]\.service: service AL-DEV\/GOV\/X\/y\/z is not defined/)

  await writeFile(join(exported, 'access.yaml'), 'access:\n  - service: AL-DEV/GOV/X/y/z\n    clients: AL-DEV/GOV/K11503002N/e-albania\n')
  const yamlSchema = await ura('config', 'import', exported, '--store', file, '--why', 'broken')
  t.equal(yamlSchema.code, 1)
  t.match(yamlSchema.err, /IMPORT_FAILED: cannot import .*\n  .*access\.yaml:3:14 access\[0\]\.clients: must be array/, 'with file, line and column')

  const old = await ura('config', 'export', join(dir, 'v0'), '--store', file, '--version', '0')
  t.equal(old.code, 0)
  t.same(await importDir(join(dir, 'v0')), { members: [], groups: {}, services: [], access: [], ...emptySections() }, 'any version can be exported')
  const none = await ura('config', 'export', join(dir, 'v9'), '--store', file, '--version', '9')
  t.equal(none.code, 1)
  t.match(none.err, /UNKNOWN_VERSION/)
})
