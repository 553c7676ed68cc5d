/**
 * `ura log archive`: old records move from the live log into archive files, on both stores, and the
 * chain is verified across them (archive-verify.ts); successive archives continue each other; a run
 * that stops between writing its archive and removing the records is completed by the next one and
 * its overlap accepted by verify (a differing one reported); a tampered archive is reported by its
 * file name; pruning after archiving; refusals that change nothing; evidence across archives; the
 * command line end to end.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import t, { type Test } from 'tap'
import { anchorsOnly } from '../certs/verifier.ts'
import { archiveLog, type ArchivableStore } from '../messagelog/archive.ts'
import { evidenceAcross } from '../messagelog/archive-evidence.ts'
import { archiveName, listArchives, LogArchiveError } from '../messagelog/archive-files.ts'
import { verifySpan } from '../messagelog/archive-verify.ts'
import { verifyEvidence } from '../messagelog/evidence.ts'
import { PgLogStore } from '../messagelog/pg-store.ts'
import { SigningRecorder } from '../messagelog/recorder.ts'
import { SqliteLogReader, SqliteLogStore } from '../messagelog/sqlite-store.ts'
import type { LogStore } from '../messagelog/store.ts'
import { verifyStore } from '../messagelog/verify.ts'
import { logExchanges } from './support/message-log.ts'
import { scratchConfig, uraProcess } from './support/ura-process.ts'
import { scratchDatabases } from './support/postgres.ts'
import { testSigningKeys } from './support/signing.ts'

t.setTimeout(300_000)

const keys = testSigningKeys({ 'AL-DEV/GOV/K11503002N': 'ec-p256', 'AL-DEV/NJQV/L21603004L': 'ec-p256' })
const trust = anchorsOnly([keys.ca.pem])

type Store = LogStore & { exec (sql: string, ...params: unknown[]): Promise<void> }

/** `exchanges` exchanges (two records each) logged at `at` and the seconds after. */
async function fill (store: LogStore, exchanges: number, at: string): Promise<string[]> {
  return logExchanges(new SigningRecorder(store, keys), exchanges, new Date(at))
}

/** 20 exchanges in 2020, 15 in 2021, 10 now: 40, 30 and 20 records. */
async function threeYears (store: LogStore): Promise<{ y2020: string[]; y2021: string[]; now: string[] }> {
  return { y2020: await fill(store, 20, '2020-03-01T00:00:00Z'), y2021: await fill(store, 15, '2021-03-01T00:00:00Z'), now: await fill(store, 10, new Date(Date.now() - 60_000).toISOString()) }
}

interface Harness { name: string; fresh (): Promise<Store> }

const createPgDatabase = scratchDatabases(t, 'ura_test_log_archive')
const harnesses: Harness[] = [
  { name: 'embedded', fresh: async () => SqliteLogStore.open(join(await mkdtemp(join(tmpdir(), 'ura-archive-')), 'message-log.sqlite')) },
  { name: 'postgres', fresh: async () => PgLogStore.open(await createPgDatabase()) },
]

const scratchDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'ura-archive-dir-'))

/** A store whose removal of archived records fails: the run stops between the rename and the removal, as a crash would leave it. */
function stoppingBeforeRemoval (store: LogStore): ArchivableStore {
  return {
    kind: store.kind,
    anchor: () => store.anchor(),
    scan: (after, limit) => store.scan(after, limit),
    signatures: ids => store.signatures(ids),
    recordBefore: seq => store.recordBefore(seq),
    cutBefore: before => store.cutBefore(before),
    removeThrough: async () => { throw new Error('the node lost power') },
  }
}

async function suite (t: Test, h: Harness): Promise<void> {
  t.test(`${h.name}: archive, then verify across the archives and the live log`, async t => {
    const store = await h.fresh()
    t.teardown(() => store.close())
    const ids = await threeYears(store)
    const all = await store.scan(0, 1000)
    const dir = await scratchDir()

    const first = await archiveLog(store, { dir, before: new Date('2021-01-01'), verify: { trust } })
    t.same(first.archive && { first: first.archive.first, last: first.archive.last, records: first.archive.records }, { first: 1, last: 40, records: 40 }, 'the 2020 records')
    t.equal(first.removed, 40)
    t.equal(first.archive?.from, all[0].time)
    t.same(readdirSync(dir), [archiveName(1, 40)], 'one file, named by its records, nothing else left')
    t.same(await store.extent(), { first: 41, last: 90 }, 'the live log goes on at record 41')
    t.same(await store.anchor(), { seq: 40, hash: all[39].hash }, 'from the last archived record')
    t.same(await verifySpan(store, listArchives(dir), { trust }), { ok: true, records: 90, signatures: new Set(all.map(r => r.signatureId)).size, archives: 1, notes: [] }, 'one chain, archive and live log')

    // A second archive continues the first; a third run finds nothing.
    const second = await archiveLog(store, { dir, before: new Date('2022-01-01'), verify: { trust } })
    t.same([second.archive?.first, second.archive?.last, second.removed], [41, 70, 30])
    const again = await archiveLog(store, { dir, before: new Date('2022-01-01'), verify: { trust } })
    t.same(again, { removed: 0, archivedThrough: 70 }, 'nothing more to archive')
    const files = listArchives(dir)
    t.same(files.map(f => f.name), [archiveName(1, 40), archiveName(41, 70)])
    const span = await verifySpan(store, files, { trust }, { threads: 2, parallelFrom: 0, chunkSize: 7, pageSize: 5 })
    t.same([span.ok, span.records, span.archives], [true, 90, 2], 'two archives and the live log, walked in threads')

    // An archive is a log of the embedded schema, its rows encoded as the embedded writer encodes them: it reads as one, and its records are whole.
    const raw = new DatabaseSync(files[0].path, { readOnly: true })
    t.same({ ...raw.prepare('SELECT typeof(hash) AS hash, typeof(signature_id) AS signature, typeof(message_id) AS message FROM ura_log_records LIMIT 1').get() }, { hash: 'blob', signature: 'blob', message: 'blob' }, 'hashes and UUIDs as bytes, whichever store the records came from')
    t.same({ ...raw.prepare('SELECT typeof(id) AS id FROM ura_log_signatures LIMIT 1').get() }, { id: 'blob' })
    raw.close()
    const reader = SqliteLogReader.open(files[0].path)
    t.teardown(() => reader.close())
    t.same(await verifyStore(reader, { trust }), { ok: true, records: 40, signatures: (await verifyStore(reader, { trust })).signatures })
    const evidence = await evidenceAcross(store, files, ids.y2020[3])
    t.equal(evidence?.records.length, 2)
    t.same(verifyEvidence(JSON.parse(JSON.stringify(evidence)), trust).problems, [], 'the evidence of an archived exchange verifies offline')
    t.same((await evidenceAcross(store, files, ids.now[0]))?.records.map(r => r.seq).length, 2, 'and of a live one')
    t.equal(await evidenceAcross(store, files, 'no-such-message'), undefined)
  })

  t.test(`${h.name}: a run that stops between its archive and the removal is completed by the next`, async t => {
    const store = await h.fresh()
    t.teardown(() => store.close())
    await threeYears(store)
    const all = await store.scan(0, 1000)
    const dir = await scratchDir()
    await t.rejects(archiveLog(stoppingBeforeRemoval(store), { dir, before: new Date('2021-01-01'), verify: { trust } }), { code: 'Log.ArchiveIncomplete', message: /message-log-000000000001-000000000040\.sqlite is written, but its records are still in the live log \(the node lost power\)/ })
    t.same(readdirSync(dir), [archiveName(1, 40)], 'the archive is in place')
    t.same(await store.extent(), { first: 1, last: 90 }, 'and its records still in the live log')

    // Verify accepts the overlap: the same records, the same chain hashes.
    const overlap = await verifySpan(store, listArchives(dir), { trust })
    t.same([overlap.ok, overlap.records], [true, 130], 'the records held twice are checked in both places')
    t.match(overlap.notes.join(), /records 1–40 are both in message-log-000000000001-000000000040\.sqlite and in the live log/)

    // A live copy that differs from the archive is reported (and refused by the next run).
    const last = all[39]
    await store.exec('UPDATE ura_log_records SET hash = $1 WHERE seq = 40', all[38].hash)
    const differs = await verifySpan(store, listArchives(dir), { trust })
    t.same([differs.ok, differs.firstBad?.seq, differs.badIn], [false, 40, undefined])
    t.match(differs.firstBad?.problems.join(), /record 40 of the live log differs from the same record in message-log-000000000001-000000000040\.sqlite/)
    await t.rejects(archiveLog(store, { dir, before: new Date('2022-01-01'), verify: { trust } }), { code: 'Log.ArchiveMismatch' })
    t.same(await store.extent(), { first: 1, last: 90 }, 'refused: nothing removed')
    await store.exec('UPDATE ura_log_records SET hash = $1 WHERE seq = 40', last.hash)

    // The next run archives only what comes after the archive, then removes both.
    const next = await archiveLog(store, { dir, before: new Date('2022-01-01'), verify: { trust } })
    t.same(next.resumed, { first: 1, last: 40, name: archiveName(1, 40) })
    t.same([next.archive?.first, next.archive?.last, next.removed], [41, 70, 70], 'records 41–70 archived, 1–70 removed')
    t.same(listArchives(dir).map(f => [f.first, f.last]), [[1, 40], [41, 70]], 'no record archived twice')
    t.same(await verifySpan(store, listArchives(dir), { trust }), { ok: true, records: 90, signatures: new Set(all.map(r => r.signatureId)).size, archives: 2, notes: [] })

    // Stopped again, and the next run has nothing new to archive: it completes the removal alone.
    await t.rejects(archiveLog(stoppingBeforeRemoval(store), { dir, before: new Date(), verify: { trust } }), /lost power/)
    const completed = await archiveLog(store, { dir, before: new Date(Date.now() - 3_600_000), verify: { trust } })
    t.same(completed, { removed: 20, resumed: { first: 71, last: 90, name: archiveName(71, 90) } })
    t.equal(await store.extent(), undefined, 'the live log is empty')
    t.same((await verifySpan(store, listArchives(dir), { trust })).records, 90)
  })

  t.test(`${h.name}: a tampered archive is reported with its file name`, async t => {
    const store = await h.fresh()
    t.teardown(() => store.close())
    await threeYears(store)
    const dir = await scratchDir()
    await archiveLog(store, { dir, before: new Date('2021-01-01'), verify: { trust } })
    await archiveLog(store, { dir, before: new Date('2022-01-01'), verify: { trust } })
    const [a, b] = listArchives(dir)
    const edit = (file: string, sql: string): void => {
      const db = new DatabaseSync(file)
      db.exec(sql)
      db.close()
    }
    edit(b.path, "UPDATE ura_log_records SET user_id = 'AL-J00000000X' WHERE seq = 50")
    let verdict = await verifySpan(store, listArchives(dir), { trust })
    t.same([verdict.ok, verdict.firstBad?.seq, verdict.badIn, verdict.records], [false, 50, b.name, 49], 'the altered record, in its archive')
    t.match(verdict.firstBad?.problems.join(), /chain hash does not match its content/)
    edit(b.path, 'UPDATE ura_log_records SET user_id = NULL WHERE seq = 50')
    t.equal((await verifySpan(store, listArchives(dir), { trust })).ok, true, 'sound again')

    // The last batch of an archive cut off: the archive ends before the record it names.
    const saved = join(dir, '..', `${b.name}.saved`)
    cpSync(b.path, saved)
    edit(b.path, 'DELETE FROM ura_log_records WHERE signature_id = (SELECT signature_id FROM ura_log_records WHERE seq = 70)')
    verdict = await verifySpan(store, listArchives(dir), { trust })
    t.same([verdict.ok, verdict.badIn], [false, b.name])
    t.match(verdict.firstBad?.problems.join(), /ends at record \d+, its description at record 70/)
    cpSync(saved, b.path)

    // An archive under another archive's name is not taken for it.
    cpSync(a.path, join(dir, archiveName(71, 71)))
    verdict = await verifySpan(store, listArchives(dir), { trust })
    t.same([verdict.ok, verdict.badIn], [false, archiveName(71, 71)])
    t.match(verdict.firstBad?.problems.join(), /cannot be read as a message-log archive: its name says records 71–71, it describes records 1–40/)
    unlinkSync(join(dir, archiveName(71, 71)))

    // One removed from the middle: records missing. The oldest removed (retention on the archives): the chain starts later, said in a note.
    await archiveLog(store, { dir, before: new Date(), verify: { trust } })
    unlinkSync(b.path)
    verdict = await verifySpan(store, listArchives(dir), { trust })
    t.same([verdict.ok, verdict.firstBad?.seq, verdict.badIn], [false, 71, archiveName(71, 90)])
    t.match(verdict.firstBad?.problems.join(), /records 41–70 are missing between message-log-000000000001-000000000040\.sqlite and message-log-000000000071-000000000090\.sqlite/)
    cpSync(saved, b.path)
    unlinkSync(a.path)
    verdict = await verifySpan(store, listArchives(dir), { trust })
    t.same([verdict.ok, verdict.records], [true, 50])
    t.same(verdict.notes, ['the chain starts after record 40: the archives of the records before it were removed'])
  })

  t.test(`${h.name}: prune after archive; retention as before`, async t => {
    const store = await h.fresh()
    t.teardown(() => store.close())
    await threeYears(store)
    const dir = await scratchDir()
    await archiveLog(store, { dir, before: new Date('2021-01-01'), verify: { trust } })
    t.equal(await store.prune(new Date('2021-01-01')), 0, 'what is archived is no longer in the live log')
    t.equal(await store.prune(new Date('2022-01-01')), 30, 'the 2021 records pruned without an archive')
    const verdict = await verifySpan(store, listArchives(dir), { trust })
    t.same([verdict.ok, verdict.records], [true, 60])
    t.match(verdict.notes.join(), /records 41–70 were pruned from the live log without being archived/)
    const next = await archiveLog(store, { dir, before: new Date(), verify: { trust } })
    t.same([next.archive?.first, next.archive?.last], [71, 90], 'the next archive starts after the pruned records')
    t.same(await verifySpan(store, listArchives(dir), { trust }), {
      ok: true,
      records: 60,
      signatures: (await verifySpan(store, listArchives(dir), { trust })).signatures,
      archives: 2,
      notes: [`records 41–70 were pruned from the live log, not archived, before ${archiveName(71, 90)} was written`],
    }, 'the pruned records said, not taken for an archive removed')
    // An archive removed from between two others is not pruning.
    unlinkSync(join(dir, archiveName(71, 90)))
    const onlyFirst = await verifySpan(store, listArchives(dir), { trust })
    t.same(onlyFirst.ok, true, 'the newest archive removed looks like records pruned from the live log (a limit: the live log keeps no record of it)')
  })

  t.test(`${h.name}: a log pruned before its first archive`, async t => {
    const store = await h.fresh()
    t.teardown(() => store.close())
    await threeYears(store)
    const dir = await scratchDir()
    t.equal(await store.prune(new Date('2021-01-01')), 40)
    const first = await archiveLog(store, { dir, before: new Date('2022-01-01'), verify: { trust } })
    t.same([first.archive?.first, first.archive?.last], [41, 70])
    const verdict = await verifySpan(store, listArchives(dir), { trust })
    t.same([verdict.ok, verdict.records, verdict.notes], [true, 50, [`records 1–40 were pruned from the live log, not archived, before ${archiveName(41, 70)} was written`]], 'the first archive starts from the anchor pruning left, and says so')
  })

  t.test(`${h.name}: refusals change nothing`, async t => {
    const store = await h.fresh()
    t.teardown(() => store.close())
    await threeYears(store)
    const extent = await store.extent()
    const dir = await scratchDir()

    writeFileSync(join(dir, 'notes.txt'), 'mine')
    await t.rejects(archiveLog(store, { dir, before: new Date('2021-01-01'), verify: { trust } }), { code: 'Log.ForeignArchiveFile', message: /holds notes\.txt, which is not a message-log archive/ })
    t.throws(() => listArchives(dir), { code: 'Log.ForeignArchiveFile' })
    unlinkSync(join(dir, 'notes.txt'))
    const file = join(dir, 'a-file')
    writeFileSync(file, '')
    await t.rejects(archiveLog(store, { dir: file, before: new Date('2021-01-01'), verify: { trust } }), { code: 'Log.ArchiveDirInvalid' })
    unlinkSync(file)

    // The directory's lock: held by a live process, refused; left by one that is gone, taken over.
    writeFileSync(join(dir, '.archive.lock'), String(process.pid))
    await t.rejects(archiveLog(store, { dir, before: new Date('2021-01-01'), verify: { trust } }), { code: 'Log.ArchiveBusy', message: new RegExp(`process ${process.pid}`) })
    t.same(await store.extent(), extent, 'nothing removed')
    writeFileSync(join(dir, '.archive.lock'), String(spawnSync(process.execPath, ['-e', '']).pid))

    // A run's leftover (it stopped before the rename) is removed; verify passes it by.
    writeFileSync(join(dir, `${archiveName(1, 40)}.tmp`), 'half written')
    t.same(listArchives(dir), [])

    // The records to archive must verify: a tampered one keeps them all in the live log.
    await store.exec("UPDATE ura_log_records SET path = '/x' WHERE seq = 12")
    await t.rejects(archiveLog(store, { dir, before: new Date('2021-01-01'), verify: { trust } }), { code: 'Log.ArchiveUnsound', message: /record 12 .*does not verify/ })
    t.same(readdirSync(dir), [], 'no archive, no temporary file, the lock taken over and let go')
    t.same(await store.extent(), extent, 'nothing removed')

    // Another log's archives: this log does not go on from them.
    const other = await h.fresh()
    t.teardown(() => other.close())
    await threeYears(other)
    await archiveLog(other, { dir, before: new Date('2021-01-01'), verify: { trust } })
    await t.rejects(archiveLog(store, { dir, before: new Date('2022-01-01'), verify: { trust } }), { code: 'Log.ArchiveMismatch' })
    t.same(await store.extent(), extent, 'nothing removed')
  })
}

for (const h of harnesses) t.test(h.name, t => suite(t, h))


t.test('ura log archive, verify and evidence end to end', async t => {
  const scratch = await mkdtemp(join(tmpdir(), 'ura-archive-cli-'))
  const config = scratchConfig(scratch)
  const ca = join(scratch, 'ca.pem')
  writeFileSync(ca, keys.ca.pem)
  const store = await SqliteLogStore.open(join(scratch, 'data', 'message-log.sqlite'))
  const ids = await threeYears(store)
  await store.close()
  const archives = join(scratch, 'data', 'log-archive')

  const archived = await uraProcess('log', 'archive', '--config', config, '--before', '2021-01-01', '--ca', ca)
  t.equal(archived.code, 0, archived.stderr)
  t.match(archived.stdout, `archived records 1–40 (40 records, 2020-03-01T00:00:00.000Z to 2020-03-01T00:00:19.040Z) to ${join(archives, archiveName(1, 40))}\nremoved 40 records from the embedded message log\n`)
  t.equal(archived.stderr, `writing records 1–40 to ${archiveName(1, 40)}\nverifying ${archiveName(1, 40)}\n`, 'its steps on stderr')
  const nothing = await uraProcess('log', 'archive', '--config', config, '--before', '2021-01-01', '--ca', ca)
  t.equal(nothing.code, 0)
  t.match(nothing.stdout, /^nothing to archive: the embedded message log holds no record older than 2021-01-01T00:00:00\.000Z after record 40\n$/)

  const verified = await uraProcess('log', 'verify', '--config', config, '--ca', ca)
  t.equal(verified.code, 0, verified.stderr)
  t.match(verified.stdout, /^message log \(embedded: 1 archive and the live log\) verified: 90 records, \d+ batch signatures, hash chain intact\n$/)
  t.match(verified.stderr, /^checked 90 records in/m, 'progress counts the archive\'s records too')
  const live = await uraProcess('log', 'verify', '--config', config, '--ca', ca, '--no-archive', '--quiet')
  t.match(live.stdout, /^message log \(embedded\) verified: 50 records, .*\n {2}note: the chain starts after record 40: earlier records were pruned or archived\n$/)

  const evidence = join(scratch, 'evidence.json')
  const written = await uraProcess('log', 'evidence', ids.y2020[0], '--config', config, '--out', evidence)
  t.equal(written.code, 0, written.stderr)
  const checked = await uraProcess('verify', evidence, '--ca', ca)
  t.equal(checked.code, 0, checked.stderr)
  t.match(checked.stdout, /^evidence verified/)
  const unknown = await uraProcess('log', 'evidence', 'no-such-message', '--config', config)
  t.equal(unknown.code, 1)

  // Bad input: refused, the log and its archives as they were.
  const future = await uraProcess('log', 'archive', '--config', config, '--before', '2999-01-01')
  t.equal(future.code, 2)
  t.match(future.stderr, /argument '2999-01-01' is invalid\. It is in the future/)
  const bogus = await uraProcess('log', 'archive', '--config', config, '--before', '1d', '--bogus')
  t.equal(bogus.code, 2)
  t.match(bogus.stderr, /unknown option '--bogus'/)
  const noCut = await uraProcess('log', 'archive', '--config', config)
  t.equal(noCut.code, 2)
  t.match(noCut.stderr, /required option '--before <date \| Nd>' not specified/)
  const asFile = await uraProcess('log', 'archive', '--config', config, '--before', '1d', '--to', ca)
  t.equal(asFile.code, 2)
  t.match(asFile.stderr, /^Log\.ArchiveDirInvalid: the archive directory .* is not a directory$/m)
  mkdirSync(join(archives, 'old'))
  const foreign = await uraProcess('log', 'archive', '--config', config, '--before', '1d')
  t.equal(foreign.code, 2)
  t.match(foreign.stderr, /^Log\.ForeignArchiveFile: the archive directory .* holds old, which is not a message-log archive/m)
  const foreignVerify = await uraProcess('log', 'verify', '--config', config, '--quiet')
  t.equal(foreignVerify.code, 2)
  rmdirSync(join(archives, 'old'))
  t.ok(existsSync(join(archives, archiveName(1, 40))))
  const missingDir = await uraProcess('log', 'verify', '--config', config, '--archive', join(scratch, 'nowhere'))
  t.equal(missingDir.code, 2)
  t.match(missingDir.stderr, /^Log\.ArchiveDirInvalid: there is no archive directory/m)

  // A record altered inside the archive: named with the archive's file.
  const db = new DatabaseSync(join(archives, archiveName(1, 40)))
  db.exec("UPDATE ura_log_records SET status = 500 WHERE seq = 8")
  db.close()
  const tampered = await uraProcess('log', 'verify', '--config', config, '--ca', ca, '--archive', archives, '--quiet')
  t.equal(tampered.code, 1)
  t.match(tampered.stderr, /^message log \(embedded: 1 archive and the live log\) FAILED at record 8 \(message [^)]+\) in archive message-log-000000000001-000000000040\.sqlite, after 7 good records:$/m)
})
