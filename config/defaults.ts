/**
 * Defaults written once: the resilience settings for the way to a provider (the configuration
 * schema fills them into `node.resilience`, config/schema.ts) and where the demo configuration lives.
 */
import { resolve } from 'node:path'
import type { ResilienceSettings } from './types.ts'

export const DEFAULT_RESILIENCE: ResilienceSettings = {
  retries: { attempts: 2, backoffMs: 50, maxBackoffMs: 1000, soap: false },
  breaker: { enabled: true, consecutiveFailures: 5, failureRate: 0.5, window: 20, minimumRequests: 10, coolDownMs: 10_000, failureStatuses: [502, 503, 504] },
  concurrency: { max: 256, queue: 1024 },
}

/** The demo configuration (`npm start`, and the CLI's default when no `--config` is given). */
export const DEMO_CONFIG_DIR = resolve(import.meta.dirname, 'demo')
