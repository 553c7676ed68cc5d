/**
 * The one table of valid and invalid values of the core library types. The same rows drive the JSON
 * Schema validator (ajv), the in-process XSD validator (libxml2 + type hooks) and the independent
 * `xmllint --schema`. `fails` says which rule a bad value breaks: `format` is visible to any XSD
 * validator; `check` (check letters, check digits, co-constraints) only to the library's hooks,
 * so xmllint — which knows nothing of them — must accept exactly those rows.
 */
export interface SchemaCase {
  /** Element of test/fixtures/core-cases.xsd and definition of the core JSON Schema. */
  type: 'nid' | 'nipt' | 'iban' | 'kodiPostar' | 'telefon' | 'telefonE164' | 'date' | 'dateTime' | 'shumaLeke' | 'bashkia' | 'qarku' | 'adresa'
  value: string | number | Record<string, string>
  fails?: 'format' | 'check'
  why: string
}

export const CASES: SchemaCase[] = [
  // NID (domain §2.1): public test vectors and our synthetic fixtures.
  { type: 'nid', value: 'I05101999I', why: 'woman born 1980-01-01' },
  { type: 'nid', value: 'I90201535E', why: 'public vector' },
  { type: 'nid', value: 'J45423004V', why: 'woman, month 54' },
  { type: 'nid', value: 'H71211672R', why: 'public vector' },
  { type: 'nid', value: 'I85413200A', why: 'public vector' },
  { type: 'nid', value: 'J00101999W', why: 'check letter W (sum ≡ 0)' },
  { type: 'nid', value: 'I50314123V', why: 'synthetic man 1985-03-14' },
  { type: 'nid', value: 'K16102045M', why: 'synthetic woman 2001-11-02' },
  { type: 'nid', value: 'M40101001J', why: 'synthetic man 2024-01-01' },
  { type: 'nid', value: 'K00229001I', why: '29 February 2000 (leap year)' },
  { type: 'nid', value: 'K05229001S', why: 'woman, 29 February 2000' },
  { type: 'nid', value: 'B20229001B', why: '29 February 1912 (leap year)' },
  { type: 'nid', value: 'H71211672A', fails: 'check', why: 'wrong check letter' },
  { type: 'nid', value: 'I90201535M', fails: 'check', why: 'wrong check letter' },
  { type: 'nid', value: 'I50314123A', fails: 'check', why: 'wrong check letter on a valid date' },
  { type: 'nid', value: 'i05101999I', fails: 'format', why: 'lower-case decade letter' },
  { type: 'nid', value: 'I05101999i', fails: 'format', why: 'lower-case check letter' },
  { type: 'nid', value: 'I0510199I', fails: 'format', why: 'nine characters' },
  { type: 'nid', value: 'I05101999II', fails: 'format', why: 'eleven characters' },
  { type: 'nid', value: 'I01301001J', fails: 'format', why: 'month 13' },
  { type: 'nid', value: 'I06301001T', fails: 'format', why: 'month 63 (women end at 62)' },
  { type: 'nid', value: 'I05001001I', fails: 'format', why: 'month 50' },
  { type: 'nid', value: 'I00431001W', fails: 'format', why: '31 April' },
  { type: 'nid', value: 'I00132001S', fails: 'format', why: 'day 32' },
  { type: 'nid', value: 'I00100001T', fails: 'format', why: 'day 00' },
  { type: 'nid', value: 'A00229001V', fails: 'format', why: '29 February 1900 (not a leap year)' },
  { type: 'nid', value: 'I50229001L', fails: 'format', why: '29 February 1985' },
  { type: 'nid', value: 'I00101000Q', fails: 'format', why: 'serial 000' },
  { type: 'nid', value: 'U00101001N', fails: 'format', why: 'decade letter after T' },
  { type: 'nid', value: 'I50314123X', fails: 'format', why: 'check letters end at W' },
  { type: 'nid', value: ' I50314123V', fails: 'format', why: 'leading space' },

  // NIPT (domain §2.2).
  { type: 'nipt', value: 'J91402501L', why: 'real NIPT (stdnum doctest)' },
  { type: 'nipt', value: 'K22218003V', why: 'real NIPT (stdnum doctest)' },
  { type: 'nipt', value: 'L41526502B', why: 'published NIPT' },
  { type: 'nipt', value: 'L72206043S', why: 'published NIPT' },
  { type: 'nipt', value: 'K33804402L', why: 'published NIPT' },
  { type: 'nipt', value: 'K81305012I', why: 'synthetic fixture' },
  { type: 'nipt', value: 'M31518001P', why: 'synthetic fixture' },
  { type: 'nipt', value: 'K12345678A', fails: 'check', why: 'placeholder with a wrong check letter' },
  { type: 'nipt', value: 'K22218003W', fails: 'check', why: 'wrong check letter' },
  { type: 'nipt', value: 'k22218003V', fails: 'format', why: 'lower case' },
  { type: 'nipt', value: 'K2221800V', fails: 'format', why: 'nine characters' },
  { type: 'nipt', value: 'K222180033V', fails: 'format', why: 'eleven characters' },
  { type: 'nipt', value: 'N22218003B', fails: 'format', why: 'first letter after M' },
  { type: 'nipt', value: 'ALK22218003V', fails: 'format', why: 'AL prefix (normalise first)' },

  // IBAN (domain §2.5).
  { type: 'iban', value: 'AL47212110090000000235698741', why: 'SWIFT registry example' },
  { type: 'iban', value: 'AL86202111090000000012345678', why: 'synthetic' },
  { type: 'iban', value: 'AL5120512345000000ABC1234567', why: 'synthetic, letters in the account' },
  { type: 'iban', value: 'AL47212110090000000235698742', fails: 'check', why: 'mod-97 fails' },
  { type: 'iban', value: 'AL72212110080000000235698741', fails: 'check', why: 'mod-97 holds, national check digit wrong' },
  { type: 'iban', value: 'al47212110090000000235698741', fails: 'format', why: 'lower case' },
  { type: 'iban', value: 'AL4721211009000000023569874', fails: 'format', why: '27 characters' },
  { type: 'iban', value: 'AL47 2121 1009 0000 0002 3569 8741', fails: 'format', why: 'printed form with spaces' },
  { type: 'iban', value: 'DE89370400440532013000', fails: 'format', why: 'not Albanian' },

  // Phone numbers (domain §2.4).
  { type: 'telefon', value: '+355672123456', why: 'mobile, E.164' },
  { type: 'telefon', value: '0692123456', why: 'mobile, as e-Albania asks for it' },
  { type: 'telefon', value: '00355682123456', why: 'mobile, 00 prefix' },
  { type: 'telefon', value: '+35542222411', why: 'Tirana fixed line' },
  { type: 'telefon', value: '08001234', why: 'toll-free' },
  { type: 'telefon', value: '+355662123456', fails: 'format', why: '066 is no longer a mobile prefix' },
  { type: 'telefon', value: '067212345', fails: 'format', why: 'one digit short' },
  { type: 'telefon', value: '672123456', fails: 'format', why: 'no prefix' },
  { type: 'telefon', value: '+355 67 212 3456', fails: 'format', why: 'separators (normalise first)' },
  { type: 'telefonE164', value: '+355672123456', why: 'E.164' },
  { type: 'telefonE164', value: '0672123456', fails: 'format', why: 'national form is not E.164' },

  // Postal codes (domain §2.3).
  { type: 'kodiPostar', value: '1001', why: 'Tirana' },
  { type: 'kodiPostar', value: '5401', why: 'Çorovodë' },
  { type: 'kodiPostar', value: '0101', fails: 'format', why: 'leading zero' },
  { type: 'kodiPostar', value: '100', fails: 'format', why: 'three digits' },
  { type: 'kodiPostar', value: '10011', fails: 'format', why: 'five digits' },

  // Dates.
  { type: 'date', value: '2024-02-29', why: 'leap day' },
  { type: 'date', value: '2026-12-20', why: 'plain date' },
  { type: 'date', value: '2025-02-29', fails: 'format', why: 'no 29 February in 2025' },
  { type: 'date', value: '2026-13-01', fails: 'format', why: 'month 13' },
  { type: 'date', value: '2026-1-01', fails: 'format', why: 'one-digit month' },
  { type: 'date', value: '2026-01-01Z', fails: 'format', why: 'time zone on a date' },
  { type: 'dateTime', value: '2026-03-14T09:30:00+01:00', why: 'with offset' },
  { type: 'dateTime', value: '2026-03-14T09:30:00.250Z', why: 'fraction, UTC' },
  { type: 'dateTime', value: '2026-03-14T09:30:00', fails: 'format', why: 'no time zone' },
  { type: 'dateTime', value: '2026-03-14 09:30:00Z', fails: 'format', why: 'space instead of T' },
  { type: 'dateTime', value: '2026-02-30T10:00:00Z', fails: 'format', why: '30 February' },

  // Amounts.
  { type: 'shumaLeke', value: 18750.5, why: 'one decimal' },
  { type: 'shumaLeke', value: 0.07, why: 'binary-unfriendly cents' },
  { type: 'shumaLeke', value: 0, why: 'zero' },
  { type: 'shumaLeke', value: -1, fails: 'format', why: 'negative' },
  { type: 'shumaLeke', value: 12.345, fails: 'format', why: 'three decimals' },

  // Code lists (generated from schemas/data/bashki.json).
  { type: 'bashkia', value: 'Tiranë', why: 'official name' },
  { type: 'bashkia', value: 'Kuçovë', why: 'with ç' },
  { type: 'bashkia', value: 'Fushë-Arrëz', why: 'hyphenated' },
  { type: 'bashkia', value: 'Malësi e Madhe', why: 'several words' },
  { type: 'bashkia', value: 'Dimal', why: 'renamed in 2021' },
  { type: 'bashkia', value: 'Tirana', fails: 'format', why: 'definite form is an alias, not the code' },
  { type: 'bashkia', value: 'Tirane', fails: 'format', why: 'ASCII fold is a search key, not the code' },
  { type: 'bashkia', value: 'Ura Vajgurore', fails: 'format', why: 'former name' },
  { type: 'qarku', value: 'Dibër', why: 'county' },
  { type: 'qarku', value: 'Peshkopi', fails: 'format', why: 'a seat, not a county' },

  // Address: the bashkia/qarku pair is a co-constraint (JSON Schema if/then; XSD hook on al:Adresa).
  { type: 'adresa', value: { rruga: 'Rruga e Kavajës', nrPallati: '27/2', bashkia: 'Tiranë', qarku: 'Tiranë', kodiPostar: '1001' }, why: 'full address' },
  { type: 'adresa', value: { rruga: 'Rruga Tregtare', bashkia: 'Durrës', kodiPostar: '2001' }, why: 'without qarku' },
  { type: 'adresa', value: { rruga: 'Rruga e Kavajës', bashkia: 'Tiranë', qarku: 'Durrës', kodiPostar: '1001' }, fails: 'check', why: 'Tiranë is not in qarku Durrës' },
  { type: 'adresa', value: { bashkia: 'Tiranë', kodiPostar: '1001' }, fails: 'format', why: 'no street' },
  { type: 'adresa', value: { rruga: 'Rruga e Kavajës', bashkia: 'Tirana', kodiPostar: '1001' }, fails: 'format', why: 'unknown bashkia' },
]
