import { test } from 'tap'
import { clientKey, serviceKey, serviceText, type ServiceId } from '../../protocol/identifiers.ts'
import { uuidV4 } from '../../protocol/uuid.ts'

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

test('uuidV4: RFC 9562 version 4 text, unique over several batches, every hex digit used', async t => {
  const seen = new Set<string>()
  const digits = new Set<string>()
  const variants = new Set<string>()
  for (let i = 0; i < 1000; i++) {
    const id = uuidV4()
    if (!V4.test(id)) t.fail(`not a version 4 UUID: ${id}`)
    seen.add(id)
    variants.add(id[19])
    for (const c of id.replaceAll('-', '')) digits.add(c)
  }
  t.equal(seen.size, 1000, 'no id repeats, within a batch of random bytes or across batches')
  t.equal(digits.size, 16, 'the ids are random hex, not a fixed pattern')
  t.same([...variants].sort(), ['8', '9', 'a', 'b'], 'the variant nibble takes all four values 10xx')
  const a = uuidV4()
  const b = uuidV4()
  t.not(a, b, 'an id is a string of its own, not a view of the buffer it was written in')
  t.match(a, V4)
})

test('identifier texts: remembered for frozen ids, written out again for ids that can change', async t => {
  const frozen: ServiceId = Object.freeze({ instance: 'AL', memberClass: 'GOV', memberCode: 'K1', subsystemCode: 'sub', serviceCode: 'svc', serviceVersion: 'v1' })
  t.equal(serviceText(frozen), 'AL/GOV/K1/sub/svc/v1')
  t.equal(serviceText(frozen), 'AL/GOV/K1/sub/svc/v1', 'asked again: the same text')
  t.equal(serviceKey(frozen), 'AL/GOV/K1/sub/svc')
  t.equal(clientKey(frozen), 'AL/GOV/K1/sub', "a service id's client key is its provider")
  const open: ServiceId = { instance: 'AL', memberClass: 'GOV', memberCode: 'K1', serviceCode: 'svc' }
  t.equal(serviceText(open), 'AL/GOV/K1/svc')
  open.serviceVersion = 'v2'
  open.subsystemCode = 'sub'
  t.equal(serviceText(open), 'AL/GOV/K1/sub/svc/v2', 'a changed id gets its new text')
  t.equal(clientKey(open), 'AL/GOV/K1/sub')
})
