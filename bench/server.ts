// The server under test, run by bench/run.ts in a child process of its own, so that its
// RSS is its own and autocannon's CPU does not share its event loop.
//
// run.ts bundles it with esbuild, as scripts/bundle.mjs bundles the package (the sources and
// every dependency but better-sqlite3, minified), into bench/.build/server.cjs, run with plain
// `node`: a TypeScript loader in the child would add ~30 MB of RSS and a loader thread.
//
// Modes (a ServerConfig as JSON in argv[2]):
//   ceiling  bare Fastify, the app's Fastify options, one DELETE route that parses the
//            JSON body and answers a constant
//   sqlite   the same Fastify, and one DELETE route that runs one prepared
//            `DELETE … RETURNING *` on the mock's own schema (migrations/, applied by the
//            mock's openDatabase: same pragmas), the same store, and answers the row as JSON
//   app      the mock (buildApp), then `secrets` secrets bulk-inserted in one transaction
//   seed     times seeding `secrets` secrets (bulk insert; applySeed), reports, exits
//   reset    times POST /_mock/reset (app.inject) and control.reset() with the demo seed, reports, exits
// It reports over the IPC channel (ChildMessage) and answers { type: 'stats' } (memory, CPU
// time used so far) and { type: 'close' }.

import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import { type BuiltMock, buildMockApp } from '../src/app.js'
import { openDatabase } from '../src/db/database.js'
import { type NewSecret, Repository } from '../src/db/repository.js'
import { BODY_LIMIT } from '../src/errors.js'
import { RecordIds } from '../src/ids.js'
import { REDACT } from '../src/logging.js'
import { applySeed } from '../src/seed.js'
import {
  OWNER_KEY,
  orgName,
  secretName,
  type ChildMessage,
  type LatencySummary,
  type ParentMessage,
  type Routes,
  type ServerConfig,
} from './shared.js'

const started = performance.now()
const config = JSON.parse(process.argv[2] ?? '{}') as ServerConfig

function send(message: ChildMessage): void {
  process.send!(message)
}

function memory() {
  const m = process.memoryUsage()
  return { rss: m.rss, heapUsed: m.heapUsed }
}

const OWNER_EMAIL = 'owner@bench.test'

/** Organizations, the owner and its key: the part of the store a seed object is good for. */
function principalsSeed(orgs: number) {
  const names = Array.from({ length: orgs }, (_, i) => orgName(i))
  return {
    organizations: names.map((name) => ({ name })),
    users: [{ email: OWNER_EMAIL, memberships: Object.fromEntries(names.map((n) => [n, 'owner'])) }],
    api_keys: [{ key: OWNER_KEY, user: OWNER_EMAIL }],
  }
}

function orgIds({ mock }: BuiltMock): string[] {
  const seeded = mock.seeded
  if (seeded === null) throw new Error('the bench seed was not applied (was the database file not new?)')
  const byName = new Map(seeded.organizations.map((o) => [o.name, o.id]))
  return Array.from({ length: config.orgs }, (_, i) => byName.get(orgName(i))!)
}

/**
 * Inserts secrets 0..n-1 through the repository's bulk insert (Repository.insertSecrets, what
 * applySeed ends with), in one transaction: the floor for seeding. Their ids come from
 * `newId`, the mock's own id generator, in secret order, as a seed without ids or a series of
 * POSTs would get them. Returns the time in ms and the ids.
 */
function bulkInsert(repo: Repository, orgIds: string[], n: number, newId: () => string): { ms: number; ids: string[] } {
  const t = performance.now()
  const now = new Date().toISOString()
  const ids = Array.from({ length: n }, newId)
  const rows: NewSecret[] = Array.from({ length: n }, (_, i) => ({
    id: ids[i]!,
    org_id: orgIds[i % orgIds.length]!,
    name: secretName(i),
    type: 'openai',
    metadata: { team: 'bench' },
    secret: `sk-proj-${i.toString(16).padStart(16, '0')}`,
    created: now,
    updated_at: now,
    secret_updated_at: now,
    secret_updated_by_user_id: null,
  }))
  repo.transaction(() => repo.insertSecrets(rows))
  return { ms: performance.now() - t, ids }
}

/** Fastify with the options buildApp gives it, minus everything the app adds on top. */
async function bareFastify(): Promise<FastifyInstance> {
  return Fastify({
    logger:
      config.logLevel === 'false' ? false : { level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' } },
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: 2048 },
  })
}

async function ceiling(): Promise<FastifyInstance> {
  const app = await bareFastify()
  const answer = { deleted: true }
  app.delete('/v1/ai_secret', async (request) => {
    if (request.body === undefined) throw new Error('no body')
    return answer
  })
  await app.ready()
  return app
}

/**
 * The least a Fastify + SQLite DELETE can do: the mock's database (openDatabase: the
 * migrations of migrations/ and the same pragmas, in memory or on a file), the same store
 * (organizations and secrets, ids from the mock's generator), and one route that parses
 * the body and runs one prepared `DELETE … RETURNING *`, answering the row as JSON.
 * No authentication, validation, hooks or journal.
 */
async function sqliteCeiling(): Promise<{ app: FastifyInstance; seedMs: number; ids: string[] }> {
  const db = openDatabase(config.db)
  const repo = new Repository(db)
  const gen = new RecordIds(false)
  const now = new Date().toISOString()
  const orgIds = Array.from({ length: config.orgs }, (_, i) => {
    const id = gen.newId()
    repo.insertOrg({ id, name: orgName(i), created: now })
    return id
  })
  const { ms, ids } = bulkInsert(repo, orgIds, config.secrets, () => gen.newId())
  const app = await bareFastify()
  app.addHook('onClose', (_app, done) => {
    db.close()
    done()
  })
  const del = db.prepare(
    'DELETE FROM ai_secrets WHERE org = (SELECT seq FROM organizations WHERE name = ?) AND name = ? RETURNING *',
  )
  app.delete('/v1/ai_secret', async (request, reply) => {
    const body = request.body as { name: string; org_name: string }
    const row = del.get(body.org_name, body.name)
    if (row === undefined) return reply.code(400).send('no such secret')
    return row
  })
  await app.ready()
  return { app, seedMs: ms, ids }
}

function routesOf(app: FastifyInstance): Routes {
  return {
    list: app.hasRoute({ method: 'GET', url: '/v1/ai_secret' }),
    get: ['/v1/ai_secret/:ai_secret_id(.+)', '/v1/ai_secret/:ai_secret_id', '/v1/ai_secret/:id'].some((url) =>
      app.hasRoute({ method: 'GET', url }),
    ),
  }
}

async function serve(): Promise<void> {
  let app: FastifyInstance
  let seedMs = 0
  let ids: string[] = []
  let routes: Routes = { list: false, get: false }
  if (config.mode === 'ceiling') {
    app = await ceiling()
  } else if (config.mode === 'sqlite') {
    ;({ app, seedMs, ids } = await sqliteCeiling())
  } else {
    const built = await buildMockApp({
      db: config.db,
      seed: principalsSeed(config.orgs),
      logger: config.logLevel === 'false' ? false : config.logLevel,
      docs: true,
      ...(config.journalSize === undefined ? {} : { journalSize: config.journalSize }),
    })
    app = built.app
    const { mock } = built
    ;({ ms: seedMs, ids } = bulkInsert(mock.repo, orgIds(built), config.secrets, () => mock.ids.newId()))
    routes = routesOf(app)
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stats') {
      const cpu = process.cpuUsage()
      send({ type: 'stats', ...memory(), cpuUs: cpu.user + cpu.system })
    } else if (message.type === 'close') {
      // process.exit (not a signal) so that --cpu-prof writes its profile.
      app.close().then(
        () => process.exit(0),
        () => process.exit(1),
      )
    }
  })
  send({
    type: 'ready',
    port: address.port,
    ...memory(),
    startMs: performance.now() - started,
    seedMs,
    routes,
    ...(config.wantIds === true ? { ids } : {}),
  })
}

async function timeSeeding(): Promise<void> {
  // The floor: the repository's insert statement, one transaction, no validation.
  const bulk = await buildMockApp({ db: ':memory:', seed: principalsSeed(config.orgs), logger: false, docs: false })
  const bulkInsertMs = bulkInsert(bulk.mock.repo, orgIds(bulk), config.secrets, () => bulk.mock.ids.newId()).ms
  await bulk.app.close()

  // What a user gets: a seed object (a seed file, or POST /_mock/seed) with that many secrets.
  const data = {
    ...principalsSeed(config.orgs),
    ai_secrets: Array.from({ length: config.secrets }, (_, i) => ({
      org: orgName(i % config.orgs),
      name: secretName(i),
      type: 'openai',
      secret: `sk-proj-${i.toString(16).padStart(16, '0')}`,
      metadata: { team: 'bench' },
    })),
  }
  const { app, mock } = await buildMockApp({ db: ':memory:', seed: false, logger: false, docs: false })
  const t = performance.now()
  applySeed(mock.repo, data, { now: () => new Date(), newId: () => randomUUID() })
  const applySeedMs = performance.now() - t
  const rssAfter = process.memoryUsage().rss
  await app.close()
  send({ type: 'seeded', secrets: config.secrets, bulkInsertMs, applySeedMs, rssAfter })
  process.disconnect()
}

function summary(us: Float64Array): LatencySummary {
  const sorted = us.slice().sort()
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
  const round = (x: number) => Math.round(x * 10) / 10
  return {
    n: sorted.length,
    medianUs: round(at(0.5)),
    p99Us: round(at(0.99)),
    meanUs: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
  }
}

/**
 * Times resets with the demo seed in one process, as a test suite that resets before every
 * test pays them: `POST /_mock/reset` through app.inject (what startMockServer's reset()
 * sends), and control.reset() alone, one of each in turn; a tenth as many of each first,
 * unrecorded (warm-up).
 */
async function timeResets(): Promise<void> {
  const { app, mock } = await buildMockApp({ logger: false })
  const n = config.resets ?? 1000
  const warm = Math.ceil(n / 10)
  const inject = new Float64Array(n)
  const direct = new Float64Array(n)
  for (let i = 0; i < warm + n; i++) {
    let t = performance.now()
    const res = await app.inject({ method: 'POST', url: '/_mock/reset' })
    const injectMs = performance.now() - t
    if (res.statusCode !== 200)
      throw new Error(`POST /_mock/reset answered ${res.statusCode}: ${res.body.slice(0, 300)}`)
    t = performance.now()
    mock.control.reset()
    const directMs = performance.now() - t
    if (i >= warm) {
      inject[i - warm] = injectMs * 1000
      direct[i - warm] = directMs * 1000
    }
  }
  await app.close()
  send({ type: 'resets', inject: summary(inject), direct: summary(direct) })
  process.disconnect()
}

process.on('disconnect', () => {
  if (config.mode !== 'seed' && config.mode !== 'reset') process.exit(0)
})

;(config.mode === 'seed' ? timeSeeding() : config.mode === 'reset' ? timeResets() : serve()).catch((err: Error) => {
  send({ type: 'error', message: err.stack ?? err.message })
  process.exitCode = 1
  setTimeout(() => process.exit(1), 100)
})
