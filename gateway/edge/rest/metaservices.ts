/**
 * REST metaservices (reference §3, X-Road PR-MREST): `listMethods`, `allowedMethods` and
 * `getOpenAPI?serviceCode=` under `/r1/{provider}/…`. The caller is identified exactly as for any
 * r1 call (the edge does that before handing over); the answer carries the same evidence headers
 * and is recorded like any exchange.
 */
import type { FastifyRequest } from 'fastify'
import { XRoadError } from '../../../protocol/errors.ts'
import { evidenceHeaders } from './headers.ts'
import type { ServiceId } from '../../../protocol/identifiers.ts'
import { resolveService } from '../../pipeline/stages.ts'
import type { ClientEntry, Registry, ServiceEntry } from '../../../registry/registry.ts'
import type { SchemaLibrary } from '../../../schemas/library.ts'
import type { R1Target } from './target.ts'
import type { LocalAnswer } from '../../pipeline/walk.ts'
import { restMetaservice as restMetaserviceCode } from '../../../protocol/metaservices.ts'
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

/**
 * Stage 2 for the reserved codes: undefined for any other service; else the call is checked (GET,
 * no path, a provider this node hosts) and the answer is composed once the request is logged, from
 * the exchange's registry snapshot.
 */
export function restMetaservice (registry: Registry, library: SchemaLibrary, req: FastifyRequest, client: ClientEntry, target: R1Target): LocalAnswer | undefined {
  const code = restMetaserviceCode(target.serviceId)
  if (code === undefined) return undefined
  if (req.method !== 'GET') throw new XRoadError('Client.InvalidHttpMethod', `The ${code} metaservice is called with GET`)
  if (target.path !== '') throw new XRoadError('Client.BadRequest', `The ${code} metaservice takes no path after its code`)
  const provider = requireProvider(registry, target.serviceId)
  const ex = req.exchange
  return async () => {
    let answer: unknown
    if (code === 'getOpenAPI') {
      answer = anonymiseServers(await serviceOpenApi(openApiService(registry, target), library))
    } else {
      const services = providerServices(registry, provider, 'rest')
      answer = {
        service: code === 'listMethods'
          ? services.map(s => listing(s, endpointList(s)))
          : services.map(s => listing(s, allowedEndpoints(registry, client, s))).filter(s => s.endpoint_list.length > 0),
      }
    }
    const headers = { ...evidenceHeaders(ex), 'content-type': 'application/json; charset=utf-8' }
    return { status: 200, headers, body: Buffer.from(JSON.stringify(answer), 'utf8') }
  }
}

/** getOpenAPI?serviceCode=…: a REST service of this provider (disabled ones are still described). */
function openApiService (registry: Registry, target: R1Target): ServiceEntry {
  const codes = new URLSearchParams(target.query).getAll('serviceCode')
  if (codes.length !== 1 || codes[0] === '') throw new XRoadError('Client.BadRequest', 'getOpenAPI needs exactly one serviceCode query parameter')
  const id: ServiceId = { ...target.serviceId, serviceCode: codes[0] }
  delete id.serviceVersion
  const found = registry.findService(id)
  if (found !== undefined && found.config.type === 'rest') return found
  return resolveService(registry, id, 'rest') // throws the right code: unknown, or a SOAP service

}
