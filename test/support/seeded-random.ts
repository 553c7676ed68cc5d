/** A small seeded random generator for generated test cases, so a failure names a case that can be rebuilt. */
export function seededRandom (seed: number): { pick: <T>(xs: readonly T[]) => T; chance: (p: number) => boolean } {
  let s = seed >>> 0
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0
    let x = Math.imul(s ^ (s >>> 15), 1 | s)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
  return { pick: xs => xs[Math.floor(next() * xs.length)], chance: p => next() < p }
}
