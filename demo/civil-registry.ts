/**
 * Demo SOAP provider: the civil registry (Drejtoria e Përgjithshme e Gjendjes
 * Civile) answering `kerkoShtetas` over the X-Road message protocol for SOAP.
 *
 * The SOAP machinery comes from the `soap` package; this module adds what that
 * package does not do on its own:
 *
 *  - a byte cap in front of it. Every POST must declare a Content-Length no
 *    larger than `maxBodyBytes`; otherwise the request is answered with 411 or
 *    413 before a single body byte is read. The body is then read here (the
 *    HTTP parser never delivers more than the declared length) and handed to
 *    the SOAP server already buffered.
 *  - the X-Road rule that a provider echoes every SOAP header element of the
 *    request, in the same order and with the same content, in the response.
 *
 * Lookups of two reserved personal numbers produce a SOAP Fault and a response
 * that breaks the schema, so that gateway tests can exercise those paths.
 */

import { createServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { listen } from 'soap';
import type { IServices, Server as SoapServer } from 'soap';
import { XmlC14NMode, XmlDocument, XmlElement } from 'libxml2-wasm';
import {
  FAULT_NID,
  FAULT_STRING,
  INVALID_CITIZEN,
  INVALID_RESPONSE_NID,
  findCitizen,
} from './civil-registry-data.ts';
import type { Shtetas } from './civil-registry-data.ts';

export const SERVICE_PATH = '/regjistri-civil';
export const SCHEMA_PATH = '/regjistri-civil.xsd';
export const WSDL_FILE = fileURLToPath(new URL('../schemas/demo/regjistri-civil.wsdl', import.meta.url));
export const XSD_FILE = fileURLToPath(new URL('../schemas/demo/regjistri-civil.xsd', import.meta.url));

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const SOAP11_ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';

export interface CivilRegistryOptions {
  /** Interface to bind; defaults to 127.0.0.1. */
  host?: string;
  /** TCP port; 0 picks a free one (the returned url carries the real port). */
  port?: number;
  /** Largest accepted request body in bytes; defaults to 1 MiB. */
  maxBodyBytes?: number;
}

export interface CivilRegistry {
  /** Endpoint of the service, e.g. `http://127.0.0.1:4402/regjistri-civil`. */
  url: string;
  /** Number of times the `kerkoShtetas` operation has run. */
  readonly stats: { readonly lookups: number };
  close(): Promise<void>;
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** The `soap` server passes an already buffered body on to its parser. */
interface BufferedRequest extends IncomingMessage {
  body?: Buffer;
}

export async function startCivilRegistry(opts: CivilRegistryOptions = {}): Promise<CivilRegistry> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 0;
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new RangeError(`maxBodyBytes must be a positive integer, got ${maxBodyBytes}`);
  }

  const [wsdlXml, xsdXml] = await Promise.all([readFile(WSDL_FILE, 'utf8'), readFile(XSD_FILE, 'utf8')]);

  const stats = { lookups: 0 };
  const services: IServices = {
    RegjistriCivilService: {
      RegjistriCivilPort: {
        kerkoShtetas: async (args: unknown) => {
          stats.lookups += 1;
          return lookUp(args);
        },
      },
    },
  };

  const server = createServer();
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  // Whatever is not the SOAP endpoint: the schema the WSDL refers to, else 404.
  // `soap.listen` keeps this listener and calls it for paths it does not own.
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === SCHEMA_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'application/xml; charset=utf-8' });
      res.end(req.method === 'GET' ? xsdXml : undefined);
      return;
    }
    refuse(res, 404, 'Not Found');
  });

  const soapServer = await new Promise<SoapServer>((resolve, reject) => {
    const created: SoapServer = listen(server, {
      path: SERVICE_PATH,
      services,
      xml: wsdlXml,
      // Lets the WSDL's schemaLocation resolve against the file on disk.
      uri: WSDL_FILE,
      suppressStack: true,
      // Answer with Content-Length rather than chunked encoding.
      enableChunkedEncoding: false,
      callback: (err: unknown) => (err ? reject(err) : resolve(created)),
    });
  });
  soapServer.addSoapHeader((_method: string, _args: unknown, _headers: unknown, req: BufferedRequest) =>
    echoHeaders(req.body),
  );

  // `soap.listen` replaced every 'request' listener with a single dispatcher of
  // its own (once the WSDL was ready). Put the byte cap in front of it.
  const dispatch = server.listeners('request') as RequestListener[];
  if (dispatch.length !== 1) {
    throw new Error(`expected the SOAP server to own exactly one request listener, found ${dispatch.length}`);
  }
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    gate(req, res, maxBodyBytes, () => {
      for (const listener of dispatch) listener.call(server, req, res);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}${SERVICE_PATH}`,
    stats,
    close: () => closeServer(server),
  };
}

/** Business logic of `kerkoShtetas`; throws a SOAP 1.1 fault for {@link FAULT_NID}. */
function lookUp(args: unknown): object {
  const nid = readNid(args);
  if (nid === FAULT_NID) {
    throw {
      Fault: {
        faultcode: 'soap:Server',
        faultstring: FAULT_STRING,
        statusCode: 500,
      },
    };
  }
  if (nid === INVALID_RESPONSE_NID) {
    return { gjetur: true, shtetas: toXmlObject(INVALID_CITIZEN) };
  }
  const citizen = nid === undefined ? undefined : findCitizen(nid);
  return citizen === undefined ? { gjetur: false } : { gjetur: true, shtetas: toXmlObject(citizen) };
}

function readNid(args: unknown): string | undefined {
  if (typeof args !== 'object' || args === null) return undefined;
  const nid: unknown = (args as { nid?: unknown }).nid;
  return typeof nid === 'string' ? nid.trim() : undefined;
}

/** Copies a record in schema order, leaving out absent optional fields. */
function toXmlObject(c: Readonly<Omit<Shtetas, 'gjinia'> & { gjinia: string }>): object {
  const adresa: Record<string, string> = { bashkia: c.adresa.bashkia, rruga: c.adresa.rruga };
  if (c.adresa.nrPallati !== undefined) adresa.nrPallati = c.adresa.nrPallati;
  adresa.kodiPostar = c.adresa.kodiPostar;

  const out: Record<string, unknown> = { nid: c.nid, emri: c.emri, mbiemri: c.mbiemri };
  if (c.atesia !== undefined) out.atesia = c.atesia;
  out.datelindja = c.datelindja;
  out.gjinia = c.gjinia;
  out.vendlindja = c.vendlindja;
  out.adresa = adresa;
  out.gjendjaCivile = c.gjendjaCivile;
  return out;
}

/**
 * Checks the declared body size, then reads the body and hands the request on.
 * Nothing downstream ever sees a request whose size was not declared up front.
 */
function gate(req: BufferedRequest, res: ServerResponse, maxBodyBytes: number, next: () => void): void {
  if (req.method !== 'POST') {
    next();
    return;
  }
  const declared = req.headers['content-length'];
  if (declared === undefined || req.headers['transfer-encoding'] !== undefined) {
    refuse(res, 411, 'Length Required');
    return;
  }
  const length = Number(declared);
  if (!/^[0-9]+$/.test(declared) || !Number.isSafeInteger(length)) {
    refuse(res, 400, 'Bad Content-Length');
    return;
  }
  if (length > maxBodyBytes) {
    refuse(res, 413, 'Content Too Large');
    return;
  }
  if (length === 0) {
    refuse(res, 400, 'Empty body');
    return;
  }
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    refuse(res, 415, 'Content-Encoding not supported');
    return;
  }

  const chunks: Buffer[] = [];
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > length) {
      // Cannot happen with a conforming parser; stay safe regardless.
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.once('end', () => {
    req.body = Buffer.concat(chunks, received);
    next();
  });
  req.once('error', () => {
    if (!res.headersSent) refuse(res, 400, 'Bad request body');
  });
}

function refuse(res: ServerResponse, status: number, message: string): void {
  const body = `${message}\n`;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    // The unread body must not be taken for the next request on this socket.
    connection: 'close',
  });
  res.end(body);
}

/**
 * Serialises every element child of the request's SOAP Header, in document
 * order, each carrying the namespace declarations it uses (exclusive
 * canonicalisation), so it can be spliced into the response Header verbatim.
 */
export function echoHeaders(body: Uint8Array | undefined): string {
  if (body === undefined || body.length === 0) return '';
  let doc: XmlDocument | undefined;
  try {
    doc = XmlDocument.fromBuffer(body);
    const envelope = doc.root;
    let header: XmlElement | undefined;
    for (let n = envelope.firstChild; n !== null; n = n.next) {
      if (n instanceof XmlElement && n.name === 'Header' && n.namespaceUri === SOAP11_ENVELOPE_NS) {
        header = n;
        break;
      }
    }
    if (header === undefined) return '';
    const parts: string[] = [];
    for (let n = header.firstChild; n !== null; n = n.next) {
      if (n instanceof XmlElement) {
        parts.push(n.canonicalizeToString({ mode: XmlC14NMode.XML_C14N_EXCLUSIVE_1_0 }));
      }
    }
    return parts.join('');
  } catch {
    // The SOAP layer has already parsed this body; anything odd here just
    // means there is nothing to echo.
    return '';
  } finally {
    doc?.dispose();
  }
}

function closeServer(server: HttpServer): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeIdleConnections();
  });
}
