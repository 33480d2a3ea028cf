// Lone UTF-16 surrogates: valid in JSON text ("\ud800") and in JS strings, but not Unicode.
// SQLite cannot keep one as text (it comes back as other characters), so request bodies
// (plugins/body.ts) and seeds (seed.ts) refuse them, naming where one is.

/** Half of a UTF-16 surrogate pair without its other half: not Unicode, and SQLite cannot keep it as text. */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return `${path}.${key}`
  return `${path}[${JSON.stringify(key)}]`
}

/** Whether a parsed value holds a lone surrogate anywhere (in a string or a key). */
function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value)
  if (value === null || typeof value !== 'object') return false
  if (Array.isArray(value)) return value.some(hasLoneSurrogate)
  for (const k in value) {
    if (LONE_SURROGATE.test(k) || hasLoneSurrogate((value as Record<string, unknown>)[k])) return true
  }
  return false
}

/**
 * Where the first lone surrogate of a parsed value is (a JSON path from `$`), or null. Never the
 * value itself. Paths are built only once one is known to be there: a seed of a million
 * secrets is walked once, without a million path strings.
 */
export function loneSurrogateAt(value: unknown): string | null {
  return hasLoneSurrogate(value) ? surrogatePath(value, '$') : null
}

function surrogatePath(value: unknown, path: string): string | null {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path : null
  if (value === null || typeof value !== 'object') return null
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const at = surrogatePath(value[i], childPath(path, i))
      if (at !== null) return at
    }
    return null
  }
  for (const [k, v] of Object.entries(value)) {
    if (LONE_SURROGATE.test(k)) return `${path} (a key)`
    const at = surrogatePath(v, childPath(path, k))
    if (at !== null) return at
  }
  return null
}
