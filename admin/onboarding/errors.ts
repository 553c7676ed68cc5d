/**
 * The onboarding domain's refusals: one error class with a stable code (`type`) and the HTTP status
 * the admin API answers with. The code is the contract (docs/errors.md lists every one, a test holds
 * the page against this table); `detail` is for people and may change.
 */

export const ONBOARDING_ERRORS = {
  'Onboarding.InvalidApplication': 400,
  'Onboarding.InvalidNipt': 400,
  'Onboarding.InvalidNid': 400,
  'Onboarding.InvalidMemberClass': 400,
  'Onboarding.InvalidSubsystemCode': 400,
  'Onboarding.DuplicateSystem': 400,
  'Onboarding.InvalidCsr': 400,
  'Onboarding.CsrSubjectMismatch': 400,
  'Onboarding.DuplicateKey': 400,
  'Onboarding.UnknownService': 400,
  'Onboarding.UnknownClient': 400,
  'Onboarding.LetterMissing': 400,
  'Onboarding.LetterNotPdf': 400,
  'Onboarding.LetterTooLarge': 413,
  'Onboarding.InvalidMultipart': 400,
  'Onboarding.InvalidRequest': 400,
  'Onboarding.ReasonRequired': 400,
  'Onboarding.RequestTooLarge': 413,
  'Onboarding.UnsupportedMediaType': 415,
  'Onboarding.CrossSiteRequest': 403,
  'Onboarding.InvalidStatusToken': 401,
  'Onboarding.UnknownApplication': 404,
  'Onboarding.UnknownAccessRequest': 404,
  'Onboarding.UnknownCertificate': 404,
  'Onboarding.MemberExists': 409,
  'Onboarding.ApplicationPending': 409,
  'Onboarding.OperatorExists': 409,
  'Onboarding.InvalidState': 409,
  'Onboarding.TokenAlreadyIssued': 409,
  'Onboarding.DuplicateAccessRequest': 409,
  'Onboarding.AlreadyGranted': 409,
  'Onboarding.AlreadyRevoked': 409,
  'Onboarding.RegistryRefused': 409,
  'Onboarding.TooManyApplications': 503,
  'Onboarding.Busy': 503,
  'Onboarding.InternalError': 500,
} as const satisfies Record<string, number>

export type OnboardingErrorCode = keyof typeof ONBOARDING_ERRORS

export class OnboardingError extends Error {
  /** The stable code, e.g. `Onboarding.InvalidNipt`. */
  readonly type: OnboardingErrorCode
  readonly status: number
  /** For people: what was wrong. */
  readonly detail: string
  /** Each problem found, when there are several (schema failures). */
  readonly problems?: string[]

  constructor (type: OnboardingErrorCode, detail: string, problems?: string[]) {
    super(`${type}: ${detail}`)
    this.name = 'OnboardingError'
    this.type = type
    this.status = ONBOARDING_ERRORS[type]
    this.detail = detail
    if (problems !== undefined) this.problems = problems
  }

  /** The JSON body an answer carries. */
  toJSON (): { type: string; status: number; detail: string; problems?: string[] } {
    return { type: this.type, status: this.status, detail: this.detail, ...(this.problems === undefined ? {} : { problems: this.problems }) }
  }
}
