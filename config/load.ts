/**
 * Reads a configuration directory: every `*.yaml` / `*.yml` file in it, validated one by one
 * against the config schema, then merged and cross-checked. Every problem names the file, the
 * line and the path inside the file, so an operator can fix a broken config without guessing.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { Document, LineCounter, parseDocument, isNode } from 'yaml'
import { configFileSchema } from './schema.ts'
import { nidProblem } from '../schemas/checks.ts'
import { isFullDate } from '../schemas/full-date.ts'
import { REGISTRY_SECTIONS, type RegistrySections } from './registry-sections.ts'
import type { GrantConfig, MemberConfig, NodeConfig, ServiceConfig, UraConfig } from './types.ts'

export interface ConfigProblem {
  file: string
  /** Path inside the file, e.g. `services[0].adapter.url`. */
  path: string
  line?: number
  column?: number
  message: string
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[]
  constructor (problems: ConfigProblem[]) {
    super(`Invalid configuration:\n${problems.map(formatProblem).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

export function formatProblem (p: ConfigProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}:${p.column ?? 1}`
  return `${where} ${p.path === '' ? '(top level)' : p.path}: ${p.message}`
}

// The patterns are ASCII classes: without the `u` flag the same regular expressions run faster.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, unicodeRegExp: false })
const validateFile = ajv.compile(configFileSchema)
/** The same schema without filling defaults: checks content it must not change (made on first use). */
let checkOnly: ValidateFunction | undefined
function validateUnchanged (data: unknown): { ok: boolean; errors: ErrorObject[] } {
  checkOnly ??= new Ajv({ allErrors: true, strict: false, unicodeRegExp: false }).compile(configFileSchema)
  const ok = checkOnly(data) as boolean
  return { ok, errors: checkOnly.errors ?? [] }
}

interface ParsedFile {
  name: string
  doc: Document
  lines: LineCounter
  data: Record<string, any>
}

/** Where an item of the merged config came from, for cross-check messages. */
interface Origin { file: ParsedFile; path: Array<string | number> }

type Section = 'members' | 'services' | 'access'

/**
 * Calls `fn` for every item of a section, file after file. An item's origin is made from its file and
 * index only when a problem is found: a registry can hold tens of thousands of grants.
 */
function eachItem<T> (files: ParsedFile[], section: Section, fn: (value: T, file: ParsedFile, index: number) => void): void {
  for (const file of files) {
    const list = file.data[section] as T[] | undefined
    if (list !== undefined) for (let i = 0; i < list.length; i++) fn(list[i], file, i)
  }
}

function originOf (section: Section, file: ParsedFile, index: number, ...rest: Array<string | number>): Origin {
  return { file, path: [section, index, ...rest] }
}

/** A section's items of every file, in order (one file's own array when there is one file). */
function allItems<T> (files: ParsedFile[], section: Section): T[] {
  return files.length === 1 ? (files[0].data[section] ?? []) : files.flatMap(f => (f.data[section] ?? []) as T[])
}

export async function loadConfig (dir: string): Promise<UraConfig> {
  const absDir = resolve(dir)
  let names: string[]
  try {
    names = (await readdir(absDir)).filter(n => /\.ya?ml$/.test(n)).sort()
  } catch (err) {
    throw new ConfigError([{ file: absDir, path: '', message: `cannot read configuration directory: ${(err as Error).message}` }])
  }
  if (names.length === 0) throw new ConfigError([{ file: absDir, path: '', message: 'no *.yaml files in the configuration directory' }])

  const problems: ConfigProblem[] = []
  const files: ParsedFile[] = []
  for (const name of names) {
    const file = parseFile(join(dir, name), await readFile(join(absDir, name), 'utf8'), problems)
    if (file !== undefined) files.push(file)
  }
  if (problems.length > 0) throw new ConfigError(problems)

  const config = merge(files, absDir, problems)
  if (problems.length > 0) throw new ConfigError(problems)
  return config
}

/** One file's text, parsed and checked against the schema (defaults filled in); its problems, with lines, go to `problems`. */
function parseFile (display: string, text: string, problems: ConfigProblem[]): ParsedFile | undefined {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false })
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = lines.linePos(e.pos[0])
      problems.push({ file: display, path: '', line: pos.line, column: pos.col, message: `YAML syntax: ${e.message.split('\n')[0]}` })
    }
    return undefined
  }
  const data = (doc.toJS() ?? {}) as Record<string, any>
  const file: ParsedFile = { name: display, doc, lines, data }
  if (!validateFile(data)) {
    for (const e of validateFile.errors ?? []) problems.push(schemaProblem(file, e))
    return undefined
  }
  return file
}

/** One configuration file's syntax and schema problems, each with its line (the cross-checks need the whole directory). */
export function checkConfigFile (display: string, text: string): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  parseFile(display, text, problems)
  return problems
}

/** The registry parts of a configuration: what the registry store keeps, versioned (registry/store/). */
export interface RegistryParts extends RegistrySections {
  members: MemberConfig[]
  groups: Record<string, string[]>
  services: ServiceConfig[]
  access: GrantConfig[]
}

/**
 * Checks registry parts held outside YAML files (the registry store) with the same schema and
 * cross-checks as a configuration directory; `source` names them in the problems (no lines: there is
 * no file). The parts are not changed: the schema's defaults are not filled in, and the cross-checks
 * read an absent list as the empty list its default is.
 */
export function checkRegistryParts (instance: string, parts: RegistryParts, source: string): ConfigProblem[] {
  const data = { node: { instance, operators: [] }, ...parts } as Record<string, any>
  // No source text, so no lines to point at: an empty document stands in.
  const file: ParsedFile = { name: source, doc: new Document({}), lines: new LineCounter(), data }
  const problems: ConfigProblem[] = []
  const checked = validateUnchanged(data)
  if (!checked.ok) {
    for (const e of checked.errors) problems.push(schemaProblem(file, e))
    return problems
  }
  merge([file], source, problems)
  return problems
}

/**
 * A node's configuration with its registry parts taken from elsewhere (a version of the registry
 * store) instead of its YAML files: the node's settings as loaded, the parts checked like a file of the
 * directory — schema (its defaults are filled into `parts`, which the caller hands over) and
 * cross-checks, including those between the two (operators and rate limits name registered clients).
 * A section this node does not know is a problem too. Throws ConfigError listing every problem.
 */
export function composeConfig (node: NodeConfig, dir: string, parts: RegistryParts, source: string): UraConfig {
  const data: Record<string, any> = { ...parts, node }
  const file: ParsedFile = { name: source, doc: new Document({}), lines: new LineCounter(), data }
  const problems: ConfigProblem[] = []
  if (!validateFile(data)) {
    for (const e of validateFile.errors ?? []) problems.push(schemaProblem(file, e))
    throw new ConfigError(problems)
  }
  const config = merge([file], dir, problems)
  if (problems.length > 0) throw new ConfigError(problems)
  return config
}

function pathSegments (instancePath: string): Array<string | number> {
  if (instancePath === '') return []
  return instancePath.slice(1).split('/').map(s => s.replace(/~1/g, '/').replace(/~0/g, '~')).map(s => /^\d+$/.test(s) ? Number(s) : s)
}

function displayPath (segments: Array<string | number>): string {
  return segments.map((s, i) => typeof s === 'number' ? `[${s}]` : (i === 0 ? s : `.${s}`)).join('')
}

function locate (file: ParsedFile, segments: Array<string | number>): { line?: number; column?: number } {
  // Walk up until a node with a source range is found (a missing property has none).
  for (let n = segments.length; n >= 0; n--) {
    const node = file.doc.getIn(segments.slice(0, n), true)
    if (isNode(node) && node.range !== undefined && node.range !== null) {
      const pos = file.lines.linePos(node.range[0])
      return { line: pos.line, column: pos.col }
    }
  }
  return {}
}

function schemaProblem (file: ParsedFile, e: ErrorObject): ConfigProblem {
  const segments = pathSegments(e.instancePath)
  let message = e.message ?? 'is invalid'
  if (e.keyword === 'additionalProperties') message = `unknown property '${(e.params as any).additionalProperty}'`
  if (e.keyword === 'required') message = `missing required property '${(e.params as any).missingProperty}'`
  if (e.keyword === 'enum') message = `must be one of ${(e.params as any).allowedValues.join(', ')}`
  if (e.keyword === 'pattern' && segments.length > 0) message = `'${String(valueAt(file.data, segments))}' ${message}`
  return { file: file.name, path: displayPath(segments), ...locate(file, segments), message }
}

function valueAt (data: any, segments: Array<string | number>): unknown {
  return segments.reduce((v, s) => (v === undefined || v === null ? undefined : v[s]), data)
}

function problemAt (origin: Origin, message: string): ConfigProblem {
  return { file: origin.file.name, path: displayPath(origin.path), ...locate(origin.file, origin.path), message }
}

function merge (files: ParsedFile[], dir: string, problems: ConfigProblem[]): UraConfig {
  let node: NodeConfig | undefined
  let nodeOrigin: Origin | undefined
  const groups: Record<string, string[]> = {}
  const groupOrigins = new Map<string, Origin>()
  const sections: Record<string, Array<{ value: any; origin: Origin }>> = Object.fromEntries(REGISTRY_SECTIONS.map(k => [k, []]))

  for (const file of files) {
    const d = file.data
    if (d.node !== undefined) {
      if (nodeOrigin !== undefined) {
        problems.push(problemAt({ file, path: ['node'] }, `'node' is already set in ${nodeOrigin.file.name}`))
      } else {
        node = d.node
        nodeOrigin = { file, path: ['node'] }
        // Deferred signing keeps its open batches in the embedded log's writer thread (messagelog/deferred-batches.ts).
        if (d.node.log?.signing === 'deferred' && d.node.log?.store === 'postgres') {
          problems.push(problemAt({ file, path: ['node', 'log', 'signing'] }, 'deferred signing is offered by the embedded message log only (node.log.store: embedded)'))
        }
      }
    }
    for (const k of REGISTRY_SECTIONS) (d[k] as unknown[] | undefined)?.forEach((v, i) => sections[k].push({ value: v, origin: { file, path: [k, i] } }))
    for (const [name, list] of Object.entries((d.groups ?? {}) as Record<string, string[]>)) {
      const seen = groupOrigins.get(name)
      if (seen !== undefined) problems.push(problemAt({ file, path: ['groups', name] }, `group '${name}' is already defined in ${seen.file.name}`))
      groups[name] = list
      groupOrigins.set(name, { file, path: ['groups', name] })
    }
  }
  if (node === undefined) {
    problems.push({ file: dir, path: 'node', message: "no file sets 'node' (instance, listen address)" })
    return undefined as never
  }
  const instance = node.instance

  // Registered client ids: every member and every subsystem.
  const clients = new Set<string>()
  eachItem<MemberConfig>(files, 'members', (m, file, index) => {
    const memberId = `${instance}/${m.class}/${m.code}`
    if (clients.has(memberId)) problems.push(problemAt(originOf('members', file, index), `member ${memberId} is defined twice`))
    clients.add(memberId)
    ;(m.subsystems ?? []).forEach((s, i) => {
      const id = `${memberId}/${s.code}`
      if (clients.has(id)) problems.push(problemAt(originOf('members', file, index, 'subsystems', i), `subsystem ${id} is defined twice`))
      clients.add(id)
    })
    // Officials: the schema checked the NID's shape; its check letter and the date are checked here.
    const nids = new Set<string>()
    m.officials?.forEach((o, i) => {
      const at: Origin = originOf('members', file, index, 'officials', i)
      const wrongLetter = nidProblem(o.nid)
      if (wrongLetter !== undefined) problems.push(problemAt({ ...at, path: [...at.path, 'nid'] }, wrongLetter))
      if (nids.has(o.nid)) problems.push(problemAt({ ...at, path: [...at.path, 'nid'] }, `official ${o.nid} is listed twice for member ${memberId}`))
      nids.add(o.nid)
      if (!isFullDate(o.validUntil)) problems.push(problemAt({ ...at, path: [...at.path, 'validUntil'] }, `'${o.validUntil}' is not a date that exists`))
    })
  })

  const serviceTypes = new Map<string, 'rest' | 'soap'>()
  const seenServices = new Set<string>()
  eachItem<ServiceConfig>(files, 'services', (s, file, index) => {
    if (!s.provider.startsWith(`${instance}/`)) problems.push(problemAt(originOf('services', file, index, 'provider'), `provider ${s.provider} is not in this node's instance ${instance}`))
    else if (!clients.has(s.provider)) problems.push(problemAt(originOf('services', file, index, 'provider'), `provider ${s.provider} is not a registered member or subsystem`))
    const key = `${s.provider}/${s.code}`
    const versioned = s.version === undefined ? key : `${key}/${s.version}`
    if (seenServices.has(versioned)) problems.push(problemAt(originOf('services', file, index), `service ${versioned} is defined twice`))
    seenServices.add(versioned)
    serviceTypes.set(key, s.type)
    if (s.type === 'soap' && s.wsdl === undefined) problems.push(problemAt(originOf('services', file, index), 'a soap service needs a wsdl'))
  })

  for (const [name, list] of Object.entries(groups)) {
    list.forEach((c, i) => {
      if (!clients.has(c)) problems.push(problemAt({ file: groupOrigins.get(name)!.file, path: ['groups', name, i] }, `${c} is not a registered member or subsystem`))
    })
  }

  // Rate limits may only name registered clients: a typo would otherwise silently leave a client unlimited.
  for (const c of Object.keys(node.rateLimits?.clients ?? {})) {
    if (!clients.has(c)) problems.push(problemAt({ file: nodeOrigin!.file, path: ['node', 'rateLimits', 'clients', c] }, `${c} is not a registered member or subsystem`))
  }

  eachItem<GrantConfig>(files, 'access', (g, file, index) => {
    const type = serviceTypes.get(g.service)
    if (type === undefined) problems.push(problemAt(originOf('access', file, index, 'service'), `service ${g.service} is not defined`))
    if (type === 'soap' && g.endpoints !== undefined) problems.push(problemAt(originOf('access', file, index, 'endpoints'), 'endpoint grants apply to rest services only'))
    // Absent lists (content checked without its defaults filled in) are the empty lists they default to.
    const grantClients = g.clients ?? []
    const grantGroups = g.groups ?? []
    for (let i = 0; i < grantClients.length; i++) {
      const c = grantClients[i]
      if (!clients.has(c)) problems.push(problemAt(originOf('access', file, index, 'clients', i), `${c} is not a registered member or subsystem`))
    }
    for (let i = 0; i < grantGroups.length; i++) {
      const name = grantGroups[i]
      if (groups[name] === undefined) problems.push(problemAt(originOf('access', file, index, 'groups', i), `group '${name}' is not defined`))
    }
    if (grantClients.length === 0 && grantGroups.length === 0) problems.push(problemAt(originOf('access', file, index), 'a grant needs at least one client or group'))
  })

  // Operators read any exchange's evidence: each must be a client the node can identify.
  node.operators.forEach((c, i) => {
    if (!clients.has(c)) problems.push(problemAt({ file: nodeOrigin!.file, path: ['node', 'operators', i] }, `operator ${c} is not a registered member or subsystem`))
  })

  // The admin API: its own port, and a node operator whose member signs its audit trail.
  const admin = node.admin
  if (admin !== undefined) {
    const at: Origin = { file: nodeOrigin!.file, path: ['node', 'admin', 'listen', 'port'] }
    if (admin.listen.port !== 0 && [node.listen.port, node.listen.httpPort].includes(admin.listen.port)) problems.push(problemAt(at, `the admin API cannot share port ${admin.listen.port} with the exchanges`))
    if (node.operators.length === 0) problems.push(problemAt({ file: nodeOrigin!.file, path: ['node', 'admin'] }, 'the admin API needs node.operators: its audit trail is signed by the node operator\'s member'))
  }

  checkSections(sections, clients, new Set(serviceTypes.keys()), problems)

  return {
    node,
    sections: Object.fromEntries(REGISTRY_SECTIONS.map(k => [k, sections[k].map(e => e.value)])) as unknown as RegistrySections,
    members: allItems(files, 'members'),
    groups,
    services: allItems(files, 'services'),
    access: allItems(files, 'access'),
    dir,
  }
}

/** Cross-checks of the operator plane's sections: unique ids, and references to what the registry holds. */
function checkSections (sections: Record<string, Array<{ value: any; origin: Origin }>>, clients: Set<string>, services: Set<string>, problems: ConfigProblem[]): void {
  // `services`: provider/code of every defined service, as grants name them.
  const unique = (section: string, keyOf: (v: any) => string, what: string): void => {
    const seen = new Set<string>()
    for (const { value, origin } of sections[section]) {
      const key = keyOf(value)
      if (seen.has(key)) problems.push(problemAt(origin, `${what} ${key} is listed twice`))
      seen.add(key)
    }
  }
  unique('operators', o => o.id, 'operator')
  unique('certificates', c => c.serial, 'certificate serial')
  unique('revocations', r => `${r.issuer} ${r.serial}`, 'revocation of')
  unique('applications', a => a.id, 'application')
  unique('accessRequests', r => r.id, 'access request')
  unique('outbox', m => m.id, 'outbox message')
  unique('rooms', r => r.room, 'room')
  unique('subscriptions', r => r.id, 'subscription')
  const rooms = new Map<string, any>(sections.rooms.map(({ value }) => [value.room, value]))
  for (const { value: r, origin } of sections.rooms) {
    if (!clients.has(r.room) || r.room.split('/').length !== 4) problems.push(problemAt({ ...origin, path: [...origin.path, 'room'] }, `room ${r.room} must be a registered subsystem`))
    const names = new Set<string>()
    for (const e of r.eventTypes) {
      if (names.has(e.name)) problems.push(problemAt(origin, `room ${r.room}: event type ${e.name} is listed twice`))
      names.add(e.name)
    }
  }
  for (const { value: s, origin } of sections.subscriptions) {
    if (s.state !== 'approved' && s.state !== 'pending' && s.state !== undefined) continue
    const room = rooms.get(s.room)
    if (room === undefined) { problems.push(problemAt({ ...origin, path: [...origin.path, 'room'] }, `subscription ${s.id}: room ${s.room} is not defined`)); continue }
    for (const t of s.eventTypes) {
      if (!room.eventTypes.some((e: any) => e.name === t)) problems.push(problemAt(origin, `subscription ${s.id}: room ${s.room} has no event type ${t}`))
    }
    if (!clients.has(s.subscriber)) problems.push(problemAt({ ...origin, path: [...origin.path, 'subscriber'] }, `subscription ${s.id}: ${s.subscriber} is not a registered member or subsystem`))
    if (s.push !== undefined && !services.has(s.push.service.split('/').slice(0, 5).join('/'))) problems.push(problemAt({ ...origin, path: [...origin.path, 'push', 'service'] }, `subscription ${s.id}: service ${s.push.service} is not defined`))
  }
  const tokens = new Set<string>()
  for (const { value: o, origin } of sections.operators) {
    const scoped = [...o.roles, ...(o.tokens ?? []).flatMap((t: any) => t.roles ?? [])] as Array<{ member?: string }>
    for (const r of scoped) {
      if (r.member !== undefined && !clients.has(r.member)) problems.push(problemAt(origin, `operator ${o.id}: role scoped to ${r.member}, which is not a registered member`))
    }
    for (const t of o.tokens ?? []) {
      if (tokens.has(t.id)) problems.push(problemAt(origin, `token id ${t.id} is used twice`))
      tokens.add(t.id)
    }
  }
  for (const { value: r, origin } of sections.accessRequests) {
    if (r.state !== 'pending') continue
    if (!clients.has(r.client)) problems.push(problemAt({ ...origin, path: [...origin.path, 'client'] }, `${r.client} is not a registered member or subsystem`))
    if (!services.has(r.service)) problems.push(problemAt({ ...origin, path: [...origin.path, 'service'] }, `service ${r.service} is not defined`))
  }
}
