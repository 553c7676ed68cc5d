/**
 * What the access, applications and certificates pages show when the admin API refuses a form: the
 * API's message at the top of the form, and each of its problems next to the field it names (a
 * problem's path, `body.reason` or `entries.0.clients`, is matched on the form's field names). A
 * refusal that forbids (403) or signs out (401) is the error page instead, with the API's status.
 */
import type { ApiAnswer, ApiProblem } from '../api.ts'
import { ApiError } from '../api.ts'
import { html, type Html } from '../html.ts'

export interface Refusal {
  problem: ApiProblem
  /** Field name → the problems the API named for it. */
  byField: Map<string, string[]>
}

export interface FieldMap {
  /** A problem's path (without `body.`) → the form's field. */
  path?: (path: string) => string | undefined
  /** An error code without problems → the field its message belongs to (`Onboarding.UnknownService` → `service`). */
  type?: Record<string, string>
}

/**
 * The refusal of a write answer, or undefined when it succeeded. 401, 403 and failures of the node
 * are thrown (the error page, with the API's status).
 */
export function refusalOf (answer: ApiAnswer, map: FieldMap = {}): Refusal | undefined {
  if (answer.ok) return undefined
  const problem = answer.problem!
  if (answer.status === 401 || answer.status === 403 || answer.status >= 500) throw new ApiError(answer.status, problem)
  const byField = new Map<string, string[]>()
  for (const p of problem.detail?.problems ?? []) {
    const f = map.path?.(p.path.replace(/^body\.?/, ''))
    if (f !== undefined) byField.set(f, [...byField.get(f) ?? [], p.message])
  }
  const typed = map.type?.[problem.type]
  if (byField.size === 0 && typed !== undefined) byField.set(typed, [problem.message])
  return { problem, byField }
}

/** A refusal made on the console's side (the form cannot become an API call), shown like the API's. */
export function localRefusal (message: string, fieldName: string): Refusal {
  return { problem: { type: '', message }, byField: new Map([[fieldName, [message]]]) }
}

/** The refusal's message above a form (role=alert, so it is read out when the page opens). */
export function refusalNotice (r: Refusal | undefined): Html | string {
  if (r === undefined) return ''
  return html`<div class="notice bad" role="alert"><p><strong>${r.problem.message}</strong></p>${r.problem.type === '' ? '' : html`<p class="muted"><code>${r.problem.type}</code></p>`}</div>`
}

/** `field` or `field invalid` for a field's wrapper, and the problems to show under it. */
export function fieldState (r: Refusal | undefined, name: string, id: string): { cls: string; problems: Html | string; describedBy: Html | string } {
  const list = r?.byField.get(name) ?? []
  if (list.length === 0) return { cls: 'field', problems: '', describedBy: '' }
  return {
    cls: 'field invalid',
    problems: html`<p class="problem" id="${id}-problem">${list.join('; ')}</p>`,
    describedBy: html` aria-describedby="${id}-problem" aria-invalid="true"`,
  }
}

/** The reason field (`_reason`) that keeps what was typed when a form comes back refused. */
export function keptReason (label: string, hint: string, value: string, r: Refusal | undefined, id: string): Html {
  const s = fieldState(r, '_reason', id)
  return html`<div class="${s.cls}"><label for="${id}">${label} <span class="hint">${hint}</span></label><input id="${id}" name="_reason" required maxlength="500" autocomplete="off" value="${value}"${s.describedBy}>${s.problems}</div>`
}
