/**
 * Form fields for the institutions, services and officials pages, and what happens when the API
 * refuses a change: its problems (`detail.problems[{path, message}]`) are put next to the fields
 * they name, the rest above the form, and the form keeps what the operator typed. A refusal of the
 * role itself (403) or of a missing target (404) is not a form problem: it becomes the error page.
 */
import type { ApiAnswer } from '../api.ts'
import { ApiError } from '../api.ts'
import { html, type Html, type HtmlValue } from '../html.ts'

/** What the API (or the page's own reading of the form) found wrong: by field name, and the rest. */
export interface FormProblems {
  /** The API's status for the refusal (the re-rendered form is answered with it), 400 for the page's own findings. */
  status?: number
  message?: string
  fields: Map<string, string[]>
  general: string[]
}

export const noProblems = (): FormProblems => ({ fields: new Map(), general: [] })

export function addProblem (p: FormProblems, field: string | undefined, message: string): void {
  if (field === undefined) { p.general.push(message); return }
  p.fields.set(field, [...p.fields.get(field) ?? [], message])
}

export const hasProblems = (p: FormProblems): boolean => p.message !== undefined || p.fields.size > 0 || p.general.length > 0

/** `body.catalogue.title.sq`, `members[2].officials[0].nid` → `catalogue.title.sq`, `members.2.officials.0.nid`. */
export function normalPath (path: string): string {
  return path.replace(/\[(\d+)\]/g, '.$1').replace(/^(body|querystring|params)\.?/, '').replace(/^\./, '')
}

/**
 * The problems of a refused answer, each on the form field it names: the field whose name is the
 * path, or ends it (`members.2.officials.0.nid` → `nid`). A 403 or 404 throws (the error page).
 */
export function refusal (answer: ApiAnswer, known: readonly string[]): FormProblems {
  if (answer.status === 403 || answer.status === 404 || answer.status >= 500) throw new ApiError(answer.status, answer.problem!)
  const out = noProblems()
  out.status = answer.status
  out.message = answer.problem?.message
  for (const pr of answer.problem?.detail?.problems ?? []) {
    const path = normalPath(pr.path)
    const field = known.find(k => k === path) ?? known.find(k => path.endsWith(`.${k}`)) ?? known.find(k => path.startsWith(`${k}.`))
    addProblem(out, field, pr.message)
  }
  return out
}

/** The message and general problems above a form (an alert, so a screen reader hears it). */
export function problemSummary (p: FormProblems): HtmlValue {
  if (!hasProblems(p)) return ''
  return html`<div class="notice bad" role="alert">${p.message === undefined ? '' : html`<p><strong>${p.message}</strong></p>`}${p.general.length === 0 ? '' : html`<ul>${p.general.map(g => html`<li>${g}</li>`)}</ul>`}</div>`
}

export interface FieldSpec {
  name: string
  label: string
  value?: string
  hint?: string
  /** An id other than the one made from the name (two forms of one page naming the same field). */
  id?: string
  type?: string
  required?: boolean
  attrs?: Html
}

export const idOf = (name: string): string => `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`

function wrap (spec: FieldSpec, p: FormProblems, control: (id: string, described: Html) => Html): Html {
  const id = spec.id ?? idOf(spec.name)
  const problems = p.fields.get(spec.name) ?? []
  const ids = [spec.hint === undefined ? '' : `${id}-hint`, problems.length === 0 ? '' : `${id}-problem`].filter(Boolean).join(' ')
  const described = html`${ids === '' ? '' : html` aria-describedby="${ids}"`}${problems.length === 0 ? '' : html` aria-invalid="true"`}${spec.required === true ? html` required` : ''}`
  return html`<div class="field${problems.length === 0 ? '' : ' invalid'}"><label for="${id}">${spec.label}</label>${spec.hint === undefined ? '' : html`<span class="hint" id="${id}-hint">${spec.hint}</span>`}${control(id, described)}${problems.length === 0 ? '' : html`<p class="problem" id="${id}-problem">${problems.join(' ')}</p>`}</div>`
}

export function input (spec: FieldSpec, p: FormProblems): Html {
  return wrap(spec, p, (id, d) => html`<input id="${id}" name="${spec.name}" type="${spec.type ?? 'text'}" value="${spec.value ?? ''}"${d}${spec.attrs ?? ''}>`)
}

export function textarea (spec: FieldSpec, p: FormProblems): Html {
  return wrap(spec, p, (id, d) => html`<textarea id="${id}" name="${spec.name}"${d}${spec.attrs ?? ''}>${spec.value ?? ''}</textarea>`)
}

export function select (spec: FieldSpec & { options: Array<{ value: string; label: string }> }, p: FormProblems): Html {
  return wrap(spec, p, (id, d) => html`<select id="${id}" name="${spec.name}"${d}>${spec.options.map(o => html`<option value="${o.value}"${o.value === spec.value ? html` selected` : ''}>${o.label}</option>`)}</select>`)
}
