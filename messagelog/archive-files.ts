/**
 * The message log's archive directory (docs/message-log.md, "Archiving"): the archive files in it,
 * their names and what each says of itself, the lock an archive run holds, and the errors.
 *
 * An archive file is a SQLite database in the embedded log's schema (records, the batch signatures
 * they use, the certificates those name) whose meta holds the anchor its chain starts from — the
 * sequence number and chain hash before its first record, as a pruned log keeps it — and a
 * description (ArchiveMeta). It is named by its first and last sequence numbers, zero-padded, so
 * the names sort in log order: `message-log-000000000001-000000040000.sqlite`.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { SqliteLogReader } from './sqlite-store.ts'
import type { ChainAnchor } from './store.ts'

export type LogArchiveErrorCode =
  /** The archive directory is a file, or cannot be made or read. */
  | 'Log.ArchiveDirInvalid'
  /** The archive directory holds something that is not an archive file of ura's. */
  | 'Log.ForeignArchiveFile'
  /** An archive file cannot be read as one (not SQLite, no description, a name that is not what it holds). */
  | 'Log.ArchiveUnreadable'
  /** The live log does not continue the last archive's chain: a record both hold differs. */
  | 'Log.ArchiveMismatch'
  /** The records to archive do not verify: they stay in the live log. */
  | 'Log.ArchiveUnsound'
  /** Another archive run holds the directory's lock. */
  | 'Log.ArchiveBusy'
  /** The archive is written, but removing its records from the live log failed: the next run does it. */
  | 'Log.ArchiveIncomplete'

/** A refusal of an archive run or of reading the archives: nothing was changed (but for Log.ArchiveIncomplete). */
export class LogArchiveError extends Error {
  readonly code: LogArchiveErrorCode
  constructor (code: LogArchiveErrorCode, message: string) {
    super(message)
    this.name = 'LogArchiveError'
    this.code = code
  }
}

/** What an archive file says of itself (meta key `archive`); its anchor is the meta key `anchor`, as in a pruned log. */
export interface ArchiveMeta {
  format: 'ura-log-archive/1'
  first: number
  last: number
  /** The last record's chain hash: the next archive, or the live log, continues from it. */
  lastHash: string
  records: number
  /** The earliest and the latest record time held. */
  from: string
  to: string
  /** The store the records were moved from. */
  store: 'embedded' | 'postgres'
  /** When the archive was written. */
  made: string
  /** Records pruned from the live log, not archived, right before this archive's first record (after the previous archive's last). */
  pruned?: { first: number; last: number }
}

const NAME = /^message-log-(\d{12})-(\d{12})\.sqlite$/
/** A file an archive run writes before it renames it (and SQLite's journal beside it): left by a run that stopped. */
const TEMPORARY = /^message-log-\d{12}-\d{12}\.sqlite\.tmp(-journal)?$/
const LOCK = '.archive.lock'

/** The file name of the archive of records first–last. */
export function archiveName (first: number, last: number): string {
  return `message-log-${String(first).padStart(12, '0')}-${String(last).padStart(12, '0')}.sqlite`
}

export interface ArchiveFile {
  /** The file name (what a report names). */
  name: string
  path: string
  /** The records its name says it holds. */
  first: number
  last: number
}

/** Whether `dir` is a directory; false when it does not exist; refused when it is something else. */
export function archiveDirExists (dir: string): boolean {
  if (!existsSync(dir)) return false
  if (!statSync(dir).isDirectory()) throw new LogArchiveError('Log.ArchiveDirInvalid', `the archive directory ${dir} is not a directory`)
  return true
}

/**
 * The archive files in `dir`, in log order. Anything else there but a run's leftovers is refused:
 * the directory is ura's, and a file that only looks like an archive must not be mistaken for one.
 */
export function listArchives (dir: string): ArchiveFile[] {
  if (!archiveDirExists(dir)) throw new LogArchiveError('Log.ArchiveDirInvalid', `there is no archive directory ${dir}`)
  const files: ArchiveFile[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === LOCK || TEMPORARY.test(entry.name)) continue
    const m = NAME.exec(entry.name)
    if (m === null || !entry.isFile()) throw new LogArchiveError('Log.ForeignArchiveFile', `the archive directory ${dir} holds ${entry.name}, which is not a message-log archive: move it elsewhere`)
    files.push({ name: entry.name, path: join(dir, entry.name), first: Number(m[1]), last: Number(m[2]) })
  }
  return files.sort((a, b) => a.first - b.first || a.last - b.last)
}

/** Removes the temporary files of a run that stopped before renaming its archive (the caller holds the lock). */
export function removeLeftovers (dir: string): string[] {
  const gone = readdirSync(dir).filter(name => TEMPORARY.test(name))
  for (const name of gone) unlinkSync(join(dir, name))
  return gone
}

/** An archive file opened read-only: its records as the embedded log's reader reads them, and its description. */
export interface OpenArchive {
  file: ArchiveFile
  meta: ArchiveMeta
  anchor: ChainAnchor
  reader: SqliteLogReader
}

/** Opens an archive file and checks that it describes itself as its name says; Log.ArchiveUnreadable if not. */
export function openArchive (file: ArchiveFile): OpenArchive {
  let db: DatabaseSync | undefined
  try {
    db = new DatabaseSync(file.path, { readOnly: true })
    const value = (key: string): unknown => {
      const row = db!.prepare('SELECT value FROM ura_log_meta WHERE key = ?').get(key) as { value: string } | undefined
      return row === undefined ? undefined : JSON.parse(row.value)
    }
    const meta = value('archive') as ArchiveMeta | undefined
    const anchor = value('anchor') as ChainAnchor | undefined
    if (meta?.format !== 'ura-log-archive/1' || typeof meta.lastHash !== 'string') throw new Error('it holds no archive description')
    if (typeof anchor?.seq !== 'number' || typeof anchor.hash !== 'string') throw new Error('it holds no anchor')
    if (meta.first !== file.first || meta.last !== file.last || anchor.seq !== meta.first - 1) {
      throw new Error(`its name says records ${file.first}–${file.last}, it describes records ${meta.first}–${meta.last} after record ${anchor.seq}`)
    }
    return { file, meta, anchor, reader: new SqliteLogReader(db, file.path) }
  } catch (err) {
    db?.close()
    throw new LogArchiveError('Log.ArchiveUnreadable', `${file.name} cannot be read as a message-log archive: ${(err as Error).message}`)
  }
}

/** Why an archive, its records sound, does not end where it says it does (records removed or added at its end). */
export async function archiveEndProblems (archive: OpenArchive): Promise<string[]> {
  const { meta, file } = archive
  const extent = await archive.reader.extent()
  if (extent === undefined) return [`${file.name} holds no record`]
  if (extent.last !== meta.last) return [`${file.name} ends at record ${extent.last}, its description at record ${meta.last}`]
  const last = await archive.reader.recordBefore(meta.last + 1)
  if (last?.hash !== meta.lastHash) return [`the last record of ${file.name} is not the one its description names (another chain hash)`]
  return []
}

/** The chain end of the last archive in `dir` (what the live log must continue), and its file; undefined when there is none. */
export function lastArchived (files: ArchiveFile[]): { end: ChainAnchor; file: ArchiveFile } | undefined {
  const file = files.at(-1)
  if (file === undefined) return undefined
  const archive = openArchive(file)
  try {
    return { end: { seq: archive.meta.last, hash: archive.meta.lastHash }, file }
  } finally {
    archive.reader.close().catch(() => {})
  }
}

/** Flushes a file or a directory (a rename is durable once its directory is). */
export function fsyncPath (path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * Takes the archive directory's lock (a file holding this process's id) so two runs never archive
 * the same records; a lock whose process is gone is taken over. Returns the release.
 */
export function lockArchiveDir (dir: string): () => void {
  const path = join(dir, LOCK)
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number
    try {
      fd = openSync(path, 'wx')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new LogArchiveError('Log.ArchiveDirInvalid', `cannot write in the archive directory ${dir}: ${(err as Error).message}`)
      const holder = Number(readFileSync(path, 'utf8'))
      if (Number.isSafeInteger(holder) && holder > 0 && processAlive(holder)) throw new LogArchiveError('Log.ArchiveBusy', `another archive run (process ${holder}) is writing in ${dir}`)
      unlinkSync(path)
      continue
    }
    writeSync(fd, String(process.pid))
    closeSync(fd)
    return () => { unlinkSync(path) }
  }
  throw new LogArchiveError('Log.ArchiveBusy', `another archive run keeps taking the lock of ${dir}`)
}

function processAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Makes the archive directory if it is missing; refused when it is a file. */
export function makeArchiveDir (dir: string): void {
  try {
    if (!archiveDirExists(dir)) mkdirSync(dir, { recursive: true })
  } catch (err) {
    if (err instanceof LogArchiveError) throw err
    throw new LogArchiveError('Log.ArchiveDirInvalid', `cannot make the archive directory ${dir}: ${(err as Error).message}`)
  }
}
