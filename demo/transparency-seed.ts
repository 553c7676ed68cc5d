/**
 * The demo's first council papers: at the first `npm start`, Tiranë's council system publishes two
 * decisions, a public consultation and a notice to the municipality's `transparenca` room, through
 * the node's r1 edge with its own client certificate — exactly as a real council system would — so
 * the public feed (`/feeds/tirane.atom`) and e-Albania's pull have something to show. Each event has
 * a fixed X-Road-Id: publishing again at a later start changes nothing.
 */
import { request, Agent } from 'undici'

export const TIRANE_TRANSPARENCY = 'AL-DEV/NJQV/L21603004L/transparenca'
export const TIRANE_COUNCIL = 'AL-DEV/NJQV/L21603004L/keshilli'

const COUNCIL = { sq: 'Këshilli Bashkiak i Tiranës', en: 'Tirana Municipal Council' }
const common = { personalData: false, bashkia: 'Tiranë', organ: COUNCIL }

/** A date `days` from `from`, as YYYY-MM-DD. */
const day = (from: Date, days: number): string => new Date(from.getTime() + days * 86_400_000).toISOString().slice(0, 10)

export function demoPapers (now = new Date()): Array<{ id: string; type: string; event: Record<string, unknown> }> {
  return [
    {
      id: 'tirane-vendim-2026-112',
      type: 'vendim',
      event: { ...common, lloji: 'vendim', numri: '112/2026', data: day(now, -9), mbledhja: day(now, -9), titull: { sq: 'Për miratimin e planit të investimeve në shkolla për vitin 2027', en: 'On the 2027 school investment plan' }, pershkrim: { sq: 'Rikonstruksioni i 14 shkollave dhe ndërtimi i 2 kopshteve.', en: 'Renovating 14 schools and building 2 kindergartens.' }, votimi: { pro: 38, kunder: 9, abstenim: 2 }, bazaLigjore: ['Ligji nr. 139/2015 "Për vetëqeverisjen vendore", neni 54'], dokument: { url: 'https://tirana.al/keshilli/vendime/2026/112.pdf', mediaType: 'application/pdf' } },
    },
    {
      id: 'tirane-vendim-2026-113',
      type: 'vendim',
      event: { ...common, lloji: 'vendim', numri: '113/2026', data: day(now, -9), mbledhja: day(now, -9), titull: { sq: 'Për tarifën e pastrimit për familjet me një prind', en: 'On the cleaning fee for single-parent households' }, votimi: { pro: 45, kunder: 0, abstenim: 4 }, dokument: { url: 'https://tirana.al/keshilli/vendime/2026/113.pdf', mediaType: 'application/pdf' } },
    },
    {
      id: 'tirane-konsultim-2026-07',
      type: 'konsultim',
      event: { ...common, organ: { sq: 'Bashkia Tiranë', en: 'Municipality of Tirana' }, lloji: 'projektakt', data: day(now, -2), fillon: day(now, -2), mbaron: day(now, 40), titull: { sq: 'Projektvendim për zonat e gjelbra në Njësinë Administrative nr. 5', en: 'Draft decision on green areas in Administrative Unit 5' }, komentet: 'https://tirana.al/konsultime/zonat-e-gjelbra', dokument: { url: 'https://tirana.al/konsultime/zonat-e-gjelbra.pdf', mediaType: 'application/pdf' } },
    },
    {
      id: 'tirane-njoftim-2026-mbledhja',
      type: 'njoftim',
      event: { ...common, lloji: 'mbledhje-keshilli', data: day(now, -1), ngjarja: `${day(now, 6)}T17:00:00+01:00`, vendi: { sq: 'Salla e Këshillit, Sheshi Skënderbej' }, titull: { sq: 'Mbledhja e radhës e Këshillit Bashkiak', en: 'Regular council meeting' } },
    },
  ]
}

export interface SeedTls { ca: string; cert: string; key: string }

/** Publishes the papers the room does not have yet; returns how many were new (201 each, repeated ones too). */
export async function seedTransparency (url: string, tls: SeedTls): Promise<number> {
  const dispatcher = new Agent({ connect: { ca: tls.ca, cert: tls.cert, key: tls.key } })
  let published = 0
  try {
    for (const p of demoPapers()) {
      const res = await request(`${url}/r1/${TIRANE_TRANSPARENCY}/pub/v1/${p.type}`, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json', 'x-road-client': TIRANE_COUNCIL, 'x-road-id': p.id },
        body: JSON.stringify(p.event),
      })
      const text = await res.body.text()
      if (res.statusCode === 201) published++
      else if (res.statusCode !== 422) throw new Error(`publishing ${p.id} answered ${res.statusCode}: ${text}`)
    }
  } finally {
    await dispatcher.close()
  }
  return published
}
