/**
 * A node's message log under deferred signing, to be killed: appends records of two members with
 * batches signed only a minute after they open, and reports each acknowledged record to its parent
 * (test/log-deferred.test.ts), which kills it mid-run with SIGKILL.
 */
import { SqliteLogStore } from '../../messagelog/sqlite-store.ts'
import { deferredContent, DEFERRED_MEMBERS } from './log-deferred-records.ts'
import { testSigningKeys } from './signing.ts'

const file = process.argv[2]
const keys = testSigningKeys({ [DEFERRED_MEMBERS[0]]: 'ec-p256', [DEFERRED_MEMBERS[1]]: 'ec-p256' })
const store = await SqliteLogStore.open(file, { signing: 'deferred', signWithinMs: 60_000 })
let i = 0
async function lane (): Promise<void> {
  for (;;) {
    const n = i++
    const content = deferredContent(n, Date.now())
    const seq = await store.append({ content, body: null }, keys.identityFor(content.signer)!)
    process.send!({ acked: seq, messageId: content.messageId })
  }
}
await Promise.all(Array.from({ length: 8 }, lane))
