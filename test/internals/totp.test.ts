/** RFC 6238 Appendix B (SHA-1) and RFC 4226 Appendix D vectors pin the one-time-password code. */
import t from 'tap'
import { base32Decode, base32Encode, hotp, matchTotp, newTotpSecret, otpauthUri, totpCode } from '../../admin/totp.ts'

const KEY = Buffer.from('12345678901234567890', 'ascii')

t.test('HOTP values of RFC 4226 Appendix D', async t => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489']
  t.same(expected.map((_, i) => hotp(KEY, i)), expected)
})

t.test('TOTP values of RFC 6238 Appendix B (SHA-1, 8 digits)', async t => {
  const cases: Array<[number, string]> = [[59, '94287082'], [1111111109, '07081804'], [1111111111, '14050471'], [1234567890, '89005924'], [2000000000, '69279037'], [20000000000, '65353130']]
  for (const [seconds, code] of cases) t.equal(hotp(KEY, Math.floor(seconds / 30), 8), code, `T=${seconds}`)
})

t.test('base32 round trip and the secret form', async t => {
  t.equal(base32Encode(KEY), 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ')
  t.same(base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'), KEY)
  t.throws(() => base32Decode('GEZ1'), /not a base32 character/)
  const secret = newTotpSecret()
  t.match(secret, /^[A-Z2-7]{32}$/)
  t.not(secret, newTotpSecret())
  t.match(otpauthUri(secret, 'akshi admin'), new RegExp(`^otpauth://totp/ura%3Aakshi%20admin\\?secret=${secret}&issuer=ura&`))
})

t.test('a code is accepted one step either side of now, and says its step', async t => {
  const secret = base32Encode(KEY)
  const at = new Date(1111111111 * 1000)
  const step = Math.floor(1111111111 / 30)
  t.equal(matchTotp(secret, totpCode(secret, at), at), step)
  t.equal(matchTotp(secret, totpCode(secret, new Date(at.getTime() - 30_000)), at), step - 1)
  t.equal(matchTotp(secret, totpCode(secret, new Date(at.getTime() + 30_000)), at), step + 1)
  t.equal(matchTotp(secret, totpCode(secret, new Date(at.getTime() - 90_000)), at), undefined)
  t.equal(matchTotp(secret, '12345', at), undefined)
  t.equal(matchTotp(secret, 'abcdef', at), undefined)
})
