/**
 * `ura log verify` run as a user runs it (the `ura` command in its own process, under
 * /usr/bin/time for its CPU), for the benchmarks that check a node's message log afterwards
 * (bench/log-verify-rate.ts, bench/soak-signed.ts).
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { LAUNCHER_NODE_OPTIONS } from './procs.ts'

const URA = resolve(import.meta.dirname, '../bin/ura.js')
const TIME = '/usr/bin/time'

export interface LogVerifyRun {
  /** Exit code 0: the whole log is sound. */
  ok: boolean
  exitCode: number
  /** The verdict (stdout), or what it says is wrong (stderr). */
  verdict: string
  /** Records the verdict counts (NaN when it names none). */
  records: number
  /** The closing progress line: `checked N records in S s (R records/s)`. */
  checked: string
  /** Records/s of the verification itself, from that line (NaN without it). */
  checkedRate: number
  /** Seconds of the whole command, process start included. */
  wall: number
  /** CPU seconds (user + system, all threads); NaN without /usr/bin/time. */
  cpu: number
}

/** Runs `ura log verify --config <configDir>` with the launcher's Node options, as `npx ura` does; never rejects for a failed verification (see `ok`). */
export function runLogVerify (configDir: string): Promise<LogVerifyRun> {
  const timed = existsSync(TIME)
  const [cmd, args] = timed
    ? [TIME, ['-f', 'cpu %U %S', process.execPath, ...LAUNCHER_NODE_OPTIONS, URA, 'log', 'verify', '--config', configDir]]
    : [process.execPath, [...LAUNCHER_NODE_OPTIONS, URA, 'log', 'verify', '--config', configDir]]
  return new Promise((ok, fail) => {
    const started = process.hrtime.bigint()
    execFile(cmd, args, { maxBuffer: 1 << 22 }, (err, stdout, stderr) => {
      const wall = Number(process.hrtime.bigint() - started) / 1e9
      if (err !== null && typeof err.code !== 'number') { fail(err); return }
      const exitCode = err === null ? 0 : err.code as number
      const cpu = /cpu ([\d.]+) ([\d.]+)/.exec(stderr)
      const checked = /^checked .*$/m.exec(stderr)?.[0] ?? ''
      const verdict = exitCode === 0 ? stdout.trim() : `${stdout}${stderr.replace(/^(records |checked |cpu ).*\n?/gm, '')}`.trim()
      ok({
        ok: exitCode === 0,
        exitCode,
        verdict,
        records: Number(/verified: (\d+) records/.exec(stdout)?.[1] ?? NaN),
        checked,
        checkedRate: Number(/\(([\d,]+) records\/s\)/.exec(checked)?.[1].replace(/,/g, '') ?? NaN),
        wall,
        cpu: cpu === null ? NaN : Number(cpu[1]) + Number(cpu[2]),
      })
    })
  })
}
