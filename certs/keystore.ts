/**
 * The node's keys and certificates on disk, at fixed paths under `<dataDir>/pki/`:
 *
 *   ca/ca.cert.pem, ca/ca.key.pem             the dev root CA (made by `ura init`)
 *   trust/*.pem                               accepted CA certificates (the trust store)
 *   revoked.json                              revoked serials (see revocation.ts)
 *   issued/<SERIAL>.pem                       every certificate this CA issued (for `ura cert list`)
 *   node/tls.cert.pem, node/tls.key.pem       the node's HTTPS server certificate (chain: cert + CA)
 *   members/<id>/sign.cert.pem, sign.key.pem  a member's signing (e-seal) certificate chain and key
 *   clients/<id>/tls.cert.pem, tls.key.pem    a client system's TLS certificate chain and key
 *
 * `<id>` is the X-Road identifier with `/` replaced by `_` (`AL-DEV_GOV_L01417001D`); `_` is not allowed
 * in identifier parts, so the mapping cannot collide. Certificate files hold the chain, leaf first.
 *
 * Every private key is stored as encrypted PKCS#8 (PBES2, AES-256-CBC) under the passphrase in the
 * environment variable `URA_KEY_PASSPHRASE`. When it is unset, a fixed development passphrase is
 * used and a warning is printed: fine for the demo, never for a real node.
 *
 * Keys are decrypted into `node:crypto` KeyObjects once and cached by the Keystore.
 *
 * For signing exchanges (DESIGN §7), use
 *
 *   const keystore = new Keystore(dataDir)
 *   const id = keystore.signingIdentity('AL-DEV/GOV/L01417001D')
 *   // id.key: KeyObject (private), id.certificate: X509Certificate,
 *   // id.chainPem: [leaf PEM, CA PEM], id.algorithm: 'ecdsa' | 'rsa', id.hash: 'sha256'
 *   crypto.sign(id.hash, data, id.key)   // ECDSA signatures come out DER-encoded
 *
 * which throws KeystoreError when the member has no signing key (run `ura init`, or issue one).
 */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { splitPemCertificates, signatureAlgorithm, type CertificateAuthority } from './pki.ts'

export const PASSPHRASE_ENV = 'URA_KEY_PASSPHRASE'
/** Development only: printed in the README so the demo works without setup. */
export const DEV_PASSPHRASE = 'ura-dev-passphrase'

export class KeystoreError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'KeystoreError'
  }
}

let warned = false

/** The key passphrase from the environment, or the development default with a warning (once per process). */
export function keyPassphrase (warn: (message: string) => void = m => { console.error(`ura: warning: ${m}`) }): string {
  const value = process.env[PASSPHRASE_ENV]
  if (value !== undefined && value !== '') return value
  if (!warned) {
    warned = true
    warn(`${PASSPHRASE_ENV} is not set: private keys are protected by the development passphrase. Set it on any real node.`)
  }
  return DEV_PASSPHRASE
}

export function idToFileName (id: string): string {
  return id.replaceAll('/', '_')
}

export interface PkiPaths {
  root: string
  caCert: string
  caKey: string
  trustDir: string
  revoked: string
  issuedDir: string
  nodeCert: string
  nodeKey: string
  member (memberId: string): { cert: string; key: string }
  client (clientId: string): { cert: string; key: string }
}

export function pkiPaths (dataDir: string): PkiPaths {
  const root = resolve(dataDir, 'pki')
  return {
    root,
    caCert: join(root, 'ca', 'ca.cert.pem'),
    caKey: join(root, 'ca', 'ca.key.pem'),
    trustDir: join(root, 'trust'),
    revoked: join(root, 'revoked.json'),
    issuedDir: join(root, 'issued'),
    nodeCert: join(root, 'node', 'tls.cert.pem'),
    nodeKey: join(root, 'node', 'tls.key.pem'),
    member: id => ({ cert: join(root, 'members', idToFileName(id), 'sign.cert.pem'), key: join(root, 'members', idToFileName(id), 'sign.key.pem') }),
    client: id => ({ cert: join(root, 'clients', idToFileName(id), 'tls.cert.pem'), key: join(root, 'clients', idToFileName(id), 'tls.key.pem') }),
  }
}

/** Writes a file atomically (temp + rename) with the given mode, creating its directory. */
export function writeFileAtomic (path: string, data: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, data, { mode })
  renameSync(tmp, path)
}

export function encryptPrivateKey (key: KeyObject, passphrase: string): string {
  return key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }) as string
}

export function writePrivateKey (path: string, key: KeyObject, passphrase: string): void {
  writeFileAtomic(path, encryptPrivateKey(key, passphrase), 0o600)
}

export function readPrivateKey (path: string, passphrase: string): KeyObject {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new KeystoreError(`cannot read private key ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  if (!text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) {
    throw new KeystoreError(`${path} is not an encrypted private key: ura keeps keys encrypted under ${PASSPHRASE_ENV}`)
  }
  try {
    return createPrivateKey({ key: text, format: 'pem', passphrase })
  } catch {
    throw new KeystoreError(`cannot decrypt ${path}: wrong passphrase? (${PASSPHRASE_ENV})`)
  }
}

/** Reads a PEM file holding one or more certificates (leaf first). */
export function readCertificates (path: string): X509Certificate[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new KeystoreError(`cannot read certificate ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const pems = splitPemCertificates(text)
  if (pems.length === 0) throw new KeystoreError(`${path} holds no certificate`)
  return pems.map(p => new X509Certificate(p))
}

/** A member's e-seal: everything a signer needs, ready to use. */
export interface SigningIdentity {
  memberId: string
  /** Private key, decrypted once. */
  key: KeyObject
  certificate: X509Certificate
  /** Certificate chain as PEM strings, leaf first, ending with the CA certificate. */
  chainPem: string[]
  algorithm: 'ecdsa' | 'rsa'
  hash: 'sha256'
}

export interface NodeTlsMaterial {
  key: KeyObject
  /** The node certificate followed by its CA: what the server sends in the handshake. */
  certChainPem: string
  certificate: X509Certificate
}

export class Keystore {
  readonly dataDir: string
  readonly paths: PkiPaths
  private passphraseValue: string | undefined
  private readonly keys = new Map<string, KeyObject>()
  private readonly identities = new Map<string, SigningIdentity>()

  constructor (dataDir: string, opts: { passphrase?: string } = {}) {
    this.dataDir = resolve(dataDir)
    this.paths = pkiPaths(this.dataDir)
    this.passphraseValue = opts.passphrase
  }

  /** Read from the environment on first use, so commands that touch no key never ask for it. */
  private get passphrase (): string {
    this.passphraseValue ??= keyPassphrase()
    return this.passphraseValue
  }

  /** Decrypts a key file once; later calls return the same KeyObject. */
  privateKey (path: string): KeyObject {
    let key = this.keys.get(path)
    if (key === undefined) {
      key = readPrivateKey(path, this.passphrase)
      this.keys.set(path, key)
    }
    return key
  }

  savePrivateKey (path: string, key: KeyObject): void {
    writePrivateKey(path, key, this.passphrase)
    this.keys.set(path, key)
  }

  hasCa (): boolean {
    return existsSync(this.paths.caCert) && existsSync(this.paths.caKey)
  }

  ca (): CertificateAuthority {
    if (!this.hasCa()) throw new KeystoreError(`no CA in ${this.paths.root}: run 'ura init'`)
    const pem = readFileSync(this.paths.caCert, 'utf8')
    return { key: this.privateKey(this.paths.caKey), certificate: new X509Certificate(pem), pem }
  }

  /**
   * The signing key and certificate chain of a member (`AL-DEV/GOV/L01417001D`), loaded and checked
   * once (the key must belong to the certificate), then served from memory.
   */
  signingIdentity (memberId: string): SigningIdentity {
    const cached = this.identities.get(memberId)
    if (cached !== undefined) return cached
    const files = this.paths.member(memberId)
    if (!existsSync(files.cert) || !existsSync(files.key)) throw new KeystoreError(`member ${memberId} has no signing key and certificate in ${dirname(files.cert)}: run 'ura init' or issue one`)
    const chain = readCertificates(files.cert)
    const key = this.privateKey(files.key)
    if (!chain[0].publicKey.equals(createPublicKey(key))) throw new KeystoreError(`${files.key} does not belong to the certificate ${files.cert}`)
    signatureAlgorithm(key) // refuses key types ura does not sign with
    const identity: SigningIdentity = {
      memberId,
      key,
      certificate: chain[0],
      chainPem: chain.map(c => c.toString()),
      algorithm: key.asymmetricKeyType === 'ec' ? 'ecdsa' : 'rsa',
      hash: 'sha256',
    }
    this.identities.set(memberId, identity)
    return identity
  }

  /** Members that have a signing certificate on this node. */
  signingMembers (): string[] {
    const dir = join(this.paths.root, 'members')
    if (!existsSync(dir)) return []
    return readdirSync(dir).filter(n => existsSync(join(dir, n, 'sign.cert.pem'))).map(n => n.replaceAll('_', '/'))
  }

  hasNodeTls (): boolean {
    return existsSync(this.paths.nodeCert) && existsSync(this.paths.nodeKey)
  }

  nodeTls (): NodeTlsMaterial {
    if (!this.hasNodeTls()) throw new KeystoreError(`no node TLS certificate in ${dirname(this.paths.nodeCert)}: run 'ura init'`)
    const chain = readCertificates(this.paths.nodeCert)
    return { key: this.privateKey(this.paths.nodeKey), certChainPem: chain.map(c => c.toString()).join(''), certificate: chain[0] }
  }
}

/** Keeps a copy of every certificate the CA issues, so `ura cert list` and `ura cert revoke <serial>` find it. */
export function recordIssued (paths: PkiPaths, certPem: string): void {
  const serial = new X509Certificate(certPem).serialNumber.toUpperCase().replace(/^0+(?=.)/, '')
  writeFileAtomic(join(paths.issuedDir, `${serial}.pem`), certPem)
}

/** The certificates in the issued ledger. */
export function issuedCertificates (paths: PkiPaths): X509Certificate[] {
  if (!existsSync(paths.issuedDir)) return []
  return readdirSync(paths.issuedDir).filter(n => n.endsWith('.pem')).sort().map(n => new X509Certificate(readFileSync(join(paths.issuedDir, n), 'utf8')))
}
