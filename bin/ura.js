#!/usr/bin/env node
// The `ura` command. The CLI is TypeScript, run directly by Node 24's type stripping.
import { runCli } from '../cli/main.ts'

await runCli()
