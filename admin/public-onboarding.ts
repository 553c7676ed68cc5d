/**
 * Onboarding's public endpoints (`/public/v1/applications`, admin/onboarding/public-routes.ts) as a
 * public plugin of the admin listener: no operator credential, rate limited per address by the
 * listener, changes committed to the admin API's registry store, every action recorded in its audit
 * trail, and the node CA's certificate appended to the certificates an applicant downloads.
 */
import { caPemOf } from './node-ca.ts'
import { publicOnboardingRoutes, type PublicOnboardingOptions } from './onboarding/index.ts'
import type { AdminPlugin } from './server.ts'

export function publicOnboarding (options: Pick<PublicOnboardingOptions, 'origins' | 'maxOpen'> = {}): AdminPlugin {
  return async (app, ctx) => {
    const caPem = caPemOf(ctx)
    await publicOnboardingRoutes(app, { ...options, store: ctx.store, now: ctx.now, audit: ctx.audit, ...(caPem === undefined ? {} : { caPem }) })
  }
}
