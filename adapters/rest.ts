/** `rest`: forwards to a REST provider under a base URL, path and query appended unchanged. */
import { HttpPool } from './http-pool.ts'
import type { AdapterFactory } from './types.ts'

export const createRestAdapter: AdapterFactory = (config, context) => {
  const http = new HttpPool(config.url, config.connections ?? 32, context.responseBytes)
  return {
    kind: 'rest',
    send: req => http.send(req),
    close: () => http.close(),
    destroy: () => http.destroy(),
  }
}
