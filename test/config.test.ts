import { spawnSync } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t from 'tap'
import { ConfigError, formatProblem, loadConfig } from '../config/load.ts'
import { Registry } from '../registry/registry.ts'
import { PROJECT_SCHEMA_DIR, SchemaLibrary } from '../schemas/library.ts'
import { demoConfig, DEMO_DIR } from './support/gateway.ts'

const URA = resolve(import.meta.dirname, '../bin/ura.js')

async function configDir (files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ura-config-'))
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
  return dir
}

async function problems (files: Record<string, string>): Promise<string[]> {
  try {
    await loadConfig(await configDir(files))
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem)
    throw err
  }
  throw new Error('configuration was accepted')
}

const NODE = 'node:\n  instance: AL-TEST\n'
const MEMBERS = `members:
  - class: NJQV
    code: L21603004L
    name: Bashkia Tiranë
    subsystems:
      - code: taksat
      - code: portali
        connection: http
`
const SERVICE = `services:
  - provider: AL-TEST/NJQV/L21603004L/taksat
    code: detyrimet
    type: rest
    adapter: { kind: rest, url: "http://127.0.0.1:9/api" }
`

function ura (...args: string[]) {
  return spawnSync(process.execPath, [URA, ...args], { encoding: 'utf8', timeout: 30_000 })
}

t.test('the demo configuration loads with defaults applied', async t => {
  const config = await loadConfig(DEMO_DIR)
  t.equal(config.node.instance, 'AL-DEV')
  t.equal(config.node.listen.port, 8443)
  t.equal(config.members.length, 64, 'four in members.yaml, the tax directorate in bridge.yaml, 59 more municipalities in bashki.yaml')
  t.equal(config.sections.subscriptions.length, 62, 'the 61 municipalities\' push subscriptions and e-Albania\'s pull')
  const civil = config.members.find(m => m.code === 'L01417001D')!
  t.equal(civil.subsystems[0].connection, 'mtls', 'mutual TLS unless the config says http')
  const tax = config.services.find(s => s.code === 'detyrimet')!
  t.equal(tax.responseValidation, 'enforce')
  t.equal(tax.bodyLogging, 'digest')
  t.equal(config.access[0].groups[0], 'bashki-gjendje-civile')
})

t.test('minimal configuration: defaults for everything optional', async t => {
  const config = await loadConfig(await configDir({ 'a.yaml': NODE + MEMBERS + SERVICE }))
  t.same(config.node.listen, { host: '127.0.0.1', port: 8080 })
  t.equal(config.services[0].timeoutMs, 30000)
  t.same(config.access, [])
})

t.test('YAML syntax errors name the file and line', async t => {
  const p = await problems({ 'node.yaml': NODE, 'bad.yaml': 'members:\n  - class: GOV\n    code: [unclosed\n' })
  t.equal(p.length >= 1, true)
  t.match(p[0], /bad\.yaml:\d+:\d+ .*YAML syntax/)
})

t.test('schema violations name file, line, path and the problem', async t => {
  const p = await problems({
    'node.yaml': NODE,
    'members.yaml': MEMBERS,
    'services.yaml': SERVICE.replace('"http://127.0.0.1:9/api"', '"ftp://x"').replace('type: rest', 'type: rest\n    timeout: 5'),
  })
  t.equal(p.length, 2, p.join('\n'))
  t.ok(p.some(l => /^.*services\.yaml:\d+:\d+ services\[0\]: unknown property 'timeout'$/.test(l)), p.join('\n'))
  t.ok(p.some(l => /services\.yaml:6:\d+ services\[0\]\.adapter\.url: 'ftp:\/\/x' must match pattern/.test(l)), p.join('\n'))
})

t.test('missing required properties and bad identifiers', async t => {
  const p = await problems({ 'a.yaml': NODE + 'members:\n  - class: NJQV\n    name: Bashkia\n  - class: NJQV\n    code: "K 1"\n    name: x\n' })
  t.ok(p.some(l => /members\[0\]: missing required property 'code'/.test(l)), p.join('\n'))
  t.ok(p.some(l => /members\[1\]\.code: 'K 1' must match pattern/.test(l)), p.join('\n'))
})

t.test('cross references are checked after merging', async t => {
  const p = await problems({
    'node.yaml': NODE,
    'members.yaml': MEMBERS,
    'services.yaml': SERVICE + `  - provider: AL-TEST/NJQV/L21603004L/taksat
    code: detyrimet
    type: rest
    adapter: { kind: rest, url: "http://127.0.0.1:9/api" }
  - provider: AL-TEST/GOV/K11503002N/e-albania
    code: kerko
    type: soap
    adapter: { kind: soap, url: "http://127.0.0.1:9/" }
`,
    'access.yaml': `groups:
  bashki: [AL-TEST/NJQV/L21603004L/arkiva]
access:
  - service: AL-TEST/NJQV/L21603004L/taksat/pronat
    clients: [AL-TEST/NJQV/L21603004L/portali]
  - service: AL-TEST/NJQV/L21603004L/taksat/detyrimet
    clients: [AL-TEST/GOV/K11503002N/e-albania]
    groups: [qarqe]
`,
    'second-node.yaml': 'node:\n  instance: AL-DEV\n',
  })
  const text = p.join('\n')
  t.match(text, /second-node\.yaml:\d+:\d+ node: 'node' is already set in .*node\.yaml/)
  t.match(text, /services\.yaml:\d+:\d+ services\[1\]: service AL-TEST\/NJQV\/L21603004L\/taksat\/detyrimet is defined twice/)
  t.match(text, /services\[2\]\.provider: provider AL-TEST\/GOV\/K11503002N\/e-albania is not a registered member or subsystem/)
  t.match(text, /services\[2\]: a soap service needs a wsdl/)
  t.match(text, /groups\.bashki\[0\]: AL-TEST\/NJQV\/L21603004L\/arkiva is not a registered member or subsystem/)
  t.match(text, /access\[0\]\.service: service AL-TEST\/NJQV\/L21603004L\/taksat\/pronat is not defined/)
  t.match(text, /access\[1\]\.clients\[0\]: AL-TEST\/GOV\/K11503002N\/e-albania is not a registered/)
  t.match(text, /access\[1\]\.groups\[0\]: group 'qarqe' is not defined/)
})

t.test('the registry refuses what only it can check', async t => {
  const library = await SchemaLibrary.load([PROJECT_SCHEMA_DIR])
  const config = await demoConfig({
    'services.yaml': s => s
      .replace('kind: rest', 'kind: ftp')
      .replace('xsd: http://ura.gov.al/demo/regjistri-civil/v1', 'xsd: urn:unknown')
      .replace('regjistri-civil.wsdl', 'missing.wsdl'),
  })
  const err = await Registry.build(config, library).catch(e => e)
  t.ok(err instanceof ConfigError)
  const text = err.problems.map(formatProblem).join('\n')
  t.match(text, /service AL-DEV\/NJQV\/L21603004L\/taksat-vendore\/detyrimet: unknown adapter kind 'ftp'/)
  t.match(text, /cannot read wsdl .*missing\.wsdl/)
  t.match(text, /no XSD in the schema library has targetNamespace urn:unknown/)

  const broken = await demoConfig({ 'services.yaml': s => s.replace('#/definitions/subjektParams', '#/definitions/nukEkziston') })
  const err2 = await Registry.build(broken, library).catch(e => e)
  t.match(err2.problems.map(formatProblem).join('\n'), /schema does not compile/)
})

t.test('ura CLI', async t => {
  const ok = ura('config', 'check', DEMO_DIR)
  t.equal(ok.status, 0, ok.stderr)
  t.match(ok.stdout, /valid — instance AL-DEV, 64 members, 133 client ids, 65 services, 4 grants/)

  const dir = await configDir({ 'node.yaml': NODE, 'services.yaml': SERVICE })
  const bad = ura('config', 'check', dir)
  t.equal(bad.status, 1)
  t.match(bad.stderr, /1 problem\n/)
  t.match(bad.stderr, /services\.yaml:2:\d+ services\[0\]\.provider: provider AL-TEST\/NJQV\/L21603004L\/taksat is not a registered member or subsystem/)

  for (const args of [['--help'], ['start', '--help'], ['config', 'check', '--help']]) {
    const help = ura(...args)
    t.equal(help.status, 0, args.join(' '))
    t.match(help.stdout, /Usage/)
  }
  const unknown = ura('launch')
  t.equal(unknown.status, 2)
  t.match(unknown.stderr, /ura config check <dir>/)
  t.equal(ura('config', 'check').status, 2, 'missing argument')
})

t.test('node.log.signing: immediate by default; deferred takes signWithinMs, and only on the embedded log', async t => {
  const plain = await loadConfig(await configDir({ 'a.yaml': NODE + MEMBERS + SERVICE }))
  t.equal(plain.node.log.signing, 'immediate')
  t.equal(plain.node.log.signWithinMs, 200)
  const deferred = await loadConfig(await configDir({ 'a.yaml': NODE + '  log:\n    signing: deferred\n    signWithinMs: 50\n' + MEMBERS + SERVICE }))
  t.equal(deferred.node.log.signing, 'deferred')
  t.equal(deferred.node.log.signWithinMs, 50)
  const p = await problems({ 'a.yaml': NODE + '  log:\n    store: postgres\n    url: postgres://127.0.0.1/ura\n    signing: deferred\n' + MEMBERS + SERVICE })
  t.equal(p.length, 1, p.join('\n'))
  t.match(p[0], /a\.yaml:\d+:\d+ node\.log\.signing: deferred signing is offered by the embedded message log only/)
  const zero = await problems({ 'a.yaml': NODE + '  log:\n    signing: deferred\n    signWithinMs: 0\n' + MEMBERS + SERVICE })
  t.match(zero.join('\n'), /node\.log\.signWithinMs/)
})
