/**
 * The operator plane's parts of the registry, beside members, services and grants: operators with
 * their roles and API tokens, certificates the node issued and those it revoked, onboarding
 * applications, access requests and the outbox of notices. They live in the registry store (one
 * version per change, like everything operators change) and travel in its YAML export; a
 * configuration directory may carry them too (the demo seeds its operators this way).
 */

const part = { type: 'string', pattern: "^[A-Za-z0-9'()+,\\-.=?]+$" }
const memberText = { type: 'string', pattern: "^[A-Za-z0-9'()+,\\-.=?]+(/[A-Za-z0-9'()+,\\-.=?]+){2}$" }
const clientText = { type: 'string', pattern: "^[A-Za-z0-9'()+,\\-.=?]+(/[A-Za-z0-9'()+,\\-.=?]+){2,3}$" }
const serviceText = { type: 'string', pattern: "^[A-Za-z0-9'()+,\\-.=?]+(/[A-Za-z0-9'()+,\\-.=?]+){3,4}$" }
const time = { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$' }
const id = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' }
const sha256 = { type: 'string', pattern: '^[0-9a-f]{64}$' }
const text = (max: number): Record<string, unknown> => ({ type: 'string', minLength: 1, maxLength: max })
const pem = { type: 'string', minLength: 1, maxLength: 16384 }
const serial = { type: 'string', pattern: '^[0-9A-F]{1,64}$' }

/** One endpoint a grant (or an access request) covers: a method (`*` any) and a path pattern. */
export const grantEndpoint = {
  type: 'object',
  additionalProperties: false,
  required: ['method', 'path'],
  properties: { method: { enum: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', '*'] }, path: { type: 'string', pattern: '^/' } },
} as const

/** X-Road's five security-server roles, the model for the admin API's. */
export const OPERATOR_ROLES = ['system-administrator', 'registration-officer', 'service-administrator', 'security-officer', 'observer'] as const

/** A role, global or scoped to one member (`instance/class/code`): it then acts on that member's own things only. */
const roleGrant = {
  type: 'object',
  additionalProperties: false,
  required: ['role'],
  properties: { role: { enum: OPERATOR_ROLES }, member: memberText },
}

/** A room's or a subscription's retry policy: any field, each over the one below it (docs/pubsub.md). */
const roomRetry = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 0, maximum: 1000 },
    delayMs: { type: 'integer', minimum: 1000, maximum: 86400000 },
    backoff: { type: 'boolean' },
    maxDelayMs: { type: 'integer', minimum: 1000, maximum: 86400000 },
  },
}

export const registrySectionSchemas = {
  operators: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'name', 'roles'],
      properties: {
        id,
        name: text(200),
        roles: { type: 'array', minItems: 1, maxItems: 20, items: roleGrant },
        // SHA-256 fingerprints of the operator's TLS client certificates (issued by the node's PKI).
        certificates: { type: 'array', maxItems: 20, items: { type: 'string', pattern: '^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$' } },
        // API tokens for scripts: only the SHA-256 of the secret is kept; roles, if given, narrow the operator's.
        tokens: {
          type: 'array',
          maxItems: 50,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'sha256', 'createdAt'],
            properties: { id, label: text(200), sha256, createdAt: time, expiresAt: time, roles: { type: 'array', minItems: 1, maxItems: 20, items: roleGrant } },
          },
        },
        // Console sign-in: a username, the scrypt hash of the password (admin/password.ts) and the TOTP
        // secret of the second factor (admin/totp.ts). The registry is the node's secret store: its
        // exports must be kept like the keystore.
        login: {
          type: 'object',
          additionalProperties: false,
          required: ['username', 'passwordHash', 'totpSecret'],
          properties: {
            username: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{1,63}$' },
            passwordHash: { type: 'string', pattern: '^scrypt\\$[0-9]{1,8}\\$[0-9]{1,3}\\$[0-9]{1,3}\\$[A-Za-z0-9_-]{16,64}\\$[A-Za-z0-9_-]{32,128}$' },
            totpSecret: { type: 'string', pattern: '^[A-Z2-7]{16,64}$' },
            setAt: time,
          },
        },
        disabled: { type: 'boolean' },
      },
    },
  },
  certificates: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['serial', 'role', 'owner', 'subject', 'notBefore', 'notAfter', 'issuedAt', 'pem'],
      properties: {
        serial,
        // tls: a system's client certificate; sign: a member's e-seal; operator: an operator's client certificate.
        role: { enum: ['tls', 'sign', 'operator'] },
        // A client id for tls and sign, an operator id for operator.
        owner: { type: 'string', minLength: 1, maxLength: 300 },
        subject: text(1000),
        fingerprint: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        notBefore: time,
        notAfter: time,
        issuedAt: time,
        issuedBy: text(200),
        application: id,
        pem,
      },
    },
  },
  revocations: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['serial', 'issuer', 'subject', 'revokedAt', 'reason'],
      properties: { serial, issuer: text(1000), subject: text(1000), revokedAt: time, reason: text(500), revokedBy: text(200) },
    },
  },
  applications: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'state', 'submittedAt', 'institution', 'employee', 'systems', 'statusTokenSha256'],
      properties: {
        id,
        state: { enum: ['submitted', 'approved', 'rejected', 'issued', 'active'] },
        submittedAt: time,
        updatedAt: time,
        statusTokenSha256: sha256,
        institution: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'nipt', 'memberClass'],
          properties: { name: text(300), nipt: { type: 'string', pattern: '^[A-Z][0-9]{8}[A-Z]$' }, memberClass: part, memberCode: part },
        },
        employee: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'position', 'nid', 'email', 'phone'],
          properties: {
            name: text(200),
            position: text(200),
            nid: { type: 'string', pattern: '^[A-T][0-9]{8}[A-W]$' },
            email: { type: 'string', maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' },
            phone: { type: 'string', pattern: '^\\+?[0-9 ]{6,20}$' },
          },
        },
        systems: {
          type: 'array',
          minItems: 1,
          maxItems: 20,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['code', 'csr'],
            properties: { code: part, name: text(200), csr: pem },
          },
        },
        sealCsr: pem,
        services: { type: 'array', maxItems: 100, items: serviceText },
        letter: {
          type: 'object',
          additionalProperties: false,
          required: ['sha256', 'bytes'],
          properties: { sha256, bytes: { type: 'integer', minimum: 1 }, filename: text(255) },
        },
        reason: text(2000),
        decidedBy: text(200),
        decidedAt: time,
        certificates: { type: 'array', items: serial },
        // When the applicant took its one API token (see issueApplicantToken in admin/onboarding/).
        tokenIssuedAt: time,
        // When the applicant set the console sign-in of its operator account (setApplicantLogin).
        loginSetAt: time,
      },
    },
  },
  accessRequests: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'client', 'service', 'state', 'requestedBy', 'requestedAt'],
      properties: {
        id,
        client: clientText,
        service: serviceText,
        endpoints: { type: 'array', items: grantEndpoint },
        purpose: text(2000),
        state: { enum: ['pending', 'approved', 'refused', 'withdrawn'] },
        requestedBy: text(200),
        requestedAt: time,
        decidedBy: text(200),
        decidedAt: time,
        reason: text(2000),
      },
    },
  },
  outbox: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'at', 'to', 'subject', 'body'],
      properties: {
        id,
        at: time,
        // E-mail addresses, `operators:<role>` for every operator holding that role, or
        // `operators:<role>:<member id>` for those holding it for that member.
        to: { type: 'array', minItems: 1, maxItems: 50, items: text(254) },
        subject: text(300),
        body: text(20000),
        // What the notice is about (an application, a certificate…), and a key that makes it once-only.
        about: text(300),
        key: text(300),
      },
    },
  },
  // Publish/subscribe rooms (docs/pubsub.md): a room is a subsystem; its event types carry JSON Schemas.
  rooms: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['room', 'eventTypes'],
      properties: {
        room: clientText,
        title: { type: 'object', additionalProperties: false, required: ['sq'], properties: { sq: text(300), en: text(300) } },
        // Clients that may publish (default deny); a member covers its subsystems.
        publishers: { type: 'array', maxItems: 1000, items: clientText, default: [] },
        eventTypes: {
          type: 'array',
          minItems: 1,
          maxItems: 200,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'schema'],
            properties: {
              name: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,63}$' },
              schema: { type: 'object' },
              // JSON pointer into the event whose value orders deliveries of FIFO subscriptions (a citizen's NID).
              orderingKey: { type: 'string', pattern: '^(/[^/]+)+$' },
            },
          },
        },
        // Largest event accepted, in bytes.
        maxEventBytes: { type: 'integer', minimum: 256, maximum: 10485760, default: 65536 },
        // Subscriptions requested through the admin API are approved at once (else the room's operators decide).
        autoApprove: { type: 'boolean', default: false },
        // Defaults every subscription of the room starts from.
        delivery: {
          type: 'object',
          additionalProperties: false,
          properties: {
            retry: roomRetry,
            ttlMs: { type: 'integer', minimum: 0 },
            keepMs: { type: 'integer', minimum: 60000 },
          },
        },
      },
    },
  },
  subscriptions: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'room', 'eventTypes', 'subscriber', 'mode'],
      properties: {
        id,
        room: clientText,
        eventTypes: { type: 'array', minItems: 1, maxItems: 200, items: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,63}$' } },
        subscriber: clientText,
        // push: each event is an exchange from the room to the subscriber's own service; pull: the subscriber fetches and acknowledges.
        mode: { enum: ['push', 'pull'] },
        push: {
          type: 'object',
          additionalProperties: false,
          required: ['service'],
          properties: { service: serviceText, path: { type: 'string', pattern: '^/' } },
        },
        // One delivery at a time per ordering key, in publication order.
        fifo: { type: 'boolean' },
        ttlMs: { type: 'integer', minimum: 0 },
        retry: roomRetry,
        state: { enum: ['pending', 'approved', 'refused', 'withdrawn'], default: 'approved' },
        // Why the subscriber asks (shown to the room owner when it decides).
        purpose: text(2000),
        requestedBy: text(200),
        requestedAt: time,
        decidedBy: text(200),
        decidedAt: time,
        withdrawnBy: text(200),
        withdrawnAt: time,
        // Why it was refused or withdrawn.
        reason: text(2000),
      },
      if: { properties: { mode: { const: 'push' } } },
      then: { required: ['push'] },
    },
  },
} as const

export const REGISTRY_SECTIONS = Object.keys(registrySectionSchemas) as Array<keyof typeof registrySectionSchemas>

export type OperatorRole = typeof OPERATOR_ROLES[number]

export interface RoleGrant { role: OperatorRole; member?: string }

export interface OperatorToken {
  id: string
  label?: string
  sha256: string
  createdAt: string
  expiresAt?: string
  roles?: RoleGrant[]
}

export interface OperatorConfig {
  id: string
  name: string
  roles: RoleGrant[]
  certificates?: string[]
  tokens?: OperatorToken[]
  login?: OperatorLogin
  disabled?: boolean
}

/** An operator's console sign-in: never shown by the admin API, only whether it exists. */
export interface OperatorLogin {
  username: string
  passwordHash: string
  totpSecret: string
  setAt?: string
}

export interface IssuedCertificate {
  serial: string
  role: 'tls' | 'sign' | 'operator'
  owner: string
  subject: string
  fingerprint?: string
  notBefore: string
  notAfter: string
  issuedAt: string
  issuedBy?: string
  application?: string
  pem: string
}

export interface RevocationRecord {
  serial: string
  issuer: string
  subject: string
  revokedAt: string
  reason: string
  revokedBy?: string
}

export type ApplicationState = 'submitted' | 'approved' | 'rejected' | 'issued' | 'active'

export interface ApplicationRecord {
  id: string
  state: ApplicationState
  submittedAt: string
  updatedAt?: string
  statusTokenSha256: string
  institution: { name: string; nipt: string; memberClass: string; memberCode?: string }
  employee: { name: string; position: string; nid: string; email: string; phone: string }
  systems: Array<{ code: string; name?: string; csr: string }>
  sealCsr?: string
  services?: string[]
  letter?: { sha256: string; bytes: number; filename?: string }
  reason?: string
  decidedBy?: string
  decidedAt?: string
  certificates?: string[]
  tokenIssuedAt?: string
  loginSetAt?: string
}

export interface AccessRequestRecord {
  id: string
  client: string
  service: string
  endpoints?: Array<{ method: string; path: string }>
  purpose?: string
  state: 'pending' | 'approved' | 'refused' | 'withdrawn'
  requestedBy: string
  requestedAt: string
  decidedBy?: string
  decidedAt?: string
  reason?: string
}

export interface OutboxMessage {
  id: string
  at: string
  to: string[]
  subject: string
  body: string
  about?: string
  key?: string
}

/** The operator plane's sections; each is a list, empty when nothing is there. */
export interface RegistrySections {
  operators: OperatorConfig[]
  certificates: IssuedCertificate[]
  revocations: RevocationRecord[]
  applications: ApplicationRecord[]
  accessRequests: AccessRequestRecord[]
  outbox: OutboxMessage[]
  rooms: RoomConfig[]
  subscriptions: SubscriptionConfig[]
}

export interface RoomRetry { limit?: number; delayMs?: number; backoff?: boolean; maxDelayMs?: number }

export interface RoomConfig {
  room: string
  title?: { sq: string; en?: string }
  publishers: string[]
  eventTypes: Array<{ name: string; schema: Record<string, unknown>; orderingKey?: string }>
  maxEventBytes: number
  autoApprove: boolean
  delivery?: { retry?: RoomRetry; ttlMs?: number; keepMs?: number }
}

export interface SubscriptionConfig {
  id: string
  room: string
  eventTypes: string[]
  subscriber: string
  mode: 'push' | 'pull'
  push?: { service: string; path?: string }
  fifo?: boolean
  ttlMs?: number
  retry?: RoomRetry
  state: 'pending' | 'approved' | 'refused' | 'withdrawn'
  purpose?: string
  requestedBy?: string
  requestedAt?: string
  decidedBy?: string
  decidedAt?: string
  withdrawnBy?: string
  withdrawnAt?: string
  reason?: string
}

export function emptySections (): RegistrySections {
  return { operators: [], certificates: [], revocations: [], applications: [], accessRequests: [], outbox: [], rooms: [], subscriptions: [] }
}
