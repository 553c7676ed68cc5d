/**
 * The applicant's status page (`/apliko/statusi`): the application number and the status token are
 * typed into a POST form — never carried in a URL — and the page shows the state the public
 * onboarding API answers. Once approved, POST forms carrying the token download the certificates
 * (an attachment, from the API) and create the console sign-in of the institution's operator
 * account (username, password; the TOTP secret is shown once, to add to an authenticator app).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AdminContext } from '../../context.ts'
import { html, type Html } from '../html.ts'
import { langOf, when, words, type Lang } from '../i18n.ts'
import { field } from '../kit.ts'
import { callPublic, postLimit, publicPage, type ApplyPagesOptions } from './apply-kit.ts'

const W = words({
  sq: {
    title: 'Ndiqni aplikimin',
    lead: 'Shkruani numrin e aplikimit dhe kodin e ndjekjes që morët kur aplikuat.',
    number: 'Numri i aplikimit', token: 'Kodi i ndjekjes (status token)', show: 'Shiko gjendjen',
    wrong: 'Numri i aplikimit ose kodi i ndjekjes nuk është i saktë.',
    state: 'Gjendja', institution: 'Institucioni', nipt: 'NIPT', submitted: 'Dorëzuar më', decided: 'Vendosur më', systems: 'Sistemet', reason: 'Arsyeja e refuzimit',
    states: { submitted: 'Dorëzuar — në pritje të vendimit', approved: 'Miratuar', rejected: 'Refuzuar', issued: 'Miratuar — certifikatat janë gati', active: 'Aktiv — certifikatat u shkarkuan' } as Record<string, string>,
    certificates: 'Certifikatat', serial: 'Numri serial', role: 'Roli', owner: 'Zotëruesi', notAfter: 'Vlen deri më',
    download: 'Shkarko certifikatat (PEM)', downloadHint: 'Një skedar PEM: certifikatat TLS të sistemeve, vula elektronike dhe certifikata e autoritetit të nyjes.',
    signIn: 'Hyrja në konsolë', signInLead: 'Krijoni hyrjen në konsolë të llogarisë së operatorit të institucionit (administrator shërbimesh i anëtarit të ri). Mund të krijohet vetëm një herë.',
    username: 'Emri i përdoruesit', usernameHint: '2–64 shenja: shkronja të vogla, shifra, . _ -', password: 'Fjalëkalimi', passwordHint: 'Të paktën 12 shenja.', password2: 'Fjalëkalimi përsëri', create: 'Krijo hyrjen',
    mismatch: 'Dy fjalëkalimet nuk janë të njëjta.', signInSet: 'Hyrja në konsolë është krijuar tashmë.',
    doneTitle: 'Hyrja në konsolë u krijua',
    doneLead: 'Shtoni tani këtë sekret në aplikacionin tuaj të autentifikimit (p.sh. një aplikacion TOTP në telefon): shfaqet vetëm këtë herë. Pastaj hyni në konsolë me emrin e përdoruesit, fjalëkalimin dhe kodin 6-shifror që tregon aplikacioni.',
    operator: 'Llogaria e operatorit', secret: 'Sekreti TOTP', uri: 'URI otpauth (për aplikacionet që e lexojnë)', goSignIn: 'Hyni në konsolë',
    failed: 'Veprimi nuk u krye',
  },
  en: {
    title: 'Follow an application',
    lead: 'Type the application number and the status token you were given when you applied.',
    number: 'Application number', token: 'Status token', show: 'Show the state',
    wrong: 'The application number or the status token is wrong.',
    state: 'State', institution: 'Institution', nipt: 'NIPT', submitted: 'Submitted', decided: 'Decided', systems: 'Systems', reason: 'Reason of the rejection',
    states: { submitted: 'Submitted — waiting for a decision', approved: 'Approved', rejected: 'Rejected', issued: 'Approved — the certificates are ready', active: 'Active — the certificates were downloaded' } as Record<string, string>,
    certificates: 'Certificates', serial: 'Serial number', role: 'Role', owner: 'Owner', notAfter: 'Valid until',
    download: 'Download the certificates (PEM)', downloadHint: 'One PEM file: the systems\' TLS certificates, the e-seal and the node\'s CA certificate.',
    signIn: 'Console sign-in', signInLead: 'Create the console sign-in of the institution\'s operator account (service administrator of the new member). It can be created once only.',
    username: 'Username', usernameHint: '2–64 characters: lower-case letters, digits, . _ -', password: 'Password', passwordHint: 'At least 12 characters.', password2: 'Password again', create: 'Create the sign-in',
    mismatch: 'The two passwords differ.', signInSet: 'The console sign-in is already created.',
    doneTitle: 'The console sign-in is created',
    doneLead: 'Add this secret to your authenticator app now (a TOTP app on your phone, for instance): it is shown only this once. Then sign in to the console with the username, the password and the 6-digit code the app shows.',
    operator: 'Operator account', secret: 'TOTP secret', uri: 'otpauth URI (for apps that read it)', goSignIn: 'Sign in to the console',
    failed: 'The action was not done',
  },
})

const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/

interface Status {
  id: string
  state: string
  submittedAt: string
  decidedAt?: string
  reason?: string
  institution: { name: string; nipt: string; memberClass: string }
  systems: string[]
  certificates?: Array<{ serial: string; role: string; owner: string; notAfter: string }>
  tokenIssued: boolean
  signInSet?: boolean
}

/** The credentials of a status form: what was typed, or carried by the page's own forms. */
interface Credentials { id: string; token: string }

function credentialsOf (request: FastifyRequest): Credentials {
  return { id: field(request, 'application').trim().toLowerCase().slice(0, 64), token: field(request, 'token').trim().slice(0, 200) }
}

/** The hidden fields a form of the status page carries: the credentials, in the body only. */
function carried (csrf: string, c: Credentials): Html {
  return html`<input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="application" value="${c.id}"><input type="hidden" name="token" value="${c.token}">`
}

function askForm (lang: Lang, csrf: string, id = '', problem?: string): Html {
  const t = W[lang]
  const describedBy = problem === undefined ? '' : html` aria-describedby="status-error"`
  return html`<form method="post" action="/apliko/statusi" class="panel">
<input type="hidden" name="_csrf" value="${csrf}">
${problem === undefined ? '' : html`<p class="problem" id="status-error" role="alert">${problem}</p>`}
<div class="grid">
<div class="field${problem === undefined ? '' : ' invalid'}"><label for="f-application">${t.number}</label><input id="f-application" name="application" required maxlength="64" autocomplete="off" value="${id}"${describedBy}></div>
<div class="field${problem === undefined ? '' : ' invalid'}"><label for="f-token">${t.token}</label><input id="f-token" name="token" type="password" required maxlength="200" autocomplete="off"${describedBy}></div>
</div>
<button type="submit">${t.show}</button>
</form>`
}

function badge (state: string, text: string): Html {
  const kind = state === 'rejected' ? 'bad' : state === 'submitted' ? 'warn' : 'ok'
  return html`<span class="badge ${kind}">${text}</span> <code>${state}</code>`
}

function statusBody (lang: Lang, csrf: string, c: Credentials, s: Status, signIn: { errors: Record<string, string>; username: string }): Html {
  const t = W[lang]
  const approved = s.state === 'issued' || s.state === 'active' || s.state === 'approved'
  const certs = s.certificates ?? []
  const err = (name: string): Html | '' => signIn.errors[name] === undefined ? '' : html`<p class="problem" id="f-${name}-error">${signIn.errors[name]}</p>`
  const aria = (name: string, hint: boolean): Html => {
    const ids = [hint ? `f-${name}-hint` : '', signIn.errors[name] === undefined ? '' : `f-${name}-error`].filter(x => x !== '').join(' ')
    return html`${ids === '' ? '' : html` aria-describedby="${ids}"`}${signIn.errors[name] === undefined ? '' : html` aria-invalid="true"`}`
  }
  const signInPanel = !approved
    ? ''
    : s.signInSet === true
      ? html`<section class="panel" aria-labelledby="signin-h"><h2 id="signin-h">${t.signIn}</h2>${signIn.errors.general === undefined ? '' : html`<p class="problem" role="alert">${signIn.errors.general}</p>`}<p>${t.signInSet}</p><p><a href="/console/signin">${t.goSignIn}</a></p></section>`
      : html`<section class="panel" aria-labelledby="signin-h"><h2 id="signin-h">${t.signIn}</h2><p>${t.signInLead}</p>
${signIn.errors.general === undefined ? '' : html`<p class="problem" role="alert">${signIn.errors.general}</p>`}
<form method="post" action="/apliko/statusi/hyrja">${carried(csrf, c)}
<div class="field${signIn.errors.username === undefined ? '' : ' invalid'}"><label for="f-username">${t.username}</label><p class="hint" id="f-username-hint">${t.usernameHint}</p><input id="f-username" name="username" required maxlength="64" pattern="[a-z0-9][a-z0-9._\\-]{1,63}" autocomplete="username" value="${signIn.username}"${aria('username', true)}>${err('username')}</div>
<div class="grid">
<div class="field${signIn.errors.password === undefined ? '' : ' invalid'}"><label for="f-password">${t.password}</label><p class="hint" id="f-password-hint">${t.passwordHint}</p><input id="f-password" name="password" type="password" required minlength="12" maxlength="200" autocomplete="new-password"${aria('password', true)}>${err('password')}</div>
<div class="field"><label for="f-password2">${t.password2}</label><input id="f-password2" name="password2" type="password" required minlength="12" maxlength="200" autocomplete="new-password"></div>
</div>
<button type="submit">${t.create}</button>
</form></section>`
  return html`<h1>${t.title}: <code>${s.id}</code></h1>
<dl class="facts">
<div><dt>${t.state}</dt><dd>${badge(s.state, t.states[s.state] ?? s.state)}</dd></div>
<div><dt>${t.institution}</dt><dd>${s.institution.name}</dd></div>
<div><dt>${t.nipt}</dt><dd>${s.institution.nipt} (${s.institution.memberClass})</dd></div>
<div><dt>${t.systems}</dt><dd>${s.systems.join(', ')}</dd></div>
<div><dt>${t.submitted}</dt><dd>${when(s.submittedAt, lang)}</dd></div>
${s.decidedAt === undefined ? '' : html`<div><dt>${t.decided}</dt><dd>${when(s.decidedAt, lang)}</dd></div>`}
</dl>
${s.reason === undefined ? '' : html`<div class="notice bad"><p><strong>${t.reason}:</strong> ${s.reason}</p></div>`}
${certs.length === 0 ? '' : html`<h2>${t.certificates}</h2><div class="table"><table><thead><tr><th scope="col">${t.serial}</th><th scope="col">${t.role}</th><th scope="col">${t.owner}</th><th scope="col">${t.notAfter}</th></tr></thead><tbody>${certs.map(x => html`<tr><td><code>${x.serial}</code></td><td>${x.role}</td><td><code>${x.owner}</code></td><td>${when(x.notAfter, lang)}</td></tr>`)}</tbody></table></div>
<form method="post" action="/apliko/statusi/certifikatat">${carried(csrf, c)}<p class="hint" id="download-hint">${t.downloadHint}</p><button type="submit" aria-describedby="download-hint">${t.download}</button></form>`}
${signInPanel}`
}

export function applyStatusPages (opts: ApplyPagesOptions = {}): (app: FastifyInstance, ctx: AdminContext) => Promise<void> {
  return async app => {
    app.addHook('onRequest', postLimit(opts.rate))

    const ask = (request: FastifyRequest, reply: FastifyReply, lang: Lang, id?: string, problem?: string, status = 200): FastifyReply =>
      publicPage(request, reply, { lang, title: W[lang].title, status, body: html`<h1>${W[lang].title}</h1><p class="lead">${W[lang].lead}</p>${askForm(lang, reply.generateCsrf(), id, problem)}` })

    /** The status page for the credentials, or the ask form again with why not. */
    const showStatus = async (request: FastifyRequest, reply: FastifyReply, lang: Lang, c: Credentials, signIn = { errors: {} as Record<string, string>, username: '' }, status = 200): Promise<FastifyReply> => {
      if (!ID.test(c.id) || c.token === '') return ask(request, reply, lang, c.id, W[lang].wrong, 400)
      const answer = await callPublic<Status>(app, request, reply, { method: 'GET', path: `/${c.id}`, token: c.token })
      if (!answer.ok || answer.json === undefined) {
        const p = answer.problem!
        const text = answer.status === 401 || answer.status === 404 ? W[lang].wrong : `${p.message} (${p.type})`
        return ask(request, reply, lang, c.id, text, answer.status)
      }
      return publicPage(request, reply, { lang, title: W[lang].title, status, body: statusBody(lang, reply.generateCsrf(), c, answer.json, signIn) })
    }

    app.get('/apliko/statusi', async (request, reply) => ask(request, reply, langOf(request, reply)))

    app.post('/apliko/statusi', async (request, reply) => showStatus(request, reply, langOf(request), credentialsOf(request)))

    app.post('/apliko/statusi/certifikatat', async (request, reply) => {
      const lang = langOf(request)
      const c = credentialsOf(request)
      if (!ID.test(c.id) || c.token === '') return ask(request, reply, lang, c.id, W[lang].wrong, 400)
      const answer = await callPublic(app, request, reply, { method: 'GET', path: `/${c.id}/certificates`, token: c.token })
      if (!answer.ok) {
        const p = answer.problem!
        return ask(request, reply, lang, c.id, answer.status === 401 || answer.status === 404 ? W[lang].wrong : `${p.message} (${p.type})`, answer.status)
      }
      return reply.type('application/x-pem-file').header('content-disposition', `attachment; filename="${c.id}-certifikatat.pem"`).send(answer.raw)
    })

    app.post('/apliko/statusi/hyrja', async (request, reply) => {
      const lang = langOf(request)
      const t = W[lang]
      const c = credentialsOf(request)
      const username = field(request, 'username').trim().toLowerCase().slice(0, 64)
      const password = field(request, 'password')
      if (password !== field(request, 'password2')) return showStatus(request, reply, lang, c, { errors: { password: t.mismatch }, username }, 400)
      if (!ID.test(c.id) || c.token === '') return ask(request, reply, lang, c.id, t.wrong, 400)
      const form = new FormData()
      form.append('username', username)
      form.append('password', password)
      const answer = await callPublic<{ operator: string; username: string; totpSecret: string; otpauthUri: string }>(app, request, reply, { method: 'POST', path: `/${c.id}/login`, token: c.token, form })
      if (!answer.ok || answer.json === undefined) {
        const p = answer.problem!
        if (answer.status === 401 || answer.status === 404) return ask(request, reply, lang, c.id, t.wrong, answer.status)
        const where = p.detail?.problems?.[0]?.path
        const text = `${p.message} (${p.type})`
        return showStatus(request, reply, lang, c, { errors: where === 'username' || where === 'password' ? { [where]: text } : { general: text }, username }, answer.status)
      }
      const done = answer.json
      return publicPage(request, reply, {
        lang,
        title: t.doneTitle,
        status: 201,
        body: html`<h1>${t.doneTitle}</h1>
<div class="notice bad" role="alert"><p><strong>${t.doneLead}</strong></p></div>
<dl class="facts">
<div><dt>${t.operator}</dt><dd><code>${done.operator}</code></dd></div>
<div><dt>${t.username}</dt><dd><code>${done.username}</code></dd></div>
<div><dt>${t.secret}</dt><dd><code class="secret">${done.totpSecret}</code></dd></div>
</dl>
<p><strong>${t.uri}</strong></p><pre>${done.otpauthUri}</pre>
<p><a class="button" href="/console/signin">${t.goSignIn}</a></p>`,
      })
    })
  }
}
