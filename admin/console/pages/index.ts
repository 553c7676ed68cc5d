/** The console's pages, in menu order, and the public ones (the application form). */
import type { ConsolePages } from '../kit.ts'
import { accessPages } from './access.ts'
import { applicationPages } from './applications.ts'
import { certificatePages } from './certificates.ts'
import { overviewPages } from './overview.ts'

export const CONSOLE_PAGES: ConsolePages[] = [overviewPages, accessPages, applicationPages, certificatePages]
export const PUBLIC_PAGES: ConsolePages[] = []
