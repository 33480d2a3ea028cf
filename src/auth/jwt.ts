import { createHmac } from 'node:crypto'
import { ApiError } from '../errors.js'

type Jose = typeof import('jose')
let jose: Promise<Jose> | null = null
/** jose, loaded on the first JWT: importing it costs ~60 ms that a start-up without JWTs need not pay. */
const loadJose = () => (jose ??= import('jose'))

const invalid = (reason: string) => new ApiError('auth_invalid_token', { reason })

/** The secret as jose wants it, made once per secret. */
const keys = new Map<string, Uint8Array>()

/** Why jose refused a token, in the words of the 401 (the words the mock used before jose). */
function reasonOf(errors: Jose['errors'], err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'expired'
  if (err instanceof errors.JWTClaimValidationFailed)
    return err.claim === 'nbf' && err.reason === 'check_failed' ? 'not valid yet' : `invalid ${err.claim} claim`
  if (err instanceof errors.JOSEAlgNotAllowed) return 'only HS256-signed JWTs are accepted'
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad signature'
  // RFC 7515 section 4.1.11: a critical header parameter the mock does not know refuses the token.
  if (err instanceof errors.JOSENotSupported) return 'unsupported critical header parameter (crit)'
  return 'malformed JWT'
}

/**
 * Verifies a JWT with jose and resolves to its `email` claim; rejects with the 401
 * `auth_invalid_token` naming why. Only HS256 with `secret` (JWT_SECRET) is accepted:
 * `alg: none` and every other algorithm are refused before the signature is looked at.
 * `exp` and `nbf` are checked against `now`, the mock's clock (POST /_mock/clock moves
 * them), with no clock tolerance: the mock's clock is exact and a test sets it. A `crit`
 * header parameter the mock does not understand, an unencoded payload (`b64: false`), a
 * claims set that is not a JSON object, and segments that do not decode are refused.
 *
 * DIFFERS: the real API takes Braintrust-issued JWTs; the mock trusts whatever JWT_SECRET signs.
 */
export async function verifyJwt(token: string, secret: string | undefined, now: Date): Promise<string> {
  if (secret === undefined || secret === '')
    throw invalid('JWT authentication is not configured on this mock (set JWT_SECRET)')
  let key = keys.get(secret)
  if (key === undefined) {
    key = new TextEncoder().encode(secret)
    keys.set(secret, key)
  }
  const { errors, jwtVerify } = await loadJose()
  let claims: Record<string, unknown>
  try {
    ;({ payload: claims } = await jwtVerify(token, key, { algorithms: ['HS256'], currentDate: now, clockTolerance: 0 }))
  } catch (err) {
    throw invalid(reasonOf(errors, err))
  }
  if (typeof claims.email !== 'string' || claims.email === '') throw invalid('no email claim')
  return claims.email
}

/**
 * Makes an HS256 JWT (`{"alg":"HS256","typ":"JWT"}`), synchronously: for tests and for users minting tokens against the
 * mock.
 */
export function signJwt(claims: Record<string, unknown>, secret: string): string {
  const h = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')
  const p = Buffer.from(JSON.stringify(claims)).toString('base64url')
  const s = createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')
  return `${h}.${p}.${s}`
}
