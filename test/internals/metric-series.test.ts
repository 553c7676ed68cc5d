import { test } from 'tap'
import { Registry } from 'prom-client'
import { LightCounter, LightHistogram } from '../../gateway/ops/metric-series.ts'

test('light histogram: cumulative buckets, sum and count in the exposition format', async t => {
  const registry = new Registry()
  const h = new LightHistogram({ name: 'x_seconds', help: 'x', labelNames: ['kind'], buckets: [0.1, 0.5, 1], registers: [registry] })
  const a = h.labels({ kind: 'a' })
  // On a bound the value belongs to that bucket (le is "less than or equal").
  for (const v of [0.05, 0.1, 0.3, 0.5, 0.9, 7]) a.observe(v)
  t.equal(h.labels({ kind: 'a' }), a, 'the same labels give the same series')
  h.labels({ kind: 'b' }).observe(0.2)
  const text = await registry.metrics()
  t.match(text, '# TYPE x_seconds histogram')
  const value = (series: string): number => Number(new RegExp(`^${series.replace(/[{}+."]/g, c => '\\' + c)} (\\S+)$`, 'm').exec(text)?.[1])
  t.equal(value('x_seconds_bucket{le="0.1",kind="a"}'), 2)
  t.equal(value('x_seconds_bucket{le="0.5",kind="a"}'), 4)
  t.equal(value('x_seconds_bucket{le="1",kind="a"}'), 5)
  t.equal(value('x_seconds_bucket{le="+Inf",kind="a"}'), 6)
  t.equal(value('x_seconds_count{kind="a"}'), 6)
  t.ok(Math.abs(value('x_seconds_sum{kind="a"}') - 8.85) < 1e-9)
  t.equal(value('x_seconds_bucket{le="0.1",kind="b"}'), 0)
  t.equal(value('x_seconds_bucket{le="0.5",kind="b"}'), 1)
})

test('light counter: one line per label set, values add up, label values escaped', async t => {
  const registry = new Registry()
  const c = new LightCounter({ name: 'y_total', help: 'y', labelNames: ['who'], registers: [registry] })
  c.labels({ who: 'a' }).inc()
  c.labels({ who: 'a' }).inc(2)
  c.labels({ who: 'say "hi"' }).inc()
  const text = await registry.metrics()
  t.match(text, '# TYPE y_total counter')
  t.match(text, 'y_total{who="a"} 3')
  t.match(text, 'y_total{who="say \\"hi\\""} 1')
  t.throws(() => new LightCounter({ name: 'y_total', help: 'again', labelNames: [], registers: [registry] }), 'names stay unique in a registry')
})
