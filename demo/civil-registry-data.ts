/**
 * Synthetic records for the demo civil registry provider.
 *
 * Every person below is invented. Personal numbers follow the Albanian NID
 * (decade letter, year digit, month with +50 for women, day, serial, mod-23
 * check letter) so that they pass the schema, but none of them belongs to a
 * real person.
 */

export type Gjinia = 'M' | 'F';
export type GjendjaCivile = 'beqar' | 'martuar' | 've' | 'divorcuar';

export interface Adresa {
  bashkia: string;
  rruga: string;
  nrPallati?: string;
  kodiPostar: string;
}

export interface Shtetas {
  nid: string;
  emri: string;
  mbiemri: string;
  atesia?: string;
  /** ISO calendar date, YYYY-MM-DD. */
  datelindja: string;
  gjinia: Gjinia;
  vendlindja: string;
  adresa: Adresa;
  gjendjaCivile: GjendjaCivile;
}

/** Looking up this NID makes the provider answer with a SOAP Fault. */
export const FAULT_NID = 'J00101999W';

/** Text of the fault returned for {@link FAULT_NID}. */
export const FAULT_STRING = 'Regjistri nuk është i disponueshëm';

/**
 * Looking up this NID makes the provider answer with a record that breaks the
 * response schema (the sex is not one of the allowed codes).
 */
export const INVALID_RESPONSE_NID = 'H71211672R';

const RECORDS: Shtetas[] = [
  {
    nid: 'I50314123V',
    emri: 'Artan',
    mbiemri: 'Hoxha',
    atesia: 'Ilir',
    datelindja: '1985-03-14',
    gjinia: 'M',
    vendlindja: 'Tiranë',
    adresa: { bashkia: 'Tiranë', rruga: 'Rruga e Kavajës', nrPallati: '27/2', kodiPostar: '1001' },
    gjendjaCivile: 'martuar',
  },
  {
    nid: 'K16102045M',
    emri: 'Elona',
    mbiemri: 'Çela',
    atesia: 'Fatmir',
    datelindja: '2001-11-02',
    gjinia: 'F',
    vendlindja: 'Durrës',
    adresa: { bashkia: 'Durrës', rruga: 'Rruga Tregtare', nrPallati: '14', kodiPostar: '2001' },
    gjendjaCivile: 'beqar',
  },
  {
    nid: 'M40101001J',
    emri: 'Ergys',
    mbiemri: 'Dervishi',
    atesia: 'Gëzim',
    datelindja: '2024-01-01',
    gjinia: 'M',
    vendlindja: 'Shkodër',
    adresa: { bashkia: 'Shkodër', rruga: 'Rruga Kolë Idromeno', kodiPostar: '4001' },
    gjendjaCivile: 'beqar',
  },
  {
    nid: 'J25723456L',
    emri: 'Drita',
    mbiemri: 'Përmeti',
    datelindja: '1992-07-23',
    gjinia: 'F',
    vendlindja: 'Korçë',
    adresa: { bashkia: 'Tiranë', rruga: 'Rruga Myslym Shyri', nrPallati: '8', kodiPostar: '1001' },
    gjendjaCivile: 'divorcuar',
  },
  {
    nid: 'G80930089U',
    emri: 'Sokol',
    mbiemri: 'Marku',
    atesia: 'Çlirim',
    datelindja: '1968-09-30',
    gjinia: 'M',
    vendlindja: 'Pukë',
    adresa: { bashkia: 'Shkodër', rruga: 'Rruga Gjuhadol', nrPallati: '3', kodiPostar: '4001' },
    gjendjaCivile: 've',
  },
];

/** The known citizens, frozen so that no test can change them by accident. */
export const CITIZENS: readonly Shtetas[] = Object.freeze(
  RECORDS.map((c): Shtetas => Object.freeze({ ...c, adresa: Object.freeze({ ...c.adresa }) })),
);

/**
 * The record served for {@link INVALID_RESPONSE_NID}. Its `gjinia` is outside
 * the enumeration of the schema on purpose.
 */
export const INVALID_CITIZEN: Readonly<Omit<Shtetas, 'gjinia'> & { gjinia: string }> = Object.freeze({
  nid: INVALID_RESPONSE_NID,
  emri: 'Besnik',
  mbiemri: 'Shehu',
  atesia: 'Agron',
  datelindja: '1977-12-11',
  gjinia: 'X',
  vendlindja: 'Elbasan',
  adresa: Object.freeze({ bashkia: 'Durrës', rruga: 'Rruga Skënderbeg', nrPallati: '41', kodiPostar: '2001' }),
  gjendjaCivile: 'martuar',
});

const BY_NID: ReadonlyMap<string, Shtetas> = new Map(CITIZENS.map((c) => [c.nid, c]));

/** Finds a citizen by personal number; `undefined` when the registry has no such record. */
export function findCitizen(nid: string): Shtetas | undefined {
  return BY_NID.get(nid);
}
