import type { AbortSignalLike } from '../types.js'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { AiSecrets } from '../ai-secrets.js'
import { Authenticator } from '../auth.js'
import { Clock, IdGenerator } from '../clock.js'
import { openDatabase } from '../db/database.js'
import { Repository, type OrgAccess, type Principal } from '../repository.js'
import { applySeedInSteps, type SeedResult } from '../seed.js'

export interface StoreOptions {
  db: string
  /** The seed data, already read from its file; null for none. */
  seed: unknown
  /** Where the seed came from, for error messages. */
  seedSource?: string
  deterministic: boolean
  /** Secret for verifying HS256 JWT bearer tokens; unset, JWTs are refused. */
  jwtSecret?: string
  /** Aborts start-up: a seed being applied is rolled back and the database closed. */
  signal?: AbortSignalLike
}

export interface MockContext {
  repo: Repository
  secrets: AiSecrets
  auth: Authenticator
  clock: Clock
  ids: IdGenerator
  /** What the configured seed created at start-up (null when the database already held data or there is no seed). */
  seeded: SeedResult | null
  options: StoreOptions
}

declare module 'fastify' {
  interface FastifyInstance {
    mock: MockContext
  }
  interface FastifyRequest {
    principal: Principal | null
    org: OrgAccess | null
  }
}

/**
 * Opens the database (migrations included), seeds it when it is new, and makes the store
 * available as `app.mock`. The database closes with the app.
 */
async function storePlugin(app: FastifyInstance, opts: StoreOptions) {
  const db = openDatabase(opts.db)
  app.addHook('onClose', async () => db.close())
  const repo = new Repository(db)
  const clock = new Clock(opts.deterministic)
  const ids = new IdGenerator(opts.deterministic)
  let seeded: SeedResult | null = null
  // A file database that already holds data is used as it is: state survives restarts.
  if (opts.seed !== null && repo.isEmpty()) {
    app.log.debug({ seed: opts.seedSource ?? 'object', db: opts.db }, 'seeding a new database')
    try {
      // In steps, in one transaction: a stop during a big seed is handled at once, and rolls it back.
      seeded = await applySeedInSteps(
        repo,
        opts.seed,
        { now: () => clock.now(), newId: () => ids.newId() },
        opts.seedSource,
        opts.signal,
      )
    } catch (err) {
      db.close()
      throw err
    }
  }
  app.decorate('mock', {
    repo,
    secrets: new AiSecrets(repo, clock, ids),
    auth: new Authenticator(repo, { secret: opts.jwtSecret, now: () => clock.now() }),
    clock,
    ids,
    seeded,
    options: opts,
  })
  app.decorateRequest('principal', null)
  app.decorateRequest('org', null)
}

export default fp(storePlugin, { name: 'store', fastify: '5.x' })
