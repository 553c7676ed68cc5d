/**
 * Synthetic taxpayers of the demo municipality (Bashkia Tiranë). Identifiers pass their check
 * letters but belong to nobody.
 */
export interface Detyrim {
  lloji: 'tatim-ndertese' | 'tatim-toke' | 'takse-pastrimi' | 'takse-ndricimi' | 'takse-biznesi' | 'tarife-parkimi'
  pershkrimi: string
  shuma: number
  paguar: boolean
  afati: string
}

export interface Subjekt {
  id: string
  emri: string
  detyrime: Record<number, Detyrim[]>
}

export const BUSINESSES: Record<string, Subjekt> = {
  K81305012I: {
    id: 'K81305012I',
    emri: 'Furra e Bukës "Çajupi" sh.p.k.',
    detyrime: {
      2026: [
        { lloji: 'takse-biznesi', pershkrimi: 'Taksa vjetore e biznesit të vogël', shuma: 15000, paguar: true, afati: '2026-04-20' },
        { lloji: 'takse-pastrimi', pershkrimi: 'Tarifa e pastrimit dhe largimit të mbetjeve', shuma: 24000, paguar: false, afati: '2026-12-20' },
        { lloji: 'tatim-ndertese', pershkrimi: 'Tatimi mbi ndërtesën, Rruga e Durrësit nr. 112', shuma: 18750.5, paguar: false, afati: '2026-12-20' },
      ],
      2025: [
        { lloji: 'takse-biznesi', pershkrimi: 'Taksa vjetore e biznesit të vogël', shuma: 15000, paguar: true, afati: '2025-04-20' },
      ],
    },
  },
  M31518001P: {
    id: 'M31518001P',
    emri: 'Ëndërr Dizajn sh.p.k.',
    detyrime: {
      2026: [
        { lloji: 'takse-biznesi', pershkrimi: 'Taksa vjetore e biznesit', shuma: 45000, paguar: true, afati: '2026-04-20' },
        { lloji: 'tarife-parkimi', pershkrimi: 'Leje parkimi për automjetin e shërbimit', shuma: 6000, paguar: true, afati: '2026-01-31' },
      ],
    },
  },
}

export const CITIZENS: Record<string, Subjekt> = {
  I50314123V: {
    id: 'I50314123V',
    emri: 'Artan Hoxha',
    detyrime: {
      2026: [
        { lloji: 'tatim-ndertese', pershkrimi: 'Tatimi mbi banesën, Rruga e Kavajës nr. 27/2', shuma: 2350, paguar: false, afati: '2026-12-20' },
        { lloji: 'takse-pastrimi', pershkrimi: 'Tarifa familjare e pastrimit', shuma: 3600, paguar: true, afati: '2026-06-30' },
      ],
    },
  },
}

/** A NIPT for which the demo provider answers with data that breaks the response schema. */
export const MALFORMED_NIPT = 'J61902003J'
/** A NIPT for which the demo provider fails with HTTP 500. */
export const FAILING_NIPT = 'K92118007L'
