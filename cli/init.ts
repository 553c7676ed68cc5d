import { relative } from 'node:path'
import { parseArgs } from 'node:util'
import { initPki } from '../certs/dev-pki.ts'
import { Keystore, PASSPHRASE_ENV } from '../certs/keystore.ts'
import { KEY_TYPES, type KeyType } from '../certs/pki.ts'
import { loadConfig } from '../config/load.ts'
import { PKI_OPTIONS, resolveDataDir } from './pki-args.ts'
import { DEMO_CONFIG } from './start.ts'

/** `ura init`: the development PKI in the data directory (idempotent). */
export async function init (args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...PKI_OPTIONS, 'member-key': { type: 'string', default: 'ec-p256' } } })
  const memberKey = values['member-key']
  if (!(KEY_TYPES as readonly string[]).includes(memberKey)) {
    console.error(`--member-key must be one of ${KEY_TYPES.join(', ')}`)
    return 2
  }
  const resolved = await resolveDataDir(values)
  const config = resolved.config ?? await loadConfig(DEMO_CONFIG)
  const keystore = new Keystore(resolved.dataDir)
  const report = initPki({ keystore, config, memberKeyType: memberKey as KeyType })
  const show = (p: string): string => relative(process.cwd(), p) || p
  for (const p of report.created) console.log(`created ${show(p)}`)
  console.log(`${report.created.length} created, ${report.kept.length} already present in ${show(keystore.paths.root)}`)
  if (process.env[PASSPHRASE_ENV] === undefined || process.env[PASSPHRASE_ENV] === '') console.log(`keys are encrypted with the development passphrase (set ${PASSPHRASE_ENV} on a real node)`)
  return 0
}
