#!/usr/bin/env -S node --max-semi-space-size=8 --heap-growing-percent=25
// The `ura` command. The CLI is TypeScript, run directly by Node 24's type stripping.
//
// The first line sizes V8's heap for a gateway, whatever the host's memory (docs/configuration.md,
// "The node's memory"): 8 MB semi-spaces (its young generation; a host with 16 GB or more would get
// 64 MB ones, which a node fills and keeps resident under load), and an old space that grows by a
// quarter of what survived its last full collection before the next one (V8 lets it grow up to four
// times on such a host). Together they keep a node under 200 MB at 1,000 connections. The semi-space
// size is the main thread's: `ura start` then clears it, so each worker thread keeps its own limit
// (cli/thread-memory.ts). `npm start` passes the same options and the benchmarks start the gateway
// with them; a test holds the three together.
//
// Node's module compile cache keeps each module's stripped source and compiled code between runs,
// so a process (and each of its worker threads: the message log's writer, the delivery queue) loads
// no TypeScript stripper once the cache is warm: ≈ 17 MB less RSS per thread and a faster start
// (docs/configuration.md, "The node's memory"). It lives beside the code; where that is not
// writable, or NODE_DISABLE_COMPILE_CACHE is set, Node runs without it. NODE_COMPILE_CACHE chooses
// another directory. The ura modules are imported only after this, or they would be stripped first.
import { constants, enableCompileCache } from 'node:module'
import { fileURLToPath } from 'node:url'

const cache = enableCompileCache(process.env.NODE_COMPILE_CACHE ?? fileURLToPath(new URL('../.cache/compile', import.meta.url)))
// Worker threads start their own module loader: they find the directory in the environment.
if (cache.status === constants.compileCacheStatus.ENABLED || cache.status === constants.compileCacheStatus.ALREADY_ENABLED) {
  process.env.NODE_COMPILE_CACHE = cache.directory
}

const { runCli } = await import('../cli/main.ts')
await runCli()
