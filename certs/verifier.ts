/**
 * Offline verification of a batch signature: the signature over the batch header, made by the key of
 * the chain's leaf certificate, which must be a signing (e-seal) certificate issued to the member the
 * header names (subject serialNumber = member id), chain to a trusted CA and be valid at the signing
 * time. Needs nothing but the signature block and the CA certificates.
 *
 * Revocation is checked when signing (see keystore-signer.ts), not here: a certificate revoked after a
 * batch was signed does not void that batch, and an offline verifier has no revocation list.
 */
import { X509Certificate } from 'node:crypto'
import type { BatchHeader, BatchSignature } from './batch-signer.ts'
import { identityOf } from './pki.ts'
import { isSignatureAlgorithm, verifySignature } from './signature.ts'
import { oneLine, TrustStore } from './trust-store.ts'

export class SignatureInvalid extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'SignatureInvalid'
  }
}

/** Parses and checks the header's shape; throws SignatureInvalid. */
export function parseBatchHeader (text: string): BatchHeader {
  let h: Partial<BatchHeader>
  try {
    h = JSON.parse(text) as Partial<BatchHeader>
  } catch {
    throw new SignatureInvalid('batch header is not JSON')
  }
  if (h === null || typeof h !== 'object' || h.format !== 'ura-batch/1') throw new SignatureInvalid('batch header has an unknown format')
  if (!isSignatureAlgorithm(h.alg)) throw new SignatureInvalid(`unknown signature algorithm ${String(h.alg)}`)
  if (typeof h.signer !== 'string' || typeof h.root !== 'string' || typeof h.time !== 'string' || Number.isNaN(Date.parse(h.time))) {
    throw new SignatureInvalid('batch header lacks signer, root or time')
  }
  return h as BatchHeader
}

export interface VerifyOptions {
  /** The CAs to trust (see anchorsOnly). Without it the chain is checked for consistency only — say so to the user. */
  trust?: TrustStore
}

/** A trust store of the given CA certificates alone, with no revocation list (see above). */
export function anchorsOnly (pems: string[]): TrustStore {
  return new TrustStore(pems.map(pem => new X509Certificate(pem)))
}

/** Verifies one batch signature; returns the header it signs. Throws SignatureInvalid naming the problem. */
export function verifyBatchSignature (sig: BatchSignature, opts: VerifyOptions = {}): BatchHeader {
  const header = parseBatchHeader(sig.header)
  if (!Array.isArray(sig.chain) || sig.chain.length === 0) throw new SignatureInvalid('the signature carries no certificate chain')
  let chain: X509Certificate[]
  try {
    chain = sig.chain.map(pem => new X509Certificate(pem))
  } catch {
    throw new SignatureInvalid('a certificate in the chain cannot be parsed')
  }
  const leaf = chain[0]
  if (!verifySignature(header.alg, Buffer.from(sig.header, 'utf8'), Buffer.from(sig.value, 'base64'), leaf.publicKey)) {
    throw new SignatureInvalid(`the ${header.alg} signature does not verify with the certificate's key`)
  }
  const holder = identityOf(leaf)
  if (holder !== header.signer) {
    throw new SignatureInvalid(`the signing certificate (${oneLine(leaf.subject)}) is issued to ${holder ?? 'nobody ura knows'}, not to ${header.signer}`)
  }
  const at = Date.parse(header.time)
  if (opts.trust !== undefined) {
    const verdict = opts.trust.verify(leaf, { intermediates: chain.slice(1), usage: 'signing', at })
    if (!verdict.ok) throw new SignatureInvalid(`certificate at the signing time ${header.time}: ${verdict.message}`)
    return header
  }
  // No CA given: the chain must at least be internally consistent and valid at the signing time.
  for (const cert of chain) {
    if (at < cert.validFromDate.getTime() || at > cert.validToDate.getTime()) {
      throw new SignatureInvalid(`certificate ${oneLine(cert.subject)} was not valid at the signing time ${header.time}`)
    }
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i].checkIssued(chain[i + 1]) || !chain[i].verify(chain[i + 1].publicKey)) {
      throw new SignatureInvalid(`certificate ${i} of the chain is not issued by certificate ${i + 1}`)
    }
  }
  return header
}
