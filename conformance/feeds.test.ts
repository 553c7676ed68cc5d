/**
 * Conformance: Debian's python3-feedparser (the parser behind many feed readers) reads the
 * transparency feeds without a complaint (`bozo == 0`) and gets back the ids, titles with their
 * diacritics, dates, categories and enclosures the node wrote in the Atom feed. (Debian's feedparser
 * 6.0 reads no JSON Feed — support came in a later release — so the JSON Feed is checked by the tests
 * only.)
 * Needs `python3` with the `feedparser` module (.ci/run installs python3-feedparser); without it
 * this file fails (it never skips).
 */
import { spawnSync } from 'node:child_process'
import Fastify from 'fastify'
import t from 'tap'
import { feedRoutes } from '../gateway/feeds/routes.ts'
import { RoomEvents, sampleEvent } from '../test/support/transparency.ts'

// Reads a feed on stdin, prints what feedparser made of it as JSON.
const READ = `
import sys, json, feedparser
d = feedparser.parse(sys.stdin.buffer.read())
print(json.dumps({
  'bozo': int(d.bozo), 'problem': str(d.get('bozo_exception', '')), 'version': d.version,
  'id': d.feed.get('id'), 'title': d.feed.get('title'), 'updated': d.feed.get('updated'),
  'links': [{'rel': l.get('rel'), 'href': l.get('href')} for l in d.feed.get('links', [])],
  'entries': [{'id': e.get('id'), 'title': e.get('title'), 'published': e.get('published'), 'updated': e.get('updated'),
               'author': e.get('author'), 'tags': [x.get('term') for x in e.get('tags', [])],
               'enclosures': [{'href': x.get('href'), 'type': x.get('type')} for x in e.get('enclosures', [])]} for e in d.entries],
}))
`

// Debian's package serves the system interpreter; a python3 found earlier on PATH (pyenv, a venv) may lack it.
const probes = ['python3', '/usr/bin/python3'].map(python => ({ python, run: spawnSync(python, ['-c', 'import feedparser; print(feedparser.__version__)'], { encoding: 'utf8' }) }))
const found = probes.find(p => p.run.error === undefined && p.run.status === 0)
if (found === undefined) {
  t.fail(`python3 with feedparser could not be run (${probes.map(p => `${p.python}: ${p.run.error?.message ?? p.run.stderr.trim().split('\n').pop()}`).join('; ')}): install the Debian package python3-feedparser (.ci/run does)`)
} else {
  const python = found.python
  t.comment(`feedparser ${found.run.stdout.trim()} (${python})`)
  const room = new RoomEvents()
  const ROOM = 'AL/NJQV/K11214001A/transparenca'
  const events = [
    room.publish(ROOM, 'vendim', sampleEvent('vendim'), new Date('2026-03-02T09:00:00Z')),
    room.publish(ROOM, 'konsultim', sampleEvent('konsultim'), new Date('2026-03-03T10:30:00Z')),
    room.publish(ROOM, 'njoftim', sampleEvent('njoftim'), new Date('2026-03-04T16:45:00Z')),
  ].reverse()
  const app = Fastify()
  await app.register(feedRoutes, { room: b => b === 'Tiranë' ? ROOM : undefined, events: room, publicOrigin: 'https://ura.example.al' })
  t.teardown(() => app.close())
  const parse = (body: string): any => {
    const run = spawnSync(python, ['-c', READ], { input: body, encoding: 'utf8' })
    if (run.status !== 0) throw new Error(run.stderr)
    return JSON.parse(run.stdout)
  }

  t.test('the Atom feed', async t => {
    const d = parse((await app.inject('/feeds/tirane.atom')).body)
    t.equal(d.bozo, 0, `well-formed and understood${d.problem === '' ? '' : `: ${d.problem}`}`)
    t.equal(d.version, 'atom10')
    t.match(d.id, /^urn:uuid:/)
    t.equal(d.title, 'Transparenca — Bashkia Tiranë')
    t.equal(d.updated, '2026-03-04T16:45:00Z')
    t.same(d.entries.map((e: any) => e.id), events.map(e => `urn:uuid:${e.id}`), 'ids round-trip, newest first')
    t.same(d.entries.map((e: any) => e.published), ['2026-03-04T16:45:00Z', '2026-03-03T10:30:00Z', '2026-03-02T09:00:00Z'], 'dates round-trip')
    t.equal(d.entries[2].title, 'Për miratimin e buxhetit të vitit 2026')
    t.equal(d.entries[2].author, 'Këshilli Bashkiak i Tiranës')
    t.same(d.entries[2].enclosures, [{ href: 'https://tirana.al/vendime/2026/45.pdf', type: 'application/pdf' }], 'the enclosure with its type')
    t.same(d.entries[1].tags, ['konsultim', 'projektakt'])
  })
}
