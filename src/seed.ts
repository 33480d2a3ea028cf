import { hashKey, keyProblem } from './auth/authenticate.js'
import type { NewSecret, Repository } from './db/repository.js'
import { Clock, EARLIEST, LATEST } from './clock.js'
import { parseDateTime } from './datetime.js'
import type { AbortSignalLike } from './fastify-types.js'
import { previewSecret } from './preview.js'
import { readRegularFile, type ReadFileError } from './regular-file.js'
import { SeedData, type SeededKey, type SeedResult } from './schemas/seed.js'
import { loneSurrogateAt } from './unicode.js'
import { checker, pathStep } from './validation.js'

// Seeds: organizations, users with their memberships, API keys and AI secrets, each naming the
// others by name (the format: src/schemas/seed.ts). Every problem names its JSON path, and a seed
// is applied in one transaction: all of it or none of it.

/** A seed refused: the JSON path of the first problem, the problem, and the file when there is one. */
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

/** Where a seed gets its time and the ids it makes. */
export interface SeedEnv {
  now: () => Date
  newId: () => string
}

export type { SeedData, SeededKey, SeedResult }

/** The structure of a seed, from its schema (src/schemas/seed.ts); what the schema cannot say is checked below. */
const checkSeed = checker(SeedData)

/** A given id: lowercased, and new to the store and to this seed. Made when absent. */
function id(given: string | undefined, path: string, repo: Repository, taken: Set<string>, env: SeedEnv): string {
  if (given === undefined) return env.newId()
  const lower = given.toLowerCase()
  if (taken.has(lower) || repo.idTaken(lower)) throw new SeedError(`${path}.id`, `id ${lower} is already used`)
  taken.add(lower)
  return lower
}

/**
 * A date-time the schema has accepted, as the instant it names (ISO with milliseconds); `fallback`
 * when absent. An instant outside the years 0001 to 9999 (the clock's range: `0000-…`, or
 * `9999-12-31T23:59:59-23:59`, which is in year 10000) is refused: the API would answer it as
 * `+010000-…`, not RFC 3339, and list it out of order.
 */
function timestamp(given: string | undefined, fallback: string, path: string): string {
  if (given === undefined) return fallback
  const ms = parseDateTime(given)!.getTime()
  if (!Clock.inRange(ms)) {
    const range = `${new Date(EARLIEST).toISOString()} to ${new Date(LATEST).toISOString()}`
    throw new SeedError(path, `${JSON.stringify(given)} is outside ${range}`)
  }
  return new Date(ms).toISOString()
}

/**
 * Reads and parses a seed file (--seed, SEED_FILE, the `seed` option's path). It must be a
 * regular file (src/regular-file.ts: a FIFO or a device would block start-up, SIGTERM
 * included); its size is not bounded here, a big seed being the user's choice (Node's own
 * limit on a string, about 512 MiB, is a read error). Throws a SeedError naming the file:
 * `$: cannot be read (ENOENT)`, `(not a regular file)`, `$: is not valid JSON at line …`.
 */
export function readSeedFile(file: string): unknown {
  let text: string
  try {
    text = readRegularFile(file).toString('utf8')
  } catch (err) {
    const e = err as ReadFileError
    throw new SeedError('$', `cannot be read (${e.code === 'ENOTREG' ? e.message : (e.code ?? 'error')})`, file)
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
  const structure = checkSeed(data)
  if (structure !== null) throw new SeedError(structure.path, structure.problem)
  const root = data as SeedData
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

  for (const [i, o] of (root.organizations ?? []).entries()) {
    const path = `$.organizations[${i}]`
    if (repo.orgByName(o.name) !== null) {
      throw new SeedError(`${path}.name`, `duplicate organization name ${JSON.stringify(o.name)}`)
    }
    const org = {
      id: id(o.id, path, repo, taken, env),
      name: o.name,
      created: timestamp(o.created, now, `${path}.created`),
    }
    repo.insertOrg(org)
    result.organizations.push({ id: org.id, name: o.name })
  }

  for (const [i, u] of (root.users ?? []).entries()) {
    const path = `$.users[${i}]`
    if (repo.userByEmail(u.email) !== null) {
      throw new SeedError(`${path}.email`, `duplicate user email ${JSON.stringify(u.email)}`)
    }
    const user = { id: id(u.id, path, repo, taken, env), email: u.email, created: now }
    repo.insertUser(user)
    result.users.push({ id: user.id, email: u.email })
    for (const [orgName, role] of Object.entries(u.memberships ?? {})) {
      const at = `${path}.memberships${pathStep(orgName)}`
      repo.insertMembership({ user_id: user.id, org_id: orgId(orgName, at), role })
    }
  }

  const seenKeys = new Set<string>()
  for (const [i, k] of (root.api_keys ?? []).entries()) {
    const path = `$.api_keys[${i}]`
    const problem = keyProblem(k.key)
    if (problem !== null) throw new SeedError(`${path}.key`, problem)
    const hash = hashKey(k.key)
    if (seenKeys.has(hash) || repo.keyHashExists(hash)) throw new SeedError(`${path}.key`, 'duplicate API key')
    seenKeys.add(hash)
    const uid = userId(k.user, `${path}.user`)
    const scope = k.org ?? null
    const scopeId = scope === null ? null : orgId(scope, `${path}.org`)
    if (scopeId !== null && !repo.hasMembership(uid, scopeId)) {
      throw new SeedError(`${path}.org`, `user ${JSON.stringify(k.user)} is not a member of ${JSON.stringify(scope)}`)
    }
    const keyId = id(k.id, path, repo, taken, env)
    const preview = previewSecret(k.key)!
    repo.insertKey({ id: keyId, key_hash: hash, preview, user_id: uid, org_id: scopeId, created: now })
    const principal = repo.principalByKeyHash(hash)!
    result.api_keys.push({
      id: keyId,
      preview,
      user: k.user,
      org: scope,
      orgs: principal.orgs.map((o) => ({ name: o.name, role: o.role })),
    })
  }

  // Checked first, written after in one go (Repository.insertSecrets): a seed of a million
  // secrets must not cost a million lookups. Names are checked against the store only in
  // organizations that held secrets before this seed.
  const orgIds = new Map<string, string>()
  const names = new Map<string, { seen: Set<string>; fresh: boolean }>()
  const rows: NewSecret[] = []
  for (const [i, s] of (root.ai_secrets ?? []).entries()) {
    if (i > 0 && i % SEED_CHUNK === 0) yield
    const path = `$.ai_secrets[${i}]`
    let oid = orgIds.get(s.org)
    if (oid === undefined) {
      oid = orgId(s.org, `${path}.org`)
      orgIds.set(s.org, oid)
      names.set(oid, { seen: new Set(), fresh: !repo.orgHasSecrets(oid) })
    }
    const { seen, fresh } = names.get(oid)!
    if (seen.has(s.name) || (!fresh && repo.secretNameTaken(oid, s.name))) {
      const what = `duplicate ai_secret name ${JSON.stringify(s.name)} in organization ${JSON.stringify(s.org)}`
      throw new SeedError(`${path}.name`, what)
    }
    seen.add(s.name)
    const secret = s.secret ?? null
    const created = timestamp(s.created, now, `${path}.created`)
    const row = {
      id: id(s.id, path, repo, taken, env),
      org_id: oid,
      name: s.name,
      type: s.type ?? null,
      metadata: s.metadata ?? null,
      secret,
      created,
      updated_at: timestamp(s.updated_at, created, `${path}.updated_at`),
      secret_updated_at: secret === null ? null : timestamp(s.secret_updated_at, created, `${path}.secret_updated_at`),
      secret_updated_by_user_id: null,
    }
    rows.push(row)
    result.ai_secrets.push({ id: row.id, org: s.org, name: s.name })
  }
  yield* repo.insertSecretsInSteps(rows)

  return result
}
