/**
 * What the bridge costs: throughput of bridged calls next to direct calls to the same providers.
 *
 *   node bench/bridge-cost.ts [seconds per scenario, default 10] [connections, default 10]
 *
 * The demo providers and a gateway run in a child process (so the load generator does not share
 * their event loop); autocannon drives four scenarios in turn:
 *   rest → rest    e-Albania reads Tirana's tax service (direct)
 *   soap → rest    the tax directorate reads the same service through the bridge
 *   soap → soap    Tirana's civil-status office asks the civil registry (direct)
 *   rest → soap    e-Albania asks the same registry through the bridge
 * and prints requests/s, latency, the child's CPU time per exchange (gateway and providers, µs) and
 * the bridged/direct ratio for each provider.
 *
 *   node bench/bridge-cost.ts --answer [rounds]
 *
 * times instead, in this process, what reading the provider's answer costs the REST → SOAP bridge
 * (bench/bridge-answer.ts).
 */
import { fork } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import autocannon from 'autocannon'

const E_ALBANIA = 'AL-DEV/GOV/K11503002N/e-albania'

if (process.argv[2] === '--answer') {
  await import('./bridge-answer.ts')
} else if (process.argv[2] === '--serve') {
  const { startRig } = await import('../test/support/gateway.ts')
  const { demoConfig } = await import('../test/support/gateway.ts')
  const config = await demoConfig({}, {}, { bridge: true })
  const rig = await startRig({ config })
  rig.gateway.app.log.level = 'warn'
  process.send!({ url: rig.url })
  process.on('message', m => {
    if (m !== 'cpu') return
    const { user, system } = process.cpuUsage()
    process.send!({ cpu: user + system })
  })
  process.on('disconnect', () => { void rig.close().then(() => process.exit(0)) })
} else {
  const seconds = Number(process.argv[2] ?? 10)
  const connections = Number(process.argv[3] ?? 10)
  const child = fork(import.meta.filename, ['--serve'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const url = await new Promise<string>(done => child.once('message', (m: { url: string }) => done(m.url)))
  /** The child's CPU time so far, µs. */
  const cpu = (): Promise<number> => new Promise(done => {
    child.once('message', (m: { cpu: number }) => done(m.cpu))
    child.send('cpu')
  })
  const demo = resolve(import.meta.dirname, '../demo')
  const scenarios: Array<{ name: string; opts: autocannon.Options }> = [
    { name: 'rest → rest (direct)', opts: { url: `${url}/r1/AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet/subjekte/K81305012I/detyrime?viti=2026`, headers: { 'X-Road-Client': E_ALBANIA } } },
    { name: 'soap → rest (bridge)', opts: { url: `${url}/`, method: 'POST', headers: { 'Content-Type': 'text/xml; charset=utf-8' }, body: await readFile(resolve(demo, 'detyrimetSubjektit.xml')) } },
    { name: 'soap → soap (direct)', opts: { url: `${url}/`, method: 'POST', headers: { 'Content-Type': 'text/xml; charset=utf-8' }, body: await readFile(resolve(demo, 'kerkoShtetas.xml')) } },
    { name: 'rest → soap (bridge)', opts: { url: `${url}/r1/AL-DEV/GOV/L01417001D/regjistri-civil/shtetasit/I50314123V`, headers: { 'X-Road-Client': E_ALBANIA } } },
  ]
  const results: Record<string, { rps: number; p50: number; p99: number; errors: number; cpuUs: number }> = {}
  for (const s of scenarios) {
    // A short warm-up so JIT and keep-alive pools are in place before measuring.
    await autocannon({ ...s.opts, connections, duration: 2 })
    const cpu0 = await cpu()
    const r = await autocannon({ ...s.opts, connections, duration: seconds })
    const cpuUs = Math.round((await cpu() - cpu0) / r.requests.total)
    results[s.name] = { rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx, cpuUs }
    console.log(`${s.name.padEnd(22)} ${String(results[s.name].rps).padStart(7)} req/s   p50 ${r.latency.p50} ms   p99 ${r.latency.p99} ms   ${String(cpuUs).padStart(4)} µs CPU per exchange   errors ${results[s.name].errors}`)
  }
  const ratio = (a: string, b: string): string => (results[a].rps / results[b].rps).toFixed(2)
  console.log(`\ntax office (REST provider):     bridged SOAP client / direct REST client = ${ratio('soap → rest (bridge)', 'rest → rest (direct)')}`)
  console.log(`civil registry (SOAP provider): bridged REST client / direct SOAP client = ${ratio('rest → soap (bridge)', 'soap → soap (direct)')}`)
  console.log(`bridged REST call / direct REST call (different providers) = ${ratio('rest → soap (bridge)', 'rest → rest (direct)')}`)
  const extra = (a: string, b: string): number => results[a].cpuUs - results[b].cpuUs
  console.log(`CPU per exchange, bridged minus direct: REST provider ${extra('soap → rest (bridge)', 'rest → rest (direct)')} µs, SOAP provider ${extra('rest → soap (bridge)', 'soap → soap (direct)')} µs`)
  child.disconnect()
}
