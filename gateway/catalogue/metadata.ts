/**
 * Catalogue metadata of a service (DESIGN §9): the e-service form fields, checked against
 * `schemas/catalogue/service-entry.json`. Incomplete metadata never stops the node: the service
 * keeps working for its callers but is left out of the catalogue, and `ura config check` lists
 * what is missing. The labels for people live in config/catalogue-labels.ts, the check itself in
 * config/catalogue-metadata.ts (the operator console uses both).
 */
import type { ServiceConfig } from '../../config/types.ts'
import type { CatalogueMetadata } from '../../config/catalogue-labels.ts'
import { metadataProblems } from '../../config/catalogue-metadata.ts'

/** What the catalogue decided about one configured service. */
export interface CatalogueCheck {
  service: ServiceConfig
  /** Service id in text form, with version when configured. */
  id: string
  /** Set when the metadata is complete: the service is published. */
  metadata?: CatalogueMetadata
  /** Why the service is not published (empty when published, or when it has no `catalogue:` at all). */
  problems: string[]
}

export function serviceIdText (s: ServiceConfig): string {
  return s.version === undefined ? `${s.provider}/${s.code}` : `${s.provider}/${s.code}/${s.version}`
}

export function checkService (service: ServiceConfig): CatalogueCheck {
  const id = serviceIdText(service)
  if (service.catalogue === undefined) return { service, id, problems: [] }
  const problems = metadataProblems(service.catalogue)
  if (problems.length > 0) return { service, id, problems }
  return { service, id, metadata: service.catalogue as unknown as CatalogueMetadata, problems }
}

export function checkCatalogue (services: ServiceConfig[]): CatalogueCheck[] {
  return services.map(checkService)
}

