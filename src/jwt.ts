import { createHmac, timingSafeEqual } from 'node:crypto'
import { ApiError } from './errors.js'

function b64urlJson(part: string): Record<string, unknown> {
  const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object')
  return value as Record<string, unknown>
}

const invalid = (reason: string) => new ApiError('auth_invalid_token', { reason })

/**
 * Verifies an HS256 JWT and returns its `email` claim. Unsigned (`alg: none`), otherwise
 * signed, wrongly signed, expired or not-yet-valid tokens are refused.
 *
 * DIFFERS: the real API takes Braintrust-issued JWTs; the mock trusts whatever JWT_SECRET signs.
 */
export function verifyJwt(token: string, secret: string | undefined, now: Date): string {
  if (secret === undefined || secret === '') throw invalid('JWT authentication is not configured on this mock (set JWT_SECRET)')
  const [h, p, s] = token.split('.') as [string, string, string]
  let header: Record<string, unknown>
  let claims: Record<string, unknown>
  try {
    header = b64urlJson(h)
    claims = b64urlJson(p)
  } catch {
    throw invalid('malformed JWT')
  }
  if (header.alg !== 'HS256') throw invalid('only HS256-signed JWTs are accepted')
  const expected = createHmac('sha256', secret).update(`${h}.${p}`).digest()
  const given = Buffer.from(s, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid('bad signature')
  const seconds = now.getTime() / 1000
  if (claims.exp !== undefined && !(typeof claims.exp === 'number' && claims.exp > seconds)) throw invalid('expired')
  if (claims.nbf !== undefined && !(typeof claims.nbf === 'number' && claims.nbf <= seconds)) throw invalid('not valid yet')
  if (typeof claims.email !== 'string' || claims.email === '') throw invalid('no email claim')
  return claims.email
}

/** Makes an HS256 JWT: for tests and for users minting tokens against the mock. */
export function signJwt(claims: Record<string, unknown>, secret: string): string {
  const h = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')
  const p = Buffer.from(JSON.stringify(claims)).toString('base64url')
  const s = createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')
  return `${h}.${p}.${s}`
}
