/**
 * Progress of a long command (`ura log verify`) on stderr, so stdout keeps only the verdict: on a
 * terminal one line rewritten in place (`records N / total · R rec/s · ETA …`), otherwise (a log
 * file, a pipe, CI) a plain line every few seconds; a closing line with the time taken and the rate.
 */
export interface ProgressOptions {
  total: number
  /** Where lines go (default process.stderr); a TTY gets the updating line. */
  out?: { write (text: string): unknown; isTTY?: boolean }
  /** Plain lines at most this often (default 5 s); the terminal line is redrawn at most every 100 ms. */
  everyMs?: number
  now?: () => number
}

export interface Progress {
  add (records: number): void
  /** Ends the progress: clears the terminal line and prints the time taken. */
  done (): void
}

function duration (s: number): string {
  if (!Number.isFinite(s)) return '?'
  if (s < 60) return `${Math.ceil(s)} s`
  const m = Math.floor(s / 60)
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`
}

export function progressReporter (opts: ProgressOptions): Progress {
  const out = opts.out ?? process.stderr
  const now = opts.now ?? (() => performance.now())
  const tty = out.isTTY === true
  const every = tty ? 100 : (opts.everyMs ?? 5000)
  const started = now()
  let done = 0
  let shown = started
  const line = (): string => {
    const s = (now() - started) / 1000
    const rate = s > 0 ? done / s : 0
    const eta = rate > 0 ? duration((opts.total - done) / rate) : '?'
    return `records ${done.toLocaleString('en')} / ${opts.total.toLocaleString('en')} · ${Math.round(rate).toLocaleString('en')} rec/s · ETA ${eta}`
  }
  return {
    add (records) {
      done += records
      const t = now()
      if (t - shown < every) return
      shown = t
      out.write(tty ? `\r\x1b[K${line()}` : `${line()}\n`)
    },
    done () {
      const s = (now() - started) / 1000
      if (tty) out.write('\r\x1b[K')
      out.write(`checked ${done.toLocaleString('en')} records in ${s.toFixed(2)} s (${Math.round(s > 0 ? done / s : 0).toLocaleString('en')} records/s)\n`)
    },
  }
}
