/**
 * `ura` as a user runs it, in a process of its own (bin/ura.js), and a node configuration for it in a
 * scratch directory: the demo configuration with its data directory there.
 */
import { execFile } from 'node:child_process'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { DEMO_CONFIG_DIR } from '../../config/defaults.ts'

const URA = resolve(import.meta.dirname, '../../bin/ura.js')

/** Runs `ura <args>`; resolves with its exit code and output. */
export function uraProcess (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(done => {
    execFile(process.execPath, [URA, ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
    })
  })
}

/** The demo configuration copied to `<scratch>/config`, its data directory `<scratch>/data`: returns the configuration directory. */
export function scratchConfig (scratch: string): string {
  const config = join(scratch, 'config')
  cpSync(DEMO_CONFIG_DIR, config, { recursive: true })
  writeFileSync(join(config, 'node.yaml'), readFileSync(join(config, 'node.yaml'), 'utf8').replace(/dataDir: .*/, `dataDir: ${join(scratch, 'data')}`))
  return config
}
