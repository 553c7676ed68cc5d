/**
 * The shared schema library: every JSON Schema (`*.json`, keyed by `$id`) and XSD (`*.xsd`, keyed by
 * targetNamespace) under the given directories, compiled once at start. Services refer to types by
 * `$id` / namespace, never by file path.
 *
 * Rules neither language can state are added here, once for both: the ajv formats `al-nid`,
 * `al-nipt` and `al-iban`, and for XSDs the type-driven hooks of `xsd-hooks.ts`, which run after
 * libxml2 has validated an element. `data/` holds source data, not schemas; `*.include.xsd` files
 * are only pulled in by `xs:include` (they share their includer's namespace).
 */
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { isFullDate } from './full-date.ts'
import { XmlBufferInputProvider, XmlC14NMode, XmlDocument, XmlElement, XsdValidator, xmlRegisterInputProvider, type XmlLibError } from 'libxml2-wasm'
import { ibanProblem, nidProblem, niptProblem } from './checks.ts'
import { coreHooks, hookedXsd, type HookElement, type HookOptions, type LibraryXsd, type TypeHooks } from './xsd-hooks.ts'
import { XsdModel } from './xsd-model.ts'
import { FastXsd } from './xsd-fast/validator.ts'

// ajv-formats ships CommonJS; under nodenext its default export is the module object.
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (ajv: Ajv) => Ajv

export const PROJECT_SCHEMA_DIR = resolve(import.meta.dirname)

/** libxml2 reads imported XSDs only through this in-memory provider: never from disk or network at run time. */
const xsdFiles = new XmlBufferInputProvider({})
let providerRegistered = false

export type LibraryOptions = HookOptions

export class SchemaLibrary {
  private readonly bodies: Ajv
  private readonly params: Ajv
  private readonly xsds = new Map<string, LibraryXsd>()
  private readonly hooks: TypeHooks
  /** Structure of every loaded XSD (element order, occurrence, types): drives hooks and the bridge mapping. */
  readonly model = new XsdModel()
  readonly jsonIds: string[] = []
  /** Source of every schema, for documents built from them (OpenAPI, self-contained WSDLs). */
  private readonly jsonSources = new Map<string, Record<string, unknown>>()
  private readonly xsdSources = new Map<string, string>()
  /**
   * Compiled validators by schema text: every registry version brings the services' schemas as new
   * objects, and compiling each again (ajv caches by object) would cost time and grow ajv's cache.
   */
  private readonly compiled = { bodies: new Map<string, ValidateFunction>(), params: new Map<string, ValidateFunction>() }

  private constructor (opts: LibraryOptions) {
    // multipleOfPrecision: 0.07 is a multiple of 0.01 although 0.07 / 0.01 is not an integer in binary.
    this.bodies = withAlbanianFormats(addFormats(new Ajv({ allErrors: true, strict: false, multipleOfPrecision: 9 })), opts)
    // Path and query parameters arrive as text; the schema says what they mean.
    this.params = withAlbanianFormats(addFormats(new Ajv({ allErrors: true, strict: false, coerceTypes: 'array', multipleOfPrecision: 9 })), opts)
    this.hooks = coreHooks(opts)
  }

  static async load (dirs: string[], opts: LibraryOptions = {}): Promise<SchemaLibrary> {
    const lib = new SchemaLibrary(opts)
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
        lib.jsonSources.set(schema.$id, schema)
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
    const seen = new Set<string>()
    const validators = new Map<string, XsdValidator>()
    // The fast validator reads the model of every loaded document; libxml2's validator of a
    // namespace knows the first document of that namespace. A second one would make the two differ.
    let secondDocument = false
    for (const { path, text } of xsdSources) {
      const doc = XmlDocument.fromString(text, { url: path })
      try {
        const ns = doc.root.attr('targetNamespace')?.value
        if (ns === undefined) throw new Error(`${path}: an XSD needs a targetNamespace`)
        if (seen.has(path)) continue
        seen.add(path)
        lib.model.add(doc.root)
        if (path.endsWith('.include.xsd')) continue
        if (validators.has(ns)) {
          secondDocument = true
          continue
        }
        validators.set(ns, XsdValidator.fromDoc(doc))
        lib.xsdSources.set(ns, withIncludesInlined(doc, path, xsdSources))
      } catch (err) {
        throw new Error(`${path}: ${xmlErrorText(err)}`)
      } finally {
        doc.dispose()
      }
    }
    for (const [ns, validator] of validators) {
      lib.xsds.set(ns, hookedXsd(ns, validator, lib.model, lib.hooks, secondDocument ? undefined : new FastXsd(lib.model, ns)))
    }
    return lib
  }

  /** Validator for a JSON body (no type coercion: JSON already has types). */
  compileBody (schema: object): ValidateFunction {
    return this.compileOnce(this.bodies, this.compiled.bodies, schema)
  }

  /** Validator for path or query parameters, which arrive as strings. */
  compileParams (schema: object): ValidateFunction {
    return this.compileOnce(this.params, this.compiled.params, schema)
  }

  private compileOnce (ajv: Ajv, cache: Map<string, ValidateFunction>, schema: object): ValidateFunction {
    const text = JSON.stringify(schema)
    let validate = cache.get(text)
    if (validate === undefined) cache.set(text, validate = ajv.compile(schema))
    return validate
  }

  /** The XSD of a namespace: libxml2 validation followed by the type hooks. */
  xsd (namespace: string): LibraryXsd | undefined {
    return this.xsds.get(namespace)
  }

  /** The JSON Schema registered under this `$id`, as written (not a copy: do not modify). */
  jsonSchema (id: string): Record<string, unknown> | undefined {
    return this.jsonSources.get(id)
  }

  /** The XSD text for a target namespace. */
  xsdSource (namespace: string): string | undefined {
    return this.xsdSources.get(namespace)
  }

  get namespaces (): string[] {
    return [...this.xsds.keys()]
  }
}

/**
 * The schema text published for a namespace stands on its own: `xs:include`d files (same namespace,
 * e.g. the generated code lists) are spliced in where they are included. Each spliced declaration is
 * in exclusive canonical form, so it declares the namespaces it uses.
 */
function withIncludesInlined (doc: XmlDocument, path: string, sources: Array<{ path: string; text: string }>): string {
  const includes = doc.root.find('xs:include[@schemaLocation]', { xs: 'http://www.w3.org/2001/XMLSchema' }) as XmlElement[]
  if (includes.length === 0) return doc.toString({ format: false })
  const copy = XmlDocument.fromString(doc.toString({ format: false }))
  try {
    let text = copy.toString({ format: false })
    for (const inc of copy.root.find('xs:include[@schemaLocation]', { xs: 'http://www.w3.org/2001/XMLSchema' }) as XmlElement[]) {
      const location = inc.attr('schemaLocation')!.value
      const source = sources.find(s => s.path === resolve(dirname(path), location))
      if (source === undefined) continue
      const included = XmlDocument.fromString(source.text)
      try {
        const parts: string[] = []
        for (let c = included.root.firstChild; c !== null; c = c.next) {
          if (c instanceof XmlElement) parts.push(c.canonicalizeToString({ mode: XmlC14NMode.XML_C14N_EXCLUSIVE_1_0 }))
        }
        text = text.replace(inc.toString({ format: false }), parts.join(''))
      } finally {
        included.dispose()
      }
    }
    return text
  } finally {
    copy.dispose()
  }
}

async function listFiles (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory() && entry.name === 'data') continue
    if (entry.isDirectory()) out.push(...await listFiles(path))
    else if (/\.(json|xsd)$/.test(entry.name)) out.push(path)
  }
  return out.sort()
}

/** Check letters and check digits as ajv formats (the patterns in the schemas check the rest). */
function withAlbanianFormats (ajv: Ajv, opts: LibraryOptions): Ajv {
  // Same meaning as ajv-formats' `date`, checked without a regular expression (full-date.ts); its
  // comparison (formatMinimum and friends) is kept.
  const date = ajv.formats.date
  ajv.addFormat('date', typeof date === 'object' && !(date instanceof RegExp) ? { ...date, validate: isFullDate } as typeof date : isFullDate)
  ajv.addFormat('al-nid', { type: 'string', validate: v => nidProblem(v) === undefined })
  ajv.addFormat('al-nipt', { type: 'string', validate: v => opts.niptCheckLetter === false || niptProblem(v) === undefined })
  ajv.addFormat('al-iban', { type: 'string', validate: v => ibanProblem(v) === undefined })
  return ajv
}

const FORMAT_TEXT: Record<string, string> = {
  'al-nid': 'check letter does not match (NID)',
  'al-nipt': 'check letter does not match (NIPT)',
  'al-iban': 'IBAN check digits do not match',
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
    if (e.keyword === 'format' && FORMAT_TEXT[(e.params as any).format] !== undefined) return `${at}: ${FORMAT_TEXT[(e.params as any).format]}`
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

/**
 * The violations of an element against an XSD; empty when it is valid. `text`: the same element
 * read from the document's text, for the hooks (see xsd-hooks.ts).
 */
export function xsdViolations (xsd: LibraryXsd, el: XmlElement, text?: HookElement): string[] {
  try {
    xsd.validate(el, text)
    return []
  } catch (err) {
    return xmlViolations(err)
  }
}

/** Whether a Content-Type is JSON (`application/json` or an `application/…+json` type). */
export function isJsonType (contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/([\w.+-]+\+)?json\b/i.test(contentType)
}
