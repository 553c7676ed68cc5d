/** The console's pages, in menu order, and the public ones (the application form). */
import type { ConsolePages } from '../kit.ts'
import { accessPages } from './access.ts'
import { applicationPages } from './applications.ts'
import { applyPages } from './apply.ts'
import { applyStatusPages } from './apply-status.ts'
import { auditPages } from './audit.ts'
import { certificatePages } from './certificates.ts'
import { institutionPages } from './institutions.ts'
import { logPages } from './log.ts'
import { officialPages } from './officials.ts'
import { overviewPages } from './overview.ts'
import { servicePages } from './services.ts'
import { versionPages } from './versions.ts'

export const CONSOLE_PAGES: ConsolePages[] = [overviewPages, institutionPages, servicePages, accessPages, applicationPages, certificatePages, officialPages, auditPages, logPages, versionPages]
export const PUBLIC_PAGES: ConsolePages[] = [applyPages(), applyStatusPages()]
