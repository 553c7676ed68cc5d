/**
 * The certificate authority side of ura's PKI: keys, X.509 certificates and PKCS#10 requests.
 *
 * node-forge builds (and reads) the ASN.1 structures; every key generation, signature and hash is
 * done by `node:crypto` with KeyObjects, so forge's slow pure-JS RSA never runs and ECDSA P-256
 * (which forge cannot sign with) works the same as RSA. Certificates are parsed with node's
 * `X509Certificate`; names inside them are read with forge's ASN.1 reader.
 *
 * Profiles (what a certificate may be used for):
 * - `ca`         root CA: basicConstraints CA, keyCertSign + cRLSign
 * - `signing`    a member's e-seal: digitalSignature + nonRepudiation; subject serialNumber = member id
 * - `tls-client` a client system (subsystem): extKeyUsage clientAuth; subject serialNumber = subsystem id
 * - `tls-server` the node itself: extKeyUsage serverAuth, subjectAltName DNS names and IP addresses
 *
 * The X-Road identifier of the holder (`AL-DEV/GOV/L01417001D` or `AL-DEV/NJQV/L21603004L/taksat-vendore`)
 * is carried in the subject's serialNumber attribute (2.5.4.5) and repeated in CN for readability;
 * `identityOf()` reads it back.
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, X509Certificate, type KeyObject } from 'node:crypto'
import { isIP } from 'node:net'
import forge from 'node-forge'

const { asn1 } = forge

type Asn1 = forge.asn1.Asn1

/** Parts of node-forge's API that its type declarations leave out. */
const forgePki = forge.pki as typeof forge.pki & {
  RDNAttributesAsArray (rdn: Asn1): Array<{ type: string; value: string; valueTagClass: number }>
  certificateExtensionsToAsn1 (extensions: unknown[]): Asn1
}
const fromDer = asn1.fromDer as unknown as (bytes: forge.util.ByteStringBuffer, options: { strict: boolean; parseAllBytes: boolean; decodeBitStrings: boolean }) => Asn1

export type KeyType = 'ec-p256' | 'rsa-2048' | 'rsa-3072'
export const KEY_TYPES: readonly KeyType[] = ['ec-p256', 'rsa-2048', 'rsa-3072']

export type Profile = 'ca' | 'signing' | 'tls-client' | 'tls-server'
export const PROFILES: readonly Profile[] = ['ca', 'signing', 'tls-client', 'tls-server']

export const OID = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
} as const

/** A failure of the PKI itself (bad CSR, unusable key): shown to the operator as is. */
export class PkiError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'PkiError'
  }
}

/** The subject fields ura uses. `serialNumber` holds the X-Road identifier of the holder. */
export interface Subject {
  CN: string
  O?: string
  OU?: string
  C?: string
  serialNumber?: string
}

export interface KeyPair {
  privateKey: KeyObject
  publicKey: KeyObject
}

export function generateKeyPair (type: KeyType = 'ec-p256'): KeyPair {
  switch (type) {
    case 'ec-p256': return generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    case 'rsa-2048': return generateKeyPairSync('rsa', { modulusLength: 2048 })
    case 'rsa-3072': return generateKeyPairSync('rsa', { modulusLength: 3072 })
  }
}

/** Which node:crypto digest and which X.509 AlgorithmIdentifier a key signs with. */
export function signatureAlgorithm (key: KeyObject): { hash: 'sha256'; oid: string; nullParams: boolean } {
  if (key.asymmetricKeyType === 'ec') {
    if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new PkiError(`unsupported EC curve ${key.asymmetricKeyDetails?.namedCurve}: use P-256`)
    // RFC 5758: ECDSA AlgorithmIdentifiers have no parameters at all.
    return { hash: 'sha256', oid: OID.ecdsaWithSha256, nullParams: false }
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
    if (bits < 2048) throw new PkiError(`RSA keys must have at least 2048 bits, this one has ${bits}`)
    return { hash: 'sha256', oid: OID.sha256WithRsa, nullParams: true }
  }
  throw new PkiError(`unsupported key type ${key.asymmetricKeyType}: use ECDSA P-256 or RSA 2048/3072`)
}

export function keyTypeOf (key: KeyObject): string {
  if (key.asymmetricKeyType === 'ec') return `ECDSA ${key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? 'P-256' : key.asymmetricKeyDetails?.namedCurve}`
  if (key.asymmetricKeyType === 'rsa') return `RSA-${key.asymmetricKeyDetails?.modulusLength}`
  return String(key.asymmetricKeyType)
}

// ---- ASN.1 helpers ---------------------------------------------------------------------------

const bin = (buf: Buffer): string => buf.toString('binary')
const fromBin = (s: string): Buffer => Buffer.from(s, 'binary')
const der = (node: Asn1): Buffer => fromBin(asn1.toDer(node).getBytes())
const parseDer = (buf: Buffer): Asn1 => fromDer(forge.util.createBuffer(bin(buf)), { strict: true, parseAllBytes: true, decodeBitStrings: false })

/** The raw DER of each element inside a SEQUENCE: signatures cover original bytes, never a re-encoding. */
function derChildren (buf: Buffer): Buffer[] {
  const header = (at: number): { start: number; end: number } => {
    let len = buf[at + 1]
    let start = at + 2
    if (len & 0x80) {
      const n = len & 0x7f
      len = 0
      for (let i = 0; i < n; i++) len = len * 256 + buf[at + 2 + i]
      start += n
    }
    return { start, end: start + len }
  }
  const outer = header(0)
  if (outer.end > buf.length) throw new PkiError('truncated DER')
  const out: Buffer[] = []
  for (let at = outer.start; at < outer.end;) {
    const h = header(at)
    if (h.end > outer.end) throw new PkiError('truncated DER')
    out.push(buf.subarray(at, h.end))
    at = h.end
  }
  return out
}

function seq (items: Asn1[]): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items)
}

function algorithmIdentifier (alg: { oid: string; nullParams: boolean }): Asn1 {
  const items = [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(alg.oid).getBytes())]
  if (alg.nullParams) items.push(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''))
  return seq(items)
}

/** CN, O, OU as UTF8String (institution names carry ë and ç); C and serialNumber as PrintableString. */
function nameToAsn1 (subject: Subject): Asn1 {
  const attrs: Array<{ type: string; value: string; valueTagClass: number }> = []
  const printable = (type: string, value: string): void => {
    if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value)) throw new PkiError(`'${value}' has characters a PrintableString cannot hold`)
    attrs.push({ type, value, valueTagClass: asn1.Type.PRINTABLESTRING })
  }
  const utf8 = (type: string, value: string): void => { attrs.push({ type, value, valueTagClass: asn1.Type.UTF8 }) }
  if (subject.C !== undefined) printable('2.5.4.6', subject.C)
  if (subject.O !== undefined) utf8('2.5.4.10', subject.O)
  if (subject.OU !== undefined) utf8('2.5.4.11', subject.OU)
  if (subject.serialNumber !== undefined) printable('2.5.4.5', subject.serialNumber)
  utf8('2.5.4.3', subject.CN)
  return forge.pki.distinguishedNameToAsn1({ attributes: attrs } as unknown as forge.pki.Certificate['subject'])
}

const NAME_FIELDS: Record<string, keyof Subject> = { '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.6': 'C', '2.5.4.5': 'serialNumber' }

function nameFromAsn1 (node: Asn1): Subject {
  const out: Partial<Subject> = {}
  for (const attr of forgePki.RDNAttributesAsArray(node)) {
    const field = NAME_FIELDS[attr.type]
    if (field === undefined) continue
    const raw = attr.value
    out[field] = attr.valueTagClass === asn1.Type.UTF8 ? forge.util.decodeUtf8(raw) : raw
  }
  return { CN: '', ...out }
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
function keyIdentifier (publicKey: KeyObject): Buffer {
  const spki = parseDer(publicKey.export({ type: 'spki', format: 'der' }))
  const bits = (spki.value as Asn1[])[1].value as string
  return createHash('sha1').update(fromBin(bits).subarray(1)).digest()
}

function randomSerial (): string {
  const bytes = randomBytes(16)
  bytes[0] = 0x10 + (bytes[0] % 0x70) // positive, no leading zero byte: prints the same everywhere
  return bytes.toString('hex').toUpperCase()
}

function timeAsn1 (date: Date): Asn1 {
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
  return date.getUTCFullYear() < 2050
    ? asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date))
}

function pem (label: string, body: Buffer): string {
  return `-----BEGIN ${label}-----\n${body.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`
}

function unpem (text: string, label: string): Buffer {
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(text)
  if (m === null) throw new PkiError(`no ${label} block in the PEM text`)
  return Buffer.from(m[1].replace(/\s+/g, ''), 'base64')
}

/** Splits a PEM bundle into its certificates, in order. */
export function splitPemCertificates (text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----\n?/g)?.map(s => s.endsWith('\n') ? s : s + '\n') ?? []
}

// ---- certificates ----------------------------------------------------------------------------

export interface CertificateAuthority {
  key: KeyObject
  certificate: X509Certificate
  pem: string
}

export interface IssueOptions {
  subject: Subject
  publicKey: KeyObject
  profile: Profile
  notBefore?: Date
  notAfter?: Date
  /** Defaults for notAfter when it is not given. */
  days?: number
  /** tls-server: host names and IP addresses the certificate is valid for. */
  hosts?: string[]
  serial?: string
}

const DAY = 24 * 60 * 60 * 1000

function extensionsFor (opts: IssueOptions, issuerKeyId: Buffer): Asn1 {
  const exts: any[] = []
  const rsa = opts.publicKey.asymmetricKeyType === 'rsa'
  switch (opts.profile) {
    case 'ca':
      exts.push({ name: 'basicConstraints', cA: true, critical: true })
      exts.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true })
      break
    case 'signing':
      exts.push({ name: 'basicConstraints', cA: false, critical: true })
      exts.push({ name: 'keyUsage', digitalSignature: true, nonRepudiation: true, critical: true })
      break
    case 'tls-client':
      exts.push({ name: 'basicConstraints', cA: false, critical: true })
      exts.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: rsa, critical: true })
      exts.push({ name: 'extKeyUsage', clientAuth: true })
      break
    case 'tls-server': {
      exts.push({ name: 'basicConstraints', cA: false, critical: true })
      exts.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: rsa, critical: true })
      exts.push({ name: 'extKeyUsage', serverAuth: true })
      const hosts = opts.hosts ?? ['localhost', '127.0.0.1', '::1']
      exts.push({ name: 'subjectAltName', altNames: hosts.map(h => isIP(h) !== 0 ? { type: 7, ip: h } : { type: 2, value: h }) })
      break
    }
  }
  const octets = (b: Buffer): Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bin(b))
  exts.push({ id: OID.subjectKeyIdentifier, value: octets(keyIdentifier(opts.publicKey)) })
  exts.push({ id: OID.authorityKeyIdentifier, value: seq([asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, bin(issuerKeyId))]) })
  // forge fills in the DER of the named extensions; the two key identifiers are given ready-made.
  const holder = forge.pki.createCertificate()
  holder.setExtensions(exts)
  return forgePki.certificateExtensionsToAsn1(holder.extensions)
}

/**
 * Builds and signs one certificate. `issuer` undefined = self-signed (the CA's own certificate,
 * signed with `signer`, which must then be the private key of `opts.publicKey`).
 */
function buildCertificate (opts: IssueOptions, signer: KeyObject, issuer: { subject: Asn1; keyId: Buffer } | undefined): string {
  const alg = signatureAlgorithm(signer)
  const notBefore = opts.notBefore ?? new Date(Date.now() - 5 * 60 * 1000) // tolerate small clock skew
  const notAfter = opts.notAfter ?? new Date(notBefore.getTime() + (opts.days ?? 365) * DAY)
  if (notAfter <= notBefore) throw new PkiError('notAfter must be after notBefore')
  const subjectName = nameToAsn1(opts.subject)
  const issuerName = issuer?.subject ?? subjectName
  const issuerKeyId = issuer?.keyId ?? keyIdentifier(opts.publicKey)
  const serial = opts.serial ?? randomSerial()
  const tbs = seq([
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(2).getBytes())]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, forge.util.hexToBytes(serial)),
    algorithmIdentifier(alg),
    issuerName,
    seq([timeAsn1(notBefore), timeAsn1(notAfter)]),
    subjectName,
    parseDer(opts.publicKey.export({ type: 'spki', format: 'der' })),
    extensionsFor(opts, issuerKeyId),
  ])
  const tbsDer = der(tbs)
  const signature = sign(alg.hash, tbsDer, signer)
  const cert = seq([tbs, algorithmIdentifier(alg), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\x00' + bin(signature))])
  return pem('CERTIFICATE', der(cert))
}

/** The issuer Name exactly as it appears in the CA certificate (copied, not re-encoded). */
function subjectNameOf (certificate: X509Certificate): Asn1 {
  const tbs = (parseDer(certificate.raw).value as Asn1[])[0].value as Asn1[]
  return tbs[5]
}

/** The subject fields of a certificate, read from its DER. */
export function subjectOf (certificate: X509Certificate): Subject {
  return nameFromAsn1(subjectNameOf(certificate))
}

/** The X-Road identifier a certificate was issued to (its subject serialNumber), if any. */
export function identityOf (certificate: X509Certificate): string | undefined {
  return subjectOf(certificate).serialNumber
}

export function createRootCa (opts: { subject?: Subject; keyType?: KeyType; days?: number; notBefore?: Date; notAfter?: Date } = {}): CertificateAuthority {
  const { privateKey, publicKey } = generateKeyPair(opts.keyType ?? 'ec-p256')
  const certPem = buildCertificate({
    subject: opts.subject ?? { C: 'AL', O: 'ura development', CN: 'ura development root CA' },
    publicKey,
    profile: 'ca',
    days: opts.days ?? 3650,
    ...(opts.notBefore === undefined ? {} : { notBefore: opts.notBefore }),
    ...(opts.notAfter === undefined ? {} : { notAfter: opts.notAfter }),
  }, privateKey, undefined)
  return { key: privateKey, certificate: new X509Certificate(certPem), pem: certPem }
}

/** Issues a certificate signed by `ca`. Returns the PEM of the new certificate alone. */
export function issueCertificate (ca: CertificateAuthority, opts: IssueOptions): string {
  if (opts.profile === 'ca') throw new PkiError('intermediate CAs are not issued by ura')
  if (!ca.certificate.ca) throw new PkiError('the issuing certificate is not a CA certificate')
  if (!ca.certificate.publicKey.equals(createPublicKey(ca.key))) throw new PkiError('the CA key does not belong to the CA certificate')
  const issued = buildCertificate(opts, ca.key, { subject: subjectNameOf(ca.certificate), keyId: keyIdentifier(ca.certificate.publicKey) })
  return issued
}

// ---- certification requests (PKCS#10) ----------------------------------------------------------

/** Makes a CSR for `subject`, signed with the requester's private key (proof of possession). */
export function createCsr (privateKey: KeyObject, subject: Subject): string {
  const alg = signatureAlgorithm(privateKey)
  const info = seq([
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(0).getBytes()),
    nameToAsn1(subject),
    parseDer(createPublicKey(privateKey).export({ type: 'spki', format: 'der' })),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, []),
  ])
  const signature = sign(alg.hash, der(info), privateKey)
  const csr = seq([info, algorithmIdentifier(alg), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\x00' + bin(signature))])
  return pem('CERTIFICATE REQUEST', der(csr))
}

export interface CertificationRequest {
  subject: Subject
  publicKey: KeyObject
}

/** Reads a CSR and checks its self-signature; throws PkiError if it is malformed or forged. */
export function readCsr (text: string): CertificationRequest {
  let infoDer: Buffer
  let fields: Asn1[]
  let signature: Buffer
  let algOid: string
  let publicKey: KeyObject
  try {
    const bytes = unpem(text, 'CERTIFICATE REQUEST')
    const top = parseDer(bytes).value as Asn1[]
    infoDer = derChildren(bytes)[0]
    fields = top[0].value as Asn1[]
    algOid = asn1.derToOid((top[1].value as Asn1[])[0].value as string)
    signature = fromBin(top[2].value as string).subarray(1)
    publicKey = createPublicKey({ key: derChildren(infoDer)[2], format: 'der', type: 'spki' })
  } catch (err) {
    if (err instanceof PkiError) throw err
    throw new PkiError(`not a PKCS#10 certificate request: ${(err as Error).message}`)
  }
  const alg = signatureAlgorithm(publicKey)
  if (alg.oid !== algOid) throw new PkiError(`the request's signature algorithm ${algOid} does not match its ${keyTypeOf(publicKey)} key`)
  if (!verify(alg.hash, infoDer, publicKey, signature)) throw new PkiError('the request signature does not verify: it was not made with the key it carries')
  return { subject: nameFromAsn1(fields[1]), publicKey }
}

/** Issues from a CSR: the subject and key come from the (verified) request, the profile from the operator. */
export function issueFromCsr (ca: CertificateAuthority, csrPem: string, opts: Omit<IssueOptions, 'subject' | 'publicKey'>): string {
  const csr = readCsr(csrPem)
  return issueCertificate(ca, { ...opts, subject: csr.subject, publicKey: csr.publicKey })
}

// ---- reading certificates ---------------------------------------------------------------------

/** Normalised serial (upper-case hex, no leading zeros) so lists and certificates compare equal. */
export function normaliseSerial (serial: string): string {
  const s = serial.replace(/[:\s]/g, '').toUpperCase().replace(/^0+(?=.)/, '')
  if (!/^[0-9A-F]+$/.test(s)) throw new PkiError(`'${serial}' is not a hexadecimal serial number`)
  return s
}

export function profileOf (certificate: X509Certificate): Profile {
  if (certificate.ca) return 'ca'
  const usage = certificate.keyUsage ?? []
  if (usage.includes(OID.serverAuth)) return 'tls-server'
  if (usage.includes(OID.clientAuth)) return 'tls-client'
  return 'signing'
}

export function fingerprintOf (certificate: X509Certificate): string {
  return certificate.fingerprint256.replaceAll(':', '').toLowerCase()
}
