/**
 * `GET /evidence/{messageId}`: the evidence document of an exchange (DESIGN §7) — for the two
 * parties of the exchange and for operators only. Records of other exchanges that happen to carry
 * the same message id stay hidden from a caller who is not their party.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { peerOf } from './edge/client-cert.ts'
import { XRoadError } from '../protocol/errors.ts'
import { readXRoadHeaders } from './edge/rest/headers.ts'
import { buildEvidence, signaturesOf } from '../messagelog/evidence.ts'
import type { MessageLog } from '../messagelog/index.ts'
import type { StoredRecord } from '../messagelog/record.ts'
import { identify } from './pipeline/stages.ts'
import type { ClientEntry } from '../registry/registry.ts'
import type { GatewayContext } from './context.ts'

/** Who asks: identified like the exchange edges (X-Road-Client, proven by the client certificate over mutual TLS). */
export function evidenceCaller (ctx: GatewayContext, req: FastifyRequest): ClientEntry {
  return identify(ctx.registry, readXRoadHeaders(req.raw.rawHeaders).client, peerOf(req.raw.socket, ctx.clientCertificates))
}

/** True when `id` is `party` itself or lies under it (a member covers its subsystems and their services). */
function within (id: string, party: string): boolean {
  return id === party || id.startsWith(`${party}/`)
}

/** A party of the exchange (its client, or its provider) or an operator. */
export function mayReadRecord (caller: ClientEntry, record: Pick<StoredRecord, 'client' | 'service'>, operators: ReadonlySet<string>): boolean {
  return operators.has(caller.key) || within(record.client, caller.key) || within(record.service, caller.key)
}

export async function evidenceRoutes (app: FastifyInstance, ctx: GatewayContext, log: MessageLog, operators: string[]): Promise<void> {
  const operatorSet = new Set(operators)
  app.get<{ Params: { messageId: string } }>('/evidence/:messageId', async (req, reply) => {
    const caller = evidenceCaller(ctx, req)
    const { messageId } = req.params
    const records = await log.store.byMessageId(messageId)
    if (records.length === 0) throw new XRoadError('Client.MessageNotFound', `No exchange with message id ${messageId} is in the log`)
    const visible = records.filter(r => mayReadRecord(caller, r, operatorSet))
    if (visible.length === 0) throw new XRoadError('Server.ServerProxy.AccessDenied', `${caller.key} is not a party to message ${messageId}`)
    const { signatures, pending } = await signaturesOf(log.store, visible)
    if (pending.length > 0) throw new XRoadError('Server.ServerProxy.EvidenceNotSigned', `Message ${messageId} is logged, and its batch signature is still to be made (deferred signing, within node.log.signWithinMs): ask again shortly`)
    return reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="evidence-${messageId.replace(/[^A-Za-z0-9._-]/g, '_')}.json"`)
      .send(JSON.stringify(buildEvidence(messageId, visible, signatures), null, 2))
  })
}
