/** Which archive files a command reads (`--archive <dir>`, `--no-archive`, else the node's archive directory), and how their refusals end a command. */
import { resolve } from 'node:path'
import type { UraConfig } from '../config/types.ts'
import { archiveDirExists, listArchives, LogArchiveError, type ArchiveFile, type LogArchiveErrorCode } from '../messagelog/archive-files.ts'
import { archiveDirOf } from '../messagelog/index.ts'

/** `--archive <dir>`: those archives (the directory must exist); `--no-archive` (false): none; absent: the node's archive directory's, if it exists. */
export function archivesToRead (config: UraConfig, option: string | false | undefined): ArchiveFile[] {
  if (option === false) return []
  if (option !== undefined) return listArchives(resolve(option))
  const dir = archiveDirOf(config)
  return archiveDirExists(dir) ? listArchives(dir) : []
}

/** Exit codes: 2 where the input is wrong (the directory, a file that does not belong there), 1 where the log or its archives are. */
const EXIT: Record<LogArchiveErrorCode, number> = {
  'Log.ArchiveDirInvalid': 2,
  'Log.ForeignArchiveFile': 2,
  'Log.ArchiveUnreadable': 1,
  'Log.ArchiveMismatch': 1,
  'Log.ArchiveUnsound': 1,
  'Log.ArchiveBusy': 1,
  'Log.ArchiveIncomplete': 1,
}

/** Prints an archive refusal as `code: message` and gives its exit code; anything else is a bug and is thrown. */
export function archiveRefusal (err: unknown): number {
  if (!(err instanceof LogArchiveError)) throw err
  console.error(`${err.code}: ${err.message}`)
  return EXIT[err.code]
}
