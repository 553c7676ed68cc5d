/**
 * Certificates the node's CA issued (`/admin/v1/certificates`), with how long each has left, and
 * those it revoked (`/admin/v1/revocations`): issue one from a CSR (a system's TLS client
 * certificate, a member's e-seal, an operator's certificate), revoke one with a reason. A revocation
 * is a registry entry: the node refuses the certificate from that version on, on the exchange port
 * and on the admin listener alike. A system's or e-seal's certificate belongs to its member (scoped
 * roles act on their own member's); an operator's certificate is the node's business.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { IssuedCertificate, RevocationRecord } from '../../config/registry-sections.ts'
import type { RegistryContent } from '../../registry/store/index.ts'
import { commitChange } from '../change.ts'
import type { AdminContext } from '../context.ts'
import { etagOf } from '../etag.ts'
import { memberOfClient } from '../ids.ts'
import { nodeIssuer } from '../node-ca.ts'
import { EXPIRY_NOTICE_DAYS, issueCertificate, normalSerial, OnboardingError, revokeCertificate, type CertificateRole } from '../onboarding/index.ts'
import { route, sendCreated, sendList, sendResource, snapshot } from '../route-kit.ts'
import { CERTIFICATE_BODY, REVOKE_BODY } from '../schemas.ts'
import { defineState, deferred } from '../states.ts'

const TAG = 'Certificates'
const DAY = 24 * 60 * 60 * 1000
const STATES = ['valid', 'expiring', 'expired', 'revoked'] as const
type CertificateState = typeof STATES[number]

/** The member a certificate belongs to (undefined for an operator's: node-wide). */
export const certificateMember = (role: unknown, owner: unknown): string | undefined => role === 'operator' ? undefined : memberOfClient(owner)

const revocationOf = (c: RegistryContent, serial: string): RevocationRecord | undefined => c.revocations.find(r => r.serial === serial)

// The states the audit trail digests (admin/states.ts).
const certificateState = defineState('certificate', (c, serial: string) => c.certificates.find(x => x.serial === serial))
const revocationState = defineState('revocation', (c, serial: string) => revocationOf(c, serial))
/** Before a revocation: null (a state) when there was none, so the trail shows the certificate was not revoked. */
const revocationOrNullState = defineState('revocation-or-null', (c, serial: string) => revocationOf(c, serial) ?? null)

/** A certificate as listed: its record without the PEM, days left and state at `now`. */
function certificateView (c: RegistryContent, cert: IssuedCertificate, now: Date): Record<string, unknown> {
  const { pem: _pem, ...record } = cert
  const left = Date.parse(cert.notAfter) - now.getTime()
  const revocation = revocationOf(c, cert.serial)
  const state: CertificateState = revocation !== undefined ? 'revoked' : left <= 0 ? 'expired' : left <= EXPIRY_NOTICE_DAYS[0] * DAY ? 'expiring' : 'valid'
  return { ...record, daysLeft: Math.floor(left / DAY), state, ...(revocation === undefined ? {} : { revocation }) }
}

/** A certificate's ETag: its record and revocation, not the days left (which change by themselves). */
const certificateTag = (c: RegistryContent, cert: IssuedCertificate): string => etagOf({ certificate: cert, revocation: revocationOf(c, cert.serial) ?? null })

export async function certificateRoutes (app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const serialOf = (request: FastifyRequest): string | undefined => {
    const raw = (request.params as { serial?: unknown }).serial
    return typeof raw === 'string' ? normalSerial(raw) : undefined
  }
  const lookup = (c: RegistryContent, serial: string | undefined): IssuedCertificate | undefined => serial === undefined ? undefined : c.certificates.find(x => x.serial === serial)
  const get = (c: RegistryContent, serial: string | undefined): IssuedCertificate => {
    const cert = lookup(c, serial)
    if (cert === undefined) throw new OnboardingError('Onboarding.UnknownCertificate', `the node issued no certificate with serial ${serial ?? ''}`)
    return cert
  }
  /** The certificate's member: a scoped operator of another member (or any, for an unknown serial) is refused before anything else. */
  const pathMember = (request: FastifyRequest): string | undefined => {
    const cert = lookup(snapshot(request).content, serialOf(request))
    return cert === undefined ? undefined : certificateMember(cert.role, cert.owner)
  }
  const target = (request: FastifyRequest): string | undefined => { const s = (request.params as { serial?: unknown }).serial; return typeof s === 'string' ? `certificate ${s}` : undefined }
  const params = { serial: { type: 'string', pattern: '^[0-9A-Fa-f]{1,64}$', description: 'serial number, hexadecimal' } }

  app.get('/certificates', route('certificate.list', {
    tag: TAG,
    authorize: 'list',
    querystring: {
      state: { type: 'string', enum: STATES, description: `valid; expiring (within ${EXPIRY_NOTICE_DAYS[0]} days); expired; revoked` },
      role: { type: 'string', enum: ['tls', 'sign', 'operator'] },
      owner: { type: 'string', minLength: 1, maxLength: 300, description: 'only this owner\'s (a client id or an operator id)' },
    },
  }), async (request, reply) => {
    const visible = request.visibleMembers
    const q = request.query as { state?: string; role?: string; owner?: string }
    const c = snapshot(request).content
    const now = ctx.now()
    const items = c.certificates
      .filter(x => visible === undefined || visible.has(certificateMember(x.role, x.owner) ?? ''))
      .filter(x => (q.role === undefined || x.role === q.role) && (q.owner === undefined || x.owner === q.owner))
      .map(x => certificateView(c, x, now))
      .filter(x => q.state === undefined || x.state === q.state)
    return sendList(reply, items)
  })

  app.get('/certificates/:serial', route('certificate.list', { tag: TAG, summary: 'read a certificate the node issued, its PEM included', params, member: pathMember, target }), async (request, reply) => {
    const c = snapshot(request).content
    const cert = get(c, serialOf(request))
    const answer = sendResource(reply, { ...certificateView(c, cert, ctx.now()), pem: cert.pem })
    reply.header('etag', certificateTag(c, cert))
    return answer
  })

  app.post('/certificates', route('certificate.issue', {
    tag: TAG,
    body: CERTIFICATE_BODY,
    status: 201,
    write: true,
    member: request => { const b = request.body as { role?: unknown; owner?: unknown } | undefined; return certificateMember(b?.role, b?.owner) },
    target: request => { const b = request.body as { role?: unknown; owner?: unknown } | undefined; return typeof b?.owner === 'string' ? `${String(b.role)} certificate for ${b.owner}` : undefined },
  }), async (request, reply) => {
    const body = request.body as { role: CertificateRole; owner: string; csr: string; days?: number }
    const issue = nodeIssuer(ctx, body.days)
    const by = request.operator!.id
    let serial = ''
    const v = await commitChange(ctx, request, {
      action: 'certificate.issue',
      target: `${body.role} certificate for ${body.owner}`,
      change: c => {
        const made = issueCertificate(c, { csr: body.csr, role: body.role, owner: body.owner, by, now: ctx.now(), issue })
        serial = made.certificate.serial
        return made.content
      },
      after: deferred(() => certificateState(serial)),
    })
    const cert = get(v.content, serial)
    const answer = sendCreated(reply, `/certificates/${serial}`, { ...certificateView(v.content, cert, ctx.now()), pem: cert.pem })
    reply.header('etag', certificateTag(v.content, cert))
    return answer
  })

  app.post('/certificates/:serial/revoke', route('certificate.revoke', { tag: TAG, params, body: REVOKE_BODY, write: true, member: pathMember, target }), async (request, reply) => {
    const serial = serialOf(request)
    const { reason } = request.body as { reason: string }
    const by = request.operator!.id
    let unpinned: string[] = []
    const v = await commitChange(ctx, request, {
      action: 'certificate.revoke',
      target: `certificate ${serial ?? ''}`,
      precondition: c => ({ etag: certificateTag(c, get(c, serial)), allowAny: false }),
      change: c => {
        const made = revokeCertificate(c, { serial: serial ?? '', reason, by, now: ctx.now() })
        unpinned = made.unpinned
        return made.content
      },
      before: revocationOrNullState(serial ?? ''),
      after: revocationState(serial ?? ''),
    })
    const cert = get(v.content, serial)
    const answer = sendResource(reply, { ...certificateView(v.content, cert, ctx.now()), unpinned })
    reply.header('etag', certificateTag(v.content, cert))
    return answer
  })

  app.get('/revocations', route('revocation.list', { tag: TAG }), async (request, reply) => {
    return sendList(reply, snapshot(request).content.revocations)
  })
}
