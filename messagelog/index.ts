/** Opens the message log a configuration asks for: the store, the batch signer and the recorder on top. */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { BatchSigner, type SigningKeyProvider } from '../certs/batch-signer.ts'
import { dataDirOf } from '../certs/node-pki.ts'
import type { UraConfig } from '../config/types.ts'
import { SigningRecorder } from './recorder.ts'
import { SqliteLogReader, SqliteLogStore } from './sqlite-store.ts'
import type { LogStore } from './store.ts'
import type { VerifiableLog } from './verify-log.ts'

export interface MessageLog {
  store: LogStore
  /** The node's batch signer for what is signed outside the message log (the audit trail). */
  signer: BatchSigner
  recorder: SigningRecorder
  /** Waits for queued records to be written, then closes the store. */
  close (): Promise<void>
}

export async function openLogStore (config: UraConfig): Promise<LogStore> {
  const log = config.node.log
  const opts = { windowMs: log.batchMs, batchMax: log.batchMax, signing: log.signing, signWithinMs: log.signWithinMs }
  // PostgreSQL's client is loaded only by nodes that use it.
  if (log.store === 'postgres') return (await import('./pg-store.ts')).PgLogStore.open(log.url!, opts)
  return SqliteLogStore.open(resolve(dataDirOf(config), log.file), opts)
}

/**
 * The message log opened to be read and verified (`ura log verify`): an embedded log read-only, with
 * no writer thread started and no schema touched — a running node may be writing it meanwhile. A log
 * not written yet is created as openLogStore creates it.
 */
export async function openLogForVerifying (config: UraConfig): Promise<VerifiableLog> {
  const log = config.node.log
  const file = resolve(dataDirOf(config), log.file)
  if (log.store === 'postgres' || !existsSync(file)) return openLogStore(config)
  return SqliteLogReader.open(file)
}

/** Where `ura log archive` writes the archive files (node.log.archiveDir, in the data directory unless absolute). */
export function archiveDirOf (config: UraConfig): string {
  return resolve(dataDirOf(config), config.node.log.archiveDir)
}

export async function openMessageLog (config: UraConfig, keys: SigningKeyProvider): Promise<MessageLog> {
  const store = await openLogStore(config)
  // Batches a node stopped before signing (deferred signing) are signed before the first exchange.
  if (store.signPending !== undefined) {
    try {
      const { left } = await store.signPending(keys)
      for (const id of left) process.emitWarning(`message log batch ${id} stays pending: its signer has no signing key on this node`, 'UraMessageLogWarning')
    } catch (err) {
      await store.close()
      throw err
    }
  }
  const signer = new BatchSigner(keys, { batchMs: config.node.log.batchMs, batchMax: config.node.log.batchMax })
  return { store, signer, recorder: new SigningRecorder(store, keys), close: () => store.close() }
}
