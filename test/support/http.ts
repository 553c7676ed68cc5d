/** Small HTTP helpers for gateway tests: one request, everything read, time measured. */
import { readFileSync } from 'node:fs'
import { request, type Dispatcher } from 'undici'

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  ms: number
  /** X-Road-Error (REST) or faultcode (SOAP), whichever the answer carries. */
  code: string | undefined
}

export async function call (url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; dispatcher?: Dispatcher } = {}): Promise<Answer> {
  const started = performance.now()
  const res = await request(url, { method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.body, ...(init.dispatcher === undefined ? {} : { dispatcher: init.dispatcher }) })
  const text = await res.body.text()
  const header = res.headers['x-road-error']
  const fault = /<faultcode>([^<]*)<\/faultcode>/.exec(text)?.[1]
  return { status: res.statusCode, headers: res.headers, text, ms: performance.now() - started, code: typeof header === 'string' ? header : fault }
}

export const DEMO_ENVELOPE = readFileSync(new URL('../../demo/kerkoShtetas.xml', import.meta.url), 'utf8')

/** The demo kerkoShtetas envelope for another service version and message id. */
export function soapEnvelope (opts: { version?: string; id?: string } = {}): string {
  return DEMO_ENVELOPE
    .replace('<id:serviceVersion>v1</id:serviceVersion>', `<id:serviceVersion>${opts.version ?? 'v1'}</id:serviceVersion>`)
    .replace('7d1e5c2a-0b3f-4e8a-a6d4-91c2f0e8b357', opts.id ?? crypto.randomUUID())
}

export function soapCall (base: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return call(`${base}/`, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', ...headers }, body })
}
