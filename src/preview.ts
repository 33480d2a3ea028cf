/**
 * What the API shows of a secret: at most 6 of its characters, the first and last three
 * (`sk-...def`), fewer for short values so that a preview never gives a short secret away
 * whole. null when there is no secret.
 *
 * GUESS: the real API's exact masking is unconfirmed; its UI shows `abc...xyz`.
 */
export function previewSecret(secret: string | null): string | null {
  if (secret === null) return null
  const n = Math.min(3, Math.floor(secret.length / 4))
  return `${secret.slice(0, n)}...${n === 0 ? '' : secret.slice(-n)}`
}
