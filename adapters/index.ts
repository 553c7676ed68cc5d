/** The adapter kinds this node knows. Adding a kind = one module + one line here. */
import { createBridgeAdapter } from './bridge.ts'
import { createRestAdapter } from './rest.ts'
import { createSoapAdapter } from './soap.ts'
import type { AdapterFactory } from './types.ts'

export const adapterKinds: Record<string, AdapterFactory> = {
  rest: createRestAdapter,
  soap: createSoapAdapter,
  bridge: createBridgeAdapter,
}
