/** `ura cert request|issue|revoke|list`: the certificate flow between an institution and the operator. */
import { X509Certificate } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { basename, join, relative } from 'node:path'
import { inventory, EXPIRY_WARNING_DAYS } from '../certs/inventory.ts'
import { idToFileName, issuedCertificates, Keystore, KeystoreError, keyPassphrase, recordIssued, writeFileAtomic, writePrivateKey } from '../certs/keystore.ts'
import { createCsr, fingerprintOf, generateKeyPair, identityOf, issueFromCsr, normaliseSerial, PkiError, readCsr, type KeyType } from '../certs/pki.ts'
import { TrustStore } from '../certs/trust-store.ts'
import { isValidPart } from '../protocol/identifiers.ts'
import { resolveDataDir, type PkiOptions } from './pki-args.ts'

const show = (p: string): string => relative(process.cwd(), p) || p

/** Signing certificates belong to a member (3 parts); TLS client certificates to a subsystem (4) or a member. */
function idProblem (id: string | undefined, usage: string): string | undefined {
  if (id === undefined) return 'the request carries no X-Road identifier (subject serialNumber)'
  const parts = id.split('/')
  if (!parts.every(isValidPart)) return `'${id}' is not an X-Road identifier`
  if (usage === 'signing' && parts.length !== 3) return `a signing certificate is issued to a member (instance/class/code), not '${id}'`
  if (usage === 'tls-client' && parts.length !== 3 && parts.length !== 4) return `a TLS client certificate is issued to instance/class/code[/subsystem], not '${id}'`
  return undefined
}

async function guard (run: () => Promise<number>): Promise<number> {
  try {
    return await run()
  } catch (err) {
    if (err instanceof PkiError || err instanceof KeystoreError) {
      console.error(`ura: ${err.message}`)
      return 1
    }
    throw err
  }
}

/** The institution's side: a key (kept by the institution, encrypted) and a CSR for the operator. */
export async function certRequest (values: { id: string; usage: 'tls-client' | 'signing'; name?: string; keyType: KeyType; out: string }): Promise<number> {
  const problem = idProblem(values.id, values.usage)
  if (problem !== undefined) { console.error(problem); return 2 }
  return guard(async () => {
    const id = values.id
    const base = join(values.out, `${idToFileName(id)}.${values.usage}`)
    const keyPath = `${base}.key.pem`
    const csrPath = `${base}.csr.pem`
    if (existsSync(keyPath)) { console.error(`ura: ${show(keyPath)} exists; not overwriting a private key`); return 1 }
    const { privateKey } = generateKeyPair(values.keyType)
    const csr = createCsr(privateKey, { C: 'AL', ...(values.name === undefined ? {} : { O: values.name }), serialNumber: id, CN: id })
    writePrivateKey(keyPath, privateKey, keyPassphrase())
    writeFileAtomic(csrPath, csr)
    console.log(`private key (encrypted, keep it): ${show(keyPath)}`)
    console.log(`certificate request (send it to the operator): ${show(csrPath)}`)
    return 0
  })
}

/** The operator's side: check the CSR, issue with the node's CA, keep a copy in the issued ledger. */
export async function certIssue (csrPath: string, values: PkiOptions & { usage: 'tls-client' | 'signing' | 'tls-server'; days: number; out?: string }): Promise<number> {
  const { usage, days } = values
  return guard(async () => {
    const csrPem = readFileSync(csrPath, 'utf8')
    const csr = readCsr(csrPem)
    const { dataDir, config } = await resolveDataDir(values)
    if (usage !== 'tls-server') {
      const problem = idProblem(csr.subject.serialNumber, usage)
      if (problem !== undefined) { console.error(`ura: ${problem}`); return 1 }
      const instance = csr.subject.serialNumber!.split('/')[0]
      if (config !== undefined && instance !== config.node.instance) { console.error(`ura: '${csr.subject.serialNumber}' is not in this node's instance ${config.node.instance}`); return 1 }
    }
    const keystore = new Keystore(dataDir)
    const ca = keystore.ca()
    const cert = issueFromCsr(ca, csrPem, { profile: usage, days })
    recordIssued(keystore.paths, cert)
    const out = values.out ?? join(csrPath.replace(/[^/]*$/, ''), basename(csrPath).replace(/(\.csr)?\.pem$/, '') + '.cert.pem')
    writeFileAtomic(out, cert + ca.pem)
    const x = new X509Certificate(cert)
    console.log(`issued ${usage} certificate for ${identityOf(x) ?? x.subject}: ${show(out)}`)
    console.log(`  serial       ${normaliseSerial(x.serialNumber)}`)
    console.log(`  valid until  ${x.validToDate.toISOString()}`)
    console.log(`  SHA-256      ${fingerprintOf(x)}`)
    return 0
  })
}

function findCertificate (keystore: Keystore, what: string): X509Certificate | undefined {
  if (existsSync(what)) return new X509Certificate(readFileSync(what, 'utf8'))
  const serial = normaliseSerial(what)
  return issuedCertificates(keystore.paths).find(c => normaliseSerial(c.serialNumber) === serial)
}

export async function certRevoke (what: string, values: PkiOptions & { reason: string }): Promise<number> {
  return guard(async () => {
    const { dataDir } = await resolveDataDir(values)
    const keystore = new Keystore(dataDir)
    const cert = findCertificate(keystore, what)
    if (cert === undefined) { console.error(`ura: no issued certificate with serial ${what} in ${show(keystore.paths.issuedDir)}`); return 1 }
    const trust = TrustStore.load(keystore.paths)
    const entry = trust.revocations.revoke(cert, values.reason)
    console.log(`revoked ${entry.serial} (${identityOf(cert) ?? entry.subject}) at ${entry.revokedAt}: ${entry.reason}`)
    console.log('a running node refuses it within a second')
    return 0
  })
}

export async function certList (values: PkiOptions & { json?: boolean }): Promise<number> {
  return guard(async () => {
    const { dataDir } = await resolveDataDir(values)
    const keystore = new Keystore(dataDir)
    const rows = inventory(keystore, TrustStore.load(keystore.paths))
    if (values.json === true) { console.log(JSON.stringify(rows, null, 2)); return 0 }
    if (rows.length === 0) { console.log(`no certificates in ${show(keystore.paths.root)}: run 'ura init'`); return 0 }
    const table = rows.map(r => [r.state === 'expiring' || r.state === 'expired' ? '!' : ' ', r.role, r.id ?? r.subject, r.serial, r.notAfter.slice(0, 10), String(r.daysLeft), r.state])
    const head = [' ', 'role', 'holder', 'serial', 'expires', 'days', 'state']
    const widths = head.map((h, i) => Math.max(h.length, ...table.map(r => r[i].length)))
    for (const line of [head, ...table]) console.log(line.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd())
    const soon = rows.filter(r => r.state === 'expiring' || r.state === 'expired').length
    console.log(soon === 0 ? `\nno certificate expires within ${EXPIRY_WARNING_DAYS} days` : `\n! ${soon} certificate${soon === 1 ? '' : 's'} expire${soon === 1 ? 's' : ''} within ${EXPIRY_WARNING_DAYS} days (or expired): renew`)
    return 0
  })
}
