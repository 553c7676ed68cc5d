/** Gateway-made SOAP errors: SOAP 1.1 Faults with the X-Road code and the event id in faultDetail. */
import type { XRoadError } from '../errors.ts'
import { xmlEscape } from './xml.ts'

export function faultEnvelope (err: XRoadError, detail: string): string {
  const message = err.violations === undefined ? err.message : `${err.message.split(':')[0]}: ${err.violations.join('; ')}`
  return '<?xml version="1.0" encoding="UTF-8"?>' +
    '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><SOAP-ENV:Fault>' +
    `<faultcode>${xmlEscape(err.code)}</faultcode><faultstring>${xmlEscape(message)}</faultstring><faultactor/>` +
    `<detail><faultDetail>${xmlEscape(detail)}</faultDetail></detail>` +
    '</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>'
}
