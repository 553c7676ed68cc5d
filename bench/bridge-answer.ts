/**
 * What reading a SOAP provider's answer costs the REST → SOAP bridge, in this process: the bench's
 * 2 KB answer (bench/fixtures.ts) read as the bridge reads it, with its fast path (no libxml2) and
 * through libxml2's tree as before, alternated, then the fast path's steps one by one.
 *
 *   npm run bench:bridge -- --answer [rounds, default 5]
 *
 * Main-thread CPU time per call; each figure is the median of the rounds (min–median–max shown).
 */
import { XmlJsonMapper } from '../adapters/bridge/mapping.ts'
import { readSoapAnswer } from '../adapters/bridge/soap-answer.ts'
import { TextJsonMapper } from '../adapters/bridge/text-mapping.ts'
import { checkWellFormed, envelopeBody } from '../protocol/soap/well-formed.ts'
import { parseXml } from '../protocol/soap/xml.ts'
import { PROJECT_SCHEMA_DIR, SchemaLibrary } from '../schemas/library.ts'
import { SOAP_RESPONSE } from './fixtures.ts'

const RC = 'http://ura.gov.al/demo/regjistri-civil/v1'
const rounds = Number(process.argv[3] ?? 5)
const library = await SchemaLibrary.load([PROJECT_SCHEMA_DIR])
const mapper = new XmlJsonMapper(library.model)
const textMapper = new TextJsonMapper(library.model, mapper)
const decl = mapper.element(RC, 'kerkoShtetasResponse')
const how = { mapper, textMapper, xsd: library.xsd(RC)!, enforce: true }
const checked = checkWellFormed(SOAP_RESPONSE)!
const body = envelopeBody(checked.root)!

const steps: Array<[string, () => unknown]> = [
  ['answer through libxml2 (before)', () => readSoapAnswer(SOAP_RESPONSE, decl, how, 'r', 'tree')],
  ['answer, fast path (after)', () => readSoapAnswer(SOAP_RESPONSE, decl, how, 'r')],
  ['  well-formedness check', () => checkWellFormed(SOAP_RESPONSE)],
  ['  mapping from the text', () => textMapper.readElement(checked.src, body.start, body.scope, decl)],
  ['  XSD check and type hooks', () => how.xsd.accepts(body, body)],
  ['libxml2 parse alone', () => { parseXml(SOAP_RESPONSE, 'Server.ServerProxy.ServiceFailed.InvalidSoap').dispose() }],
]

const figures = steps.map(() => [] as number[])
for (let r = 0; r < rounds; r++) {
  steps.forEach(([, fn], k) => {
    for (let i = 0; i < 200; i++) fn()
    const n = 2000
    const t0 = process.threadCpuUsage()
    for (let i = 0; i < n; i++) fn()
    const used = process.threadCpuUsage(t0)
    figures[k].push((used.user + used.system) / n)
  })
}
for (const [k, [name]] of steps.entries()) {
  const f = figures[k].sort((a, b) => a - b)
  console.log(`${name.padEnd(34)} ${f[0].toFixed(1)}–${f[Math.floor(f.length / 2)].toFixed(1)}–${f[f.length - 1].toFixed(1)} µs`)
}
