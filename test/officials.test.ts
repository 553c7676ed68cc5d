/**
 * Officials for assisted applications (issue 11, point 5): a member registers the staff who apply on
 * a citizen's behalf, and a service with `requireOfficial` serves only calls whose user id is
 * `AL-<NID>` of an active official of the calling member. This file holds the config rules, the
 * date rule and both protocols' refusals (`Client.InvalidUserId`) against real demo rigs, because
 * the check sits in the one pipeline walk REST and SOAP share.
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError, formatProblem, loadConfig } from '../config/load.ts'
import { ERROR_STATUS } from '../protocol/errors.ts'
import { albanianDate } from '../registry/registry.ts'
import { demoConfig, DURRES_SOCIAL, E_ALBANIA, startRig, TAX_SERVICE, TIRANA_CIVIL, type Rig } from './support/gateway.ts'
import { call, DEMO_ENVELOPE, soapCall, type Answer } from './support/http.ts'

const TAX = `/r1/${TAX_SERVICE}`
const TAX_PATH = `${TAX}/subjekte/K81305012I/detyrime`

/** Officials added to AKSHI (e-albania's member) for the tests: one active, one expired. */
const AKSHI_ACTIVE = 'AL-J85708123R'
const AKSHI_EXPIRED = 'AL-L05122077J'
const AKSHI_OFFICIALS = `    officials:
      - nid: J85708123R
        name: Elira Dervishi
        role: Punonjëse e sportelit e-Albania
        validUntil: 2099-12-31
      - nid: L05122077J
        name: Ilir Gjoka
        role: Punonjës i sportelit e-Albania
        validUntil: 2020-01-01
`
/** The demo's Tirana officials: K16102045M (made active for good here) and H70219045W (expired). */
const TIRANA_ACTIVE = 'AL-K16102045M'
const TIRANA_EXPIRED = 'AL-H70219045W'

const members = (s: string): string => s
  .replace('    name: Agjencia Kombëtare e Shoqërisë së Informacionit (AKSHI)\n', `$&${AKSHI_OFFICIALS}`)
  .replace('validUntil: 2028-12-31', 'validUntil: 2099-12-31')

/** The demo configuration with officials and `requireOfficial` on the named service codes. */
async function officialsRig (requiring: string[]): Promise<Rig> {
  const config = await demoConfig({
    'members.yaml': members,
    'services.yaml': s => requiring.reduce((text, code) => text.replace(`    code: ${code}\n`, `$&    requireOfficial: true\n`), s),
    // Tirana's tax office system may call its own tax service too, so a Tirana official can be tried on REST.
    'access.yaml': s => s + `
  - service: ${TAX_SERVICE}
    clients: [${TIRANA_CIVIL}]
`,
  })
  return startRig({ config })
}

/** The demo kerkoShtetas envelope from another client, with another user id (or none). */
function envelope (opts: { client?: 'tirana' | 'durres'; userId?: string | null } = {}): string {
  let text = DEMO_ENVELOPE.replace('7d1e5c2a-0b3f-4e8a-a6d4-91c2f0e8b357', crypto.randomUUID())
  if (opts.client === 'durres') text = text.replace('<id:memberCode>L21603004L</id:memberCode>', '<id:memberCode>M51305009K</id:memberCode>').replace('<id:subsystemCode>gjendja-civile</id:subsystemCode>', '<id:subsystemCode>ndihma-sociale</id:subsystemCode>')
  if (opts.userId === null) text = text.replace(/\s*<xrd:userId>[^<]*<\/xrd:userId>/, '')
  else if (opts.userId !== undefined) text = text.replace('<xrd:userId>AL-K16102045M</xrd:userId>', `<xrd:userId>${opts.userId}</xrd:userId>`)
  return text
}

function rest (rig: Rig, client: string, userId?: string): Promise<Answer> {
  return call(`${rig.url}${TAX_PATH}`, { headers: { 'X-Road-Client': client, ...(userId === undefined ? {} : { 'X-Road-UserId': userId }) } })
}

function exchangeLines (rig: Rig): Array<Record<string, any>> {
  return rig.logs.map(l => JSON.parse(l)).filter(l => l.msg === 'exchange')
}

async function problems (files: Record<string, string>): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'ura-officials-'))
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
  try {
    await loadConfig(dir)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem)
    throw err
  }
  return []
}

const NODE = 'node:\n  instance: AL-TEST\n'
const member = (officials: string): string => `members:
  - class: NJQV
    code: L21603004L
    name: Bashkia Tiranë
    officials:
${officials}`

t.test('Client.InvalidUserId is a 403: the caller is known and granted, acting for that user is refused', async t => {
  t.equal(ERROR_STATUS['Client.InvalidUserId'], 403)
})

t.test('configuration of officials', async t => {
  t.test('the demo registers two officials for Tirana and requires them nowhere', async t => {
    const config = await demoConfig()
    const tirana = config.members.find(m => m.code === 'L21603004L')!
    t.same(tirana.officials?.map(o => [o.nid, o.validUntil]), [['K16102045M', '2028-12-31'], ['H70219045W', '2025-06-30']])
    t.equal(typeof tirana.officials?.[0].validUntil, 'string', 'YAML dates stay text')
    t.same(config.services.filter(s => s.requireOfficial === true), [])
  })

  t.test('a valid list loads', async t => {
    t.same(await problems({ 'a.yaml': NODE + member('      - { nid: K16102045M, name: Arben Krasniqi, role: Nëpunës, validUntil: 2030-02-28 }\n') }), [])
  })

  t.test('a NID with a wrong check letter is refused by the NID check', async t => {
    const p = await problems({ 'a.yaml': NODE + member('      - { nid: K16102045A, name: Arben Krasniqi, role: Nëpunës, validUntil: 2030-01-01 }\n') })
    t.equal(p.length, 1, p.join('\n'))
    t.match(p[0], /a\.yaml:8:16 members\[0\]\.officials\[0\]\.nid: check letter of NID K16102045A should be M/)
  })

  t.test('a NID of the wrong shape is refused by the schema', async t => {
    const p = await problems({ 'a.yaml': NODE + member('      - { nid: K1610204M, name: Arben Krasniqi, role: Nëpunës, validUntil: 2030-01-01 }\n') })
    t.equal(p.length, 1, p.join('\n'))
    t.match(p[0], /members\[0\]\.officials\[0\]\.nid: 'K1610204M' must match pattern/)
  })

  t.test('a NID listed twice for one member is refused', async t => {
    const p = await problems({
      'a.yaml': NODE + member('      - { nid: K16102045M, name: Arben Krasniqi, role: Nëpunës, validUntil: 2030-01-01 }\n' +
        '      - { nid: K16102045M, name: Arben Krasniqi, role: Specialist, validUntil: 2031-01-01 }\n'),
    })
    t.equal(p.length, 1, p.join('\n'))
    t.match(p[0], /members\[0\]\.officials\[1\]\.nid: official K16102045M is listed twice for member AL-TEST\/NJQV\/L21603004L/)
  })

  t.test('the same person may be an official of two members', async t => {
    const official = '      - { nid: K16102045M, name: Arben Krasniqi, role: Nëpunës, validUntil: 2030-01-01 }\n'
    const second = `  - class: NJQV
    code: M51305009K
    name: Bashkia Durrës
    officials:
${official}`
    t.same(await problems({ 'a.yaml': NODE + member(official) + second }), [])
  })

  t.test('unknown fields, missing fields and impossible dates are refused', async t => {
    const p = await problems({
      'a.yaml': NODE + member('      - { nid: K16102045M, name: Arben Krasniqi, role: Nëpunës, validUntil: 2030-01-01, email: a@b.al }\n' +
        '      - { nid: H70219045W, name: Gëzim Leka, validUntil: 2030-01-01 }\n' +
        '      - { nid: J85708123R, name: Elira Dervishi, role: Nëpunëse, validUntil: 2030-02-30 }\n'),
    })
    t.ok(p.some(l => /officials\[0\]: unknown property 'email'/.test(l)), p.join('\n'))
    t.ok(p.some(l => /officials\[1\]: missing required property 'role'/.test(l)), p.join('\n'))
    // The schema errors stop loading before the cross-checks: the date is checked on its own.
    const date = await problems({ 'a.yaml': NODE + member('      - { nid: J85708123R, name: Elira Dervishi, role: Nëpunëse, validUntil: 2030-02-30 }\n') })
    t.equal(date.length, 1, date.join('\n'))
    t.match(date[0], /officials\[0\]\.validUntil: '2030-02-30' is not a date that exists/)
  })

  t.test('requireOfficial must be a boolean', async t => {
    const p = await problems({
      'a.yaml': NODE + member('      - { nid: K16102045M, name: Arben Krasniqi, role: Nëpunës, validUntil: 2030-01-01 }\n') + `    subsystems: [{ code: taksat }]
services:
  - provider: AL-TEST/NJQV/L21603004L/taksat
    code: detyrimet
    type: rest
    adapter: { kind: rest, url: http://127.0.0.1:1 }
    requireOfficial: yes please
`,
    })
    t.equal(p.length, 1, p.join('\n'))
    t.match(p[0], /services\[0\]\.requireOfficial: must be boolean/)
  })
})

t.test('REST: a service with requireOfficial', async t => {
  const rig = await officialsRig(['detyrimet'])
  t.teardown(() => rig.close())

  t.test('an active official of the calling member passes', async t => {
    const res = await rest(rig, E_ALBANIA, AKSHI_ACTIVE)
    t.equal(res.status, 200, res.text)
    t.equal(res.code, undefined)
    const tirana = await rest(rig, TIRANA_CIVIL, TIRANA_ACTIVE)
    t.equal(tirana.status, 200, 'the official of the subsystem\'s member, whichever subsystem calls')
  })

  for (const [what, client, userId] of [
    ['no user id', E_ALBANIA, undefined],
    ['an unknown NID', E_ALBANIA, 'AL-I50314123V'],
    ['an official of another member', E_ALBANIA, TIRANA_ACTIVE],
    ['an expired official', E_ALBANIA, AKSHI_EXPIRED],
    ['an expired official of the demo', TIRANA_CIVIL, TIRANA_EXPIRED],
    ['a NID without the AL- prefix', E_ALBANIA, 'J85708123R'],
    ['another prefix', E_ALBANIA, 'EE-J85708123R'],
  ] as const) {
    t.test(`${what} is refused with 403 Client.InvalidUserId`, async t => {
      const res = await rest(rig, client, userId)
      t.equal(res.status, 403)
      t.equal(res.code, 'Client.InvalidUserId')
      const body = JSON.parse(res.text)
      t.equal(body.type, 'Client.InvalidUserId')
      t.match(body.message, userId === undefined ? /no user id/ : new RegExp(`user id ${userId}`))
    })
  }

  t.test('access is checked first: an ungranted client learns nothing about officials', async t => {
    const res = await rest(rig, DURRES_SOCIAL, AKSHI_ACTIVE)
    t.equal(res.code, 'Server.ServerProxy.AccessDenied')
  })

  t.test('the refusal is on the exchange line and never reaches the provider', async t => {
    const refused = exchangeLines(rig).filter(l => l.error === 'Client.InvalidUserId')
    t.equal(refused.length, 7, 'one line per refusal')
    t.match(refused.find(l => l.userId === AKSHI_EXPIRED), { client: E_ALBANIA, service: TAX_SERVICE, status: 403 })
    t.ok(refused.every(l => l.providerStatus === undefined), 'no provider call')
    const metrics = await call(`${rig.url}/metrics`)
    const series = metrics.text.split('\n').find(l => l.startsWith('ura_exchanges_total{') && l.includes(`client="${E_ALBANIA}"`) && l.includes('code="Client.InvalidUserId"'))
    t.ok(series, 'counted on /metrics')
    t.match(series, /outcome="rejected"[^}]*\} 6$/, 'six of the refusals came from e-albania, as rejections')
  })

  t.test('the service\'s OpenAPI document says X-Road-UserId is required, and its form', async t => {
    const res = await call(`${rig.url}/r1/AL-DEV/NJQV/L21603004L/taksat-vendore/getOpenAPI?serviceCode=detyrimet`, { headers: { 'X-Road-Client': E_ALBANIA } })
    t.equal(res.status, 200, res.text)
    const doc = JSON.parse(res.text)
    const operations = Object.values(doc.paths as Record<string, Record<string, { parameters?: Array<Record<string, any>> }>>).flatMap(p => Object.values(p))
    t.ok(operations.length > 0)
    for (const op of operations) {
      const userId = op.parameters?.find(p => p.in === 'header' && p.name === 'X-Road-UserId')
      t.match(userId, { required: true, schema: { pattern: '^AL-[A-T][0-9]{8}[A-W]$' } })
    }
  })

  t.test('the SOAP service without requireOfficial ignores the user id', async t => {
    const res = await soapCall(rig.url, envelope({ userId: 'AL-I50314123V' }))
    t.equal(res.status, 200, res.text)
    t.equal(res.code, undefined)
  })
})

t.test('SOAP: a service with requireOfficial', async t => {
  const rig = await officialsRig(['kerkoShtetas'])
  t.teardown(() => rig.close())

  t.test('an active official of the calling member passes (the demo envelope as printed)', async t => {
    const res = await soapCall(rig.url, envelope())
    t.equal(res.status, 200, res.text)
    t.equal(res.code, undefined)
    t.match(res.text, /kerkoShtetasResponse/)
  })

  for (const [what, opts] of [
    ['no user id', { userId: null }],
    ['an unknown NID', { userId: 'AL-I50314123V' }],
    ['an official of another member', { client: 'durres', userId: TIRANA_ACTIVE }],
    ['an expired official', { userId: TIRANA_EXPIRED }],
  ] as const) {
    t.test(`${what} is refused with a Client.InvalidUserId Fault`, async t => {
      const res = await soapCall(rig.url, envelope(opts))
      t.equal(res.status, 500, 'SOAP 1.1 Faults travel as 500')
      t.equal(res.code, 'Client.InvalidUserId')
    })
  }

  t.test('the refusal is on the exchange line', async t => {
    const refused = exchangeLines(rig).filter(l => l.error === 'Client.InvalidUserId')
    t.equal(refused.length, 4)
    t.ok(refused.every(l => l.protocol === 'soap'))
  })

  t.test('the OpenAPI document of a service without requireOfficial leaves X-Road-UserId optional', async t => {
    const res = await call(`${rig.url}/r1/AL-DEV/NJQV/L21603004L/taksat-vendore/getOpenAPI?serviceCode=detyrimet`, { headers: { 'X-Road-Client': E_ALBANIA } })
    const doc = JSON.parse(res.text)
    const operations = Object.values(doc.paths as Record<string, Record<string, { parameters?: Array<Record<string, any>> }>>).flatMap(p => Object.values(p))
    t.ok(operations.length > 0)
    for (const op of operations) t.notOk(op.parameters?.find(p => p.in === 'header' && p.name === 'X-Road-UserId')?.required)
  })

  t.test('the REST service without requireOfficial ignores the user id', async t => {
    t.equal((await rest(rig, E_ALBANIA)).status, 200)
    t.equal((await rest(rig, E_ALBANIA, 'AL-I50314123V')).status, 200)
  })

  t.test('an official is active up to and including validUntil, by the date in Albania', async t => {
    const registry = rig.gateway.context.registry
    const client = registry.findClient({ instance: 'AL-DEV', memberClass: 'NJQV', memberCode: 'L21603004L', subsystemCode: 'gjendja-civile' })!
    const member = registry.findClient({ instance: 'AL-DEV', memberClass: 'NJQV', memberCode: 'L21603004L' })!
    const at = (iso: string): Date => new Date(iso)
    // H70219045W is valid until 2025-06-30; Albania is UTC+2 in summer.
    t.ok(registry.isActiveOfficial(client, TIRANA_EXPIRED, at('2025-06-30T21:59:59Z')), 'last second of the day in Tirana')
    t.notOk(registry.isActiveOfficial(client, TIRANA_EXPIRED, at('2025-06-30T22:00:00Z')), 'midnight in Tirana, still 30 June in UTC')
    t.ok(registry.isActiveOfficial(client, TIRANA_EXPIRED, at('2024-01-01T00:00:00Z')))
    t.ok(registry.isActiveOfficial(member, TIRANA_EXPIRED, at('2025-01-01T00:00:00Z')), 'the member itself has the same officials')
    t.notOk(registry.isActiveOfficial(client, undefined, at('2024-01-01T00:00:00Z')))
    t.equal(albanianDate(at('2025-12-31T23:30:00Z')), '2026-01-01', 'winter: UTC+1')
  })
})
