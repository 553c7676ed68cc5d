/** Test rig: real demo providers and a real gateway on loopback ports, configured from YAML. */
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Writable } from 'node:stream'
import { loadConfig } from '../../config/load.ts'
import type { UraConfig } from '../../config/types.ts'
import { startCivilRegistry } from '../../demo/civil-registry.ts'
import { startTaxOffice } from '../../demo/tax-office.ts'
import type { ExchangeRecorder } from '../../gateway/exchange.ts'
import { buildGateway, type Gateway } from '../../gateway/server.ts'
import type { MessageLog } from '../../gateway/log/message-log.ts'

export const DEMO_DIR = resolve(import.meta.dirname, '../../config/demo')

export const E_ALBANIA = 'AL-DEV/GOV/K11503002N/e-albania'
export const TIRANA_CIVIL = 'AL-DEV/NJQV/L21603004L/gjendja-civile'
export const DURRES_SOCIAL = 'AL-DEV/NJQV/M51305009K/ndihma-sociale'
export const TAX_SERVICE = 'AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet'
export const CIVIL_SERVICE = 'AL-DEV/GOV/L01417001D/regjistri-civil/kerkoShtetas'

/** Copies the demo configuration into a temp dir, lets the test edit the YAML text, loads it. */
export async function demoConfig (edit: Record<string, (text: string) => string> = {}, extra: Record<string, string> = {}): Promise<UraConfig> {
  const dir = await mkdtemp(join(tmpdir(), 'ura-config-'))
  for (const name of await readdir(DEMO_DIR)) {
    let text = await readFile(join(DEMO_DIR, name), 'utf8')
    text = text.replaceAll('../../schemas/', resolve(DEMO_DIR, '../../schemas') + '/')
    await writeFile(join(dir, name), edit[name]?.(text) ?? text)
  }
  for (const [name, text] of Object.entries(extra)) await writeFile(join(dir, name), text)
  return loadConfig(dir)
}

export interface Rig {
  url: string
  gateway: Gateway
  logs: string[]
  close (): Promise<void>
}

/** Starts the demo providers on free ports, points the config at them, starts the gateway. */
export async function startRig (opts: { config?: UraConfig; recorder?: ExchangeRecorder; messageLog?: MessageLog } = {}): Promise<Rig> {
  const tax = await startTaxOffice({ port: 0 })
  const civil = await startCivilRegistry({ port: 0 })
  const config = opts.config ?? await demoConfig()
  for (const s of config.services) {
    if (s.adapter.url === 'http://127.0.0.1:4401/api/v1') s.adapter.url = tax.url
    if (s.adapter.url === 'http://127.0.0.1:4402/regjistri-civil') s.adapter.url = civil.url
  }
  const logs: string[] = []
  const stream = new Writable({ write (chunk, _enc, cb) { logs.push(chunk.toString()); cb() } })
  const gateway = await buildGateway({ config, logger: { level: 'info', stream }, ...(opts.recorder === undefined ? {} : { recorder: opts.recorder }), ...(opts.messageLog === undefined ? {} : { messageLog: opts.messageLog }) })
  const url = await gateway.app.listen({ host: '127.0.0.1', port: 0 })
  return {
    url,
    gateway,
    logs,
    close: async () => { await gateway.close(); await tax.close(); await civil.close() },
  }
}
