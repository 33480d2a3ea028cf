/**
 * What the API shows of a secret: at most 6 of its characters, the first and last three
 * (`sk-...def`), fewer for short values so that a preview never gives a short secret away
 * whole. null when there is no secret.
 *
 * GUESS: the real API's exact masking is unconfirmed; its UI shows `abc...xyz`.
 */
export function previewSecret(secret: string | null): string | null {
  if (secret === null) return null
  // Characters are code points: cut by UTF-16 units, `😀😀…` was previewed with half an emoji (a
  // lone surrogate, which strict JSON parsers such as serde_json refuse, as the mock does in input).
  const chars = SURROGATE.test(secret) ? Array.from(secret) : null
  const n = Math.min(3, Math.floor((chars?.length ?? secret.length) / 4))
  if (n === 0) return '...'
  const head = chars === null ? secret.slice(0, n) : chars.slice(0, n).join('')
  const tail = chars === null ? secret.slice(-n) : chars.slice(-n).join('')
  return `${head}...${tail}`
}

const SURROGATE = /[\uD800-\uDFFF]/
