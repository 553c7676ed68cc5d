/** The console's pages, in menu order, and the public ones (the application form). */
import type { ConsolePages } from '../kit.ts'
import { applyPages } from './apply.ts'
import { applyStatusPages } from './apply-status.ts'
import { institutionPages } from './institutions.ts'
import { officialPages } from './officials.ts'
import { overviewPages } from './overview.ts'
import { servicePages } from './services.ts'

export const CONSOLE_PAGES: ConsolePages[] = [overviewPages, institutionPages, servicePages, officialPages]
export const PUBLIC_PAGES: ConsolePages[] = [applyPages(), applyStatusPages()]
