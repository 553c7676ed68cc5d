/**
 * Turns the JSON Schemas that validate a service (which `$ref` the shared library by `$id`) into
 * one self-contained set for an OpenAPI document: every referenced library schema becomes a named
 * entry of `components.schemas` and every `$ref` points there. The validating schemas themselves
 * are read, never changed, so the documentation cannot drift from what is enforced.
 */
import type { SchemaLibrary } from '../../schemas/library.ts'

type Json = Record<string, unknown>

/** Keywords that make sense only inside a standalone JSON Schema document. */
const DOCUMENT_KEYWORDS = new Set(['$schema', '$id', 'definitions', '$defs'])

export class SchemaBundler {
  /** `components.schemas` of the document being built. */
  readonly components: Record<string, Json> = {}
  private readonly names = new Map<string, string>()
  private readonly library: SchemaLibrary
  private inlineCount = 0
  private readonly inlineDocs = new Map<string, Json>()

  constructor (library: SchemaLibrary) {
    this.library = library
  }

  /** A schema for a body or response: a top-level `$ref` stays a reference to a component. */
  bundle (schema: Json): Json {
    return this.rewrite(schema, this.inlineBase(schema))
  }

  /**
   * A schema for path or query parameters: the object itself is inlined (OpenAPI lists each
   * property as its own parameter); its properties may still point at components.
   */
  bundleInline (schema: Json): Json {
    const base = this.inlineBase(schema)
    let target = schema
    let targetBase = base
    for (let hops = 0; typeof target.$ref === 'string' && hops < 16; hops++) {
      const resolved = this.resolve(target.$ref, targetBase)
      target = resolved.schema
      targetBase = resolved.base
    }
    return this.rewrite(target, targetBase)
  }

  /** A schema written inline in the config has no `$id`; its local `#/…` refs resolve inside it. */
  private inlineBase (schema: Json): string {
    const base = `urn:ura:inline:${++this.inlineCount}`
    this.inlineDocs.set(base, schema)
    return base
  }

  private document (id: string): Json {
    const doc = this.inlineDocs.get(id) ?? this.library.jsonSchema(id)
    if (doc === undefined) throw new Error(`$ref to ${id}: no schema with that $id in the schema library`)
    return doc
  }

  private resolve (ref: string, base: string): { schema: Json; base: string; key: string } {
    const hash = ref.indexOf('#')
    const docPart = hash === -1 ? ref : ref.slice(0, hash)
    const pointer = hash === -1 ? '' : ref.slice(hash + 1)
    const docId = docPart === '' ? base : new URL(docPart, base.startsWith('urn:') ? undefined : base).href
    let node: unknown = this.document(docId)
    for (const raw of pointer.split('/').slice(1)) {
      const step = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~')
      node = (node as Json | undefined)?.[step]
      if (node === undefined) throw new Error(`$ref ${ref}: nothing at #${pointer} in ${docId}`)
    }
    return { schema: node as Json, base: docId, key: `${docId}#${pointer}` }
  }

  /** Readable, unique component names: `taksat-vendore.pergjigje`, `core.nipt`. */
  private componentName (docId: string, pointer: string): string {
    const segments = docId.startsWith('urn:') ? ['inline'] : new URL(docId).pathname.split('/').filter(s => s !== '' && !/^v\d+$/.test(s) && s !== 'schemas')
    const doc = segments.at(-1) ?? 'schema'
    const last = pointer.split('/').filter(Boolean).at(-1)
    let name = (last === undefined ? doc : `${doc}.${last}`).replace(/[^A-Za-z0-9._-]/g, '_')
    const taken = new Set(this.names.values())
    for (let n = 2; taken.has(name); n++) name = `${name.replace(/_\d+$/, '')}_${n}`
    return name
  }

  private reference (ref: string, base: string): string {
    const target = this.resolve(ref, base)
    let name = this.names.get(target.key)
    if (name === undefined) {
      name = this.componentName(target.base, target.key.slice(target.key.indexOf('#') + 1))
      this.names.set(target.key, name)
      // Reserve first, then fill: recursive schemas end at the reservation.
      this.components[name] = {}
      this.components[name] = this.rewrite(target.schema, target.base)
    }
    return `#/components/schemas/${name}`
  }

  private rewrite (node: unknown, base: string): Json {
    return this.walk(node, base) as Json
  }

  private walk (node: unknown, base: string): unknown {
    if (Array.isArray(node)) return node.map(item => this.walk(item, base))
    if (node === null || typeof node !== 'object') return node
    const out: Json = {}
    for (const [key, value] of Object.entries(node as Json)) {
      // Definitions are reached through the references that use them.
      if (DOCUMENT_KEYWORDS.has(key)) continue
      if (key === '$ref' && typeof value === 'string') {
        out.$ref = this.reference(value, base)
        continue
      }
      // Property names and enum values are data, not schemas: copied as they are.
      out[key] = key === 'enum' || key === 'const' || key === 'examples' || key === 'default' || key === 'required'
        ? value
        : key === 'properties' || key === 'patternProperties'
          ? Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, this.walk(v, base)]))
          : this.walk(value, base)
    }
    return out
  }
}
