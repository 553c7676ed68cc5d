/** `ura audit verify`: checking the audit trail of admin actions offline, as `ura log verify` checks the message log. */
import { anchorsOnly } from '../certs/verifier.ts'
import { openAuditStore, verifyAudit } from '../messagelog/audit/index.ts'
import { configFrom, reportVerdict, trustedCas } from './log.ts'

/** `ura audit verify [--config <dir>] [--ca <ca.pem>]` — exit 0 when the whole trail is sound, 1 at the first bad record. */
export async function auditVerify (values: { config?: string; ca?: string }): Promise<number> {
  const config = await configFrom(values.config)
  if (config === undefined) return 2
  const anchors = trustedCas(config, values.ca)
  const store = await openAuditStore(config)
  try {
    const verdict = await verifyAudit(store, anchors.length === 0 ? {} : { trust: anchorsOnly(anchors) })
    const r = verdict.firstBad?.record
    return reportVerdict(`audit trail (${store.kind})`, verdict, r === undefined ? '' : ` (${r.action} by ${r.operator}, request ${r.requestId})`)
  } finally {
    await store.close()
  }
}
