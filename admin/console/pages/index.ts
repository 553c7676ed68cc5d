/** The console's pages, in menu order, and the public ones (the application form). */
import type { ConsolePages } from '../kit.ts'
import { accessPages } from './access.ts'
import { applicationPages } from './applications.ts'
import { applyPages } from './apply.ts'
import { applyStatusPages } from './apply-status.ts'
import { certificatePages } from './certificates.ts'
import { institutionPages } from './institutions.ts'
import { officialPages } from './officials.ts'
import { overviewPages } from './overview.ts'
import { servicePages } from './services.ts'

export const CONSOLE_PAGES: ConsolePages[] = [overviewPages, institutionPages, servicePages, accessPages, applicationPages, certificatePages, officialPages]
export const PUBLIC_PAGES: ConsolePages[] = [applyPages(), applyStatusPages()]
