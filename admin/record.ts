/**
 * One audit-trail record per admin request: who (the operator, or `anonymous` when none was
 * identified), under which role, what action on which target, allowed or refused with which code.
 * Changes are recorded by admin/change.ts with the target's state before and after (digested by the
 * trail); every other request is recorded by the server's onSend hook before its answer leaves.
 */
import type { FastifyRequest } from 'fastify'
import type { AuditLink, AuditResult } from '../messagelog/audit/index.ts'
import type { AdminContext } from './context.ts'

export const ANONYMOUS = 'anonymous'
const MAX_TARGET = 300

export interface ActionOutcome {
  result: AuditResult
  errorCode?: string
  before?: unknown
  after?: unknown
  /** A change's versions and state readers (admin/change.ts). */
  link?: AuditLink
}

export async function recordAction (ctx: AdminContext, request: FastifyRequest, outcome: ActionOutcome): Promise<void> {
  const st = request.adminAction ?? { action: 'unknown', target: null, role: '', audited: false }
  request.adminAction = st
  if (st.audited) return
  await ctx.audit.record({
    operator: request.operator?.id ?? ANONYMOUS,
    role: st.role === '' ? 'none' : st.role,
    action: st.action,
    // A target named by a request that was then refused may be anything the caller sent: kept short.
    target: st.target === null ? null : st.target.slice(0, MAX_TARGET),
    ...(outcome.before === undefined ? {} : { before: outcome.before }),
    ...(outcome.after === undefined ? {} : { after: outcome.after }),
    result: outcome.result,
    errorCode: outcome.result === 'refused' ? outcome.errorCode ?? 'Admin.InternalError' : null,
    requestId: request.id,
    time: ctx.now(),
    ...(outcome.link === undefined ? {} : { link: outcome.link }),
  })
  st.audited = true
}
