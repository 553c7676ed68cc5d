/**
 * What a registration officer needs to see of each CSR in an application before approving it: its
 * subject and key type, and each check onboarding makes of it (admin/onboarding/application.ts) —
 * the request parses and its self-signature verifies, the subject's serialNumber and CN both name
 * the id the certificate will carry, and no other CSR of the application carries the same key. The
 * results are shown with the page; the API still decides at approval.
 */
import { keyTypeOf, readCsr, type Subject } from '../../../certs/pki.ts'

export type CheckName = 'signature' | 'serialNumber' | 'cn' | 'uniqueKey'

export interface CsrCheck { name: CheckName; ok: boolean; detail?: string }

export interface CsrReport {
  /** Which CSR: `systems[0]` or `sealCsr`. */
  field: string
  /** The id the certificate will carry. */
  expected: string
  subject?: string
  keyType?: string
  checks: CsrCheck[]
}

const subjectText = (s: Subject): string => (['C', 'O', 'OU', 'serialNumber', 'CN'] as const).filter(k => s[k] !== undefined).map(k => `${k}=${s[k]!}`).join(', ')

/** Checks each CSR against the id it must name, and all of them for shared keys. */
export function checkCsrs (csrs: Array<{ field: string; pem: string; expected: string }>): CsrReport[] {
  const keys = new Map<string, string>()
  return csrs.map(({ field, pem, expected }) => {
    let csr
    try {
      csr = readCsr(pem)
    } catch (err) {
      return { field, expected, checks: [{ name: 'signature', ok: false, detail: (err as Error).message }] }
    }
    const spki = csr.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')
    const other = keys.get(spki)
    if (other === undefined) keys.set(spki, field)
    const { serialNumber, CN } = csr.subject
    return {
      field,
      expected,
      subject: subjectText(csr.subject),
      keyType: keyTypeOf(csr.publicKey),
      checks: [
        { name: 'signature', ok: true },
        { name: 'serialNumber', ok: serialNumber === expected, ...(serialNumber === expected ? {} : { detail: serialNumber ?? '—' }) },
        { name: 'cn', ok: CN === expected, ...(CN === expected ? {} : { detail: CN }) },
        { name: 'uniqueKey', ok: other === undefined, ...(other === undefined ? {} : { detail: other }) },
      ],
    }
  })
}
