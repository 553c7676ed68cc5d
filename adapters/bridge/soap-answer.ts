/**
 * A SOAP provider's answer to a bridged REST call, read as JSON.
 *
 * The common answer never reaches libxml2: its text is checked for well-formedness
 * (protocol/soap/well-formed.ts), its envelope laid out as `envelopeParts` requires, its element
 * mapped from the text (text-mapping.ts) and, for `responseValidation: enforce`, accepted by the
 * compiled XSD check and the type hooks (schemas/xsd-fast/). That path can only accept. A Fault, an
 * error, or anything it does not cover is read through libxml2's tree exactly as before, so every
 * error, its code and its message are the ones the tree gives.
 */
import { XRoadError, schemaMismatch } from '../../protocol/errors.ts'
import { SOAP_ENV } from '../../protocol/soap/namespaces.ts'
import { checkWellFormed, envelopeBody } from '../../protocol/soap/well-formed.ts'
import { envelopeParts, parseXml } from '../../protocol/soap/xml.ts'
import { xsdViolations } from '../../schemas/library.ts'
import type { LibraryXsd } from '../../schemas/xsd-hooks.ts'
import type { ElementDecl } from '../../schemas/xsd-model.ts'
import { faultToRestError } from './faults.ts'
import { mappingFailure, type XmlJsonMapper } from './mapping.ts'
import type { TextJsonMapper, TextMapped } from './text-mapping.ts'

const CODE = 'Server.ServerProxy.ServiceFailed.InvalidSoap'

/**
 * How answers were read, for the tests that hold the fast path to its promise: `text` without
 * libxml2, `tree` through libxml2's parse.
 */
export const answerReads = { text: 0, tree: 0 }

export interface AnswerReader {
  mapper: XmlJsonMapper
  textMapper: TextJsonMapper
  /** The provider's XSD. */
  xsd: LibraryXsd
  /** `responseValidation: enforce`: the answer is held to the XSD (and type hooks) before mapping. */
  enforce: boolean
}

/**
 * The answer's status and JSON: 200 and the `response` element, or the provider's Fault as the REST
 * error shape. `reader: 'tree'` always goes through libxml2 (tests hold the two paths against each
 * other).
 */
export function readSoapAnswer (bytes: Buffer, response: ElementDecl, how: AnswerReader, requestId: string, reader: 'auto' | 'tree' = 'auto'): { status: number; value: unknown } {
  const checked = reader === 'auto' ? checkWellFormed(bytes) : undefined
  const element = checked === undefined ? undefined : envelopeBody(checked.root)
  let mapped: TextMapped | undefined
  let textRead = false
  if (element !== undefined && element.name === response.name && element.ns === response.ns) {
    mapped = how.textMapper.readElement(checked!.src, element.start, element.scope, response)
    textRead = true
    if (mapped !== undefined && (!how.enforce || how.xsd.accepts(element, element))) {
      answerReads.text++
      return { status: 200, value: mapped.value }
    }
  }
  answerReads.tree++
  const doc = parseXml(bytes, CODE)
  try {
    const { body } = envelopeParts(doc, CODE)
    if (body.name === 'Fault' && body.namespaceUri === SOAP_ENV) {
      const error = faultToRestError(body, requestId)
      return { status: error.status, value: error.body }
    }
    if (body.name !== response.name || (body.namespaceUri ?? '') !== response.ns) {
      throw new XRoadError('Server.ServerProxy.InvalidResponse', `Provider answered {${body.namespaceUri ?? ''}}${body.name}, expected {${response.ns}}${response.name}`)
    }
    // The answer mapped from its text, when the text mapper covers it; the tree mapper otherwise.
    if (!textRead) mapped = how.textMapper.read(bytes, response)
    // Enforced services get the provider's XML checked against its XSD (and hooks) before mapping:
    // order and occurrence errors have no JSON form to be caught in later. libxml2 validates the
    // tree; the type hooks may read the element from the text.
    if (how.enforce) {
      const violations = xsdViolations(how.xsd, body, mapped?.element)
      if (violations.length > 0) throw schemaMismatch('Server.ServerProxy.InvalidResponse', violations)
    }
    if (mapped !== undefined) return { status: 200, value: mapped.value }
    try {
      return { status: 200, value: how.mapper.toJson(body, response) }
    } catch (err) {
      throw mappingFailure(err, 'Server.ServerProxy.InvalidResponse', 'The provider response cannot be expressed in JSON')
    }
  } finally {
    doc.dispose()
  }
}
