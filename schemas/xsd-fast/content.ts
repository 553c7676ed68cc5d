/**
 * A complex type's content model (sequences and choices with their occurrences) as a deterministic
 * automaton over child element names, built once: each child is one lookup. The automaton accepts
 * exactly the sequences the content model allows, whatever the schema's particles look like; the
 * element declaration reached is the one the child is validated against. Content models the
 * model does not describe (xs:all, xs:any, groups) or that would need too many states are not
 * compiled (`undefined`).
 */
import type { ElementDecl, Particle } from '../xsd-model.ts'

export interface Step {
  ns: string
  /** Declarations the child may match (one unless the schema repeats a name with other types). */
  decls: ElementDecl[]
  to: number
}

export interface ContentAutomaton {
  /** Per state: the steps by local name. State 0 is the start. */
  steps: Array<Map<string, Step[]>>
  accepting: boolean[]
}

const MAX_NFA_STATES = 2000
const MAX_DFA_STATES = 500
/** Occurrence bounds above this are not expanded into states. */
const MAX_BOUND = 100

class TooBig extends Error {}

interface Nfa {
  eps: number[][]
  on: Array<Array<{ decl: ElementDecl; to: number }>>
}

function newState (nfa: Nfa): number {
  if (nfa.eps.length >= MAX_NFA_STATES) throw new TooBig()
  nfa.eps.push([])
  nfa.on.push([])
  return nfa.eps.length - 1
}

/** Adds the particle once from `from`; returns the state after it, or undefined if not described. */
function once (nfa: Nfa, p: Particle, from: number, resolve: (d: ElementDecl) => ElementDecl): number {
  switch (p.kind) {
    case 'element': {
      const to = newState(nfa)
      nfa.on[from].push({ decl: resolve(p.decl), to })
      return to
    }
    case 'sequence': {
      let at = from
      for (const item of p.items) at = repeated(nfa, item, at, resolve)
      return at
    }
    case 'choice': {
      const end = newState(nfa)
      if (p.items.length === 0) throw new TooBig() // an empty choice matches nothing: leave it to libxml2
      for (const item of p.items) {
        const start = newState(nfa)
        nfa.eps[from].push(start)
        nfa.eps[repeated(nfa, item, start, resolve)].push(end)
      }
      return end
    }
    default:
      throw new TooBig()
  }
}

/** The particle with its occurrence: `min` copies, then up to `max - min` optional ones (or a loop). */
function repeated (nfa: Nfa, p: Particle, from: number, resolve: (d: ElementDecl) => ElementDecl): number {
  if (p.kind === 'other' || p.kind === 'all') throw new TooBig()
  const { min, max } = p
  if (!Number.isInteger(min) || min < 0 || min > MAX_BOUND || (max !== Infinity && (!Number.isInteger(max) || max < min || max > MAX_BOUND))) throw new TooBig()
  let at = from
  for (let k = 0; k < min; k++) at = once(nfa, p, at, resolve)
  if (max === Infinity) {
    const loop = newState(nfa)
    nfa.eps[at].push(loop)
    nfa.eps[once(nfa, p, loop, resolve)].push(loop)
    return loop
  }
  for (let k = min; k < max; k++) {
    const next = once(nfa, p, at, resolve)
    nfa.eps[at].push(next)
    at = next
  }
  return at
}

function closure (nfa: Nfa, states: number[]): number[] {
  const seen = new Set(states)
  const work = [...states]
  while (work.length > 0) {
    for (const s of nfa.eps[work.pop()!]) {
      if (!seen.has(s)) {
        seen.add(s)
        work.push(s)
      }
    }
  }
  return [...seen].sort((a, b) => a - b)
}

/** The automaton of a content model (`undefined`: an empty content model, handled by the caller). */
export function compileContent (particle: Particle, resolve: (d: ElementDecl) => ElementDecl): ContentAutomaton | undefined {
  const nfa: Nfa = { eps: [], on: [] }
  let final: number
  try {
    const start = newState(nfa)
    final = repeated(nfa, particle, start, resolve)
  } catch (err) {
    if (err instanceof TooBig) return undefined
    throw err
  }
  const ids = new Map<string, number>()
  const sets: number[][] = []
  const out: ContentAutomaton = { steps: [], accepting: [] }
  const add = (set: number[]): number => {
    const key = set.join(',')
    let id = ids.get(key)
    if (id === undefined) {
      id = sets.length
      ids.set(key, id)
      sets.push(set)
      out.steps.push(new Map())
      out.accepting.push(set.includes(final))
    }
    return id
  }
  add(closure(nfa, [0]))
  for (let d = 0; d < sets.length; d++) {
    if (sets.length > MAX_DFA_STATES) return undefined
    const byName = new Map<string, { ns: string; decls: ElementDecl[]; targets: number[] }>()
    for (const s of sets[d]) {
      for (const { decl, to } of nfa.on[s]) {
        const key = `{${decl.ns}}${decl.name}`
        let entry = byName.get(key)
        if (entry === undefined) byName.set(key, entry = { ns: decl.ns, decls: [], targets: [] })
        if (!entry.decls.includes(decl)) entry.decls.push(decl)
        entry.targets.push(to)
      }
    }
    for (const [key, entry] of byName) {
      const local = key.slice(key.indexOf('}') + 1)
      const step: Step = { ns: entry.ns, decls: entry.decls, to: add(closure(nfa, entry.targets)) }
      const same = out.steps[d].get(local)
      if (same === undefined) out.steps[d].set(local, [step])
      else same.push(step)
    }
  }
  return out
}
