/**
 * The house rules (DESIGN §11), checked by dependency-cruiser against `.dependency-cruiser.json`:
 * no import cycles (type-only imports included) and none of the forbidden arrows between parts
 * (an adapter importing the gateway, the message log importing the gateway, the pipeline importing
 * the HTTP edge…). A second test cruises a small tree that breaks the rules on purpose, so a rule
 * that silently stopped matching would fail here too.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { cruise, type ICruiseOptions, type ICruiseResult } from 'dependency-cruiser'
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options'
import t from 'tap'

const REPO = resolve(import.meta.dirname, '..')
const PARTS = ['protocol', 'adapters', 'schemas', 'certs', 'messagelog', 'registry', 'config', 'gateway', 'admin', 'cli', 'demo', 'bin', 'bench', 'test', 'conformance']

async function violations (baseDir: string, files: string[], options: ICruiseOptions): Promise<Array<{ rule: string; from: string; to: string }>> {
  const result = (await cruise(files, { ...options, baseDir, validate: true })).output as ICruiseResult
  return result.summary.violations.map(v => ({ rule: v.rule.name, from: v.from, to: v.to }))
}

t.test('the code keeps the house rules: no cycles, no forbidden arrows', async t => {
  const options = await extractDepcruiseOptions(join(REPO, '.dependency-cruiser.json'))
  const found = await violations(REPO, PARTS, options)
  t.same(found, [], found.map(v => `${v.rule}: ${v.from} → ${v.to}`).join('\n') || 'no violations')
})

t.test('the rules bite: a tree that breaks them is reported', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'ura-arch-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const files: Record<string, string> = {
    'gateway/pipeline/exchange.ts': 'export interface Exchange { id: string }\n',
    'gateway/edge/route.ts': "import type { Exchange } from '../pipeline/exchange.ts'\nexport const route = (e: Exchange): string => e.id\n",
    // An adapter that reaches into the gateway, as adapters/types.ts once did.
    'adapters/types.ts': "import type { Exchange } from '../gateway/pipeline/exchange.ts'\nexport type Call = Exchange\n",
    // The wire vocabulary importing anything of ura.
    'protocol/errors.ts': "import { route } from '../gateway/edge/route.ts'\nexport const x = route\n",
    // The pipeline importing the edge, and a cycle through a type-only import.
    'gateway/pipeline/stages.ts': "import { route } from '../edge/route.ts'\nimport type { Back } from './back.ts'\nexport const s = route\nexport type Forth = Back\n",
    'gateway/pipeline/back.ts': "import type { Forth } from './stages.ts'\nexport type Back = Forth | string\n",
    'messagelog/recorder.ts': "import type { Exchange } from '../gateway/pipeline/exchange.ts'\nexport type R = Exchange\n",
    // The admin API reaching into the gateway, and the registry importing the admin API.
    'admin/server.ts': "import type { Exchange } from '../gateway/pipeline/exchange.ts'\nexport type A = Exchange\n",
    'registry/store.ts': "import type { A } from '../admin/server.ts'\nexport type S = A\n",
  }
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true })
    await writeFile(join(dir, name), text)
  }
  const options = await extractDepcruiseOptions(join(REPO, '.dependency-cruiser.json'))
  delete options.tsConfig
  const found = await violations(dir, ['gateway', 'adapters', 'protocol', 'messagelog', 'admin', 'registry'], options)
  const has = (rule: string, from: string, to: string): boolean => found.some(v => v.rule === rule && v.from === from && v.to === to)
  t.ok(has('adapters-know-no-gateway', 'adapters/types.ts', 'gateway/pipeline/exchange.ts'), 'adapter → gateway')
  t.ok(has('protocol-imports-nothing', 'protocol/errors.ts', 'gateway/edge/route.ts'), 'protocol → gateway')
  t.ok(has('pipeline-not-edge', 'gateway/pipeline/stages.ts', 'gateway/edge/route.ts'), 'pipeline → edge')
  t.ok(has('messagelog-never-gateway', 'messagelog/recorder.ts', 'gateway/pipeline/exchange.ts'), 'message log → gateway')
  t.ok(has('admin-not-gateway', 'admin/server.ts', 'gateway/pipeline/exchange.ts'), 'admin → gateway')
  t.ok(has('nothing-below-imports-admin', 'registry/store.ts', 'admin/server.ts'), 'registry → admin')
  t.ok(found.some(v => v.rule === 'no-cycles' && v.from.startsWith('gateway/pipeline/')), `a cycle through type-only imports (${JSON.stringify(found.filter(v => v.rule === 'no-cycles'))})`)
})
