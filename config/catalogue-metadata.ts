/**
 * Whether a service's catalogue metadata is complete and well formed: checked against
 * `schemas/catalogue/service-entry.json`, each problem as a `catalogue.<path>: <what>` line. The
 * catalogue leaves out a service whose metadata has problems; the console shows them while the
 * metadata is edited.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { Ajv, type ErrorObject } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { CatalogueMetadata } from './catalogue-labels.ts'

const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (ajv: Ajv) => Ajv

export const CATALOGUE_SCHEMA_FILE = resolve(import.meta.dirname, '../schemas/catalogue/service-entry.json')
export const catalogueSchema = JSON.parse(readFileSync(CATALOGUE_SCHEMA_FILE, 'utf8')) as Record<string, any>

// verbose: keeps each failing subschema, so a oneOf failure can be told in the schema's own words.
const ajv = addFormats(new Ajv({ allErrors: true, strict: false, verbose: true }))
const validateMetadata = ajv.compile(catalogueSchema)

/** Every reason the metadata is incomplete or malformed, as `catalogue.<path>: <what>` lines. */
export function metadataProblems (metadata: unknown): string[] {
  if (validateMetadata(metadata)) {
    const m = metadata as CatalogueMetadata
    return m.processingTime.min > m.processingTime.max ? [`catalogue.processingTime: min (${m.processingTime.min}) is greater than max (${m.processingTime.max})`] : []
  }
  return readableErrors(validateMetadata.errors ?? [])
}

function displayPath (instancePath: string): string {
  return 'catalogue' + instancePath.split('/').slice(1).map(s => /^\d+$/.test(s) ? `[${s}]` : `.${s}`).join('')
}

/**
 * A failed `oneOf` reports one line in the schema's words ("'none', or a list of amounts…")
 * instead of every branch's complaint.
 */
function readableErrors (errors: ErrorObject[]): string[] {
  const alternatives = errors.filter(e => e.keyword === 'oneOf')
  const lines: string[] = []
  for (const e of errors) {
    if (e.keyword !== 'oneOf' && alternatives.some(a => e.schemaPath.startsWith(a.schemaPath + '/') && e.instancePath.startsWith(a.instancePath))) continue
    const at = displayPath(e.instancePath)
    const p = e.params as Record<string, any>
    let what: string
    if (e.keyword === 'required') what = `${at === 'catalogue' ? 'catalogue' : at}: missing required field '${p.missingProperty}'`
    else if (e.keyword === 'additionalProperties') what = `${at}: unknown field '${p.additionalProperty}'`
    else if (e.keyword === 'enum') what = `${at}: must be one of ${p.allowedValues.join(', ')}`
    else if (e.keyword === 'oneOf') what = `${at}: must be ${(e.parentSchema as { description?: string } | undefined)?.description ?? 'one of the allowed forms'}`
    else what = `${at}: ${e.message ?? 'is invalid'}`
    if (!lines.includes(what)) lines.push(what)
  }
  return lines
}

