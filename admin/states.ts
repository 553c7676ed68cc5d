/**
 * The states of a change's target that the audit trail digests (admin/change.ts), as named readers
 * of a registry content. A route declares each reader once (`defineState`) and passes it, with its
 * arguments, as a change's `before` or `after`; the change evaluates it on the version it was made on
 * and on the version it produced, and the audit record keeps its name and arguments beside the
 * signed digests. So `GET /admin/v1/audit/{seq}` can read the same states again from the same
 * registry versions and show that they are the ones the trail signed.
 */
import type { StateRef } from '../messagelog/audit/index.ts'
import type { RegistryContent } from '../registry/store/index.ts'

export type { StateRef }

/** A target's state in a registry content, with the name and arguments that read it again. */
export interface NamedState {
  (content: RegistryContent): unknown
  readonly ref: StateRef
}

type Reader = (content: RegistryContent, ...args: unknown[]) => unknown

const READERS = new Map<string, Reader>()

/**
 * Declares a reader under a name unique in the admin API (declared at module level, so every reader
 * exists before the first request); returns how to name it with arguments (JSON values only).
 */
export function defineState<A extends unknown[]> (name: string, read: (content: RegistryContent, ...args: A) => unknown): (...args: A) => NamedState {
  if (READERS.has(name)) throw new Error(`the audit state '${name}' is declared twice`)
  READERS.set(name, read as unknown as Reader)
  return (...args: A) => {
    const state = ((content: RegistryContent) => read(content, ...args)) as NamedState
    return Object.defineProperty(state, 'ref', { value: { name, args: structuredClone(args) }, enumerable: true })
  }
}

/** A state whose arguments are known only once the change ran (the serial a CA chose, the id a request was given). */
export function deferred (make: () => NamedState): NamedState {
  const state = ((content: RegistryContent) => make()(content)) as NamedState
  return Object.defineProperty(state, 'ref', { get: () => make().ref, enumerable: true })
}

/** The state a reference names, read from `content`; throws when no reader has that name. */
export function readState (ref: StateRef, content: RegistryContent): unknown {
  const read = READERS.get(ref.name)
  if (read === undefined) throw new Error(`no audit state is named '${ref.name}'`)
  return read(content, ...ref.args)
}

/** The whole registry content (a rollback's state). */
export const wholeContent = defineState('content', c => c)
