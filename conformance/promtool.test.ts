/**
 * Conformance: Prometheus's own checker on the node's /metrics. A demo node serves REST and SOAP
 * exchanges, refuses a forged client and a malformed request, and gets its gauges fed; then
 * `promtool check metrics` (Debian package prometheus) must accept the output, and the strict
 * reader `npm test` uses instead (test/support/prometheus.ts) must accept it too. Of the faults
 * npm test plants in such output, promtool must refuse the syntax and lint ones; what it lets
 * through is listed. Without promtool this file fails (it never skips).
 */
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import t from 'tap'
import { CIVIL_SERVICE, E_ALBANIA, TAX_SERVICE, startRig } from '../test/support/gateway.ts'
import { call, soapCall, soapEnvelope } from '../test/support/http.ts'
import { PLANTED_FAULTS, feedGauges, promisedFamilyProblems } from '../test/support/metrics.ts'
import { labelKey, readExposition, sampleValue, seriesOf } from '../test/support/prometheus.ts'

const promtool = (text: string): { status: number | null; output: string } => {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() }
}

const version = spawnSync('promtool', ['--version'], { encoding: 'utf8' })
if (version.error !== undefined) {
  t.fail(`promtool could not be run (${version.error.message}): install the Debian package prometheus (.ci/run does)`)
} else {
  t.comment(`${version.stdout}${version.stderr}`.split('\n')[0].trim())

  t.test('promtool check metrics accepts what a working node serves', async t => {
    const rig = await startRig()
    t.teardown(() => rig.close())

    // Traffic: 2 REST and 1 SOAP exchange that succeed, a forged client, a request the HTTP parser refuses.
    for (const year of ['2025', '2026']) {
      const ok = await call(`${rig.url}/r1/${TAX_SERVICE}/subjekte/K81305012I/detyrime?viti=${year}`, { headers: { 'X-Road-Client': E_ALBANIA } })
      t.equal(ok.status, 200, `REST exchange for ${year}`)
    }
    const soap = await soapCall(rig.url, soapEnvelope())
    t.equal(soap.status, 200, 'SOAP exchange')
    t.equal((await call(`${rig.url}/r1/${TAX_SERVICE}/subjekte/K81305012I/detyrime`, { headers: { 'X-Road-Client': 'AL-DEV/GOV/FORGED/x' } })).status, 400, 'forged client refused')
    const socket = connect(Number(new URL(rig.url).port), '127.0.0.1')
    await once(socket, 'connect')
    socket.end('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')
    socket.resume()
    await once(socket, 'close')
    feedGauges(rig.gateway.context.metrics)

    const text = (await call(`${rig.url}/metrics`)).text
    const exp = readExposition(text)
    t.same(exp.problems, [], 'the strict reader of npm test accepts it as well')
    t.same(promisedFamilyProblems(exp), [], 'every family docs/metrics.md promises is there')
    t.equal(sampleValue(exp, 'ura_exchanges_total', { protocol: 'rest', client: E_ALBANIA, service: TAX_SERVICE, outcome: 'ok', code: 'none' }), 2, 'the REST exchanges')
    t.equal(sampleValue(exp, 'ura_exchanges_total', { protocol: 'soap', client: 'AL-DEV/NJQV/L21603004L/gjendja-civile', service: `${CIVIL_SERVICE}/v1`, outcome: 'ok', code: 'none' }), 1, 'the SOAP exchange')
    t.same(Object.fromEntries(seriesOf(exp, 'ura_client_errors_total')), { [labelKey({ code: 'Client.BadRequest' })]: 1 }, 'the refused request')

    const check = promtool(text)
    t.equal(check.status, 0, `promtool check metrics: ${check.output || 'no complaint'}`)

    await t.test('faults planted in that output', async t => {
      for (const fault of PLANTED_FAULTS) {
        const broken = fault.plant(text)
        t.not(broken, text, `${fault.what}: planted`)
        const r = promtool(broken)
        if (fault.promtool) t.not(r.status, 0, `${fault.what}: promtool refuses it (${r.output.split('\n')[0]})`)
        else t.comment(`${fault.what}: promtool ${r.status === 0 ? 'lets it through; npm test catches it' : 'refuses it too: ' + r.output.split('\n')[0]}`)
      }
    })
  })
}
