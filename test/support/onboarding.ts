/**
 * What the onboarding tests share: a registry store seeded with the demo registry, a real CA, CSRs
 * made the way `ura cert request` makes them, an application form with its sealed letter, and the
 * public routes served by a bare Fastify instance on loopback.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { request } from 'undici'
import { publicOnboardingRoutes, type PublicOnboardingOptions } from '../../admin/onboarding/public-routes.ts'
import { createCsr, createRootCa, generateKeyPair, type CertificateAuthority, type KeyPair } from '../../certs/pki.ts'
import { importDir, openRegistryStore, type RegistryStore } from '../../registry/store/index.ts'
import { checkLetter as checkLetterOf } from '../../schemas/checks.ts'

export const INSTANCE = 'AL-DEV'
export const DEMO = new URL('../../config/demo/', import.meta.url).pathname
export const CIVIL = 'AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas'
export const TAXES = 'AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet'

/** A synthetic NIPT (or NID) with a right check letter, from its first nine characters. */
export const withCheckLetter = (nine: string): string => nine + checkLetterOf(nine)

/** A small but whole PDF: `%PDF-` at the start, `%%EOF` at the end. */
export const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1')

export function csr (id: string, opts: { keys?: KeyPair; cn?: string; name?: string; serialNumber?: string | null } = {}): { pem: string; keys: KeyPair } {
  const keys = opts.keys ?? generateKeyPair('ec-p256')
  const serialNumber = opts.serialNumber === null ? {} : { serialNumber: opts.serialNumber ?? id }
  return { pem: createCsr(keys.privateKey, { C: 'AL', O: opts.name ?? 'Bashkia Test', ...serialNumber, CN: opts.cn ?? id }), keys }
}

export interface Applicant {
  nipt: string
  memberClass: string
  systems: string[]
  fields: Record<string, string | string[]>
  keys: Record<string, KeyPair>
}

/** The fields of a good application for `nipt`, its systems' and e-seal's CSRs made with fresh keys. */
export function applicant (nipt: string, opts: { systems?: string[]; services?: string[]; memberClass?: string } = {}): Applicant {
  const memberClass = opts.memberClass ?? 'NJQV'
  const systems = opts.systems ?? ['arkiva']
  const member = `${INSTANCE}/${memberClass}/${nipt}`
  const keys: Record<string, KeyPair> = {}
  const fields: Record<string, string | string[]> = {
    'institution.name': 'Bashkia Provë',
    'institution.nipt': nipt,
    'institution.memberClass': memberClass,
    'employee.name': 'Elira Hoxha',
    'employee.position': 'Përgjegjëse e IT',
    'employee.nid': 'I50314123V',
    'employee.email': 'elira.hoxha@bashkia-prove.gov.al',
    'employee.phone': '+355 67 212 3456',
  }
  systems.forEach((code, i) => {
    const c = csr(`${member}/${code}`)
    keys[code] = c.keys
    fields[`systems[${i}].code`] = code
    fields[`systems[${i}].name`] = `Sistemi ${code}`
    fields[`systems[${i}].csr`] = c.pem
  })
  const seal = csr(member)
  keys.seal = seal.keys
  fields.sealCsr = seal.pem
  fields.services = opts.services ?? [CIVIL]
  return { nipt, memberClass, systems, fields, keys }
}

/** The application body as the form parser makes it, from an applicant's fields. */
export function formBody (fields: Record<string, string | string[]>): Record<string, unknown> {
  const systems: Array<Record<string, string>> = []
  const out: Record<string, any> = { institution: {}, employee: {} }
  for (const [k, v] of Object.entries(fields)) {
    const sys = /^systems\[(\d+)\]\.(\w+)$/.exec(k)
    if (sys !== null) { (systems[Number(sys[1])] ??= {})[sys[2]] = v as string; continue }
    const [group, field] = k.split('.')
    if (field !== undefined) out[group][field] = v
    else out[k] = v
  }
  out.systems = systems
  return out
}

export interface FormPart { name: string; value: string | Buffer; filename?: string; type?: string }

/** The parts of an application: its fields, then the letter as a file part. */
export function parts (fields: Record<string, string | string[]>, letter: FormPart | null = { name: 'letter', value: PDF, filename: 'kerkesa.pdf', type: 'application/pdf' }): FormPart[] {
  const out: FormPart[] = []
  for (const [name, v] of Object.entries(fields)) for (const value of Array.isArray(v) ? v : [v]) out.push({ name, value })
  if (letter !== null) out.push(letter)
  return out
}

/** multipart/form-data as a browser or `curl -F` sends it. */
export async function encode (list: FormPart[]): Promise<{ body: Buffer; contentType: string }> {
  const form = new FormData()
  for (const p of list) {
    if (p.filename !== undefined) form.append(p.name, new Blob([typeof p.value === 'string' ? p.value : new Uint8Array(p.value)], { type: p.type ?? '' }), p.filename)
    else form.append(p.name, typeof p.value === 'string' ? p.value : p.value.toString('latin1'))
  }
  const req = new Request('http://localhost/', { method: 'POST', body: form })
  return { body: Buffer.from(await req.arrayBuffer()), contentType: req.headers.get('content-type')! }
}

export interface Answer { status: number; headers: Record<string, string | string[] | undefined>; text: string; json: any }

export async function call (url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  const res = await request(url, { method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.body })
  const text = await res.body.text()
  let json: any
  try { json = JSON.parse(text) } catch { json = undefined }
  return { status: res.statusCode, headers: res.headers, text, json }
}

export async function submit (base: string, list: FormPart[], headers: Record<string, string> = {}): Promise<Answer> {
  const { body, contentType } = await encode(list)
  return await call(`${base}/public/v1/applications`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body })
}

export async function freshStore (t: Test): Promise<RegistryStore> {
  const file = join(await mkdtemp(join(tmpdir(), 'ura-onboarding-')), 'registry.sqlite')
  const store = await openRegistryStore(file, { instance: INSTANCE })
  t.teardown(() => store.close())
  await store.commit(await importDir(DEMO), { who: 'test', why: 'the demo registry', expectedVersion: 0 })
  return store
}

export interface Served { app: FastifyInstance; base: string; store: RegistryStore; ca: CertificateAuthority; audited: Array<Record<string, unknown>> }

/** The public routes on a bare Fastify instance, on loopback, over a fresh store; an audit sink records what they report. */
export async function serve (t: Test, options: Partial<PublicOnboardingOptions> = {}): Promise<Served> {
  const store = options.store ?? await freshStore(t)
  const ca = createRootCa()
  const audited: Array<Record<string, unknown>> = []
  const app = Fastify()
  await app.register(publicOnboardingRoutes, { store, caPem: ca.pem, audit: { record: async (e) => { audited.push({ ...e }) } }, ...options })
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  return { app, base: address, store, ca, audited }
}
