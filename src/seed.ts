import type { AbortSignalLike } from './types.js'
import { readFileSync } from 'node:fs'
import { parseDateTime } from './datetime.js'
import { hashKey, keyProblem } from './auth.js'
import { openDatabase } from './db/database.js'
import { loneSurrogateAt } from './unicode.js'
import { previewSecret } from './preview.js'
import { Repository, type NewSecret, type Role } from './repository.js'

// The seed-file format of CONTRACT section 3. Every problem names its JSON path, and a
// seed is applied in one transaction: all of it or none of it.

export class SeedError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
    readonly source?: string,
  ) {
    super(`${source === undefined ? 'seed' : `seed file ${source}`}: ${path}: ${problem}`)
    this.name = 'SeedError'
  }
}

export interface SeedEnv {
  now: () => Date
  newId: () => string
}

export interface SeededKey {
  id: string
  preview: string
  user: string
  org: string | null
  /** The organizations the key spans, with the user's role in each. */
  orgs: { name: string; role: Role }[]
}

export interface SeedResult {
  organizations: { id: string; name: string }[]
  users: { id: string; email: string }[]
  api_keys: SeededKey[]
  ai_secrets: { id: string; org: string; name: string }[]
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const ROLES: readonly string[] = ['owner', 'member']

type Json = Record<string, unknown>

function key(path: string, k: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  return `a ${typeof v}`
}

function object(v: unknown, path: string, fields: readonly string[]): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new SeedError(path, `must be an object, not ${describe(v)}`)
  for (const k of Object.keys(v)) {
    if (!fields.includes(k)) throw new SeedError(key(path, k), `unknown field (allowed: ${fields.join(', ')})`)
  }
  return v as Json
}

function array(v: unknown, path: string): unknown[] {
  if (v === undefined) return []
  if (!Array.isArray(v)) throw new SeedError(path, `must be an array, not ${describe(v)}`)
  return v
}

function string(o: Json, field: string, path: string): string {
  const v = o[field]
  if (typeof v !== 'string')
    throw new SeedError(key(path, field), v === undefined ? 'is required' : `must be a string, not ${describe(v)}`)
  if (v === '') throw new SeedError(key(path, field), 'must not be empty')
  return v
}

function optionalString(o: Json, field: string, path: string): string | null {
  const v = o[field]
  if (v === undefined || v === null) return null
  if (typeof v !== 'string') throw new SeedError(key(path, field), `must be a string or null, not ${describe(v)}`)
  return v
}

function id(o: Json, path: string, repo: Repository, taken: Set<string>, env: SeedEnv): string {
  const v = o.id
  if (v === undefined) return env.newId()
  if (typeof v !== 'string' || !UUID.test(v)) throw new SeedError(key(path, 'id'), 'must be a uuid')
  const lower = v.toLowerCase()
  if (taken.has(lower) || repo.idTaken(lower)) throw new SeedError(key(path, 'id'), `id ${lower} is already used`)
  taken.add(lower)
  return lower
}

function timestamp(o: Json, field: string, path: string, fallback: string): string {
  const v = o[field]
  if (v === undefined || v === null) return fallback
  const t = typeof v === 'string' ? parseDateTime(v) : null
  if (t === null) throw new SeedError(key(path, field), 'must be an ISO 8601 date-time, such as 2026-01-31T12:00:00Z')
  return t.toISOString()
}

export function readSeedFile(file: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new SeedError('$', `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, file)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    // Only the position: V8's message quotes the text, and a seed holds secrets.
    const at = /position (\d+)/.exec((err as Error).message)
    let where = ''
    if (at) {
      const before = text.slice(0, Number(at[1])).split('\n')
      where = ` at line ${before.length}, column ${before[before.length - 1]!.length + 1}`
    }
    throw new SeedError('$', `is not valid JSON${where}`, file)
  }
}

/**
 * Validates `data` and adds it to the store in one transaction. Names may refer to what
 * the store already holds (POST /_mock/seed adds to a running mock). Throws SeedError.
 */
export function applySeed(repo: Repository, data: unknown, env: SeedEnv, source?: string): SeedResult {
  try {
    return repo.transaction(() => {
      const steps = seedSteps(repo, data, env)
      for (;;) {
        const step = steps.next()
        if (step.done === true) return step.value
      }
    })
  } catch (err) {
    throw withSource(err, source)
  }
}

/** How many secrets are checked between two turns of the event loop (applySeedInSteps). */
const SEED_CHUNK = 5_000

/**
 * applySeed for start-up: the same checks and the same single transaction, applied in
 * chunks that give the event loop a turn, so that SIGTERM or SIGINT during a big seed is
 * handled at once. Aborted by `signal`: rolled back, nothing stays; rejects with the
 * signal's reason.
 */
export async function applySeedInSteps(
  repo: Repository,
  data: unknown,
  env: SeedEnv,
  source: string | undefined,
  signal: AbortSignalLike | undefined,
): Promise<SeedResult> {
  try {
    return await repo.transactionInSteps(seedSteps(repo, data, env), signal)
  } catch (err) {
    throw withSource(err, source)
  }
}

function withSource(err: unknown, source: string | undefined): unknown {
  return err instanceof SeedError && source !== undefined ? new SeedError(err.path, err.problem, source) : err
}

/** Checks and inserts a seed, yielding between chunks of secrets (see applySeed, applySeedInSteps). */
function* seedSteps(repo: Repository, data: unknown, env: SeedEnv): Generator<void, SeedResult> {
  const root = object(data, '$', ['organizations', 'users', 'api_keys', 'ai_secrets'])
  // SQLite would keep such a string as bytes that are not UTF-8 and read back another one.
  const lone = loneSurrogateAt(root)
  if (lone !== null) throw new SeedError(lone, 'holds a lone surrogate (half of a UTF-16 pair), which is not Unicode')
  const now = env.now().toISOString()
  const taken = new Set<string>()
  const result: SeedResult = { organizations: [], users: [], api_keys: [], ai_secrets: [] }

  const orgId = (name: string, path: string) => {
    const org = repo.orgByName(name)
    if (org === null) throw new SeedError(path, `unknown organization ${JSON.stringify(name)}`)
    return org.id
  }
  const userId = (email: string, path: string) => {
    const user = repo.userByEmail(email)
    if (user === null) throw new SeedError(path, `unknown user ${JSON.stringify(email)}`)
    return user.id
  }

  array(root.organizations, '$.organizations').forEach((v, i) => {
    const path = `$.organizations[${i}]`
    const o = object(v, path, ['name', 'id', 'created'])
    const name = string(o, 'name', path)
    if (repo.orgByName(name) !== null)
      throw new SeedError(`${path}.name`, `duplicate organization name ${JSON.stringify(name)}`)
    const org = { id: id(o, path, repo, taken, env), name, created: timestamp(o, 'created', path, now) }
    repo.insertOrg(org)
    result.organizations.push({ id: org.id, name })
  })

  array(root.users, '$.users').forEach((v, i) => {
    const path = `$.users[${i}]`
    const u = object(v, path, ['email', 'id', 'memberships'])
    const email = string(u, 'email', path)
    if (repo.userByEmail(email) !== null)
      throw new SeedError(`${path}.email`, `duplicate user email ${JSON.stringify(email)}`)
    const user = { id: id(u, path, repo, taken, env), email, created: now }
    repo.insertUser(user)
    result.users.push({ id: user.id, email })
    const ms =
      u.memberships === undefined
        ? {}
        : object(u.memberships, `${path}.memberships`, Object.keys(u.memberships as object))
    for (const [orgName, role] of Object.entries(ms)) {
      const mpath = key(`${path}.memberships`, orgName)
      if (typeof role !== 'string' || !ROLES.includes(role)) {
        throw new SeedError(mpath, `invalid role ${JSON.stringify(role)} (allowed: ${ROLES.join(', ')})`)
      }
      repo.insertMembership({ user_id: user.id, org_id: orgId(orgName, mpath), role: role as Role })
    }
  })

  const seenKeys = new Set<string>()
  array(root.api_keys, '$.api_keys').forEach((v, i) => {
    const path = `$.api_keys[${i}]`
    const k = object(v, path, ['key', 'user', 'org', 'id'])
    const plain = string(k, 'key', path)
    const problem = keyProblem(plain)
    if (problem !== null) throw new SeedError(`${path}.key`, problem)
    const hash = hashKey(plain)
    if (seenKeys.has(hash) || repo.keyHashExists(hash)) throw new SeedError(`${path}.key`, 'duplicate API key')
    seenKeys.add(hash)
    const email = string(k, 'user', path)
    const uid = userId(email, `${path}.user`)
    const scope = optionalString(k, 'org', path)
    const scopeId = scope === null ? null : orgId(scope, `${path}.org`)
    if (scopeId !== null && !repo.hasMembership(uid, scopeId)) {
      throw new SeedError(`${path}.org`, `user ${JSON.stringify(email)} is not a member of ${JSON.stringify(scope)}`)
    }
    const keyId = id(k, path, repo, taken, env)
    const preview = previewSecret(plain)!
    repo.insertKey({ id: keyId, key_hash: hash, preview, user_id: uid, org_id: scopeId, created: now })
    const principal = repo.principalByKeyHash(hash)!
    result.api_keys.push({
      id: keyId,
      preview,
      user: email,
      org: scope,
      orgs: principal.orgs.map((o) => ({ name: o.name, role: o.role })),
    })
  })

  // Checked first, written after in one go (Repository.insertSecrets): a seed of a million
  // secrets must not cost a million lookups. Names are checked against the store only in
  // organizations that held secrets before this seed.
  const orgIds = new Map<string, string>()
  const names = new Map<string, { seen: Set<string>; fresh: boolean }>()
  const rows: NewSecret[] = []
  for (const [i, v] of array(root.ai_secrets, '$.ai_secrets').entries()) {
    if (i > 0 && i % SEED_CHUNK === 0) yield
    const path = `$.ai_secrets[${i}]`
    const s = object(v, path, [
      'org',
      'name',
      'type',
      'secret',
      'metadata',
      'id',
      'created',
      'updated_at',
      'secret_updated_at',
    ])
    const org = string(s, 'org', path)
    let oid = orgIds.get(org)
    if (oid === undefined) {
      oid = orgId(org, `${path}.org`)
      orgIds.set(org, oid)
      names.set(oid, { seen: new Set(), fresh: !repo.orgHasSecrets(oid) })
    }
    const name = string(s, 'name', path)
    const { seen, fresh } = names.get(oid)!
    if (seen.has(name) || (!fresh && repo.secretNameTaken(oid, name))) {
      throw new SeedError(
        `${path}.name`,
        `duplicate ai_secret name ${JSON.stringify(name)} in organization ${JSON.stringify(org)}`,
      )
    }
    seen.add(name)
    const metadata =
      s.metadata === undefined || s.metadata === null
        ? null
        : object(s.metadata, `${path}.metadata`, Object.keys(s.metadata as object))
    const secret = optionalString(s, 'secret', path)
    const created = timestamp(s, 'created', path, now)
    const row = {
      id: id(s, path, repo, taken, env),
      org_id: oid,
      name,
      type: optionalString(s, 'type', path),
      metadata,
      secret,
      created,
      updated_at: timestamp(s, 'updated_at', path, created),
      secret_updated_at: secret === null ? null : timestamp(s, 'secret_updated_at', path, created),
      secret_updated_by_user_id: null,
    }
    rows.push(row)
    result.ai_secrets.push({ id: row.id, org, name })
  }
  yield* repo.insertSecretsInSteps(rows)

  return result
}

// --- the configured seed, compiled once for POST /_mock/reset -----------------------------

/** Stand-ins compileSeed gives applySeed for the ids it makes and for its `now`: no seed value holds a NUL. */
const GENERATED_ID = '\u0000id:'
const NOW = '\u0000now'

type OrgRow = { id: string; name: string; created: string }
type UserRow = { id: string; email: string; created: string }
type MembershipRow = { user_id: string; org_id: string; role: Role }
type KeyRow = { id: string; key_hash: string; preview: string; user_id: string; org_id: string | null; created: string }

/**
 * What applySeed writes for a seed into an empty store, recorded once (compileSeed), to be
 * written again by replaySeed at every reset without checking the seed again, hashing its
 * keys again or looking anything up. Ids applySeed made and its `now` are stand-ins
 * (GENERATED_ID + their order, NOW), filled in afresh at each replay.
 */
export interface CompiledSeed {
  /** How many ids applySeed asked env.newId() for: replaySeed asks as many, in the same order. */
  newIds: number
  /** The ids the seed gives itself (lowercased): a made id equal to one of them makes replaySeed decline. */
  givenIds: Set<string>
  orgs: OrgRow[]
  users: UserRow[]
  memberships: MembershipRow[]
  keys: KeyRow[]
  secrets: NewSecret[]
  result: SeedResult
}

/** A Repository that writes as usual and keeps a copy of every row it is given. */
class RecordingRepository extends Repository {
  readonly orgs: OrgRow[] = []
  readonly users: UserRow[] = []
  readonly memberships: MembershipRow[] = []
  readonly keys: KeyRow[] = []
  readonly secrets: NewSecret[] = []

  override insertOrg(org: OrgRow): void {
    super.insertOrg(org)
    this.orgs.push({ ...org })
  }

  override insertUser(user: UserRow): void {
    super.insertUser(user)
    this.users.push({ ...user })
  }

  override insertMembership(m: MembershipRow): void {
    super.insertMembership(m)
    this.memberships.push({ ...m })
  }

  override insertKey(key: KeyRow): void {
    super.insertKey(key)
    this.keys.push({ ...key })
  }

  override *insertSecretsInSteps(rows: NewSecret[], chunk?: number): Generator<void, void> {
    yield* super.insertSecretsInSteps(rows, chunk)
    for (const r of rows) this.secrets.push({ ...r })
  }
}

/**
 * Applies `data` once to an empty store of its own (an in-memory database with the same
 * migrations) through applySeed, with stand-ins for the ids it makes and for `now`, and
 * records what it wrote (CompiledSeed). Throws what applySeed throws: SeedError naming the
 * JSON path.
 */
export function compileSeed(data: unknown): CompiledSeed {
  const db = openDatabase(':memory:')
  try {
    const repo = new RecordingRepository(db)
    let made = 0
    // applySeed reads the time only as now().toISOString().
    const result = applySeed(repo, data, {
      now: () => ({ toISOString: () => NOW }) as Date,
      newId: () => `${GENERATED_ID}${made++}`,
    })
    const givenIds = new Set<string>()
    for (const r of [...repo.orgs, ...repo.users, ...repo.keys, ...repo.secrets])
      if (!r.id.startsWith(GENERATED_ID)) givenIds.add(r.id)
    return {
      newIds: made,
      givenIds,
      orgs: repo.orgs,
      users: repo.users,
      memberships: repo.memberships,
      keys: repo.keys,
      secrets: repo.secrets,
      result,
    }
  } finally {
    db.close()
  }
}

/**
 * Writes a compiled seed into `repo`, which must be empty (call it inside a transaction,
 * right after Repository.clearAll), and returns what applySeed would have: the same rows,
 * the same answer, and the same calls to env.newId() (as many, in the same order) and
 * env.now(). Returns null, having made its ids but written nothing, when an id it made
 * equals one the seed gives itself (deterministic ids can): applySeed would have refused that
 * seed or written something else, so the caller applies the seed with applySeed instead,
 * from the same id generator state.
 */
export function replaySeed(repo: Repository, c: CompiledSeed, env: SeedEnv): SeedResult | null {
  const now = env.now().toISOString()
  const made: string[] = []
  for (let i = 0; i < c.newIds; i++) made.push(env.newId())
  if (made.some((id) => c.givenIds.has(id))) return null
  const v = (x: string): string =>
    x.charCodeAt(0) !== 0 ? x : x === NOW ? now : made[Number(x.slice(GENERATED_ID.length))]!
  const vn = (x: string | null): string | null => (x === null ? null : v(x))
  for (const o of c.orgs) repo.insertOrg({ id: v(o.id), name: o.name, created: v(o.created) })
  for (const u of c.users) repo.insertUser({ id: v(u.id), email: u.email, created: v(u.created) })
  for (const m of c.memberships) repo.insertMembership({ user_id: v(m.user_id), org_id: v(m.org_id), role: m.role })
  for (const k of c.keys)
    repo.insertKey({ ...k, id: v(k.id), user_id: v(k.user_id), org_id: vn(k.org_id), created: v(k.created) })
  repo.insertSecrets(
    c.secrets.map((r) => ({
      ...r,
      id: v(r.id),
      org_id: v(r.org_id),
      created: v(r.created),
      updated_at: v(r.updated_at),
      secret_updated_at: vn(r.secret_updated_at),
      secret_updated_by_user_id: vn(r.secret_updated_by_user_id),
    })),
  )
  const { result } = c
  return {
    organizations: result.organizations.map((o) => ({ id: v(o.id), name: o.name })),
    users: result.users.map((u) => ({ id: v(u.id), email: u.email })),
    api_keys: result.api_keys.map((k) => ({
      id: v(k.id),
      preview: k.preview,
      user: k.user,
      org: k.org,
      orgs: k.orgs.map((o) => ({ name: o.name, role: o.role })),
    })),
    ai_secrets: result.ai_secrets.map((x) => ({ id: v(x.id), org: x.org, name: x.name })),
  }
}
