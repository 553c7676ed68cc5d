/** `ura log verify`, `ura log prune` and `ura verify`: checking and maintaining the message log, offline (`ura log archive`: log-archive.ts). */
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { pkiPaths } from '../certs/keystore.ts'
import { splitPemCertificates } from '../certs/pki.ts'
import { TrustStore } from '../certs/trust-store.ts'
import { anchorsOnly } from '../certs/verifier.ts'
import { ConfigError, loadConfig } from '../config/load.ts'
import type { UraConfig } from '../config/types.ts'
import { verifyEvidence } from '../messagelog/evidence.ts'
import { openLogForVerifying, openLogStore } from '../messagelog/index.ts'
import { dataDirOf } from '../certs/node-pki.ts'
import { VerifyWorkers } from '../messagelog/verify-log.ts'
import { recordsToVerifyAcross, verifySpan } from '../messagelog/archive-verify.ts'
import type { ArchiveFile } from '../messagelog/archive-files.ts'
import { archiveRefusal, archivesToRead } from './archives.ts'
import { progressReporter } from './progress.ts'
import { DEMO_CONFIG_DIR } from '../config/defaults.ts'

export async function configFrom (dir: string | undefined): Promise<UraConfig | undefined> {
  try {
    return await loadConfig(dir ?? DEMO_CONFIG_DIR)
  } catch (err) {
    if (err instanceof ConfigError) { console.error(err.message); return undefined }
    throw err
  }
}

export function readCaFile (path: string): string[] {
  const pems = splitPemCertificates(readFileSync(path, 'utf8'))
  if (pems.length === 0) throw new Error(`${path} holds no PEM certificate`)
  return pems
}

/**
 * The CAs a verification trusts: `--ca`, else the node's trust store (its anchors; revocation is
 * checked when signing). Without any, chains are only checked for consistency, and the user is told.
 */
export function trustedCas (config: UraConfig, ca: string | undefined): string[] {
  const anchors = ca !== undefined ? readCaFile(ca) : TrustStore.load(pkiPaths(dataDirOf(config))).anchors.map(c => c.toString())
  if (anchors.length === 0) console.error('warning: no trusted CA (no --ca and an empty trust store): certificate chains are checked for consistency only')
  return anchors
}

/**
 * Prints a whole-chain verification as `ura log verify` and `ura audit verify` do — one line when
 * sound, else the first bad record (`which` names it further) and its problems — and returns the
 * exit code: 0 sound, 1 not.
 */
export function reportVerdict (what: string, verdict: { ok: boolean; records: number; signatures: number; firstBad?: { seq: number; problems: string[] } }, which: string): number {
  if (verdict.ok) {
    console.log(`${what} verified: ${verdict.records} records, ${verdict.signatures} batch signatures, hash chain intact`)
    return 0
  }
  const bad = verdict.firstBad!
  console.error(`${what} FAILED at record ${bad.seq}${which}, after ${verdict.records} good records:`)
  for (const p of bad.problems) console.error(`  - ${p}`)
  return 1
}

/**
 * `ura log verify [--config <dir>] [--ca <ca.pem>] [--archive <dir> | --no-archive] [--quiet]` — exit
 * 0 when the whole log is sound, its archives (archive-verify.ts) and the live log; 1 at the first bad
 * record; 2 when the configuration or the archive directory cannot be read. Progress goes to stderr unless `--quiet`.
 */
export async function logVerify (values: { config?: string; ca?: string; quiet?: boolean; archive?: string | false }): Promise<number> {
  // The verification threads load their modules while this one reads the configuration and opens the log.
  const workers = VerifyWorkers.start()
  try {
    const config = await configFrom(values.config)
    if (config === undefined) return 2
    let files: ArchiveFile[]
    try {
      files = archivesToRead(config, values.archive)
    } catch (err) {
      return archiveRefusal(err)
    }
    const anchors = trustedCas(config, values.ca)
    const store = await openLogForVerifying(config)
    try {
      const progress = values.quiet === true ? undefined : progressReporter({ total: await recordsToVerifyAcross(store, files) })
      const verdict = await verifySpan(store, files, anchors.length === 0 ? {} : { trust: anchorsOnly(anchors) }, { workers, ...(progress === undefined ? {} : { onProgress: n => { progress.add(n) } }) })
      progress?.done()
      const bad = verdict.firstBad
      const pieces = files.length === 0 ? '' : `: ${files.length} archive${files.length === 1 ? '' : 's'} and the live log`
      const where = `${bad?.messageId === undefined ? '' : ` (message ${bad.messageId})`}${verdict.badIn === undefined ? '' : ` in archive ${verdict.badIn}`}`
      const code = reportVerdict(`message log (${store.kind}${pieces})`, verdict, where)
      for (const note of verdict.notes) console.log(`  note: ${note}`)
      if (verdict.ok && verdict.awaiting !== undefined) console.log(`  note: ${verdict.awaiting} of them await their batch signature (deferred signing): chained and checked, signed within node.log.signWithinMs of their batch opening, or when the node next starts`)
      return code
    } finally {
      await store.close()
    }
  } finally {
    await workers.close()
  }
}

/** `ura log prune [--config <dir>] [--days <n>]` — removes records older than the retention period. */
export async function logPrune (values: { config?: string; days?: number }): Promise<number> {
  const config = await configFrom(values.config)
  if (config === undefined) return 2
  const days = values.days ?? config.node.log.retentionDays
  if (days === 0) { console.log('retention is 0 (keep everything): nothing pruned'); return 0 }
  const store = await openLogStore(config)
  try {
    const removed = await store.prune(new Date(Date.now() - days * 24 * 60 * 60 * 1000))
    console.log(`pruned ${removed} records older than ${days} days from the ${store.kind} message log`)
    return 0
  } finally {
    await store.close()
  }
}

/** `ura verify <evidence.json> --ca <ca.pem>` — offline: nothing but the file and the CA certificate. */
export async function verifyEvidenceFile (file: string, values: { ca: string }): Promise<number> {
  let doc: unknown
  let anchors: string[]
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'))
    anchors = readCaFile(values.ca)
    anchors.forEach(pem => new X509Certificate(pem))
  } catch (err) {
    console.error(`cannot read input: ${(err as Error).message}`)
    return 2
  }
  const verdict = verifyEvidence(doc, anchorsOnly(anchors))
  if (verdict.ok) {
    console.log(`evidence verified: ${file}`)
    for (const line of verdict.verified) console.log(`  ${line}`)
    return 0
  }
  console.error(`evidence INVALID: ${file}`)
  for (const p of verdict.problems) console.error(`  - ${p}`)
  return 1
}
