/**
 * A SOAP body against its service's XSD: the compiled check (schemas/xsd-fast/) on the element
 * read from the text when the message was not parsed by libxml2, and libxml2 itself whenever that
 * check does not accept — so every refusal, and its wording, comes from libxml2 as before.
 */
import type { XmlElement } from 'libxml2-wasm'
import { xsdViolations } from '../../../schemas/library.ts'
import type { FastNode } from '../../../schemas/xsd-fast/validator.ts'
import type { HookElement, LibraryXsd } from '../../../schemas/xsd-hooks.ts'

/** Violations of `xsd` (empty when valid); `element` gives libxml2's tree of the body when needed. */
export function bodyViolations (xsd: LibraryXsd, node: FastNode | undefined, text: HookElement | undefined, element: () => XmlElement): string[] {
  if (node !== undefined && text !== undefined && xsd.accepts(node, text)) return []
  return xsdViolations(xsd, element(), text)
}
