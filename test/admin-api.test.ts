/**
 * The admin API against a real listener over TLS on loopback, a real embedded registry store and a
 * real signed audit trail: operators identified by API token and by operator certificate (and
 * refused on the next request once the token is withdrawn, the certificate unpinned or revoked, or
 * the operator disabled), If-Match (428, 412), validation (unknown fields, path tricks, sizes),
 * store refusals (422) and a store failure in the middle of a commit, member scope, the resources,
 * the OpenAPI document, the plugin scopes, and the audit trail of a mixed session (`ura audit verify`);
 * and the same API on the PostgreSQL registry store, where another client of the database sees each change.
 */
import { request as httpsRequest } from 'node:https'
import t, { type Test } from 'tap'
import { Validator } from '@seriousme/openapi-schema-validator'
import { createRootCa, generateKeyPair, issueCertificate } from '../certs/pki.ts'
import { commitChange } from '../admin/change.ts'
import { authorize } from '../admin/roles.ts'
import type { AdminPlugin } from '../admin/server.ts'
import { auditVerify } from '../cli/audit.ts'
import { openRegistryStore } from '../registry/store/index.ts'
import { CIVIL, E_ALBANIA_CLIENT, nid, startAdminRig, TIRANA, type AdminRig, type Answer } from './support/admin.ts'
import { scratchDatabase } from './support/postgres.ts'

const TIRANA_P = TIRANA.replaceAll('/', ':')
const CIVIL_P = CIVIL.replaceAll('/', ':')
const TAX = 'AL-DEV:NJQV:L21603004L:taksat-vendore:detyrimet'
const CIVIL_SERVICE = 'AL-DEV:GOV:L01417001D:regjistri-civil:kerkoShtetas@v1'

/** Set by a test: the next commit fails inside the store's transaction, after the version row is written. */
let failCommit = false

/** A plugin as another part of admin/ writes one: an authenticated route taking an action through authorize and commitChange. */
const plugin: AdminPlugin = async (app, ctx) => {
  app.post('/prova/outbox', { config: { action: 'outbox.list' } }, async (request, reply) => {
    const grant = authorize(request, 'outbox.list')
    const v = await commitChange(ctx, request, {
      action: 'outbox.list',
      target: 'outbox',
      change: c => { c.outbox.push({ id: `n${c.outbox.length + 1}`, at: '2026-03-01T10:00:00Z', to: ['operators:system-administrator'], subject: 'prova', body: 'prova' }); return c },
    })
    return reply.code(201).send({ version: v.version, role: grant.role })
  })
}
const publicPlugin: AdminPlugin = async app => { app.get('/apliko/ping', async () => ({ ok: true })) }

let rig: AdminRig
t.before(async () => {
  rig = await startAdminRig({
    duringCommit: () => { if (failCommit) { failCommit = false; throw new Error('the disk is full') } },
    plugins: [plugin],
    publicPlugins: [publicPlugin],
    publicRate: { perSecond: 0.5, burst: 3 },
  })
})
t.teardown(() => rig.close())

const as = (operator: string): { token: string } => ({ token: rig.tokens[operator] })
const reason = (text = 'test'): Record<string, string> => ({ 'x-ura-reason': text })
const etagOf = async (path: string, operator = 'sa'): Promise<string> => {
  const res = await rig.call('GET', path, as(operator))
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.text}`)
  return res.headers.etag as string
}
const version = async (): Promise<number> => (await rig.store.current()).version

function refused (t: Test, res: Answer, status: number, type: string, what: string): void {
  t.equal(res.status, status, `${what}: ${status}`)
  t.equal(res.json?.type, type, `${what}: ${type}`)
  t.equal(typeof res.json?.message, 'string', `${what}: a message`)
  t.equal(res.json?.detail?.requestId, res.headers['x-request-id'], `${what}: the detail names the request`)
}

t.test('the listener speaks HTTPS with the node certificate; an API token identifies its operator', async t => {
  t.match(rig.url, /^https:\/\/127\.0\.0\.1:\d+$/, 'HTTPS on its own port')
  t.not(Number(new URL(rig.url).port), rig.config.node.listen.port, 'never the exchange port')
  const me = await rig.call('GET', '/admin/v1/me', as('sa'))
  t.equal(me.status, 200)
  t.same(me.json, { id: 'sa', name: 'Test operator sa', roles: [{ role: 'system-administrator' }], via: 'token', tokenId: 'sa-test' })
  t.ok(me.headers.etag, 'every resource has an ETag')

  refused(t, await rig.call('GET', '/admin/v1/me'), 401, 'Admin.Unauthenticated', 'no credential')
  const wrong = rig.tokens.sa.slice(0, -4) + (rig.tokens.sa.endsWith('0000') ? '1111' : '0000')
  refused(t, await rig.call('GET', '/admin/v1/me', { token: wrong }), 401, 'Admin.Unauthenticated', 'the right id with a wrong secret')
  refused(t, await rig.call('GET', '/admin/v1/me', { token: `ura_nobody_${'a'.repeat(64)}` }), 401, 'Admin.Unauthenticated', 'an unknown token id')
  refused(t, await rig.call('GET', '/admin/v1/me', { headers: { authorization: 'Basic c2E6c2E=' } }), 401, 'Admin.Unauthenticated', 'not a bearer token')
  refused(t, await rig.call('GET', '/admin/v1/members', { headers: { authorization: `Bearer ${rig.tokens.sa}x` } }), 401, 'Admin.Unauthenticated', 'a token with trailing bytes')
})

t.test('operator certificates: chained to the node CA, pinned to an operator, refused on the next request once unpinned or revoked', async t => {
  const cert = rig.operatorCertificate('Arta Hoxha (siguria)')
  refused(t, await rig.call('GET', '/admin/v1/me', { cert }), 401, 'Admin.Unauthenticated', 'a node certificate pinned to nobody')

  // The security officer pins it to its own operator entry.
  const pin = await rig.call('PUT', '/admin/v1/operators/sec/certificates', { ...as('sec'), body: { certificates: [cert.fingerprint.toUpperCase().match(/../g)!.join(':')] }, headers: { ...reason('pin the new certificate'), 'if-match': await etagOf('/admin/v1/operators/sec') } })
  t.equal(pin.status, 200, pin.text)
  const me = await rig.call('GET', '/admin/v1/me', { cert })
  t.equal(me.status, 200, me.text)
  t.same({ id: me.json.id, via: me.json.via, roles: me.json.roles }, { id: 'sec', via: 'certificate', roles: [{ role: 'security-officer' }] })

  // A certificate from another CA with the same subject is not the node's.
  const foreign = createRootCa()
  const { privateKey, publicKey } = generateKeyPair('ec-p256')
  const stranger = { key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, cert: issueCertificate(foreign, { subject: { CN: 'Arta Hoxha (siguria)' }, publicKey, profile: 'tls-client' }) + foreign.pem }
  refused(t, await rig.call('GET', '/admin/v1/me', { cert: stranger }), 401, 'Admin.Unauthenticated', 'a certificate from another CA')

  // Revoked in the registry: the same (kept-alive) connection is refused on its next request.
  const v = await rig.store.current()
  const content = structuredClone(v.content)
  content.revocations.push({ serial: cert.serial, issuer: cert.issuer, subject: 'CN=Arta Hoxha (siguria)', revokedAt: '2026-03-01T10:00:00Z', reason: 'key compromise' })
  await rig.store.commit(content, { who: 'test', why: 'revoke', expectedVersion: v.version })
  const after = await rig.call('GET', '/admin/v1/me', { cert })
  refused(t, after, 401, 'Admin.Unauthenticated', 'a revoked certificate')
  t.match(after.json.message, /revoked/)

  // Unpinned: a second certificate works until the operator's list no longer has it.
  const second = rig.operatorCertificate('Arta Hoxha (e dyta)')
  const repin = await rig.call('PUT', '/admin/v1/operators/sec/certificates', { ...as('sa'), body: { certificates: [second.fingerprint] }, headers: { ...reason(), 'if-match': await etagOf('/admin/v1/operators/sec') } })
  t.equal(repin.status, 200, repin.text)
  t.equal((await rig.call('GET', '/admin/v1/me', { cert: second })).status, 200, 'the second certificate works')
  const unpin = await rig.call('PUT', '/admin/v1/operators/sec/certificates', { ...as('sa'), body: { certificates: [] }, headers: { ...reason(), 'if-match': await etagOf('/admin/v1/operators/sec') } })
  t.equal(unpin.status, 200, unpin.text)
  t.notOk('certificates' in unpin.json, 'no certificates left')
  refused(t, await rig.call('GET', '/admin/v1/me', { cert: second }), 401, 'Admin.Unauthenticated', 'an unpinned certificate')
})

t.test('tokens: the secret once, only its hash kept, narrowed by their roles, refused once withdrawn or expired; disabled operators refused', async t => {
  const created = await rig.call('POST', '/admin/v1/operators/svc/tokens', { ...as('sa'), body: { label: 'CI for Tirana', roles: [{ role: 'service-administrator', member: TIRANA }] }, headers: { ...reason(), 'if-match': '*' } })
  t.equal(created.status, 201, created.text)
  t.match(created.json.token, /^ura_svc-[0-9a-f]{8}_[0-9a-f]{64}$/, 'the secret is in the answer')
  t.equal(created.headers['cache-control'], 'no-store')
  const tokenId = created.json.id as string
  const stored = (await rig.store.current()).content.operators.find(o => o.id === 'svc')!.tokens!.find(x => x.id === tokenId)!
  t.notOk(JSON.stringify(stored).includes(created.json.token.slice(-64)), 'the store never holds the secret')
  const listed = await rig.call('GET', '/admin/v1/operators/svc/tokens', as('obs'))
  t.equal(listed.status, 200)
  t.notOk(listed.text.includes(stored.sha256) || listed.text.includes(created.json.token), 'neither secret nor hash is listed')

  const narrowed = { token: created.json.token as string }
  const me = await rig.call('GET', '/admin/v1/me', narrowed)
  t.same(me.json.roles, [{ role: 'service-administrator', member: TIRANA }], 'the token narrows the operator\'s global role')
  const civilTag = await etagOf(`/admin/v1/services/${CIVIL_SERVICE}`)
  refused(t, await rig.call('PATCH', `/admin/v1/services/${CIVIL_SERVICE}`, { ...narrowed, body: { title: 'x' }, headers: { ...reason(), 'if-match': civilTag } }), 403, 'Admin.Forbidden', 'the narrowed token on another member\'s service')
  const svcOwn = await rig.call('PATCH', `/admin/v1/services/${CIVIL_SERVICE}`, { ...as('svc'), body: { title: 'Kërkim i shtetasit' }, headers: { ...reason(), 'if-match': civilTag } })
  t.equal(svcOwn.status, 200, 'the operator\'s own token keeps the global role')

  const beyond = await rig.call('POST', '/admin/v1/operators/svc/tokens', { ...as('sa'), body: { roles: [{ role: 'system-administrator' }] }, headers: { ...reason(), 'if-match': '*' } })
  refused(t, beyond, 422, 'Admin.InvalidChange', 'a token with a role its operator lacks')

  const tag = await etagOf(`/admin/v1/operators/svc/tokens/${tokenId}`)
  t.equal(tag, created.headers.etag, 'the creation answer carries the token\'s ETag')
  const gone = await rig.call('DELETE', `/admin/v1/operators/svc/tokens/${tokenId}`, { ...as('sec'), headers: { ...reason('withdrawn'), 'if-match': tag } })
  t.equal(gone.status, 204, gone.text)
  refused(t, await rig.call('GET', '/admin/v1/me', narrowed), 401, 'Admin.Unauthenticated', 'a withdrawn token, on the next request')

  // Expired: the expiry is read on every request.
  const v = await rig.store.current()
  const content = structuredClone(v.content)
  content.operators.find(o => o.id === 'obs')!.tokens![0].expiresAt = '2026-01-02T00:00:00Z'
  await rig.store.commit(content, { who: 'test', why: 'expire', expectedVersion: v.version })
  const expired = await rig.call('GET', '/admin/v1/me', as('obs'))
  refused(t, expired, 401, 'Admin.Unauthenticated', 'an expired token')
  t.match(expired.json.message, /expired/)
  const back = structuredClone(content)
  delete back.operators.find(o => o.id === 'obs')!.tokens![0].expiresAt
  await rig.store.commit(back, { who: 'test', why: 'unexpire', expectedVersion: v.version + 1 })

  const disable = await rig.call('PATCH', '/admin/v1/operators/ro', { ...as('sa'), body: { disabled: true }, headers: { ...reason(), 'if-match': await etagOf('/admin/v1/operators/ro') } })
  t.equal(disable.status, 200, disable.text)
  refused(t, await rig.call('GET', '/admin/v1/me', as('ro')), 401, 'Admin.Unauthenticated', 'a disabled operator')
  const enable = await rig.call('PATCH', '/admin/v1/operators/ro', { ...as('sa'), body: { disabled: false }, headers: { ...reason(), 'if-match': await etagOf('/admin/v1/operators/ro') } })
  t.equal(enable.status, 200)
  t.equal((await rig.call('GET', '/admin/v1/me', as('ro'))).status, 200, 'enabled again')

  const lockout = await rig.call('PATCH', '/admin/v1/operators/sa', { ...as('sa'), body: { disabled: true }, headers: { ...reason(), 'if-match': await etagOf('/admin/v1/operators/sa') } })
  refused(t, lockout, 409, 'Admin.Conflict', 'disabling the last system administrator')
})

t.test('writes need If-Match naming the current ETag: 428 without, 412 when stale; who and why are stored', async t => {
  const path = `/admin/v1/members/${TIRANA_P}`
  const v0 = await version()
  const before = await rig.call('GET', path, as('ro'))
  t.same(before.json, { id: TIRANA_P, class: 'NJQV', code: 'L21603004L', name: 'Bashkia Tiranë' })
  refused(t, await rig.call('PATCH', path, { ...as('ro'), body: { name: 'Bashkia e Tiranës' }, headers: reason() }), 428, 'Admin.PreconditionRequired', 'no If-Match')
  refused(t, await rig.call('PATCH', path, { ...as('ro'), body: { name: 'Bashkia e Tiranës' }, headers: { ...reason(), 'if-match': '*' } }), 428, 'Admin.PreconditionRequired', 'If-Match: * on an existing resource')
  const stale = await rig.call('PATCH', path, { ...as('ro'), body: { name: 'Bashkia e Tiranës' }, headers: { ...reason(), 'if-match': '"not-the-tag"' } })
  refused(t, stale, 412, 'Admin.PreconditionFailed', 'a tag that is not current')
  t.equal(stale.json.detail.currentEtag, before.headers.etag, 'the detail names the current tag')
  refused(t, await rig.call('PATCH', path, { ...as('ro'), body: { name: 'Bashkia e Tiranës' }, headers: { 'if-match': before.headers.etag as string } }), 400, 'Admin.InvalidRequest', 'no X-Ura-Reason')
  t.equal(await version(), v0, 'nothing was committed')

  const ok = await rig.call('PATCH', path, { ...as('ro'), body: { name: 'Bashkia e Tiranës' }, headers: { 'x-ura-reason': Buffer.from('emri zyrtar sipas vendimit të këshillit', 'utf8').toString('latin1'), 'if-match': before.headers.etag as string } })
  t.equal(ok.status, 200, ok.text)
  t.equal(ok.json.name, 'Bashkia e Tiranës')
  t.not(ok.headers.etag, before.headers.etag, 'a new ETag')
  t.equal(Number(ok.headers['x-ura-registry-version']), v0 + 1)
  const v = await rig.store.current()
  t.same({ version: v.version, who: v.who, why: v.why }, { version: v0 + 1, who: 'ro', why: 'emri zyrtar sipas vendimit të këshillit' }, 'one version by the operator, with its reason in UTF-8')
  refused(t, await rig.call('PATCH', path, { ...as('ro'), body: { name: 'x' }, headers: { ...reason(), 'if-match': before.headers.etag as string } }), 412, 'Admin.PreconditionFailed', 'the tag read before the change')

  const list = await rig.call('GET', '/admin/v1/members', as('obs'))
  t.equal(list.headers.etag, `"v${v0 + 1}"`, 'a list\'s ETag is the registry version')
  const undo = await rig.call('PATCH', path, { ...as('sa'), body: { name: 'Bashkia Tiranë' }, headers: { ...reason(), 'if-match': ok.headers.etag as string } })
  t.equal(undo.headers.etag, before.headers.etag, 'equal content, equal ETag')
})

/** One request with the path sent exactly as written (no client-side normalisation). */
function rawGet (path: string, token: string): Promise<{ status: number; body: any }> {
  return new Promise((ok, fail) => {
    const url = new URL(rig.url)
    const req = httpsRequest({ host: url.hostname, port: url.port, path, method: 'GET', ca: rig.caPem, headers: { authorization: `Bearer ${token}` }, agent: false }, res => {
      let text = ''
      res.on('data', d => { text += d })
      res.on('end', () => { ok({ status: res.statusCode!, body: text === '' ? undefined : JSON.parse(text) }) })
    })
    req.on('error', fail)
    req.end()
  })
}

t.test('bodies, parameters and paths are validated: unknown fields, wrong values, path tricks, sizes and media types', async t => {
  const v0 = await version()
  const extra = await rig.call('POST', '/admin/v1/members', { ...as('sa'), body: { class: 'NJQV', code: 'J61902003J', name: 'Bashkia Shkodër', motto: 'x' }, headers: { ...reason(), 'if-match': '*' } })
  refused(t, extra, 400, 'Admin.InvalidBody', 'an unknown property')
  t.match(extra.json.detail.problems, [{ path: 'body', message: "unknown property 'motto'" }])
  const badUrl = await rig.call('POST', '/admin/v1/services', { ...as('sa'), body: { provider: `${TIRANA}/taksat-vendore`, code: 'prova', type: 'rest', adapter: { kind: 'rest', url: 'ftp://x' } }, headers: { ...reason(), 'if-match': '*' } })
  refused(t, badUrl, 400, 'Admin.InvalidBody', 'a value breaking the configuration schema')
  t.match(badUrl.json.detail.problems[0].path, 'body.adapter.url')
  refused(t, await rig.call('PATCH', `/admin/v1/services/${TAX}`, { ...as('sa'), body: { provider: CIVIL }, headers: { ...reason(), 'if-match': '*' } }), 400, 'Admin.InvalidBody', 'a service\'s provider cannot be patched')
  refused(t, await rig.call('GET', '/admin/v1/audit?limit=lots', as('obs')), 400, 'Admin.InvalidRequest', 'a query parameter')

  for (const path of [
    '/admin/v1/members/..',
    '/admin/v1/members/%2e%2e',
    '/admin/v1/members/AL-DEV%2FGOV%2FL01417001D',
    '/admin/v1/members/AL-DEV:GOV:..',
    `/admin/v1/services/AL-DEV:GOV:L01417001D:..:kerkoShtetas`,
    '/admin/v1/members/AL-DEV:GOV:L01417001D%00',
    '/admin/v1/members/AL-DEV:GOV:%zz',
  ]) {
    const res = await rawGet(path, rig.tokens.sa)
    t.equal(res.status, 400, `${path}: refused`)
    t.equal(res.body?.type, 'Admin.InvalidRequest', `${path}: Admin.InvalidRequest`)
  }
  const climb = await rawGet(`/admin/v1/members/${CIVIL_P}/../../operators`, rig.tokens.obs)
  t.equal(climb.status, 404, 'dot segments do not climb to another route')
  t.equal(climb.body?.type, 'Admin.NotFound')
  refused(t, await rig.call('GET', `/admin/v1/members/XX:GOV:L01417001D`, as('sa')), 404, 'Admin.NotFound', 'a member of another instance')

  const big = await rig.call('POST', '/admin/v1/groups', { ...as('sa'), raw: JSON.stringify({ name: 'g', clients: [], pad: 'x'.repeat(1100 * 1024) }), headers: { ...reason(), 'if-match': '*', 'content-type': 'application/json' } })
  refused(t, big, 413, 'Admin.BodyTooLarge', 'a body over node.admin.bodyBytes')
  refused(t, await rig.call('POST', '/admin/v1/groups', { ...as('sa'), raw: 'name=g', headers: { ...reason(), 'if-match': '*', 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'Admin.UnsupportedMediaType', 'a form body')
  refused(t, await rig.call('POST', '/admin/v1/groups', { ...as('sa'), raw: '{"name": ', headers: { ...reason(), 'if-match': '*', 'content-type': 'application/json' } }), 400, 'Admin.InvalidBody', 'broken JSON')
  t.equal(await version(), v0, 'nothing was committed')
})

t.test('content the registry cannot hold is refused whole by the store: 422 with every problem; nothing changes', async t => {
  const v0 = await version()
  const del = await rig.call('DELETE', `/admin/v1/members/${TIRANA_P}`, { ...as('sa'), headers: { ...reason(), 'if-match': await etagOf(`/admin/v1/members/${TIRANA_P}`) } })
  refused(t, del, 422, 'Admin.InvalidChange', 'removing a member that still provides services')
  t.ok(del.json.detail.problems.length >= 2, `${del.json.detail.problems.length} problems`)
  t.match(del.json.detail.problems, [{ path: String, message: /L21603004L/ }])
  const grant = await rig.call('PUT', `/admin/v1/grants/${TAX}`, { ...as('sa'), body: { entries: [{ clients: ['AL-DEV/GOV/Q99999999Q/nobody'] }] }, headers: { ...reason(), 'if-match': await etagOf(`/admin/v1/grants/${TAX}`) } })
  refused(t, grant, 422, 'Admin.InvalidChange', 'a grant to a client that is not registered')
  t.equal(await version(), v0, 'nothing was committed')
})

t.test('a store failure in the middle of a commit leaves the previous version current', async t => {
  const path = `/admin/v1/members/${CIVIL_P}`
  const before = await rig.call('GET', path, as('ro'))
  const v0 = await version()
  failCommit = true
  const failed = await rig.call('PATCH', path, { ...as('ro'), body: { name: 'Gjendja Civile' }, headers: { ...reason(), 'if-match': before.headers.etag as string } })
  refused(t, failed, 503, 'Admin.StoreFailed', 'the commit failed inside its transaction')
  t.equal(await version(), v0, 'no new version')
  const now = await rig.call('GET', path, as('ro'))
  t.same(now.json, before.json, 'the member is as it was')
  t.equal(now.headers.etag, before.headers.etag, 'and so is its ETag')
  const record = (await rig.trail.list({ operator: 'ro', action: 'member.update' })).find(r => r.requestId === failed.headers['x-request-id'])
  t.same({ result: record?.result, errorCode: record?.errorCode }, { result: 'refused', errorCode: 'Admin.StoreFailed' }, 'the failure is in the audit trail')
  const again = await rig.call('PATCH', path, { ...as('ro'), body: { name: before.json.name }, headers: { ...reason(), 'if-match': before.headers.etag as string } })
  t.equal(again.status, 200, 'the same change goes through once the store works')
})

t.test('plugins: authenticated routes use authorize and commitChange; public routes need no credential and are rate-limited', async t => {
  refused(t, await rig.call('POST', '/admin/v1/prova/outbox', { headers: reason() }), 401, 'Admin.Unauthenticated', 'an authenticated plugin route without credential')
  refused(t, await rig.call('POST', '/admin/v1/prova/outbox', { ...as('svc'), headers: { ...reason(), 'if-match': '*' } }), 403, 'Admin.Forbidden', 'a role the matrix does not allow')
  refused(t, await rig.call('POST', '/admin/v1/prova/outbox', { ...as('ro'), headers: reason() }), 428, 'Admin.PreconditionRequired', 'commitChange asks for If-Match')
  const ok = await rig.call('POST', '/admin/v1/prova/outbox', { ...as('ro'), headers: { ...reason('njoftim prove'), 'if-match': '*' } })
  t.equal(ok.status, 201, ok.text)
  t.same(ok.json, { version: await version(), role: 'registration-officer' })
  t.equal((await rig.store.current()).content.outbox.length, 1, 'the plugin\'s change is one version')
  t.ok(rig.admin.routes.some(r => r.url === '/admin/v1/prova/outbox' && r.action === 'outbox.list'), 'the plugin\'s route is listed with its action')

  const answers = []
  for (let i = 0; i < 5; i++) answers.push(await rig.call('GET', '/apliko/ping'))
  t.same(answers.slice(0, 3).map(a => a.status), [200, 200, 200], 'a public route answers without credentials')
  const limited = answers[3]
  refused(t, limited, 429, 'Admin.RateLimited', 'past the burst')
  t.ok(Number(limited.headers['retry-after']) >= 1, 'Retry-After')
})

t.test('a member-scoped service administrator manages its own member\'s services, subsystems and officials only', async t => {
  const who = as('svc-tirana')
  const services = await rig.call('GET', '/admin/v1/services', who)
  t.equal(services.status, 200)
  t.ok(services.json.items.length > 0 && services.json.items.every((s: { provider: string }) => s.provider.startsWith(`${TIRANA}/`)), 'the list holds Tirana\'s services only')
  t.ok((await rig.call('GET', '/admin/v1/services', as('obs'))).json.items.some((s: { provider: string }) => s.provider.startsWith(`${CIVIL}/`)), 'an observer sees every member\'s')

  const own = await rig.call('POST', `/admin/v1/services/${TAX}/disable`, { ...who, body: { notice: 'Mirëmbajtje deri në orën 14:00' }, headers: { ...reason(), 'if-match': await etagOf(`/admin/v1/services/${TAX}`) } })
  t.equal(own.status, 200, own.text)
  t.same(own.json.disabled, { notice: 'Mirëmbajtje deri në orën 14:00' })
  const enabled = await rig.call('POST', `/admin/v1/services/${TAX}/enable`, { ...who, headers: { ...reason(), 'if-match': own.headers.etag as string } })
  t.equal(enabled.status, 200)
  t.notOk('disabled' in enabled.json)

  const v0 = await version()
  refused(t, await rig.call('POST', `/admin/v1/services/${CIVIL_SERVICE}/disable`, { ...who, body: { notice: 'x' }, headers: { ...reason(), 'if-match': await etagOf(`/admin/v1/services/${CIVIL_SERVICE}`) } }), 403, 'Admin.Forbidden', 'another member\'s service')
  refused(t, await rig.call('POST', '/admin/v1/services', { ...who, body: { provider: `${CIVIL}/regjistri-civil`, code: 'prova', type: 'rest', adapter: { kind: 'rest', url: 'http://127.0.0.1:9/x' } }, headers: { ...reason(), 'if-match': '*' } }), 403, 'Admin.Forbidden', 'a service for another member')
  refused(t, await rig.call('POST', `/admin/v1/members/${CIVIL_P}/officials`, { ...who, body: { nid: nid('K', '20304050'), name: 'A', role: 'B', validUntil: '2027-01-01' }, headers: { ...reason(), 'if-match': '*' } }), 403, 'Admin.Forbidden', 'another member\'s officials')
  refused(t, await rig.call('POST', '/admin/v1/groups', { ...who, body: { name: 'g', clients: [] }, headers: { ...reason(), 'if-match': '*' } }), 403, 'Admin.Forbidden', 'groups are node-wide')
  refused(t, await rig.call('GET', '/admin/v1/versions', who), 403, 'Admin.Forbidden', 'the registry\'s whole history')
  t.equal(await version(), v0, 'nothing was committed')

  const official = await rig.call('POST', `/admin/v1/members/${TIRANA_P}/officials`, { ...who, body: { nid: nid('J', '10203040'), name: 'Ilir Dervishi', role: 'Nëpunës i shërbimeve', validUntil: '2027-12-31' }, headers: { ...reason(), 'if-match': '*' } })
  t.equal(official.status, 201, official.text)
  t.equal(official.headers.location, `/admin/v1/members/${TIRANA_P}/officials/${nid('J', '10203040')}`)
  const dup = await rig.call('POST', `/admin/v1/members/${TIRANA_P}/officials`, { ...who, body: { nid: nid('J', '10203040'), name: 'x', role: 'y', validUntil: '2027-12-31' }, headers: { ...reason(), 'if-match': '*' } })
  refused(t, dup, 409, 'Admin.Conflict', 'the same official twice')
  const right = nid('K', '30405060')
  const wrong = right.slice(0, 9) + (right.endsWith('A') ? 'B' : 'A')
  const badNid = await rig.call('POST', `/admin/v1/members/${TIRANA_P}/officials`, { ...who, body: { nid: wrong, name: 'x', role: 'y', validUntil: '2027-12-31' }, headers: { ...reason(), 'if-match': '*' } })
  refused(t, badNid, 422, 'Admin.InvalidChange', 'a NID with a wrong check letter (the store\'s cross-checks)')
})

t.test('services: create, replace, merge-patch catalogue metadata, delete; grants per service and in the GovStack shape', async t => {
  const svc = as('svc')
  const body = { provider: `${TIRANA}/taksat-vendore`, code: 'leje-ndertimi', type: 'rest', title: 'Lejet e ndërtimit', adapter: { kind: 'rest', url: 'http://127.0.0.1:4401/api/v1' } }
  const made = await rig.call('POST', '/admin/v1/services', { ...svc, body, headers: { ...reason('shërbim i ri'), 'if-match': `"v${await version()}"` } })
  t.equal(made.status, 201, made.text)
  const id = `${TIRANA_P}:taksat-vendore:leje-ndertimi`
  t.equal(made.headers.location, `/admin/v1/services/${id}`)
  t.same(made.json, { id, ...body })
  refused(t, await rig.call('POST', '/admin/v1/services', { ...svc, body, headers: { ...reason(), 'if-match': '"v1"' } }), 412, 'Admin.PreconditionFailed', 'a creation made on an old registry version')
  refused(t, await rig.call('POST', '/admin/v1/services', { ...svc, body, headers: { ...reason(), 'if-match': '*' } }), 409, 'Admin.Conflict', 'the same service twice')

  const catalogue = { title: { sq: 'Leje ndërtimi', en: 'Building permits' }, category: 'construction' }
  const patched = await rig.call('PATCH', `/admin/v1/services/${id}`, { ...svc, body: { catalogue, timeoutMs: 8000, title: null }, headers: { ...reason(), 'if-match': made.headers.etag as string } })
  t.equal(patched.status, 200, patched.text)
  t.same(patched.json.catalogue, catalogue)
  t.equal(patched.json.timeoutMs, 8000)
  t.notOk('title' in patched.json, 'null removes a field')
  const replaced = await rig.call('PUT', `/admin/v1/services/${id}`, { ...svc, body: { ...body, title: 'Leje' }, headers: { ...reason(), 'if-match': patched.headers.etag as string } })
  t.same(replaced.json, { id, ...body, title: 'Leje' }, 'PUT replaces the whole service')
  refused(t, await rig.call('PUT', `/admin/v1/services/${id}`, { ...svc, body: { ...body, code: 'tjeter' }, headers: { ...reason(), 'if-match': replaced.headers.etag as string } }), 400, 'Admin.InvalidBody', 'a PUT naming another service')

  // Grants: an allow to e-Albania on one endpoint, and a deny for Durrës.
  const gpath = `/admin/v1/grants/${id}`
  const empty = await rig.call('GET', gpath, svc)
  t.same(empty.json.entries, [], 'a defined service without grants')
  const entries = [{ clients: [E_ALBANIA_CLIENT], endpoints: [{ method: 'GET', path: '/leje/*' }] }, { effect: 'deny', clients: ['AL-DEV/NJQV/M51305009K/ndihma-sociale'] }]
  const put = await rig.call('PUT', gpath, { ...svc, body: { entries }, headers: { ...reason(), 'if-match': empty.headers.etag as string } })
  t.equal(put.status, 200, put.text)
  t.same(put.json.entries, [{ ...entries[0], groups: [] }, { ...entries[1], groups: [] }])
  const stored = (await rig.store.current()).content.access.filter(g => g.service === `${TIRANA}/taksat-vendore/leje-ndertimi`)
  t.equal(stored.length, 2, 'two grant entries in the registry')

  const right = [{ memberClass: 'NJQV', memberCode: 'L21603004L', applicationId: 'taksat-vendore', serviceId: 'leje-ndertimi', rights: [{ memberClass: 'NJQV', memberCode: 'M51305009K', applicationId: 'ndihma-sociale' }] }]
  const allow = await rig.call('PATCH', '/admin/v1/rights/allow', { ...svc, body: right, headers: { ...reason(), 'if-match': '*' } })
  t.equal(allow.status, 200, allow.text)
  const allowed = await rig.call('GET', '/admin/v1/rights/allow?memberCode=L21603004L&serviceId=leje-ndertimi', as('obs'))
  t.same(allowed.json.allowList, right, 'Durrës moved from the deny list to the allow list (GovStack shape)')
  const paged = await rig.call('GET', '/admin/v1/rights/allow?pageSize=1', as('obs'))
  t.equal(paged.json.allowList.length, 1, 'one pair per page')
  const page2 = await rig.call('GET', `/admin/v1/rights/allow?pageSize=1&nextPageToken=${paged.json.nextPageToken}`, as('obs'))
  t.equal(page2.json.allowList.length, 1, 'the next page')
  t.not(JSON.stringify(page2.json.allowList), JSON.stringify(paged.json.allowList))
  t.same((await rig.call('GET', '/admin/v1/rights/deny?serviceId=leje-ndertimi', as('obs'))).json.denyList, [])
  const deny = await rig.call('PATCH', '/admin/v1/rights/deny', { ...as('svc-tirana'), body: right, headers: { ...reason(), 'if-match': '*' } })
  t.equal(deny.status, 200, deny.text)
  t.same((await rig.call('GET', '/admin/v1/rights/deny?serviceId=leje-ndertimi', as('obs'))).json.denyList, right)
  refused(t, await rig.call('PATCH', '/admin/v1/rights/allow', { ...as('svc-tirana'), body: [{ ...right[0], memberClass: 'GOV', memberCode: 'L01417001D', applicationId: 'regjistri-civil', serviceId: 'kerkoShtetas' }], headers: { ...reason(), 'if-match': '*' } }), 403, 'Admin.Forbidden', 'rights on another member\'s service')

  const del = await rig.call('DELETE', `/admin/v1/services/${id}`, { ...svc, headers: { ...reason(), 'if-match': await etagOf(`/admin/v1/services/${id}`) } })
  refused(t, del, 422, 'Admin.InvalidChange', 'a service still granted')
  t.equal((await rig.call('DELETE', gpath, { ...svc, headers: { ...reason(), 'if-match': await etagOf(gpath) } })).status, 204)
  t.equal((await rig.call('DELETE', `/admin/v1/services/${id}`, { ...svc, headers: { ...reason(), 'if-match': await etagOf(`/admin/v1/services/${id}`) } })).status, 204)
  refused(t, await rig.call('GET', `/admin/v1/services/${id}`, svc), 404, 'Admin.NotFound', 'a deleted service')
})

t.test('versions: listed with who and why, read, diffed, rolled back as a new version', async t => {
  const list = await rig.call('GET', '/admin/v1/versions', as('obs'))
  t.equal(list.status, 200)
  const current = list.json.current as number
  t.equal(list.json.items.at(-1).version, current)
  t.same(list.json.items[0], { version: 1, who: 'test', when: list.json.items[0].when, why: 'the test registry' })
  const one = await rig.call('GET', '/admin/v1/versions/1', as('obs'))
  t.equal(one.json.content.members.length, rig.config.members.length, 'the members the registry was seeded with')
  const diff = await rig.call('GET', `/admin/v1/versions/1/diff/${current}`, as('obs'))
  t.equal(diff.status, 200)
  t.ok(diff.json.services.changed.length + diff.json.services.added.length > 0, 'the services changed since version 1')
  refused(t, await rig.call('GET', '/admin/v1/versions/99999', as('obs')), 404, 'Admin.NotFound', 'no such version')
  refused(t, await rig.call('POST', '/admin/v1/versions/1/rollback', { ...as('sa'), headers: { ...reason(), 'if-match': '*' } }), 428, 'Admin.PreconditionRequired', 'a rollback names the version it undoes')
  refused(t, await rig.call('POST', '/admin/v1/versions/1/rollback', { ...as('sa'), headers: { ...reason(), 'if-match': '"v1"' } }), 412, 'Admin.PreconditionFailed', 'a rollback made on an old version')
  refused(t, await rig.call('POST', '/admin/v1/versions/1/rollback', { ...as('obs'), headers: { ...reason(), 'if-match': list.headers.etag as string } }), 403, 'Admin.Forbidden', 'an observer')
  const back = await rig.call('POST', `/admin/v1/versions/${current}/rollback`, { ...as('sa'), headers: { ...reason('no change'), 'if-match': list.headers.etag as string } })
  t.equal(back.status, 200, back.text)
  t.equal(back.json.version, current, 'rolling back to the current content changes nothing')
})

t.test('the OpenAPI 3.1 document is made from the validating schemas and served with Swagger UI', async t => {
  const doc = await rig.call('GET', '/admin/docs/json')
  t.equal(doc.status, 200)
  t.equal(doc.json.openapi, '3.1.0')
  const result = await new Validator().validate(doc.json)
  t.ok(result.valid, JSON.stringify(result.errors ?? []).slice(0, 500))
  const patch = doc.json.paths['/admin/v1/members/{member}'].patch
  t.equal(patch.requestBody.content['application/json'].schema.additionalProperties, false, 'the body schema that validates')
  t.match(patch.description, /member\.update.*system-administrator, registration-officer/)
  t.ok(doc.json.paths['/admin/v1/rights/allow'].patch, 'the GovStack shape is documented')
  t.ok(doc.json.components.securitySchemes.operatorCertificate, 'mutual TLS is a security scheme')
  const ui = await rig.call('GET', '/admin/docs')
  t.equal(ui.status, 200)
  t.match(ui.text, /swagger/i)
})

t.test('every request, allowed or refused, is one signed record in the audit trail; ura audit verify passes', async t => {
  const session: Array<[Answer, string, string | null]> = []
  const note = async (p: Promise<Answer>, action: string, operator: string | null): Promise<Answer> => { const a = await p; session.push([a, action, operator]); return a }
  await note(rig.call('GET', '/admin/v1/node', as('obs')), 'node.read', 'obs')
  await note(rig.call('GET', '/admin/v1/operators'), 'operator.list', null)
  await note(rig.call('GET', '/admin/v1/operators', as('ro')), 'operator.list', 'ro')
  await note(rig.call('GET', '/admin/v1/nothing-here', as('obs')), 'unknown', 'obs')
  const tag = await etagOf(`/admin/v1/members/${CIVIL_P}`)
  await note(rig.call('PATCH', `/admin/v1/members/${CIVIL_P}`, { ...as('ro'), body: { name: 'DPGJC' }, headers: { ...reason(), 'if-match': '"old"' } }), 'member.update', 'ro')
  await note(rig.call('PATCH', `/admin/v1/members/${CIVIL_P}`, { ...as('ro'), body: { name: 'DPGJC', x: 1 }, headers: { ...reason(), 'if-match': tag } }), 'member.update', 'ro')
  const ok = await note(rig.call('PATCH', `/admin/v1/members/${CIVIL_P}`, { ...as('ro'), body: { name: 'Drejtoria e Përgjithshme e Gjendjes Civile (DPGJC)' }, headers: { ...reason(), 'if-match': tag } }), 'member.update', 'ro')
  t.equal(ok.status, 200)

  const records = await rig.trail.list({})
  for (const [answer, action, operator] of session) {
    const id = answer.headers['x-request-id']
    const mine = records.filter(r => r.requestId === id)
    t.equal(mine.length, 1, `${action} (${answer.status}): one record`)
    const r = mine[0]
    t.equal(r.action, action)
    t.equal(r.operator, operator ?? 'anonymous')
    t.equal(r.result, answer.status < 400 ? 'allowed' : 'refused')
    t.equal(r.errorCode, answer.status < 400 ? null : answer.json.type)
  }
  const change = records.find(r => r.requestId === ok.headers['x-request-id'])!
  t.same({ target: change.target, role: change.role }, { target: CIVIL, role: 'registration-officer' })
  t.ok(change.beforeDigest !== null && change.afterDigest !== null && change.beforeDigest !== change.afterDigest, 'the member before and after, digested')
  const forbidden = records.find(r => r.requestId === session[2][0].headers['x-request-id'])!
  t.equal(forbidden.errorCode, 'Admin.Forbidden')

  const page = await rig.call('GET', '/admin/v1/audit?operator=ro&action=member.update&limit=2', as('sec'))
  t.equal(page.status, 200)
  t.equal(page.json.items.length, 2)
  t.ok(page.json.items.every((r: { operator: string; action: string }) => r.operator === 'ro' && r.action === 'member.update'))
  const next = await rig.call('GET', `/admin/v1/audit?operator=ro&action=member.update&after=${page.json.next}`, as('sec'))
  t.ok(next.json.items.length >= 1 && next.json.items[0].seq > page.json.items[1].seq, 'the next page follows')
  const window = await rig.call('GET', `/admin/v1/audit?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, as('sec'))
  t.same(window.json.items, [], 'nothing in the future')
  refused(t, await rig.call('GET', '/admin/v1/audit', as('svc')), 403, 'Admin.Forbidden', 'a service administrator does not read the trail')

  // `ura audit verify --config <dir>`, run in this process (the command's own function), its output captured.
  const printed: string[] = []
  const log = console.log
  console.log = (...args: unknown[]) => { printed.push(args.join(' ')) }
  let code: number
  try {
    code = await auditVerify({ config: rig.config.dir })
  } finally {
    console.log = log
  }
  t.equal(code, 0, 'ura audit verify exits 0')
  t.match(printed.join('\n'), new RegExp(`audit trail \\(embedded\\) verified: ${(await rig.trail.list({})).length} records`))
})

// ---- the PostgreSQL store (cluster mode) ------------------------------------------------------

t.test('PostgreSQL store: one version per change, seen by every client; a failed commit changes nothing', async t => {
  const { url } = await scratchDatabase(t, 'ura_test_admin')
  let fail = false
  const pg = await startAdminRig({ storeUrl: url, duringCommit: () => { if (fail) { fail = false; throw new Error('connection lost mid-commit') } } })
  t.teardown(() => pg.close())
  t.equal(pg.store.kind, 'postgres')
  const other = await openRegistryStore(url, { instance: 'AL-DEV' })
  t.teardown(() => other.close())

  const token = { token: pg.tokens.svc }
  const path = '/admin/v1/services/AL-DEV:NJQV:L21603004L:taksat-vendore:detyrimet'
  const before = await pg.call('GET', path, token)
  t.equal(before.status, 200)
  const node = await pg.call('GET', '/admin/v1/node', token)
  t.equal(node.json.registry.store, 'postgres')

  fail = true
  const failed = await pg.call('PATCH', path, { ...token, body: { timeoutMs: 9000 }, headers: { 'x-ura-reason': 'slower', 'if-match': before.headers.etag as string } })
  t.equal(failed.status, 503)
  t.equal(failed.json.type, 'Admin.StoreFailed')
  t.equal((await other.current()).version, 1, 'the failed change left version 1 current')

  const ok = await pg.call('PATCH', path, { ...token, body: { timeoutMs: 9000 }, headers: { 'x-ura-reason': 'slower', 'if-match': before.headers.etag as string } })
  t.equal(ok.status, 200, ok.text)
  const seen = await other.current()
  t.same({ version: seen.version, who: seen.who, why: seen.why }, { version: 2, who: 'svc', why: 'slower' }, 'another client of the database reads the new version')
  t.equal(seen.content.services.find(s => s.code === 'detyrimet')?.timeoutMs, 9000)
  const stale = await pg.call('PATCH', path, { ...token, body: { timeoutMs: 7000 }, headers: { 'x-ura-reason': 'x', 'if-match': before.headers.etag as string } })
  t.equal(stale.json.type, 'Admin.PreconditionFailed')
  t.equal((await other.current()).version, 2)
})
