import { createHash } from 'node:crypto'
import { ApiError } from './errors.js'
import { verifyJwt } from './jwt.js'
import type { OrgAccess, Principal, Repository } from './repository.js'

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

const BEARER = /^Bearer +([^\s]+) *$/i
const CACHE_LIMIT = 10_000

/**
 * Maps `Authorization: Bearer <key>` to the principal behind it. API keys are cached by the
 * key itself, known and unknown alike, so a request with a key seen before costs one map
 * lookup (the SHA-256 is computed only on a miss); the cache is dropped whenever
 * organizations, users, memberships or keys change (a key added by POST /_mock/seed works
 * at once).
 */
export class Authenticator {
  /** Known keys, and (null) keys known not to exist: a client retrying a bad key costs no SQL either. */
  private cache = new Map<string, Principal | null>()
  private generation = -1

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
    const m = BEARER.exec(header)
    if (m === null) throw new ApiError('auth_scheme')
    const token = m[1]!
    if (this.generation !== this.repo.generation) {
      this.cache.clear()
      this.generation = this.repo.generation
    }
    // Only API keys are cached: a JWT is verified (signature, expiry) every time.
    const cached = this.cache.get(token)
    if (cached === null) throw new ApiError('auth_invalid_key')
    if (cached !== undefined) return cached
    // A JWT has three dot-separated parts (CONTRACT section 5); anything else is an API key.
    if (token.split('.').length === 3) return this.authenticateJwt(token)
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

/**
 * The organization a request acts in (CONTRACT section 4, step 3): the named one if the key
 * spans it, else the key's only organization.
 */
export function resolveOrg(principal: Principal, orgName: string | null | undefined): OrgAccess {
  if (orgName !== undefined && orgName !== null) {
    const org = principal.orgs.find((o) => o.name === orgName)
    if (org === undefined) throw new ApiError('org_forbidden', { org: orgName })
    return org
  }
  const [only, ...more] = principal.orgs
  if (only === undefined) throw new ApiError('no_org')
  if (more.length > 0) throw new ApiError('org_required', { orgs: principal.orgs.map((o) => o.name).join(', ') })
  return only
}
