/**
 * Bench scenarios. One scenario = one entry here: the request ura gets, the same request as the
 * reference proxies get it (straight to the provider path), how many connections, and what the
 * ura node needs for it (`node`: limits). Scenarios for new features (mTLS, signing, the durable
 * log, bridged REST→SOAP) are added as entries; `transport: 'tls'` ones run every target (ura, the
 * bare proxy, nginx) on HTTPS with the same node certificate, and the client presents a certificate
 * from the node's PKI.
 */
import type { KeyType } from '../certs/pki.ts'
import type { BenchRequest } from './load.ts'
import { ASYNC_SERVICE, BRIDGE_SERVICE, BULK_SERVICE, CLIENT, JSON_BODY, PROVIDER_PATHS, REST_SERVICE, SOAP_REQUEST } from './fixtures.ts'

export interface Scenario {
  name: string
  what: string
  transport: 'http' | 'tls'
  connections: number
  ura: BenchRequest
  /** The same request for the bare proxy and nginx, which forward paths as they are. */
  upstream: BenchRequest
  /** Largest request the node must take for this scenario. */
  requestBytes?: number
  /** Fraction of the run's --duration this scenario uses (big bodies need fewer seconds). */
  durationScale?: number
  /** Minimum ratio to the bare proxy the project aims at (reported, not enforced). */
  target?: number
  /** Highest RSS ura should reach under this load (MB); the row then says what ura and the bare proxy reach. */
  rssGoalMb?: number
  /** Also measure the latency ura adds at half of its own maximum rate. */
  halfLoad?: boolean
  /** ura signs every record with member keys of this type and keeps them in the embedded durable log. */
  signing?: KeyType
  /** The log signs deferred (node.log.signing: deferred): records stored first, each key's batch signed within 200 ms. */
  deferred?: boolean
  /** ura carries the bridged REST face of the SOAP registry. */
  bridge?: boolean
  /**
   * ura takes the call asynchronously (202, embedded delivery queue) and delivers it to the provider
   * in the background; the run waits for the backlog after each of ura's rounds and reports it.
   */
  asyncDelivery?: boolean
  /** Also compare ura's req/s with ura's in this scenario of the same run, with this goal. */
  against?: { scenario: string; goal: number }
}

const json = { 'content-type': 'application/json' }
const BIG = Buffer.alloc(50 * 1024 * 1024, 0x61)
const REST_JSON = { method: 'POST', path: `/r1/${REST_SERVICE}/subjekte`, headers: { ...json, 'x-road-client': CLIENT }, body: JSON_BODY }
const UPSTREAM_JSON = { method: 'POST', path: PROVIDER_PATHS.json, headers: json, body: JSON_BODY }
const xml = { 'content-type': 'text/xml; charset=utf-8' }

export const scenarios: Scenario[] = [
  {
    name: 'rest-json-1k',
    what: 'REST POST, 1 KB JSON, request and response validated (ajv), 50 connections',
    transport: 'http',
    connections: 50,
    ura: REST_JSON,
    upstream: UPSTREAM_JSON,
    target: 0.6,
    halfLoad: true,
  },
  {
    name: 'soap-xsd-2k',
    what: 'SOAP 4.0, 2 KB envelope, request and response XSD-validated, 50 connections',
    transport: 'http',
    connections: 50,
    ura: { method: 'POST', path: '/', headers: xml, body: SOAP_REQUEST },
    upstream: { method: 'POST', path: PROVIDER_PATHS.soap, headers: xml, body: SOAP_REQUEST },
    target: 0.45,
    halfLoad: true,
  },
  {
    name: 'rest-1000-conns',
    what: 'as rest-json-1k, 1,000 concurrent connections',
    transport: 'http',
    connections: 1000,
    ura: REST_JSON,
    upstream: UPSTREAM_JSON,
    rssGoalMb: 200,
  },
  {
    name: 'rest-50mb',
    what: 'REST POST of a 50 MB body (no schema: hashed and forwarded), 2 connections',
    transport: 'http',
    connections: 2,
    ura: { method: 'POST', path: `/r1/${BULK_SERVICE}`, headers: { 'content-type': 'application/octet-stream', 'x-road-client': CLIENT }, body: BIG },
    upstream: { method: 'POST', path: PROVIDER_PATHS.bulk, headers: { 'content-type': 'application/octet-stream' }, body: BIG },
    requestBytes: 64 * 1024 * 1024,
  },
  {
    name: 'rest-mtls',
    what: 'as rest-json-1k over HTTPS, client certificate from the node PKI checked per request; references on HTTPS too',
    transport: 'tls',
    connections: 50,
    ura: REST_JSON,
    upstream: UPSTREAM_JSON,
  },
  {
    name: 'rest-signed-ecdsa',
    what: 'as rest-json-1k, request and response signed in batches (ECDSA P-256 member keys), embedded durable log',
    transport: 'http',
    connections: 50,
    ura: REST_JSON,
    upstream: UPSTREAM_JSON,
    signing: 'ec-p256',
  },
  {
    name: 'rest-async-ecdsa',
    what: 'as rest-signed-ecdsa, but the service is `delivery: { mode: async }`: 202 once queued (embedded delivery queue), delivered to the provider in the background',
    transport: 'http',
    connections: 50,
    ura: { ...REST_JSON, path: `/r1/${ASYNC_SERVICE}/subjekte` },
    upstream: UPSTREAM_JSON,
    signing: 'ec-p256',
    asyncDelivery: true,
    against: { scenario: 'rest-signed-ecdsa', goal: 0.5 },
  },
  {
    name: 'rest-signed-rsa2048',
    what: 'as rest-signed-ecdsa with RSA-2048 member keys',
    transport: 'http',
    connections: 50,
    ura: REST_JSON,
    upstream: UPSTREAM_JSON,
    signing: 'rsa-2048',
  },
  {
    name: 'rest-signed-ecdsa-deferred',
    what: 'as rest-signed-ecdsa with deferred signing (node.log.signing: deferred): records durable and chained before the exchange goes on, batches signed within 200 ms',
    transport: 'http',
    connections: 50,
    ura: REST_JSON,
    upstream: UPSTREAM_JSON,
    signing: 'ec-p256',
    deferred: true,
  },
  {
    name: 'rest-signed-rsa2048-deferred',
    what: 'as rest-signed-rsa2048 with deferred signing',
    transport: 'http',
    connections: 50,
    ura: REST_JSON,
    upstream: UPSTREAM_JSON,
    signing: 'rsa-2048',
    deferred: true,
  },
  {
    name: 'rest-to-soap-bridge',
    what: 'REST GET through the bridge to the SOAP provider (XSD-validated 2 KB answer mapped to JSON); references forward the SOAP request',
    transport: 'http',
    connections: 50,
    ura: { method: 'GET', path: `/r1/${BRIDGE_SERVICE}/I50314123V`, headers: { 'x-road-client': CLIENT } },
    upstream: { method: 'POST', path: PROVIDER_PATHS.soap, headers: xml, body: SOAP_REQUEST },
    bridge: true,
  },
]
