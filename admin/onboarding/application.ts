/**
 * What an institution's application must be before it is stored: the body's JSON Schema (closed,
 * every size capped) and the checks a schema cannot state — NIPT and NID check letters, member class,
 * subsystem codes, each CSR parsing and verifying with the key it carries and naming exactly the id
 * its certificate will carry (`instance/class/NIPT/subsystem` for a system's TLS client certificate,
 * `instance/class/NIPT` for the member's e-seal, as `ura cert request` writes them), no key used
 * twice, the services asked for defined on the node — and the sealed request letter (a PDF, capped).
 * Each refusal is an OnboardingError with its own code.
 */
import { Ajv, type ErrorObject } from 'ajv'
import { readCsr, type CertificationRequest } from '../../certs/pki.ts'
import { isValidPart } from '../../protocol/identifiers.ts'
import type { RegistryContent } from '../../registry/store/index.ts'
import { nidProblem, niptProblem, normaliseNipt, normalisePhone } from '../../schemas/checks.ts'
import { OnboardingError, type Problem } from './errors.ts'
import { applicantOperatorId, memberIdOf } from './ids.ts'

/** The sealed request letter's cap. */
export const LETTER_MAX_BYTES = 5 * 1024 * 1024
export const MAX_SYSTEMS = 10
export const MAX_SERVICES = 20
const CSR_MAX_CHARS = 8192

/**
 * Member classes an application may name, beside any class already in the registry: central
 * government, local government units (bashki), companies, non-governmental organisations.
 */
export const MEMBER_CLASSES = ['GOV', 'NJQV', 'COM', 'NGO'] as const

export interface ApplicationBody {
  institution: { name: string; nipt: string; memberClass: string }
  employee: { name: string; position: string; nid: string; email: string; phone: string }
  systems: Array<{ code: string; name?: string; csr: string }>
  /** The member's e-seal CSR when the member keeps its seal key itself; absent: the node makes and keeps it (a member the node hosts). */
  sealCsr?: string
  /** Services (`provider/code`, as grants name them) the institution's systems want to call. */
  services?: string[]
}

/** One line of text: no control characters, something besides spaces. */
const line = (max: number): Record<string, unknown> => ({ type: 'string', minLength: 1, maxLength: max, pattern: '^[^\\u0000-\\u001f\\u007f]*[^\\s\\u0000-\\u001f\\u007f][^\\u0000-\\u001f\\u007f]*$' })
const closed = (required: string[], properties: Record<string, unknown>): Record<string, unknown> => ({ type: 'object', additionalProperties: false, required, properties })

export const applicationBodySchema = closed(['institution', 'employee', 'systems'], {
  institution: closed(['name', 'nipt', 'memberClass'], {
    name: line(300),
    // Shapes only: the NIPT is normalised (`AL K81305012I` → `K81305012I`) and checked after.
    nipt: { type: 'string', minLength: 1, maxLength: 20 },
    memberClass: { type: 'string', minLength: 1, maxLength: 16 },
  }),
  employee: closed(['name', 'position', 'nid', 'email', 'phone'], {
    name: line(200),
    position: line(200),
    nid: { type: 'string', minLength: 1, maxLength: 20 },
    email: { type: 'string', maxLength: 254, pattern: '^[^@\\s\\u0000-\\u001f\\u007f]+@[^@\\s\\u0000-\\u001f\\u007f]+\\.[^@\\s\\u0000-\\u001f\\u007f]+$' },
    phone: { type: 'string', minLength: 1, maxLength: 30 },
  }),
  systems: {
    type: 'array',
    minItems: 1,
    maxItems: MAX_SYSTEMS,
    items: closed(['code', 'csr'], {
      code: { type: 'string', minLength: 1, maxLength: 64 },
      name: line(200),
      csr: { type: 'string', minLength: 1, maxLength: CSR_MAX_CHARS },
    }),
  },
  sealCsr: { type: 'string', minLength: 1, maxLength: CSR_MAX_CHARS },
  services: {
    type: 'array',
    maxItems: MAX_SERVICES,
    uniqueItems: true,
    items: { type: 'string', maxLength: 300, pattern: "^[A-Za-z0-9'()+,\\-.=?]+(/[A-Za-z0-9'()+,\\-.=?]+){3,4}$" },
  },
})

const validateBody = new Ajv({ allErrors: true, strict: true }).compile<ApplicationBody>(applicationBodySchema)

const problemOf = (e: ErrorObject): Problem => {
  const path = e.instancePath === '' ? '(body)' : e.instancePath.slice(1).replaceAll('/', '.')
  if (e.keyword === 'additionalProperties') return { path, message: `unknown field '${String(e.params.additionalProperty)}'` }
  return { path, message: e.message ?? 'is not valid' }
}

/** An application that passed every check, normalised, with the ids its member and systems will have. */
export interface CheckedApplication extends ApplicationBody {
  memberId: string
  /** One client id per system, in order. */
  clientIds: string[]
}

export interface CheckContext {
  instance: string
  content: RegistryContent
}

/** Only a single PEM block, so nothing rides along before or after it. */
const CSR_PEM = /^-----BEGIN CERTIFICATE REQUEST-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE REQUEST-----\s*$/

/** Reads a CSR and checks its self-signature; any failure is Onboarding.InvalidCsr naming `field`. */
export function readRequest (pem: string, field: string): CertificationRequest {
  if (!CSR_PEM.test(pem.trim())) throw new OnboardingError('Onboarding.InvalidCsr', `${field} is not one PEM block 'CERTIFICATE REQUEST'`)
  try {
    return readCsr(pem)
  } catch (err) {
    throw new OnboardingError('Onboarding.InvalidCsr', `${field}: ${(err as Error).message}`)
  }
}

/** The CSR must name `id` in its subject's serialNumber and CN (what ura's PKI puts in the certificate). */
export function expectSubject (csr: CertificationRequest, id: string, field: string): void {
  const { serialNumber, CN } = csr.subject
  if (serialNumber !== id) throw new OnboardingError('Onboarding.CsrSubjectMismatch', `${field} names ${serialNumber === undefined ? 'no X-Road id (subject serialNumber)' : `'${serialNumber}'`}; it must name ${id}`)
  if (CN !== id) throw new OnboardingError('Onboarding.CsrSubjectMismatch', `${field} has CN '${CN}'; it must be ${id}, like its serialNumber`)
}

/** The classes an application may name: the usual ones and every class already registered. */
export function memberClasses (content: RegistryContent): string[] {
  return [...new Set([...MEMBER_CLASSES, ...content.members.map(m => m.class)])]
}

/** `provider/code` of every service defined on the node, as grants and applications name them. */
export function serviceKeys (content: RegistryContent): Set<string> {
  return new Set(content.services.map(s => `${s.provider}/${s.code}`))
}

/**
 * Checks an application body whole. Throws the first kind of problem found (schema, NIPT, NID,
 * member class, subsystem codes, CSRs, keys, services, member already registered or applying).
 */
export function checkApplication (body: unknown, ctx: CheckContext): CheckedApplication {
  if (!validateBody(body)) {
    const problems = (validateBody.errors ?? []).map(problemOf)
    throw new OnboardingError('Onboarding.InvalidApplication', `the application is refused: ${problems[0].path}: ${problems[0].message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, problems)
  }
  const nipt = normaliseNipt(body.institution.nipt)
  if (!/^[A-Z][0-9]{8}[A-Z]$/.test(nipt)) throw new OnboardingError('Onboarding.InvalidNipt', `'${body.institution.nipt}' is not a NIPT (a letter, eight digits, a letter)`)
  const niptWrong = niptProblem(nipt)
  if (niptWrong !== undefined) throw new OnboardingError('Onboarding.InvalidNipt', niptWrong)
  const nid = body.employee.nid.trim().toUpperCase()
  if (!/^[A-T][0-9]{8}[A-W]$/.test(nid)) throw new OnboardingError('Onboarding.InvalidNid', `'${body.employee.nid}' is not a personal number (NID: a letter A–T, eight digits, a letter)`)
  const nidWrong = nidProblem(nid)
  if (nidWrong !== undefined) throw new OnboardingError('Onboarding.InvalidNid', nidWrong)
  const phone = normalisePhone(body.employee.phone) ?? body.employee.phone.replace(/[\s.()-]/g, '')
  if (!/^\+?[0-9]{6,20}$/.test(phone)) throw new OnboardingError('Onboarding.InvalidApplication', `employee.phone: '${body.employee.phone}' is not a phone number`, [{ path: 'employee.phone', message: 'not a phone number' }])

  const memberClass = body.institution.memberClass
  const classes = memberClasses(ctx.content)
  if (!classes.includes(memberClass)) throw new OnboardingError('Onboarding.InvalidMemberClass', `member class '${memberClass}' is not one of ${classes.join(', ')}`)

  const memberId = memberIdOf(ctx.instance, memberClass, nipt)
  const codes = new Set<string>()
  body.systems.forEach((s, i) => {
    if (!isValidPart(s.code)) throw new OnboardingError('Onboarding.InvalidSubsystemCode', `systems[${i}].code '${s.code}' may only hold A-Z a-z 0-9 ' ( ) + , - . = ?`)
    if (codes.has(s.code)) throw new OnboardingError('Onboarding.DuplicateSystem', `system ${s.code} is listed twice`)
    codes.add(s.code)
  })
  const clientIds = body.systems.map(s => `${memberId}/${s.code}`)

  const keys = new Map<string, string>()
  const sameKey = (csr: CertificationRequest, field: string): void => {
    const spki = csr.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')
    const other = keys.get(spki)
    if (other !== undefined) throw new OnboardingError('Onboarding.DuplicateKey', `${field} carries the same key as ${other}: every certificate needs its own key`)
    keys.set(spki, field)
  }
  body.systems.forEach((s, i) => {
    const field = `systems[${i}].csr`
    const csr = readRequest(s.csr, field)
    expectSubject(csr, clientIds[i], field)
    sameKey(csr, field)
  })
  if (body.sealCsr !== undefined) {
    const seal = readRequest(body.sealCsr, 'sealCsr')
    expectSubject(seal, memberId, 'sealCsr')
    sameKey(seal, 'sealCsr')
  }

  const defined = serviceKeys(ctx.content)
  for (const service of body.services ?? []) {
    if (!defined.has(service)) throw new OnboardingError('Onboarding.UnknownService', `service ${service} is not defined on this node`)
  }

  if (ctx.content.members.some(m => m.code === nipt)) throw new OnboardingError('Onboarding.MemberExists', `a member with NIPT ${nipt} is already registered`)
  if (ctx.content.applications.some(a => a.institution.nipt === nipt && a.state === 'submitted')) {
    throw new OnboardingError('Onboarding.ApplicationPending', `an application for NIPT ${nipt} is already waiting for a decision`)
  }
  if (ctx.content.operators.some(o => o.id === applicantOperatorId(nipt))) {
    throw new OnboardingError('Onboarding.OperatorExists', `operator ${applicantOperatorId(nipt)} already exists`)
  }

  return {
    institution: { name: body.institution.name.trim(), nipt, memberClass },
    employee: { name: body.employee.name.trim(), position: body.employee.position.trim(), nid, email: body.employee.email, phone },
    systems: body.systems.map(s => ({ code: s.code, ...(s.name === undefined ? {} : { name: s.name.trim() }), csr: s.csr.trim() + '\n' })),
    ...(body.sealCsr === undefined ? {} : { sealCsr: body.sealCsr.trim() + '\n' }),
    ...(body.services === undefined ? {} : { services: body.services }),
    memberId,
    clientIds,
  }
}

/** Media types a letter may be declared with (browsers and curl say application/pdf; some say nothing). */
const LETTER_TYPES = new Set(['', 'application/pdf', 'application/x-pdf', 'application/octet-stream'])

/**
 * The sealed request letter: at most LETTER_MAX_BYTES, starting with `%PDF-` and ending with `%%EOF`
 * (within its last 1024 bytes, as PDF readers look for it). The declared media type, if any, must
 * not say it is something else.
 */
export function checkLetter (bytes: Uint8Array, declaredType = ''): void {
  if (bytes.byteLength > LETTER_MAX_BYTES) throw new OnboardingError('Onboarding.LetterTooLarge', `the letter has ${bytes.byteLength} bytes; at most ${LETTER_MAX_BYTES} are accepted`)
  const type = declaredType.split(';')[0].trim().toLowerCase()
  if (!LETTER_TYPES.has(type)) throw new OnboardingError('Onboarding.LetterNotPdf', `the letter is declared as ${type}; it must be a PDF`)
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.length < 14 || buf.subarray(0, 5).toString('latin1') !== '%PDF-') throw new OnboardingError('Onboarding.LetterNotPdf', 'the letter is not a PDF: it does not start with %PDF-')
  if (buf.subarray(Math.max(0, buf.length - 1024)).lastIndexOf('%%EOF') === -1) throw new OnboardingError('Onboarding.LetterNotPdf', 'the letter is not a whole PDF: no %%EOF at its end')
}

/** A file name as shown to people: no directories, no control characters, at most 255 characters. */
export function safeFilename (name: string): string | undefined {
  const base = name.split(/[/\\]/).pop()!.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 255)
  return base === '' || base === '.' || base === '..' ? undefined : base
}
