/**
 * Values crossing to and from the delivery store's thread (structured cloning). Going out, every
 * byte array gets memory of its own: cloning copies a view's whole backing buffer, and a Buffer of a
 * few bytes often sits in an 8 KB pool. Coming in, byte arrays (plain Uint8Arrays after cloning)
 * become Buffers again, as both sides' code expects.
 */

export function detached (value: unknown): unknown {
  if (value instanceof Uint8Array) return value.byteOffset === 0 && value.byteLength === value.buffer.byteLength ? value : new Uint8Array(value)
  if (Array.isArray(value)) return value.map(detached)
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = detached(v)
    return out
  }
  return value
}

/** In place: a value that arrived by structured cloning belongs to its receiver alone. */
export function revived<T> (value: unknown): T {
  if (value instanceof Uint8Array) return (Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)) as T
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revived(value[i])
  } else if (isPlainObject(value)) {
    for (const k in value) {
      const v = value[k]
      if (v !== null && typeof v === 'object') value[k] = revived(v)
    }
  }
  return value as T
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !(value instanceof Date)
}
