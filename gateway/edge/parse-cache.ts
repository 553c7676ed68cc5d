/**
 * A bounded memo for pure parsers of identifiers. A node sees the same few client and service
 * identifiers on almost every request, and decoding and checking them each time costs more than
 * a map lookup. Only successful parses are kept, the values are frozen (shared by every request
 * that names the same identifier), and the map is emptied when full, so forged identifiers cannot
 * grow it.
 */
export class ParseCache<T extends object> {
  private readonly entries = new Map<string, Readonly<T>>()
  private readonly max: number

  constructor (max = 1024) {
    this.max = max
  }

  get (text: string, parse: (text: string) => T): Readonly<T> {
    let value = this.entries.get(text)
    if (value === undefined) {
      value = Object.freeze(parse(text))
      if (this.entries.size >= this.max) this.entries.clear()
      this.entries.set(text, value)
    }
    return value
  }

  get size (): number {
    return this.entries.size
  }
}
