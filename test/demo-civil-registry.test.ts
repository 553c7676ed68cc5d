import t from 'tap';
import { connect } from 'node:net';
import { readFile } from 'node:fs/promises';
import { request } from 'undici';
import { XmlC14NMode, XmlDocument, XmlElement } from 'libxml2-wasm';
import { PROJECT_SCHEMA_DIR, SchemaLibrary } from '../schemas/library.ts';
import { startCivilRegistry, WSDL_FILE, XSD_FILE } from '../demo/civil-registry.ts';
import { CITIZENS, FAULT_NID, FAULT_STRING, INVALID_RESPONSE_NID } from '../demo/civil-registry-data.ts';

const RC_NS = 'http://ura.gov.al/demo/regjistri-civil/v1';
const SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const XRD_NS = 'http://x-road.eu/xsd/xroad.xsd';
const ID_NS = 'http://x-road.eu/xsd/identifiers';
const NS = { soapenv: SOAP_NS, rc: RC_NS, xrd: XRD_NS, id: ID_NS };

const CLIENT_HEADER =
  '<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>AL-DEV</id:xRoadInstance><id:memberClass>GOV</id:memberClass>' +
  '<id:memberCode>K11503002N</id:memberCode><id:subsystemCode>e-albania</id:subsystemCode></xrd:client>';
const SERVICE_HEADER =
  '<xrd:service id:objectType="SERVICE"><id:xRoadInstance>AL-DEV</id:xRoadInstance><id:memberClass>GOV</id:memberClass>' +
  '<id:memberCode>L01417001D</id:memberCode><id:subsystemCode>regjistri-civil</id:subsystemCode>' +
  '<id:serviceCode>kerkoShtetas</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service>';
const DEFAULT_HEADERS = [
  CLIENT_HEADER,
  SERVICE_HEADER,
  '<xrd:id>3f7c9a52-1d2e-4b8a-9c61-0e5d4a7b2f10</xrd:id>',
  '<xrd:userId>AL-I50314123V</xrd:userId>',
  '<xrd:protocolVersion>4.0</xrd:protocolVersion>',
];

function envelope(nid: string, headers: string[] = DEFAULT_HEADERS, arsyeja?: string): string {
  const purpose = arsyeja === undefined ? '' : `<rc:arsyeja>${arsyeja}</rc:arsyeja>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="${SOAP_NS}" xmlns:xrd="${XRD_NS}" xmlns:id="${ID_NS}" xmlns:rc="${RC_NS}">
  <soapenv:Header>
    ${headers.join('\n    ')}
  </soapenv:Header>
  <soapenv:Body><rc:kerkoShtetas><rc:nid>${nid}</rc:nid>${purpose}</rc:kerkoShtetas></soapenv:Body>
</soapenv:Envelope>`;
}

async function post(url: string, body: string): Promise<{ status: number; contentType: string; text: string }> {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '""' },
    body,
  });
  return {
    status: res.statusCode,
    contentType: String(res.headers['content-type'] ?? ''),
    text: await res.body.text(),
  };
}

/** Element children of the SOAP Header, each canonicalised on its own. */
function headerElements(doc: XmlDocument): XmlElement[] {
  const found = doc.find('/soapenv:Envelope/soapenv:Header/*', NS);
  return found.filter((n): n is XmlElement => n instanceof XmlElement);
}

function canonical(el: XmlElement): string {
  return el.canonicalizeToString({ mode: XmlC14NMode.XML_C14N_EXCLUSIVE_1_0 });
}

function bodyElement(doc: XmlDocument): XmlElement {
  const el = doc.get('/soapenv:Envelope/soapenv:Body/*', NS);
  if (!(el instanceof XmlElement)) throw new Error('Body has no element child');
  return el;
}

function text(doc: XmlDocument, xpath: string): string | undefined {
  return doc.get(xpath, NS)?.content;
}

/** Sends raw bytes and returns everything the server answers until it closes. */
function rawExchange(url: string, payload: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.setTimeout(5_000, () => socket.destroy(new Error('timed out waiting for the server')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(payload);
  });
}

function statusOf(raw: string): number {
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(raw);
  return m === null ? -1 : Number(m[1]);
}

const xsdText = await readFile(XSD_FILE, 'utf8');
// The service schema imports the core library types, so it is compiled by the library.
const validator = (await SchemaLibrary.load([PROJECT_SCHEMA_DIR])).xsd(RC_NS)!;

/** Validates the Body payload of an envelope against the service schema. */
function payloadIsValid(envelopeXml: string): boolean {
  const doc = XmlDocument.fromString(envelopeXml);
  try {
    validator.validate(bodyElement(doc));
    return true;
  } catch {
    return false;
  } finally {
    doc.dispose();
  }
}

const registry = await startCivilRegistry({ port: 0 });
t.teardown(() => registry.close());

t.match(registry.url, /^http:\/\/127\.0\.0\.1:\d+\/regjistri-civil$/, 'url carries the real port and path');

t.test('known citizen comes back with the right fields', async (t) => {
  const res = await post(registry.url, envelope('I50314123V', DEFAULT_HEADERS, 'Verifikim për leje ndërtimi'));
  t.equal(res.status, 200);
  t.match(res.contentType, /xml/);
  const doc = XmlDocument.fromString(res.text);
  t.teardown(() => doc.dispose());
  const body = bodyElement(doc);
  t.equal(body.name, 'kerkoShtetasResponse');
  t.equal(body.namespaceUri, RC_NS);
  const s = '/soapenv:Envelope/soapenv:Body/rc:kerkoShtetasResponse';
  t.equal(text(doc, `${s}/rc:gjetur`), 'true');
  t.equal(text(doc, `${s}/rc:shtetas/rc:nid`), 'I50314123V');
  t.equal(text(doc, `${s}/rc:shtetas/rc:emri`), 'Artan');
  t.equal(text(doc, `${s}/rc:shtetas/rc:mbiemri`), 'Hoxha');
  t.equal(text(doc, `${s}/rc:shtetas/rc:atesia`), 'Ilir');
  t.equal(text(doc, `${s}/rc:shtetas/rc:datelindja`), '1985-03-14');
  t.equal(text(doc, `${s}/rc:shtetas/rc:gjinia`), 'M');
  t.equal(text(doc, `${s}/rc:shtetas/rc:vendlindja`), 'Tiranë');
  t.equal(text(doc, `${s}/rc:shtetas/rc:adresa/rc:bashkia`), 'Tiranë');
  t.equal(text(doc, `${s}/rc:shtetas/rc:adresa/rc:rruga`), 'Rruga e Kavajës');
  t.equal(text(doc, `${s}/rc:shtetas/rc:adresa/rc:kodiPostar`), '1001');
  t.equal(text(doc, `${s}/rc:shtetas/rc:gjendjaCivile`), 'martuar');
  t.ok(payloadIsValid(res.text), 'response payload satisfies the schema');
});

t.test('every known citizen is served and valid', async (t) => {
  t.ok(CITIZENS.length >= 5);
  for (const c of CITIZENS) {
    const res = await post(registry.url, envelope(c.nid));
    t.equal(res.status, 200, c.nid);
    const doc = XmlDocument.fromString(res.text);
    try {
      const s = '/soapenv:Envelope/soapenv:Body/rc:kerkoShtetasResponse/rc:shtetas';
      t.equal(text(doc, `${s}/rc:emri`), c.emri, `${c.nid} name`);
      t.equal(text(doc, `${s}/rc:datelindja`), c.datelindja, `${c.nid} birth date`);
      t.equal(text(doc, `${s}/rc:gjinia`), c.gjinia, `${c.nid} sex`);
      t.equal(text(doc, `${s}/rc:atesia`), c.atesia, `${c.nid} father's name (absent when unknown)`);
      t.equal(text(doc, `${s}/rc:adresa/rc:nrPallati`), c.adresa.nrPallati, `${c.nid} building (optional)`);
    } finally {
      doc.dispose();
    }
    t.ok(payloadIsValid(res.text), `${c.nid} response payload satisfies the schema`);
  }
  const woman = CITIZENS.find((c) => c.nid === 'K16102045M');
  t.match(woman, { gjinia: 'F', datelindja: '2001-11-02', adresa: { bashkia: 'Durrës', kodiPostar: '2001' } });
  const baby = CITIZENS.find((c) => c.nid === 'M40101001J');
  t.match(baby, { gjinia: 'M', datelindja: '2024-01-01', adresa: { bashkia: 'Shkodër', kodiPostar: '4001' } });
});

t.test('request headers are echoed in order with the same values', async (t) => {
  // A different order than usual, an optional header and one foreign header:
  // the provider must give back whatever came, as it came.
  const sent = [
    '<xrd:protocolVersion>4.0</xrd:protocolVersion>',
    '<xrd:id>0b9e4c1a-77aa-4f0e-a2b3-5c6d7e8f9012</xrd:id>',
    SERVICE_HEADER,
    CLIENT_HEADER,
    '<xrd:userId>AL-K16102045M</xrd:userId>',
    '<xrd:issue>Kërkesa nr. 42/2025 – leje ndërtimi</xrd:issue>',
    '<ext:gjurma xmlns:ext="urn:example:gjurma" ext:niveli="2">  hapësira   ruhet  </ext:gjurma>',
  ];
  const reqXml = envelope('K16102045M', sent);
  const res = await post(registry.url, reqXml);
  t.equal(res.status, 200);

  const reqDoc = XmlDocument.fromString(reqXml);
  const resDoc = XmlDocument.fromString(res.text);
  t.teardown(() => {
    reqDoc.dispose();
    resDoc.dispose();
  });
  const reqHeaders = headerElements(reqDoc);
  const resHeaders = headerElements(resDoc);
  t.equal(reqHeaders.length, 7);
  t.same(
    resHeaders.map((h) => `{${h.namespaceUri}}${h.name}`),
    reqHeaders.map((h) => `{${h.namespaceUri}}${h.name}`),
    'same elements, same namespaces, same order',
  );
  t.same(resHeaders.map(canonical), reqHeaders.map(canonical), 'canonical forms are identical');

  // Spot checks on the identifiers and the namespaced attribute.
  const hdr = '/soapenv:Envelope/soapenv:Header';
  t.equal(text(resDoc, `${hdr}/xrd:client/@id:objectType`), 'SUBSYSTEM');
  t.equal(text(resDoc, `${hdr}/xrd:service/@id:objectType`), 'SERVICE');
  t.equal(text(resDoc, `${hdr}/xrd:client/id:memberCode`), 'K11503002N');
  t.equal(text(resDoc, `${hdr}/xrd:service/id:serviceCode`), 'kerkoShtetas');
  t.equal(text(resDoc, `${hdr}/xrd:service/id:serviceVersion`), 'v1');
  t.equal(text(resDoc, `${hdr}/xrd:id`), '0b9e4c1a-77aa-4f0e-a2b3-5c6d7e8f9012');
  t.equal(text(resDoc, `${hdr}/xrd:userId`), 'AL-K16102045M');
  t.equal(text(resDoc, `${hdr}/xrd:issue`), 'Kërkesa nr. 42/2025 – leje ndërtimi');
  t.equal(text(resDoc, `${hdr}/xrd:protocolVersion`), '4.0');
});

t.test('unknown NID is a business answer, not a fault', async (t) => {
  const res = await post(registry.url, envelope('A00101001A'));
  t.equal(res.status, 200);
  const doc = XmlDocument.fromString(res.text);
  t.teardown(() => doc.dispose());
  const s = '/soapenv:Envelope/soapenv:Body/rc:kerkoShtetasResponse';
  t.equal(text(doc, `${s}/rc:gjetur`), 'false');
  t.equal(doc.get(`${s}/rc:shtetas`, NS), null, 'no shtetas element');
  t.equal(doc.get('//soapenv:Fault', NS), null, 'no fault');
  t.equal(headerElements(doc).length, DEFAULT_HEADERS.length, 'headers still echoed');
  t.ok(payloadIsValid(res.text), 'response payload satisfies the schema');
});

t.test('the fault NID yields a SOAP 1.1 Fault', async (t) => {
  const res = await post(registry.url, envelope(FAULT_NID));
  t.equal(res.status, 500);
  const doc = XmlDocument.fromString(res.text);
  t.teardown(() => doc.dispose());
  const fault = doc.get('/soapenv:Envelope/soapenv:Body/soapenv:Fault', NS);
  t.ok(fault instanceof XmlElement, 'Body holds a soap Fault');
  const code = text(doc, '//soapenv:Fault/faultcode') ?? '';
  t.match(code, /^([A-Za-z_][\w.-]*:)?Server$/, 'faultcode is Server');
  const prefix = code.includes(':') ? code.slice(0, code.indexOf(':')) : '';
  if (prefix !== '' && fault instanceof XmlElement) {
    t.equal(fault.namespaceForPrefix(prefix), SOAP_NS, 'faultcode prefix is bound to the envelope namespace');
  }
  t.equal(text(doc, '//soapenv:Fault/faultstring'), FAULT_STRING);
  t.equal(FAULT_STRING, 'Regjistri nuk është i disponueshëm');
});

t.test('the invalid-response NID breaks the schema', async (t) => {
  const res = await post(registry.url, envelope(INVALID_RESPONSE_NID));
  t.equal(res.status, 200);
  const doc = XmlDocument.fromString(res.text);
  t.teardown(() => doc.dispose());
  t.equal(text(doc, '//rc:shtetas/rc:gjinia'), 'X');
  t.notOk(payloadIsValid(res.text), 'response payload is rejected by the schema');
});

t.test('a declared length over the cap gets 413 before anything is read', async (t) => {
  const before = registry.stats.lookups;
  // Only the head is sent: an answer proves the server did not wait for a body.
  const raw = await rawExchange(
    registry.url,
    `POST /regjistri-civil HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n` +
      `Content-Length: ${1024 * 1024 + 1}\r\n\r\n`,
  );
  t.equal(statusOf(raw), 413);
  t.match(raw, /\r\nconnection: close\r\n/i);
  t.equal(registry.stats.lookups, before, 'operation did not run');
});

t.test('a real body over a small cap gets 413 and the handler never runs', async (t) => {
  const small = await startCivilRegistry({ port: 0, maxBodyBytes: 512 });
  t.teardown(() => small.close());
  const body = envelope('I50314123V');
  t.ok(Buffer.byteLength(body) > 512);
  const res = await post(small.url, body);
  t.equal(res.status, 413);
  t.equal(small.stats.lookups, 0);

  // At or under the cap works.
  const fits = await startCivilRegistry({ port: 0, maxBodyBytes: Buffer.byteLength(body) });
  t.teardown(() => fits.close());
  const ok = await post(fits.url, body);
  t.equal(ok.status, 200);
  t.equal(fits.stats.lookups, 1);
});

t.test('a body without Content-Length gets 411', async (t) => {
  const before = registry.stats.lookups;
  const body = envelope('I50314123V');
  const size = Buffer.byteLength(body).toString(16);
  const raw = await rawExchange(
    registry.url,
    `POST /regjistri-civil HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n` +
      `Transfer-Encoding: chunked\r\n\r\n${size}\r\n${body}\r\n0\r\n\r\n`,
  );
  t.equal(statusOf(raw), 411);
  t.equal(registry.stats.lookups, before, 'operation did not run');
});

t.test('the WSDL is served at ?wsdl and its schema next to it', async (t) => {
  const res = await request(`${registry.url}?wsdl`);
  t.equal(res.statusCode, 200);
  const wsdl = await res.body.text();
  t.equal(wsdl, await readFile(WSDL_FILE, 'utf8'));
  t.match(wsdl, /<wsdl:operation name="kerkoShtetas">/);
  t.match(wsdl, /<xrd:version>v1<\/xrd:version>/);
  t.match(wsdl, /<soap:address location="http:\/\/127\.0\.0\.1:4402\/regjistri-civil"\/>/);

  // The WSDL imports the schema by relative location; it resolves beside it.
  const xsdUrl = new URL('regjistri-civil.xsd', `${registry.url}?wsdl`).toString();
  const xsd = await request(xsdUrl);
  t.equal(xsd.statusCode, 200);
  t.equal(await xsd.body.text(), xsdText);

  const other = await request(new URL('/tjeter', registry.url).toString());
  t.equal(other.statusCode, 404);
  await other.body.dump();
});

t.test('the schema accepts good requests and rejects bad ones', async (t) => {
  t.ok(payloadIsValid(envelope('I50314123V')), 'plain request');
  t.ok(payloadIsValid(envelope('K16102045M', DEFAULT_HEADERS, 'Kontroll për gjendjen civile')), 'with purpose');
  t.notOk(payloadIsValid(envelope('I5031412V')), 'too short');
  t.notOk(payloadIsValid(envelope('I51314123V')), 'month 13');
  t.notOk(payloadIsValid(envelope('I50332123V')), 'day 32');
  t.notOk(payloadIsValid(envelope('U50314123V')), 'first letter out of range');
  t.notOk(payloadIsValid(envelope('I50314123Z')), 'check letter out of range');
  t.notOk(payloadIsValid(envelope('i50314123v')), 'lower case');
  t.notOk(payloadIsValid(envelope('I50314123V', DEFAULT_HEADERS, 'a'.repeat(201))), 'purpose too long');
  t.ok(payloadIsValid(envelope('I50314123V', DEFAULT_HEADERS, 'ë'.repeat(200))), 'purpose at the limit');

  const noNid = envelope('I50314123V').replace('<rc:nid>I50314123V</rc:nid>', '');
  t.notOk(payloadIsValid(noNid), 'nid is required');
});
