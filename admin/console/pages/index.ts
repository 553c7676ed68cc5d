/** The console's pages, in menu order, and the public ones (the application form). */
import type { ConsolePages } from '../kit.ts'
import { auditPages } from './audit.ts'
import { overviewPages } from './overview.ts'
import { versionPages } from './versions.ts'

export const CONSOLE_PAGES: ConsolePages[] = [overviewPages, auditPages, versionPages]
export const PUBLIC_PAGES: ConsolePages[] = []
