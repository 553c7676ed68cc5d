/** `ura audit verify`: checking the audit trail of admin actions offline, as `ura log verify` checks the message log. */
import { anchorsOnly } from '../certs/verifier.ts'
import { openAuditStore, verifyAudit } from '../messagelog/audit/index.ts'
import { configFrom, trustedCas } from './log.ts'

/** `ura audit verify [--config <dir>] [--ca <ca.pem>]` — exit 0 when the whole trail is sound, 1 at the first bad record. */
export async function auditVerify (values: { config?: string; ca?: string }): Promise<number> {
  const config = await configFrom(values.config)
  if (config === undefined) return 2
  const anchors = trustedCas(config, values.ca)
  const store = await openAuditStore(config)
  try {
    const verdict = await verifyAudit(store, anchors.length === 0 ? {} : { trust: anchorsOnly(anchors) })
    if (verdict.ok) {
      console.log(`audit trail (${store.kind}) verified: ${verdict.records} records, ${verdict.signatures} batch signatures, hash chain intact`)
      return 0
    }
    const bad = verdict.firstBad!
    const r = bad.record
    console.error(`audit trail (${store.kind}) FAILED at record ${bad.seq}${r === undefined ? '' : ` (${r.action} by ${r.operator}, request ${r.requestId})`}, after ${verdict.records} good records:`)
    for (const p of bad.problems) console.error(`  - ${p}`)
    return 1
  } finally {
    await store.close()
  }
}
