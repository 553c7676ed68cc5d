/**
 * The console's diff rendering and its reading of `datetime-local` values as Tirana time: a line
 * diff that finds the changed lines (and keeps order), JSON diffs escaped and marked in words, and
 * wall-clock times on either side of Tirana's daylight-saving changes turned into the right instants.
 */
import t from 'tap'
import { jsonDiff, lineDiff, registryDiffView } from '../../admin/console/pages/diff-view.ts'
import { tiranaToIso } from '../../admin/console/pages/tirana-time.ts'

t.test('lineDiff keeps common lines and marks the rest, removals before additions', async t => {
  t.same(lineDiff(['a', 'b', 'c'], ['a', 'x', 'c', 'd']), [
    { op: ' ', text: 'a' }, { op: '-', text: 'b' }, { op: '+', text: 'x' }, { op: ' ', text: 'c' }, { op: '+', text: 'd' },
  ])
  t.same(lineDiff([], ['a']), [{ op: '+', text: 'a' }])
  t.same(lineDiff(['a'], []), [{ op: '-', text: 'a' }])
  const long = Array.from({ length: 3000 }, (_, i) => `line ${i}`)
  const changed = long.map((l, i) => i === 1500 ? 'changed' : l)
  const d = lineDiff(long, changed)
  t.same(d.filter(l => l.op !== ' '), [{ op: '-', text: 'line 1500' }, { op: '+', text: 'changed' }], 'a long text with one change')
})

t.test('jsonDiff: sorted keys, text markers, escaped values, unchanged runs folded', async t => {
  const before = { z: 1, name: '<b>old</b>', list: Array.from({ length: 20 }, (_, i) => i) }
  const after = { list: Array.from({ length: 20 }, (_, i) => i), name: '<b>new</b>', z: 1 }
  const out = jsonDiff(before, after, 'en').text
  t.match(out, /<span class="diff-del">− +&quot;name&quot;: &quot;&lt;b&gt;old&lt;\/b&gt;&quot;,<\/span><span class="diff-add">\+ +&quot;name&quot;: &quot;&lt;b&gt;new&lt;\/b&gt;&quot;,<\/span>/)
  t.match(out, /⋯ \d+ unchanged lines/)
  t.notMatch(out, /<b>/)
  t.equal(jsonDiff({ a: 1, b: 2 }, { b: 2, a: 1 }, 'sq').text, '<p>Asnjë ndryshim.</p>', 'key order is no change')
  t.match(jsonDiff(undefined, { a: 1 }, 'en').text, /<span class="diff-add">\+ \{<\/span>/, 'nothing before: all added')
})

t.test('registryDiffView lists each kind of entry with its marker', async t => {
  const none = { added: [], removed: [], changed: [] }
  const out = registryDiffView({ from: 1, to: 2, members: { added: ['A'], removed: ['B'], changed: ['C'] }, subsystems: none, groups: none, services: none, grants: none }, 'en').text
  t.match(out, /<h3>Members<\/h3><ul class="diff-list"><li class="diff-add">\+ <code>A<\/code>.*<li class="diff-del">− <code>B<\/code>.*<li>± <code>C<\/code>/)
  t.notMatch(out, /Subsystems/)
  t.equal(registryDiffView({ from: 1, to: 1, members: none, subsystems: none, groups: none, services: none, grants: none }, 'en').text, '<p>No difference.</p>')
})

t.test('tiranaToIso reads wall-clock times as Tirana time, summer and winter', async t => {
  t.equal(tiranaToIso('2025-01-15T10:00'), '2025-01-15T09:00:00.000Z', 'CET, UTC+1')
  t.equal(tiranaToIso('2025-07-15T10:00:30'), '2025-07-15T08:00:30.000Z', 'CEST, UTC+2')
  t.equal(tiranaToIso('2025-03-30T03:30'), '2025-03-30T01:30:00.000Z', 'just after the spring change')
  t.equal(tiranaToIso('2025-10-26T04:00'), '2025-10-26T03:00:00.000Z', 'just after the autumn change')
  t.equal(tiranaToIso('2025-13-01T10:00'), undefined, 'no thirteenth month')
  t.equal(tiranaToIso('2025-02-30T10:00'), undefined, 'no 30 February')
  t.equal(tiranaToIso('10:00'), undefined)
})
