/**
 * Onboarding's front door for the admin API: the transformations officers' routes commit, the
 * public routes, and the errors, so routes import one module and never reach into a file.
 */
export { accessRequestParties, decideAccessRequest, findAccessRequest, requestAccess, type DecideAccessInput, type Endpoint, type RequestAccessInput } from './access.ts'
export { checkApplication, checkLetter, LETTER_MAX_BYTES, MEMBER_CLASSES, type ApplicationBody, type CheckedApplication } from './application.ts'
export { issueCertificate, revokeCertificate, type CertificateRole, type Issue, type IssueInput, type RevokeInput } from './certificates.ts'
export { commitTransform } from './commit.ts'
export { ONBOARDING_ERRORS, OnboardingError, type OnboardingErrorCode, type Problem } from './errors.ts'
export { EXPIRY_NOTICE_DAYS, expiringCertificates, expiryNotices, type ExpiringCertificate } from './expiry.ts'
export { applicantOperatorId, memberIdOf, normalSerial } from './ids.ts'
export { caIssuer } from './issuer.ts'
export { applicationCertificates, applicationStatus, approveApplication, findApplication, issueApplicantToken, markActive, MAX_OPEN_APPLICATIONS, rejectApplication, setApplicantLogin, statusTokenMatches, submitApplication, USERNAME, type ApplicantLoginInput, type ApproveInput, type ApproveResult, type DecideInput, type SubmitInput } from './lifecycle.ts'
export { decideSubscription, findSubscription, requestSubscription, subscriptionParties, subscriptionSlug, withdrawSubscription, withState, type DecideSubscriptionInput, type RequestSubscriptionInput } from './subscriptions.ts'
export { toMemberRole, toRole, withNotices, type Notice } from './outbox.ts'
export { publicOnboardingRoutes, type OnboardingAudit, type PublicOnboardingOptions } from './public-routes.ts'
