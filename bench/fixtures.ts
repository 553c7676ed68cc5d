/**
 * Bench payloads: a 1 KB JSON record with its JSON Schema (request and response), a 2 KB SOAP
 * request and response valid against the demo civil-registry XSD, and the configuration the ura
 * node under test runs with. Synthetic data only.
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const INSTANCE = 'BENCH'
export const CLIENT = `${INSTANCE}/GOV/K11503002N/portali`
export const REST_SERVICE = `${INSTANCE}/NJQV/L21603004L/taksat/regjistri`
/** The same register taken asynchronously (`delivery: { mode: async }`): 202 at once, delivered from the queue. */
export const ASYNC_SERVICE = `${INSTANCE}/NJQV/L21603004L/taksat/njoftime`
export const BULK_SERVICE = `${INSTANCE}/NJQV/L21603004L/taksat/dokumente`
export const SOAP_SERVICE = `${INSTANCE}/GOV/L01417001D/regjistri-civil/kerkoShtetas/v1`
/** REST face of the SOAP registry (the bridge): GET /{nid} becomes a kerkoShtetas v1 call. */
export const BRIDGE_SERVICE = `${INSTANCE}/GOV/L01417001D/regjistri-civil/shtetasit`
/** Passphrase of the keys the bench's throwaway PKIs are encrypted with. */
export const BENCH_PASSPHRASE = 'bench-passphrase'

/** Provider paths (what the bare proxy and nginx are asked for directly). */
export const PROVIDER_PATHS = { json: '/api/v1/regjistri/subjekte', bulk: '/api/v1/dokumente', soap: '/soap/regjistri-civil' }

function record (i: number): Record<string, unknown> {
  return { lloji: 'takse-biznesi', pershkrimi: `Taksa vendore e biznesit, kesti ${i}`, shuma: 1250.5 + i, paguar: i % 2 === 0, afati: `2026-0${1 + (i % 9)}-15` }
}

/** ≈1 KB: a business with its obligations. */
export const JSON_BODY = Buffer.from(JSON.stringify({
  nipt: 'K81305012I',
  emri: 'Furra e Bukës "Çajupi" sh.p.k.',
  adresa: { bashkia: 'Tiranë', rruga: 'Rruga e Durrësit', nr: '12', kodiPostar: '1001' },
  detyrime: [0, 1, 2, 3, 4].map(record),
}))

export const JSON_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['nipt', 'emri', 'adresa', 'detyrime'],
  properties: {
    nipt: { type: 'string', pattern: '^[A-M][0-9]{8}[A-Z]$' },
    emri: { type: 'string', minLength: 1, maxLength: 200 },
    adresa: {
      type: 'object',
      additionalProperties: false,
      required: ['bashkia', 'rruga', 'kodiPostar'],
      properties: { bashkia: { type: 'string' }, rruga: { type: 'string' }, nr: { type: 'string' }, kodiPostar: { type: 'string', pattern: '^[0-9]{4}$' } },
    },
    detyrime: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['lloji', 'pershkrimi', 'shuma', 'paguar', 'afati'],
        properties: {
          lloji: { enum: ['tatim-ndertese', 'tatim-toke', 'takse-pastrimi', 'takse-ndricimi', 'takse-biznesi'] },
          pershkrimi: { type: 'string', minLength: 1 },
          shuma: { type: 'number', minimum: 0 },
          paguar: { type: 'boolean' },
          afati: { type: 'string', format: 'date' },
        },
      },
    },
  },
}

const RC = 'http://ura.gov.al/demo/regjistri-civil/v1'
const HEADER = `<soapenv:Header>
    <xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>${INSTANCE}</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>K11503002N</id:memberCode><id:subsystemCode>portali</id:subsystemCode></xrd:client>
    <xrd:service id:objectType="SERVICE"><id:xRoadInstance>${INSTANCE}</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>L01417001D</id:memberCode><id:subsystemCode>regjistri-civil</id:subsystemCode><id:serviceCode>kerkoShtetas</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service>
    <xrd:id>bench-7d1e5c2a-0b3f-4e8a-a6d4-91c2f0e8b357</xrd:id>
    <xrd:userId>AL-K16102045M</xrd:userId>
    <xrd:issue>CERT-2026-0042</xrd:issue>
    <xrd:protocolVersion>4.0</xrd:protocolVersion>
  </soapenv:Header>`
const OPEN = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:rc="${RC}">
  `

/** Pads with a trailing comment to exactly `size` bytes. */
function padTo (xml: string, size: number): Buffer {
  const bytes = Buffer.from(xml)
  const pad = size - bytes.length - '<!---->'.length
  return pad <= 0 ? bytes : Buffer.concat([bytes, Buffer.from(`<!--${' '.repeat(pad)}-->`)])
}

export const SOAP_REQUEST = padTo(`${OPEN}${HEADER}
  <soapenv:Body>
    <rc:kerkoShtetas><rc:nid>I50314123V</rc:nid><rc:arsyeja>Lëshim certifikate familjare për aplikimin në e-Albania, shërbimi i gjendjes civile</rc:arsyeja></rc:kerkoShtetas>
  </soapenv:Body>
</soapenv:Envelope>`, 2048)

export const SOAP_RESPONSE = padTo(`${OPEN}${HEADER}
  <soapenv:Body>
    <rc:kerkoShtetasResponse><rc:gjetur>true</rc:gjetur><rc:shtetas><rc:nid>I50314123V</rc:nid><rc:emri>Artan</rc:emri><rc:mbiemri>Hoxha</rc:mbiemri><rc:atesia>Petrit</rc:atesia><rc:datelindja>1985-03-14</rc:datelindja><rc:gjinia>M</rc:gjinia><rc:vendlindja>Tiranë</rc:vendlindja><rc:adresa><rc:bashkia>Tiranë</rc:bashkia><rc:rruga>Rruga Myslym Shyri</rc:rruga><rc:nrPallati>24/1</rc:nrPallati><rc:kodiPostar>1001</rc:kodiPostar></rc:adresa><rc:gjendjaCivile>martuar</rc:gjendjaCivile></rc:shtetas></rc:kerkoShtetasResponse>
  </soapenv:Body>
</soapenv:Envelope>`, 2048)

export interface BenchNodeOptions {
  requestBytes: number
  responseBytes: number
  /** The calling subsystem must present a client certificate (`connection: mtls`). */
  mtls?: boolean
  /** Keys, certificates and the embedded message log live here (absolute path). */
  dataDir?: string
  /** Add the bridged REST face of the SOAP registry. */
  bridge?: boolean
  /** Add ASYNC_SERVICE, queued in the embedded delivery queue of the data directory. */
  asyncDelivery?: boolean
  /** The message log signs deferred (node.log.signing: deferred). */
  deferredSigning?: boolean
}

/** Writes the ura configuration for the bench into a fresh temp directory and returns it. */
export async function writeBenchConfig (providerUrl: string, opts: BenchNodeOptions): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ura-bench-'))
  const schemas = resolve(import.meta.dirname, '../schemas/demo')
  const yaml = `node:
  instance: ${INSTANCE}
  listen: { host: 127.0.0.1, port: 0 }
  limits: { requestBytes: ${opts.requestBytes}, responseBytes: ${opts.responseBytes} }
${opts.dataDir === undefined ? '' : `  dataDir: ${JSON.stringify(opts.dataDir)}\n  log: { store: embedded${opts.deferredSigning === true ? ', signing: deferred' : ''} }\n`}members:
  - class: GOV
    code: K11503002N
    name: Portali
    subsystems: [{ code: portali, connection: ${opts.mtls === true ? 'mtls' : 'http'} }]
  - class: NJQV
    code: L21603004L
    name: Bashkia
    subsystems: [{ code: taksat }]
  - class: GOV
    code: L01417001D
    name: Regjistri
    subsystems: [{ code: regjistri-civil }]
services:
  - provider: ${INSTANCE}/NJQV/L21603004L/taksat
    code: regjistri
    type: rest
    adapter: { kind: rest, url: "${providerUrl}/api/v1/regjistri", connections: 64 }
    timeoutMs: 30000
    endpoints:
      - method: POST
        path: /subjekte
        body: ${JSON.stringify(JSON_SCHEMA)}
        response: ${JSON.stringify(JSON_SCHEMA)}
  - provider: ${INSTANCE}/NJQV/L21603004L/taksat
    code: dokumente
    type: rest
    adapter: { kind: rest, url: "${providerUrl}/api/v1/dokumente", connections: 8 }
    timeoutMs: 60000
  - provider: ${INSTANCE}/GOV/L01417001D/regjistri-civil
    code: kerkoShtetas
    version: v1
    type: soap
    adapter: { kind: soap, url: "${providerUrl}/soap/regjistri-civil", connections: 64 }
    wsdl: ${schemas}/regjistri-civil.wsdl
    xsd: ${RC}
    timeoutMs: 30000
${opts.bridge === true ? BRIDGE_YAML(providerUrl) : ''}${opts.asyncDelivery === true ? ASYNC_YAML(providerUrl) : ''}access:
  - { service: ${REST_SERVICE}, clients: [${CLIENT}] }
  - { service: ${BULK_SERVICE}, clients: [${CLIENT}] }
  - { service: ${INSTANCE}/GOV/L01417001D/regjistri-civil/kerkoShtetas, clients: [${CLIENT}] }
${opts.bridge === true ? `  - { service: ${BRIDGE_SERVICE}, clients: [${CLIENT}] }\n` : ''}${opts.asyncDelivery === true ? `  - { service: ${ASYNC_SERVICE}, clients: [${CLIENT}] }\n` : ''}`
  await writeFile(join(dir, 'ura.yaml'), yaml)
  return dir
}

/** The bridged service: clients speak REST, the provider (the bench provider's SOAP path) SOAP. */
const BRIDGE_YAML = (providerUrl: string): string => `  - provider: ${INSTANCE}/GOV/L01417001D/regjistri-civil
    code: shtetasit
    type: rest
    adapter:
      kind: bridge
      providerType: soap
      url: "${providerUrl}${PROVIDER_PATHS.soap}"
      namespace: ${RC}
      operations: [{ method: GET, path: "/{nid}", operation: kerkoShtetas, version: v1 }]
    timeoutMs: 30000
    endpoints:
      - method: GET
        path: /{nid}
        params: { $ref: "https://ura.gov.al/schemas/demo/regjistri-civil/v1#/definitions/kerkoShtetasParams" }
        query: { $ref: "https://ura.gov.al/schemas/demo/regjistri-civil/v1#/definitions/kerkoShtetasQuery" }
        response: { $ref: "https://ura.gov.al/schemas/demo/regjistri-civil/v1#/definitions/kerkoShtetasResponse" }
`

/**
 * The asynchronous face of the register: validated, logged and queued (202), then delivered by the
 * node's workers to the same provider path as the synchronous service. Retries are left at their
 * defaults; the bench provider always answers 200.
 */
const ASYNC_YAML = (providerUrl: string): string => `  - provider: ${INSTANCE}/NJQV/L21603004L/taksat
    code: njoftime
    type: rest
    adapter: { kind: rest, url: "${providerUrl}/api/v1/regjistri", connections: 64 }
    timeoutMs: 30000
    delivery: { mode: async }
    endpoints:
      - method: POST
        path: /subjekte
        body: ${JSON.stringify(JSON_SCHEMA)}
        response: ${JSON.stringify(JSON_SCHEMA)}
`
