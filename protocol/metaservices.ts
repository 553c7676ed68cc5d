/**
 * X-Road metaservice codes (reference §3). They are answered by the node itself, before normal
 * service resolution, so no provider may configure a service under one of these codes.
 */
import type { ServiceId } from './identifiers.ts'

export const REST_METASERVICES = ['listMethods', 'allowedMethods', 'getOpenAPI'] as const
export const SOAP_METASERVICES = ['listMethods', 'allowedMethods', 'getWsdl'] as const

export type RestMetaservice = typeof REST_METASERVICES[number]
export type SoapMetaservice = typeof SOAP_METASERVICES[number]

export const RESERVED_SERVICE_CODES: ReadonlySet<string> = new Set<string>([...REST_METASERVICES, ...SOAP_METASERVICES, 'listClients'])

export function restMetaservice (id: ServiceId): RestMetaservice | undefined {
  return (REST_METASERVICES as readonly string[]).includes(id.serviceCode) ? id.serviceCode as RestMetaservice : undefined
}

export function soapMetaservice (id: ServiceId): SoapMetaservice | undefined {
  return (SOAP_METASERVICES as readonly string[]).includes(id.serviceCode) ? id.serviceCode as SoapMetaservice : undefined
}
