/**
 * The onboarding domain's refusals: one error class with a stable code (`type`) and the HTTP status
 * the admin API answers with. The code is the contract (docs/errors.md lists every one, a test holds
 * the page against this table); the message is for people and may change. Answered in the admin
 * API's shape, `{type, message, detail: {requestId, problems?}}`, by whichever listener serves them.
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
  'Onboarding.UnknownRoom': 400,
  'Onboarding.UnknownEventType': 400,
  'Onboarding.ForeignPushService': 400,
  'Onboarding.LetterMissing': 400,
  'Onboarding.LetterNotPdf': 400,
  'Onboarding.LetterTooLarge': 413,
  'Onboarding.InvalidMultipart': 400,
  'Onboarding.InvalidRequest': 400,
  'Onboarding.ReasonRequired': 400,
  'Onboarding.InvalidSignIn': 400,
  'Onboarding.RequestTooLarge': 413,
  'Onboarding.UnsupportedMediaType': 415,
  'Onboarding.CrossSiteRequest': 403,
  'Onboarding.InvalidStatusToken': 401,
  'Onboarding.UnknownApplication': 404,
  'Onboarding.UnknownAccessRequest': 404,
  'Onboarding.UnknownSubscription': 404,
  'Onboarding.UnknownCertificate': 404,
  'Onboarding.MemberExists': 409,
  'Onboarding.ApplicationPending': 409,
  'Onboarding.OperatorExists': 409,
  'Onboarding.InvalidState': 409,
  'Onboarding.TokenAlreadyIssued': 409,
  'Onboarding.SignInAlreadySet': 409,
  'Onboarding.UsernameTaken': 409,
  'Onboarding.DuplicateAccessRequest': 409,
  'Onboarding.AlreadyGranted': 409,
  'Onboarding.DuplicateSubscription': 409,
  'Onboarding.AlreadyRevoked': 409,
  'Onboarding.RegistryRefused': 409,
  'Onboarding.TooManyApplications': 503,
  'Onboarding.Busy': 503,
  'Onboarding.InternalError': 500,
} as const satisfies Record<string, number>

export type OnboardingErrorCode = keyof typeof ONBOARDING_ERRORS

/** One thing wrong, by where it is (`employee.email`, `systems[1].csr`, a registry path). */
export interface Problem { path: string; message: string }

export class OnboardingError extends Error {
  /** The stable code, e.g. `Onboarding.InvalidNipt`. */
  readonly type: OnboardingErrorCode
  readonly status: number
  /** What exactly was wrong beyond the message: each problem, when there are several (schema failures). */
  readonly detail: { problems?: Problem[] }

  /** `message` is for people: what was wrong. */
  constructor (type: OnboardingErrorCode, message: string, problems?: Problem[]) {
    super(message)
    this.name = 'OnboardingError'
    this.type = type
    this.status = ONBOARDING_ERRORS[type]
    this.detail = problems === undefined ? {} : { problems }
  }
}
