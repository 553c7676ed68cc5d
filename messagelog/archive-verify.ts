/**
 * `ura log verify` over a log that spans archives: the archive files in log order, then the live
 * log, each walked as `ura log verify` walks a log (verify-log.ts: every record, batch signature,
 * Merkle root and chain link, in threads where it pays), and each checked to go on from the one
 * before: its anchor is the previous piece's last record, sequence number and chain hash alike.
 * The first archive starts from its own anchor: the chain's start, or the record pruning or removed
 * archives left it after (a note says so). The live log may still hold the last archive's records
 * when an archive run stopped before removing them: accepted when the live log holds that archive's
 * last record with the same chain hash (its chain then holds the same records before it), reported
 * when it differs.
 */
import type { VerifyOptions } from '../certs/verifier.ts'
import { archiveEndProblems, openArchive, type ArchiveFile, type OpenArchive } from './archive-files.ts'
import { GENESIS_HASH } from './record.ts'
import type { ChainAnchor } from './store.ts'
import { recordsToVerify, verifyLog, type VerifiableLog, type VerifyRun } from './verify-log.ts'
import type { StoreVerdict } from './verify.ts'

export interface SpanVerdict extends StoreVerdict {
  /** Archive files walked. */
  archives: number
  /** The archive file that holds the first bad record; absent when it is in the live log (or there is none). */
  badIn?: string
  /** What a sound verdict should say besides: where the chain starts, records held twice, records pruned without an archive. */
  notes: string[]
}

/** The previous piece's end, and its name for reports. */
interface End { end: ChainAnchor; name: string }

/** How many records a verification of the archives and the live log walks (for progress). */
export async function recordsToVerifyAcross (live: VerifiableLog, files: ArchiveFile[]): Promise<number> {
  return files.reduce((n, f) => n + f.last - f.first + 1, 0) + await recordsToVerify(live)
}

export async function verifySpan (live: VerifiableLog, files: ArchiveFile[], opts: VerifyOptions = {}, run: VerifyRun = {}): Promise<SpanVerdict> {
  const notes: string[] = []
  let records = 0
  let signatures = 0
  const failed = (seq: number, problems: string[], badIn?: string): SpanVerdict => ({ ok: false, records, signatures, firstBad: { seq, problems }, archives: files.length, notes, ...(badIn === undefined ? {} : { badIn }) })
  let previous: End | undefined
  for (const file of files) {
    let archive: OpenArchive
    try {
      archive = openArchive(file)
    } catch (err) {
      return failed(file.first, [(err as Error).message], file.name)
    }
    try {
      const link = archiveLinkProblems(previous, archive)
      if (link.length > 0) return failed(archive.anchor.seq + 1, link, file.name)
      const pruned = archive.meta.pruned?.last === archive.anchor.seq ? archive.meta.pruned : undefined
      if (pruned !== undefined) notes.push(`records ${pruned.first}–${pruned.last} were pruned from the live log, not archived, before ${file.name} was written`)
      // Before the first archive: records whose archives were removed (retention on the archives), unless all were pruned.
      const removed = (pruned?.first ?? archive.anchor.seq + 1) - 1
      if (previous === undefined && removed > 0) notes.push(`the chain starts after record ${removed}: the archives of the records before it were removed`)
      const verdict = await verifyLog(archive.reader, opts, threads(run))
      if (!verdict.ok) return { ...verdict, records: records + verdict.records, signatures: signatures + verdict.signatures, archives: files.length, badIn: file.name, notes }
      records += verdict.records
      signatures += verdict.signatures
      const end = await archiveEndProblems(archive)
      if (end.length > 0) return failed(archive.meta.last, end, file.name)
      previous = { end: { seq: archive.meta.last, hash: archive.meta.lastHash }, name: file.name }
    } finally {
      await archive.reader.close()
    }
  }
  const anchor = await live.anchor() ?? { seq: 0, hash: GENESIS_HASH }
  if (previous === undefined) {
    if (anchor.seq > 0) notes.push(`the chain starts after record ${anchor.seq}: earlier records were pruned or archived`)
  } else {
    const { end, name } = previous
    if (anchor.seq > end.seq) {
      notes.push(`records ${end.seq + 1}–${anchor.seq} were pruned from the live log without being archived: the live log goes on from its anchor`)
    } else if (anchor.seq === end.seq) {
      if (anchor.hash !== end.hash) return failed(anchor.seq + 1, [`the live log does not go on from ${name}: the record it follows is not that archive's last record`])
    } else {
      // An archive run stopped between writing its archive and removing its records from the live log.
      const held = await live.recordBefore(end.seq + 1)
      if (held?.seq !== end.seq) return failed(end.seq, [`the live log does not hold record ${end.seq}, the last record of ${name}, though it holds records before it`])
      if (held.hash !== end.hash) return failed(end.seq, [`record ${end.seq} of the live log differs from the same record in ${name} (another chain hash)`])
      notes.push(`records ${anchor.seq + 1}–${end.seq} are both in ${name} and in the live log, alike: an archive run stopped before removing them from the live log (the next \`ura log archive\` removes them)`)
    }
  }
  const verdict = await verifyLog(live, opts, threads(run))
  return { ...verdict, records: records + verdict.records, signatures: signatures + verdict.signatures, archives: files.length, notes }
}

/** Why an archive does not go on from the piece before it (nothing when it is the first). */
function archiveLinkProblems (previous: End | undefined, archive: OpenArchive): string[] {
  if (previous === undefined) return []
  const { anchor, file } = archive
  const { end, name } = previous
  const pruned = archive.meta.pruned
  // A gap the later archive says was pruned from the live log is retention; any other is records lost.
  if (anchor.seq > end.seq) return pruned?.first === end.seq + 1 && pruned.last === anchor.seq ? [] : [`records ${end.seq + 1}–${anchor.seq} are missing between ${name} and ${file.name}`]
  if (anchor.seq < end.seq) return [`${file.name} starts inside ${name}: records ${anchor.seq + 1}–${end.seq} are archived twice`]
  if (anchor.hash !== end.hash) return [`${file.name} does not go on from ${name}: the record it follows is not that archive's last record`]
  return []
}

/** Threads started ahead serve the first long piece; the later ones start their own (verifyLog does when given none). */
function threads (run: VerifyRun): VerifyRun {
  if (run.workers === undefined || run.workers.count > 0) return run
  const { workers: _, ...rest } = run
  return rest
}
