/**
 * Opens the delivery queue and the idempotency keys a configuration asks for (node.delivery.store):
 * a SQLite file in the data directory for one node, or a `postgres://` URL shared by a cluster.
 */
import { isAbsolute, join } from 'node:path'
import type { UraConfig } from '../config/types.ts'
import { PgIdempotency, type IdempotencyStore } from './idempotency.ts'
import type { DeliveryQueue } from './queue.ts'
import { openThreadedSqlite } from './threaded-sqlite.ts'

export interface DeliveryStores {
  queue: DeliveryQueue
  idempotency: IdempotencyStore
  idempotencyWindowMs: number
  concurrency: number
}

export function isPostgresUrl (store: string): boolean {
  return /^postgres(ql)?:\/\//.test(store)
}

export async function openDelivery (config: UraConfig, dataDir: string): Promise<DeliveryStores> {
  const d = config.node.delivery
  const common = { idempotencyWindowMs: d.idempotencyHours * 3_600_000, concurrency: d.concurrency }
  if (isPostgresUrl(d.store)) {
    const { PgBossQueue } = await import('./pg-boss-queue.ts')
    const queue = await PgBossQueue.open(d.store)
    return { queue, idempotency: await PgIdempotency.open(d.store), ...common }
  }
  const file = isAbsolute(d.store) ? d.store : join(dataDir, d.store)
  // The SQLite queue and keys run in a thread of their own (threaded-sqlite.ts): no fsync, claim or
  // outcome of theirs blocks the exchanges on the main thread.
  return { ...await openThreadedSqlite(file), ...common }
}
