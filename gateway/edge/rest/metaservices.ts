/**
 * REST metaservices (reference §3, X-Road PR-MREST): `listMethods`, `allowedMethods` and
 * `getOpenAPI?serviceCode=` under `/r1/{provider}/…`. The caller is identified exactly as for any
 * r1 call (the edge does that before handing over); the answer carries the same evidence headers
 * and is recorded like any exchange.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { XRoadError } from '../../../protocol/errors.ts'
import { evidenceHeaders, forwardableRequestHeaders } from './headers.ts'
import type { ServiceId } from '../../../protocol/identifiers.ts'
import { resolveService } from '../../pipeline/stages.ts'
import { recordRequest, recordResponse } from '../../pipeline/record.ts'
import type { ClientEntry, ServiceEntry } from '../../../registry/registry.ts'
import { restRequestHash } from '../../../protocol/request-hash.ts'
import type { R1Target } from './target.ts'
import type { GatewayContext } from '../../context.ts'
import { restMetaservice } from '../../../protocol/metaservices.ts'
import { anonymiseServers, serviceOpenApi } from '../../catalogue/openapi.ts'
import { allowedEndpoints, endpointList, providerServices, requireProvider, type EndpointRef } from '../../meta/provider.ts'

/** One service in the listMethods / allowedMethods answer, in X-Road's snake_case JSON. */
export interface RestServiceListing {
  member_class: string
  member_code: string
  object_type: 'SERVICE'
  service_code: string
  service_version?: string
  service_type: 'OPENAPI' | 'REST'
  subsystem_code?: string
  xroad_instance: string
  endpoint_list: EndpointRef[]
}

function listing (s: ServiceEntry, endpoints: EndpointRef[]): RestServiceListing {
  return {
    member_class: s.id.memberClass,
    member_code: s.id.memberCode,
    object_type: 'SERVICE',
    service_code: s.id.serviceCode,
    ...(s.id.serviceVersion === undefined ? {} : { service_version: s.id.serviceVersion }),
    // Services with described endpoints have an OpenAPI document (getOpenAPI); others are plain REST.
    service_type: s.endpoints.length > 0 ? 'OPENAPI' : 'REST',
    ...(s.id.subsystemCode === undefined ? {} : { subsystem_code: s.id.subsystemCode }),
    xroad_instance: s.id.instance,
    endpoint_list: endpoints,
  }
}

export async function answerRestMetaservice (ctx: GatewayContext, req: FastifyRequest, reply: FastifyReply, client: ClientEntry, target: R1Target): Promise<FastifyReply> {
  const ex = req.exchange
  const code = restMetaservice(target.serviceId)!
  if (req.method !== 'GET') throw new XRoadError('Client.InvalidHttpMethod', `The ${code} metaservice is called with GET`)
  if (target.path !== '') throw new XRoadError('Client.BadRequest', `The ${code} metaservice takes no path after its code`)
  const provider = requireProvider(ctx.registry, target.serviceId)

  // The same header part and request hash as any r1 exchange (reference §2.4).
  const headers = forwardableRequestHeaders(req.raw.rawHeaders)
  headers.push('X-Road-Request-Id', ex.requestId)
  if (ex.messageId === undefined) {
    ex.messageId = randomUUID()
    headers.push('X-Road-Id', ex.messageId)
  }
  ex.requestHash = restRequestHash(req.method, req.raw.url ?? '', headers, undefined)
  await recordRequest(ctx.recorder, ex, undefined)

  let answer: unknown
  if (code === 'getOpenAPI') {
    answer = anonymiseServers(await serviceOpenApi(openApiService(ctx, target), ctx.library))
  } else {
    const services = providerServices(ctx.registry, provider, 'rest')
    answer = {
      service: code === 'listMethods'
        ? services.map(s => listing(s, endpointList(s)))
        : services.map(s => listing(s, allowedEndpoints(ctx.registry, client, s))).filter(s => s.endpoint_list.length > 0),
    }
  }
  const body = Buffer.from(JSON.stringify(answer), 'utf8')
  await recordResponse(ctx.recorder, ex, body)
  return reply.code(200).headers(evidenceHeaders(ex)).header('content-type', 'application/json; charset=utf-8').send(body)
}

/** getOpenAPI?serviceCode=…: a REST service of this provider (disabled ones are still described). */
function openApiService (ctx: GatewayContext, target: R1Target): ServiceEntry {
  const codes = new URLSearchParams(target.query).getAll('serviceCode')
  if (codes.length !== 1 || codes[0] === '') throw new XRoadError('Client.BadRequest', 'getOpenAPI needs exactly one serviceCode query parameter')
  const id: ServiceId = { ...target.serviceId, serviceCode: codes[0] }
  delete id.serviceVersion
  const found = ctx.registry.findService(id)
  if (found !== undefined && found.config.type === 'rest') return found
  return resolveService(ctx.registry, id, 'rest') // throws the right code: unknown, or a SOAP service

}
