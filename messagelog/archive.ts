/**
 * `ura log archive`: moves the oldest records of the live log — those older than a cut, whole batches
 * only, as pruning takes them — into one new archive file (archive-files.ts), either store alike.
 *
 * In this order, so that a crash anywhere loses nothing: the archive is written under a temporary
 * name, flushed to disk and verified; renamed to its name and its directory flushed; only then are
 * its records removed from the live log, in one transaction that leaves the last one's hash as the
 * anchor the live chain goes on from (as pruning does). A run that stops between the rename and the
 * removal leaves its records in both places: the next run finds the live log still holding the last
 * archive's records (the same chain hash at its last record), archives only what comes after them,
 * and removes both from the live log.
 */
import { renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import type { VerifyOptions } from '../certs/verifier.ts'
import { archiveEndProblems, archiveName, fsyncPath, lastArchived, listArchives, lockArchiveDir, LogArchiveError, makeArchiveDir, openArchive, removeLeftovers, type ArchiveMeta } from './archive-files.ts'
import { GENESIS_HASH } from './record.ts'
import { sqliteInserts } from './sqlite-insert.ts'
import { upgradeSchema } from './sqlite-store.ts'
import type { ChainAnchor, LogStore } from './store.ts'
import { verifyLog, type VerifyWorkers } from './verify-log.ts'

/** What an archive run reads of the live log, and changes. */
export type ArchivableStore = Pick<LogStore, 'kind' | 'anchor' | 'scan' | 'signatures' | 'recordBefore' | 'cutBefore' | 'removeThrough'>

export interface ArchiveRun {
  /** The archive directory (made when missing). */
  dir: string
  /** Records older than this are archived (the cut moves back to the start of a batch that goes on past it). */
  before: Date
  /** How the archive is verified before the live log gives its records up (the trusted CAs). */
  verify?: VerifyOptions
  /** Verification threads started ahead (`ura log verify`'s); the caller closes the set. */
  workers?: VerifyWorkers
  /** Records read from the live log at a time. */
  pageSize?: number
  /** Told what the run does next (writing, verifying): a long log takes a while at each step. */
  onStep?: (step: string) => void
}

export interface ArchiveOutcome {
  /** The archive written, if any. */
  archive?: { name: string; first: number; last: number; records: number; from: string; to: string }
  /** Records removed from the live log: those archived now, and those an interrupted run had archived. */
  removed: number
  /** Records an earlier run had archived without removing them from the live log (it stopped in between): removed now. */
  resumed?: { first: number; last: number; name: string }
  /** Where the archives end, when there was nothing to archive. */
  archivedThrough?: number
}

export async function archiveLog (store: ArchivableStore, run: ArchiveRun): Promise<ArchiveOutcome> {
  makeArchiveDir(run.dir)
  const release = lockArchiveDir(run.dir)
  try {
    removeLeftovers(run.dir)
    const { start, resumed, pruned } = await continuation(store, lastArchived(listArchives(run.dir)))
    const cut = await store.cutBefore(run.before)
    if (cut !== undefined && cut.seq > start.seq) {
      const archive = await writeArchive(store, run, start, cut, pruned)
      return { archive, removed: await removeArchived(store, cut, archive.name), ...(resumed === undefined ? {} : { resumed }) }
    }
    if (resumed !== undefined) return { removed: await removeArchived(store, start, resumed.name), resumed }
    return { removed: 0, archivedThrough: start.seq }
  } finally {
    release()
  }
}

/** Removes the archived records from the live log; when that fails, the archive stays and the next run removes them. */
async function removeArchived (store: ArchivableStore, last: ChainAnchor, name: string): Promise<number> {
  try {
    return await store.removeThrough(last)
  } catch (err) {
    throw new LogArchiveError('Log.ArchiveIncomplete', `${name} is written, but its records are still in the live log (${(err as Error).message}): the next \`ura log archive\` removes them`)
  }
}

/**
 * Where the next archive starts: after the last archive, or after the live log's anchor when the
 * live log was pruned past the archives (or there are none). Refused when the live log does not
 * continue the last archive's chain.
 */
async function continuation (store: ArchivableStore, previous: ReturnType<typeof lastArchived>): Promise<{ start: ChainAnchor; resumed?: ArchiveOutcome['resumed']; pruned?: ArchiveMeta['pruned'] }> {
  const live = await store.anchor() ?? { seq: 0, hash: GENESIS_HASH }
  // Pruned past the last archive (or before the first): the archive says so, for verify to tell it from an archive removed.
  const after = previous?.end.seq ?? 0
  if (live.seq > after) return { start: live, pruned: { first: after + 1, last: live.seq } }
  if (previous === undefined) return { start: live }
  const { end, file } = previous
  if (live.seq === end.seq) {
    if (live.hash !== end.hash) throw new LogArchiveError('Log.ArchiveMismatch', `the live log goes on from another record ${end.seq} than the last record of ${file.name}: it is not this log's archive`)
    return { start: end }
  }
  // The live log still holds records the last archive holds: they must be the same chain.
  const held = await store.recordBefore(end.seq + 1)
  if (held?.seq !== end.seq) throw new LogArchiveError('Log.ArchiveMismatch', `the live log does not hold record ${end.seq}, the last record of ${file.name}, though it holds records before it`)
  if (held.hash !== end.hash) throw new LogArchiveError('Log.ArchiveMismatch', `record ${end.seq} of the live log differs from the same record in ${file.name}`)
  return { start: end, resumed: { first: live.seq + 1, last: end.seq, name: file.name } }
}

/** Writes, flushes, verifies and renames the archive of the records after `start` up to `cut`. */
async function writeArchive (store: ArchivableStore, run: ArchiveRun, start: ChainAnchor, cut: ChainAnchor, pruned: ArchiveMeta['pruned']): Promise<NonNullable<ArchiveOutcome['archive']>> {
  const name = archiveName(start.seq + 1, cut.seq)
  const path = join(run.dir, name)
  const temporary = `${path}.tmp`
  try {
    run.onStep?.(`writing records ${start.seq + 1}–${cut.seq} to ${name}`)
    const meta = await copyRecords(store, temporary, start, cut, run.pageSize ?? 1000, pruned)
    fsyncPath(temporary)
    const archive = openArchive({ name, path: temporary, first: start.seq + 1, last: cut.seq })
    try {
      run.onStep?.(`verifying ${name}`)
      const verdict = await verifyLog(archive.reader, run.verify ?? {}, run.workers === undefined ? {} : { workers: run.workers })
      if (!verdict.ok) {
        const bad = verdict.firstBad!
        throw new LogArchiveError('Log.ArchiveUnsound', `record ${bad.seq}${bad.messageId === undefined ? '' : ` (message ${bad.messageId})`} does not verify: ${bad.problems.join('; ')}. Nothing was archived: run \`ura log verify\``)
      }
      const end = await archiveEndProblems(archive)
      if (end.length > 0) throw new LogArchiveError('Log.ArchiveUnsound', `${end.join('; ')}. Nothing was archived`)
    } finally {
      await archive.reader.close()
    }
    renameSync(temporary, path)
    fsyncPath(run.dir)
    return { name, first: meta.first, last: meta.last, records: meta.records, from: meta.from, to: meta.to }
  } finally {
    rmSync(temporary, { force: true })
  }
}

/** The live log's records after `start` up to `cut`, their signatures and certificates, into a new database file. */
async function copyRecords (store: ArchivableStore, path: string, start: ChainAnchor, cut: ChainAnchor, pageSize: number, pruned: ArchiveMeta['pruned']): Promise<ArchiveMeta> {
  const db = new DatabaseSync(path)
  try {
    // A temporary file: flushed once, when it is whole (the caller fsyncs it before the rename).
    db.exec('PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;')
    upgradeSchema(db)
    const insert = sqliteInserts(db)
    const written = new Set<string>()
    let last = start
    let records = 0
    let from = ''
    let to = ''
    db.exec('BEGIN')
    while (last.seq < cut.seq) {
      const page = (await store.scan(last.seq, Math.min(pageSize, cut.seq - last.seq))).filter(r => r.seq <= cut.seq)
      if (page.length === 0) break
      for (const r of page) {
        insert.record(r)
        records++
        if (from === '' || r.time < from) from = r.time
        if (r.time > to) to = r.time
      }
      const fresh = [...new Set(page.map(r => r.signatureId))].filter(id => !written.has(id))
      // A signature the live log lacks is left out: verifying the archive reports it.
      for (const sig of (fresh.length === 0 ? [] : (await store.signatures(fresh)).values())) insert.signature(sig, null)
      for (const id of fresh) written.add(id)
      last = page[page.length - 1]
    }
    if (last.seq !== cut.seq) throw new LogArchiveError('Log.ArchiveUnsound', `the live log ends at record ${last.seq}, before record ${cut.seq}. Nothing was archived`)
    // Each signature's run of records, now that all of them are in (a batch may span two pages).
    insert.fillRanges()
    const meta: ArchiveMeta = { format: 'ura-log-archive/1', first: start.seq + 1, last: cut.seq, lastHash: cut.hash, records, from, to, store: store.kind, made: new Date().toISOString(), ...(pruned === undefined ? {} : { pruned }) }
    const setMeta = db.prepare('INSERT INTO ura_log_meta (key, value) VALUES (?, ?)')
    setMeta.run('anchor', JSON.stringify({ seq: start.seq, hash: start.hash }))
    setMeta.run('archive', JSON.stringify(meta))
    db.exec('COMMIT')
    return meta
  } finally {
    db.close()
  }
}
