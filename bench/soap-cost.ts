/**
 * What the SOAP edge's own work costs per exchange, in microseconds, in this process: the steps the
 * SOAP route runs on the bench's 2 KB request and response (well-formedness check or parse, header
 * read, XSD validation with the type hooks, request hash, response read, validation, splice), one by
 * one and all together, as the route calls them (the fast path when it covers the message).
 * No HTTP, no pipeline: the figures say where the XML time goes, not what a client sees.
 *
 *   node bench/soap-cost.ts [rounds, default 5]
 *
 * Each step is timed in main-thread CPU time over many iterations per round; the best round is
 * printed (the machine is shared, and the best round is the one least disturbed).
 */
import { SOAP_REQUEST, SOAP_RESPONSE } from './fixtures.ts'
import { soapRequestHash } from '../protocol/request-hash.ts'
import { parseXml } from '../protocol/soap/xml.ts'
import { PROJECT_SCHEMA_DIR, SchemaLibrary, xsdViolations } from '../schemas/library.ts'
import { parseRequestEnvelope } from '../gateway/edge/soap/request.ts'
import { readProviderResponse, type EchoSource } from '../gateway/edge/soap/response.ts'
import { scanEnvelope } from '../gateway/edge/soap/scan.ts'
import { bodyViolations } from '../gateway/edge/soap/validate.ts'
import { checkWellFormed } from '../protocol/soap/well-formed.ts'

const RC = 'http://ura.gov.al/demo/regjistri-civil/v1'
const rounds = Number(process.argv[2] ?? 5)
const library = await SchemaLibrary.load([PROJECT_SCHEMA_DIR])
const xsd = library.xsd(RC)!

const request = SOAP_REQUEST
const response = SOAP_RESPONSE
const first = parseRequestEnvelope(request)
const echo: EchoSource = { header: first.header, headerXml: first.headerXml, headerIsText: first.headerIsText, headerNamespaces: first.headerNamespaces, requestHash: soapRequestHash(request) }
if (xsdViolations(xsd, first.body).length > 0) throw new Error('the bench request is not valid')
first.dispose()
const validated = parseRequestEnvelope(request)
if (validated.bodyNode === undefined || !xsd.accepts(validated.bodyNode, validated.bodyText!)) console.log('note: the fast path does not cover the bench request')

const steps: Array<[string, () => void]> = [
  ['request: parse + dispose', () => parseXml(request, 'Client.InvalidSoap').dispose()],
  ['request: byte scan', () => { scanEnvelope(request) }],
  ['request: well-formedness check', () => { checkWellFormed(request) }],
  ['request: read envelope (check, scan, header)', () => parseRequestEnvelope(request).dispose()],
  ['request: + XSD and hooks', () => {
    const e = parseRequestEnvelope(request)
    bodyViolations(xsd, e.bodyNode, e.bodyText, () => e.body)
    e.dispose()
  }],
  ['request: hash', () => { soapRequestHash(request) }],
  ['response: parse + dispose', () => parseXml(response, 'Server.ServerProxy.ServiceFailed.InvalidSoap').dispose()],
  ['response: byte scan', () => { scanEnvelope(response, { text: echo.headerXml, bytes: Buffer.from(echo.headerXml), namespaces: echo.headerNamespaces }) }],
  ['response: well-formedness check', () => { checkWellFormed(response) }],
  ['response: read (check, scan, echo check)', () => readProviderResponse(response, echo).dispose()],
  ['response: + XSD and hooks', () => {
    const r = readProviderResponse(response, echo)
    r.violations(xsd)
    r.dispose()
  }],
  ['response: + splice', () => {
    const r = readProviderResponse(response, echo)
    r.violations(xsd)
    r.build()
    r.dispose()
  }],
  ['exchange: all SOAP work', () => {
    const e = parseRequestEnvelope(request)
    bodyViolations(xsd, e.bodyNode, e.bodyText, () => e.body)
    const source: EchoSource = { header: e.header, headerXml: e.headerXml, headerIsText: e.headerIsText, headerNamespaces: e.headerNamespaces, requestHash: soapRequestHash(request) }
    e.dispose()
    const r = readProviderResponse(response, source)
    r.violations(xsd)
    r.build()
    r.dispose()
  }],
]

/** Main-thread CPU time per call (µs): other processes' load stretches wall time, not this. */
function time (fn: () => void, n: number): number {
  const t0 = process.threadCpuUsage()
  for (let i = 0; i < n; i++) fn()
  const used = process.threadCpuUsage(t0)
  return (used.user + used.system) / n
}

const best = new Map<string, number>()
for (const [, fn] of steps) time(fn, 3000) // warm-up: JIT
for (let r = 0; r < rounds; r++) {
  for (const [name, fn] of steps) best.set(name, Math.min(best.get(name) ?? Infinity, time(fn, 5000)))
}
console.log(`SOAP edge work, µs per call, best of ${rounds} rounds (request ${request.length} B, response ${response.length} B)`)
for (const [name] of steps) console.log(`  ${name.padEnd(46)} ${best.get(name)!.toFixed(1).padStart(6)}`)
