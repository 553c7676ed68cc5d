/** cli/progress.ts: one line redrawn on a terminal, plain lines every few seconds elsewhere, rate and ETA. */
import t from 'tap'
import { progressReporter } from '../../cli/progress.ts'

function capture (isTTY: boolean) {
  const written: string[] = []
  return { out: { isTTY, write: (s: string) => { written.push(s) } }, written }
}

t.test('off a terminal: a plain line every few seconds, then the closing line', async t => {
  let now = 0
  const { out, written } = capture(false)
  const p = progressReporter({ total: 100_000, out, everyMs: 5000, now: () => now })
  now = 1000; p.add(20_000)
  t.same(written, [], 'nothing before the interval')
  now = 5000; p.add(30_000)
  t.same(written, ['records 50,000 / 100,000 · 10,000 rec/s · ETA 5 s\n'])
  now = 6000; p.add(10_000)
  t.equal(written.length, 1, 'at most one line per interval')
  now = 10_000; p.add(40_000)
  p.done()
  t.same(written.slice(1), ['records 100,000 / 100,000 · 10,000 rec/s · ETA 0 s\n', 'checked 100,000 records in 10.00 s (10,000 records/s)\n'])
  t.notOk(written.join('').includes('\r'), 'no terminal control')
})

t.test('on a terminal: one line rewritten in place, cleared at the end', async t => {
  let now = 0
  const { out, written } = capture(true)
  const p = progressReporter({ total: 1_000_000, out, now: () => now })
  now = 50; p.add(1000)
  t.same(written, [], 'redrawn at most every 100 ms')
  now = 200; p.add(1000)
  now = 120_200; p.add(598_000)
  t.same(written, ['\r\x1b[Krecords 2,000 / 1,000,000 · 10,000 rec/s · ETA 1 min 40 s', '\r\x1b[Krecords 600,000 / 1,000,000 · 4,992 rec/s · ETA 1 min 20 s'])
  p.done()
  t.equal(written[2], '\r\x1b[K', 'the progress line is cleared')
  t.match(written[3], /^checked 600,000 records in 120\.20 s \(4,992 records\/s\)\n$/)
})
