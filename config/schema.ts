import { DEFAULT_RESILIENCE } from './defaults.ts'
import { grantEndpoint, registrySectionSchemas } from './registry-sections.ts'

/**
 * JSON Schema of one configuration file. A configuration directory holds any number of YAML files;
 * each is validated on its own (so errors name the file), then merged and cross-checked.
 */
const part = { type: 'string', pattern: "^[A-Za-z0-9'()+,\\-.=?]+$" }
const clientText = { type: 'string', pattern: "^[A-Za-z0-9'()+,\\-.=?]+(/[A-Za-z0-9'()+,\\-.=?]+){2,3}$" }
const serviceText = { type: 'string', pattern: "^[A-Za-z0-9'()+,\\-.=?]+(/[A-Za-z0-9'()+,\\-.=?]+){3,4}$" }
const method = { enum: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', '*'] }
const schemaRef = { type: 'object' }

/**
 * Resilience settings for the way to a provider (adapters/resilience.ts). `node.resilience` holds the
 * defaults (filled in here); a service's own `resilience` overrides them field by field.
 */
function resilienceSchema (withDefaults: boolean) {
  const d = <T>(value: T): { default?: T } => (withDefaults ? { default: value } : {})
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      retries: {
        type: 'object',
        additionalProperties: false,
        properties: {
          // Extra attempts after the first, only for idempotent methods and connection failures.
          attempts: { type: 'integer', minimum: 0, maximum: 10, ...d(DEFAULT_RESILIENCE.retries.attempts) },
          backoffMs: { type: 'integer', minimum: 0, maximum: 60000, ...d(DEFAULT_RESILIENCE.retries.backoffMs) },
          maxBackoffMs: { type: 'integer', minimum: 0, maximum: 600000, ...d(DEFAULT_RESILIENCE.retries.maxBackoffMs) },
          // SOAP has no idempotency marker: retried only when the operator says the service is safe to repeat.
          soap: { type: 'boolean', ...d(DEFAULT_RESILIENCE.retries.soap) },
        },
        ...d({}),
      },
      breaker: {
        type: 'object',
        additionalProperties: false,
        properties: {
          enabled: { type: 'boolean', ...d(DEFAULT_RESILIENCE.breaker.enabled) },
          consecutiveFailures: { type: 'integer', minimum: 1, maximum: 10000, ...d(DEFAULT_RESILIENCE.breaker.consecutiveFailures) },
          failureRate: { type: 'number', exclusiveMinimum: 0, maximum: 1, ...d(DEFAULT_RESILIENCE.breaker.failureRate) },
          window: { type: 'integer', minimum: 1, maximum: 10000, ...d(DEFAULT_RESILIENCE.breaker.window) },
          minimumRequests: { type: 'integer', minimum: 1, maximum: 10000, ...d(DEFAULT_RESILIENCE.breaker.minimumRequests) },
          coolDownMs: { type: 'integer', minimum: 1, maximum: 3600000, ...d(DEFAULT_RESILIENCE.breaker.coolDownMs) },
          // Provider statuses that count as failures (besides no answer at all); 500 is often a business error.
          failureStatuses: { type: 'array', items: { type: 'integer', minimum: 100, maximum: 599 }, ...d(DEFAULT_RESILIENCE.breaker.failureStatuses) },
        },
        ...d({}),
      },
      concurrency: {
        type: 'object',
        additionalProperties: false,
        properties: {
          max: { type: 'integer', minimum: 1, maximum: 100000, ...d(DEFAULT_RESILIENCE.concurrency.max) },
          queue: { type: 'integer', minimum: 0, maximum: 1000000, ...d(DEFAULT_RESILIENCE.concurrency.queue) },
        },
        ...d({}),
      },
    },
    ...d({}),
  }
}

const rateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['perSecond'],
  properties: {
    perSecond: { type: 'number', exclusiveMinimum: 0 },
    burst: { type: 'integer', minimum: 1 },
  },
}

export const configFileSchema = {
  $id: 'https://ura.gov.al/schemas/config/v1',
  type: 'object',
  additionalProperties: false,
  properties: {
    node: {
      type: 'object',
      additionalProperties: false,
      required: ['instance'],
      properties: {
        instance: part,
        listen: {
          type: 'object',
          additionalProperties: false,
          properties: {
            host: { type: 'string', minLength: 1, default: '127.0.0.1' },
            port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
            httpPort: { type: 'integer', minimum: 0, maximum: 65535 },
          },
          default: {},
        },
        limits: {
          type: 'object',
          additionalProperties: false,
          properties: {
            requestBytes: { type: 'integer', minimum: 1024, default: 10 * 1024 * 1024 },
            responseBytes: { type: 'integer', minimum: 1024, default: 50 * 1024 * 1024 },
            // Request line + headers, and how many header fields (larger/more → 431 Client.RequestHeaderTooLarge).
            headerBytes: { type: 'integer', minimum: 1024, maximum: 1048576, default: 16384 },
            headerCount: { type: 'integer', minimum: 8, maximum: 2000, default: 100 },
            // Slow clients: all headers within headersTimeoutMs, the whole request within requestTimeoutMs (408).
            headersTimeoutMs: { type: 'integer', minimum: 100, maximum: 600000, default: 10000 },
            requestTimeoutMs: { type: 'integer', minimum: 100, maximum: 3600000, default: 120000 },
            keepAliveTimeoutMs: { type: 'integer', minimum: 100, maximum: 600000, default: 65000 },
          },
          default: {},
        },
        resilience: resilienceSchema(true),
        rateLimits: {
          type: 'object',
          additionalProperties: false,
          properties: {
            // Applies to every client without its own entry; absent = no limit.
            default: rateSchema,
            clients: { type: 'object', propertyNames: clientText, additionalProperties: { oneOf: [rateSchema, { const: 'unlimited' }] } },
          },
          default: {},
        },
        shutdown: {
          type: 'object',
          additionalProperties: false,
          properties: {
            // /readyz answers 503 this long before the node stops accepting, so load balancers move away first.
            drainDelayMs: { type: 'integer', minimum: 0, maximum: 600000, default: 0 },
            // Exchanges still in flight after this are cut off.
            graceMs: { type: 'integer', minimum: 0, maximum: 3600000, default: 30000 },
          },
          default: {},
        },
        dataDir: { type: 'string', minLength: 1, default: 'data' },
        log: {
          type: 'object',
          additionalProperties: false,
          properties: {
            store: { enum: ['embedded', 'postgres'], default: 'embedded' },
            file: { type: 'string', minLength: 1, default: 'message-log.sqlite' },
            url: { type: 'string', pattern: '^postgres(ql)?://' },
            batchMs: { type: 'integer', minimum: 0, maximum: 1000, default: 0 },
            batchMax: { type: 'integer', minimum: 1, maximum: 10000, default: 256 },
            // `deferred`: a record is stored and chained before its exchange goes on, and signed in its
            // key's batch within signWithinMs (embedded store only; docs/message-log.md, "Deferred signing").
            signing: { enum: ['immediate', 'deferred'], default: 'immediate' },
            signWithinMs: { type: 'integer', minimum: 1, maximum: 60000, default: 200 },
            // Records of the node's own delivery attempts (queued requests, pushed events) may wait this
            // long to share their key's signature: nobody waits at the door for them.
            deliveryBatchMs: { type: 'integer', minimum: 0, maximum: 1000, default: 50 },
            retentionDays: { type: 'integer', minimum: 0, default: 0 },
            // `ura log archive` writes its archive files here (relative to the data directory).
            archiveDir: { type: 'string', minLength: 1, default: 'log-archive' },
          },
          if: { properties: { store: { const: 'postgres' } }, required: ['store'] },
          then: { required: ['url'] },
          default: {},
        },
        operators: { type: 'array', items: clientText, default: [] },
        // The durable queue of asynchronous exchange (delivery/, docs/delivery.md).
        delivery: {
          type: 'object',
          additionalProperties: false,
          properties: {
            // A SQLite file relative to the data directory (one node), or a postgres:// URL (pg-boss, shared by a cluster).
            store: { type: 'string', minLength: 1, default: 'delivery.sqlite' },
            // Deliveries this node runs at once, over all services and subscriptions.
            concurrency: { type: 'integer', minimum: 1, maximum: 10000, default: 2048 },
            // How long an Idempotency-Key is remembered (IETF draft: the server states its window).
            idempotencyHours: { type: 'integer', minimum: 1, maximum: 8760, default: 24 },
          },
          default: {},
        },
        // The versioned registry store the node runs on (registry/store/): members, services, grants.
        registry: {
          type: 'object',
          additionalProperties: false,
          properties: {
            // A SQLite file relative to the data directory, or a postgres:// URL (shared by the nodes of a cluster).
            store: { type: 'string', minLength: 1, default: 'registry.sqlite' },
            // How often the store is read for new versions when no notification came (PostgreSQL notifies at once).
            pollMs: { type: 'integer', minimum: 100, maximum: 600000, default: 2000 },
          },
          default: {},
        },
        // The admin API (admin/, docs/admin-api.md): HTTPS on its own listener, never the exchange port;
        // absent = no admin API. Its audit trail is signed by the node operator's member (`operators`).
        admin: {
          type: 'object',
          additionalProperties: false,
          required: ['listen'],
          properties: {
            listen: {
              type: 'object',
              additionalProperties: false,
              required: ['port'],
              properties: {
                host: { type: 'string', minLength: 1, default: '127.0.0.1' },
                port: { type: 'integer', minimum: 0, maximum: 65535 },
              },
            },
            // Largest request body the admin API reads (413 Admin.BodyTooLarge above it).
            bodyBytes: { type: 'integer', minimum: 1024, maximum: 16777216, default: 1048576 },
          },
        },
        schemas: {
          type: 'object',
          additionalProperties: false,
          properties: {
            // NIPT check letter: very likely but not officially documented (domain §2.2).
            niptCheckLetter: { type: 'boolean', default: true },
          },
          default: {},
        },
      },
    },
    members: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['class', 'code', 'name'],
        properties: {
          class: part,
          code: part,
          name: { type: 'string', minLength: 1 },
          // Staff who apply on a citizen's behalf (assisted channel): services with `requireOfficial`
          // accept only an X-Road-UserId / xrd:userId `AL-<NID>` naming one of the calling member's,
          // still valid. The loader checks each NID's check letter and refuses a NID listed twice.
          officials: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['nid', 'name', 'role', 'validUntil'],
              properties: {
                nid: { type: 'string', pattern: '^[A-T][0-9]{8}[A-W]$' },
                name: { type: 'string', minLength: 1 },
                role: { type: 'string', minLength: 1 },
                // Last day (inclusive, the date in Albania) the official may act; checked as a real date by the loader.
                validUntil: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' },
              },
            },
          },
          subsystems: {
            type: 'array',
            default: [],
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['code'],
              properties: {
                code: part,
                name: { type: 'string' },
                connection: { enum: ['http', 'mtls'], default: 'mtls' },
                certificates: { type: 'array', items: { type: 'string', pattern: '^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$' } },
              },
            },
          },
        },
      },
    },
    groups: {
      type: 'object',
      propertyNames: part,
      additionalProperties: { type: 'array', items: clientText },
    },
    services: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['provider', 'code', 'type', 'adapter'],
        properties: {
          provider: clientText,
          code: part,
          version: part,
          type: { enum: ['rest', 'soap'] },
          title: { type: 'string' },
          adapter: {
            type: 'object',
            additionalProperties: false,
            required: ['kind', 'url'],
            properties: {
              kind: { type: 'string', minLength: 1 },
              url: { type: 'string', pattern: '^https?://' },
              connections: { type: 'integer', minimum: 1, maximum: 1024 },
              providerType: { enum: ['rest', 'soap'] },
              namespace: { type: 'string', minLength: 1 },
              operations: {
                type: 'array',
                minItems: 1,
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['method', 'path', 'operation'],
                  properties: { method, path: { type: 'string', pattern: '^/' }, operation: part, version: part, soapAction: { type: 'string' } },
                },
              },
              request: {
                type: 'object',
                additionalProperties: false,
                required: ['method', 'path'],
                properties: { method, path: { type: 'string', pattern: '^/' } },
              },
            },
            allOf: [
              { if: { properties: { kind: { const: 'bridge' } } }, then: { required: ['providerType'] } },
              { if: { required: ['providerType'], properties: { providerType: { const: 'soap' } } }, then: { required: ['namespace', 'operations'] } },
              { if: { required: ['providerType'], properties: { providerType: { const: 'rest' } } }, then: { required: ['request'] } },
            ],
          },
          timeoutMs: { type: 'integer', minimum: 1, maximum: 600000, default: 30000 },
          resilience: resilienceSchema(false),
          bodyLogging: { enum: ['full', 'digest'], default: 'digest' },
          responseValidation: { enum: ['enforce', 'warn', 'off'], default: 'enforce' },
          // The call must name an active official of the calling member as its user (absent = false).
          requireOfficial: { type: 'boolean' },
          // Store-and-forward (docs/delivery.md): absent = sync, the exchange waits for the provider.
          delivery: {
            type: 'object',
            additionalProperties: false,
            properties: {
              // sync: wait for the provider; async: always 202 and deliver later; auto: 202 when the client
              // asks (Prefer: respond-async), else as sync.
              mode: { enum: ['sync', 'async', 'auto'], default: 'sync' },
              // Queue instead of failing when the provider is unreachable or its breaker is open (sync and auto).
              fallback: { type: 'boolean', default: false },
              retry: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  limit: { type: 'integer', minimum: 0, maximum: 1000, default: 8 },
                  delayMs: { type: 'integer', minimum: 1000, maximum: 86400000, default: 5000 },
                  backoff: { type: 'boolean', default: true },
                  maxDelayMs: { type: 'integer', minimum: 1000, maximum: 86400000, default: 600000 },
                },
                default: {},
              },
              // Undelivered this long after acceptance → dead (0 = never).
              ttlMs: { type: 'integer', minimum: 0, default: 0 },
              // One delivery at a time per X-Ura-Ordering-Key (a citizen's NID), in acceptance order.
              fifo: { type: 'boolean', default: false },
              // How long the provider's answer (and a dead letter) stays readable.
              keepMs: { type: 'integer', minimum: 60000, default: 86400000 },
            },
          },
          disabled: {
            type: 'object',
            additionalProperties: false,
            required: ['notice'],
            properties: { notice: { type: 'string' } },
          },
          endpoints: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['method', 'path'],
              properties: {
                method,
                path: { type: 'string', pattern: '^/' },
                summary: { type: 'string' },
                params: schemaRef,
                query: schemaRef,
                body: schemaRef,
                response: schemaRef,
              },
            },
          },
          wsdl: { type: 'string', minLength: 1 },
          xsd: { type: 'string', minLength: 1 },
          catalogue: { type: 'object' },
        },
        allOf: [
          { if: { properties: { type: { const: 'soap' } } }, then: { not: { required: ['endpoints'] } } },
          { if: { properties: { type: { const: 'rest' } } }, then: { not: { anyOf: [{ required: ['wsdl'] }, { required: ['xsd'] }] } } },
        ],
      },
    },
    access: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['service'],
        properties: {
          service: serviceText,
          // deny wins over any allow for the same client (directly or by group) and endpoint; absent = allow.
          effect: { enum: ['allow', 'deny'] },
          clients: { type: 'array', items: clientText, default: [] },
          groups: { type: 'array', items: part, default: [] },
          endpoints: { type: 'array', items: grantEndpoint },
        },
      },
    },
    ...registrySectionSchemas,
  },
} as const
