import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t from 'tap'
import { Agent, request } from 'undici'
import { demoConfig, DEMO_DIR, E_ALBANIA, startRig, TAX_SERVICE } from './support/gateway.ts'

t.test('health and readiness', async t => {
  const rig = await startRig()
  t.teardown(() => rig.close())
  const health = await request(`${rig.url}/healthz`)
  t.equal(health.statusCode, 200)
  t.same(await health.body.json(), { status: 'ok' })
  const ready = await request(`${rig.url}/readyz`)
  t.equal(ready.statusCode, 200)
  t.match(await ready.body.json(), { status: 'ready', instance: 'AL-DEV', services: 2, clients: 13 })

  const missing = await request(`${rig.url}/nuk-ekziston`)
  t.equal(missing.statusCode, 400)
  t.equal(missing.headers['x-road-error'], 'Client.BadRequest')
  t.match(await missing.body.json(), { type: 'Client.BadRequest', detail: missing.headers['x-road-request-id'] })
})

t.test('shutdown drains: the exchange in flight completes, new work is refused', async t => {
  let release: () => void = () => {}
  const held = new Promise<void>(r => { release = r })
  const slow = createServer(async (req, res) => {
    await held
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ subjekti: { id: 'K81305012I', emri: 'X' }, bashkia: 'Tiranë', viti: 2026, detyrime: [], totaliPapaguar: 0 }))
  })
  slow.listen(0, '127.0.0.1')
  await once(slow, 'listening')
  t.teardown(() => { slow.closeAllConnections(); slow.close() })
  const port = (slow.address() as { port: number }).port
  const config = await demoConfig({ 'services.yaml': s => s.replace('url: http://127.0.0.1:4401/api/v1', `url: http://127.0.0.1:${port}/api/v1`) })
  const rig = await startRig({ config })

  const inFlight = request(`${rig.url}/r1/${TAX_SERVICE}/subjekte/K81305012I/detyrime`, { headers: { 'X-Road-Client': E_ALBANIA } })
  await new Promise(r => setTimeout(r, 100))
  const closing = rig.close()
  await new Promise(r => setTimeout(r, 50))
  t.equal(rig.gateway.context.ready, false, 'not ready while draining')
  const refused = await request(`${rig.url}/healthz`).then(() => 'answered', (e: { code?: string }) => e.code)
  t.equal(refused, 'ECONNREFUSED', 'new connections are refused')
  release()
  const released = Date.now()
  const res = await inFlight
  t.equal(res.statusCode, 200, 'the exchange in flight finished')
  t.equal((await res.body.json() as { bashkia: string }).bashkia, 'Tiranë')
  // The client keeps its connection alive: the close must not wait for the grace period (30 s) to end it.
  await closing
  const closedMs = Date.now() - released
  t.ok(closedMs < 10_000, `closed ${closedMs} ms after the last exchange finished, not at the grace period's end`)
})

/** The demo's observer (config/demo/operators.yaml; published in docs/admin-api.md). */
const DEMO_OBSERVER = 'ura_vezhguesi-demo_d30eca9c5839c8f93e05f7c43482f5286bfd75c27890583611d303d6cc58ffa2'

t.test('ura start runs the gateway and its admin API (reading the node\'s message log and health), and stops cleanly on SIGTERM', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'ura-start-'))
  for (const name of await readdir(DEMO_DIR)) {
    const text = (await readFile(join(DEMO_DIR, name), 'utf8'))
      .replace(/port: 844[34]\b[^\n}]*/g, 'port: 0')
      .replace(/dataDir: .*/, 'dataDir: data')
      .replaceAll('../../schemas/', resolve(DEMO_DIR, '../../schemas') + '/')
    await writeFile(join(dir, name), text)
  }
  const bin = resolve(import.meta.dirname, '../bin/ura.js')
  const init = spawnSync(process.execPath, [bin, 'init', '--config', dir], { encoding: 'utf8', timeout: 60_000 })
  t.equal(init.status, 0, init.stderr)
  const child = spawn(process.execPath, [bin, 'start', '--config', dir], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', d => { out += d })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 20_000)
    child.stdout.on('data', () => {
      const m = /Server listening at (https:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m !== null) { clearTimeout(timer); resolve(m[1]) }
    })
  })
  // Readiness needs no client certificate; the probe does not check the dev CA (TLS is tested elsewhere).
  const insecure = new Agent({ connect: { rejectUnauthorized: false } })
  const ready = await request(`${url}/readyz`, { dispatcher: insecure })
  t.equal(ready.statusCode, 200)
  await ready.body.dump()
  // The admin API (listening before the exchange port) reads the node's message log and health.
  const admin = /admin API listening at (https:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1]
  t.ok(admin, 'the admin API listens')
  const traffic = await request(`${admin}/admin/v1/traffic`, { headers: { authorization: `Bearer ${DEMO_OBSERVER}` }, dispatcher: insecure })
  const summary = await traffic.body.json() as { services: unknown[]; breakers: unknown[]; certificatesExpiringSoon: unknown[] }
  t.equal(traffic.statusCode, 200, JSON.stringify(summary))
  t.same([summary.services, summary.breakers, Array.isArray(summary.certificatesExpiringSoon)], [[], [], true], 'no traffic yet, no breaker open, the node\'s certificates known')
  const log = await request(`${admin}/admin/v1/log`, { headers: { authorization: `Bearer ${DEMO_OBSERVER}` }, dispatcher: insecure })
  t.same([log.statusCode, await log.body.json()], [200, { items: [] }], 'the message log, empty')
  child.kill('SIGTERM')
  const [code] = await once(child, 'exit')
  t.equal(code, 0, 'exits 0 after draining')
  t.match(out, /"signal":"SIGTERM".*draining/)
})
