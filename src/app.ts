import type { Server } from 'node:http'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { ApiError, BODY_LIMIT } from './errors.js'
import { DEMO_SEED_FILE } from './paths.js'
import bodyPlugin from './plugins/body.js'
import corsPlugin from './plugins/cors.js'
import docsPlugin from './plugins/docs.js'
import errorsPlugin, { clientErrorHandler, incomingRequestId, sendApiError } from './plugins/errors.js'
import interceptPlugin from './plugins/intercept.js'
import storePlugin from './plugins/store.js'
import aiSecretIdRoutes from './routes/v1/ai-secret-id.js'
import mockRoutes from './routes/mock/index.js'
import aiSecretRoutes from './routes/v1/ai-secret.js'
import { sharedSchemas } from './schemas/ai-secret.js'
import { parseQueryString } from './querystring.js'
import { readSeedFile } from './seed.js'
import type { AbortSignalLike, LoggerOptions } from './types.js'
import { createValidators, lazySerializerFactory } from './validation.js'
import SerializerSelector from '@fastify/fast-json-stringify-compiler'

export interface AppOptions {
  /** SQLite database: ':memory:' (default) or a file path, which keeps state across restarts. */
  db?: string
  /**
   * Seed data for a new database: an object in the seed-file format, a path to a seed file, or
   * false for none. Default: the demo seed. POST /_mock/reset writes it again: an object is
   * checked and recorded at the first reset, so change it after that and resets keep writing
   * the recorded version (build a new app for other data, or use POST /_mock/seed).
   */
  seed?: object | string | false
  /** false (default), true (info), a pino level, or Fastify logger options. Authorization and secret values are always redacted. */
  logger?: boolean | string | LoggerOptions
  /** Deterministic ids, request ids and a clock that stands still: answers that snapshot the same every run. */
  deterministic?: boolean
  /** Secret for HS256 JWT bearer tokens (JWT_SECRET); unset, JWTs are refused with a 401. */
  jwtSecret?: string
  /** Serve Swagger UI at /docs (default true). */
  docs?: boolean
  /** When set, every /_mock route but /_mock/health wants `Authorization: Bearer <adminToken>` (env ADMIN_TOKEN). */
  adminToken?: string
  /** Requests per minute per API key, over which /v1 answers 429 with Retry-After (env RATE_LIMIT_PER_MINUTE); default off. */
  rateLimitPerMinute?: number
  /** How many /v1 requests GET /_mock/requests keeps (env MOCK_JOURNAL_SIZE); default 1000, 0 keeps none. */
  journalSize?: number
  /** Aborts the build (the CLI's SIGTERM during start-up): a seed being applied is rolled back, and buildApp rejects with the signal's reason. */
  signal?: AbortSignalLike
}

/** Paths pino never writes out, whatever the level. */
export const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'req.body',
  'body',
  'secret',
  '*.secret',
  'key',
  '*.key',
  // Node's HTTP parser puts the raw bytes of a request it refuses here: headers and body whole.
  'err.rawPacket',
]

function loggerOptions(logger: AppOptions['logger']): FastifyServerOptions['logger'] {
  if (logger === undefined || logger === false) return false
  const base = typeof logger === 'object' ? logger : { level: logger === true ? 'info' : logger }
  return { ...base, redact: { paths: REDACT, censor: '[redacted]' } } as FastifyServerOptions['logger']
}

function resolveSeed(seed: AppOptions['seed']): { data: unknown; source?: string } {
  if (seed === false) return { data: null }
  if (seed === undefined) return { data: readSeedFile(DEMO_SEED_FILE), source: DEMO_SEED_FILE }
  if (typeof seed === 'string') return { data: readSeedFile(seed), source: seed }
  return { data: seed }
}

/**
 * Builds the whole mock: a ready Fastify instance that is not listening. Tests use it with
 * `inject()`; the CLI and startMockServer call `listen()` on it.
 */
export async function buildApp(options: AppOptions = {}): Promise<FastifyInstance> {
  const seed = resolveSeed(options.seed)
  const deterministic = options.deterministic ?? false
  let nextRequestId: () => string = () => ''

  const app = Fastify({
    logger: loggerOptions(options.logger),
    // One line per answer, written by the onResponse hook below, instead of two per request.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    bodyLimit: BODY_LIMIT,
    // A big seed is applied in steps at start-up (it yields to the event loop, so that a
    // signal can stop it) and may take longer than Fastify's default 10 s per plugin.
    pluginTimeout: 0,
    // ids up to this long still reach the route, which answers a 400 for a bad one rather than a 404.
    // GUESS: a trailing slash names the same route (`/v1/ai_secret/` is `/v1/ai_secret`), as
    // Express-style servers answer; upstream's own answer is unrecorded. An empty id never
    // reaches the by-id operations (see routes/v1/ai-secret-id.ts).
    // `ids[]=a` and `ids[0]=a` mean `ids=a` (CONTRACT section 5): see querystring.ts.
    routerOptions: { maxParamLength: 2048, ignoreTrailingSlash: true, querystringParser: parseQueryString },
    // Response serializers are built on first use, as validators are (see validation.ts).
    schemaController: { compilersFactory: { buildSerializer: lazySerializerFactory(SerializerSelector()) } },
    // A path the router cannot decode, or a parameter past maxParamLength, is refused before
    // any hook runs: answered here in the documented shape, with the request id headers.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id).header('x-bt-internal-trace-id', request.id)
      sendApiError(request, reply, new ApiError('bad_request', { reason: error.code ?? 'malformed request' }))
    },
    // What Node's HTTP parser refuses (oversized request lines and headers, broken syntax) is
    // answered in the documented shape too, with the request id headers.
    clientErrorHandler,
    genReqId: (req) => incomingRequestId(req.headers['x-request-id']) ?? nextRequestId(),
  }).withTypeProvider<TypeBoxTypeProvider>()
  // An Expect other than 100-continue: Node would answer a bare 417 of its own; the request
  // is answered as if it had none instead (RFC 9110 section 10.1.1 allows either).
  app.server.on('checkExpectation', (req, res) => app.routing(req, res))

  app.setValidatorCompiler(createValidators(sharedSchemas))
  for (const schema of sharedSchemas) app.addSchema(schema)

  await app.register(storePlugin, {
    db: options.db ?? ':memory:',
    seed: seed.data,
    seedSource: seed.source,
    deterministic,
    jwtSecret: options.jwtSecret,
    signal: options.signal,
  })
  nextRequestId = () => app.mock.ids.requestId()
  await app.register(errorsPlugin)
  await app.register(bodyPlugin)
  await app.register(docsPlugin, { ui: options.docs ?? true })

  // Registered only when info lines are written: a hook that logs nothing still costs each request.
  if ((app.log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('info') === true) {
    app.addHook('onResponse', (request, reply, done) => {
      request.log.info(
        {
          method: request.method,
          url: request.url,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
        },
        'request',
      )
      done()
    })
  }

  // CORS for every route (src/plugins/cors.ts): its hook runs before the control plane's, so
  // a browser can read forced answers (faults, Prefer, rate limit) too.
  await app.register(corsPlugin)

  // The journal, Prefer, fault rules and the rate limit act on /v1 requests ahead of authentication.
  await app.register(interceptPlugin, {
    adminToken: options.adminToken,
    rateLimitPerMinute: options.rateLimitPerMinute,
    journalSize: options.journalSize,
  })
  await app.register(async (v1) => {
    v1.addHook('onRequest', (request, _reply, done) => {
      // CORS preflight needs no authentication (upstream declares `security: []`).
      if (request.method === 'OPTIONS') return done()
      let principal
      try {
        principal = app.mock.auth.authenticate(request.headers.authorization)
      } catch (err) {
        return done(err as Error)
      }
      // A JWT is verified asynchronously; an API key is known at once.
      if (principal instanceof Promise) {
        principal.then((p) => {
          request.principal = p
          done()
        }, done)
        return
      }
      request.principal = principal
      done()
    })
    await v1.register(aiSecretRoutes)
    await v1.register(aiSecretIdRoutes)
  })
  await app.register(mockRoutes)

  // Servers beside app.server that hand their requests to this app (listen.ts: the second
  // loopback address) stop with it: no new connections, idle ones closed.
  app.decorate('secondaryServers', new Set<Server>())
  app.addHook('preClose', (done) => {
    for (const server of app.secondaryServers) server.close()
    done()
  })

  await app.ready()
  return app as unknown as FastifyInstance
}
