/**
 * The node's listeners when it has a TLS certificate: the main server speaks HTTPS and asks every
 * client for a certificate without letting OpenSSL reject anyone (stage 1 decides, with X-Road
 * codes); an optional second, plain HTTP server shares the same Fastify handler for clients the
 * configuration marks `connection: http` (development only). Stage 1 refuses `mtls` clients that
 * arrive on the plain server.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { KeyObject } from 'node:crypto'
import type { TrustStore } from '../../certs/trust-store.ts'

export interface GatewayTls {
  /** The node's server key (decrypted once by the keystore). */
  key: KeyObject
  /** The node's certificate followed by its CA, PEM. */
  certChainPem: string
  /** Accepted CAs and the revocation list for client certificates. */
  trust: TrustStore
  /** Also build a plain HTTP server (listened on by the caller, e.g. on `node.listen.httpPort`). */
  plainHttp?: boolean
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** The timeouts and parser limits Fastify would set on a server it made itself. */
interface ServerTimeouts {
  keepAliveTimeout?: number
  requestTimeout?: number
  connectionTimeout?: number
  http?: { maxHeaderSize?: number; headersTimeout?: number; requireHostHeader?: boolean; connectionsCheckingInterval?: number }
}

function applyTimeouts (server: HttpServer, opts: ServerTimeouts): void {
  if (opts.keepAliveTimeout !== undefined) server.keepAliveTimeout = opts.keepAliveTimeout
  if (opts.requestTimeout !== undefined) server.requestTimeout = opts.requestTimeout
  if (opts.connectionTimeout !== undefined) server.setTimeout(opts.connectionTimeout)
}

export function tlsServerFactory (tls: GatewayTls, onPlain: (server: HttpServer) => void): (handler: Handler, opts: ServerTimeouts) => HttpServer {
  return (handler, opts) => {
    const server = createHttpsServer({
      // node:tls takes PEM, not KeyObjects: the key is exported in memory only, never written.
      key: tls.key.export({ type: 'pkcs8', format: 'pem' }),
      cert: tls.certChainPem,
      // Sent in the CertificateRequest so clients pick a certificate from an accepted CA.
      ca: tls.trust.anchors.map(a => a.toString()),
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      ...opts.http,
    }, handler)
    // Fastify types its factory for node:http servers; an https.Server has the same API (it extends tls.Server).
    const main = server as unknown as HttpServer
    applyTimeouts(main, opts)
    if (tls.plainHttp === true) {
      const plain = createHttpServer({ ...opts.http }, handler)
      applyTimeouts(plain, opts)
      onPlain(plain)
    }
    return main
  }
}
