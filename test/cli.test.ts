/** The `ura` command line itself: its help, and how it refuses what it does not understand. */
import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import t from 'tap'
import { totpCode } from '../admin/totp.ts'

const URA = resolve(import.meta.dirname, '../bin/ura.js')

/** Every command with the options its help must show. */
const COMMANDS: Record<string, string[]> = {
  'start': ['--config <dir>', '--demo'],
  'config check': [],
  'config import': ['--config <dir>', '--store <file|url>', '--why <text>', '--who <name>', '--expect <n>'],
  'config export': ['--config <dir>', '--store <file|url>', '--version <n>'],
  'init': ['--data <dir>', '--config <dir>', '--member-key <type>'],
  'cert request': ['--id <id>', '--usage <u>', '--name <text>', '--key-type <type>', '--out <dir>'],
  'cert issue': ['--data <dir>', '--config <dir>', '--usage <u>', '--days <n>', '--out <file>'],
  'cert revoke': ['--data <dir>', '--config <dir>', '--reason <text>'],
  'cert list': ['--data <dir>', '--config <dir>', '--json'],
  'log verify': ['--config <dir>', '--ca <ca.pem>', '--archive <dir>', '--no-archive', '--quiet'],
  'log archive': ['--config <dir>', '--before <date | Nd>', '--to <dir>', '--ca <ca.pem>'],
  'log evidence': ['--config <dir>', '--archive <dir>', '--no-archive', '--out <file>'],
  'log prune': ['--config <dir>', '--days <n>'],
  'audit verify': ['--config <dir>', '--ca <ca.pem>'],
  'queue list': ['--config <dir>', '--admin <url>', '--ca <ca.pem>', '--json'],
  'queue jobs': ['--config <dir>', '--admin <url>', '--ca <ca.pem>', '--json', '--state <state>', '--limit <n>'],
  'queue show': ['--config <dir>', '--admin <url>', '--ca <ca.pem>', '--json'],
  'queue redrive': ['--config <dir>', '--admin <url>', '--ca <ca.pem>', '--json', '--reason <text>'],
  'verify': ['--ca <ca.pem>'],
  'totp': ['--at <time>'],
}

/** One `ura` process; the tests run them one after the other, not to crowd the tests running alongside. */
function ura (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(done => {
    execFile(process.execPath, [URA, ...args], { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
    })
  })
}

t.test('ura --help lists every command by the line that runs it', async t => {
  const help = await ura('--help')
  const bare = await ura()
  t.equal(help.code, 0)
  for (const name of Object.keys(COMMANDS)) t.match(help.stdout, new RegExp(`^  ura ${name} `, 'm'), name)
  t.match(help.stdout, /ura config check <dir>/, 'with its arguments')
  t.equal(bare.code, 0, 'ura alone prints the same help')
  t.equal(bare.stdout, help.stdout)
})

t.test('ura <command> --help shows its options', async t => {
  const helps: Record<string, string> = {}
  for (const [name, options] of Object.entries(COMMANDS)) {
    const help = await ura(...name.split(' '), '--help')
    t.equal(help.code, 0, name)
    t.match(help.stdout, `Usage: ura ${name} `, name)
    for (const option of [...options, '-h, --help']) t.match(help.stdout, `  ${option}`, `${name}: ${option}`)
    helps[name] = help.stdout
  }
  t.match(helps['cert issue'], /--days <n> +validity in days \(default: 365\)/, 'defaults are shown')
  t.match(helps.init, /choices: "ec-p256",\s+"rsa-2048",\s+"rsa-3072"/, 'so are choices')
})

t.test('ura <group> --help lists the commands of the group', async t => {
  for (const group of ['config', 'cert', 'log', 'audit', 'queue']) {
    const help = await ura(group, '--help')
    t.equal(help.code, 0, group)
    for (const name of Object.keys(COMMANDS).filter(name => name.startsWith(`${group} `))) t.match(help.stdout, `ura ${name} `, name)
    t.notMatch(help.stdout, /ura (start|init) /, `${group}: only its own commands`)
  }
})

t.test('an unknown command is refused, naming it', async t => {
  const top = await ura('launch')
  t.equal(top.code, 2)
  t.match(top.stderr, /^error: unknown command 'launch'$/m)
  t.match(top.stderr, /ura cert issue/, 'followed by the commands there are')
  t.equal(top.stdout, '')
  const nested = await ura('cert', 'sign')
  t.equal(nested.code, 2)
  t.match(nested.stderr, /^error: unknown command 'sign'$/m)
  t.match(nested.stderr, /ura cert request/)
  const group = await ura('log')
  t.equal(group.code, 2, 'a group without its command')
  t.match(group.stderr, /ura log verify/)
})

t.test('an unknown option is refused, naming it', async t => {
  const start = await ura('start', '--bogus')
  t.equal(start.code, 2)
  t.match(start.stderr, /^error: unknown option '--bogus'$/m)
  t.match(start.stderr, /ura start --help/)
  const typo = await ura('log', 'verify', '--cas', 'ca.pem')
  t.equal(typo.code, 2)
  t.match(typo.stderr, /unknown option '--cas'\n\(Did you mean --ca\?\)/)
})

t.test('numbers are parsed and checked before the command runs', async t => {
  const zero = await ura('cert', 'issue', 'missing.csr.pem', '--days', '0')
  t.equal(zero.code, 2)
  t.match(zero.stderr, /^error: option '--days <n>' argument '0' is invalid\. It must be a whole number from 1 to 3650\.$/m)
  t.notMatch(zero.stderr, /ENOENT/, 'refused before the request file is read')
  const fraction = await ura('cert', 'issue', 'missing.csr.pem', '--days', '1.5')
  t.equal(fraction.code, 2)
  t.match(fraction.stderr, /option '--days <n>' argument '1\.5' is invalid/)
  const word = await ura('log', 'prune', '--days', 'soon')
  t.equal(word.code, 2)
  t.match(word.stderr, /option '--days <n>' argument 'soon' is invalid\. It must be a whole number, at least 0\./)
  const negative = await ura('log', 'prune', '--days', '-1')
  t.equal(negative.code, 2)
  t.match(negative.stderr, /option '--days <n>' argument '-1' is invalid/)
})

t.test('other usage errors: a value outside its choices, a missing option, an extra argument', async t => {
  const keyType = await ura('init', '--member-key', 'dsa')
  t.equal(keyType.code, 2)
  t.match(keyType.stderr, /option '--member-key <type>' argument 'dsa' is invalid\. Allowed choices are ec-p256, rsa-2048, rsa-3072\./)
  const noCa = await ura('verify', 'evidence.json')
  t.equal(noCa.code, 2)
  t.match(noCa.stderr, /required option '--ca <ca\.pem>' not specified/)
  const extra = await ura('config', 'check', 'a', 'b')
  t.equal(extra.code, 2)
  t.match(extra.stderr, /too many arguments for 'check'/)
})

t.test('ura totp prints the code an authenticator shows for a console sign-in secret', async t => {
  // RFC 6238's SHA-1 test key ("12345678901234567890") at 59 s: 94287082, of which six digits.
  const vector = await ura('totp', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', '--at', '1970-01-01T00:00:59Z')
  t.same(vector, { code: 0, stdout: '287082\n', stderr: '' })
  // A demo operator's secret, typed as apps show it (groups, lower case): the code of now.
  const secret = 'OWWZJM7E75UFIBIC6VZCD5IZW3U5CYBB'
  const before = totpCode(secret, new Date())
  const now = await ura('totp', 'owwz jm7e 75uf ibic 6vzc d5iz w3u5 cybb')
  const after = totpCode(secret, new Date())
  t.equal(now.code, 0)
  t.ok([before, after].includes(now.stdout.trim()), `${now.stdout.trim()} is the current code`)
  const bad = await ura('totp', 'not-base32!')
  t.equal(bad.code, 2)
  t.match(bad.stderr, /value 'not-base32!' is invalid for argument 'secret'\. It must be a base32 TOTP secret/)
  const when = await ura('totp', secret, '--at', 'tomorrow')
  t.equal(when.code, 2)
  t.match(when.stderr, /option '--at <time>' argument 'tomorrow' is invalid/)
})
