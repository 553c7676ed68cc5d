/**
 * Signs and appends one record (stages 5 and 8, DESIGN §5): a request is signed with the client
 * member's key and a response with the provider member's key, each in a batch with the other records
 * of its commit group for that key (seal.ts); the promise settles once the record is durable. It
 * knows records, not exchanges: the gateway's pipeline (gateway/pipeline/record.ts) turns an exchange
 * into a record's content. Any failure rejects, and the pipeline turns it into
 * `Server.ClientProxy.LoggingFailed`.
 */
import type { SigningKeyProvider } from '../certs/batch-signer.ts'
import type { RecordContent } from './record.ts'
import type { LogStore } from './store.ts'

export class SigningRecorder {
  private readonly store: LogStore
  private readonly keys: SigningKeyProvider

  constructor (store: LogStore, keys: SigningKeyProvider) {
    this.store = store
    this.keys = keys
  }

  /**
   * `keepBody`: the service logs bodies in full (Law 124/2024: else only the digest is kept).
   * `waitMs`: how long the record may wait to share its key's next signature (the node's own
   * delivery attempts; an exchange a client waits for passes 0). Such a record is also written
   * after the ones clients wait for (the store's background lane). Resolves with its sequence number.
   */
  record (content: RecordContent, body: Buffer, keepBody: boolean, waitMs = 0): Promise<number> {
    try {
      // The member's certificate is checked here, for every record: a revoked or expired seal stops signing at once.
      const identity = this.keys.identityFor(content.signer)
      if (identity === undefined) throw new Error(`no signing key for member ${content.signer}`)
      return this.store.append({ content, body: keepBody ? body : null }, identity, waitMs)
    } catch (err) {
      return Promise.reject(err)
    }
  }
}
