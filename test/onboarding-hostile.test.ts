/**
 * A hostile corpus against the public onboarding endpoints: wrong content types and broken multipart,
 * cross-site posts, letters that are not PDFs or too large, unknown and oversized fields, bad NIPT
 * and NID, CSR garbage, CSRs for another subject, path tricks in ids, wrong and replayed status
 * tokens. Every case is answered with its typed error, the registry does not move, and the server
 * goes on serving (a good application is accepted at the end).
 */
import { once } from 'node:events'
import { connect } from 'node:net'
import t from 'tap'
import { LETTER_MAX_BYTES } from '../admin/onboarding/application.ts'
import type { OnboardingErrorCode } from '../admin/onboarding/errors.ts'
import { generateKeyPair } from '../certs/pki.ts'
import { applicant, call, csr, encode, INSTANCE, parts, PDF, serve, submit, withCheckLetter, type Answer, type FormPart } from './support/onboarding.ts'

interface Case { name: string; run: () => Promise<Answer>; status: number; type: OnboardingErrorCode }

const NIPT = withCheckLetter('L72206043')
const MEMBER = `${INSTANCE}/NJQV/${NIPT}`
const good = applicant(NIPT)
const set = (name: string, value: string | string[] | undefined): Record<string, string | string[]> => {
  const f = { ...good.fields }
  if (value === undefined) delete f[name]
  else f[name] = value
  return f
}
const letter = (value: Buffer | string, filename = 'kerkesa.pdf', type = 'application/pdf'): FormPart => ({ name: 'letter', value, filename, type })

/** A CSR whose signature no longer matches its content. */
function tampered (pem: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
  der[der.length - 3] ^= 0x01
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`
}

/** Raw bytes on a fresh connection: for framing no HTTP client would send. */
async function raw (port: number, text: string): Promise<Answer> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const chunks: Buffer[] = []
  socket.on('data', c => chunks.push(c))
  socket.end(text)
  await once(socket, 'close')
  const all = Buffer.concat(chunks).toString('utf8')
  const body = all.slice(all.indexOf('\r\n\r\n') + 4)
  let json: any
  try { json = JSON.parse(body) } catch { json = undefined }
  const headers: Record<string, string> = {}
  for (const line of all.slice(0, all.indexOf('\r\n\r\n')).split('\r\n').slice(1)) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(all)?.[1] ?? 0), headers, text: body, json }
}

t.test('hostile public submissions and status calls', async t => {
  const { base, store } = await serve(t)
  const port = Number(new URL(base).port)
  const url = `${base}/public/v1/applications`

  // One real application, so tokens and ids can be replayed against it.
  const real = await submit(base, parts(applicant(withCheckLetter('J91402501')).fields))
  t.equal(real.status, 201)
  const other = await submit(base, parts(applicant(withCheckLetter('K22218003')).fields))
  const realUrl = `${url}/${real.json.id}`
  const token = real.json.statusToken as string
  const version = (await store.current()).version

  const post = async (list: FormPart[], headers: Record<string, string> = {}): Promise<Answer> => await submit(base, list, headers)
  const postRaw = async (body: string | Buffer, contentType: string | undefined): Promise<Answer> => await call(url, { method: 'POST', headers: contentType === undefined ? {} : { 'content-type': contentType }, body })
  const goodForm = await encode(parts(good.fields))
  const boundary = goodForm.contentType.split('boundary=')[1]
  const otherKey = generateKeyPair()

  const cases: Case[] = [
    // Content types and framing.
    { name: 'JSON body', run: () => postRaw(JSON.stringify({ institution: {} }), 'application/json'), status: 415, type: 'Onboarding.UnsupportedMediaType' },
    { name: 'text/plain', run: () => postRaw('hello', 'text/plain'), status: 415, type: 'Onboarding.UnsupportedMediaType' },
    { name: 'url-encoded form', run: () => postRaw('institution.name=x', 'application/x-www-form-urlencoded'), status: 415, type: 'Onboarding.UnsupportedMediaType' },
    { name: 'XML', run: () => postRaw('<a/>', 'application/xml'), status: 415, type: 'Onboarding.UnsupportedMediaType' },
    { name: 'multipart without a boundary', run: () => postRaw(goodForm.body, 'multipart/form-data'), status: 400, type: 'Onboarding.InvalidMultipart' },
    { name: 'multipart with another boundary', run: () => postRaw(goodForm.body, 'multipart/form-data; boundary=nothere'), status: 400, type: 'Onboarding.InvalidMultipart' },
    { name: 'multipart garbage', run: () => postRaw('\x00\x01garbage', goodForm.contentType), status: 400, type: 'Onboarding.InvalidMultipart' },
    { name: 'multipart cut short', run: () => postRaw(goodForm.body.subarray(0, goodForm.body.length - 200), goodForm.contentType), status: 400, type: 'Onboarding.InvalidMultipart' },
    { name: 'an empty multipart body', run: () => postRaw(`--${boundary}--\r\n`, goodForm.contentType), status: 400, type: 'Onboarding.LetterMissing' },
    { name: 'thousands of tiny parts', run: () => postRaw(Array.from({ length: 2000 }, (_, i) => `--${boundary}\r\nContent-Disposition: form-data; name="services"\r\n\r\n${i}\r\n`).join('') + `--${boundary}--\r\n`, goodForm.contentType), status: 400, type: 'Onboarding.InvalidMultipart' },
    { name: 'a body over the limit', run: () => postRaw(Buffer.alloc(LETTER_MAX_BYTES + 300 * 1024, 0x41), goodForm.contentType), status: 413, type: 'Onboarding.RequestTooLarge' },
    { name: 'a query string on submit', run: () => call(`${url}?token=x`, { method: 'POST', headers: { 'content-type': goodForm.contentType }, body: goodForm.body }), status: 400, type: 'Onboarding.InvalidRequest' },
    { name: 'a declared length over the limit', run: () => raw(port, `POST /public/v1/applications HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${goodForm.contentType}\r\nContent-Length: ${LETTER_MAX_BYTES * 4}\r\nConnection: close\r\n\r\nx`), status: 413, type: 'Onboarding.RequestTooLarge' },

    // Cross-site requests.
    { name: 'Sec-Fetch-Site: cross-site', run: () => post(parts(good.fields), { 'sec-fetch-site': 'cross-site' }), status: 403, type: 'Onboarding.CrossSiteRequest' },
    { name: 'Sec-Fetch-Site: same-site', run: () => post(parts(good.fields), { 'sec-fetch-site': 'same-site' }), status: 403, type: 'Onboarding.CrossSiteRequest' },
    { name: 'a foreign Origin', run: () => post(parts(good.fields), { origin: 'https://evil.example' }), status: 403, type: 'Onboarding.CrossSiteRequest' },
    { name: 'Origin: null', run: () => post(parts(good.fields), { origin: 'null' }), status: 403, type: 'Onboarding.CrossSiteRequest' },
    { name: 'an Origin on another port', run: () => post(parts(good.fields), { origin: `http://127.0.0.1:${port + 1}` }), status: 403, type: 'Onboarding.CrossSiteRequest' },
    { name: 'a cross-site token request', run: () => call(`${realUrl}/token`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'sec-fetch-site': 'cross-site' } }), status: 403, type: 'Onboarding.CrossSiteRequest' },

    // The letter.
    { name: 'no letter', run: () => post(parts(good.fields, null)), status: 400, type: 'Onboarding.LetterMissing' },
    { name: 'the letter as a text field', run: () => post([...parts(good.fields, null), { name: 'letter', value: PDF.toString('latin1') }]), status: 400, type: 'Onboarding.LetterMissing' },
    { name: 'an HTML letter', run: () => post(parts(good.fields, letter('<html><script>alert(1)</script></html>', 'kerkesa.pdf', 'application/pdf'))), status: 400, type: 'Onboarding.LetterNotPdf' },
    { name: 'a PNG letter', run: () => post(parts(good.fields, letter(Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), 'kerkesa.png', 'image/png'))), status: 400, type: 'Onboarding.LetterNotPdf' },
    { name: 'PDF bytes declared as HTML', run: () => post(parts(good.fields, letter(PDF, 'kerkesa.html', 'text/html'))), status: 400, type: 'Onboarding.LetterNotPdf' },
    { name: 'a PDF without %%EOF', run: () => post(parts(good.fields, letter(Buffer.concat([PDF.subarray(0, 30), Buffer.alloc(4096, 0x20)])))), status: 400, type: 'Onboarding.LetterNotPdf' },
    { name: 'an empty letter', run: () => post(parts(good.fields, letter(Buffer.alloc(0)))), status: 400, type: 'Onboarding.LetterNotPdf' },
    { name: 'a letter over 5 MiB', run: () => post(parts(good.fields, letter(Buffer.concat([PDF.subarray(0, 9), Buffer.alloc(LETTER_MAX_BYTES, 0x20), Buffer.from('%%EOF\n')])))), status: 413, type: 'Onboarding.LetterTooLarge' },
    { name: 'two letters', run: () => post([...parts(good.fields), letter(PDF)]), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'a path in the letter name, then an unknown field', run: () => post([...parts(good.fields, letter(PDF, '../../../etc/passwd')), { name: 'letter.path', value: '/etc' }]), status: 400, type: 'Onboarding.InvalidApplication' },

    // Fields.
    { name: 'an unknown field', run: () => post(parts(set('institution.admin', 'true'))), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: '__proto__ as a field', run: () => post([...parts(good.fields), { name: '__proto__', value: '{"polluted":1}' }]), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'institution.__proto__', run: () => post([...parts(good.fields), { name: 'institution.__proto__', value: 'x' }]), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'systems[0].__proto__', run: () => post([...parts(good.fields), { name: 'systems[0].__proto__', value: 'x' }]), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'an eleventh system', run: () => post(parts(set('systems[10].code', 'x'))), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'a hole in the systems', run: () => post(parts(set('systems[2].code', 'x'))), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'no institution name', run: () => post(parts(set('institution.name', undefined))), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'a 10 000-character name', run: () => post(parts(set('institution.name', 'Bashkia '.repeat(1250)))), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'a name of blanks', run: () => post(parts(set('institution.name', '    '))), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'a newline in a name', run: () => post(parts(set('employee.name', 'Elira\nBcc: all@example.com'))), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'a NUL in a position', run: () => post(parts(set('employee.position', 'IT\u0000'))), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'an e-mail without @', run: () => post(parts(set('employee.email', 'elira.hoxha'))), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'an e-mail with spaces', run: () => post(parts(set('employee.email', 'a b@c.al'))), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'a phone of letters', run: () => post(parts(set('employee.phone', 'call me'))), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'a field twice', run: () => post([...parts(good.fields), { name: 'employee.nid', value: 'I50314123V' }]), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'services as a file', run: () => post([...parts(set('services', undefined)), { name: 'services', value: 'x', filename: 's.txt', type: 'text/plain' }]), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'the name as a file', run: () => post([...parts(set('institution.name', undefined)), { name: 'institution.name', value: 'x', filename: 'n.txt' }]), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'a 20 000-character CSR', run: () => post(parts(set('sealCsr', 'A'.repeat(20000)))), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'a CSR file over 64 KiB', run: () => post([...parts(set('sealCsr', undefined)), { name: 'sealCsr', value: Buffer.alloc(70000, 0x41), filename: 'seal.csr' }]), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: '21 services', run: () => post(parts(set('services', Array.from({ length: 21 }, (_, i) => `AL-DEV/GOV/X/y/s${i}`)))), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'a service that is no id', run: () => post(parts(set('services', ['../../admin']))), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'a service twice', run: () => post(parts(set('services', [good.fields.services[0], good.fields.services[0]]))), status: 400, type: 'Onboarding.InvalidApplication' },
    { name: 'no systems', run: () => post(parts(Object.fromEntries(Object.entries(good.fields).filter(([k]) => !k.startsWith('systems'))))), status: 400, type: 'Onboarding.InvalidApplication' },

    // NIPT, NID, class, subsystem codes.
    { name: 'a NIPT with a wrong check letter', run: () => post(parts(set('institution.nipt', NIPT.slice(0, 9) + (NIPT[9] === 'A' ? 'B' : 'A')))), status: 400, type: 'Onboarding.InvalidNipt' },
    { name: 'the placeholder NIPT K12345678A', run: () => post(parts(set('institution.nipt', 'K12345678A'))), status: 400, type: 'Onboarding.InvalidNipt' },
    { name: 'a NIPT of digits', run: () => post(parts(set('institution.nipt', '1234567890'))), status: 400, type: 'Onboarding.InvalidNipt' },
    { name: 'a NID with a wrong check letter', run: () => post(parts(set('employee.nid', 'H71211672A'))), status: 400, type: 'Onboarding.InvalidNid' },
    { name: 'a NID of the wrong shape', run: () => post(parts(set('employee.nid', 'Z00000000Z'))), status: 400, type: 'Onboarding.InvalidNid' },
    { name: 'an unknown member class', run: () => post(parts(set('institution.memberClass', 'XYZ'))), status: 400, type: 'Onboarding.InvalidMemberClass' },
    { name: 'a slash in a subsystem code', run: () => post(parts(set('systems[0].code', 'arkiva/../admin'))), status: 400, type: 'Onboarding.InvalidSubsystemCode' },
    { name: 'a non-ASCII subsystem code', run: () => post(parts(set('systems[0].code', 'arkivë'))), status: 400, type: 'Onboarding.InvalidSubsystemCode' },
    { name: 'the same system twice', run: () => post(parts({ ...good.fields, 'systems[1].code': 'arkiva', 'systems[1].csr': good.fields['systems[0].csr'] })), status: 400, type: 'Onboarding.DuplicateSystem' },

    // CSRs.
    { name: 'CSR garbage', run: () => post(parts(set('systems[0].csr', 'not a csr at all'))), status: 400, type: 'Onboarding.InvalidCsr' },
    { name: 'base64 garbage in a CSR block', run: () => post(parts(set('sealCsr', '-----BEGIN CERTIFICATE REQUEST-----\nAAAAAAAAAAAAAAAAAAAA\n-----END CERTIFICATE REQUEST-----\n'))), status: 400, type: 'Onboarding.InvalidCsr' },
    { name: 'a CSR with a broken signature', run: () => post(parts(set('systems[0].csr', tampered(good.fields['systems[0].csr'] as string)))), status: 400, type: 'Onboarding.InvalidCsr' },
    { name: 'a certificate instead of a CSR', run: () => post(parts(set('sealCsr', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'))), status: 400, type: 'Onboarding.InvalidCsr' },
    { name: 'two CSRs in one field', run: () => post(parts(set('sealCsr', (good.fields.sealCsr as string) + csr(MEMBER).pem))), status: 400, type: 'Onboarding.InvalidCsr' },
    { name: 'text before the CSR', run: () => post(parts(set('sealCsr', `Subject: me\n${good.fields.sealCsr as string}`))), status: 400, type: 'Onboarding.InvalidCsr' },
    { name: 'a CSR for another member', run: () => post(parts(set('systems[0].csr', csr('AL-DEV/GOV/K11503002N/arkiva').pem))), status: 400, type: 'Onboarding.CsrSubjectMismatch' },
    { name: 'a CSR for another instance', run: () => post(parts(set('systems[0].csr', csr(`AL/NJQV/${NIPT}/arkiva`).pem))), status: 400, type: 'Onboarding.CsrSubjectMismatch' },
    { name: 'a CSR whose CN names someone else', run: () => post(parts(set('systems[0].csr', csr(`${MEMBER}/arkiva`, { cn: 'AL-DEV/GOV/K11503002N/e-albania' }).pem))), status: 400, type: 'Onboarding.CsrSubjectMismatch' },
    { name: 'a CSR without an X-Road id', run: () => post(parts(set('systems[0].csr', csr('x', { serialNumber: null, cn: 'arkiva' }).pem))), status: 400, type: 'Onboarding.CsrSubjectMismatch' },
    { name: 'an e-seal CSR naming a subsystem', run: () => post(parts(set('sealCsr', csr(`${MEMBER}/arkiva`).pem))), status: 400, type: 'Onboarding.CsrSubjectMismatch' },
    { name: 'a system CSR naming the member', run: () => post(parts(set('systems[0].csr', csr(MEMBER).pem))), status: 400, type: 'Onboarding.CsrSubjectMismatch' },
    { name: 'CSRs of two systems swapped', run: () => post(parts({ ...good.fields, 'systems[0].csr': csr(`${MEMBER}/portali`).pem, 'systems[1].code': 'portali', 'systems[1].csr': csr(`${MEMBER}/arkiva`).pem })), status: 400, type: 'Onboarding.CsrSubjectMismatch' },
    { name: 'one key for a system and the e-seal', run: () => post(parts({ ...good.fields, 'systems[0].csr': csr(`${MEMBER}/arkiva`, { keys: otherKey }).pem, sealCsr: csr(MEMBER, { keys: otherKey }).pem })), status: 400, type: 'Onboarding.DuplicateKey' },

    // Registry state.
    { name: 'a service not on this node', run: () => post(parts(set('services', ['AL-DEV/GOV/L01417001D/regjistri-civil/fshiGjithcka']))), status: 400, type: 'Onboarding.UnknownService' },
    { name: 'a member already registered', run: () => post(parts(applicant('L21603004L').fields)), status: 409, type: 'Onboarding.MemberExists' },
    { name: 'the same application replayed', run: () => post(parts(applicant(withCheckLetter('J91402501')).fields)), status: 409, type: 'Onboarding.ApplicationPending' },

    // Status tokens and ids.
    { name: 'status without a token', run: () => call(realUrl), status: 401, type: 'Onboarding.InvalidStatusToken' },
    { name: 'status with a wrong token', run: () => call(realUrl, { headers: { authorization: `Bearer uas_${'A'.repeat(43)}` } }), status: 401, type: 'Onboarding.InvalidStatusToken' },
    { name: 'status with Basic credentials', run: () => call(realUrl, { headers: { authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` } }), status: 401, type: 'Onboarding.InvalidStatusToken' },
    { name: 'status with an endless token', run: () => call(realUrl, { headers: { authorization: `Bearer ${'x'.repeat(5000)}` } }), status: 401, type: 'Onboarding.InvalidStatusToken' },
    { name: 'status with the token in the URL', run: () => call(`${realUrl}?token=${token}`), status: 400, type: 'Onboarding.InvalidRequest' },
    { name: 'another application\'s token', run: () => call(realUrl, { headers: { authorization: `Bearer ${other.json.statusToken as string}` } }), status: 401, type: 'Onboarding.InvalidStatusToken' },
    { name: 'a token replayed on another application', run: () => call(`${url}/${other.json.id as string}/token`, { method: 'POST', headers: { authorization: `Bearer ${token}` } }), status: 401, type: 'Onboarding.InvalidStatusToken' },
    { name: 'certificates with a wrong token', run: () => call(`${realUrl}/certificates`, { headers: { authorization: `Bearer ${token}x` } }), status: 401, type: 'Onboarding.InvalidStatusToken' },
    { name: 'the status token\'s hash as the token', run: () => call(realUrl, { headers: { authorization: `Bearer ${'0'.repeat(64)}` } }), status: 401, type: 'Onboarding.InvalidStatusToken' },
    { name: 'id ..', run: () => raw(port, 'GET /public/v1/applications/.. HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer x\r\nConnection: close\r\n\r\n'), status: 404, type: 'Onboarding.UnknownApplication' },
    { name: 'id with encoded slashes', run: () => call(`${url}/%2e%2e%2f%2e%2e%2fetc%2fpasswd`, { headers: { authorization: `Bearer ${token}` } }), status: 404, type: 'Onboarding.UnknownApplication' },
    { name: 'id with a NUL', run: () => call(`${url}/${real.json.id as string}%00`, { headers: { authorization: `Bearer ${token}` } }), status: 404, type: 'Onboarding.UnknownApplication' },
    { name: 'id in upper case', run: () => call(`${url}/${(real.json.id as string).toUpperCase()}`, { headers: { authorization: `Bearer ${token}` } }), status: 404, type: 'Onboarding.UnknownApplication' },
    { name: 'id with non-ASCII', run: () => call(`${url}/%C3%ABap`, { headers: { authorization: `Bearer ${token}` } }), status: 404, type: 'Onboarding.UnknownApplication' },
    { name: 'a token request with a JSON body', run: () => call(`${realUrl}/token`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' }), status: 415, type: 'Onboarding.UnsupportedMediaType' },
    { name: 'a token before approval', run: () => call(`${realUrl}/token`, { method: 'POST', headers: { authorization: `Bearer ${token}` } }), status: 409, type: 'Onboarding.InvalidState' },
  ]
  t.ok(cases.length >= 60, `${cases.length} hostile cases`)

  const seen = new Map<string, number>()
  for (const c of cases) {
    const answer = await c.run()
    t.equal(`${answer.status} ${answer.json?.type as string}`, `${c.status} ${c.type}`, `${c.name}: ${String(answer.json?.message ?? answer.text.slice(0, 200))}`)
    t.same(Object.keys(answer.json ?? {}).sort(), ['detail', 'message', 'type'], `${c.name}: the admin API's error shape {type, message, detail}`)
    t.ok(typeof answer.json?.message === 'string' && answer.json.message !== '', `${c.name}: a message for people`)
    t.equal(answer.json?.detail?.requestId, answer.headers['x-request-id'], `${c.name}: the detail names the request`)
    const problems = answer.json?.detail?.problems as unknown[] | undefined
    if (problems !== undefined) t.ok(problems.length > 0 && problems.every(p => typeof (p as any).path === 'string' && typeof (p as any).message === 'string'), `${c.name}: problems by path, as the admin API's`)
    seen.set(c.type, (seen.get(c.type) ?? 0) + 1)
  }
  t.ok(seen.size >= 20, `${seen.size} different codes answered`)
  t.equal((await store.current()).version, version, 'no refused request moved the registry')
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was polluted')

  // Still serving, and the same application sent properly is accepted.
  const accepted = await submit(base, parts(good.fields))
  t.equal(accepted.status, 201, accepted.text)
  t.equal((await store.current()).version, version + 1)
  const status = await call(`${url}/${accepted.json.id as string}`, { headers: { authorization: `Bearer ${accepted.json.statusToken as string}` } })
  t.equal(status.json.state, 'submitted')
})
