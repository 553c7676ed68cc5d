/**
 * Demo subscriber systems: the civil-status offices of all 61 municipalities behind one HTTP server,
 * as push targets of the room ngjarje-civile. `POST /bashki/{slug}/ngjarje` keeps the event (its
 * X-Road-Id, body and arrival time) in memory and answers 200; `GET` lists what arrived. A
 * municipality can be switched offline — the connection is dropped, or answered 503 — to show the
 * node holding events and delivering them later; a second delivery of an X-Road-Id is counted, not
 * stored again, so at-least-once delivery is visible.
 */
import Fastify, { type FastifyReply } from 'fastify'
import { DEMO_BASHKI, demoBashkiBySlug } from './bashki-demo.ts'

export type OfflineMode = 'refuse' | '503'

export interface ReceivedEvent {
  /** The X-Road-Id the event arrived with: the event's id. */
  id: string
  body: unknown
  /** The X-Road-* headers and the content type it arrived with. */
  headers: Record<string, string>
  /** ISO time of the first arrival. */
  time: string
  /** How many times it arrived (1 = no duplicate). */
  copies: number
}

export interface Inbox {
  slug: string
  bashkia: string
  online: boolean
  /** The way an offline municipality answers. */
  offlineMode: OfflineMode
  /** One entry per X-Road-Id, in order of first arrival. */
  events: ReceivedEvent[]
  /** Deliveries accepted (200), duplicates included. */
  deliveries: number
  /** Deliveries of an X-Road-Id already received. */
  duplicates: number
  /** Deliveries turned away while offline. */
  refused: number
}

export interface DemoSubscriber {
  url: string
  close (): Promise<void>
  /** The inbox of a municipality (a snapshot); undefined for an unknown slug. */
  received (slug: string): Inbox | undefined
  setOffline (slug: string, offline: boolean, mode?: OfflineMode): void
  /** Empties a municipality's inbox (its online state stays). */
  clear (slug: string): void
}

export const SUBSCRIBER_BASE_PATH = '/bashki'

interface State {
  online: boolean
  offlineMode: OfflineMode
  events: Map<string, ReceivedEvent>
  deliveries: number
  duplicates: number
  refused: number
}

const MAX_EVENTS_PER_BASHKI = 10_000

export async function startDemoSubscriber (opts: { host?: string; port?: number } = {}): Promise<DemoSubscriber> {
  const states = new Map<string, State>()
  const fresh = (): State => ({ online: true, offlineMode: 'refuse', events: new Map(), deliveries: 0, duplicates: 0, refused: 0 })
  for (const d of DEMO_BASHKI) states.set(d.slug, fresh())

  const inbox = (slug: string): Inbox | undefined => {
    const s = states.get(slug)
    if (s === undefined) return undefined
    return {
      slug,
      bashkia: demoBashkiBySlug(slug)!.bashki.emri,
      online: s.online,
      offlineMode: s.offlineMode,
      events: [...s.events.values()].map(e => ({ ...e, headers: { ...e.headers } })),
      deliveries: s.deliveries,
      duplicates: s.duplicates,
      refused: s.refused,
    }
  }
  const known = (slug: string): State => {
    const s = states.get(slug)
    if (s === undefined) throw new Error(`unknown municipality slug '${slug}'`)
    return s
  }
  const setOffline = (slug: string, offline: boolean, mode?: OfflineMode): void => {
    const s = known(slug)
    s.online = !offline
    if (mode !== undefined) s.offlineMode = mode
  }

  const app = Fastify({ logger: false, bodyLimit: 256 * 1024 })
  // Events may come as CloudEvents or other `+json` types: all are JSON.
  app.addContentTypeParser(/^application\/[\w.-]+\+json$/, { parseAs: 'string' }, (_req, body, done) => {
    try { done(null, JSON.parse(body as string)) } catch (err) { (err as { statusCode?: number }).statusCode = 400; done(err as Error) }
  })

  const notFound = (reply: FastifyReply, slug: string) => reply.code(404).send({ gabim: `Bashkia '${slug}' nuk njihet`, error: `unknown municipality '${slug}'` })

  app.get(SUBSCRIBER_BASE_PATH, async () => DEMO_BASHKI.map(d => {
    const s = states.get(d.slug)!
    return { slug: d.slug, bashkia: d.bashki.emri, online: s.online, events: s.events.size, duplicates: s.duplicates }
  }))

  app.post<{ Params: { slug: string } }>(`${SUBSCRIBER_BASE_PATH}/:slug/ngjarje`, async (req, reply) => {
    const s = states.get(req.params.slug)
    if (s === undefined) return notFound(reply, req.params.slug)
    if (!s.online) {
      s.refused++
      if (s.offlineMode === '503') return reply.code(503).header('retry-after', '5').send({ gabim: 'Sistemi i gjendjes civile nuk është në linjë' })
      // Dropped without an answer: what a caller sees when the system is down.
      reply.hijack()
      req.raw.socket.destroy()
      return reply
    }
    const id = req.headers['x-road-id']
    if (typeof id !== 'string' || id === '') return reply.code(400).send({ gabim: 'Mungon X-Road-Id', error: 'X-Road-Id is missing' })
    s.deliveries++
    const seen = s.events.get(id)
    if (seen !== undefined) {
      seen.copies++
      s.duplicates++
      return { pranuar: true, id, dublikate: true }
    }
    if (s.events.size >= MAX_EVENTS_PER_BASHKI) return reply.code(507).send({ gabim: 'Kutia e ngjarjeve është plot', error: 'inbox full' })
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(req.headers)) if ((k.startsWith('x-road-') || k === 'content-type') && typeof v === 'string') headers[k] = v
    s.events.set(id, { id, body: req.body ?? null, headers, time: new Date().toISOString(), copies: 1 })
    return { pranuar: true, id, dublikate: false }
  })

  app.get<{ Params: { slug: string } }>(`${SUBSCRIBER_BASE_PATH}/:slug/ngjarje`, async (req, reply) => inbox(req.params.slug) ?? notFound(reply, req.params.slug))

  app.delete<{ Params: { slug: string } }>(`${SUBSCRIBER_BASE_PATH}/:slug/ngjarje`, async (req, reply) => {
    const s = states.get(req.params.slug)
    if (s === undefined) return notFound(reply, req.params.slug)
    Object.assign(s, { ...fresh(), online: s.online, offlineMode: s.offlineMode })
    return reply.code(204).send()
  })

  app.post<{ Params: { slug: string }; Querystring: { mode?: string } }>(`${SUBSCRIBER_BASE_PATH}/:slug/offline`, async (req, reply) => {
    if (!states.has(req.params.slug)) return notFound(reply, req.params.slug)
    const mode = req.query.mode
    if (mode !== undefined && mode !== 'refuse' && mode !== '503') return reply.code(400).send({ gabim: `mode duhet të jetë 'refuse' ose '503'`, error: `mode must be 'refuse' or '503'` })
    setOffline(req.params.slug, true, mode)
    return inbox(req.params.slug)
  })

  app.post<{ Params: { slug: string } }>(`${SUBSCRIBER_BASE_PATH}/:slug/online`, async (req, reply) => {
    if (!states.has(req.params.slug)) return notFound(reply, req.params.slug)
    setOffline(req.params.slug, false)
    return inbox(req.params.slug)
  })

  const address = await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 })
  return {
    url: address + SUBSCRIBER_BASE_PATH,
    close: () => app.close(),
    received: inbox,
    setOffline,
    clear: slug => { const s = known(slug); Object.assign(s, { ...fresh(), online: s.online, offlineMode: s.offlineMode }) },
  }
}
