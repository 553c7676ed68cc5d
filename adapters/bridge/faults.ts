/**
 * Errors across the protocol line. A SOAP Fault from a provider becomes the REST error shape
 * `{type, message, detail}` (faultcode, faultstring, detail/faultDetail); a REST provider's error
 * becomes a SOAP 1.1 Fault the same way back. These are provider errors: they carry no
 * `X-Road-Error`, and the fault code is the provider's, not one of the node's.
 */
import { XmlElement } from 'libxml2-wasm'
import { normaliseFaultCode } from '../../protocol/errors.ts'
import { childElements, xmlEscape } from '../../protocol/soap/xml.ts'
import { SOAP_ENV } from '../../protocol/soap/namespaces.ts'

export interface RestError {
  status: number
  body: { type: string; message: string; detail: string }
}

/** `SOAP-ENV:Client.Foo` → `Client.Foo`; Client faults are the caller's fault (400), the rest 500. */
export function faultToRestError (fault: XmlElement, requestId: string): RestError {
  const parts = new Map(childElements(fault).map(e => [e.name, e]))
  const code = normaliseFaultCode((parts.get('faultcode')?.content ?? 'Server').trim().replace(/^[^:]*:/, ''))
  const message = parts.get('faultstring')?.content ?? ''
  const detailEl = parts.get('detail')
  const faultDetail = detailEl === undefined ? undefined : childElements(detailEl).find(e => e.name === 'faultDetail')
  const detail = (faultDetail?.content ?? detailEl?.content ?? '').trim()
  return {
    status: code === 'Client' || code.startsWith('Client.') ? 400 : 500,
    body: { type: code, message, detail: detail === '' ? requestId : detail },
  }
}

/**
 * A REST provider's error response as a SOAP Fault. An X-Road-shaped JSON error keeps its type,
 * message and detail; other JSON errors lend their `message` (or `error`, `title`, `gabim`);
 * otherwise the HTTP status says what happened.
 */
export function restErrorToFault (status: number, contentType: string | undefined, body: Buffer, requestId: string): string {
  let json: Record<string, unknown> = {}
  if (contentType !== undefined && /json/i.test(contentType)) {
    try {
      const parsed = JSON.parse(body.toString('utf8'))
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) json = parsed
    } catch {}
  }
  const str = (v: unknown): string | undefined => typeof v === 'string' && v !== '' ? v : undefined
  const code = str(json.type) ?? (status >= 400 && status < 500 ? 'Client' : 'Server')
  const message = str(json.message) ?? str(json.error) ?? str(json.title) ?? str(json.gabim) ?? `Provider answered HTTP ${status}`
  const detail = str(json.detail) ?? requestId
  const faultcode = code === 'Client' || code === 'Server' ? `SOAP-ENV:${code}` : code
  return '<?xml version="1.0" encoding="UTF-8"?>' +
    `<SOAP-ENV:Envelope xmlns:SOAP-ENV="${SOAP_ENV}"><SOAP-ENV:Body><SOAP-ENV:Fault>` +
    `<faultcode>${xmlEscape(faultcode)}</faultcode><faultstring>${xmlEscape(message)}</faultstring>` +
    `<detail><faultDetail>${xmlEscape(detail)}</faultDetail><httpStatus>${status}</httpStatus></detail>` +
    '</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>'
}
