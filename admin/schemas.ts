/**
 * The JSON Schemas of the admin API's bodies, taken from the configuration's own schema
 * (config/schema.ts, config/registry-sections.ts) so that what the API accepts is what a YAML file
 * may say, and refused the same way; plus the shapes only the API has (patches, grant sets, tokens,
 * the error body). Every object refuses unknown properties.
 */
import { OPERATOR_ROLES, registrySectionSchemas } from '../config/registry-sections.ts'
import { configFileSchema } from '../config/schema.ts'
import { ADMIN_ERROR_STATUS } from './errors.ts'
import { ONBOARDING_ERRORS } from './onboarding/errors.ts'

type Schema = Record<string, any>

const copy = (s: unknown): Schema => structuredClone(s) as Schema
const nullable = (s: unknown): Schema => ({ anyOf: [copy(s), { type: 'null' }] })

const memberItem = copy(configFileSchema.properties.members.items)
const serviceItem = copy(configFileSchema.properties.services.items)
const grantItem = copy(configFileSchema.properties.access.items)
const operatorItem = copy(registrySectionSchemas.operators.items)

export const MEMBER_BODY: Schema = memberItem
export const MEMBER_PATCH: Schema = { type: 'object', additionalProperties: false, required: ['name'], properties: { name: copy(memberItem.properties.name) } }

export const SUBSYSTEM_BODY: Schema = copy(memberItem.properties.subsystems.items)
export const SUBSYSTEM_PATCH: Schema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    name: nullable(SUBSYSTEM_BODY.properties.name),
    connection: copy(SUBSYSTEM_BODY.properties.connection),
    certificates: nullable(SUBSYSTEM_BODY.properties.certificates),
  },
}

export const OFFICIAL_BODY: Schema = copy(memberItem.properties.officials.items)
export const OFFICIAL_PUT: Schema = (() => {
  const s = copy(OFFICIAL_BODY)
  delete s.properties.nid
  s.required = s.required.filter((k: string) => k !== 'nid')
  return s
})()

export const SERVICE_BODY: Schema = serviceItem
const FIXED_SERVICE_FIELDS = ['provider', 'code', 'version', 'type']
/** A merge patch of a service: any field but its identity and type; `null` removes an optional field. */
export const SERVICE_PATCH: Schema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: Object.fromEntries(Object.entries(serviceItem.properties as Schema)
    .filter(([k]) => !FIXED_SERVICE_FIELDS.includes(k))
    .map(([k, s]) => [k, serviceItem.required.includes(k) ? copy(s) : nullable(s)])),
}
export const DISABLE_BODY: Schema = copy(serviceItem.properties.disabled)

/** One grant entry of a service: allow (default) or deny, to clients and groups, for the whole service or some endpoints. */
export const GRANT_ENTRY: Schema = (() => {
  const s = copy(grantItem)
  delete s.properties.service
  s.required = []
  return s
})()
export const GRANTS_PUT: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['entries'],
  properties: { entries: { type: 'array', maxItems: 1000, items: GRANT_ENTRY } },
}

const clientText = copy(configFileSchema.properties.groups.additionalProperties.items)
const groupName = copy(configFileSchema.properties.groups.propertyNames)
export const GROUP_BODY: Schema = {
  type: 'object', additionalProperties: false, required: ['name', 'clients'],
  properties: { name: groupName, clients: { type: 'array', maxItems: 10000, items: clientText } },
}
export const GROUP_PUT: Schema = {
  type: 'object', additionalProperties: false, required: ['clients'],
  properties: { clients: { type: 'array', maxItems: 10000, items: clientText } },
}

export const OPERATOR_BODY: Schema = (() => {
  const s = copy(operatorItem)
  delete s.properties.tokens
  // A sign-in is set through PUT …/login, which hashes the password and makes the TOTP secret.
  delete s.properties.login
  return s
})()
export const OPERATOR_PATCH: Schema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { name: copy(operatorItem.properties.name), roles: copy(operatorItem.properties.roles), disabled: copy(operatorItem.properties.disabled) },
}
export const CERTIFICATES_PUT: Schema = {
  type: 'object', additionalProperties: false, required: ['certificates'],
  properties: { certificates: copy(operatorItem.properties.certificates) },
}
const tokenItem = copy(operatorItem.properties.tokens.items)
export const LOGIN_PUT: Schema = {
  type: 'object', additionalProperties: false, required: ['username', 'password'],
  properties: {
    username: copy(operatorItem.properties.login.properties.username),
    password: { type: 'string', minLength: 12, maxLength: 200, description: 'at least 12 characters; only its scrypt hash is kept' },
  },
}
export const TOKEN_BODY: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: { id: tokenItem.properties.id, label: tokenItem.properties.label, expiresAt: tokenItem.properties.expiresAt, roles: tokenItem.properties.roles },
}

export const ROLE_NAMES = OPERATOR_ROLES

/** GovStack IM Configuration Management API: `ServiceAccessRights` (rights/allow, rights/deny). */
const govPart = { type: 'string', pattern: copy(configFileSchema.properties.members.items.properties.code).pattern }
export const SERVICE_ACCESS_RIGHTS: Schema = {
  type: 'array',
  minItems: 1,
  maxItems: 1000,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['memberClass', 'memberCode', 'serviceId', 'rights'],
    properties: {
      memberClass: govPart,
      memberCode: govPart,
      applicationId: govPart,
      serviceId: govPart,
      rights: {
        type: 'array',
        minItems: 1,
        maxItems: 1000,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['memberClass', 'memberCode'],
          properties: { memberClass: govPart, memberCode: govPart, applicationId: govPart },
        },
      },
    },
  },
}

export const ERROR_SCHEMA: Schema = {
  type: 'object',
  required: ['type', 'message', 'detail'],
  properties: {
    type: { enum: [...Object.keys(ADMIN_ERROR_STATUS), ...Object.keys(ONBOARDING_ERRORS)], description: 'stable code: match on it, never on the message' },
    message: { type: 'string' },
    detail: {
      type: 'object',
      additionalProperties: true,
      required: ['requestId'],
      properties: {
        requestId: { type: 'string' },
        problems: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
        currentEtag: { type: 'string' },
      },
    },
  },
}

// ---- onboarding: applications, access requests, certificates ------------------------------------

const accessRequestItem = copy(registrySectionSchemas.accessRequests.items)
const certificateItem = copy(registrySectionSchemas.certificates.items)

/** A reason shown to whoever the decision concerns (a rejected applicant, a refused client, a revoked certificate's owner). */
export const REASON_BODY: Schema = {
  type: 'object', additionalProperties: false, required: ['reason'],
  properties: { reason: { type: 'string', minLength: 1, maxLength: 2000 } },
}
export const REVOKE_BODY: Schema = {
  type: 'object', additionalProperties: false, required: ['reason'],
  properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } },
}
export const ACCESS_REQUEST_BODY: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['client', 'service', 'purpose'],
  properties: {
    client: { ...copy(accessRequestItem.properties.client), maxLength: 300, description: 'the member or subsystem asking (`AL-DEV/GOV/K11503002N/e-albania`)' },
    service: { ...copy(accessRequestItem.properties.service), maxLength: 300, description: 'the service as grants name it: provider and code (`AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet`)' },
    endpoints: {
      type: 'array', minItems: 1, maxItems: 50,
      items: (() => {
        const e = copy(accessRequestItem.properties.endpoints.items)
        e.properties.path.maxLength = 500
        return e
      })(),
      description: 'REST only: the endpoints asked for; absent = the whole service',
    },
    purpose: { type: 'string', minLength: 1, maxLength: 2000 },
  },
}
const subscriptionItem = copy(registrySectionSchemas.subscriptions.items)
export const SUBSCRIPTION_BODY: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['room', 'eventTypes', 'subscriber', 'mode'],
  properties: {
    room: { ...copy(subscriptionItem.properties.room), maxLength: 300, description: 'the room: a subsystem of its owner (`AL-DEV/NJQV/L21603004L/transparenca`)' },
    eventTypes: { ...copy(subscriptionItem.properties.eventTypes), uniqueItems: true, description: 'the room\'s event types to receive' },
    subscriber: { ...copy(subscriptionItem.properties.subscriber), maxLength: 300, description: 'the member or subsystem that receives the events (`AL-DEV/NJQV/M51305009K/gjendja-civile`)' },
    mode: copy(subscriptionItem.properties.mode),
    push: (() => {
      const p = copy(subscriptionItem.properties.push)
      p.properties.service.maxLength = 300
      p.properties.path.maxLength = 500
      p.description = 'push only: a service of the subscriber\'s own member that receives each event, and a path under it'
      return p
    })(),
    fifo: { ...copy(subscriptionItem.properties.fifo), description: 'one delivery at a time per ordering key, in publication order' },
    purpose: copy(subscriptionItem.properties.purpose),
  },
  if: copy(subscriptionItem.if),
  then: copy(subscriptionItem.then),
}
export const OPTIONAL_REASON_BODY: Schema = {
  type: 'object', additionalProperties: false,
  properties: { reason: { type: 'string', minLength: 1, maxLength: 2000 } },
}
export const CERTIFICATE_BODY: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['role', 'owner', 'csr'],
  properties: {
    role: copy(certificateItem.properties.role),
    owner: { type: 'string', minLength: 1, maxLength: 300, pattern: "^[A-Za-z0-9'()+,\\-.=?]+(/[A-Za-z0-9'()+,\\-.=?]+){0,3}$", description: 'tls: a subsystem (or member) id; sign: a member id; operator: an operator id' },
    csr: { type: 'string', minLength: 1, maxLength: 8192, description: 'one PEM CERTIFICATE REQUEST naming the owner (`ura cert request`)' },
    days: { type: 'integer', minimum: 1, maximum: 825, description: 'validity in days (default 365)' },
  },
}
