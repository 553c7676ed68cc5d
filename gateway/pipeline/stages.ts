/**
 * The protocol-independent stages of an exchange (DESIGN §5). Each failure maps to one error code;
 * the REST and SOAP edges call these in order around their own parsing and validation.
 */
import { XRoadError } from '../../protocol/errors.ts'
import type { Peer } from '../edge/client-cert.ts'
import { unloggedRecorder, type Exchange, type ExchangeRecorder } from './exchange.ts'
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
 * Stages 5 and 8: nothing leaves or returns through the node unless it is recorded. A node without
 * a message log has nothing to wait for (undefined), which spares every exchange two promises.
 */
export function recordRequest (recorder: ExchangeRecorder, exchange: Exchange, body: Buffer | undefined): Promise<void> | undefined {
  if (recorder === unloggedRecorder) return undefined
  return recordWith(() => recorder.recordRequest(exchange, body), 'request')
}

export function recordResponse (recorder: ExchangeRecorder, exchange: Exchange, body: Buffer): Promise<void> | undefined {
  if (recorder === unloggedRecorder) return undefined
  return recordWith(() => recorder.recordResponse(exchange, body), 'response')
}

async function recordWith (record: () => Promise<void>, what: 'request' | 'response'): Promise<void> {
  try {
    await record()
  } catch (err) {
    throw new XRoadError('Server.ClientProxy.LoggingFailed', `The ${what} could not be logged: ${(err as Error).message}`)
  }
}
