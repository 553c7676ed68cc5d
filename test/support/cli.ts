/** `ura` commands run in-process, parsed as the command line parses them: each returns the command's exit code. */
import { main } from '../../cli/main.ts'

export const init = (args: string[]): Promise<number> => main(['init', ...args])
export const certRequest = (args: string[]): Promise<number> => main(['cert', 'request', ...args])
export const certIssue = (args: string[]): Promise<number> => main(['cert', 'issue', ...args])
export const certRevoke = (args: string[]): Promise<number> => main(['cert', 'revoke', ...args])
export const certList = (args: string[]): Promise<number> => main(['cert', 'list', ...args])
