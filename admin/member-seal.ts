/**
 * A hosted member's e-seal: the node signs every exchange on behalf of its members with their seal
 * keys from its keystore (DESIGN §7), so for an institution that applied without an e-seal CSR of its
 * own the node makes the key itself at approval, sends its CSR through the approval with the rest,
 * and — once the registry version holding the certificate is committed — keeps key and chain where
 * the signer looks (`members/<id>/sign.*.pem` in the data directory), key encrypted as every key there.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { writeFileAtomic } from '../certs/keystore.ts'
import { createCsr, generateKeyPair } from '../certs/pki.ts'
import type { AdminContext } from './context.ts'
import { AdminError } from './errors.ts'

export interface PendingSeal {
  csr: string
  /** Writes the key and `certificatePem` (followed by the CA's certificate) into the keystore. */
  install (certificatePem: string): void
}

/** A new seal key for `memberId` and its CSR; nothing is written until `install`. */
export function prepareSeal (ctx: AdminContext, memberId: string): PendingSeal {
  const keystore = ctx.pki?.keystore
  if (keystore === undefined) throw new AdminError('Admin.Conflict', 'this node has no keystore to keep a member\'s seal key in')
  const { privateKey } = generateKeyPair('ec-p256')
  const csr = createCsr(privateKey, { C: 'AL', serialNumber: memberId, CN: memberId })
  return {
    csr,
    install (certificatePem: string) {
      const files = keystore.paths.member(memberId)
      mkdirSync(dirname(files.key), { recursive: true })
      keystore.savePrivateKey(files.key, privateKey)
      const ca = existsSync(keystore.paths.caCert) ? readFileSync(keystore.paths.caCert, 'utf8') : ''
      writeFileAtomic(files.cert, certificatePem.trimEnd() + '\n' + ca)
    },
  }
}
