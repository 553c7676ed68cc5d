/**
 * The access matrix's cells: what a cell shows (own entry, groups, endpoints off the columns) and
 * that setting one cell keeps every other client's, group's and endpoint's grant as it was.
 */
import t from 'tap'
import { cellOf, grantPattern, setCell, type Entry } from '../../admin/console/pages/access-cells.ts'

const A = 'AL/GOV/A/a'
const B = 'AL/GOV/B/b'
const GET = { method: 'GET', path: '/x/*' }
const POST = { method: 'POST', path: '/y' }

t.test('a cell reads the client\'s own entries, deny first, groups and endpoints apart', async t => {
  const entries: Entry[] = [
    { clients: [A], groups: ['g'] },
    { clients: [A], effect: 'deny', endpoints: [POST] },
    { clients: [B], endpoints: [GET, { method: 'GET', path: '/other' }] },
  ]
  t.same(cellOf(entries, A, undefined, { g: [A] }), { direct: 'allow', viaGroups: [{ group: 'g', effect: 'allow' }], other: [{ effect: 'deny', endpoints: [POST] }] })
  t.same(cellOf(entries, A, POST, {}, [POST]), { direct: 'deny', viaGroups: [], other: [] })
  t.same(cellOf(entries, B, undefined, {}, [GET]), { viaGroups: [], other: [{ effect: 'allow', endpoints: [{ method: 'GET', path: '/other' }] }] })
  t.equal(grantPattern('/subjekte/{nipt}/detyrime'), '/subjekte/*/detyrime')
})

t.test('setting a whole-service cell moves only that client', async t => {
  const entries: Entry[] = [{ clients: [A, B], groups: [] }, { clients: [A], endpoints: [GET] }]
  t.same(setCell(entries, A, undefined, 'deny'), [{ clients: [B], groups: [] }, { clients: [A], endpoints: [GET] }, { clients: [A], groups: [], effect: 'deny' }])
  t.same(setCell(entries, A, undefined, 'remove'), [{ clients: [B], groups: [] }, { clients: [A], endpoints: [GET] }])
  t.same(setCell([{ clients: [A], groups: [] }], B, undefined, 'allow'), [{ clients: [A, B], groups: [] }], 'joins the existing allow entry')
  t.same(setCell([{ clients: [A], groups: ['g'] }], A, undefined, 'remove'), [{ clients: [], groups: ['g'] }], 'a group keeps its entry')
})

t.test('setting an endpoint cell splits shared entries and keeps the other endpoints', async t => {
  const shared: Entry[] = [{ clients: [A, B], groups: [], endpoints: [GET, POST] }]
  t.same(setCell(shared, A, POST, 'remove'), [{ clients: [B], groups: [], endpoints: [GET, POST] }, { clients: [A], groups: [], endpoints: [GET] }])
  t.same(setCell(shared, A, POST, 'deny'), [{ clients: [B], groups: [], endpoints: [GET, POST] }, { clients: [A], groups: [], endpoints: [GET] }, { clients: [A], groups: [], endpoints: [POST], effect: 'deny' }])
  const own: Entry[] = [{ clients: [A], groups: [], endpoints: [GET] }]
  t.same(setCell(own, A, POST, 'allow'), [{ clients: [A], groups: [], endpoints: [GET, POST] }], 'added to the client\'s own entry')
  t.same(setCell(own, A, GET, 'remove'), [], 'the last endpoint gone, the entry goes')
})
