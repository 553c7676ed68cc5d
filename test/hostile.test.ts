/**
 * The hostile input corpus (test/support/hostile.ts) against a running node: every case gets one
 * of its typed X-Road errors, none reaches a provider, the node keeps serving, and a second pass
 * over the whole corpus leaves memory where the first left it.
 */
import { once } from 'node:events'
import { connect } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import t from 'tap'
import { demoConfig, startRig } from './support/gateway.ts'
import { startFaultyProvider } from './support/faulty-provider.ts'
import { CLIENT, GOOD_GET, GOOD_PAYMENT, PAYER, TAX, hostileCorpus, httpRequest, type HostileCase } from './support/hostile.ts'
import { soapEnvelope } from './support/http.ts'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

interface Reply { status: number; code: string | undefined; head: string }

/** Writes the bytes on a fresh connection; reads the first response (complete by Content-Length, or until close). */
async function send (port: number, bytes: Buffer): Promise<Reply> {
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => {})
  await once(socket, 'connect')
  let all = Buffer.alloc(0)
  const done = new Promise<void>(resolve => {
    socket.on('close', () => resolve())
    socket.on('data', c => {
      all = Buffer.concat([all, c])
      const end = all.indexOf('\r\n\r\n')
      const length = /\r\ncontent-length: (\d+)/i.exec(all.subarray(0, end).toString('latin1'))?.[1]
      if (end !== -1 && length !== undefined && all.length >= end + 4 + Number(length)) resolve()
    })
  })
  socket.write(bytes)
  const timer = setTimeout(() => socket.destroy(), 8000)
  await done
  clearTimeout(timer)
  socket.destroy()
  const end = all.indexOf('\r\n\r\n')
  const head = all.subarray(0, end === -1 ? all.length : end).toString('latin1')
  const body = end === -1 ? '' : all.subarray(end + 4).toString('utf8')
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0)
  const code = /\r\nx-road-error: ([^\r]+)/i.exec(head)?.[1] ?? /<faultcode>([^<]+)<\/faultcode>/.exec(body)?.[1]
  return { status, code, head }
}

t.test('hostile input corpus', async t => {
  const provider = await startFaultyProvider('ok')
  t.teardown(() => provider.close())
  const config = await demoConfig({
    'services.yaml': s => s.replace('http://127.0.0.1:4401/api/v1', `${provider.url}/api/v1`).replace('http://127.0.0.1:4402/regjistri-civil', `${provider.url}/regjistri-civil`),
    'access.yaml': s => s + `
  - service: ${TAX.slice(4)}
    clients: [${PAYER}]
    endpoints:
      - { method: POST, path: /pagesa }
`,
  })
  const rig = await startRig({ config })
  t.teardown(() => rig.close())
  const port = Number(new URL(rig.url).port)

  const corpus = hostileCorpus()
  t.ok(corpus.length >= 200, `${corpus.length} cases`)
  t.equal(new Set(corpus.map(c => `${c.category}: ${c.name}`)).size, corpus.length, 'case names are unique')

  const runAll = async (): Promise<Array<{ c: HostileCase; r: Reply }>> => {
    const out = []
    for (const c of corpus) out.push({ c, r: await send(port, c.bytes) })
    return out
  }

  // First pass: each case on its own, checked.
  const byCategory = new Map<string, number>()
  for (const { c, r } of await runAll()) {
    byCategory.set(c.category, (byCategory.get(c.category) ?? 0) + 1)
    const ok = r.code !== undefined && c.codes.includes(r.code) && r.status >= 400
    t.ok(ok, `${c.category}: ${c.name} → ${r.status} ${r.code ?? '(untyped)'}`, ok ? {} : { expected: c.codes, head: r.head.slice(0, 300) })
  }
  t.comment([...byCategory].map(([k, v]) => `${k}: ${v}`).join(', '))
  t.equal(provider.hits, 0, 'no hostile request reached a provider')

  const good = async (): Promise<void> => {
    const g = await send(port, httpRequest('GET', GOOD_GET, [['X-Road-Client', CLIENT]]))
    t.equal(g.status, 502, 'a good REST request reaches the provider (whose answer breaks the schema: typed 502)')
    const p = await send(port, httpRequest('POST', `${TAX}/pagesa`, [['X-Road-Client', PAYER], ['Content-Type', 'application/json']], GOOD_PAYMENT))
    t.equal(p.code, 'Server.ServerProxy.InvalidResponse', 'a good POST too')
    const s = await send(port, httpRequest('POST', '/', [['Content-Type', 'text/xml']], soapEnvelope()))
    t.equal(s.status, 200, 'a good SOAP request gets its answer')
  }
  await good()
  t.equal(provider.hits, 3, 'and only the good requests reached it')

  // Memory: the first pass warmed every path (wasm heap, JIT); a second must not grow it.
  gc()
  const before = process.memoryUsage()
  await runAll()
  // Sockets and buffers of the last requests are released a little after their answers: on a busy
  // machine that can take a while, so memory is read again after short pauses (a leak stays).
  let after = process.memoryUsage()
  for (let i = 0; i < 20; i++) {
    gc()
    const now = process.memoryUsage()
    if (now.external + now.arrayBuffers < after.external + after.arrayBuffers || i === 0) after = now
    if (after.external + after.arrayBuffers - before.external - before.arrayBuffers < 16 * 1048576) break
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  const mb = (n: number): string => (n / 1048576).toFixed(1)
  t.comment(`heap ${mb(before.heapUsed)} → ${mb(after.heapUsed)} MB, rss ${mb(before.rss)} → ${mb(after.rss)} MB, external ${mb(before.external)} → ${mb(after.external)} MB`)
  t.ok(after.heapUsed - before.heapUsed < 8 * 1048576, 'JS heap back to baseline (within 8 MB)')
  t.ok(after.rss - before.rss < 48 * 1048576, 'RSS back to baseline (within 48 MB)')
  t.ok(after.external + after.arrayBuffers - before.external - before.arrayBuffers < 16 * 1048576, 'buffers and wasm memory back to baseline (within 16 MB)')

  await good()
  t.equal(provider.hits, 6, 'still nothing hostile reached the provider')
  t.notOk(rig.logs.some(l => l.includes('Server.ClientProxy.InternalError')), 'no internal errors')
})
