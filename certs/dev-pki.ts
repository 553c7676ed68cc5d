/**
 * `ura init`: the development PKI of a node, made once at fixed paths in its data directory
 * (see keystore.ts for the layout). Idempotent: what exists is kept, only what is missing is made,
 * so `npm start` can call it on every start.
 *
 * Made: a root CA (also put in the trust store), the node's HTTPS server certificate (SAN localhost,
 * 127.0.0.1, ::1 and the configured listen host), a signing (e-seal) key and certificate for every
 * member in the configuration, and a TLS client key and certificate for every subsystem whose
 * `connection` is `mtls`.
 */
import { isIP } from 'node:net'
import { existsSync } from 'node:fs'
import type { UraConfig } from '../config/types.ts'
import { Keystore, recordIssued, writeFileAtomic } from './keystore.ts'
import { createRootCa, generateKeyPair, issueCertificate, type CertificateAuthority, type KeyType, type Profile, type Subject } from './pki.ts'

export const DEV_CA_TRUST_FILE = 'dev-ca.pem'

export interface InitOptions {
  keystore: Keystore
  config: UraConfig
  /** Key type of member signing keys (default ECDSA P-256). */
  memberKeyType?: KeyType
  /** Key type of TLS keys (node and clients; default ECDSA P-256). */
  tlsKeyType?: KeyType
}

export interface InitReport {
  created: string[]
  kept: string[]
}

export function initPki (opts: InitOptions): InitReport {
  const { keystore, config } = opts
  const paths = keystore.paths
  const report: InitReport = { created: [], kept: [] }

  let ca: CertificateAuthority
  if (keystore.hasCa()) {
    ca = keystore.ca()
    report.kept.push(paths.caCert)
  } else {
    ca = createRootCa({ subject: { C: 'AL', O: 'ura development', CN: `ura development root CA (${config.node.instance})` } })
    keystore.savePrivateKey(paths.caKey, ca.key)
    writeFileAtomic(paths.caCert, ca.pem)
    report.created.push(paths.caCert)
  }
  const trustFile = `${paths.trustDir}/${DEV_CA_TRUST_FILE}`
  if (!existsSync(trustFile)) {
    writeFileAtomic(trustFile, ca.pem)
    report.created.push(trustFile)
  }

  const issueInto = (files: { cert: string; key: string }, subject: Subject, profile: Profile, keyType: KeyType, hosts?: string[]): void => {
    if (existsSync(files.cert) && existsSync(files.key)) {
      report.kept.push(files.cert)
      return
    }
    const { privateKey, publicKey } = generateKeyPair(keyType)
    const cert = issueCertificate(ca, { subject, publicKey, profile, days: 365, ...(hosts === undefined ? {} : { hosts }) })
    keystore.savePrivateKey(files.key, privateKey)
    writeFileAtomic(files.cert, cert + ca.pem)
    recordIssued(paths, cert)
    report.created.push(files.cert)
  }

  const host = config.node.listen.host
  const hosts = ['localhost', '127.0.0.1', '::1']
  if (!hosts.includes(host) && host !== '0.0.0.0' && host !== '::' && (isIP(host) !== 0 || /^[A-Za-z0-9.-]+$/.test(host))) hosts.push(host)
  issueInto({ cert: paths.nodeCert, key: paths.nodeKey }, { C: 'AL', O: 'ura', CN: `ura node ${config.node.instance}` }, 'tls-server', opts.tlsKeyType ?? 'ec-p256', hosts)

  for (const m of config.members) {
    const memberId = `${config.node.instance}/${m.class}/${m.code}`
    issueInto(paths.member(memberId), { C: 'AL', O: m.name, serialNumber: memberId, CN: memberId }, 'signing', opts.memberKeyType ?? 'ec-p256')
    for (const s of m.subsystems) {
      if (s.connection !== 'mtls') continue
      const id = `${memberId}/${s.code}`
      issueInto(paths.client(id), { C: 'AL', O: m.name, ...(s.name === undefined ? {} : { OU: s.name }), serialNumber: id, CN: id }, 'tls-client', opts.tlsKeyType ?? 'ec-p256')
    }
  }
  return report
}
