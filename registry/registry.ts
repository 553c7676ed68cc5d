/**
 * The node's runtime view of its registry: registered client systems, services with their adapters
 * and compiled validators, and access grants with groups expanded. One object is one snapshot: the
 * node builds a new one for each registry version and swaps it in whole (registry/live.ts), so an
 * exchange reads one consistent view from start to end. A service whose settings did not change
 * keeps its entry — adapter, connection pool, breaker, compiled schemas — from the snapshot before.
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { ValidateFunction } from 'ajv'
import { adapterKinds, createAdapter } from '../adapters/index.ts'
import type { Adapter } from '../adapters/types.ts'
import type { ResilientAdapter } from '../adapters/resilience.ts'
import { ConfigError, type ConfigProblem } from '../config/load.ts'
import type { EndpointConfig, ServiceConfig, UraConfig } from '../config/types.ts'
import { buildRooms, type RoomEntry } from './rooms.ts'
import type { SchemaLibrary } from '../schemas/library.ts'
import type { LibraryXsd } from '../schemas/xsd-hooks.ts'
import { clientKey, parseClientText, serviceKey, type ClientId, type ServiceId } from '../protocol/identifiers.ts'
import { RESERVED_SERVICE_CODES } from '../protocol/metaservices.ts'
import { canonicalJson } from './store/content.ts'

export interface ClientEntry {
  id: ClientId
  key: string
  name: string
  connection: 'http' | 'mtls'
  /** SHA-256 fingerprints (lower-case hex) the config pins for this client; undefined = any certificate issued to its id. */
  certificates?: Set<string>
  /** The member's officials keyed by user id (`AL-<NID>`), shared by the member and its subsystems; undefined = none. */
  officials?: Map<string, OfficialEntry>
}

/** An official as services with `requireOfficial` check them. */
export interface OfficialEntry {
  nid: string
  name: string
  role: string
  /** `YYYY-MM-DD`, inclusive: compared with the date in Albania. */
  validUntil: string
}

export interface RestEndpoint {
  method: string
  template: string
  match: RegExp
  params?: ValidateFunction
  query?: ValidateFunction
  body?: ValidateFunction
  response?: ValidateFunction
}

export interface ServiceEntry {
  id: ServiceId
  key: string
  config: ServiceConfig
  /** The service's settings as canonical JSON: equal text, same entry in the next snapshot. */
  fingerprint: string
  /** The settings as JSON in their own key order: the quick first comparison (versions rarely reorder keys). */
  text: string
  adapter: Adapter
  /** The same adapter seen as its resilience wrapper: breaker state, in-flight and queued calls. */
  resilience?: ResilientAdapter
  endpoints: RestEndpoint[]
  xsd?: LibraryXsd
  wsdl?: string
}

/**
 * A service's grants, merged by effect: who is allowed or denied the whole service (one look-up
 * each), and the endpoint grants, each with its subjects and patterns.
 */
interface ServiceGrants {
  allow: Set<string>
  deny: Set<string>
  endpoints: Array<{ deny: boolean; subjects: Set<string>; endpoints: Array<{ method: string; match: RegExp }> }>
}

export interface BuildOptions {
  /** The registry store version the configuration's registry parts come from (0: not from a store). */
  version?: number
  /** The snapshot served until now: entries of services whose settings are unchanged are taken over. */
  previous?: Registry
}

export class Registry {
  readonly clients = new Map<string, ClientEntry>()
  /** Keyed by service key (no version); one entry per configured version. */
  readonly services = new Map<string, ServiceEntry[]>()
  /** Publish/subscribe rooms keyed by the room's subsystem id text (registry/rooms.ts). */
  rooms = new Map<string, RoomEntry>()
  private readonly grants = new Map<string, ServiceGrants>()
  readonly instance: string
  /** What this snapshot was built from: the node's settings and the registry parts. */
  readonly config: UraConfig
  /** The registry store version (0 when the registry parts came from the configuration directory). */
  readonly version: number
  /** Exchanges running on this snapshot (hold/release), so the adapters it alone uses close only after them. */
  private inFlight = 0
  private drained: (() => void) | undefined

  private constructor (config: UraConfig, version: number) {
    this.instance = config.node.instance
    this.config = config
    this.version = version
  }

  static async build (config: UraConfig, library: SchemaLibrary, opts: BuildOptions = {}): Promise<Registry> {
    const registry = new Registry(config, opts.version ?? 0)
    const problems: ConfigProblem[] = []
    const byFingerprint = new Map<string, ServiceEntry>()
    const byText = new Map<string, ServiceEntry>()
    if (opts.previous !== undefined) for (const e of opts.previous.entries()) { byFingerprint.set(e.fingerprint, e); byText.set(e.text, e) }
    /** Adapters made by this build: the only ones a failed build closes again. */
    const made: Adapter[] = []
    for (const m of config.members) {
      const memberId: ClientId = { instance: config.node.instance, memberClass: m.class, memberCode: m.code }
      // A member without subsystems may call as itself; its connection follows its first subsystem or mtls.
      const officials = m.officials === undefined || m.officials.length === 0
        ? undefined
        : new Map(m.officials.map(o => [`AL-${o.nid}`, { nid: o.nid, name: o.name, role: o.role, validUntil: o.validUntil }]))
      registry.addClient(memberId, m.name, 'mtls', undefined, officials)
      for (const s of m.subsystems) registry.addClient({ ...memberId, subsystemCode: s.code }, s.name ?? m.name, s.connection, s.certificates, officials)
    }

    for (const s of config.services) {
      const text = JSON.stringify(s)
      const quick = byText.get(text)
      if (quick !== undefined) {
        registry.addService(quick)
        continue
      }
      const fingerprint = canonicalJson(s)
      const same = byFingerprint.get(fingerprint)
      if (same !== undefined) {
        registry.addService(same)
        continue
      }
      const where = `service ${s.provider}/${s.code}${s.version === undefined ? '' : '/' + s.version}`
      const problem = (message: string): void => { problems.push({ file: config.dir, path: where, message }) }
      if (RESERVED_SERVICE_CODES.has(s.code)) { problem(`service code '${s.code}' is reserved for an X-Road metaservice`); continue }
      if (adapterKinds[s.adapter.kind] === undefined) { problem(`unknown adapter kind '${s.adapter.kind}' (known: ${Object.keys(adapterKinds).join(', ')})`); continue }
      const id: ServiceId = { ...parseClientText(s.provider), serviceCode: s.code, ...(s.version === undefined ? {} : { serviceVersion: s.version }) }
      const entry: ServiceEntry = {
        id,
        key: serviceKey(id),
        config: s,
        fingerprint,
        text,
        adapter: undefined as unknown as Adapter,
        endpoints: [],
      }
      try {
        entry.endpoints = (s.endpoints ?? []).map(e => compileEndpoint(e, library))
      } catch (err) {
        problem(`schema does not compile: ${(err as Error).message}`)
      }
      if (s.type === 'soap') {
        if (s.wsdl !== undefined) {
          try {
            entry.wsdl = await readFile(resolve(config.dir, s.wsdl), 'utf8')
          } catch (err) {
            problem(`cannot read wsdl ${s.wsdl}: ${(err as Error).message}`)
          }
        }
        if (s.xsd !== undefined) {
          entry.xsd = library.xsd(s.xsd)
          if (entry.xsd === undefined) problem(`no XSD in the schema library has targetNamespace ${s.xsd} (known: ${library.namespaces.join(', ')})`)
        }
      }
      if (problems.length > 0) continue
      try {
        entry.adapter = entry.resilience = createAdapter(s, { responseBytes: config.node.limits.responseBytes, resilience: config.node.resilience, library })
      } catch (err) {
        problem(`adapter ${s.adapter.kind}: ${(err as Error).message}`)
        continue
      }
      made.push(entry.adapter)
      registry.addService(entry)
    }

    for (const g of config.access) {
      let grants = registry.grants.get(g.service)
      if (grants === undefined) registry.grants.set(g.service, grants = { allow: new Set(), deny: new Set(), endpoints: [] })
      const deny = g.effect === 'deny'
      const subjects = g.endpoints !== undefined ? new Set<string>() : deny ? grants.deny : grants.allow
      for (const c of g.clients) subjects.add(c)
      for (const group of g.groups) for (const member of config.groups[group] ?? []) subjects.add(member)
      if (g.endpoints !== undefined) grants.endpoints.push({ deny, subjects, endpoints: g.endpoints.map(e => ({ method: e.method, match: aclPattern(e.path) })) })
    }

    try {
      registry.rooms = buildRooms(config.sections.rooms, config.sections.subscriptions, library)
    } catch (err) {
      problems.push({ file: config.dir, path: 'rooms', message: `an event type's schema does not compile: ${(err as Error).message}` })
    }

    if (problems.length > 0) {
      await Promise.all(made.map(a => a.close()))
      throw new ConfigError(problems)
    }
    return registry
  }

  private addService (entry: ServiceEntry): void {
    const list = this.services.get(entry.key)
    if (list === undefined) this.services.set(entry.key, [entry])
    else list.push(entry)
  }

  /** Every service entry, each configured version once. */
  entries (): ServiceEntry[] {
    return [...this.services.values()].flat()
  }

  /** An exchange starts on this snapshot; every hold is matched by one release when it ends. */
  hold (): void {
    this.inFlight++
  }

  release (): void {
    this.inFlight--
    if (this.inFlight === 0 && this.drained !== undefined) {
      const drained = this.drained
      this.drained = undefined
      drained()
    }
  }

  /** Calls `fn` once no exchange holds this snapshot (at once if none does). */
  whenDrained (fn: () => void): void {
    if (this.inFlight === 0) fn()
    else this.drained = fn
  }

  /** Exchanges running on this snapshot now. */
  get holds (): number {
    return this.inFlight
  }

  private addClient (id: ClientId, name: string, connection: 'http' | 'mtls', certificates?: string[], officials?: Map<string, OfficialEntry>): void {
    const key = clientKey(id)
    const entry: ClientEntry = { id, key, name, connection }
    if (certificates !== undefined) entry.certificates = new Set(certificates.map(normaliseFingerprint))
    if (officials !== undefined) entry.officials = officials
    this.clients.set(key, entry)
  }

  /**
   * A client certificate is registered for a client when its subject carries exactly that client's
   * identifier (the CA vouches for it) and, if the config pins certificates for the client, it is
   * one of them.
   */
  isCertificateOf (client: ClientEntry, cert: { identity: string | undefined; fingerprint: string }): boolean {
    if (cert.identity !== client.key) return false
    return client.certificates === undefined || client.certificates.has(cert.fingerprint)
  }

  findClient (id: ClientId): ClientEntry | undefined {
    return this.clients.get(clientKey(id))
  }

  /**
   * Finds the configured service for an id. A request without a version matches a service
   * configured with exactly one version; a versioned request needs that exact version.
   */
  findService (id: ServiceId): ServiceEntry | undefined {
    const list = this.services.get(serviceKey(id))
    if (list === undefined) return undefined
    if (id.serviceVersion === undefined) return list.find(s => s.id.serviceVersion === undefined) ?? (list.length === 1 ? list[0] : undefined)
    return list.find(s => s.id.serviceVersion === id.serviceVersion)
  }

  /**
   * Default deny: allowed only when an allow grant names the client (directly or by group) for this
   * service code and no deny grant naming it covers the call. A deny without endpoints covers every
   * call; with endpoints, the calls it lists (a listing asks without method and path: any endpoint
   * deny then hides nothing, the allowed endpoints are filtered by the callers).
   */
  isAllowed (client: ClientEntry, service: ServiceEntry, method?: string, path?: string): boolean {
    const grants = this.grants.get(service.key)
    if (grants === undefined) return false
    const key = client.key
    if (grants.deny.has(key)) return false
    let allowed = grants.allow.has(key)
    for (const grant of grants.endpoints) {
      if (!grant.subjects.has(key)) continue
      const covers = method !== undefined && path !== undefined && grant.endpoints.some(e => (e.method === '*' || e.method === method) && e.match.test(path))
      if (!covers) continue
      if (grant.deny) return false
      allowed = true
    }
    return allowed
  }

  /**
   * The user id names an official of the client's member (`AL-<NID>`) whose `validUntil` is today
   * or later, by the date in Albania at `now`.
   */
  isActiveOfficial (client: ClientEntry, userId: string | undefined, now: Date): boolean {
    if (userId === undefined) return false
    const official = client.officials?.get(userId)
    return official !== undefined && official.validUntil >= albanianDate(now)
  }

  /** Closes the adapters of every service (the node is stopping), letting their exchanges finish. */
  async close (): Promise<void> {
    await Promise.all(this.entries().map(s => s.adapter.close()))
  }

  /** Like close, but drops provider exchanges still in flight. */
  async destroy (): Promise<void> {
    await Promise.all(this.entries().map(s => s.adapter.destroy?.() ?? s.adapter.close()))
  }
}

const TIRANE_DATE = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Tirane', year: 'numeric', month: '2-digit', day: '2-digit' })

/** `YYYY-MM-DD` of the day it is in Albania at `now` (assembled from parts: no locale's order relied on). */
export function albanianDate (now: Date): string {
  let year = ''; let month = ''; let day = ''
  for (const p of TIRANE_DATE.formatToParts(now)) {
    if (p.type === 'year') year = p.value
    else if (p.type === 'month') month = p.value
    else if (p.type === 'day') day = p.value
  }
  return `${year}-${month}-${day}`
}

/** `AB:CD:…` or `abcd…` → `abcd…`. */
export function normaliseFingerprint (text: string): string {
  return text.replaceAll(':', '').toLowerCase()
}

const escape = (text: string): string => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&')

/** `/subjekte/{nipt}/detyrime` → a regex with one named group per parameter. */
function templatePattern (template: string): RegExp {
  const source = template.split(/(\{[A-Za-z_][A-Za-z0-9_]*\})/).map(piece => {
    const param = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(piece)
    return param === null ? escape(piece) : `(?<${param[1]}>[^/]+)`
  }).join('')
  return new RegExp(`^${source}/?$`)
}

const aclPatterns = new Map<string, RegExp>()

/** Grant paths: `*` matches within one segment, `**` matches any number of segments. Made once per path text. */
function aclPattern (path: string): RegExp {
  let pattern = aclPatterns.get(path)
  if (pattern === undefined) {
    const source = path.split(/(\*\*|\*)/).map(piece => piece === '**' ? '.*' : piece === '*' ? '[^/]*' : escape(piece)).join('')
    aclPatterns.set(path, pattern = new RegExp(`^${source}$`))
  }
  return pattern
}

function compileEndpoint (e: EndpointConfig, library: SchemaLibrary): RestEndpoint {
  return {
    method: e.method,
    template: e.path,
    match: templatePattern(e.path),
    ...(e.params === undefined ? {} : { params: library.compileParams(e.params) }),
    ...(e.query === undefined ? {} : { query: library.compileParams(e.query) }),
    ...(e.body === undefined ? {} : { body: library.compileBody(e.body) }),
    ...(e.response === undefined ? {} : { response: library.compileBody(e.response) }),
  }
}
