/** The demo provider systems that `npm start` runs beside the gateway, on the ports the demo config names. */
import { startCivilRegistry } from './civil-registry.ts'
import { startDemoSubscriber } from './subscriber.ts'
import { startTaxOffice } from './tax-office.ts'

export const DEMO_PORTS = { taxOffice: 4401, civilRegistry: 4402, subscriber: 4403 }

export async function startDemoProviders (host = '127.0.0.1'): Promise<{ urls: Record<string, string>; close (): Promise<void> }> {
  const tax = await startTaxOffice({ host, port: DEMO_PORTS.taxOffice })
  const civil = await startCivilRegistry({ host, port: DEMO_PORTS.civilRegistry })
  const subscriber = await startDemoSubscriber({ host, port: DEMO_PORTS.subscriber })
  return {
    urls: { taxOffice: tax.url, civilRegistry: civil.url, subscriber: subscriber.url },
    close: async () => { await Promise.all([tax.close(), civil.close(), subscriber.close()]) },
  }
}
