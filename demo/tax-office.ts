/**
 * Demo REST provider: local tax obligations of Bashkia Tiranë (taksat vendore), served by Fastify.
 * Behaves like a municipal system would: 404 with its own JSON for an unknown taxpayer, and two
 * special identifiers that make it misbehave so the gateway's protections can be shown.
 */
import Fastify from 'fastify'
import { BUSINESSES, CITIZENS, FAILING_NIPT, MALFORMED_NIPT, type Subjekt } from './tax-office-data.ts'

export const TAX_BASE_PATH = '/api/v1'

export interface TaxOffice {
  url: string
  close (): Promise<void>
}

interface Query { viti?: string; vetemTePapaguara?: string }

function answer (subject: Subjekt, query: Query): object {
  const viti = query.viti === undefined ? new Date().getFullYear() : Number(query.viti)
  let detyrime = subject.detyrime[viti] ?? []
  if (query.vetemTePapaguara === 'true') detyrime = detyrime.filter(d => !d.paguar)
  const totali = detyrime.filter(d => !d.paguar).reduce((sum, d) => sum + d.shuma, 0)
  return { subjekti: { id: subject.id, emri: subject.emri }, bashkia: 'Tiranë', viti, detyrime, totaliPapaguar: Math.round(totali * 100) / 100 }
}

export async function startTaxOffice (opts: { host?: string; port?: number } = {}): Promise<TaxOffice> {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 })

  app.get<{ Params: { nipt: string }; Querystring: Query }>(`${TAX_BASE_PATH}/subjekte/:nipt/detyrime`, async (req, reply) => {
    const { nipt } = req.params
    if (nipt === FAILING_NIPT) return reply.code(500).send({ gabim: 'Baza e të dhënave e taksave nuk përgjigjet' })
    if (nipt === MALFORMED_NIPT) return { subjekti: { id: nipt }, bashkia: 'Tiranë', viti: 'sivjet', detyrime: [{ lloji: 'tjeter', shuma: -5 }] }
    const subject = BUSINESSES[nipt]
    if (subject === undefined) return reply.code(404).send({ gabim: `Subjekti ${nipt} nuk është i regjistruar në Bashkinë Tiranë` })
    return answer(subject, req.query)
  })

  app.get<{ Params: { nid: string }; Querystring: Query }>(`${TAX_BASE_PATH}/qytetare/:nid/detyrime`, async (req, reply) => {
    const subject = CITIZENS[req.params.nid]
    if (subject === undefined) return reply.code(404).send({ gabim: `Nuk ka detyrime të regjistruara për ${req.params.nid}` })
    return answer(subject, req.query)
  })

  app.post<{ Body: { nipt: string; referenca: string } }>(`${TAX_BASE_PATH}/pagesa`, async (req, reply) => {
    return reply.code(201).send({ pranuar: BUSINESSES[req.body.nipt] !== undefined, referenca: req.body.referenca })
  })

  const address = await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 })
  return { url: address + TAX_BASE_PATH, close: () => app.close() }
}
