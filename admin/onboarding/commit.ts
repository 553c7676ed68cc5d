/**
 * Commits one onboarding transformation as one registry version: read the current version, apply the
 * pure transformation, commit on that version; if another commit came first (STALE_VERSION), do it
 * once more on the new current version, and answer Onboarding.Busy if that also loses. Content the
 * store refuses is Onboarding.RegistryRefused with the store's problems.
 */
import { RegistryStoreError, type RegistryContent, type RegistryStore } from '../../registry/store/index.ts'
import { OnboardingError } from './errors.ts'

export async function commitTransform<R extends { content: RegistryContent }> (
  store: RegistryStore,
  transform: (content: RegistryContent) => R,
  /** Who and why; a function when they name what the transformation made (a new application's id). */
  options: { who: string; why: string } | ((result: R) => { who: string; why: string }),
): Promise<R & { version: number }> {
  for (let attempt = 0; ; attempt++) {
    const current = await store.current()
    const result = transform(current.content)
    try {
      const { who, why } = typeof options === 'function' ? options(result) : options
      const committed = await store.commit(result.content, { who, why, expectedVersion: current.version })
      return { ...result, version: committed.version }
    } catch (err) {
      if (err instanceof RegistryStoreError && err.code === 'STALE_VERSION') {
        if (attempt === 0) continue
        throw new OnboardingError('Onboarding.Busy', 'the registry changed twice while this change was being made; try again')
      }
      if (err instanceof RegistryStoreError && err.code === 'INVALID_CONTENT') {
        const problems = err.problems.map(p => ({ path: p.path, message: p.message }))
        throw new OnboardingError('Onboarding.RegistryRefused', 'the registry refused the change', problems)
      }
      throw err
    }
  }
}
