/** The services one provider (member or subsystem) offers, and which of them a caller may use. */
import { XRoadError } from '../../protocol/errors.ts'
import { clientKey, providerKey, type ServiceId } from '../../protocol/identifiers.ts'
import type { ClientEntry, Registry, ServiceEntry } from '../../registry/registry.ts'

export interface EndpointRef { method: string; path: string }

/** The provider named by a metaservice call must be hosted on this node. */
export function requireProvider (registry: Registry, id: ServiceId): string {
  const key = providerKey(id)
  if (id.instance !== registry.instance || !registry.clients.has(key)) {
    throw new XRoadError('Server.ServerProxy.UnknownMember', `Provider ${clientKey(id)} is not hosted on this node`)
  }
  return key
}

/** Every configured version of every service of the provider, of one protocol, in a stable order. */
export function providerServices (registry: Registry, provider: string, type: 'rest' | 'soap'): ServiceEntry[] {
  return [...registry.services.values()].flat()
    .filter(s => providerKey(s.id) === provider && s.config.type === type)
    .sort((a, b) => a.key.localeCompare(b.key) || (a.id.serviceVersion ?? '').localeCompare(b.id.serviceVersion ?? ''))
}

/** `/subjekte/{nipt}/detyrime` → `/subjekte/*` + `/detyrime`: X-Road lists path parameters as `*`. */
export function wildcardPath (template: string): string {
  return template.replace(/\{[^/}]+\}/g, '*')
}

/** Endpoints of a REST service as X-Road lists them; a service without endpoints takes any method and path. */
export function endpointList (service: ServiceEntry): EndpointRef[] {
  if (service.endpoints.length === 0) return [{ method: '*', path: '**' }]
  return service.endpoints.map(e => ({ method: e.method, path: wildcardPath(e.template) }))
}

/**
 * The endpoints of a REST service the client may call. A grant for the whole service allows every
 * endpoint; an endpoint grant allows the endpoints its pattern covers.
 */
export function allowedEndpoints (registry: Registry, client: ClientEntry, service: ServiceEntry): EndpointRef[] {
  if (registry.isAllowed(client, service)) return endpointList(service)
  return endpointList(service).filter(e => e.method !== '*' && e.path !== '**' && registry.isAllowed(client, service, e.method, e.path))
}
