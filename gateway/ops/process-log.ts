/**
 * Where the node's JSON log lines go. One line per exchange is the largest steady cost of logging,
 * so lines are collected and written in batches (one write(2) per 64 KB, or every 100 ms on a quiet
 * node) instead of one write per line. Lines are kept as an array and joined once per batch:
 * appending to one growing string and measuring its byte length on every line (what a general
 * purpose buffered stream does) costs more than formatting the line itself.
 *
 * A consumer that stops reading (a stuck pipe) cannot make the node run out of memory: past 8 MB
 * of unwritten lines new lines are dropped and counted, and a line saying how many is written once
 * the destination drains. Whatever is still buffered is written synchronously when the process
 * exits, so only a crash can lose the last lines (the message log, not this log, is the record
 * of exchanges).
 */
import { closeSync, openSync, write, writeSync } from 'node:fs'

export const BATCH_CHARS = 64 * 1024
const FLUSH_MS = 100
const BACKLOG_CHARS = 8 * 1024 * 1024

export class LogDestination {
  private readonly fd: number
  private readonly ownsFd: boolean
  private pending: string[] = []
  private pendingChars = 0
  private writing = false
  private dropped = 0
  private timer: NodeJS.Timeout | undefined
  private closed = false
  private waiters: Array<(err?: Error) => void> = []
  private readonly onExit = (): void => { this.flushSync() }

  constructor (dest: number | string = 1) {
    this.ownsFd = typeof dest === 'string'
    this.fd = typeof dest === 'string' ? openSync(dest, 'a') : dest
    process.on('exit', this.onExit)
  }

  write (line: string): void {
    if (this.closed) return
    if (this.pendingChars > BACKLOG_CHARS) {
      this.dropped++
      return
    }
    this.pending.push(line)
    this.pendingChars += line.length
    if (this.writing) return
    if (this.pendingChars >= BATCH_CHARS) this.flush()
    else this.timer ??= setTimeout(() => { this.timer = undefined; this.flush() }, FLUSH_MS).unref()
  }

  /** Starts writing what is buffered (one write at a time keeps the lines in order); `done` runs once it is written. */
  flush (done?: (err?: Error) => void): void {
    if (done !== undefined) this.waiters.push(done)
    if (this.writing) return
    if (this.pending.length === 0) return this.settle()
    this.writing = true
    this.writeAll(Buffer.from(this.take(), 'utf8'))
  }

  /** Writes everything still buffered before returning (exit, or a caller that needs the lines now). */
  flushSync (): void {
    if (this.pending.length === 0) return
    const bytes = Buffer.from(this.take(), 'utf8')
    for (let at = 0; at < bytes.length;) {
      try {
        at += writeSync(this.fd, bytes, at)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue
        return // nowhere left to report a failing log destination
      }
    }
  }

  end (): void {
    if (this.closed) return
    this.flushSync()
    this.closed = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    process.off('exit', this.onExit)
    if (this.ownsFd && !this.writing) closeSync(this.fd)
  }

  private take (): string {
    if (this.dropped > 0) {
      this.pending.push(JSON.stringify({ level: 40, time: Date.now(), msg: `${this.dropped} log lines dropped: the log destination did not keep up` }) + '\n')
      this.dropped = 0
    }
    const text = this.pending.join('')
    this.pending = []
    this.pendingChars = 0
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    return text
  }

  private writeAll (bytes: Buffer): void {
    write(this.fd, bytes, 0, bytes.length, null, (err, written) => {
      if (err !== null && err.code !== 'EAGAIN') {
        // The destination is gone (closed pipe, full disk): stop buffering for it.
        this.writing = false
        this.closed = true
        this.pending = []
        this.settle()
        return
      }
      const rest = err === null ? bytes.subarray(written) : bytes
      if (rest.length > 0) {
        // A pipe took part of the batch (or none, EAGAIN): the remainder goes first, shortly.
        if (err === null) this.writeAll(rest)
        else setTimeout(() => this.writeAll(rest), 10).unref()
        return
      }
      this.writing = false
      if (this.closed && this.ownsFd) closeSync(this.fd)
      else if (this.pendingChars >= BATCH_CHARS || (this.waiters.length > 0 && this.pending.length > 0)) this.flush()
      else if (this.pending.length > 0) this.timer ??= setTimeout(() => { this.timer = undefined; this.flush() }, FLUSH_MS).unref()
      else this.settle()
    })
  }

  private settle (): void {
    const waiters = this.waiters
    this.waiters = []
    for (const done of waiters) done()
  }
}

export function logDestination (dest: number | string = 1): LogDestination {
  return new LogDestination(dest)
}
