/**
 * The xmllint cross-check of the schema case table, shared by `test/schemas.test.ts` (xmllint built
 * to WebAssembly, from npm) and `conformance/xmllint.test.ts` (Debian's xmllint binary): each case
 * as an instance document of test/fixtures/core-cases.xsd, the schema files that one pulls in, and
 * the reading of xmllint's per-file verdict lines. xmllint knows nothing of the library's hooks, so
 * it must accept every row except those whose value breaks the XSD itself (`fails: 'format'`).
 */
import { readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { CORE_NS } from '../../schemas/generate.ts'
import type { SchemaCase } from './schema-cases.ts'

export const REPO = resolve(import.meta.dirname, '../..')
export const CASES_NS = 'http://ura.gov.al/test/core-cases'
export const CASES_XSD = join(REPO, 'test/fixtures/core-cases.xsd')

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')

/** The case as an instance document of core-cases.xsd (address children are in the core namespace). */
export function caseDocument (c: SchemaCase): string {
  const body = typeof c.value === 'object'
    ? Object.entries(c.value).map(([k, v]) => `<al:${k}>${esc(v)}</al:${k}>`).join('')
    : esc(String(c.value))
  return `<?xml version="1.0" encoding="UTF-8"?>\n<c:${c.type} xmlns:c="${CASES_NS}" xmlns:al="${CORE_NS}">${body}</c:${c.type}>\n`
}

/** What an XSD validator without the hooks must say: only a broken format fails. */
export const validWithoutHooks = (c: SchemaCase): boolean => c.fails !== 'format'

/**
 * A schema and every file it reaches through xs:import / xs:include, as paths relative to the
 * repository (the first is the schema itself), so they can be laid out the same way elsewhere.
 */
export function schemaFiles (xsd: string): Array<{ fileName: string; contents: string }> {
  const files: Array<{ fileName: string; contents: string }> = []
  const seen = new Set<string>()
  const visit = (path: string): void => {
    if (seen.has(path)) return
    seen.add(path)
    const contents = readFileSync(path, 'utf8')
    files.push({ fileName: relative(REPO, path), contents })
    for (const m of contents.matchAll(/<xs:(?:import|include)\b[^>]*\bschemaLocation="([^"]+)"/g)) visit(resolve(dirname(path), m[1]))
  }
  visit(xsd)
  return files
}

/** Reads xmllint's "<file> validates" / "<file> fails to validate" lines into a verdict per file. */
export function xmllintVerdicts (output: string): Map<string, boolean> {
  const verdicts = new Map<string, boolean>()
  for (const line of output.split('\n')) {
    const m = /^(.*) (validates|fails to validate)$/.exec(line)
    if (m !== null) verdicts.set(m[1], m[2] === 'validates')
  }
  return verdicts
}
