/** Console passwords: scrypt hashes that verify, refuse a wrong password, and refuse hashes they cannot trust. */
import t from 'tap'
import { DECOY_HASH, hashPassword, PASSWORD_HASH_PATTERN, passwordProblem, verifyPassword } from '../../admin/password.ts'

t.test('hash and verify', async t => {
  const h = await hashPassword('Bashkia-Shkodër-2026')
  t.match(h, new RegExp(PASSWORD_HASH_PATTERN))
  t.not(h, await hashPassword('Bashkia-Shkodër-2026'), 'salted')
  t.equal(await verifyPassword('Bashkia-Shkodër-2026', h), true)
  t.equal(await verifyPassword('Bashkia-Shkoder-2026', h), false)
  t.equal(await verifyPassword('', h), false)
  t.equal(await verifyPassword('anything at all', DECOY_HASH), false)
})

t.test('hashes with costs the node would never write are refused, not computed', async t => {
  const h = await hashPassword('correct horse battery')
  const parts = h.split('$')
  t.equal(await verifyPassword('correct horse battery', ['scrypt', String(1 << 24), ...parts.slice(2)].join('$')), false)
  t.equal(await verifyPassword('correct horse battery', ['scrypt', '1000', ...parts.slice(2)].join('$')), false)
  t.equal(await verifyPassword('correct horse battery', 'bcrypt$whatever'), false)
})

t.test('password rules: length only', async t => {
  t.match(passwordProblem('short'), /at least 12/)
  t.equal(passwordProblem('twelve chars'), undefined)
  t.match(passwordProblem('x'.repeat(201)), /at most 200/)
})
