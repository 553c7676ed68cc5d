/**
 * An institution's application through its states, each step a pure transformation of registry
 * content that the caller commits as one version:
 *
 *   submitted ──approve──▶ issued ──certificates downloaded──▶ active
 *       └──────reject────▶ rejected
 *
 * Approval does everything at once: the member, its subsystems with their pinned TLS certificates,
 * the e-seal, an operator account for the authorised employee (service administrator of the new
 * member), pending access requests for the services asked for, and notices. (`approved`, in the
 * registry's list of states, is never stored by this approval: it issues in the same version.)
 */
import type { AccessRequestRecord, ApplicationRecord, IssuedCertificate, OperatorConfig } from '../../config/registry-sections.ts'
import type { MemberConfig } from '../../config/types.ts'
import type { RegistryContent } from '../../registry/store/index.ts'
import { checkApplication, serviceKeys } from './application.ts'
import { signAndRecord, type Issue } from './certificates.ts'
import { OnboardingError } from './errors.ts'
import { applicantOperatorId, memberIdOf, newApiToken, newStatusToken, randomId, STATUS_TOKEN, tokenMatches } from './ids.ts'
import { toMemberRole, toRole, withNotices, type Notice } from './outbox.ts'
import { memberOf } from '../../protocol/identifiers.ts'

/** How many applications may wait for a decision at once (each one is carried in every later version). */
export const MAX_OPEN_APPLICATIONS = 200

const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/

/** The application with that id; Onboarding.UnknownApplication otherwise. */
export function findApplication (content: RegistryContent, id: unknown): ApplicationRecord {
  const found = typeof id === 'string' && ID.test(id) ? content.applications.find(a => a.id === id) : undefined
  if (found === undefined) throw new OnboardingError('Onboarding.UnknownApplication', `there is no application ${typeof id === 'string' ? id.slice(0, 80) : ''}`)
  return found
}

/** True when `token` is the application's status token. */
export function statusTokenMatches (application: ApplicationRecord, token: unknown): boolean {
  return tokenMatches(token, application.statusTokenSha256, STATUS_TOKEN)
}

function replaceApplication (content: RegistryContent, next: ApplicationRecord): RegistryContent {
  return { ...content, applications: content.applications.map(a => a.id === next.id ? next : a) }
}

function expectState (application: ApplicationRecord, states: ApplicationRecord['state'][], doing: string): void {
  if (!states.includes(application.state)) throw new OnboardingError('Onboarding.InvalidState', `cannot ${doing}: application ${application.id} is ${application.state}`)
}

export interface SubmitInput {
  /** The application body as received (checked here against the content it is added to). */
  body: unknown
  /** The sealed letter, already stored as a blob. */
  letter: { sha256: string; bytes: number; filename?: string }
  instance: string
  now: Date
  maxOpen?: number
}

/**
 * A new application in state `submitted`. The status token is returned here only: the registry keeps
 * its SHA-256. Notices go to the applicant's e-mail and to the registration officers.
 */
export function submitApplication (content: RegistryContent, input: SubmitInput): { content: RegistryContent; id: string; statusToken: string } {
  const checked = checkApplication(input.body, { instance: input.instance, content })
  const open = content.applications.filter(a => a.state === 'submitted').length
  if (open >= (input.maxOpen ?? MAX_OPEN_APPLICATIONS)) throw new OnboardingError('Onboarding.TooManyApplications', `${open} applications are waiting for a decision; try again later`)
  const id = randomId('ap')
  const { token, sha256 } = newStatusToken()
  const at = input.now.toISOString()
  const record: ApplicationRecord = {
    id,
    state: 'submitted',
    submittedAt: at,
    updatedAt: at,
    statusTokenSha256: sha256,
    institution: { ...checked.institution, memberCode: checked.institution.nipt },
    employee: checked.employee,
    systems: checked.systems,
    ...(checked.sealCsr === undefined ? {} : { sealCsr: checked.sealCsr }),
    ...(checked.services === undefined ? {} : { services: checked.services }),
    letter: input.letter,
  }
  const { name, nipt } = checked.institution
  const notices: Notice[] = [
    {
      to: [checked.employee.email],
      subject: `Application ${id} received`,
      body: `The application of ${name} (NIPT ${nipt}) for ${checked.clientIds.join(', ')} was received on ${at} and waits for a registration officer. Follow it with the status token you were given when you applied.`,
      about: `application:${id}`,
    },
    {
      to: [toRole('registration-officer')],
      subject: `New application ${id}: ${name}`,
      body: `${name} (NIPT ${nipt}, class ${checked.institution.memberClass}) applies to join with ${checked.systems.length} system(s): ${checked.systems.map(s => s.code).join(', ')}. Authorised employee: ${checked.employee.name}, ${checked.employee.position}. The sealed letter is blob ${input.letter.sha256}.`,
      about: `application:${id}`,
    },
  ]
  const added = { ...content, applications: [...content.applications, record] }
  return { content: withNotices(added, notices, input.now).content, id, statusToken: token }
}

export interface DecideInput {
  /** The operator deciding. */
  by: string
  now: Date
}

export interface ApproveInput extends DecideInput {
  instance: string
  issue: Issue
  /** The e-seal CSR of a key the node made for the member, for an application without one of its own. */
  sealCsr?: string
}

export interface ApproveResult {
  content: RegistryContent
  member: string
  clients: string[]
  certificates: IssuedCertificate[]
  operator: string
  accessRequests: string[]
}

/**
 * Approves a submitted application: in one content, the member (code = NIPT) with its subsystems
 * (mutual TLS, each pinning the certificate issued from its CSR), the e-seal, the employee's operator
 * account, pending access requests (every system × every service asked for that is still defined),
 * the application in state `issued` with its certificates' serials, and notices.
 */
export function approveApplication (content: RegistryContent, id: string, input: ApproveInput): ApproveResult {
  const application = findApplication(content, id)
  expectState(application, ['submitted'], 'approve')
  const { institution, employee } = application
  const memberId = memberIdOf(input.instance, institution.memberClass, institution.nipt)
  if (content.members.some(m => m.code === institution.nipt)) throw new OnboardingError('Onboarding.MemberExists', `a member with NIPT ${institution.nipt} is already registered`)
  const operatorId = applicantOperatorId(institution.nipt)
  if (content.operators.some(o => o.id === operatorId)) throw new OnboardingError('Onboarding.OperatorExists', `operator ${operatorId} already exists`)
  const sealCsr = application.sealCsr ?? input.sealCsr
  if (sealCsr === undefined) throw new OnboardingError('Onboarding.InvalidState', `application ${id} has no e-seal request, and the node made no seal key for it`)

  const base = { by: input.by, now: input.now, issue: input.issue, application: id }
  const tls = application.systems.map(s => signAndRecord({ ...base, csr: s.csr, role: 'tls', owner: `${memberId}/${s.code}` }, `${memberId}/${s.code}`))
  const seal = signAndRecord({ ...base, csr: sealCsr, role: 'sign', owner: memberId }, memberId)
  const certificates = [...tls, seal]

  const member: MemberConfig = {
    class: institution.memberClass,
    code: institution.nipt,
    name: institution.name,
    subsystems: application.systems.map((s, i) => ({ code: s.code, ...(s.name === undefined ? {} : { name: s.name }), connection: 'mtls', certificates: [tls[i].fingerprint!] })),
  }
  const operator: OperatorConfig = { id: operatorId, name: employee.name, roles: [{ role: 'service-administrator', member: memberId }] }
  const at = input.now.toISOString()
  const clients = member.subsystems.map(s => `${memberId}/${s.code}`)
  const defined = serviceKeys(content)
  const wanted = (application.services ?? []).filter(s => defined.has(s))
  const requests: AccessRequestRecord[] = clients.flatMap(client => wanted.map(service => ({
    id: randomId('ar'),
    client,
    service,
    purpose: `asked for in application ${id}`,
    state: 'pending' as const,
    requestedBy: `applicant:${id}`,
    requestedAt: at,
  })))
  const approved: ApplicationRecord = { ...application, state: 'issued', updatedAt: at, decidedBy: input.by, decidedAt: at, certificates: certificates.map(c => c.serial) }
  const next: RegistryContent = {
    ...replaceApplication(content, approved),
    members: [...content.members, member],
    operators: [...content.operators, operator],
    certificates: [...content.certificates, ...certificates],
    accessRequests: [...content.accessRequests, ...requests],
  }
  const dropped = (application.services ?? []).filter(s => !defined.has(s))
  const notices: Notice[] = [{
    to: [employee.email],
    subject: `Application ${id} approved: certificates issued`,
    body: `${institution.name} is registered as ${memberId} with ${clients.join(', ')}. Download the certificates with your status token, then ask for your API token (operator ${operatorId}).` +
      (wanted.length === 0 ? '' : ` Access to ${wanted.join(', ')} was asked of the providers.`) +
      (dropped.length === 0 ? '' : ` No longer offered, so not asked for: ${dropped.join(', ')}.`),
    about: `application:${id}`,
  }]
  for (const service of wanted) {
    notices.push({
      to: [toMemberRole('service-administrator', memberOf(service))],
      subject: `Access requested to ${service}`,
      body: `${institution.name} (${memberId}) asks for access to ${service} for ${clients.join(', ')}, as stated in its application ${id}. Approve or refuse each access request.`,
      about: `service:${service}`,
    })
  }
  return { content: withNotices(next, notices, input.now).content, member: memberId, clients, certificates, operator: operatorId, accessRequests: requests.map(r => r.id) }
}

/** Rejects a submitted application; the reason is shown to the applicant. */
export function rejectApplication (content: RegistryContent, id: string, reason: string, input: DecideInput): { content: RegistryContent } {
  const application = findApplication(content, id)
  const why = typeof reason === 'string' ? reason.trim() : ''
  if (why === '') throw new OnboardingError('Onboarding.ReasonRequired', 'a rejection needs a reason, shown to the applicant')
  if (why.length > 2000) throw new OnboardingError('Onboarding.InvalidRequest', 'the reason is longer than 2000 characters')
  expectState(application, ['submitted'], 'reject')
  const at = input.now.toISOString()
  const next = replaceApplication(content, { ...application, state: 'rejected', updatedAt: at, decidedBy: input.by, decidedAt: at, reason: why })
  const notice: Notice = {
    to: [application.employee.email],
    subject: `Application ${id} rejected`,
    body: `The application of ${application.institution.name} (NIPT ${application.institution.nipt}) was rejected: ${why}`,
    about: `application:${id}`,
  }
  return { content: withNotices(next, [notice], input.now).content }
}

/** The applicant has its certificates: issued → active. */
export function markActive (content: RegistryContent, id: string, input: { now: Date }): { content: RegistryContent } {
  const application = findApplication(content, id)
  expectState(application, ['issued'], 'mark active')
  return { content: replaceApplication(content, { ...application, state: 'active', updatedAt: input.now.toISOString() }) }
}

/** The certificates issued for an application, in the order of its serials. */
export function applicationCertificates (content: RegistryContent, application: ApplicationRecord): IssuedCertificate[] {
  const bySerial = new Map(content.certificates.map(c => [c.serial, c]))
  return (application.certificates ?? []).map(s => bySerial.get(s)).filter(c => c !== undefined)
}

/**
 * The applicant, proving its status token, gets one API token for its operator account
 * (`ura_<tokenId>_<secret>`, returned here only; the operator's `tokens[]` keeps its SHA-256).
 */
export function issueApplicantToken (content: RegistryContent, id: string, input: { statusToken: string; now: Date }): { content: RegistryContent; operator: string; tokenId: string; token: string } {
  const application = findApplication(content, id)
  if (!statusTokenMatches(application, input.statusToken)) throw new OnboardingError('Onboarding.InvalidStatusToken', 'the status token does not match this application')
  expectState(application, ['issued', 'active'], 'issue an API token')
  if (application.tokenIssuedAt !== undefined) throw new OnboardingError('Onboarding.TokenAlreadyIssued', `the API token of application ${id} was issued at ${application.tokenIssuedAt}; an administrator can issue another`)
  const operatorId = applicantOperatorId(application.institution.nipt)
  const operator = content.operators.find(o => o.id === operatorId)
  if (operator === undefined || operator.disabled === true) throw new OnboardingError('Onboarding.InvalidState', `operator ${operatorId} no longer exists or is disabled`)
  if ((operator.tokens ?? []).length >= 50) throw new OnboardingError('Onboarding.InvalidState', `operator ${operatorId} already holds 50 tokens`)
  const { tokenId, token, sha256 } = newApiToken()
  const at = input.now.toISOString()
  const operators = content.operators.map(o => o.id !== operatorId ? o : { ...o, tokens: [...(o.tokens ?? []), { id: tokenId, label: `applicant token (application ${id})`, sha256, createdAt: at }] })
  const next = replaceApplication({ ...content, operators }, { ...application, tokenIssuedAt: at, updatedAt: at })
  const notice: Notice = {
    to: [application.employee.email, toRole('security-officer')],
    subject: `API token issued for operator ${operatorId}`,
    body: `Token ${tokenId} of operator ${operatorId} was issued to the applicant of ${id} at ${at}. If you did not ask for it, have it revoked.`,
    about: `application:${id}`,
  }
  return { content: withNotices(next, [notice], input.now).content, operator: operatorId, tokenId, token }
}

/** What a console username must be (the registry's pattern for `operators[].login.username`). */
export const USERNAME = /^[a-z0-9][a-z0-9._-]{1,63}$/

export interface ApplicantLoginInput {
  statusToken: string
  username: string
  /** The scrypt hash of the password (admin/password.ts), made by the caller. */
  passwordHash: string
  /** A new TOTP secret (admin/totp.ts), made by the caller. */
  totpSecret: string
  now: Date
}

/**
 * The applicant, proving its status token, sets the console sign-in (username, password hash, TOTP
 * secret) of its operator account, once: a second attempt is refused, whether the sign-in is still
 * there or an administrator removed it since (then an administrator sets the next one).
 */
export function setApplicantLogin (content: RegistryContent, id: string, input: ApplicantLoginInput): { content: RegistryContent; operator: string; username: string } {
  const application = findApplication(content, id)
  if (!statusTokenMatches(application, input.statusToken)) throw new OnboardingError('Onboarding.InvalidStatusToken', 'the status token does not match this application')
  expectState(application, ['issued', 'active'], 'set the console sign-in')
  if (!USERNAME.test(input.username)) throw new OnboardingError('Onboarding.InvalidSignIn', 'the username must be 2 to 64 of a-z 0-9 . _ -, starting with a letter or a digit', [{ path: 'username', message: 'not a username' }])
  const operatorId = applicantOperatorId(application.institution.nipt)
  const operator = content.operators.find(o => o.id === operatorId)
  if (operator === undefined || operator.disabled === true) throw new OnboardingError('Onboarding.InvalidState', `operator ${operatorId} no longer exists or is disabled`)
  if (application.loginSetAt !== undefined || operator.login !== undefined) {
    throw new OnboardingError('Onboarding.SignInAlreadySet', `the console sign-in of operator ${operatorId} was already set${application.loginSetAt === undefined ? '' : ` at ${application.loginSetAt}`}; an administrator can set another`)
  }
  const holder = content.operators.find(o => o.login?.username === input.username)
  if (holder !== undefined) throw new OnboardingError('Onboarding.UsernameTaken', `username ${input.username} is taken: choose another`, [{ path: 'username', message: 'taken' }])
  const at = input.now.toISOString().replace(/\.\d{3}Z$/, 'Z')
  const login = { username: input.username, passwordHash: input.passwordHash, totpSecret: input.totpSecret, setAt: at }
  const operators = content.operators.map(o => o.id !== operatorId ? o : { ...o, login })
  const next = replaceApplication({ ...content, operators }, { ...application, loginSetAt: at, updatedAt: at })
  const notice: Notice = {
    to: [application.employee.email, toRole('security-officer')],
    subject: `Console sign-in set for operator ${operatorId}`,
    body: `The console sign-in ${input.username} of operator ${operatorId} was set by the applicant of ${id} at ${at}. If you did not set it, have it removed.`,
    about: `application:${id}`,
  }
  return { content: withNotices(next, [notice], input.now).content, operator: operatorId, username: input.username }
}

/** What the applicant sees of its application (never the employee's personal data, never a token). */
export function applicationStatus (content: RegistryContent, application: ApplicationRecord): Record<string, unknown> {
  const certificates = applicationCertificates(content, application)
  return {
    id: application.id,
    state: application.state,
    submittedAt: application.submittedAt,
    ...(application.updatedAt === undefined ? {} : { updatedAt: application.updatedAt }),
    ...(application.decidedAt === undefined ? {} : { decidedAt: application.decidedAt }),
    ...(application.reason === undefined ? {} : { reason: application.reason }),
    institution: { name: application.institution.name, nipt: application.institution.nipt, memberClass: application.institution.memberClass },
    systems: application.systems.map(s => s.code),
    ...(certificates.length === 0 ? {} : { certificates: certificates.map(c => ({ serial: c.serial, role: c.role, owner: c.owner, notAfter: c.notAfter, fingerprint: c.fingerprint })) }),
    tokenIssued: application.tokenIssuedAt !== undefined,
    signInSet: application.loginSetAt !== undefined,
  }
}
