/**
 * Moves registry content between the store and YAML files, the form operators edit and review:
 * `importDir` reads the registry parts (members, groups, services, access) of every YAML file in a
 * configuration directory, skipping the node's own settings; `exportDir` writes them back as
 * members.yaml (with groups), services.yaml and access.yaml. Import of an export gives the same content.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LineCounter, parseDocument, stringify } from 'yaml'
import type { ConfigProblem } from '../../config/load.ts'
import { emptyContent, type RegistryContent } from './content.ts'
import { RegistryStoreError } from './errors.ts'

export const EXPORT_FILES = ['members.yaml', 'services.yaml', 'access.yaml'] as const

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
    const lines = new LineCounter()
    const doc = parseDocument(await readFile(file, 'utf8'), { lineCounter: lines, prettyErrors: false })
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const pos = lines.linePos(e.pos[0])
        problems.push({ file, path: '', line: pos.line, column: pos.col, message: `YAML syntax: ${e.message.split('\n')[0]}` })
      }
      continue
    }
    const data: unknown = doc.toJS() ?? {}
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      problems.push({ file, path: '', message: 'must be a mapping' })
      continue
    }
    const d = data as Record<string, unknown>
    // A misspelt section would otherwise be dropped without a word; `node` is the node's own, not the registry's.
    for (const key of Object.keys(d)) {
      if (!['node', 'members', 'groups', 'services', 'access'].includes(key)) problems.push({ file, path: key, message: `unknown property '${key}'` })
    }
    const list = (key: 'members' | 'services' | 'access'): unknown[] => {
      const v = d[key]
      if (v === undefined || v === null) return []
      if (!Array.isArray(v)) { problems.push({ file, path: key, message: 'must be a list' }); return [] }
      return v
    }
    content.members.push(...list('members') as RegistryContent['members'])
    content.services.push(...list('services') as RegistryContent['services'])
    content.access.push(...list('access') as RegistryContent['access'])
    if (d.groups !== undefined && d.groups !== null) {
      if (typeof d.groups !== 'object' || Array.isArray(d.groups)) problems.push({ file, path: 'groups', message: 'must be a mapping' })
      else {
        for (const [group, members] of Object.entries(d.groups)) {
          if (group in content.groups) problems.push({ file, path: `groups.${group}`, message: `group '${group}' is defined twice` })
          content.groups[group] = members as string[]
        }
      }
    }
  }
  if (problems.length > 0) {
    throw new RegistryStoreError('IMPORT_FAILED', `cannot import ${dir}:\n${problems.map(p => `  ${p.file}${p.line === undefined ? '' : ':' + p.line} ${p.path}: ${p.message}`).join('\n')}`, { problems })
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
  ]
  const written: string[] = []
  for (const [name, data] of files) {
    const file = join(dir, name)
    await writeFile(file, comment + stringify(data, { lineWidth: 0 }))
    written.push(file)
  }
  return written
}
