/**
 * The shared schema library: every JSON Schema (`*.json`, keyed by `$id`) and XSD (`*.xsd`, keyed by
 * targetNamespace) under the given directories, compiled once at start. Services refer to types by
 * `$id` / namespace, never by file path.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { XmlBufferInputProvider, XmlDocument, XsdValidator, xmlRegisterInputProvider, type XmlLibError } from 'libxml2-wasm'

// ajv-formats ships CommonJS; under nodenext its default export is the module object.
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (ajv: Ajv) => Ajv

export const PROJECT_SCHEMA_DIR = resolve(import.meta.dirname)

/** libxml2 reads imported XSDs only through this in-memory provider: never from disk or network at run time. */
const xsdFiles = new XmlBufferInputProvider({})
let providerRegistered = false

export class SchemaLibrary {
  private readonly bodies: Ajv
  private readonly params: Ajv
  private readonly xsds = new Map<string, XsdValidator>()
  readonly jsonIds: string[] = []

  private constructor () {
    this.bodies = addFormats(new Ajv({ allErrors: true, strict: false }))
    // Path and query parameters arrive as text; the schema says what they mean.
    this.params = addFormats(new Ajv({ allErrors: true, strict: false, coerceTypes: 'array' }))
  }

  static async load (dirs: string[]): Promise<SchemaLibrary> {
    const lib = new SchemaLibrary()
    const files = (await Promise.all(dirs.map(d => listFiles(resolve(d))))).flat()
    const xsdSources: Array<{ path: string; text: string }> = []
    for (const path of files) {
      if (path.endsWith('.json')) {
        const schema = JSON.parse(await readFile(path, 'utf8'))
        if (typeof schema.$id !== 'string') throw new Error(`${path}: a library JSON Schema needs an $id`)
        if (lib.jsonIds.includes(schema.$id)) continue
        lib.bodies.addSchema(schema)
        lib.params.addSchema(schema)
        lib.jsonIds.push(schema.$id)
      } else if (path.endsWith('.xsd')) {
        const text = await readFile(path, 'utf8')
        xsdFiles.addBuffer(path, Buffer.from(text))
        xsdSources.push({ path, text })
      }
    }
    if (!providerRegistered) {
      xmlRegisterInputProvider(xsdFiles)
      providerRegistered = true
    }
    for (const { path, text } of xsdSources) {
      const doc = XmlDocument.fromString(text, { url: path })
      try {
        const ns = doc.root.attr('targetNamespace')?.value
        if (ns === undefined) throw new Error(`${path}: an XSD needs a targetNamespace`)
        if (lib.xsds.has(ns)) continue
        lib.xsds.set(ns, XsdValidator.fromDoc(doc))
      } catch (err) {
        throw new Error(`${path}: ${xmlErrorText(err)}`)
      } finally {
        doc.dispose()
      }
    }
    return lib
  }

  /** Validator for a JSON body (no type coercion: JSON already has types). */
  compileBody (schema: object): ValidateFunction {
    return this.bodies.compile(schema)
  }

  /** Validator for path or query parameters, which arrive as strings. */
  compileParams (schema: object): ValidateFunction {
    return this.params.compile(schema)
  }

  xsd (namespace: string): XsdValidator | undefined {
    return this.xsds.get(namespace)
  }

  get namespaces (): string[] {
    return [...this.xsds.keys()]
  }
}

async function listFiles (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...await listFiles(path))
    else if (/\.(json|xsd)$/.test(entry.name)) out.push(path)
  }
  return out.sort()
}

/**
 * At most this many violations are reported: a small document can hold tens of thousands of errors
 * (20,000 bad attributes), and the answer must not become an amplifier.
 */
export const MAX_VIOLATIONS = 50

function capped (lines: string[], total: number): string[] {
  return total <= MAX_VIOLATIONS ? lines : [...lines.slice(0, MAX_VIOLATIONS), `… and ${total - MAX_VIOLATIONS} more`]
}

/** Ajv errors as readable lines: `body/detyrime/0/shuma must be >= 0`. */
export function ajvViolations (where: string, errors: ErrorObject[] | null | undefined): string[] {
  const all = errors ?? []
  return capped(all.slice(0, MAX_VIOLATIONS).map(e => {
    const at = `${where}${e.instancePath}`
    if (e.keyword === 'required') return `${at}: missing required property '${(e.params as any).missingProperty}'`
    if (e.keyword === 'additionalProperties') return `${at}: unknown property '${(e.params as any).additionalProperty}'`
    if (e.keyword === 'enum') return `${at}: must be one of ${(e.params as any).allowedValues.join(', ')}`
    return `${at}: ${e.message ?? 'is invalid'}`
  }), all.length)
}

/** libxml2 validation errors as readable lines with their position in the document. */
export function xmlViolations (err: unknown): string[] {
  const details = (err as XmlLibError).details
  if (!Array.isArray(details) || details.length === 0) return [xmlErrorText(err)]
  return capped(details.slice(0, MAX_VIOLATIONS).map(d => `line ${d.line}:${d.col}: ${d.message.trim()}`), details.length)
}

function xmlErrorText (err: unknown): string {
  const details = (err as XmlLibError).details
  if (Array.isArray(details) && details.length > 0) return details.map(d => d.message.trim()).join('; ')
  return (err as Error).message
}
