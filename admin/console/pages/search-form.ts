/**
 * What the console's search pages share (the audit trail, the message log): the filters read from
 * the query string, the time fields typed in Tirana time and turned into the API's ISO times (a
 * time that is not one marks its field instead of asking the API), a filter field with its error,
 * and the links of keyset pages that keep the filters.
 */
import { ApiError, type Api } from '../api.ts'
import { html, type Html } from '../html.ts'
import { tiranaToIso } from './tirana-time.ts'

export type Filters = Record<string, string | undefined>

/** The named parameters of a query string, trimmed; empty ones left out. */
export function readFilters (query: unknown, names: readonly string[]): Filters {
  const raw = query as Record<string, unknown>
  const out: Filters = {}
  for (const k of names) if (typeof raw[k] === 'string' && raw[k] !== '') out[k] = (raw[k] as string).trim()
  return out
}

/** The time filters as ISO times for the API; the names of those that are not times. */
export function timesOf (q: Filters, names: readonly string[]): { iso: Filters; bad: Set<string> } {
  const iso: Filters = {}
  const bad = new Set<string>()
  for (const k of names) {
    const v = q[k]
    if (v === undefined) continue
    const t = tiranaToIso(v)
    if (t === undefined) bad.add(k)
    else iso[k] = t
  }
  return { iso, bad }
}

/** One filter field (`datetime-local` for times), marked and described when its value was refused. */
export function filterField (id: string, name: string, label: string, type: string, value: string | undefined, problem?: string): Html {
  const bad = problem !== undefined
  return html`<div class="field${bad ? ' invalid' : ''}"><label for="${id}">${label}</label><input id="${id}" name="${name}" type="${type}" value="${value ?? ''}"${type === 'datetime-local' ? html` step="1"` : ''}${bad ? html` aria-invalid="true" aria-describedby="${id}-bad"` : ''}>${bad ? html`<p class="problem" id="${id}-bad">${problem}</p>` : ''}</div>`
}

/** A page of the search at `path` with the same filters, `extra` changing some. */
export function searchLink (path: string, q: Filters, extra: Filters): string {
  const u = new URLSearchParams()
  for (const [k, v] of Object.entries({ ...q, ...extra })) if (v !== undefined && v !== '') u.set(k, v)
  return `${path}${u.size > 0 ? `?${u.toString()}` : ''}`
}

export interface SearchPage<T> { items: T[]; next?: number; status: number; problem: Html | string }

/**
 * One page of a keyset search through the API; none when a time field was refused (400). A filter
 * the API refuses (400) is shown beside the form; any other refusal is the page's error.
 */
export async function searchPage<T> (api: Api, path: string, query: Filters, badTimes: Set<string>): Promise<SearchPage<T>> {
  if (badTimes.size > 0) return { items: [], status: 400, problem: '' }
  const a = await api.get<{ items: T[]; next?: number }>(path, query)
  if (a.status === 400) return { items: [], status: 400, problem: html`<div class="notice bad" role="alert"><p>${a.problem!.message}</p></div>` }
  if (!a.ok) throw new ApiError(a.status, a.problem!)
  return { items: a.body.items, ...(a.body.next === undefined ? {} : { next: a.body.next }), status: 200, problem: '' }
}
