/** The shape of a validated configuration (see config/schema.ts for the rules). */
import type { RegistrySections } from './registry-sections.ts'

export interface NodeConfig {
  instance: string
  /** `port` serves HTTPS (mutual TLS) when the node has a TLS certificate; `httpPort`, if set, plain HTTP for `connection: http` clients. */
  listen: { host: string; port: number; httpPort?: number }
  limits: Limits
  /** Where the node keeps its state; relative to the config directory. */
  dataDir: string
  /** Schema library switches (see schemas/library.ts). */
  schemas?: { niptCheckLetter?: boolean }
  /** The message log (DESIGN §8). */
  log: LogConfig
  /** Client ids (`instance/class/code[/subsystem]`) of operators: they may read any exchange's evidence. */
  operators: string[]
  /** The admin API's own HTTPS listener (admin/); absent = no admin API. */
  admin?: AdminSettings
  /** Defaults for every service's way to its provider (each service may override). */
  resilience: ResilienceSettings
  rateLimits?: RateLimitsConfig
  shutdown: ShutdownConfig
  /** The registry store the node runs on (docs/registry.md). */
  registry: RegistryStoreConfig
  /** The durable queue of asynchronous exchange (docs/delivery.md). */
  delivery: DeliveryStoreConfig
}

export interface DeliveryStoreConfig {
  /** A SQLite file, relative to the data directory, or a `postgres://` URL (pg-boss). */
  store: string
  concurrency: number
  idempotencyHours: number
}

/** A service's store-and-forward settings (docs/delivery.md). */
export interface ServiceDeliveryConfig {
  mode: 'sync' | 'async' | 'auto'
  fallback: boolean
  retry: { limit: number; delayMs: number; backoff: boolean; maxDelayMs: number }
  ttlMs: number
  fifo: boolean
  keepMs: number
}

export interface RegistryStoreConfig {
  /** A SQLite file, relative to the data directory, or a `postgres://` URL. */
  store: string
  /** Polling backstop for new versions, in ms. */
  pollMs: number
}

export interface AdminSettings {
  /** Never the exchange port (the loader refuses it). Port 0 picks a free port (tests). */
  listen: { host: string; port: number }
  /** Largest request body the admin API reads. */
  bodyBytes: number
}

export interface LogConfig {
  /** `embedded`: SQLite file in the data directory (one node); `postgres`: shared database (cluster). */
  store: 'embedded' | 'postgres'
  /** embedded: the database file, relative to the data directory. */
  file: string
  /** postgres: connection URL. */
  url?: string
  /** Batch signing: extra window in ms after the first record (0: the batch is what arrives while the key is busy). */
  batchMs: number
  /** Batch signing: most records under one signature. */
  batchMax: number
  /** `immediate`: records are signed before they are stored; `deferred`: stored first, each key's batch signed within signWithinMs (embedded store only). */
  signing: 'immediate' | 'deferred'
  /** Deferred signing: how long after a batch opened it is signed, in ms. */
  signWithinMs: number
  /** Batch signing: how long the records of the node's own delivery attempts (queued requests, pushed events) may wait to share a signature. */
  deliveryBatchMs: number
  /** `ura log prune` removes records older than this many days; 0 keeps everything. */
  retentionDays: number
  /** `ura log archive`: the directory of the archive files, relative to the data directory. */
  archiveDir: string
}

/** Resilience settings with every field set: the node's defaults once the schema has filled them in. */
export interface ResilienceSettings {
  retries: { attempts: number; backoffMs: number; maxBackoffMs: number; soap: boolean }
  breaker: { enabled: boolean; consecutiveFailures: number; failureRate: number; window: number; minimumRequests: number; coolDownMs: number; failureStatuses: number[] }
  concurrency: { max: number; queue: number }
}

/** A service's own resilience settings: any field, each overriding the node's. */
export interface ResilienceConfig {
  retries?: { attempts?: number; backoffMs?: number; maxBackoffMs?: number; soap?: boolean }
  breaker?: { enabled?: boolean; consecutiveFailures?: number; failureRate?: number; window?: number; minimumRequests?: number; coolDownMs?: number; failureStatuses?: number[] }
  concurrency?: { max?: number; queue?: number }
}

export interface RateConfig {
  perSecond: number
  burst?: number
}

export interface RateLimitsConfig {
  default?: RateConfig
  /** Keyed by client id text (`AL/GOV/K11503002N/e-albania`). */
  clients?: Record<string, RateConfig | 'unlimited'>
}

export interface ShutdownConfig {
  drainDelayMs: number
  graceMs: number
}

export interface Limits {
  /** Largest request body accepted on any ingress (REST and SOAP). */
  requestBytes: number
  /** Largest provider response the node buffers. */
  responseBytes: number
  headerBytes: number
  headerCount: number
  headersTimeoutMs: number
  requestTimeoutMs: number
  keepAliveTimeoutMs: number
}

export interface SubsystemConfig {
  code: string
  name?: string
  /** How the client system reaches the node: `http` is for development and demos only. */
  connection: 'http' | 'mtls'
  /** Optional pinning: SHA-256 fingerprints of the TLS certificates this client system may use. */
  certificates?: string[]
}

/** A member's staff member who may apply on a citizen's behalf (the assisted channel). */
export interface OfficialConfig {
  /** Personal number (NID); calls name the official as `AL-<NID>`. */
  nid: string
  name: string
  role: string
  /** `YYYY-MM-DD`: the last day (inclusive, the date in Albania) the official may act. */
  validUntil: string
}

export interface MemberConfig {
  class: string
  code: string
  name: string
  /** Officials for services with `requireOfficial`; absent = none. */
  officials?: OfficialConfig[]
  subsystems: SubsystemConfig[]
}

export type SchemaRef = Record<string, unknown>

export interface EndpointConfig {
  method: string
  /** Path template relative to the service, e.g. `/subjekte/{nipt}/detyrime`. */
  path: string
  summary?: string
  params?: SchemaRef
  query?: SchemaRef
  body?: SchemaRef
  response?: SchemaRef
}

export interface AdapterConfig {
  kind: string
  url: string
  connections?: number
  /** bridge: the protocol the provider speaks (the service's `type` is what its clients speak). */
  providerType?: 'rest' | 'soap'
  /** bridge to SOAP: target namespace of the provider's XSD in the schema library. */
  namespace?: string
  /** bridge to SOAP: the operation each REST endpoint (method + path template) becomes. */
  operations?: Array<{ method: string; path: string; operation: string; version?: string; soapAction?: string }>
  /** bridge to REST: the request the SOAP operation becomes (path template filled from the body element). */
  request?: { method: string; path: string }
}

export interface ServiceConfig {
  provider: string
  code: string
  version?: string
  type: 'rest' | 'soap'
  title?: string
  adapter: AdapterConfig
  timeoutMs: number
  resilience?: ResilienceConfig
  bodyLogging: 'full' | 'digest'
  responseValidation: 'enforce' | 'warn' | 'off'
  /** The user of every call must be an active official of the calling member (`AL-<NID>`); absent = false. */
  requireOfficial?: boolean
  /** Store-and-forward; absent = sync. */
  delivery?: ServiceDeliveryConfig
  disabled?: { notice: string }
  /** REST: endpoints with their schemas. */
  endpoints?: EndpointConfig[]
  /** SOAP: the WSDL file (relative to the config directory) and the body's XSD target namespace. */
  wsdl?: string
  xsd?: string
  catalogue?: Record<string, unknown>
}

export interface GrantConfig {
  service: string
  clients: string[]
  groups: string[]
  /** REST only: restrict the grant to these method + path patterns (`*` matches the rest of a segment, trailing `/*` everything below). */
  endpoints?: Array<{ method: string; path: string }>
  /** deny overrides every allow for the clients it names; absent = allow. */
  effect?: 'allow' | 'deny'
}

export interface UraConfig {
  node: NodeConfig
  members: MemberConfig[]
  groups: Record<string, string[]>
  services: ServiceConfig[]
  access: GrantConfig[]
  /** The operator plane's sections (operators, certificates, revocations, applications, access requests, outbox). */
  sections: RegistrySections
  /** Absolute path of the directory the configuration was read from. */
  dir: string
}
