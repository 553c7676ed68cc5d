/**
 * Signs and appends one record (stages 5 and 8, DESIGN §5): a request is signed with the client
 * member's key and a response with the provider member's key (batched), then appended to the
 * store; the promise settles once the record is durable. It knows records, not exchanges: the
 * gateway's pipeline (gateway/pipeline/record.ts) turns an exchange into a record's content.
 * Any failure throws, and the pipeline turns it into `Server.ClientProxy.LoggingFailed`.
 */
import type { BatchSigner } from '../certs/batch-signer.ts'
import { recordLeaf, type RecordContent } from './record.ts'
import type { LogStore } from './store.ts'

export class SigningRecorder {
  private readonly store: LogStore
  private readonly signer: BatchSigner

  constructor (store: LogStore, signer: BatchSigner) {
    this.store = store
    this.signer = signer
  }

  /**
   * `keepBody`: the service logs bodies in full (Law 124/2024: else only the digest is kept).
   * `waitMs`: how long the record may wait to share its key's next signature (the node's own
   * delivery attempts; an exchange a client waits for passes 0). Such a record is also written
   * after the ones clients wait for (the store's background lane).
   */
  async record (content: RecordContent, body: Buffer, keepBody: boolean, waitMs = 0): Promise<void> {
    const { signature, proof } = await this.signer.sign(content.signer, recordLeaf(content), waitMs)
    await this.store.append({ ...content, body: keepBody ? body : null, signatureId: signature.id, proof }, signature, waitMs > 0)
  }
}
