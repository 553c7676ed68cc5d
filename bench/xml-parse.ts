/**
 * Why the bridge reads XML with libxml2-wasm rather than xml2js (DESIGN §6 named xml2js): parse and
 * walk a 1.1 KB X-Road response envelope, with the namespace information the mapping needs.
 *
 *   npm i --no-save xml2js && node bench/xml-parse.ts
 */
import { XmlDocument, XmlElement, XmlText } from 'libxml2-wasm'

const citizen = '<rc:shtetas><rc:nid>I50314123V</rc:nid><rc:emri>Artan</rc:emri><rc:mbiemri>Hoxha</rc:mbiemri><rc:atesia>Ilir</rc:atesia>' +
  '<rc:datelindja>1985-03-14</rc:datelindja><rc:gjinia>M</rc:gjinia><rc:vendlindja>Tiranë</rc:vendlindja><rc:adresa><rc:bashkia>Tiranë</rc:bashkia>' +
  '<rc:rruga>Rruga e Kavajës</rc:rruga><rc:nrPallati>27/2</rc:nrPallati><rc:kodiPostar>1001</rc:kodiPostar></rc:adresa><rc:gjendjaCivile>martuar</rc:gjendjaCivile></rc:shtetas>'
const envelope = '<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" ' +
  'xmlns:rc="http://ura.gov.al/demo/regjistri-civil/v1" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers"><soap:Header>' +
  '<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>AL-DEV</id:xRoadInstance><id:memberClass>NJQV</id:memberClass><id:memberCode>L21603004L</id:memberCode>' +
  '<id:subsystemCode>gjendja-civile</id:subsystemCode></xrd:client><xrd:id>abc</xrd:id><xrd:protocolVersion>4.0</xrd:protocolVersion></soap:Header>' +
  `<soap:Body><rc:kerkoShtetasResponse><rc:gjetur>true</rc:gjetur>${citizen}</rc:kerkoShtetasResponse></soap:Body></soap:Envelope>`
const bytes = Buffer.from(envelope)

function walk (el: XmlElement): unknown {
  const kids: unknown[] = []
  let text = ''
  for (let c = el.firstChild; c !== null; c = c.next) {
    if (c instanceof XmlElement) kids.push([c.namespaceUri, c.name, walk(c)])
    else if (c instanceof XmlText) text += c.content
  }
  return kids.length > 0 ? kids : text
}

function bench (name: string, fn: () => void): void {
  for (let i = 0; i < 2000; i++) fn()
  const n = 20000
  const started = performance.now()
  for (let i = 0; i < n; i++) fn()
  console.log(`${name.padEnd(44)} ${Math.round(n / (performance.now() - started) * 1000)} /s`)
}

console.log(`envelope: ${bytes.length} bytes`)
bench('libxml2-wasm: parse + walk with namespaces', () => { const d = XmlDocument.fromBuffer(bytes); walk(d.root); d.dispose() })
let xml2js: any
try {
  const name = 'xml2js'
  xml2js = await import(name)
} catch {
  console.log('xml2js is not installed: npm i --no-save xml2js')
}
if (xml2js !== undefined) {
  const withNs = new xml2js.Parser({ xmlns: true, explicitChildren: true, preserveChildrenOrder: true, async: false })
  bench('xml2js: parse with namespaces, ordered children', () => { withNs.parseString(envelope, () => {}) })
  const plain = new xml2js.Parser({ async: false })
  bench('xml2js: parse, defaults (no namespaces)', () => { plain.parseString(envelope, () => {}) })
}
