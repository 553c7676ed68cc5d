import { test } from 'tap'
import { ParseCache } from '../../gateway/edge/parse-cache.ts'

test('parse cache: one parse per text, frozen values, failures never kept, bounded', async t => {
  let parses = 0
  const parse = (text: string): { n: number } => {
    parses++
    if (text === 'bad') throw new Error('bad input')
    return { n: Number(text) }
  }
  const cache = new ParseCache<{ n: number }>(3)
  const a = cache.get('1', parse)
  t.equal(cache.get('1', parse), a, 'the same value for the same text')
  t.equal(parses, 1)
  t.ok(Object.isFrozen(a), 'shared values cannot be changed by one request for the others')
  t.throws(() => { (a as { n: number }).n = 2 })
  t.throws(() => cache.get('bad', parse), /bad input/)
  t.throws(() => cache.get('bad', parse), /bad input/, 'a failure is parsed (and refused) again every time')
  t.equal(parses, 3)
  for (const text of ['2', '3', '4', '5', '6']) cache.get(text, parse)
  t.ok(cache.size <= 3, 'never more entries than its bound')
})
