/** `ura init`: the development PKI a node needs before `ura start`, so a fresh checkout runs without an operator's CA. */
import { relative } from 'node:path'
import { initPki } from '../certs/dev-pki.ts'
import { Keystore, PASSPHRASE_ENV } from '../certs/keystore.ts'
import type { KeyType } from '../certs/pki.ts'
import { loadConfig } from '../config/load.ts'
import { resolveDataDir, type PkiOptions } from './pki-args.ts'
import { DEMO_CONFIG_DIR } from '../config/defaults.ts'

/** The development PKI in the data directory (idempotent). */
export async function init (values: PkiOptions & { memberKey: KeyType }): Promise<number> {
  const resolved = await resolveDataDir(values)
  const config = resolved.config ?? await loadConfig(DEMO_CONFIG_DIR)
  const keystore = new Keystore(resolved.dataDir)
  const report = initPki({ keystore, config, memberKeyType: values.memberKey })
  const show = (p: string): string => relative(process.cwd(), p) || p
  for (const p of report.created) console.log(`created ${show(p)}`)
  console.log(`${report.created.length} created, ${report.kept.length} already present in ${show(keystore.paths.root)}`)
  if (process.env[PASSPHRASE_ENV] === undefined || process.env[PASSPHRASE_ENV] === '') console.log(`keys are encrypted with the development passphrase (set ${PASSPHRASE_ENV} on a real node)`)
  return 0
}
