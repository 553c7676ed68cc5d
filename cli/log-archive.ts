/** `ura log archive` and `ura log evidence`: moving old records into archive files, and the evidence of an exchange across them. */
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { anchorsOnly } from '../certs/verifier.ts'
import { archiveLog } from '../messagelog/archive.ts'
import { evidenceAcross } from '../messagelog/archive-evidence.ts'
import { archiveDirOf, openLogForVerifying, openLogStore } from '../messagelog/index.ts'
import { VerifyWorkers } from '../messagelog/verify-log.ts'
import { archiveRefusal, archivesToRead } from './archives.ts'
import { configFrom, trustedCas } from './log.ts'

/**
 * `ura log archive [--config <dir>] --before <date | Nd> [--to <dir>] [--ca <ca.pem>]` — exit 0 when
 * the records are archived (or there was nothing to archive), 1 or 2 with the refusal's code: then
 * nothing was removed from the live log.
 */
export async function logArchive (values: { config?: string; before: Date; to?: string; ca?: string }): Promise<number> {
  // The archive is verified before the live log gives its records up: in threads, started now.
  const workers = VerifyWorkers.start()
  try {
    const config = await configFrom(values.config)
    if (config === undefined) return 2
    const dir = values.to !== undefined ? resolve(values.to) : archiveDirOf(config)
    const anchors = trustedCas(config, values.ca)
    const store = await openLogStore(config)
    try {
      // What it does meanwhile goes to stderr, as `ura log verify`'s progress does: stdout keeps the outcome.
      const onStep = (step: string): void => { process.stderr.write(`${step}\n`) }
      const outcome = await archiveLog(store, { dir, before: values.before, verify: anchors.length === 0 ? {} : { trust: anchorsOnly(anchors) }, workers, onStep })
      const { archive, resumed } = outcome
      if (resumed !== undefined) console.log(`records ${resumed.first}–${resumed.last} were archived in ${resumed.name} already (a run stopped before removing them from the live log)`)
      if (archive !== undefined) console.log(`archived records ${archive.first}–${archive.last} (${archive.records} records, ${archive.from} to ${archive.to}) to ${join(dir, archive.name)}`)
      if (outcome.removed > 0) console.log(`removed ${outcome.removed} records from the ${store.kind} message log`)
      if (archive === undefined && resumed === undefined) {
        const through = outcome.archivedThrough ?? 0
        console.log(`nothing to archive: the ${store.kind} message log holds no record older than ${values.before.toISOString()}${through > 0 ? ` after record ${through}` : ''}`)
      }
      return 0
    } catch (err) {
      return archiveRefusal(err)
    } finally {
      await store.close()
    }
  } finally {
    await workers.close()
  }
}

/**
 * `ura log evidence <messageId> [--config <dir>] [--archive <dir> | --no-archive] [--out <file>]` —
 * the evidence document of an exchange from the archives and the live log, for `ura verify`; exit 1
 * when no record carries the message id.
 */
export async function logEvidence (messageId: string, values: { config?: string; archive?: string | false; out?: string }): Promise<number> {
  const config = await configFrom(values.config)
  if (config === undefined) return 2
  const store = await openLogForVerifying(config)
  try {
    const doc = await evidenceAcross(store, archivesToRead(config, values.archive), messageId)
    if (doc === undefined) {
      console.error(`no record of message ${messageId} is in the ${store.kind} message log or its archives`)
      return 1
    }
    const text = `${JSON.stringify(doc, null, 2)}\n`
    if (values.out === undefined) process.stdout.write(text)
    else {
      writeFileSync(values.out, text)
      console.error(`evidence of message ${messageId} (${doc.records.length} records) written to ${values.out}`)
    }
    return 0
  } catch (err) {
    return archiveRefusal(err)
  } finally {
    await store.close()
  }
}
