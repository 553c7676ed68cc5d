/**
 * Stages 1–3 of an exchange (DESIGN §5), protocol-independent: identify the caller, resolve the
 * service, authorise the call. Each failure maps to one error code.
 */
import { XRoadError } from '../../protocol/errors.ts'
import type { Peer } from './exchange.ts'
import { clientKey, serviceText, type ClientId, type ServiceId } from '../../protocol/identifiers.ts'
import type { ClientEntry, Registry, ServiceEntry } from '../../registry/registry.ts'

/**
 * Stage 1: the calling system must be registered, and prove it is that system. Over TLS its client
 * certificate must be usable (trusted CA, valid now, unrevoked: else SslAuthenticationFailed) and
 * registered for the claimed client (else InvalidClientIdentifier). A client registered with
 * `connection: http` (development only) is identified by its claim alone, on either transport;
 * a certificate it does present must still be usable.
 */
export function identify (registry: Registry, clientId: ClientId, peer: Peer): ClientEntry {
  const cert = peer.transport === 'tls' ? peer.certificate : undefined
  if (cert?.failure !== undefined) {
    throw new XRoadError('Server.ClientProxy.SslAuthenticationFailed', `Client certificate refused: ${cert.failure.message}`)
  }
  const client = clientId.instance === registry.instance ? registry.findClient(clientId) : undefined
  if (client === undefined) {
    throw new XRoadError('Client.InvalidClientIdentifier', `Client ${clientKey(clientId)} is not registered on this node`)
  }
  if (client.connection === 'http') return client
  if (peer.transport === 'http') {
    throw new XRoadError('Server.ClientProxy.SslAuthenticationFailed', `Client ${client.key} must connect over mutual TLS`)
  }
  if (cert === undefined) {
    throw new XRoadError('Server.ClientProxy.SslAuthenticationFailed', `Client ${client.key} presented no client certificate`)
  }
  if (!registry.isCertificateOf(client, cert)) {
    const holder = cert.identity === undefined ? 'carries no X-Road identifier' : `is registered for ${cert.identity}`
    throw new XRoadError('Client.InvalidClientIdentifier', `The client certificate (SHA-256 ${cert.fingerprint}) ${holder}, not for ${client.key}`)
  }
  return client
}

/** Stage 2: the service exists, speaks the caller's protocol and is enabled. */
export function resolveService (registry: Registry, serviceId: ServiceId, protocol: 'rest' | 'soap'): ServiceEntry {
  const service = serviceId.instance === registry.instance ? registry.findService(serviceId) : undefined
  if (service === undefined) throw new XRoadError('Server.ServerProxy.UnknownService', `Unknown service: SERVICE:${serviceText(serviceId)}`)
  if (service.config.type !== protocol) {
    throw new XRoadError('Server.ServerProxy.ServiceType', `Service SERVICE:${serviceText(serviceId)} is a ${service.config.type.toUpperCase()} service and cannot be called with ${protocol.toUpperCase()}`)
  }
  if (service.config.disabled !== undefined) {
    throw new XRoadError('Server.ServerProxy.ServiceDisabled', `Service SERVICE:${serviceText(serviceId)} is disabled: ${service.config.disabled.notice}`)
  }
  return service
}

/** Stage 3: default deny. */
export function authorise (registry: Registry, client: ClientEntry, service: ServiceEntry, method?: string, path?: string): void {
  if (!registry.isAllowed(client, service, method, path)) {
    const what = method === undefined ? '' : ` (${method} ${path === '' ? '/' : path})`
    throw new XRoadError('Server.ServerProxy.AccessDenied', `Request is not allowed: SERVICE:${serviceText(service.id)}${what} for ${client.key}`)
  }
}

/**
 * Stage 3a, only for services with `requireOfficial` (assisted applications): the user the call
 * claims to act for (`X-Road-UserId` / `xrd:userId`) must be an active official of the calling
 * member, written `AL-<NID>`.
 */
export function requireOfficial (registry: Registry, client: ClientEntry, service: ServiceEntry, userId: string | undefined, now = new Date()): void {
  if (registry.isActiveOfficial(client, userId, now)) return
  const who = userId === undefined ? 'no user id' : `user id ${userId}`
  const member = `${client.id.instance}/${client.id.memberClass}/${client.id.memberCode}`
  throw new XRoadError('Client.InvalidUserId', `SERVICE:${serviceText(service.id)} needs the user to be an active official of member ${member} (AL-<NID>); the call gives ${who}`)
}
