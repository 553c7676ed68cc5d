/**
 * Each thread of a node its own young generation. The launcher's `--max-semi-space-size=8` is meant
 * for the main thread, but V8 reads that option whenever it makes an isolate's heap, and there it wins
 * over a worker's `resourceLimits.maxYoungGenerationSizeMb`: under the launcher the log writer and
 * the delivery thread would each grow to two 8 MB semi-spaces, whatever their limits say. V8 sizes
 * an isolate once, when it makes it, so clearing the options once the main thread runs keeps the
 * main thread at the size they gave it and leaves every worker started afterwards to its own limit
 * (docs/configuration.md, "The node's memory"). `--min-semi-space-size` is cleared for the same
 * reason. Clearing an option that was never given changes nothing. The launcher's other option,
 * `--heap-growing-percent`, is one setting for the whole process and is kept.
 */
import { setFlagsFromString } from 'node:v8'

export function releaseSemiSpaceOptions (): void {
  setFlagsFromString('--max-semi-space-size=0')
  setFlagsFromString('--min-semi-space-size=0')
}
