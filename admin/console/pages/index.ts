/** The console's pages, in menu order, and the public ones (the application form). */
import type { ConsolePages } from '../kit.ts'
import { applyPages } from './apply.ts'
import { applyStatusPages } from './apply-status.ts'
import { overviewPages } from './overview.ts'

export const CONSOLE_PAGES: ConsolePages[] = [overviewPages]
export const PUBLIC_PAGES: ConsolePages[] = [applyPages(), applyStatusPages()]
