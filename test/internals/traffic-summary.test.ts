/** The traffic summary's arithmetic (messagelog/traffic.ts): percentiles from the duration histogram, buckets, the slowest service per provider. */
import t from 'tap'
import { DURATION_BINS_MS } from '../../messagelog/exchanges.ts'
import { quantile, summariseTraffic } from '../../messagelog/traffic.ts'

const bins = (counts: Record<number, number>): number[] => Array.from({ length: DURATION_BINS_MS.length + 1 }, (_, i) => counts[i] ?? 0)
const bin = (ms: number): number => { const i = DURATION_BINS_MS.findIndex(b => ms <= b); return i < 0 ? DURATION_BINS_MS.length : i }

t.test('a percentile is interpolated within its bin; beyond the last bound it is the last bound', async t => {
  t.equal(quantile(bins({}), 0.5), null, 'nothing answered')
  t.equal(quantile(bins({ [bin(30)]: 4 }), 0.5), 35, 'half way through (20, 50]')
  t.equal(quantile(bins({ [bin(0.5)]: 1 }), 0.95), 1, 'the first bin starts at 0 (0.95, to a tenth of a ms)')
  t.equal(quantile(bins({ [bin(8)]: 19, [bin(900)]: 1 }), 0.95), 10, 'p95 of twenty: the nineteenth')
  t.equal(quantile(bins({ [bin(8)]: 18, [bin(900)]: 2 }), 0.95), 750, 'one more slow one moves it into the slow bin')
  t.equal(quantile(bins({ [bin(120_000)]: 3 }), 0.5), 60_000, 'slower than anything measured')
})

t.test('buckets, errors and the slowest service per provider', async t => {
  const from = new Date('2026-03-10T11:00:00Z')
  const to = new Date('2026-03-10T12:00:00Z')
  const A = 'AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet'
  const B = 'AL-DEV/NJQV/L21603004L/gjendja-civile/akte'
  const s = summariseTraffic([
    { service: A, bucket: 0, bin: bin(8), failed: false, count: 3 },
    { service: A, bucket: 11, bin: -1, failed: true, count: 1 },
    { service: B, bucket: 5, bin: bin(400), failed: true, count: 2 },
  ], { from, to, bucketMs: 5 * 60 * 1000 })
  t.equal(s.series.length, 12)
  t.same(s.series.map(b => b.exchanges), [3, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1])
  t.same(s.series.map(b => b.errors), [0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1])
  const a = s.services.find(x => x.service === A)!
  t.same([a.exchanges, a.errors, a.errorRate, a.p50Ms], [4, 1, 0.25, 7.5], 'an unanswered exchange is an error without a duration')
  t.same(s.providers, [{ member: 'AL-DEV/NJQV/L21603004L', exchanges: 6, errors: 3, slowest: { service: B, p50Ms: 350, p95Ms: 485 } }])
})
