/**
 * Onboarding applications as registration officers handle them (`/admin/v1/applications`): the list
 * (no personal data), one application with its employee, CSRs and sealed letter (roles that may read
 * applications only), and the decisions — approve, which registers the member with its subsystems,
 * certificates from the node's CA, e-seal and operator account in one registry version, or reject
 * with a reason. The work is onboarding's (admin/onboarding/); these routes authorize, check
 * If-Match and commit it through commitChange.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ApplicationRecord } from '../../config/registry-sections.ts'
import type { RegistryContent } from '../../registry/store/index.ts'
import { commitChange } from '../change.ts'
import type { AdminContext } from '../context.ts'
import { AdminError } from '../errors.ts'
import { etagOf } from '../etag.ts'
import { PARAMS } from '../ids.ts'
import { prepareSeal, type PendingSeal } from '../member-seal.ts'
import { nodeIssuer } from '../node-ca.ts'
import { applicantOperatorId, applicationCertificates, approveApplication, findApplication, memberIdOf, rejectApplication } from '../onboarding/index.ts'
import { ADMIN_PREFIX, noBody, REGISTRY_VERSION_HEADER, route, sendList, sendResource, snapshot } from '../route-kit.ts'
import { REASON_BODY } from '../schemas.ts'
import { defineState } from '../states.ts'

const TAG = 'Onboarding'
const STATES = ['submitted', 'approved', 'rejected', 'issued', 'active']

/** What a list shows of an application: the institution and its systems, never the employee or a token. */
export function applicationSummary (a: ApplicationRecord): Record<string, unknown> {
  return {
    id: a.id,
    state: a.state,
    submittedAt: a.submittedAt,
    ...(a.updatedAt === undefined ? {} : { updatedAt: a.updatedAt }),
    ...(a.decidedAt === undefined ? {} : { decidedAt: a.decidedAt, decidedBy: a.decidedBy }),
    ...(a.reason === undefined ? {} : { reason: a.reason }),
    institution: { name: a.institution.name, nipt: a.institution.nipt, memberClass: a.institution.memberClass },
    systems: a.systems.map(s => ({ code: s.code, ...(s.name === undefined ? {} : { name: s.name }) })),
    ...(a.services === undefined ? {} : { services: a.services }),
    tokenIssued: a.tokenIssuedAt !== undefined,
  }
}

/** One application whole (its status token's hash left out), with what its approval made. */
export function applicationView (instance: string, c: RegistryContent, a: ApplicationRecord): Record<string, unknown> {
  const issued = a.state === 'issued' || a.state === 'active'
  return {
    ...applicationSummary(a),
    employee: a.employee,
    systems: a.systems,
    ...(a.sealCsr === undefined ? {} : { sealCsr: a.sealCsr }),
    ...(a.letter === undefined ? {} : { letter: { ...a.letter, href: `${ADMIN_PREFIX}/applications/${a.id}/letter` } }),
    ...(issued
      ? {
          member: memberIdOf(instance, a.institution.memberClass, a.institution.nipt),
          operator: applicantOperatorId(a.institution.nipt),
          certificates: applicationCertificates(c, a).map(x => ({ serial: x.serial, role: x.role, owner: x.owner, notAfter: x.notAfter, fingerprint: x.fingerprint })),
          accessRequests: c.accessRequests.filter(r => r.requestedBy === `applicant:${a.id}`).map(r => r.id),
        }
      : {}),
  }
}

// The states the audit trail digests (admin/states.ts).
const summaryState = defineState('application-summary', (c, id: string) => applicationSummary(findApplication(c, id)))
const applicationState = defineState('application', (c, instance: string, id: string) => applicationView(instance, c, findApplication(c, id)))

export async function applicationRoutes (app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const instance = ctx.config.node.instance
  const idOf = (request: FastifyRequest): string => (request.params as { application: string }).application
  const target = (request: FastifyRequest): string | undefined => { const id = (request.params as { application?: unknown }).application; return typeof id === 'string' ? `application ${id}` : undefined }
  const view = (c: RegistryContent, id: string): Record<string, unknown> => applicationView(instance, c, findApplication(c, id))
  const tag = (id: string) => (c: RegistryContent) => ({ etag: etagOf(view(c, id)), allowAny: false })
  const params = { application: PARAMS.id }

  app.get('/applications', route('application.list', {
    tag: TAG,
    querystring: { state: { type: 'string', enum: STATES, description: 'only applications in this state' } },
  }), async (request, reply) => {
    const { state } = request.query as { state?: string }
    return sendList(reply, snapshot(request).content.applications.filter(a => state === undefined || a.state === state).map(applicationSummary))
  })

  app.get('/applications/:application', route('application.read', { tag: TAG, params, target }), async (request, reply) => {
    return sendResource(reply, view(snapshot(request).content, idOf(request)))
  })

  app.get('/applications/:application/letter', route('application.read', { tag: TAG, summary: 'the sealed request letter (application/pdf)', params, target }), async (request, reply) => {
    const a = findApplication(snapshot(request).content, idOf(request))
    if (a.letter === undefined) throw new AdminError('Admin.NotFound', `application ${a.id} has no letter`)
    let blob
    try {
      blob = await ctx.store.getBlob(a.letter.sha256)
    } catch (err) {
      throw new AdminError('Admin.StoreFailed', `the registry store cannot be read: ${(err as Error).message}`, {}, { cause: err })
    }
    if (blob === undefined) throw new AdminError('Admin.NotFound', `the letter of application ${a.id} is not in the registry store`)
    // Named after the application, never after what the applicant called the file.
    return reply.type('application/pdf').header('etag', `"${a.letter.sha256}"`).header(REGISTRY_VERSION_HEADER, String(snapshot(request).version))
      .header('content-disposition', `attachment; filename="${a.id}.pdf"`).header('x-content-type-options', 'nosniff')
      .send(blob.bytes)
  })

  app.post('/applications/:application/approve', route('application.approve', { tag: TAG, params, write: true, target }), async (request, reply) => {
    noBody(request)
    const id = idOf(request)
    const issue = nodeIssuer(ctx)
    const by = request.operator!.id
    // Without an e-seal CSR of its own, the member is hosted: the node makes its seal key (once per attempt).
    let seal: PendingSeal | undefined
    const sealFor = (c: RegistryContent): string | undefined => {
      const a = findApplication(c, id)
      if (a.sealCsr !== undefined) return undefined
      seal ??= prepareSeal(ctx, memberIdOf(instance, a.institution.memberClass, a.institution.nipt))
      return seal.csr
    }
    const v = await commitChange(ctx, request, {
      action: 'application.approve',
      target: `application ${id}`,
      precondition: tag(id),
      change: c => {
        const sealCsr = sealFor(c)
        return approveApplication(c, id, { instance, by, now: ctx.now(), issue, ...(sealCsr === undefined ? {} : { sealCsr }) }).content
      },
      before: summaryState(id),
      after: applicationState(instance, id),
    })
    if (seal !== undefined) {
      const certificate = applicationCertificates(v.content, findApplication(v.content, id)).find(c => c.role === 'sign')
      if (certificate !== undefined) seal.install(certificate.pem)
    }
    return sendResource(reply, view(v.content, id))
  })

  app.post('/applications/:application/reject', route('application.reject', { tag: TAG, params, body: REASON_BODY, write: true, target }), async (request, reply) => {
    const id = idOf(request)
    const { reason } = request.body as { reason: string }
    const by = request.operator!.id
    const v = await commitChange(ctx, request, {
      action: 'application.reject',
      target: `application ${id}`,
      precondition: tag(id),
      change: c => rejectApplication(c, id, reason, { by, now: ctx.now() }).content,
      before: summaryState(id),
      after: summaryState(id),
    })
    return sendResource(reply, view(v.content, id))
  })
}
