/**
 * The node's own CA as the admin API uses it: the `Issue` function approvals and certificate
 * requests sign with (its key from the node's keystore), and its certificate, which applicants get
 * with theirs. A node without a CA of its own (its certificates come from elsewhere) cannot issue.
 */
import { existsSync, readFileSync } from 'node:fs'
import type { AdminContext } from './context.ts'
import { AdminError } from './errors.ts'
import { caIssuer, type Issue } from './onboarding/index.ts'

/** The node CA as an `Issue` function (certificates valid `days`, default 365); Admin.Conflict when the node has none. */
export function nodeIssuer (ctx: AdminContext, days?: number): Issue {
  const keystore = ctx.pki?.keystore
  if (keystore === undefined || !keystore.hasCa()) throw new AdminError('Admin.Conflict', 'this node has no CA of its own to issue certificates with')
  return caIssuer(keystore.ca(), days === undefined ? {} : { days })
}

/** The node CA's certificate (PEM), when the node has one. */
export function caPemOf (ctx: AdminContext): string | undefined {
  const file = ctx.pki?.keystore.paths.caCert
  return file !== undefined && existsSync(file) ? readFileSync(file, 'utf8') : undefined
}
