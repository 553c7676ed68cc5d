/**
 * Transparency events for the tests: a valid sample of each type (overridable), and room events as
 * the delivery queue keeps them, in a plain in-memory room list that answers `events()` the way the
 * queue does (newest first, by type, before a sequence number). The list is the tests' input data,
 * not a stand-in for a server: the feeds read nothing else.
 */
import { randomUUID } from 'node:crypto'
import type { DeliveryQueue, EventQuery, RoomEvent } from '../../delivery/queue.ts'
import type { TransparencyEventType } from '../../schemas/transparency.ts'

const PDF = { url: 'https://tirana.al/vendime/2026/45.pdf', mediaType: 'application/pdf', sha256: 'a'.repeat(64) }

export function sampleEvent (type: TransparencyEventType, over: Record<string, unknown> = {}): Record<string, unknown> {
  const common = {
    personalData: false,
    bashkia: 'Tiranë',
    organ: { sq: 'Këshilli Bashkiak i Tiranës', en: 'Tirana Municipal Council' },
  }
  switch (type) {
    case 'vendim':
      return { ...common, lloji: 'vendim', numri: '45/2026', data: '2026-03-10', mbledhja: '2026-03-10', titull: { sq: 'Për miratimin e buxhetit të vitit 2026', en: 'On adopting the 2026 budget' }, pershkrim: { sq: 'Buxheti vjetor i bashkisë.' }, votimi: { pro: 40, kunder: 10, abstenim: 1 }, bazaLigjore: ['Ligji nr. 139/2015, neni 54'], dokument: PDF, ...over }
    case 'konsultim':
      return { ...common, organ: { sq: 'Bashkia Tiranë' }, lloji: 'projektakt', data: '2026-02-02', fillon: '2026-02-02', mbaron: '2026-03-02', titull: { sq: 'Projektvendim për taksat vendore' }, komentet: 'https://tirana.al/konsultime', dokument: { url: 'https://tirana.al/konsultime/taksat.pdf', mediaType: 'application/pdf' }, ...over }
    case 'njoftim':
      return { ...common, lloji: 'mbledhje-keshilli', data: '2026-03-01', ngjarja: '2026-03-10T17:00:00+01:00', vendi: { sq: 'Salla e Këshillit, Sheshi Skënderbej' }, titull: { sq: 'Mbledhja e radhës e Këshillit Bashkiak', en: 'Regular council meeting' }, ...over }
  }
}

/** The rooms' events, in publication order per room; `publish` assigns seq as the queue would. */
export class RoomEvents implements Pick<DeliveryQueue, 'events'> {
  private readonly rooms = new Map<string, RoomEvent[]>()

  publish (room: string, type: string, data: unknown, publishedAt: Date, id: string = randomUUID()): RoomEvent {
    const list = this.rooms.get(room) ?? []
    const ev: RoomEvent = { room, type, id, seq: list.length + 1, publisher: `${room.split('/').slice(0, 3).join('/')}/keshilli`, publishedAt, data: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)) }
    list.push(ev)
    this.rooms.set(room, list)
    return ev
  }

  async events (room: string, query: EventQuery): Promise<RoomEvent[]> {
    return (this.rooms.get(room) ?? [])
      .filter(e => (query.types === undefined || query.types.includes(e.type)) && (query.beforeSeq === undefined || e.seq < query.beforeSeq))
      .sort((a, b) => b.seq - a.seq)
      .slice(0, query.limit)
  }
}
