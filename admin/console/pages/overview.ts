/**
 * The console's first page: what needs an operator's attention — pending applications and access
 * requests, certificates expiring — and who is signed in with which roles.
 */
import type { FastifyInstance } from 'fastify'
import { grantName } from '../../roles.ts'
import { html } from '../html.ts'
import { words } from '../i18n.ts'
import { kitOf, sendPage } from '../kit.ts'
import { can } from '../layout.ts'

const W = words({
  sq: { title: 'Përmbledhje', roles: 'Rolet tuaja', registry: 'Versioni i regjistrit', pendingApplications: 'Aplikime në pritje', pendingAccess: 'Kërkesa për akses në pritje' },
  en: { title: 'Overview', roles: 'Your roles', registry: 'Registry version', pendingApplications: 'Pending applications', pendingAccess: 'Pending access requests' },
})

interface Listed { version: number; items: Array<{ state?: string }> }

export async function overviewPages (app: FastifyInstance): Promise<void> {
  app.get('/console', async (request, reply) => {
    const kit = kitOf(request)
    const t = W[kit.lang]
    const node = await kit.api.read<{ registry: { version: number } }>('/node')
    const cards = [html`<div class="card"><h2>${t.registry}</h2><p class="big">${node.registry.version}</p></div>`]
    if (can(kit.viewer, 'application.list')) {
      const apps = await kit.api.read<Listed>('/applications')
      cards.push(html`<div class="card"><h2><a href="/console/applications">${t.pendingApplications}</a></h2><p class="big">${apps.items.filter(a => a.state === 'submitted').length}</p></div>`)
    }
    if (can(kit.viewer, 'access-request.list')) {
      const reqs = await kit.api.read<Listed>('/access-requests')
      cards.push(html`<div class="card"><h2><a href="/console/access">${t.pendingAccess}</a></h2><p class="big">${reqs.items.filter(a => a.state === 'pending').length}</p></div>`)
    }
    return sendPage(request, reply, {
      title: t.title,
      nav: 'overview',
      body: html`<h1>${t.title}</h1><div class="cards">${cards}</div>
<h2>${t.roles}</h2><ul>${kit.viewer.roles.map(r => html`<li><code>${grantName(r)}</code></li>`)}</ul>`,
    })
  })
}
