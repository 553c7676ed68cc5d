/**
 * The application form's own checks, before anything is sent: the NIPT and the NID as the schema
 * library checks them — the patterns of the core schema (schemas/core/v1/al-core.json, also the
 * form's HTML `pattern` attributes, so the browser refuses the same values at once) and the check
 * letters of schemas/checks.ts — and what each uploaded CSR names, against the id its certificate
 * will carry (the onboarding API's own readers, admin/onboarding/application.ts).
 */
import { readFileSync } from 'node:fs'
import type { CertificationRequest, Subject } from '../../../certs/pki.ts'
import { nidProblem, niptProblem, normaliseNipt } from '../../../schemas/checks.ts'
import { expectSubject, readRequest } from '../../onboarding/application.ts'
import { OnboardingError } from '../../onboarding/errors.ts'

interface CoreSchema { definitions: { nid: { pattern: string }; nipt: { pattern: string } } }
const core = JSON.parse(readFileSync(new URL('../../../schemas/core/v1/al-core.json', import.meta.url), 'utf8')) as CoreSchema

/** The core schema's patterns, as the schema library applies them (and as HTML `pattern` attributes). */
export const NIPT_PATTERN = core.definitions.nipt.pattern
export const NID_PATTERN = core.definitions.nid.pattern
const NIPT = new RegExp(NIPT_PATTERN)
const NID = new RegExp(NID_PATTERN)

/** What is wrong with an identifier typed in the form: its shape, or its check letter. */
export type IdProblem = { kind: 'shape' } | { kind: 'letter'; detail: string }

export function niptFieldProblem (text: string): IdProblem | undefined {
  const nipt = normaliseNipt(text)
  if (!NIPT.test(nipt)) return { kind: 'shape' }
  const wrong = niptProblem(nipt)
  return wrong === undefined ? undefined : { kind: 'letter', detail: wrong }
}

export function nidFieldProblem (text: string): IdProblem | undefined {
  const nid = text.trim().toUpperCase()
  if (!NID.test(nid)) return { kind: 'shape' }
  const wrong = nidProblem(nid)
  return wrong === undefined ? undefined : { kind: 'letter', detail: wrong }
}

/** What a CSR says, and whether it names the id it must. */
export interface CsrReport {
  subject?: Subject
  /** The id the certificate will carry (`instance/class/NIPT[/system]`). */
  expected: string
  ok: boolean
  /** Why it does not fit (unreadable, or naming another id). */
  problem?: string
}

export function csrReport (pem: string, expected: string, field: string): CsrReport {
  let csr: CertificationRequest
  try {
    csr = readRequest(pem, field)
  } catch (err) {
    if (err instanceof OnboardingError) return { expected, ok: false, problem: err.message }
    throw err
  }
  try {
    expectSubject(csr, expected, field)
  } catch (err) {
    if (err instanceof OnboardingError) return { subject: csr.subject, expected, ok: false, problem: err.message }
    throw err
  }
  return { subject: csr.subject, expected, ok: true }
}

/** A subject as people read it: `C=AL, O=…, serialNumber=…, CN=…`. */
export function subjectText (subject: Subject): string {
  return (['C', 'O', 'OU', 'serialNumber', 'CN'] as const).filter(k => subject[k] !== undefined).map(k => `${k}=${subject[k]}`).join(', ')
}
