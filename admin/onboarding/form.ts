/**
 * Reads an application sent as `multipart/form-data` — what an HTML form posts, and `curl -F` —
 * into the application body and the letter. Fields are named after the body's paths
 * (`institution.nipt`, `employee.nid`, `systems[0].code`, `systems[0].csr`, `sealCsr`, `services`
 * repeated) and the letter is the file part `letter`; a CSR may be a text field or a file.
 *
 * Parsing uses the platform's own multipart reader (`Response#formData()`, built into Node), on a
 * body Fastify has already capped in size: no parsing library is added for one form, and only the
 * part count is checked before it runs.
 */
import { OnboardingError } from './errors.ts'
import { MAX_SYSTEMS, safeFilename } from './application.ts'

/** More parts than any application needs (fields of ten systems, twenty services, the letter). */
export const MAX_PARTS = 80
const MAX_CSR_FILE = 64 * 1024

const SINGLE = /^(institution\.(name|nipt|memberClass)|employee\.(name|position|nid|email|phone)|sealCsr|letter)$/
const SYSTEM = /^systems\[([0-9]{1,2})\]\.(code|name|csr)$/

export interface Submission {
  body: Record<string, unknown>
  letter: { bytes: Buffer; filename?: string; type: string }
}

const bad = (path: string, message: string): OnboardingError => new OnboardingError('Onboarding.InvalidApplication', `${path}: ${message}`, [{ path, message }])

function boundaryOf (contentType: string): string {
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType)
  const boundary = m?.[1] ?? m?.[2]
  if (boundary === undefined) throw new OnboardingError('Onboarding.InvalidMultipart', 'multipart/form-data without a boundary')
  return boundary
}

function countParts (raw: Buffer, boundary: string): number {
  const marker = Buffer.from(`--${boundary}`, 'latin1')
  let n = 0
  for (let at = raw.indexOf(marker); at !== -1 && n <= MAX_PARTS + 1; at = raw.indexOf(marker, at + marker.length)) n++
  return n - 1
}

export async function parseSubmission (raw: Buffer, contentType: string): Promise<Submission> {
  const boundary = boundaryOf(contentType)
  if (countParts(raw, boundary) > MAX_PARTS) throw new OnboardingError('Onboarding.InvalidMultipart', `more than ${MAX_PARTS} parts`)
  let form: FormData
  try {
    form = await new Response(raw as Uint8Array<ArrayBuffer>, { headers: { 'content-type': contentType } }).formData()
  } catch {
    throw new OnboardingError('Onboarding.InvalidMultipart', 'the body is not well-formed multipart/form-data')
  }
  const single = new Map<string, FormDataEntryValue>()
  const systems: Array<Record<string, FormDataEntryValue>> = []
  const services: string[] = []
  for (const [name, value] of form) {
    if (name === 'services') {
      if (typeof value !== 'string') throw bad('services', 'must be text, not a file')
      if (value.trim() !== '') services.push(value.trim())
      continue
    }
    const sys = SYSTEM.exec(name)
    if (sys !== null) {
      const i = Number(sys[1])
      if (i >= MAX_SYSTEMS) throw bad(name.slice(0, 40), `at most ${MAX_SYSTEMS} systems`)
      systems[i] ??= {}
      if (sys[2] in systems[i]) throw bad(name, 'sent twice')
      systems[i][sys[2]] = value
      continue
    }
    if (!SINGLE.test(name)) throw bad(name.slice(0, 60), 'unknown field')
    if (single.has(name)) throw bad(name, 'sent twice')
    single.set(name, value)
  }
  for (let i = 0; i < systems.length; i++) if (systems[i] === undefined) throw bad(`systems[${i}]`, `missing while systems[${systems.length - 1}] is sent`)

  const text = async (field: string, value: FormDataEntryValue | undefined, fileAllowed: boolean): Promise<string | undefined> => {
    if (value === undefined || typeof value === 'string') return value
    if (!fileAllowed) throw bad(field, 'must be text, not a file')
    if (value.size > MAX_CSR_FILE) throw bad(field, `the file is larger than ${MAX_CSR_FILE} bytes`)
    return await value.text()
  }
  const institution: Record<string, unknown> = {}
  const employee: Record<string, unknown> = {}
  const body: Record<string, unknown> = {}
  for (const [name, value] of single) {
    if (name === 'letter') continue
    const [group, field] = name.split('.')
    const v = await text(name, value, name === 'sealCsr')
    if (group === 'institution') institution[field] = v
    else if (group === 'employee') employee[field] = v
    else body[name] = v
  }
  if (Object.keys(institution).length > 0) body.institution = institution
  if (Object.keys(employee).length > 0) body.employee = employee
  if (systems.length > 0) {
    body.systems = await Promise.all(systems.map(async (s, i) => {
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(s)) {
        const t = await text(`systems[${i}].${k}`, v, k === 'csr')
        // A blank optional field of an HTML form is no field.
        if (!(k === 'name' && t === '')) out[k] = t
      }
      return out
    }))
  }
  if (services.length > 0) body.services = services

  const letter = single.get('letter')
  if (letter === undefined) throw new OnboardingError('Onboarding.LetterMissing', 'the sealed request letter (a PDF, file part `letter`) is missing')
  if (typeof letter === 'string') throw new OnboardingError('Onboarding.LetterMissing', 'the letter must be sent as a file, not as text')
  const filename = safeFilename(letter.name)
  return { body, letter: { bytes: Buffer.from(await letter.arrayBuffer()), ...(filename === undefined ? {} : { filename }), type: letter.type } }
}
