/**
 * Console sessions, held by @fastify/session in this node's memory (a signed cookie carries only
 * the session id): they end after 30 minutes without a request or 8 hours after sign-in, whichever
 * comes first, and at sign-out. Several nodes behind one address need sticky sessions; a restart
 * signs everyone out. Also here: the resolver through which the admin API recognises the console
 * calling on a session's behalf (admin/auth.ts), the lockout after repeated failures, and the memory
 * of used TOTP steps (no code is accepted twice).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { SessionStore } from '@fastify/session'
import type { Session } from 'fastify'
import type { SessionIdentity, SessionResolver } from '../auth.ts'

export const IDLE_MS = 30 * 60_000
export const ABSOLUTE_MS = 8 * 3600_000
const MAX_SESSIONS = 10_000

declare module 'fastify' {
  interface Session {
    /** Set once both factors (or the certificate) are through. */
    operatorId?: string
    method?: 'password' | 'certificate'
    fingerprint?: string
    revocationKey?: string
    /** Password accepted, TOTP code awaited. */
    pendingOperatorId?: string
    pendingUsername?: string
    startedAt?: number
    lastSeen?: number
    flash?: { kind: 'ok' | 'bad' | 'info'; text: string }
  }
}

/** A session store in memory with the console's two lifetimes; expired sessions are dropped as they are met and every minute. */
export class ConsoleSessions implements SessionStore {
  private readonly sessions = new Map<string, Session>()
  /** The part of `x-ura-session` that proves the console (this process) set it. */
  private readonly secret = randomBytes(32).toString('base64url')
  private readonly now: () => number
  private readonly sweeper: NodeJS.Timeout

  constructor (now: () => number = Date.now) {
    this.now = now
    this.sweeper = setInterval(() => { this.sweep() }, 60_000).unref()
  }

  private expired (s: Session): boolean {
    const t = this.now()
    return (s.lastSeen !== undefined && t - s.lastSeen > IDLE_MS) || (s.startedAt !== undefined && t - s.startedAt > ABSOLUTE_MS)
  }

  sweep (): void {
    for (const [id, s] of this.sessions) if (this.expired(s)) this.sessions.delete(id)
  }

  set (id: string, session: Session, callback: (err?: unknown) => void): void {
    if (!this.sessions.has(id) && this.sessions.size >= MAX_SESSIONS) {
      this.sweep()
      // Still full: the oldest goes (Map keeps insertion order).
      if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!)
    }
    this.sessions.set(id, session)
    callback()
  }

  get (id: string, callback: (err: unknown, session?: Session | null) => void): void {
    const s = this.sessions.get(id)
    if (s !== undefined && this.expired(s)) {
      this.sessions.delete(id)
      callback(null, null)
      return
    }
    callback(null, s ?? null)
  }

  destroy (id: string, callback: (err?: unknown) => void): void {
    this.sessions.delete(id)
    callback()
  }

  get size (): number { return this.sessions.size }

  /** The `x-ura-session` value the console sends with its API calls for session `id`. */
  header (id: string): string {
    return `${this.secret}.${id}`
  }

  /** For admin/auth.ts: the signed-in operator behind an `x-ura-session` value, if it is this process's and the session lives. */
  readonly resolver: SessionResolver = (value: string): SessionIdentity | undefined => {
    const dot = value.indexOf('.')
    if (dot < 0) return undefined
    const presented = Buffer.from(value.slice(0, dot))
    const own = Buffer.from(this.secret)
    if (presented.length !== own.length || !timingSafeEqual(presented, own)) return undefined
    const s = this.sessions.get(value.slice(dot + 1))
    if (s === undefined || this.expired(s) || s.operatorId === undefined || s.method === undefined) return undefined
    return {
      operatorId: s.operatorId,
      method: s.method,
      ...(s.fingerprint === undefined ? {} : { fingerprint: s.fingerprint }),
      ...(s.revocationKey === undefined ? {} : { revocationKey: s.revocationKey }),
    }
  }

  close (): void {
    clearInterval(this.sweeper)
    this.sessions.clear()
  }
}

export const MAX_FAILURES = 5
export const FAILURE_WINDOW_MS = 15 * 60_000
export const LOCK_MS = 15 * 60_000

/**
 * Sign-in failures per username: the fifth within 15 minutes locks the username for 15 minutes,
 * whoever tries it and whatever they type (the answer then says only that it is locked and until when).
 */
export class Lockout {
  private readonly failures = new Map<string, { count: number; first: number; lockedUntil?: number }>()
  private readonly now: () => number

  constructor (now: () => number = Date.now) {
    this.now = now
  }

  /** When the username is locked, the time it opens again. */
  lockedUntil (username: string): number | undefined {
    const f = this.failures.get(username)
    if (f?.lockedUntil === undefined) return undefined
    if (f.lockedUntil <= this.now()) { this.failures.delete(username); return undefined }
    return f.lockedUntil
  }

  /** Counts a failure; answers the lock's end when this one locked the username. */
  fail (username: string): number | undefined {
    const t = this.now()
    let f = this.failures.get(username)
    if (f === undefined || t - f.first > FAILURE_WINDOW_MS) {
      f = { count: 0, first: t }
      this.failures.set(username, f)
    }
    f.count++
    if (f.count >= MAX_FAILURES) f.lockedUntil = t + LOCK_MS
    if (this.failures.size > 100_000) this.failures.delete(this.failures.keys().next().value!)
    return f.lockedUntil
  }

  succeed (username: string): void {
    this.failures.delete(username)
  }
}

/** The last TOTP step each operator signed in with: a code is good once. */
export class UsedSteps {
  private readonly last = new Map<string, number>()

  /** True (and remembered) when `step` is later than the operator's last one. */
  take (operatorId: string, step: number): boolean {
    const last = this.last.get(operatorId)
    if (last !== undefined && step <= last) return false
    this.last.set(operatorId, step)
    return true
  }
}
