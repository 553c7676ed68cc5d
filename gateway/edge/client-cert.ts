/**
 * Stage 1 over TLS: who is on the other end of a connection. The node's HTTPS server asks every
 * client for a certificate but lets the handshake finish without one (`requestCert: true,
 * rejectUnauthorized: false`), so that the pipeline, not OpenSSL, decides and answers with an
 * X-Road error code instead of a dropped connection.
 *
 * Cost control: the signature path of a certificate to a trusted CA is computed once per
 * certificate (cached by SHA-256 fingerprint, across connections) and remembered per socket; each
 * request then only runs the cheap checks — validity window, revocation list, key usage — so a
 * revocation or an expiry takes effect on connections that are already open.
 */
import type { X509Certificate } from 'node:crypto'
import { X509Certificate as X509 } from 'node:crypto'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { fingerprintOf, identityOf } from '../../certs/pki.ts'
import type { Peer } from '../pipeline/exchange.ts'
import { isTrustFailure, type CertificatePath, type TrustFailure, type TrustStore } from '../../certs/trust-store.ts'

interface Known {
  fingerprint: string
  identity: string | undefined
  path: CertificatePath | undefined
  pathFailure: TrustFailure | undefined
}

const MAX_CACHED = 10_000

export class ClientCertificates {
  private readonly trust: TrustStore
  private readonly byFingerprint = new Map<string, Known>()
  private readonly bySocket = new WeakMap<Socket, Known | null>()
  /** Counters for tests and metrics: how often the full path check ran. */
  pathChecks = 0

  constructor (trust: TrustStore) {
    this.trust = trust
  }

  /** The peer of a request's socket. */
  peerOf (socket: Socket): Peer {
    if (!(socket as TLSSocket).encrypted) return { transport: 'http' }
    let known = this.bySocket.get(socket)
    if (known === undefined) {
      known = this.learn(socket as TLSSocket)
      this.bySocket.set(socket, known)
    }
    if (known === null) return { transport: 'tls', certificate: undefined }
    const failure = known.pathFailure ?? this.trust.status(known.path!, 'tls-client')
    return { transport: 'tls', certificate: { fingerprint: known.fingerprint, identity: known.identity, failure } }
  }

  /** Reads the socket's certificate once and finds (or recalls) its path to a trusted CA. */
  private learn (socket: TLSSocket): Known | null {
    const leaf = socket.getPeerX509Certificate()
    if (leaf === undefined) return null
    const fingerprint = fingerprintOf(leaf)
    const cached = this.byFingerprint.get(fingerprint)
    if (cached !== undefined) return cached
    this.pathChecks++
    const path = this.trust.path(leaf, presentedIntermediates(socket))
    let identity: string | undefined
    try {
      identity = identityOf(leaf)
    } catch {
      identity = undefined
    }
    const known: Known = isTrustFailure(path)
      ? { fingerprint, identity, path: undefined, pathFailure: path }
      : { fingerprint, identity, path, pathFailure: undefined }
    if (this.byFingerprint.size >= MAX_CACHED) this.byFingerprint.clear()
    this.byFingerprint.set(fingerprint, known)
    return known
  }
}

/** CA certificates the client sent after its own (rare: ura's CA issues directly). */
function presentedIntermediates (socket: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = []
  let current = socket.getPeerCertificate(true)
  for (let i = 0; i < 5 && current?.issuerCertificate !== undefined && current.issuerCertificate !== current; i++) {
    current = current.issuerCertificate
    if (current.raw !== undefined) out.push(new X509(current.raw))
  }
  return out
}

/** The peer of a request; without client certificate checks (plain-HTTP node) TLS carries no certificate. */
export function peerOf (socket: Socket, certificates: ClientCertificates | undefined): Peer {
  if (certificates !== undefined) return certificates.peerOf(socket)
  return (socket as TLSSocket).encrypted ? { transport: 'tls', certificate: undefined } : { transport: 'http' }
}
