/**
 * `soap`: forwards the SOAP envelope, byte for byte, to the provider endpoint. Only `Content-Type`
 * and `SOAPAction` travel with it (X-Road SOAP rule); the pipeline has already checked the envelope
 * against the service's WSDL types.
 */
import { HttpPool } from './http-pool.ts'
import type { AdapterFactory } from './types.ts'

export const createSoapAdapter: AdapterFactory = (config, context) => {
  const http = new HttpPool(config.url, config.connections ?? 32, context.responseBytes)
  return {
    kind: 'soap',
    send: req => http.send({ ...req, method: 'POST', path: '' }),
    close: () => http.close(),
    destroy: () => http.destroy(),
  }
}
