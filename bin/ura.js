#!/usr/bin/env node
// The `ura` command. The CLI is TypeScript, run directly by Node 24's type stripping.
import '../cli/main.ts'
