/**
 * The access matrix's arithmetic, apart from any page: what one cell — a client and a service, or a
 * client and one endpoint of a REST service — holds in a service's grant entries, and the entries
 * after one cell is set to allow, deny or nothing. A change touches only the client's own entries
 * for that cell: other clients, groups, endpoints and the other effect stay as they were, so the
 * whole list can go back in one `PUT /grants/{service}` made on the ETag the page was read with.
 */

export interface Endpoint { method: string; path: string }

export interface Entry {
  clients?: string[]
  groups?: string[]
  endpoints?: Endpoint[]
  effect?: 'allow' | 'deny'
}

export type Effect = 'allow' | 'deny'
export type CellChange = Effect | 'remove'

/** What a cell shows: the client's own entry (deny wins over allow), and what reaches it through groups. */
export interface Cell {
  direct?: Effect
  /** Groups holding the client that have an entry for this cell, with that entry's effect. */
  viaGroups: Array<{ group: string; effect: Effect }>
  /** On a whole-service cell: the client's entries for endpoints that are no column of the matrix. */
  other: Array<{ effect: Effect; endpoints: Endpoint[] }>
}

const effectOf = (e: Entry): Effect => e.effect ?? 'allow'
const sameEndpoint = (a: Endpoint, b: Endpoint): boolean => a.method === b.method && a.path === b.path
const has = (e: Entry, ep: Endpoint): boolean => (e.endpoints ?? []).some(x => sameEndpoint(x, ep))
const names = (e: Entry, client: string): boolean => (e.clients ?? []).includes(client)
const wholeService = (e: Entry): boolean => e.endpoints === undefined || e.endpoints.length === 0

/** A REST endpoint's path template (`/subjekte/{nipt}/detyrime`) as grants write it (`/subjekte/*\/detyrime`). */
export function grantPattern (path: string): string {
  return path.replace(/\{[^}/]*\}/g, '*')
}

/** The cell of `client` for the whole service (`endpoint` undefined) or one endpoint. */
export function cellOf (entries: Entry[], client: string, endpoint: Endpoint | undefined, groups: Record<string, string[]>, columns: Endpoint[] = []): Cell {
  const inCell = (e: Entry): boolean => endpoint === undefined ? wholeService(e) : has(e, endpoint)
  const mine = entries.filter(e => inCell(e) && names(e, client))
  const direct = mine.some(e => effectOf(e) === 'deny') ? 'deny' : mine.length > 0 ? 'allow' : undefined
  const member = Object.entries(groups).filter(([, clients]) => clients.includes(client)).map(([g]) => g)
  const viaGroups = entries.filter(inCell).flatMap(e => (e.groups ?? []).filter(g => member.includes(g)).map(group => ({ group, effect: effectOf(e) })))
  const other = endpoint !== undefined
    ? []
    : entries.filter(e => !wholeService(e) && names(e, client))
      .map(e => ({ effect: effectOf(e), endpoints: (e.endpoints ?? []).filter(ep => !columns.some(c => sameEndpoint(c, ep))) }))
      .filter(o => o.endpoints.length > 0)
  return { ...(direct === undefined ? {} : { direct }), viaGroups, other }
}

const alone = (e: Entry, client: string): boolean => (e.clients ?? []).length === 1 && names(e, client) && (e.groups ?? []).length === 0
const empty = (e: Entry): boolean => (e.clients ?? []).length === 0 && (e.groups ?? []).length === 0
const withEffect = (effect: Effect): Pick<Entry, 'effect'> => effect === 'deny' ? { effect } : {}

/** The service's entries with the cell of `client` set to `change`; every other grant is kept. */
export function setCell (entries: Entry[], client: string, endpoint: Endpoint | undefined, change: CellChange): Entry[] {
  const out: Entry[] = []
  for (const e of entries) {
    if (!names(e, client)) { out.push(e); continue }
    if (endpoint === undefined) {
      if (!wholeService(e)) { out.push(e); continue }
      const rest = { ...e, clients: (e.clients ?? []).filter(c => c !== client) }
      if (!empty(rest)) out.push(rest)
      continue
    }
    if (!has(e, endpoint)) { out.push(e); continue }
    const left = (e.endpoints ?? []).filter(x => !sameEndpoint(x, endpoint))
    if (alone(e, client)) {
      if (left.length > 0) out.push({ ...e, endpoints: left })
      continue
    }
    const rest = { ...e, clients: (e.clients ?? []).filter(c => c !== client) }
    if (!empty(rest)) out.push(rest)
    if (left.length > 0) out.push({ clients: [client], groups: [], endpoints: left, ...withEffect(effectOf(e)) })
  }
  if (change === 'remove') return out
  if (endpoint === undefined) {
    const at = out.findIndex(e => wholeService(e) && effectOf(e) === change)
    if (at >= 0) out[at] = { ...out[at], clients: [...out[at].clients ?? [], client] }
    else out.push({ clients: [client], groups: [], ...withEffect(change) })
    return out
  }
  const at = out.findIndex(e => !wholeService(e) && alone(e, client) && effectOf(e) === change)
  if (at >= 0) out[at] = { ...out[at], endpoints: [...out[at].endpoints ?? [], endpoint] }
  else out.push({ clients: [client], groups: [], endpoints: [endpoint], ...withEffect(change) })
  return out
}
