/** The overview's SVG bar chart: bars proportional to the counts, errors drawn on top, labelled for screen readers, values escaped. */
import t from 'tap'
import { barChart } from '../../admin/console/chart.ts'

t.test('bars scale to the largest bucket; errors are their own rectangles', async t => {
  const svg = barChart({ id: 'c', title: 'Exchanges', description: 'per 5 minutes', buckets: [{ label: '10:00', total: 10, errors: 0 }, { label: '10:05', total: 5, errors: 5 }, { label: '10:10', total: 0, errors: 0 }], width: 300, height: 108 }).text
  const heights = [...svg.matchAll(/class="bar" x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)"/g)].map(m => Number(m[1]))
  t.same(heights, [82, 0, 0], 'the full bar is the plot height; a bucket of errors only has no ok part')
  const errs = [...svg.matchAll(/class="err" x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)"/g)].map(m => Number(m[1]))
  t.same(errs, [41])
  t.match(svg, /role="img"/)
  t.match(svg, /<title id="c-t">Exchanges<\/title><desc id="c-d">per 5 minutes<\/desc>/)
  t.match(svg, /<title>10:05: 5 \(5 ✗\)<\/title>/)
})

t.test('labels are escaped and an empty series still draws', async t => {
  const svg = barChart({ id: 'x', title: '<b>', description: '"q"', buckets: [] }).text
  t.match(svg, /&lt;b&gt;/)
  t.match(svg, /&quot;q&quot;/)
  t.notMatch(svg, /<b>/)
})
