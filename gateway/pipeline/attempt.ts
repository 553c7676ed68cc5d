/**
 * One logged attempt to reach a provider for work the node does on its own (a queued request, a
 * pushed event): the request record before it leaves, the provider's answer, its record. Shared by
 * store-and-forward (deliver.ts) and pub/sub push (push.ts), so both log exactly as an exchange does.
 */
import type { OutboundRequest, ProviderResponse } from '../../adapters/types.ts'
import type { Job, Outcome } from '../../delivery/queue.ts'
import type { ServiceEntry } from '../../registry/registry.ts'
import type { GatewayPipeline } from './context.ts'
import type { Exchange } from './exchange.ts'
import { answered, forward } from './forward.ts'
import { recordRequest, recordResponse } from './record.ts'

/** Statuses that mean the provider could not take the request now. */
export const TRY_LATER = new Set([429, 502, 503, 504])

export async function loggedAttempt (pipeline: GatewayPipeline, ex: Exchange, service: ServiceEntry, out: OutboundRequest): Promise<ProviderResponse> {
  await recordRequest(pipeline.recorder, ex, out.body)
  const res = answered(ex, await forward(service, out))
  const type = res.headers['content-type']
  ex.responseHeaders = typeof type === 'string' ? ['content-type', type] : []
  await recordResponse(pipeline.recorder, ex, res.body)
  return res
}

export interface AttemptObserver {
  (queue: string, outcome: 'delivered' | 'failed'): void
}

/** A job handler that reports each attempt's outcome (the delivery metrics). */
export function observed (handler: (job: Job) => Promise<Outcome>, observe?: AttemptObserver): (job: Job) => Promise<Outcome> {
  return async job => {
    const outcome = await handler(job)
    observe?.(job.queue, outcome.ok ? 'delivered' : 'failed')
    return outcome
  }
}
