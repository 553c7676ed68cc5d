/**
 * Optimistic concurrency for the admin API. Every resource answers with an ETag, the SHA-256 of its
 * canonical JSON (equal content, equal tag, whatever the key order); lists answer with the registry
 * version (`"v12"`). A write names what it was made on in `If-Match`: without it the answer is 428,
 * with a tag that is no longer current 412 (with the current tag in the detail). `If-Match: *` is
 * accepted only where nothing existing is overwritten (creating, adding); a change to an existing
 * resource must name the tag the operator read.
 */
import { createHash } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { canonicalJson } from '../registry/store/content.ts'
import { AdminError } from './errors.ts'

export function etagOf (value: unknown): string {
  return `"${createHash('sha256').update(canonicalJson(value)).digest('base64url')}"`
}

export function versionEtag (version: number): string {
  return `"v${version}"`
}

/** The entity tags of `If-Match`, `'*'`, or undefined when the header is absent. */
export function ifMatchOf (request: FastifyRequest): string[] | '*' | undefined {
  const raw = request.headers['if-match']
  if (raw === undefined) return undefined
  const text = Array.isArray(raw) ? raw.join(',') : raw
  if (text.trim() === '*') return '*'
  return text.split(',').map(s => s.trim()).filter(s => s !== '')
}

export interface Precondition {
  /** The current tag of what the write changes, read from the content it is applied to. */
  etag: string
  /** `If-Match: *` is enough (creating or adding, nothing existing is replaced). */
  allowAny: boolean
}

/** 428 unless the request has `If-Match` (and, when `allowAny` is false, names a tag, not `*`). */
export function requireIfMatch (request: FastifyRequest, allowAny: boolean): void {
  const given = ifMatchOf(request)
  if (given === undefined || (Array.isArray(given) && given.length === 0)) {
    throw new AdminError('Admin.PreconditionRequired', 'a write needs If-Match: the ETag of what it changes (GET it first)')
  }
  if (given === '*' && !allowAny) {
    throw new AdminError('Admin.PreconditionRequired', 'If-Match: * cannot change an existing resource: name the ETag you read')
  }
}

/** 412 unless `If-Match` names `current` (strong comparison: a weak tag never matches), or is `*` where allowed. */
export function checkIfMatch (request: FastifyRequest, p: Precondition): void {
  requireIfMatch(request, p.allowAny)
  const given = ifMatchOf(request)
  if (given === '*') return
  if (!given!.includes(p.etag)) {
    throw new AdminError('Admin.PreconditionFailed', 'the resource changed since it was read (If-Match is not its current ETag): read it again', { currentEtag: p.etag })
  }
}
