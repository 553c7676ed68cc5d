/** What the node knows about one exchange as it moves through the pipeline. */
import type { TrustFailure } from '../../certs/trust-store.ts'
import type { ClientId, ServiceId } from '../../protocol/identifiers.ts'
import type { ClientEntry, ServiceEntry } from '../../registry/registry.ts'

/** The client certificate of a request, as far as stage 1 needs it. */
export interface PeerCertificate {
  /** SHA-256 of the DER, lower-case hex without colons (the form `certificates:` in the config uses). */
  fingerprint: string
  /** The X-Road identifier in the certificate subject (serialNumber). */
  identity: string | undefined
  /** Set when the certificate must not be used: untrusted, expired, not yet valid, revoked, wrong usage. */
  failure: TrustFailure | undefined
}

/** How the request reached the node: plain HTTP, or TLS with or without a client certificate. */
export type Peer = { transport: 'http' } | { transport: 'tls'; certificate: PeerCertificate | undefined }

export interface Exchange {
  protocol: 'rest' | 'soap'
  /** X-Road-Request-Id: made by the node, shared by request and response; errors point to it. */
  requestId: string
  /** X-Road-Id (SOAP `id`): the message id from the client, or made by the node. */
  messageId?: string
  clientId?: ClientId
  client?: ClientEntry
  serviceId?: ServiceId
  service?: ServiceEntry
  userId?: string
  issue?: string
  representedParty?: string
  method?: string
  /** Service-relative path (REST). */
  path?: string
  /** REST: the query string as received, with its `?` (or empty); the log records path and query. */
  query?: string
  /** Header names and values, alternating, as sent to the provider / to the client: the log digests them. */
  requestHeaders?: string[]
  responseHeaders?: string[]
  requestHash?: string
  /** Base64 SHA-512 of the request body, when the request hash has computed it (the log reuses it). */
  requestBodyDigest?: string
  /**
   * The node's own delivery attempt (a queued request, a pushed event) outside a FIFO chain: nobody
   * waits for it at the door, nor does a next attempt, so its records may wait to share a signature.
   */
  delivery?: true
  providerStatus?: number
  providerMs?: number
  errorCode?: string
}

/**
 * Stages 5 and 8 of the pipeline (sign and log). The trust work plugs a signing, durable message
 * log in here; until then the node runs with `unloggedRecorder`. A recorder that throws fails the
 * exchange with `Server.ClientProxy.LoggingFailed`, and the request never leaves the node.
 */
/** Settles once the record is durable (what it resolves with is the recorder's own: the message log gives the sequence number). */
export interface ExchangeRecorder {
  recordRequest (exchange: Exchange, body: Buffer | undefined): Promise<unknown>
  recordResponse (exchange: Exchange, body: Buffer): Promise<unknown>
}

export const unloggedRecorder: ExchangeRecorder = {
  recordRequest: async () => {},
  recordResponse: async () => {},
}
