import { SOAP_REQUEST as request, SOAP_RESPONSE as response } from './bench/fixtures.ts'
import { soapRequestHash } from './protocol/request-hash.ts'
import { PROJECT_SCHEMA_DIR, SchemaLibrary } from './schemas/library.ts'
import { parseRequestEnvelope } from './gateway/edge/soap/request.ts'
import { readProviderResponse, type EchoSource } from './gateway/edge/soap/response.ts'
import { bodyViolations } from './gateway/edge/soap/validate.ts'
const library = await SchemaLibrary.load([PROJECT_SCHEMA_DIR])
const xsd = library.xsd('http://ura.gov.al/demo/regjistri-civil/v1')!
const run = () => {
    const e = parseRequestEnvelope(request)
    bodyViolations(xsd, e.bodyNode, e.bodyText, () => e.body)
    const source: EchoSource = { header: e.header, headerXml: e.headerXml, headerIsText: e.headerIsText, headerNamespaces: e.headerNamespaces, requestHash: soapRequestHash(request) }
    e.dispose()
    const r = readProviderResponse(response, source)
    r.violations(xsd)
    r.build()
    r.dispose()
}
for (let i = 0; i < 5000; i++) run()
const t0 = process.threadCpuUsage()
for (let i = 0; i < 100000; i++) run()
const u = process.threadCpuUsage(t0)
console.log('µs/exchange', (u.user + u.system) / 100000)
