/**
 * The 61 municipalities (bashki) and their 12 counties (qarqe), read from `data/bashki.json` — the
 * one source of truth that the JSON Schema enums and XSD enumerations are generated from
 * (`npm run schemas:generate`) and that the address checks use at run time.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

export interface Bashki {
  /** Sequence 1–61 of the INSTAT address-register front end (not an official code). */
  n: number
  /** Official name with diacritics, e.g. "Kuçovë". */
  emri: string
  /** ASCII-folded search key (ë → e, ç → c). */
  ascii: string
  qarku: string
  /** ISO 3166-2 code of the county, e.g. "AL-11". */
  iso: string
  /** Eurostat LAU code, e.g. "AL224". */
  lau: string
  /** Former or common names (e.g. "Ura Vajgurore" for Dimal). */
  aliases: string[]
}

export const BASHKI_DATA_FILE = resolve(import.meta.dirname, 'data/bashki.json')

export const BASHKI: readonly Bashki[] = Object.freeze((JSON.parse(readFileSync(BASHKI_DATA_FILE, 'utf8')) as { bashki: Bashki[] }).bashki)

/** Counties in the order of their ISO codes (AL-01 Berat … AL-12 Vlorë). */
export const QARQE: readonly string[] = Object.freeze([...new Map([...BASHKI].sort((a, b) => a.iso.localeCompare(b.iso)).map(b => [b.qarku, b.qarku])).keys()])

const BY_NAME = new Map(BASHKI.map(b => [b.emri, b]))

/** ë/ç folded, lower case, hyphens as spaces: the key people actually type. */
export function foldName (text: string): string {
  return text.normalize('NFC').replace(/[ëË]/g, 'e').replace(/[çÇ]/g, 'c').replace(/-/g, ' ').replace(/\s+/g, ' ').trim().toLowerCase()
}

const BY_KEY = new Map<string, Bashki>()
for (const b of BASHKI) for (const name of [b.emri, b.ascii, ...b.aliases]) BY_KEY.set(foldName(name), b)

/** The municipality by its official name (exact). */
export function bashkiaByName (emri: string): Bashki | undefined {
  return BY_NAME.get(emri)
}

/** The municipality for a name as people write it: "Tirana", "kucove", "Ura Vajgurore", "Fushe Arrez". */
export function findBashkia (text: string): Bashki | undefined {
  return BY_KEY.get(foldName(text))
}
