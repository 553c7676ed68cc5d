/**
 * Offline verification of a batch signature: the signature over the batch header, made by the key of
 * the chain's leaf certificate, which must be a signing (e-seal) certificate issued to the member the
 * header names (subject serialNumber = member id), chain to a trusted CA and be valid at the signing
 * time. Needs nothing but the signature block and the CA certificates.
 *
 * Revocation is checked when signing (see keystore-signer.ts), not here: a certificate revoked after a
 * batch was signed does not void that batch, and an offline verifier has no revocation list.
 */
import { X509Certificate, type KeyObject } from 'node:crypto'
import type { BatchHeader, BatchSignature } from './batch-signer.ts'
import { identityOf } from './pki.ts'
import { algorithmFor, isSignatureAlgorithm, verifySignatureWithSuitedKey, type SignatureAlgorithm } from './signature.ts'
import { isTrustFailure, oneLine, TrustStore, type CertificatePath, type TrustFailure } from './trust-store.ts'

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
  return new BatchVerifier(opts).verify(sig)
}

/** What is learnt once of a certificate chain, however many batches it signed. */
interface ChainFacts {
  chain: X509Certificate[]
  key: KeyObject
  /** The one algorithm the key suits (undefined: none ura knows). */
  keyAlg: SignatureAlgorithm | undefined
  holder: string | undefined
  /** The path to a trusted CA (or why there is none), once asked. */
  path?: CertificatePath | TrustFailure
  /** Without trust: the first certificate not issued by the next one (-1: none), once asked. */
  misissued?: number
}

/**
 * Verifies batch signatures, parsing and path-building each certificate chain once: a log holds
 * thousands of batches signed by a handful of member certificates. The checks and their messages are
 * verifyBatchSignature's; only the signature itself and the validity at each signing time are per batch.
 */
export class BatchVerifier {
  private readonly opts: VerifyOptions
  /**
   * Facts by the chain's leaf certificate, then the whole chain. Not by the chain's joined text: the
   * stores hand out the same PEM strings again, whose hash V8 keeps, while a joined text is new
   * each time and hashed in full.
   */
  private readonly chains = new Map<string, Array<{ pems: string[]; facts: ChainFacts | SignatureInvalid }>>()
  constructor (opts: VerifyOptions = {}) { this.opts = opts }

  private facts (pems: string[]): ChainFacts {
    let known = this.chains.get(pems[0])
    if (known === undefined) { known = []; this.chains.set(pems[0], known) }
    let facts = known.find(k => k.pems.length === pems.length && k.pems.every((pem, i) => pem === pems[i]))?.facts
    if (facts === undefined) {
      try {
        const chain = pems.map(pem => new X509Certificate(pem))
        const key = chain[0].publicKey
        let keyAlg: SignatureAlgorithm | undefined
        try { keyAlg = algorithmFor(key) } catch { keyAlg = undefined }
        facts = { chain, key, keyAlg, holder: identityOf(chain[0]) }
      } catch {
        facts = new SignatureInvalid('a certificate in the chain cannot be parsed')
      }
      known.push({ pems: [...pems], facts })
    }
    if (facts instanceof SignatureInvalid) throw facts
    return facts
  }

  verify (sig: BatchSignature): BatchHeader {
    const header = parseBatchHeader(sig.header)
    if (!Array.isArray(sig.chain) || sig.chain.length === 0) throw new SignatureInvalid('the signature carries no certificate chain')
    const facts = this.facts(sig.chain)
    const { chain } = facts
    const leaf = chain[0]
    if (facts.keyAlg !== header.alg || !verifySignatureWithSuitedKey(header.alg, Buffer.from(sig.header, 'utf8'), Buffer.from(sig.value, 'base64'), facts.key)) {
      throw new SignatureInvalid(`the ${header.alg} signature does not verify with the certificate's key`)
    }
    if (facts.holder !== header.signer) {
      throw new SignatureInvalid(`the signing certificate (${oneLine(leaf.subject)}) is issued to ${facts.holder ?? 'nobody ura knows'}, not to ${header.signer}`)
    }
    const at = Date.parse(header.time)
    const trust = this.opts.trust
    if (trust !== undefined) {
      facts.path ??= trust.path(leaf, chain.slice(1))
      const failure = isTrustFailure(facts.path) ? facts.path : trust.status(facts.path, 'signing', at)
      if (failure !== undefined) throw new SignatureInvalid(`certificate at the signing time ${header.time}: ${failure.message}`)
      return header
    }
    // No CA given: the chain must at least be internally consistent and valid at the signing time.
    for (const cert of chain) {
      if (at < cert.validFromDate.getTime() || at > cert.validToDate.getTime()) {
        throw new SignatureInvalid(`certificate ${oneLine(cert.subject)} was not valid at the signing time ${header.time}`)
      }
    }
    facts.misissued ??= chain.findIndex((cert, i) => i + 1 < chain.length && (!cert.checkIssued(chain[i + 1]) || !cert.verify(chain[i + 1].publicKey)))
    if (facts.misissued >= 0) throw new SignatureInvalid(`certificate ${facts.misissued} of the chain is not issued by certificate ${facts.misissued + 1}`)
    return header
  }
}
