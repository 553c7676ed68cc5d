/**
 * The demo subscriber server (demo/subscriber.ts) over real HTTP: every one of the 61 municipalities
 * takes pushed events, lists them, counts a second delivery of an X-Road-Id as a duplicate, and can
 * be switched offline (dropped connection or 503) and back; an unknown municipality is a 404.
 */
import t from 'tap'
import { request } from 'undici'
import { BASHKI } from '../schemas/bashki.ts'
import { DEMO_BASHKI } from '../demo/bashki-demo.ts'
import { startDemoSubscriber, type Inbox } from '../demo/subscriber.ts'

const sub = await startDemoSubscriber({ port: 0 })
t.teardown(() => sub.close())

async function push (slug: string, id: string | undefined, body: unknown, contentType = 'application/json') {
  const res = await request(`${sub.url}/${slug}/ngjarje`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(id === undefined ? {} : { 'x-road-id': id }), 'x-road-client': 'AL-DEV/GOV/L01417001D/ngjarje-civile' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.body.text()
  return { status: res.statusCode, json: text === '' ? undefined : JSON.parse(text) }
}

async function get (path: string, method: 'GET' | 'POST' | 'DELETE' = 'GET') {
  const res = await request(`${sub.url}${path}`, { method })
  const text = await res.body.text()
  return { status: res.statusCode, json: text === '' ? undefined : JSON.parse(text) }
}

t.test('all 61 municipalities answer, each with its own inbox', async t => {
  t.equal(DEMO_BASHKI.length, 61)
  t.equal(new Set(DEMO_BASHKI.map(d => d.slug)).size, 61, 'slugs are unique')
  for (const d of DEMO_BASHKI) t.match(d.slug, /^[a-z]+(-[a-z]+)*$/, `${d.bashki.emri} → ${d.slug} is URL-safe`)
  const results = await Promise.all(DEMO_BASHKI.map(d => push(d.slug, `ev-${d.slug}`, { nid: 'x', bashkia: d.bashki.emri })))
  results.forEach((r, i) => t.same([r.status, r.json], [200, { pranuar: true, id: `ev-${DEMO_BASHKI[i].slug}`, dublikate: false }], DEMO_BASHKI[i].slug))
  for (const d of DEMO_BASHKI) {
    const inbox = (await get(`/${d.slug}/ngjarje`)).json as Inbox
    t.equal(inbox.bashkia, d.bashki.emri)
    t.same(inbox.events.map(e => [e.id, (e.body as { bashkia: string }).bashkia, e.copies]), [[`ev-${d.slug}`, d.bashki.emri, 1]], `${d.slug} holds its own event only`)
  }
  const list = (await get('')).json as Array<{ slug: string; bashkia: string; events: number }>
  t.same(list.map(l => l.bashkia), BASHKI.map(b => b.emri), 'GET /bashki lists the 61 in data order')
  t.ok(list.every(l => l.events === 1))
  for (const d of DEMO_BASHKI) sub.clear(d.slug)
  t.equal(sub.received('tirane')!.events.length, 0, 'clear empties an inbox')
})

t.test('an event keeps its id, body, X-Road headers and arrival time', async t => {
  const before = Date.now()
  const body = { nid: 'M50314123', emri: 'Ana', bashkia: 'Malësi e Madhe' }
  t.equal((await push('malesi-e-madhe', 'lindje-1', body, 'application/cloudevents+json')).status, 200)
  const [e] = sub.received('malesi-e-madhe')!.events
  t.same(e.body, body)
  t.equal(e.headers['x-road-id'], 'lindje-1')
  t.equal(e.headers['x-road-client'], 'AL-DEV/GOV/L01417001D/ngjarje-civile')
  t.equal(e.headers['content-type'], 'application/cloudevents+json')
  t.ok(Date.parse(e.time) >= before - 1000 && Date.parse(e.time) <= Date.now(), 'time is the arrival time')
})

t.test('duplicates are counted per X-Road-Id, not stored twice', async t => {
  await get('/vlore/ngjarje', 'DELETE')
  for (const id of ['a', 'b', 'a', 'c', 'a', 'b']) t.equal((await push('vlore', id, { id })).status, 200)
  const inbox = sub.received('vlore')!
  t.same(inbox.events.map(e => [e.id, e.copies]), [['a', 3], ['b', 2], ['c', 1]], 'first-arrival order, copies per id')
  t.equal(inbox.deliveries, 6)
  t.equal(inbox.duplicates, 3)
  const dup = await push('vlore', 'c', { id: 'c' })
  t.same(dup.json, { pranuar: true, id: 'c', dublikate: true })
  t.equal(sub.received('vlore')!.duplicates, 4)
  t.equal(sub.received('fier')!.duplicates, 0, 'another municipality is untouched')
})

t.test('offline by dropping the connection, then online again', async t => {
  await get('/korce/ngjarje', 'DELETE')
  const off = await get('/korce/offline', 'POST')
  t.equal(off.status, 200)
  t.same([off.json.online, off.json.offlineMode], [false, 'refuse'])
  await t.rejects(push('korce', 'k-1', { n: 1 }), 'the connection is dropped without an answer')
  t.equal((await push('berat', 'b-1', { n: 1 })).status, 200, 'the others stay online')
  t.same([sub.received('korce')!.events.length, sub.received('korce')!.refused], [0, 1])
  t.equal((await get('/korce/online', 'POST')).json.online, true)
  t.equal((await push('korce', 'k-1', { n: 1 })).status, 200, 'the retried event is taken')
  t.same(sub.received('korce')!.events.map(e => e.id), ['k-1'])
  t.equal(sub.received('korce')!.duplicates, 0, 'a refused delivery is not a duplicate')
})

t.test('offline answering 503, switched through the API in code', async t => {
  sub.setOffline('shkoder', true, '503')
  const r = await push('shkoder', 's-1', { n: 1 })
  t.equal(r.status, 503)
  t.match(r.json, { gabim: /nuk është në linjë/ })
  t.same([sub.received('shkoder')!.online, sub.received('shkoder')!.refused, sub.received('shkoder')!.events.length], [false, 1, 0])
  sub.setOffline('shkoder', false)
  t.equal((await push('shkoder', 's-1', { n: 1 })).status, 200)
  // The mode is remembered for the next time it goes offline.
  sub.setOffline('shkoder', true)
  t.equal((await push('shkoder', 's-2', { n: 2 })).status, 503)
  sub.setOffline('shkoder', false)
  t.equal((await get('/shkoder/offline?mode=refuse', 'POST')).json.offlineMode, 'refuse')
  await t.rejects(push('shkoder', 's-3', { n: 3 }))
  await get('/shkoder/online', 'POST')
  t.equal((await get('/shkoder/offline?mode=sometimes', 'POST')).status, 400, 'an unknown mode is refused')
  t.equal(sub.received('shkoder')!.online, true, '… and changes nothing')
})

t.test('unknown municipalities and bad deliveries', async t => {
  for (const [path, method] of [['/tirana/ngjarje', 'GET'], ['/prishtine/online', 'POST'], ['/x/offline', 'POST'], ['/nowhere/ngjarje', 'DELETE']] as const) {
    const r = await get(path, method)
    t.equal(r.status, 404, `${method} ${path}`)
    t.match(r.json, { error: /unknown municipality/ })
  }
  t.equal((await push('tirana', 'x', {})).status, 404, 'POST to an unknown slug')
  t.equal(sub.received('tirana'), undefined)
  t.throws(() => sub.setOffline('tirana', true), /unknown municipality slug 'tirana'/)
  const noId = await push('tirane', undefined, { n: 1 })
  t.equal(noId.status, 400)
  t.match(noId.json, { error: /X-Road-Id/ })
  t.equal((await push('tirane', 'bad-json', '{"n":', 'application/json')).status, 400, 'malformed JSON')
  t.equal((await push('tirane', 'bad-json', '{"n":', 'application/cloudevents+json')).status, 400, 'malformed +json')
  t.equal(sub.received('tirane')!.events.length, 0, 'nothing bad was stored')
})
