import type { FastifyBaseLogger } from 'fastify'
import { AiSecrets } from './ai-secrets.js'
import type { AppOptions } from './app.js'
import { Authenticator } from './auth/authenticate.js'
import { Clock } from './clock.js'
import { Control } from './control/control.js'
import { openDatabase } from './db/database.js'
import { Repository } from './db/repository.js'
import { RecordIds } from './ids.js'
import { DEMO_SEED_FILE } from './paths.js'
import { RequestIds } from './plugins/request-ids.js'
import { applySeedInSteps, readSeedFile, type SeedResult } from './seed.js'

/**
 * Everything one mock holds, made once per app (createMock) and handed to each plugin that
 * needs a part of it: the store and the rules of the resource, authentication, the clock and
 * ids, and the control plane.
 */
export interface MockContext {
  readonly repo: Repository
  readonly secrets: AiSecrets
  readonly auth: Authenticator
  readonly clock: Clock
  readonly ids: RecordIds
  readonly requestIds: RequestIds
  readonly control: Control
  /** The configured seed (a copy of the object given, or what the file held); null for none. */
  readonly seed: unknown
  /** The seed file it came from: the demo seed's path by default; undefined for an object or none. */
  readonly seedSource: string | undefined
  /** What the seed created at start-up; null when the database already held data or there is no seed. */
  readonly seeded: SeedResult | null
  /** Closes the database. */
  close(): void
}

function configuredSeed(seed: AppOptions['seed']): { data: unknown; source?: string } {
  if (seed === false) return { data: null }
  if (seed === undefined) return { data: readSeedFile(DEMO_SEED_FILE), source: DEMO_SEED_FILE }
  if (typeof seed === 'string') return { data: readSeedFile(seed), source: seed }
  // A copy: the data a reset writes again is the data of this build, whatever the caller does to its object later.
  return { data: structuredClone(seed) }
}

/**
 * Opens the database (migrations included), seeds it when it is new (a file database that
 * already holds data is used as it is: state survives restarts), and makes the rest of the
 * mock around it. Rejects with SeedError for a bad seed, Error for a bad option or a database
 * that cannot be opened; nothing is left open then.
 */
export async function createMock(options: AppOptions, log: FastifyBaseLogger): Promise<MockContext> {
  const seed = configuredSeed(options.seed)
  const deterministic = options.deterministic ?? false
  const path = options.db ?? ':memory:'
  const db = openDatabase(path)
  try {
    const repo = new Repository(db)
    const clock = new Clock(deterministic)
    const ids = new RecordIds(
      deterministic,
      () => repo.largestDeterministicId(),
      (id) => repo.idTaken(id),
    )
    const requestIds = new RequestIds(deterministic)
    const control = new Control({ repo, clock, ids, requestIds, seed: seed.data }, options)
    let seeded: SeedResult | null = null
    if (seed.data !== null && repo.isEmpty()) {
      log.debug({ seed: seed.source ?? 'object', db: path }, 'seeding a new database')
      // In steps, in one transaction: a stop during a big seed is handled at once, and rolls it back.
      const env = { now: () => clock.now(), newId: () => ids.newId() }
      seeded = await applySeedInSteps(repo, seed.data, env, seed.source, options.signal)
    }
    return {
      repo,
      secrets: new AiSecrets(repo, clock, ids),
      auth: new Authenticator(repo, { secret: options.jwtSecret, now: () => clock.now() }),
      clock,
      ids,
      requestIds,
      control,
      seed: seed.data,
      seedSource: seed.source,
      seeded,
      close: () => db.close(),
    }
  } catch (err) {
    db.close()
    throw err
  }
}
