/**
 * The registry store's one error type. Callers (the CLI now, an operator API later) branch on a
 * stable `code`, never on message text; these codes stay out of protocol/errors.ts until they reach HTTP.
 */
import type { ConfigProblem } from '../../config/load.ts'

export type RegistryStoreErrorCode =
  /** The commit was based on a version that is no longer current: re-read, re-apply, retry. */
  | 'STALE_VERSION'
  /** The new content breaks the configuration schema or its cross-checks; `problems` says where. */
  | 'INVALID_CONTENT'
  /** `who` or `why` is missing, or the change is not content. */
  | 'INVALID_COMMIT'
  /** No such version in the store. */
  | 'UNKNOWN_VERSION'
  /** A directory could not be read as registry YAML. */
  | 'IMPORT_FAILED'
  /** The store is closed. */
  | 'STORE_CLOSED'

export class RegistryStoreError extends Error {
  readonly code: RegistryStoreErrorCode
  readonly problems: ConfigProblem[]
  /** STALE_VERSION: the version the commit expected, and the one that is current. */
  readonly expectedVersion?: number
  readonly currentVersion?: number

  constructor (code: RegistryStoreErrorCode, message: string, details: { problems?: ConfigProblem[]; expectedVersion?: number; currentVersion?: number } = {}) {
    super(message)
    this.name = 'RegistryStoreError'
    this.code = code
    this.problems = details.problems ?? []
    if (details.expectedVersion !== undefined) this.expectedVersion = details.expectedVersion
    if (details.currentVersion !== undefined) this.currentVersion = details.currentVersion
  }
}

export function staleVersion (expected: number, current: number): RegistryStoreError {
  return new RegistryStoreError('STALE_VERSION', `the registry is at version ${current}, the change was made on version ${expected}`, { expectedVersion: expected, currentVersion: current })
}
