/**
 * The `Issue` function approval and certificate issuing take, made from a certificate authority
 * (the node's CA from its keystore, or any CA a test makes): it signs a CSR with ura's profiles
 * (`tls-client` for a system, `signing` for a member's e-seal), the subject and key coming from the
 * verified request.
 */
import { issueFromCsr, type CertificateAuthority } from '../../certs/pki.ts'
import type { Issue } from './certificates.ts'

export function caIssuer (ca: CertificateAuthority, options: { days?: number } = {}): Issue {
  const days = options.days ?? 365
  return (csrPem, profile) => issueFromCsr(ca, csrPem, { profile, days })
}
