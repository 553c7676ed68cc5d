/**
 * The public transparency feeds (DESIGN §13): per municipality an Atom feed, a JSON Feed and a page,
 * read from its `transparenca` room; anonymous like `/catalogue` (no client certificate, nothing
 * but published events). `GET /feeds` lists the municipalities that have a room.
 *
 * The plugin is given two things by the composition root: which room is a municipality's, and a
 * reader of room events (the delivery queue). Every answer carries a strong ETag over its bytes and
 * may be cached by anyone for a minute; a matching If-None-Match gets 304. Errors are the node's
 * typed JSON errors (`X-Road-Error`), or an HTML page for the HTML routes.
 */
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { DeliveryQueue } from '../../delivery/queue.ts'
import type { Lang } from '../../config/catalogue-labels.ts'
import { ERROR_STATUS, type ErrorCode } from '../../protocol/errors.ts'
import { BASHKI, type Bashki } from '../../schemas/bashki.ts'
import { CSP } from '../catalogue/html.ts'
import { atomFeed } from './atom.ts'
import { indexPage, municipalityPage, notFoundPage } from './html.ts'
import { jsonFeed } from './json-feed.ts'
import { bashkiaBySlug } from './municipality.ts'
import { readFeedPage, type FeedFormat } from './page.ts'

export interface FeedRoutesOptions {
  /** The room id text (`AL/NJQV/<NIPT>/transparenca`) of a municipality, by its official name ("Tiranë"); undefined: it has no feed. */
  room: (bashkia: string) => string | undefined
  /** Where the published events are read. */
  events: Pick<DeliveryQueue, 'events'>
  /** How the node is reached from outside (`https://ura.example.al`), for the feeds' absolute links; by default the request's own scheme and Host. */
  publicOrigin?: string
}

export const CACHE_CONTROL = 'public, max-age=60'

const CONTENT_TYPES: Record<FeedFormat, string> = {
  atom: 'application/atom+xml; charset=utf-8',
  json: 'application/feed+json; charset=utf-8',
  html: 'text/html; charset=utf-8',
}

class FeedRequestError extends Error {
  readonly code: ErrorCode
  constructor (code: ErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

interface FeedQuery { lang: Lang; para?: number }

function readQuery (req: FastifyRequest): FeedQuery {
  const q = req.query as Record<string, unknown>
  const lang = q.lang ?? 'sq'
  if (lang !== 'sq' && lang !== 'en') throw new FeedRequestError('Client.BadRequest', 'lang must be sq or en')
  if (q.para === undefined) return { lang }
  if (typeof q.para !== 'string' || !/^[1-9][0-9]{0,14}$/.test(q.para)) throw new FeedRequestError('Client.BadRequest', 'para must be a positive whole number (the `rel=next` link gives it)')
  return { lang, para: Number(q.para) }
}

function sendError (req: FastifyRequest, reply: FastifyReply, err: FeedRequestError): FastifyReply {
  return reply.code(ERROR_STATUS[err.code])
    .header('x-road-error', err.code)
    .header('x-road-request-id', req.id)
    .header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify({ type: err.code, message: err.message, detail: req.id }))
}

/** The answer with its ETag and cache lifetime, or 304 when the client already holds these bytes. */
function sendCached (req: FastifyRequest, reply: FastifyReply, format: FeedFormat, body: string): FastifyReply {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`
  reply.header('etag', etag).header('cache-control', CACHE_CONTROL).header('x-content-type-options', 'nosniff')
  if (format === 'html') reply.header('content-security-policy', CSP).header('referrer-policy', 'no-referrer')
  const held = req.headers['if-none-match']
  if (held !== undefined && held.split(',').some(tag => { const t = tag.trim(); return t === '*' || t.replace(/^W\//, '') === etag })) {
    return reply.code(304).send()
  }
  return reply.header('content-type', CONTENT_TYPES[format]).send(body)
}

export async function feedRoutes (app: FastifyInstance, opts: FeedRoutesOptions): Promise<void> {
  const origin = (req: FastifyRequest): string => opts.publicOrigin?.replace(/\/+$/, '') ?? `${req.protocol}://${req.host}`

  const serve = (format: FeedFormat) => async (req: FastifyRequest<{ Params: { bashkia: string } }>, reply: FastifyReply): Promise<FastifyReply> => {
    let query: FeedQuery
    try {
      query = readQuery(req)
    } catch (err) {
      return sendError(req, reply, err as FeedRequestError)
    }
    const bashkia: Bashki | undefined = bashkiaBySlug(req.params.bashkia)
    const room = bashkia === undefined ? undefined : opts.room(bashkia.emri)
    if (bashkia === undefined || room === undefined) {
      if (format === 'html') return reply.code(404).header('content-type', CONTENT_TYPES.html).header('content-security-policy', CSP).send(notFoundPage(query.lang))
      return sendError(req, reply, new FeedRequestError('Server.ServerProxy.UnknownService', `No transparency feed for ${JSON.stringify(req.params.bashkia)}: the address names a municipality in lower-case ASCII, e.g. tirane, kucove, malesi-e-madhe`))
    }
    const page = await readFeedPage({ events: opts.events, room, bashkia, lang: query.lang, ...(query.para === undefined ? {} : { para: query.para }), origin: origin(req) })
    const body = format === 'atom' ? atomFeed(page) : format === 'json' ? jsonFeed(page) : municipalityPage(page)
    return sendCached(req, reply, format, body)
  }

  const tags = ['Transparency feeds']
  const params = { type: 'object', properties: { bashkia: { type: 'string', description: 'The municipality in lower-case ASCII, spaces as hyphens: tirane, kucove, malesi-e-madhe' } } }
  const querystring = {
    type: 'object',
    properties: {
      lang: { type: 'string', description: 'sq (default) or en: English titles and summaries where the event gives them' },
      para: { type: 'string', description: 'The next (older) page: events published before this sequence number, as the rel=next link gives it' },
    },
  }
  app.get('/feeds/:bashkia.atom', { schema: { tags, summary: "A municipality's decisions, consultations and notices as Atom (RFC 4287)", params, querystring } }, serve('atom'))
  app.get('/feeds/:bashkia.json', { schema: { tags, summary: 'The same as JSON Feed 1.1', params, querystring } }, serve('json'))
  app.get('/feeds/:bashkia', { schema: { tags, summary: 'The same as a web page', params, querystring } }, serve('html'))
  app.get('/feeds', { schema: { tags, summary: 'The municipalities with a transparency feed (web page)', querystring } }, async (req, reply) => {
    let query: FeedQuery
    try {
      query = readQuery(req)
    } catch (err) {
      return sendError(req, reply, err as FeedRequestError)
    }
    const withFeeds = BASHKI.filter(b => opts.room(b.emri) !== undefined).sort((a, b) => a.emri.localeCompare(b.emri, 'sq'))
    return sendCached(req, reply, 'html', indexPage(withFeeds, query.lang))
  })
}
