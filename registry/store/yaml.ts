/**
 * Moves registry content between the store and YAML files, the form operators edit and review:
 * `importDir` reads the registry parts (members, groups, services, access) of every YAML file in a
 * configuration directory, skipping the node's own settings; `exportDir` writes them back as
 * members.yaml (with groups), services.yaml, access.yaml and the operator plane's operators.yaml,
 * certificates.yaml (issued and revoked) and onboarding.yaml (applications, access requests, outbox). Import of an export gives the same content.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseDocument, stringify } from 'yaml'
import { checkConfigFile, formatProblem, type ConfigProblem } from '../../config/load.ts'
import { REGISTRY_SECTIONS } from '../../config/registry-sections.ts'
import { emptyContent, type RegistryContent } from './content.ts'
import { RegistryStoreError } from './errors.ts'

export const EXPORT_FILES = ['members.yaml', 'services.yaml', 'access.yaml', 'operators.yaml', 'certificates.yaml', 'onboarding.yaml'] as const

/** The registry parts of a configuration directory, merged in file-name order (as the node loads them). */
export async function importDir (dir: string): Promise<RegistryContent> {
  let names: string[]
  try {
    names = (await readdir(dir)).filter(n => /\.ya?ml$/.test(n)).sort()
  } catch (err) {
    throw new RegistryStoreError('IMPORT_FAILED', `cannot read ${dir}: ${(err as Error).message}`)
  }
  const content = emptyContent()
  const problems: ConfigProblem[] = []
  for (const name of names) {
    const file = join(dir, name)
    const text = await readFile(file, 'utf8')
    // Syntax and schema first, file by file, so each problem has its file and line; the content itself is taken as written (no defaults added).
    const fileProblems = checkConfigFile(file, text)
    if (fileProblems.length > 0) { problems.push(...fileProblems); continue }
    // The schema has checked the shapes: each section is absent or what the content holds.
    const d = (parseDocument(text).toJS() ?? {}) as Partial<RegistryContent>
    content.members.push(...d.members ?? [])
    content.services.push(...d.services ?? [])
    content.access.push(...d.access ?? [])
    for (const k of REGISTRY_SECTIONS) (content[k] as unknown[]).push(...(d[k] as unknown[] | undefined) ?? [])
    for (const [group, members] of Object.entries(d.groups ?? {})) {
      if (group in content.groups) problems.push({ file, path: `groups.${group}`, message: `group '${group}' is defined twice` })
      content.groups[group] = members
    }
  }
  if (problems.length > 0) {
    throw new RegistryStoreError('IMPORT_FAILED', `cannot import ${dir}:\n${problems.map(p => `  ${formatProblem(p)}`).join('\n')}`, { problems })
  }
  return content
}

/** Writes the content as YAML files in `dir` (created if missing); `header` becomes each file's first comment. */
export async function exportDir (content: RegistryContent, dir: string, header = 'Exported from the ura registry store.'): Promise<string[]> {
  await mkdir(dir, { recursive: true })
  const comment = header.split('\n').map(l => `# ${l}`.trimEnd()).join('\n') + '\n'
  const files: Array<[string, Record<string, unknown>]> = [
    ['members.yaml', { members: content.members, ...(Object.keys(content.groups).length > 0 ? { groups: content.groups } : {}) }],
    ['services.yaml', { services: content.services }],
    ['access.yaml', { access: content.access }],
    ['operators.yaml', { operators: content.operators }],
    ['certificates.yaml', { certificates: content.certificates, revocations: content.revocations }],
    ['onboarding.yaml', { applications: content.applications, accessRequests: content.accessRequests, outbox: content.outbox }],
    ['rooms.yaml', { rooms: content.rooms, subscriptions: content.subscriptions }],
  ]
  const written: string[] = []
  for (const [name, data] of files) {
    const file = join(dir, name)
    await writeFile(file, comment + stringify(data, { lineWidth: 0 }))
    written.push(file)
  }
  return written
}
