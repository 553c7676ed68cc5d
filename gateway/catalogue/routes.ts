/**
 * `GET /catalogue` (DESIGN §9): JSON for programs, HTML for people (by `Accept`, or `format=`),
 * no login. Entry pages, and each published service's OpenAPI document or WSDL, hang below it.
 * Only published services appear, and only through node-relative links. Each request reads the
 * catalogue of the registry snapshot in service then.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { catalogueOf, entryJson, type CatalogueEntry, type CatalogueFilter } from './catalogue.ts'
import { CSP, entryPage, listPage, notFoundPage } from './html.ts'
import type { Lang } from '../../config/catalogue-labels.ts'
import { XRoadError } from '../../protocol/errors.ts'
import { serviceOpenApi } from './openapi.ts'
import { publishedWsdl } from './wsdl.ts'
import type { GatewayContext } from '../context.ts'

const FILTERS = {
  lang: { enum: ['sq', 'en'], description: 'Language of the texts. HTML: sq (default) or en. JSON: absent gives both, as {sq, en}' },
  format: { enum: ['json', 'html'], description: 'Overrides the Accept header' },
  q: { type: 'string', maxLength: 200, description: 'Words that must all appear (case and accents ignored)' },
  category: { type: 'string', maxLength: 64 },
  institution: { type: 'string', maxLength: 200, description: 'Responsible institution, provider name or member code (NIPT)' },
  municipality: { type: 'string', maxLength: 100, description: 'Services offered there: national ones and those of that municipality' },
} as const

interface Query extends CatalogueFilter { lang?: Lang; format?: 'json' | 'html' }

function wantsHtml (req: FastifyRequest, format: string | undefined): boolean {
  if (format !== undefined) return format === 'html'
  return /\btext\/html\b/i.test(req.headers.accept ?? '')
}

function sendHtml (reply: FastifyReply, html: string, status = 200): FastifyReply {
  return reply.code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .send(html)
}

/** `/catalogue/services/AL-DEV/NJQV/…/detyrimet` → the entry id, each segment percent-decoded. */
function entryId (req: FastifyRequest, prefix: string): string {
  const path = (req.raw.url ?? '').split('?')[0].slice(prefix.length)
  try {
    return path.split('/').map(decodeURIComponent).join('/')
  } catch {
    return ''
  }
}

export async function catalogueRoutes (app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const tags = ['Catalogue']

  const lookup = (req: FastifyRequest, reply: FastifyReply, prefix: string, html: boolean): CatalogueEntry | undefined => {
    const entry = catalogueOf(ctx.registry).find(entryId(req, prefix))
    if (entry !== undefined) return entry
    if (html) {
      void sendHtml(reply, notFoundPage((req.query as Query).lang ?? 'sq'), 404)
      return undefined
    }
    throw new XRoadError('Server.ServerProxy.UnknownService', 'No such service in the catalogue')
  }

  app.get('/catalogue', {
    schema: {
      tags,
      summary: 'The published services',
      description: 'HTML for browsers (Accept: text/html), JSON otherwise. Filters combine; every entry links its page, and its OpenAPI document or WSDL.',
      querystring: { type: 'object', additionalProperties: false, properties: FILTERS },
    },
  }, async (req, reply) => {
    const q = req.query as Query
    const catalogue = catalogueOf(ctx.registry)
    const entries = catalogue.filter(q)
    // The feeds are registered by the composition root only when it has room events to read.
    const feeds = req.server.hasRoute({ method: 'GET', url: '/feeds' })
    if (wantsHtml(req, q.format)) return sendHtml(reply, listPage({ lang: q.lang ?? 'sq', filter: q, entries, facets: catalogue.facets(), feeds }))
    const body = { count: entries.length, ...(q.lang === undefined ? {} : { language: q.lang }), services: entries.map(e => entryJson(e, q.lang)) }
    return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body))
  })

  app.get('/catalogue/services/*', {
    schema: {
      tags,
      summary: 'One published service, with every field',
      params: { type: 'object', properties: { '*': { type: 'string', description: 'Service id, e.g. AL-DEV/NJQV/L21603004L/taksat-vendore/detyrimet' } } },
      querystring: { type: 'object', additionalProperties: false, properties: { lang: FILTERS.lang, format: FILTERS.format } },
    },
  }, async (req, reply) => {
    const q = req.query as Query
    const html = wantsHtml(req, q.format)
    const entry = lookup(req, reply, '/catalogue/services/', html)
    if (entry === undefined) return reply
    if (html) return sendHtml(reply, entryPage(entry, q.lang ?? 'sq'))
    return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(entryJson(entry, q.lang)))
  })

  app.get('/catalogue/openapi/*', {
    schema: { tags, summary: 'OpenAPI 3.1 document of a published REST service', params: { type: 'object', properties: { '*': { type: 'string' } } } },
  }, async (req, reply) => {
    const entry = lookup(req, reply, '/catalogue/openapi/', false)!
    if (entry.type !== 'rest') throw new XRoadError('Server.ServerProxy.ServiceType', `${entry.id} is a SOAP service: see its WSDL`)
    const doc = await serviceOpenApi(entry.service, ctx.library)
    return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(doc))
  })

  app.get('/catalogue/wsdl/*', {
    schema: { tags, summary: 'WSDL of a published SOAP service (endpoint address anonymised)', params: { type: 'object', properties: { '*': { type: 'string' } } } },
  }, async (req, reply) => {
    const entry = lookup(req, reply, '/catalogue/wsdl/', false)!
    const wsdl = publishedWsdl(entry.service, ctx.library)
    if (wsdl === undefined) throw new XRoadError('Server.ServerProxy.ServiceType', `${entry.id} is a REST service: see its OpenAPI document`)
    return reply.header('content-type', 'text/xml; charset=utf-8').send(wsdl)
  })
}
