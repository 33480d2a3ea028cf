// The server under test, run by bench/run.ts in a child process of its own, so that its
// RSS is its own and autocannon's CPU does not share its event loop.
//
// It runs the built package (dist/src, what `npx ai-secret-mock` runs), loaded by path, and
// is itself run with plain `node` (run.ts transpiles this file into bench/.build/): a
// TypeScript loader in the child would add ~30 MB of RSS and a loader thread.
//
// Modes (a ServerConfig as JSON in argv[2]):
//   ceiling  bare Fastify, the app's Fastify options, one DELETE route that parses the
//            JSON body and answers a constant
//   app      the mock (buildApp), then `secrets` secrets bulk-inserted in one transaction
//   seed     times seeding `secrets` secrets (bulk insert; applySeed), reports, exits
// It reports over the IPC channel (ChildMessage) and answers { type: 'stats' } (memory, CPU
// time used so far) and { type: 'close' }.

import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import type { NewSecret, Repository } from '../src/repository.js'
import { OWNER_KEY, orgName, secretId, secretName, type ChildMessage, type ParentMessage, type Routes, type ServerConfig } from './shared.js'

type AppModule = typeof import('../src/app.js')
type ErrorsModule = typeof import('../src/errors.js')
type SeedModule = typeof import('../src/seed.js')

const started = performance.now()
const config = JSON.parse(process.argv[2] ?? '{}') as ServerConfig

function send(message: ChildMessage): void {
  process.send!(message)
}

async function load<T>(file: string): Promise<T> {
  return (await import(pathToFileURL(join(config.distDir, file)).href)) as T
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

function orgIds(app: FastifyInstance): string[] {
  const seeded = app.mock.seeded
  if (seeded === null) throw new Error('the bench seed was not applied (was the database file not new?)')
  const byName = new Map(seeded.organizations.map((o) => [o.name, o.id]))
  return Array.from({ length: config.orgs }, (_, i) => byName.get(orgName(i))!)
}

/**
 * Inserts secrets 0..n-1 through the repository's bulk insert (Repository.insertSecrets, what
 * applySeed ends with), in one transaction: the floor for seeding. Returns ms.
 */
function bulkInsert(repo: Repository, ids: string[], n: number): number {
  const t = performance.now()
  const now = new Date().toISOString()
  const rows: NewSecret[] = Array.from({ length: n }, (_, i) => ({
    id: secretId(i),
    org_id: ids[i % ids.length]!,
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
  return performance.now() - t
}

async function ceiling(): Promise<FastifyInstance> {
  const { BODY_LIMIT } = await load<ErrorsModule>('errors.js')
  const { REDACT } = await load<AppModule>('app.js')
  // The options buildApp gives Fastify, minus everything the app adds on top.
  const app = Fastify({
    logger: config.logLevel === 'false' ? false : { level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' } },
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: 2048 },
  })
  const answer = { deleted: true }
  app.delete('/v1/ai_secret', async (request) => {
    if (request.body === undefined) throw new Error('no body')
    return answer
  })
  await app.ready()
  return app
}

function routesOf(app: FastifyInstance): Routes {
  return {
    list: app.hasRoute({ method: 'GET', url: '/v1/ai_secret' }),
    get: ['/v1/ai_secret/:ai_secret_id', '/v1/ai_secret/:id'].some((url) => app.hasRoute({ method: 'GET', url })),
  }
}

async function serve(): Promise<void> {
  let app: FastifyInstance
  let seedMs = 0
  let routes: Routes = { list: false, get: false }
  if (config.mode === 'ceiling') {
    app = await ceiling()
  } else {
    const { buildApp } = await load<AppModule>('app.js')
    app = await buildApp({
      db: config.db,
      seed: principalsSeed(config.orgs),
      logger: config.logLevel === 'false' ? false : config.logLevel,
      docs: true,
      ...(config.journalSize === undefined ? {} : { journalSize: config.journalSize }),
    })
    seedMs = bulkInsert(app.mock.repo, orgIds(app), config.secrets)
    routes = routesOf(app)
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stats') {
      const cpu = process.cpuUsage()
      send({ type: 'stats', ...memory(), cpuUs: cpu.user + cpu.system })
    }
    else if (message.type === 'close') {
      // process.exit (not a signal) so that --cpu-prof writes its profile.
      app.close().then(
        () => process.exit(0),
        () => process.exit(1),
      )
    }
  })
  send({ type: 'ready', port: address.port, ...memory(), startMs: performance.now() - started, seedMs, routes })
}

async function timeSeeding(): Promise<void> {
  const { buildApp } = await load<AppModule>('app.js')
  const { applySeed } = await load<SeedModule>('seed.js')

  // The floor: the repository's insert statement, one transaction, no validation.
  const bulkApp = await buildApp({ db: ':memory:', seed: principalsSeed(config.orgs), logger: false, docs: false })
  const bulkInsertMs = bulkInsert(bulkApp.mock.repo, orgIds(bulkApp), config.secrets)
  await bulkApp.close()

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
  const app = await buildApp({ db: ':memory:', seed: false, logger: false, docs: false })
  const t = performance.now()
  applySeed(app.mock.repo, data, { now: () => new Date(), newId: () => randomUUID() })
  const applySeedMs = performance.now() - t
  const rssAfter = process.memoryUsage().rss
  await app.close()
  send({ type: 'seeded', secrets: config.secrets, bulkInsertMs, applySeedMs, rssAfter })
  process.disconnect()
}

process.on('disconnect', () => {
  if (config.mode !== 'seed') process.exit(0)
})

;(config.mode === 'seed' ? timeSeeding() : serve()).catch((err: Error) => {
  send({ type: 'error', message: err.stack ?? err.message })
  process.exitCode = 1
  setTimeout(() => process.exit(1), 100)
})
