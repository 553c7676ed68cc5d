/**
 * Where the node's JSON log lines go. One line per exchange is the largest steady cost of logging,
 * so lines are buffered (up to 4 KB) and written asynchronously instead of one write(2) per line.
 * A quiet node still shows its lines within half a second (periodic flush), and pino flushes the
 * buffer when the process exits, so only a crash can lose the last lines (the message log, not
 * this log, is the record of exchanges).
 */
import pino from 'pino'

export function logDestination (dest: number | string = 1): pino.DestinationStream {
  const stream = pino.destination({ dest, sync: false, minLength: 4096 })
  const timer = setInterval(() => {
    try { stream.flush() } catch { /* not ready yet or already closed: the next tick or exit flushes */ }
  }, 500)
  timer.unref()
  stream.on('close', () => clearInterval(timer))
  return stream
}
