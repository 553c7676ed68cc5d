/**
 * `npm run schemas:generate`: writes the code-list schemas that come from data — the bashki and
 * qark enumerations, in JSON Schema (`core/v1/bashki.json`) and XSD (`core/v1/bashki.include.xsd`,
 * included into the core namespace) — from `data/bashki.json`. A test fails when the committed
 * files differ from what this produces, so the two schema languages cannot drift apart.
 */
import { writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BASHKI, QARQE } from './bashki.ts'

export const CORE_NS = 'http://ura.gov.al/schemas/core/v1'
export const CORE_ID = 'https://ura.gov.al/schemas/core/v1'
const NOTICE = 'Generated from schemas/data/bashki.json by `npm run schemas:generate`. Do not edit by hand.'

const xmlText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;')

function isoOf (qarku: string): string {
  return BASHKI.find(b => b.qarku === qarku)!.iso
}

export function bashkiJsonSchema (): string {
  const schema = {
    $id: `${CORE_ID}/bashki`,
    $schema: 'http://json-schema.org/draft-07/schema#',
    $comment: NOTICE,
    title: 'The 61 bashki and 12 qarqe (Law 115/2014)',
    definitions: {
      bashkia: { description: 'Official name of a municipality (bashki), with diacritics.', type: 'string', enum: BASHKI.map(b => b.emri) },
      qarku: { description: 'County (qark).', type: 'string', enum: [...QARQE] },
      kodiLau: { description: 'Eurostat LAU code of a municipality.', type: 'string', enum: BASHKI.map(b => b.lau) },
      kodiIsoQarku: { description: 'ISO 3166-2 code of a county.', type: 'string', enum: QARQE.map(isoOf) },
      bashkiaNeQark: {
        description: 'When an object names both bashkia and qarku, the bashki lies in that qark.',
        allOf: QARQE.map(q => ({
          if: { required: ['bashkia', 'qarku'], properties: { bashkia: { enum: BASHKI.filter(b => b.qarku === q).map(b => b.emri) } } },
          then: { properties: { qarku: { const: q } } },
        })),
      },
    },
  }
  return JSON.stringify(schema, null, 2) + '\n'
}

export function bashkiXsd (): string {
  const lines: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<!-- ${NOTICE} -->`,
    `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:al="${CORE_NS}" targetNamespace="${CORE_NS}" elementFormDefault="qualified">`,
    '',
    '  <xs:simpleType name="Bashkia">',
    '    <xs:annotation><xs:documentation>Official name of a municipality (bashki), with diacritics.</xs:documentation></xs:annotation>',
    '    <xs:restriction base="xs:string">',
  ]
  for (const b of BASHKI) {
    lines.push(`      <xs:enumeration value="${xmlText(b.emri)}"><xs:annotation><xs:documentation>qarku ${xmlText(b.qarku)} (${b.iso}), LAU ${b.lau}</xs:documentation></xs:annotation></xs:enumeration>`)
  }
  lines.push('    </xs:restriction>', '  </xs:simpleType>', '')
  const enumType = (name: string, doc: string, values: readonly string[]): void => {
    lines.push(`  <xs:simpleType name="${name}">`, `    <xs:annotation><xs:documentation>${doc}</xs:documentation></xs:annotation>`, '    <xs:restriction base="xs:string">')
    for (const v of values) lines.push(`      <xs:enumeration value="${xmlText(v)}"/>`)
    lines.push('    </xs:restriction>', '  </xs:simpleType>', '')
  }
  enumType('Qarku', 'County (qark).', QARQE)
  enumType('KodiLau', 'Eurostat LAU code of a municipality.', BASHKI.map(b => b.lau))
  enumType('KodiIsoQarku', 'ISO 3166-2 code of a county.', QARQE.map(isoOf))
  lines.push('</xs:schema>', '')
  return lines.join('\n')
}

/** Generated files, relative to the schemas directory. */
export function generatedFiles (): Record<string, string> {
  return {
    'core/v1/bashki.json': bashkiJsonSchema(),
    'core/v1/bashki.include.xsd': bashkiXsd(),
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [path, text] of Object.entries(generatedFiles())) {
    await writeFile(resolve(import.meta.dirname, path), text)
    console.log(`wrote schemas/${path}`)
  }
}
