/**
 * The signature algorithms of batch signatures, chosen from the key so an institution can hold an
 * RSA or an ECDSA e-seal key:
 * - RSA (2048 bits or more): RSASSA-PSS with SHA-512, MGF1-SHA-512 and a 64-byte salt. PSS has a
 *   security proof PKCS#1 v1.5 lacks and is what current ETSI/eIDAS profiles recommend for new seals.
 * - ECDSA P-256 with SHA-256 (P-384 with SHA-384), signature DER-encoded: the encoding X.509, CMS and
 *   XAdES use, so `openssl dgst -verify` checks it without conversion.
 * The algorithm name is part of the signed batch header, and a verifier only accepts it with a key of
 * the matching type, so nobody can re-label a signature.
 */
import { constants, sign, verify, type KeyObject } from 'node:crypto'

export type SignatureAlgorithm = 'RSASSA-PSS-SHA512' | 'ECDSA-P256-SHA256' | 'ECDSA-P384-SHA384'

interface AlgorithmSpec {
  digest: string
  keyType: string
  curve?: string
  options: { padding?: number; saltLength?: number; dsaEncoding?: 'der' }
}

const SPECS: Record<SignatureAlgorithm, AlgorithmSpec> = {
  'RSASSA-PSS-SHA512': { digest: 'sha512', keyType: 'rsa', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 } },
  'ECDSA-P256-SHA256': { digest: 'sha256', keyType: 'ec', curve: 'prime256v1', options: { dsaEncoding: 'der' } },
  'ECDSA-P384-SHA384': { digest: 'sha384', keyType: 'ec', curve: 'secp384r1', options: { dsaEncoding: 'der' } },
}

export function isSignatureAlgorithm (name: unknown): name is SignatureAlgorithm {
  return typeof name === 'string' && Object.hasOwn(SPECS, name)
}

/** Keys' algorithms, worked out once per key object (reading a key's details builds a new object each time). */
const algorithms = new WeakMap<KeyObject, SignatureAlgorithm>()

/** The algorithm this node uses with `key` (private or public); throws for key types it does not accept. */
export function algorithmFor (key: KeyObject): SignatureAlgorithm {
  let alg = algorithms.get(key)
  if (alg === undefined) {
    alg = keyAlgorithm(key)
    algorithms.set(key, alg)
  }
  return alg
}

function keyAlgorithm (key: KeyObject): SignatureAlgorithm {
  const type = key.asymmetricKeyType
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
    if (bits < 2048) throw new Error(`RSA signing keys must have at least 2048 bits (this one has ${bits})`)
    return 'RSASSA-PSS-SHA512'
  }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve
    if (curve === 'prime256v1') return 'ECDSA-P256-SHA256'
    if (curve === 'secp384r1') return 'ECDSA-P384-SHA384'
    throw new Error(`unsupported EC curve for signing: ${curve}`)
  }
  throw new Error(`unsupported signing key type: ${type}`)
}

/**
 * The key as `sign` takes it: ECDSA's DER encoding is Node's default, so the bare key object, which
 * skips preparing a key from options (≈ 10 of a P-256 signature's 31 µs here); RSA needs its padding.
 */
function signingKey (spec: AlgorithmSpec, key: KeyObject): KeyObject | { key: KeyObject } {
  return spec.keyType === 'ec' ? key : { key, ...spec.options }
}

/** Signs on libuv's thread pool, so RSA signing does not stall the event loop. */
export function signAsync (alg: SignatureAlgorithm, data: Buffer, key: KeyObject): Promise<Buffer> {
  const spec = SPECS[alg]
  return new Promise((resolve, reject) => {
    sign(spec.digest, data, signingKey(spec, key), (err, signature) => { err === null ? resolve(signature) : reject(err) })
  })
}

/**
 * Signs in the calling thread. For a thread that has nothing else to do meanwhile (the log's writer)
 * and a cheap key (ECDSA, ≈ 40 µs), this beats the thread pool: a pool round trip waits for a free
 * pool thread and for the caller's event loop to pick the answer up, often longer than the signature.
 */
export function signHere (alg: SignatureAlgorithm, data: Buffer, key: KeyObject): Buffer {
  const spec = SPECS[alg]
  return sign(spec.digest, data, signingKey(spec, key))
}

/** True when `signature` is a valid `alg` signature of `data` by `publicKey`, a key already known to suit `alg` (algorithmFor(key) === alg, checked once per certificate by the verifier). */
export function verifySignatureWithSuitedKey (alg: SignatureAlgorithm, data: Buffer, signature: Buffer, publicKey: KeyObject): boolean {
  const spec = SPECS[alg]
  try {
    // ECDSA's DER encoding is Node's default: the bare key object skips preparing a key from options (≈ 15 % of a P-256 verification).
    return verify(spec.digest, data, spec.keyType === 'ec' ? publicKey : { key: publicKey, ...spec.options }, signature)
  } catch {
    return false
  }
}
