/**
 * Conformance: Debian's xmllint (package libxml2-utils) against the schema case table — the
 * independent XSD validator the project was first checked with. It must agree with the in-process
 * validator on every row but the hooks, and with the WebAssembly build `npm test` uses instead.
 * Needs the xmllint binary on PATH; without it this file fails (it never skips).
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { validateXML } from 'xmllint-wasm'
import { CASES } from '../test/support/schema-cases.ts'
import { CASES_XSD, caseDocument, schemaFiles, validWithoutHooks, xmllintVerdicts } from '../test/support/xmllint.ts'

const version = spawnSync('xmllint', ['--version'], { encoding: 'utf8' })
if (version.error !== undefined) {
  t.fail(`xmllint could not be run (${version.error.message}): install the Debian package libxml2-utils (.ci/run does)`)
} else {
  t.comment((version.stderr.split('\n')[0] ?? '').trim())

  t.test('xmllint agrees with the in-process XSD validator on every row but the hooks', async t => {
    const dir = await mkdtemp(join(tmpdir(), 'ura-xmllint-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    const files = await Promise.all(CASES.map(async (c, i) => {
      const file = join(dir, `case-${i}.xml`)
      await writeFile(file, caseDocument(c))
      return file
    }))
    const run = spawnSync('xmllint', ['--noout', '--nonet', '--schema', CASES_XSD, ...files], { encoding: 'utf8' })
    t.equal(run.error, undefined, 'xmllint ran')
    const verdicts = xmllintVerdicts(run.stderr)
    t.equal(verdicts.size, CASES.length, 'xmllint gave a verdict for every case')
    CASES.forEach((c, i) => {
      t.equal(verdicts.get(files[i]), validWithoutHooks(c), `xmllint: ${c.type} ${JSON.stringify(c.value)} (${c.why})`)
    })

    // The WebAssembly build that npm test relies on says the same, file by file.
    const [schema, ...imported] = schemaFiles(CASES_XSD)
    const wasm = xmllintVerdicts((await validateXML({ xml: CASES.map((c, i) => ({ fileName: `case-${i}.xml`, contents: caseDocument(c) })), schema, preload: imported })).rawOutput)
    t.same(CASES.map((_, i) => wasm.get(`case-${i}.xml`)), files.map(f => verdicts.get(f)), 'xmllint-wasm and the xmllint binary agree on every row')
  })
}
