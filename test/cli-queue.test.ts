/**
 * `ura queue …` against a running admin API over TLS with a real delivery queue: the commands run
 * as separate processes (as an operator types them), with the token in $URA_ADMIN_TOKEN; they list
 * queues and dead letters, show a job, and re-drive with a reason that lands in the audit trail,
 * after which the worker delivers the jobs. Refusals of the admin API are exit 1 with their code.
 */
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import t from 'tap'
import { stateDigest } from '../messagelog/audit/index.ts'
import { until } from './internals/delivery-contract.ts'
import { E_ALBANIA_CLIENT, startAdminRig, TIRANA } from './support/admin.ts'

const URA = resolve(import.meta.dirname, '../bin/ura.js')
const QUEUE = `svc.${TIRANA}/taksat-vendore/njoftime`
const job = (n: string): string => `${E_ALBANIA_CLIENT} mesazh-${n}`

const rig = await startAdminRig({ delivery: true })
t.teardown(() => rig.close())
const queue = rig.queue!

function ura (args: string[], token: string | null = rig.tokens.sa): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env.URA_ADMIN_TOKEN
  if (token !== null) env.URA_ADMIN_TOKEN = token
  return new Promise(done => {
    execFile(process.execPath, [URA, ...args], { encoding: 'utf8', timeout: 30_000, env }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
    })
  })
}
const at = ['--config', rig.config.dir, '--admin', rig.url]

const failing = new Set([job('2'), job('3'), job('4')])
await queue.define(QUEUE, { retry: { limit: 0, delayMs: 1000, backoff: false, maxDelayMs: 1000 }, ttlMs: 0, fifo: false, keepMs: 3_600_000 })
queue.work('svc.', async j => failing.has(j.id) ? { ok: false, error: 'the provider answered 503', retry: false } : { ok: true }, { concurrency: 2 })
await queue.enqueue(['1', '2', '3', '4'].map(n => ({ queue: QUEUE, id: job(n), payload: Buffer.from(`{"njoftim":${n}}`) })))
await until('three dead, one delivered', async () => { const s = (await queue.stats())[0]; return s.dead === 3 && s.delivered === 1 })

t.test('list: a table of the queues, or JSON', async t => {
  const res = await ura(['queue', 'list', ...at])
  t.equal(res.code, 0, res.stderr)
  const [head, row] = res.stdout.trim().split('\n')
  t.match(head, /^QUEUE +QUEUED +ACTIVE +RETRY +DELIVERED +DEAD +OLDEST$/)
  t.same(row.split(/ +/), [QUEUE, '0', '0', '0', '1', '3', '-'])
  const json = await ura(['queue', 'list', ...at, '--json'])
  t.same(JSON.parse(json.stdout)[0].counts, { queued: 0, active: 0, retry: 0, delivered: 1, dead: 3 })
})

t.test('jobs --state dead lists the dead letters; show prints one job', async t => {
  const res = await ura(['queue', 'jobs', QUEUE, '--state', 'dead', ...at])
  t.equal(res.code, 0, res.stderr)
  const lines = res.stdout.trim().split('\n')
  t.match(lines[0], /^ID +STATE +ATTEMPTS +CREATED +LAST ERROR$/)
  t.equal(lines.length, 4)
  for (const n of ['2', '3', '4']) t.ok(lines.some(l => l.startsWith(job(n)) && / dead +1 +\S+ +the provider answered 503$/.test(l)), `job ${n}`)
  t.equal((await ura(['queue', 'jobs', QUEUE, '--limit', '1', ...at, '--json'])).stdout.match(/"id"/g)?.length, 1, '--limit')

  const show = await ura(['queue', 'show', QUEUE, job('2'), ...at])
  t.equal(show.code, 0, show.stderr)
  const j = JSON.parse(show.stdout)
  t.same([j.id, j.state, Buffer.from(j.payload, 'base64').toString()], [job('2'), 'dead', '{"njoftim":2}'])
  const asObserver = JSON.parse((await ura(['queue', 'show', QUEUE, job('2'), ...at], rig.tokens.obs)).stdout)
  t.notOk('payload' in asObserver, 'an observer gets no payload')
})

t.test('refusals: exit 1 with the admin API\'s code; usage errors exit 2', async t => {
  const unknown = await ura(['queue', 'jobs', 'svc.nuk-ka', ...at])
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, /^Admin\.UnknownQueue: no delivery queue is named svc\.nuk-ka$/m)
  const forbidden = await ura(['queue', 'redrive', QUEUE, '--reason', 'prova', ...at], rig.tokens.obs)
  t.equal(forbidden.code, 1)
  t.match(forbidden.stderr, /^Admin\.Forbidden: /m)
  const noToken = await ura(['queue', 'list', ...at], null)
  t.equal(noToken.code, 2)
  t.match(noToken.stderr, /URA_ADMIN_TOKEN/)
  const badToken = await ura(['queue', 'list', ...at], 'ura_x_y')
  t.equal(badToken.code, 1)
  t.match(badToken.stderr, /^Admin\.Unauthenticated: /m)
  const noUrl = await ura(['queue', 'list', '--config', rig.config.dir])
  t.equal(noUrl.code, 2, 'the test configuration listens on port 0: --admin is needed')
  t.match(noUrl.stderr, /--admin/)
  t.equal((await ura(['queue', 'redrive', QUEUE, ...at])).code, 2, '--reason is required')
  t.equal((await ura(['queue', 'jobs', QUEUE, '--state', 'lost', ...at])).code, 2, 'an unknown state')
  const nowhere = await ura(['queue', 'list', ...at.slice(0, 2), '--admin', 'https://127.0.0.1:9'])
  t.equal(nowhere.code, 1)
  t.match(nowhere.stderr, /the admin API cannot be reached/)
  const otherCa = join(rig.dataDir, 'other-ca.pem')
  await writeFile(otherCa, (await import('../certs/pki.ts')).createRootCa().pem)
  const untrusted = await ura(['queue', 'list', '--admin', rig.url, '--ca', otherCa])
  t.equal(untrusted.code, 1, 'a TLS certificate from another CA is refused')
  t.match(untrusted.stderr, /cannot be reached/)
})

t.test('redrive: named jobs, then the rest, with the reason in the audit trail; the worker delivers them', async t => {
  failing.clear()
  const one = await ura(['queue', 'redrive', QUEUE, job('2'), '--reason', 'Zyra e taksave u rikthye', ...at])
  t.equal(one.code, 0, one.stderr)
  t.equal(one.stdout.trim(), `re-drove 1 dead job of ${QUEUE} (1 named)`)
  const rest = await ura(['queue', 'redrive', QUEUE, '--reason', 'all the rest', '--admin', rig.url, '--ca', resolve(rig.pki.keystore.paths.caCert)])
  t.equal(rest.code, 0, rest.stderr)
  t.equal(rest.stdout.trim(), `re-drove 2 dead jobs of ${QUEUE}`, 'with --admin and --ca, no configuration needed')
  await until('all delivered', async () => (await queue.stats())[0].delivered === 4)
  const records = (await rig.trail.list({ limit: 1000 })).filter(r => r.action === 'queue.redrive' && r.result === 'allowed')
  t.same(records.map(r => [r.operator, r.target]), [['sa', `queue ${QUEUE}`], ['sa', `queue ${QUEUE}`]])
  t.equal(records[0].afterDigest, stateDigest({ queue: QUEUE, ids: [job('2')], redriven: 1, reason: 'Zyra e taksave u rikthye' }), 'the reason as typed, UTF-8 intact')
  t.equal(records[1].afterDigest, stateDigest({ queue: QUEUE, ids: null, redriven: 2, reason: 'all the rest' }))
})
