import { createHash } from 'node:crypto'
import type { Principal, Repository } from '../db/repository.js'
import { ApiError } from '../errors.js'
import { verifyJwt } from './jwt.js'

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

const CACHE_LIMIT = 10_000

/**
 * The token of an `Authorization: Bearer <token>` value, or null when the value is absent or
 * not of that form. The one reading of the header: authentication, fault rules, the rate
 * limit, the journal's redaction and the admin token all use it.
 *
 * The scheme in any case (RFC 7235), then one or more spaces (RFC 6750: `"Bearer" 1*SP`),
 * then the token: everything up to the end, white space inside included (the official
 * clients' own tests use the key `My API Key`). White space at the end is dropped, as HTTP
 * drops it around a field value (Node's parser already does so on the wire). An empty
 * token is none.
 */
export function bearerToken(authorization: string | undefined): string | null {
  if (authorization === undefined || authorization.length < 8 || authorization[6] !== ' ') return null
  if (authorization.slice(0, 6).toLowerCase() !== 'bearer') return null
  const token = authorization.slice(7).replace(/^ +/, '').trimEnd()
  return token === '' ? null : token
}

const CONTROL = /\p{Cc}/u
const EDGE_SPACE = /^\s|\s$/

/**
 * Why a string cannot be an API key, or null when it can be one: a key is any non-empty
 * string without control characters (C0, DEL, C1) and without white space at either end
 * (docs/seed-file.md), so that it survives an HTTP header as it is. Three dot-separated
 * parts would be read as a JWT (docs/api.md), so that is not a key either.
 */
export function keyProblem(key: string): string | null {
  if (key === '') return 'must not be empty'
  if (EDGE_SPACE.test(key)) return 'has white space at either end, which HTTP drops from a header'
  if (CONTROL.test(key)) return 'holds a control character'
  if (isJwtShaped(key)) return 'has three dot-separated parts, so it would be read as a JWT'
  return null
}

/** A JWT has three dot-separated parts (docs/api.md); any other token is an API key. */
export function isJwtShaped(token: string): boolean {
  return token.split('.').length === 3
}

/**
 * Maps `Authorization: Bearer <key>` to the principal behind it. API keys are cached by the
 * key itself, known and unknown alike, so a request with a key seen before costs one map
 * lookup (the SHA-256 is computed only on a miss); the cache is dropped whenever
 * organizations, users, memberships or keys change (a key added by POST /_mock/seed works
 * at once), and whenever another process commits to the same database file (Repository.generation).
 */
export class Authenticator {
  /** Known keys, and (null) keys known not to exist: a client retrying a bad key costs no SQL either. */
  private cache = new Map<string, Principal | null>()
  private generation = ''

  constructor(
    private readonly repo: Repository,
    private readonly jwt: { secret?: string; now: () => Date } = { now: () => new Date() },
  ) {}

  /**
   * The principal of an `Authorization` header, or throws the 401 ApiError. An API key is
   * answered synchronously (the hot path needs no promise); a JWT (three dot-separated
   * parts) is verified asynchronously (jose), so its principal comes as a promise that
   * rejects with the 401.
   */
  authenticate(header: string | undefined): Principal | Promise<Principal> {
    if (header === undefined || header === '') throw new ApiError('auth_missing')
    const token = bearerToken(header)
    if (token === null) throw new ApiError('auth_scheme')
    if (this.generation !== this.repo.generation) {
      this.cache.clear()
      this.generation = this.repo.generation
    }
    // Only API keys are cached: a JWT is verified (signature, expiry) every time.
    const cached = this.cache.get(token)
    if (cached === null) throw new ApiError('auth_invalid_key')
    if (cached !== undefined) return cached
    if (isJwtShaped(token)) return this.authenticateJwt(token)
    const found = this.repo.principalByKeyHash(hashKey(token))
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear()
    this.cache.set(token, found)
    if (found === null) throw new ApiError('auth_invalid_key')
    return found
  }

  private async authenticateJwt(token: string): Promise<Principal> {
    const email = await verifyJwt(token, this.jwt.secret, this.jwt.now())
    const user = this.repo.principalByEmail(email)
    if (user === null) throw new ApiError('auth_invalid_token', { reason: 'no such user' })
    return user
  }
}
