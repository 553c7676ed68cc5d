/**
 * The public transparency feeds, served by a real Fastify server on loopback from room events as
 * the delivery queue keeps them: Atom valid against RFC 4287's RELAX NG grammar (test/fixtures/atom.rng)
 * with ids, dates, Albanian titles, enclosures and categories; JSON Feed 1.1 from the same events;
 * newest first, 50 to a page with RFC 5005 next links; ETag, Cache-Control and 304; the HTML pages;
 * typed errors for unknown municipalities and bad queries.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import Fastify from 'fastify'
import { RelaxNGValidator, XmlDocument } from 'libxml2-wasm'
import t from 'tap'
import { listPage } from '../gateway/catalogue/html.ts'
import { feedRoutes } from '../gateway/feeds/routes.ts'
import { RoomEvents, sampleEvent } from './support/transparency.ts'
import { withDoc } from './support/xml.ts'

const ATOM = 'http://www.w3.org/2005/Atom'
const NS = { a: ATOM }
const ROOMS: Record<string, string> = {
  Tiranë: 'AL/NJQV/K11214001A/transparenca',
  Durrës: 'AL/NJQV/K21214002B/transparenca',
  Shkodër: 'AL/NJQV/K31214003C/transparenca',
  Kuçovë: 'AL/NJQV/K41214004D/transparenca',
}

const rng = XmlDocument.fromString(readFileSync(resolve(import.meta.dirname, 'fixtures/atom.rng'), 'utf8'))
const atomSchema = RelaxNGValidator.fromDoc(rng)
t.teardown(() => { atomSchema.dispose(); rng.dispose() })

/** RELAX NG problems of an Atom document, plus the RFC's Schematron rules the grammar leaves out. */
function atomProblems (xml: string): string[] {
  return withDoc(xml, doc => {
    const out: string[] = []
    try {
      atomSchema.validate(doc)
    } catch (err) {
      out.push((err as Error).message)
    }
    if (doc.eval('count(/a:feed/a:author) = 0 and count(/a:feed/a:entry[not(a:author)]) > 0', NS) === true) out.push('an entry without author in a feed without author')
    if (doc.eval('count(/a:feed/a:entry[not(a:content) and not(a:link[@rel="alternate"])]) > 0', NS) === true) out.push('an entry with neither content nor an alternate link')
    return out
  })
}

const room = new RoomEvents()
const at = (day: number, hour = 9): Date => new Date(Date.UTC(2026, 2, day, hour, 0, 0))
// Tiranë: 3 decisions and 2 consultations, published over a week; Durrës: one consultation.
const v1 = room.publish(ROOMS.Tiranë, 'vendim', sampleEvent('vendim', { numri: '40/2026', titull: { sq: 'Për emërtimin e rrugës "Çajupi" & sheshit <Skënderbej>' } }), at(2))
const k1 = room.publish(ROOMS.Tiranë, 'konsultim', sampleEvent('konsultim'), at(3))
const v2 = room.publish(ROOMS.Tiranë, 'vendim', sampleEvent('vendim', { numri: '41/2026', dokument: { url: 'https://tirana.al/vendime/41', mediaType: 'text/html' } }), at(4))
const k2 = room.publish(ROOMS.Tiranë, 'konsultim', sampleEvent('konsultim', { titull: { sq: 'Strategjia vendore e zhvillimit', en: 'Local development strategy' }, lloji: 'dokument-strategjik', faza: 'mbyllur', raport: { url: 'https://tirana.al/raport.pdf', mediaType: 'application/pdf' } }), at(5))
const v3 = room.publish(ROOMS.Tiranë, 'vendim', sampleEvent('vendim', { numri: '45/2026' }), at(6))
room.publish(ROOMS.Tiranë, 'tjeter', { personalData: false }, at(6, 10)) // not a transparency type
room.publish(ROOMS.Tiranë, 'vendim', sampleEvent('vendim', { bashkia: 'Durrës' }), at(6, 11)) // another municipality's event
room.publish(ROOMS.Tiranë, 'vendim', '{not json', at(6, 12))
const d1 = room.publish(ROOMS.Durrës, 'konsultim', sampleEvent('konsultim', { bashkia: 'Durrës', organ: { sq: 'Bashkia Durrës' }, titull: { sq: 'Plani i përgjithshëm vendor i Durrësit' } }), at(7))
// Shkodër: 120 notices, for paging.
const shkoder = Array.from({ length: 120 }, (_, i) => room.publish(ROOMS.Shkodër, 'njoftim', sampleEvent('njoftim', { bashkia: 'Shkodër', organ: { sq: 'Këshilli Bashkiak i Shkodrës' }, titull: { sq: `Njoftimi nr. ${i + 1}` } }), new Date(Date.UTC(2026, 0, 1) + i * 3_600_000)))

const app = Fastify()
await app.register(feedRoutes, { room: (b: string) => ROOMS[b], events: room, publicOrigin: 'https://ura.example.al/' })
const address = await app.listen({ host: '127.0.0.1', port: 0 })
t.teardown(() => app.close())
const get = (path: string, headers: Record<string, string> = {}) => fetch(`${address}${path}`, { headers })

t.test('Atom: valid RFC 4287, newest first, the municipality\'s own events only', async t => {
  const res = await get('/feeds/tirane.atom')
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'application/atom+xml; charset=utf-8')
  const xml = await res.text()
  t.same(atomProblems(xml), [], 'valid against the RFC 4287 grammar and its rules')
  t.not(atomProblems(xml.replace(/<id>urn:uuid:[^<]*<\/id>\n/, '')).length, 0, 'the grammar bites: a feed without its id is refused')
  t.not(atomProblems(xml.replace(/<author><name>Bashkia Tiranë<\/name><\/author>\n/, '').replace(/<author>(?:(?!<\/entry>)[\s\S])*?<\/author>/, '')).length, 0, 'and so do the rules: an entry without author in a feed without one')
  withDoc(xml, doc => {
    const s = (xpath: string): string => doc.eval(`string(${xpath})`, NS) as string
    t.match(s('/a:feed/a:id'), /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'the feed id is a name-based UUID')
    t.equal(s('/a:feed/a:title'), 'Transparenca — Bashkia Tiranë', 'title with the official name, diacritics intact')
    t.equal(s('/a:feed/@xml:lang'), 'sq')
    t.equal(s('/a:feed/a:updated'), '2026-03-06T09:00:00Z', 'updated = the newest event')
    t.equal(s('/a:feed/a:link[@rel="self"]/@href'), 'https://ura.example.al/feeds/tirane.atom', 'self link, absolute, on the public origin')
    t.equal(s('/a:feed/a:link[@rel="alternate"][@type="text/html"]/@href'), 'https://ura.example.al/feeds/tirane')
    t.equal(s('/a:feed/a:link[@rel="alternate"][@type="application/feed+json"]/@href'), 'https://ura.example.al/feeds/tirane.json')
    t.equal(doc.eval('count(/a:feed/a:link[@rel="next"])', NS), 0, 'one page only: no next link')
    const ids = (doc.find('/a:feed/a:entry/a:id', NS)).map(n => n.content)
    t.same(ids, [v3, k2, v2, k1, v1].map(e => `urn:uuid:${e.id}`), 'the five events, newest first; the foreign, unknown and broken ones left out')
    t.same(doc.find('/a:feed/a:entry/a:updated', NS).map(n => n.content), ['2026-03-06T09:00:00Z', '2026-03-05T09:00:00Z', '2026-03-04T09:00:00Z', '2026-03-03T09:00:00Z', '2026-03-02T09:00:00Z'])
    t.equal(s('/a:feed/a:entry[1]/a:published'), '2026-03-06T09:00:00Z')
    t.equal(s('/a:feed/a:entry[1]/a:title'), 'Për miratimin e buxhetit të vitit 2026')
    t.equal(s('/a:feed/a:entry[1]/a:author/a:name'), 'Këshilli Bashkiak i Tiranës', 'the council is the author')
    t.equal(s('/a:feed/a:entry[5]/a:title'), 'Për emërtimin e rrugës "Çajupi" & sheshit <Skënderbej>', 'markup characters escaped and read back')
    t.equal(s('/a:feed/a:entry[1]/a:link[@rel="alternate"]/@href'), 'https://tirana.al/vendime/2026/45.pdf', 'alternate: the act')
    t.equal(s('/a:feed/a:entry[1]/a:link[@rel="enclosure"]/@type'), 'application/pdf', 'the PDF as an enclosure with its type')
    t.equal(doc.eval('count(/a:feed/a:entry[3]/a:link[@rel="enclosure"])', NS), 0, 'a web page is no enclosure')
    t.equal(s('/a:feed/a:entry[2]/a:link[@rel="related"]/@href'), 'https://tirana.al/raport.pdf', 'a closed consultation links its report')
    t.equal(s('/a:feed/a:entry[1]/a:category[@scheme="https://ura.gov.al/schemas/transparency/v1"]/@term'), 'vendim')
    t.equal(s('/a:feed/a:entry[4]/a:category[@scheme="https://ura.gov.al/schemas/transparency/v1"]/@label'), 'Konsultim publik')
    t.equal(s('/a:feed/a:entry[4]/a:category[@scheme="https://ura.gov.al/schemas/transparency/v1/konsultim#lloji"]/@term'), 'projektakt')
    t.equal(s('/a:feed/a:entry[4]/a:summary'), 'Komente nga 2026-02-02 deri më 2026-03-02.', 'a consultation\'s summary gives its comment period')
    t.equal(s('/a:feed/a:entry[1]/a:summary'), 'Nr. 45/2026, datë 2026-03-10.\nBuxheti vjetor i bashkisë.')
  })
  const again = await (await get('/feeds/tirane.atom')).text()
  t.equal(again, xml, 'the same events give the same bytes')
  const durres = await (await get('/feeds/durres.atom')).text()
  withDoc(durres, doc => {
    t.equal(doc.eval('string(/a:feed/a:title)', NS), 'Transparenca — Bashkia Durrës')
    t.same(doc.find('/a:feed/a:entry/a:id', NS).map(n => n.content), [`urn:uuid:${d1.id}`], 'Durrës shows its own consultation')
    t.not(doc.eval('string(/a:feed/a:id)', NS), withDoc(xml, d => d.eval('string(/a:feed/a:id)', NS)), 'each municipality has its own feed id')
  })
})

t.test('?lang=en: English where the event gives it, marked Albanian where it does not', async t => {
  const xml = await (await get('/feeds/tirane.atom?lang=en')).text()
  t.same(atomProblems(xml), [])
  withDoc(xml, doc => {
    const s = (xpath: string): string => doc.eval(`string(${xpath})`, NS) as string
    t.equal(s('/a:feed/@xml:lang'), 'en')
    t.equal(s('/a:feed/a:title'), 'Transparency — Municipality of Tiranë')
    t.equal(s('/a:feed/a:entry[1]/a:title'), 'On adopting the 2026 budget')
    t.equal(s('/a:feed/a:entry[1]/a:title/@xml:lang'), '', 'in the feed\'s language: no attribute')
    t.equal(s('/a:feed/a:entry[2]/a:title'), 'Local development strategy')
    t.equal(s('/a:feed/a:entry[4]/a:title'), 'Projektvendim për taksat vendore', 'no English title: the Albanian one')
    t.equal(s('/a:feed/a:entry[4]/a:title/@xml:lang'), 'sq', '… in its own language')
    t.equal(s('/a:feed/a:entry[1]/a:author/a:name'), 'Tirana Municipal Council')
    t.equal(s('/a:feed/a:link[@rel="self"]/@href'), 'https://ura.example.al/feeds/tirane.atom?lang=en')
  })
})

t.test('paging: 50 a page, rel=next to the older ones, every event once', async t => {
  const seen: string[] = []
  let path: string | undefined = '/feeds/shkoder.atom'
  const sizes: number[] = []
  while (path !== undefined) {
    const xml = await (await get(path)).text()
    t.same(atomProblems(xml), [], `${path} is valid`)
    path = withDoc(xml, doc => {
      const ids = doc.find('/a:feed/a:entry/a:id', NS).map(n => n.content)
      sizes.push(ids.length)
      seen.push(...ids)
      t.equal(doc.eval('string(/a:feed/a:link[@rel="first"]/@href)', NS), 'https://ura.example.al/feeds/shkoder.atom', 'first page link')
      const next = doc.eval('string(/a:feed/a:link[@rel="next"]/@href)', NS) as string
      return next === '' ? undefined : next.replace('https://ura.example.al', '')
    })
  }
  t.same(sizes, [50, 50, 20])
  t.same(seen, shkoder.map(e => `urn:uuid:${e.id}`).reverse(), 'all 120, newest first, none twice')
  const second = await (await get(`/feeds/shkoder.atom?para=${shkoder[70].seq}`)).text()
  withDoc(second, doc => {
    t.equal(doc.eval('string(/a:feed/a:link[@rel="self"]/@href)', NS), `https://ura.example.al/feeds/shkoder.atom?para=${shkoder[70].seq}`)
    t.equal(doc.eval('string(/a:feed/a:link[@rel="next"]/@href)', NS), `https://ura.example.al/feeds/shkoder.atom?para=${shkoder[20].seq}`)
    t.equal(doc.eval('string(/a:feed/a:updated)', NS), shkoder[69].publishedAt.toISOString().replace('.000', ''), 'an archive page is as new as its newest entry')
  })
  const json = await (await get('/feeds/shkoder.json')).json() as { items: unknown[]; next_url: string }
  t.equal(json.items.length, 50)
  t.equal(json.next_url, `https://ura.example.al/feeds/shkoder.json?para=${shkoder[70].seq}`, 'JSON Feed pages the same way')
})

t.test('JSON Feed 1.1 from the same events', async t => {
  const res = await get('/feeds/tirane.json')
  t.equal(res.headers.get('content-type'), 'application/feed+json; charset=utf-8')
  const feed = await res.json() as any
  t.equal(feed.version, 'https://jsonfeed.org/version/1.1')
  t.equal(feed.title, 'Transparenca — Bashkia Tiranë')
  t.equal(feed.feed_url, 'https://ura.example.al/feeds/tirane.json')
  t.equal(feed.home_page_url, 'https://ura.example.al/feeds/tirane')
  t.notOk('next_url' in feed, 'no next page')
  t.same(feed.items.map((i: any) => i.id), [v3, k2, v2, k1, v1].map(e => `urn:uuid:${e.id}`))
  const first = feed.items[0]
  t.equal(first.title, 'Për miratimin e buxhetit të vitit 2026')
  t.equal(first.date_published, '2026-03-06T09:00:00Z')
  t.equal(first.url, 'https://tirana.al/vendime/2026/45.pdf')
  t.same(first.attachments, [{ url: 'https://tirana.al/vendime/2026/45.pdf', mime_type: 'application/pdf' }])
  t.same(first.authors, [{ name: 'Këshilli Bashkiak i Tiranës' }])
  t.ok(typeof first.content_text === 'string' && first.content_text.length > 0, 'every item has content')
  t.equal(first._transparenca.type, 'vendim')
  t.equal(first._transparenca.event.numri, '45/2026', 'the event itself for programs')
  t.notOk('attachments' in feed.items[2], 'a web page is no attachment')
  const atomId = withDoc(await (await get('/feeds/tirane.atom')).text(), d => d.eval('string(/a:feed/a:id)', NS))
  t.ok(typeof atomId === 'string' && atomId.startsWith('urn:uuid:'), 'the Atom feed has the id the JSON items share the scheme of')
})

t.test('ETag, Cache-Control and 304', async t => {
  const first = await get('/feeds/durres.atom')
  const etag = first.headers.get('etag')
  t.match(etag, /^"[A-Za-z0-9_-]{32}"$/, 'a strong ETag')
  t.equal(first.headers.get('cache-control'), 'public, max-age=60')
  const held = await get('/feeds/durres.atom', { 'if-none-match': etag! })
  t.equal(held.status, 304, 'the client holds these bytes')
  t.equal(await held.text(), '', 'no body')
  t.equal(held.headers.get('etag'), etag)
  t.equal((await get('/feeds/durres.atom', { 'if-none-match': `"other", W/${etag}` })).status, 304, 'in a list, weak form too')
  t.equal((await get('/feeds/durres.atom', { 'if-none-match': '"other"' })).status, 200, 'another tag: the feed')
  t.not((await get('/feeds/durres.json')).headers.get('etag'), etag, 'each format its own tag')
  room.publish(ROOMS.Durrës, 'njoftim', sampleEvent('njoftim', { bashkia: 'Durrës', organ: { sq: 'Bashkia Durrës' } }), at(8))
  const changed = await get('/feeds/durres.atom', { 'if-none-match': etag! })
  t.equal(changed.status, 200, 'a new event changes the feed')
  t.not(changed.headers.get('etag'), etag)
})

t.test('unknown municipalities and bad queries get typed errors', async t => {
  for (const path of ['/feeds/atlantis.atom', '/feeds/tirana.json', '/feeds/Tirane.atom', '/feeds/berat.atom']) {
    const res = await get(path)
    t.equal(res.status, 404, `${path}: 404`)
    t.equal(res.headers.get('x-road-error'), 'Server.ServerProxy.UnknownService')
    const body = await res.json() as { type: string; message: string; detail: string }
    t.equal(body.type, 'Server.ServerProxy.UnknownService')
    t.equal(body.detail, res.headers.get('x-road-request-id'), 'detail is the request id')
  }
  const page = await get('/feeds/atlantis')
  t.equal(page.status, 404)
  t.match(await page.text(), /Bashkia nuk u gjet/, 'the HTML route answers with a page')
  for (const q of ['para=0', 'para=abc', 'para=1e3', 'lang=de']) {
    const res = await get(`/feeds/tirane.atom?${q}`)
    t.equal(res.status, 400, `?${q}: 400`)
    t.equal(res.headers.get('x-road-error'), 'Client.BadRequest')
  }
})

t.test('the HTML pages: entries, both feeds linked, no scripts', async t => {
  const res = await get('/feeds/tirane')
  t.equal(res.status, 200)
  t.match(res.headers.get('content-security-policy'), /default-src 'none'/)
  t.ok(res.headers.get('etag'))
  const html = await res.text()
  t.notMatch(html, /<script/i)
  t.match(html, /<h1>Transparenca — Bashkia Tiranë<\/h1>/)
  t.match(html, /<link rel="alternate" type="application\/atom\+xml"[^>]* href="\/feeds\/tirane.atom">/, 'feed readers find the Atom feed')
  t.match(html, /href="\/feeds\/tirane.json"/)
  t.match(html, /Për emërtimin e rrugës &quot;Çajupi&quot; &amp; sheshit &lt;Skënderbej&gt;/, 'escaped')
  t.match(html, new RegExp(`<li id="${v3.id}">`), 'each entry has its anchor')
  const en = await (await get('/feeds/tirane?lang=en')).text()
  t.match(en, /<html lang="en">/)
  t.match(en, /On adopting the 2026 budget/)
  t.match(en, /<span lang="sq">Projektvendim për taksat vendore<\/span>/, 'Albanian text marked as such')
  const older = await (await get('/feeds/shkoder')).text()
  t.match(older, new RegExp(`<a rel="next" href="/feeds/shkoder\\?para=${shkoder[70].seq}">`))
  const index = await (await get('/feeds')).text()
  for (const name of ['Durrës', 'Shkodër', 'Tiranë']) t.match(index, new RegExp(`href="/feeds/[a-z]+">${name}</a>`), `${name} listed`)
  t.match(index, /href="\/feeds\/kucove"/, 'a municipality with a room is listed even before its first event')
  t.notMatch(index, /href="\/feeds\/berat"/, 'one without a room is not')
})

t.test('the catalogue page links the feeds only when the node serves them', async t => {
  const input = { lang: 'sq' as const, filter: {}, entries: [], facets: { categories: [], institutions: [], municipalities: [] } }
  t.match(listPage({ ...input, feeds: true }), /<a href="\/feeds">Transparenca e bashkive/)
  t.notMatch(listPage(input), /href="\/feeds"/)
  t.match(listPage({ ...input, lang: 'en', feeds: true }), /<a href="\/feeds\?lang=en">Municipal transparency/)
})
