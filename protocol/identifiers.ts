/**
 * X-Road identifiers (DESIGN §3). Text forms:
 *   client  AL/NJQV/K12345678A/taksat-vendore          (member, or member + subsystem)
 *   service AL/GOV/L01234567B/regjistri-civil/kerkoShtetas[/v1]
 */
import { XRoadError } from './errors.ts'

/** The only characters X-Road allows in an identifier part. */
const PART = /^[A-Za-z0-9'()+,\-.=?]+$/

export interface ClientId {
  instance: string
  memberClass: string
  memberCode: string
  subsystemCode?: string
}

export interface ServiceId {
  instance: string
  memberClass: string
  memberCode: string
  subsystemCode?: string
  serviceCode: string
  serviceVersion?: string
}

export function isValidPart (part: string): boolean {
  return PART.test(part)
}

/**
 * The text forms of frozen identifiers (the parsed ids the edges share between requests, see
 * gateway/edge/parse-cache.ts), kept with them: each is asked for several times per exchange.
 * An identifier that can still change is written out every time.
 */
const CLIENT_KEYS = new WeakMap<object, string>()
const SERVICE_KEYS = new WeakMap<object, string>()
const SERVICE_TEXTS = new WeakMap<object, string>()

function remembered<I extends object> (texts: WeakMap<object, string>, id: I, write: (id: I) => string): string {
  if (!Object.isFrozen(id)) return write(id)
  let text = texts.get(id)
  if (text === undefined) texts.set(id, text = write(id))
  return text
}

const writeClientKey = (id: ClientId): string => {
  const base = `${id.instance}/${id.memberClass}/${id.memberCode}`
  return id.subsystemCode === undefined ? base : `${base}/${id.subsystemCode}`
}

export function clientKey (id: ClientId): string {
  return remembered(CLIENT_KEYS, id, writeClientKey)
}

/** Provider subsystem (or member) of a service, in client-id text form. */
export function providerKey (id: ServiceId): string {
  return clientKey(id)
}

/** Service id without its version: ACLs and routing are per service code. */
export function serviceKey (id: ServiceId): string {
  return remembered(SERVICE_KEYS, id, writeServiceKey)
}

const writeServiceKey = (id: ServiceId): string => `${providerKey(id)}/${id.serviceCode}`

export function serviceText (id: ServiceId): string {
  return remembered(SERVICE_TEXTS, id, writeServiceText)
}

const writeServiceText = (id: ServiceId): string => {
  const key = serviceKey(id)
  return id.serviceVersion === undefined ? key : `${key}/${id.serviceVersion}`
}

function checkParts (parts: string[], code: 'Client.InvalidClientIdentifier' | 'Client.BadRequest', what: string): void {
  for (const part of parts) {
    if (!isValidPart(part)) {
      throw new XRoadError(code, `Invalid character in ${what} identifier part '${part}': only A-Z a-z 0-9 ' ( ) + , - . = ? are allowed`)
    }
  }
}

/**
 * Parses the `X-Road-Client` header: `instance/class/code[/subsystem]`, each part percent-encoded.
 */
export function parseClientHeader (value: string): ClientId {
  const raw = value.split('/')
  if (raw.length !== 3 && raw.length !== 4) {
    throw new XRoadError('Client.InvalidClientIdentifier', `X-Road-Client must be instance/memberClass/memberCode[/subsystemCode], got '${value}'`)
  }
  const parts = raw.map(p => decodePart(p, 'Client.InvalidClientIdentifier'))
  checkParts(parts, 'Client.InvalidClientIdentifier', 'client')
  const [instance, memberClass, memberCode, subsystemCode] = parts
  return subsystemCode === undefined ? { instance, memberClass, memberCode } : { instance, memberClass, memberCode, subsystemCode }
}

/** Parses a client id in config text form (no percent-decoding). */
export function parseClientText (value: string): ClientId {
  const parts = value.split('/')
  if (parts.length !== 3 && parts.length !== 4) throw new Error(`'${value}' is not instance/memberClass/memberCode[/subsystemCode]`)
  checkParts(parts, 'Client.InvalidClientIdentifier', 'client')
  const [instance, memberClass, memberCode, subsystemCode] = parts
  return subsystemCode === undefined ? { instance, memberClass, memberCode } : { instance, memberClass, memberCode, subsystemCode }
}

function checkDefinedParts (id: ClientId | ServiceId, code: 'Client.InvalidClientIdentifier' | 'Client.BadRequest', what: string): void {
  for (const key in id) {
    const part = (id as unknown as Record<string, string | undefined>)[key]
    if (part !== undefined && !isValidPart(part)) checkParts([part], code, what)
  }
}

export function checkClientId (id: ClientId): ClientId {
  checkDefinedParts(id, 'Client.InvalidClientIdentifier', 'client')
  return id
}

export function checkServiceId (id: ServiceId): ServiceId {
  checkDefinedParts(id, 'Client.BadRequest', 'service')
  return id
}

export function decodePart (part: string, code: 'Client.InvalidClientIdentifier' | 'Client.BadRequest'): string {
  if (part === '') throw new XRoadError(code, 'Empty identifier part')
  // Nothing to decode (the usual case): decodeURIComponent would return the same string.
  if (!part.includes('%')) return part
  try {
    return decodeURIComponent(part)
  } catch {
    throw new XRoadError(code, `Malformed percent-encoding in identifier part '${part}'`)
  }
}

/** Member id (`instance/class/code`) of a client id or a service id in text form. */
export function memberOf (id: string): string {
  return id.split('/').slice(0, 3).join('/')
}
