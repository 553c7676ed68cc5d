/**
 * Who is calling the admin API. Two credentials, both looked up in the registry version the request
 * reads (so a token withdrawn, a certificate unpinned or revoked, or an operator disabled is refused
 * on the very next request):
 *
 * - an operator TLS client certificate issued by the node's PKI: its chain must reach the node's
 *   trust store, it must be valid now, meant for TLS clients and revoked neither in the node's
 *   revocation list nor in the registry's `revocations`, and its SHA-256 fingerprint must be pinned
 *   in an operator's `certificates`;
 * - `Authorization: Bearer ura_<tokenId>_<secret>`: the token id names one of an operator's tokens,
 *   and the SHA-256 of the whole token must equal the stored one (compared in constant time); an
 *   expired token is refused. A token's `roles`, when present, narrow the operator's.
 *
 * - `x-ura-session`, set only by the console (admin/console/) when it calls the API in-process on a
 *   signed-in operator's behalf: the value holds a secret of this process and the session's id, which
 *   the console's resolver turns back into the operator (and, for a certificate sign-in, the
 *   certificate, checked again here as above). From the network this header is simply refused.
 *
 * The index of operators by token id, by fingerprint and by id is built once per registry version.
 */
import { createHash, timingSafeEqual, X509Certificate } from 'node:crypto'
import type { TLSSocket } from 'node:tls'
import type { FastifyRequest } from 'fastify'
import { fingerprintOf, normaliseSerial } from '../certs/pki.ts'
import { isTrustFailure, oneLine, type CertificatePath, type TrustFailure, type TrustStore } from '../certs/trust-store.ts'
import type { OperatorConfig, OperatorToken, RoleGrant } from '../config/registry-sections.ts'
import type { RegistryVersion } from '../registry/store/index.ts'
import type { Operator } from './context.ts'
import { AdminError } from './errors.ts'

/** `ura_<token id>_<64 hex>`: the secret has a fixed length, so an id containing `_` still parses. */
export const TOKEN_PATTERN = /^ura_([a-z0-9][a-z0-9._-]{0,63})_([0-9a-f]{64})$/

export function tokenSha256 (token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

const normalisePrint = (print: string): string => print.replaceAll(':', '').toLowerCase()

/** What the console's session resolver answers for a valid `x-ura-session` value. */
export interface SessionIdentity {
  operatorId: string
  method: 'password' | 'certificate'
  /** A certificate sign-in: the certificate's SHA-256 fingerprint and its `issuer\0serial`, checked on every request. */
  fingerprint?: string
  revocationKey?: string
}
export type SessionResolver = (value: string) => SessionIdentity | undefined
export const SESSION_HEADER = 'x-ura-session'

/** How the registry's revocations are matched: `issuer\0serial`. */
export function revocationKey (leaf: X509Certificate): string {
  return `${oneLine(leaf.issuer)}\u0000${normaliseSerial(leaf.serialNumber)}`
}

interface Index {
  version: number
  byId: Map<string, OperatorConfig>
  tokens: Map<string, { operator: OperatorConfig; token: OperatorToken }>
  prints: Map<string, OperatorConfig>
  /** `issuer\0serial` of every certificate the registry lists as revoked. */
  revoked: Set<string>
}

function buildIndex (v: RegistryVersion): Index {
  const tokens = new Map<string, { operator: OperatorConfig; token: OperatorToken }>()
  const prints = new Map<string, OperatorConfig>()
  const byId = new Map<string, OperatorConfig>()
  for (const operator of v.content.operators) {
    byId.set(operator.id, operator)
    for (const token of operator.tokens ?? []) tokens.set(token.id, { operator, token })
    for (const print of operator.certificates ?? []) prints.set(normalisePrint(print), operator)
  }
  const revoked = new Set<string>()
  for (const r of v.content.revocations) {
    try {
      revoked.add(`${oneLine(r.issuer)}\u0000${normaliseSerial(r.serial)}`)
    } catch { /* the schema allows only hex serials; nothing else to match */ }
  }
  return { version: v.version, byId, tokens, prints, revoked }
}

/** The roles a token may use: its own when it names some (each must be the operator's, or covered by the operator's global grant of that role), else the operator's. */
export function tokenRoles (operator: OperatorConfig, token: OperatorToken): RoleGrant[] {
  if (token.roles === undefined) return operator.roles
  return token.roles.filter(r => operator.roles.some(o => o.role === r.role && (o.member === undefined || o.member === r.member)))
}

const unauthenticated = (message: string): AdminError => new AdminError('Admin.Unauthenticated', message)

const MAX_PATHS = 1000

export class Authenticator {
  private readonly trust: TrustStore | undefined
  private readonly now: () => Date
  private readonly sessions: SessionResolver | undefined
  private index: Index | undefined
  /** Signature paths of certificates seen, by fingerprint (they depend on the certificates only). */
  private readonly paths = new Map<string, CertificatePath | TrustFailure>()

  constructor (trust: TrustStore | undefined, now: () => Date, sessions?: SessionResolver) {
    this.trust = trust
    this.now = now
    this.sessions = sessions
  }

  private indexOf (v: RegistryVersion): Index {
    if (this.index?.version !== v.version) this.index = buildIndex(v)
    return this.index
  }

  /** The operator behind the request's credential, as registry version `v` knows it; Admin.Unauthenticated otherwise. */
  identify (request: FastifyRequest, v: RegistryVersion): Operator {
    const index = this.indexOf(v)
    const session = request.headers[SESSION_HEADER]
    if (session !== undefined) return this.bySession(index, Array.isArray(session) ? session[0] : session)
    const header = request.headers.authorization
    if (header !== undefined) return this.byToken(index, header)
    return this.byCertificate(index, request.raw.socket as TLSSocket)
  }

  /** The operator of the certificate on this TLS connection, for the console's certificate sign-in. */
  certificateOperator (request: FastifyRequest, v: RegistryVersion): { operator: Operator; fingerprint: string; revocationKey: string } {
    const operator = this.byCertificate(this.indexOf(v), request.raw.socket as TLSSocket)
    const leaf = (request.raw.socket as TLSSocket).getPeerX509Certificate()!
    return { operator, fingerprint: fingerprintOf(leaf), revocationKey: revocationKey(leaf) }
  }

  private bySession (index: Index, value: string): Operator {
    const found = this.sessions?.(value)
    if (found === undefined) throw unauthenticated('the console session is unknown or has ended')
    const operator = index.byId.get(found.operatorId)
    if (operator === undefined) throw unauthenticated(`operator ${found.operatorId} no longer exists`)
    if (operator.disabled === true) throw unauthenticated(`operator ${operator.id} is disabled`)
    if (found.method === 'certificate') {
      if (found.fingerprint === undefined || index.prints.get(found.fingerprint) !== operator) throw unauthenticated(`the certificate operator ${operator.id} signed in with is no longer pinned`)
      if (found.revocationKey !== undefined && index.revoked.has(found.revocationKey)) throw unauthenticated(`the certificate operator ${operator.id} signed in with is revoked`)
    } else if (operator.login === undefined) {
      throw unauthenticated(`operator ${operator.id} no longer has a console sign-in`)
    }
    return { id: operator.id, name: operator.name, roles: operator.roles, via: 'session' }
  }

  private byToken (index: Index, header: string): Operator {
    const m = /^Bearer (\S+)$/.exec(header)
    if (m === null) throw unauthenticated('Authorization must be `Bearer ura_<token id>_<secret>`')
    const token = m[1]
    const parts = TOKEN_PATTERN.exec(token)
    if (parts === null) throw unauthenticated('the bearer token is not an ura API token (`ura_<token id>_<secret>`)')
    const found = index.tokens.get(parts[1])
    const presented = Buffer.from(tokenSha256(token), 'hex')
    // Compared even for an unknown id, so the answer takes as long either way.
    const stored = Buffer.from(found?.token.sha256 ?? '0'.repeat(64), 'hex')
    if (!timingSafeEqual(presented, stored) || found === undefined) throw unauthenticated('unknown or withdrawn API token')
    const { operator, token: entry } = found
    if (entry.expiresAt !== undefined && Date.parse(entry.expiresAt) <= this.now().getTime()) throw unauthenticated(`API token ${entry.id} expired at ${entry.expiresAt}`)
    if (operator.disabled === true) throw unauthenticated(`operator ${operator.id} is disabled`)
    return { id: operator.id, name: operator.name, roles: tokenRoles(operator, entry), via: 'token', tokenId: entry.id }
  }

  private byCertificate (index: Index, socket: TLSSocket): Operator {
    const leaf = socket.encrypted === true ? socket.getPeerX509Certificate() : undefined
    if (leaf === undefined) throw unauthenticated('no credential: present an operator certificate, or send Authorization: Bearer ura_<token id>_<secret>')
    if (this.trust === undefined) throw unauthenticated('this admin API has no trust store: operator certificates cannot be checked')
    const print = fingerprintOf(leaf)
    let path = this.paths.get(print)
    if (path === undefined) {
      path = this.trust.path(leaf, presentedIntermediates(socket))
      if (this.paths.size >= MAX_PATHS) this.paths.clear()
      this.paths.set(print, path)
    }
    if (isTrustFailure(path)) throw unauthenticated(`operator certificate refused: ${path.message}`)
    const failure = this.trust.status(path, 'tls-client', this.now().getTime())
    if (failure !== undefined) throw unauthenticated(`operator certificate refused: ${failure.message}`)
    if (index.revoked.has(revocationKey(leaf))) throw unauthenticated(`operator certificate refused: serial ${normaliseSerial(leaf.serialNumber)} is revoked in the registry`)
    const operator = index.prints.get(print)
    if (operator === undefined) throw unauthenticated(`the certificate (SHA-256 ${print.slice(0, 8)}…${print.slice(-4)}) is not an operator's`)
    if (operator.disabled === true) throw unauthenticated(`operator ${operator.id} is disabled`)
    return { id: operator.id, name: operator.name, roles: operator.roles, via: 'certificate' }
  }
}

/** CA certificates the client sent after its own. */
function presentedIntermediates (socket: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = []
  let current = socket.getPeerCertificate(true) as { raw?: Buffer; issuerCertificate?: unknown } | undefined
  const seen = new Set<unknown>()
  while (current?.issuerCertificate !== undefined && current.issuerCertificate !== current && !seen.has(current.issuerCertificate) && out.length < 4) {
    seen.add(current)
    current = current.issuerCertificate as { raw?: Buffer; issuerCertificate?: unknown }
    if (current.raw !== undefined) out.push(new X509Certificate(current.raw))
  }
  return out
}
