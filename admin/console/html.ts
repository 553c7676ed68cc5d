/**
 * HTML for the console's pages, escaped by construction: `html` is a tagged template in which every
 * interpolated value is escaped unless it is itself `html` (or an array of them), so a page cannot
 * forget to escape a name an institution typed. `raw` marks text that is HTML already — use it only
 * for constants.
 */

export class Html {
  readonly text: string
  constructor (text: string) { this.text = text }
  toString (): string { return this.text }
}

export type HtmlValue = Html | string | number | boolean | null | undefined | HtmlValue[]

export function esc (text: string): string {
  return text.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

function render (value: HtmlValue): string {
  if (value instanceof Html) return value.text
  if (Array.isArray(value)) return value.map(render).join('')
  if (value === null || value === undefined || value === false) return ''
  return esc(String(value))
}

export function html (strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]
  return new Html(out)
}

/** Text that is HTML already (constants of the code, never input). */
export function raw (text: string): Html {
  return new Html(text)
}

/** Joins fragments with a separator (escaped like any value). */
export function join (values: HtmlValue[], separator: HtmlValue = ''): Html {
  const sep = render(separator)
  return new Html(values.map(render).join(sep))
}
