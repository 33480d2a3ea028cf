import SerializerSelector from '@fastify/fast-json-stringify-compiler'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import { authorize, identify } from './auth/hooks.js'
import { createMock, type MockContext } from './context.js'
import controlPlane from './control/index.js'
import { ApiError, BODY_LIMIT } from './errors.js'
import type { AbortSignalLike, LoggerOptions } from './fastify-types.js'
import { closeSecondaryServers, connectionsCheckingInterval } from './listen.js'
import { createLogger, logAnswers } from './logging.js'
import bodyPlugin from './plugins/body.js'
import corsPlugin from './plugins/cors.js'
import docsPlugin from './plugins/docs.js'
import errorHandler, { sendApiError } from './plugins/error-handler.js'
import { checkHost, requireHost } from './plugins/host-check.js'
import { parseQueryString } from './plugins/querystring.js'
import { refusedRequestHandler } from './plugins/refused-requests.js'
import { normalizeTarget } from './request-target.js'
import requestIds from './plugins/request-ids.js'
import aiSecretRoutes from './routes/v1/ai-secret.js'
import aiSecretIdRoutes from './routes/v1/ai-secret-id.js'
import { sharedSchemas } from './schemas/ai-secret.js'
import type { ServerTls } from './tls.js'
import { createValidators, lazySerializerFactory } from './validation.js'

export interface AppOptions {
  /** SQLite database: ':memory:' (default) or a file path, which keeps state across restarts. */
  db?: string
  /**
   * Seed data for a new database: an object in the seed-file format, a path to a seed file, or
   * false for none. Default: the demo seed. POST /_mock/reset writes it again: an object is
   * copied when the app is built, so changing it afterwards changes nothing (build a new app
   * for other data, or use POST /_mock/seed).
   */
  seed?: object | string | false
  /**
   * false (default), true (info), a pino level, or Fastify logger options. Authorization and secret values are always
   * redacted.
   */
  logger?: boolean | string | LoggerOptions
  /** Deterministic ids, request ids and a clock that stands still: answers that snapshot the same every run. */
  deterministic?: boolean
  /** Secret for HS256 JWT bearer tokens (JWT_SECRET); unset, JWTs are refused with a 401. */
  jwtSecret?: string
  /** Serve Swagger UI at /docs (default true). */
  docs?: boolean
  /** When set, every /_mock route but /_mock/health wants `Authorization: Bearer <adminToken>` (env ADMIN_TOKEN). */
  adminToken?: string
  /**
   * Requests per minute per API key, over which /v1 answers 429 with Retry-After (env RATE_LIMIT_PER_MINUTE); default
   * off.
   */
  rateLimitPerMinute?: number
  /** How many /v1 requests GET /_mock/requests keeps (env MOCK_JOURNAL_SIZE); default 1000, 0 keeps none. */
  journalSize?: number
  /**
   * Origins besides loopback ones (`http(s)://localhost`, `127.0.0.1`, `[::1]`, any port) that may
   * use /_mock from a browser (env CORS_ORIGINS): a page on any other origin can neither read nor
   * send a /_mock request. /v1 answers every origin.
   */
  corsOrigins?: string[]
  /**
   * A request whose head and body have not arrived whole by then gets 408 and its connection closes (env
   * REQUEST_TIMEOUT_MS); default 30 000 ms.
   */
  requestTimeoutMs?: number
  /**
   * Aborts the build (the CLI's SIGTERM during start-up): a seed being applied is rolled back, and buildApp rejects
   * with the signal's reason.
   */
  signal?: AbortSignalLike
}

/** REQUEST_TIMEOUT_MS's default: a request must have arrived whole within 30 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

let built = 0

/** How many mocks this process has built: the code cache is kept from a run that built one (src/code-cache.ts). */
export function mocksBuilt(): number {
  return built
}

/** buildMockApp's options: buildApp's, and what a server listening with the app needs. */
export interface BuildOptions extends AppOptions {
  /**
   * Serve HTTPS with this certificate: the app's own server is a node:https one (listen() serves the second loopback
   * address with the same).
   */
  https?: ServerTls
}

/** A built mock: the Fastify app, and the context it serves (for startMockServer and the tests). */
export interface BuiltMock {
  app: FastifyInstance
  mock: MockContext
}

/**
 * Builds the whole mock (buildApp's work; startMockServer and the tests take the context too).
 * The order of the hooks every /v1 request meets is the order of registration here:
 * request ids, the Host allow-list (DNS rebinding), the transfer-coding check, CORS, identify
 * (who sent it), the control plane (journal, `Prefer`, fault rules, rate limit), one Host
 * required, then, in the /v1 scope, authorize (401, organization scope) and the handler. Rejects as createMock does;
 * nothing stays open then.
 */
export async function buildMockApp(options: BuildOptions = {}): Promise<BuiltMock> {
  const { https } = options
  const log = createLogger(options.logger)
  const mock = await createMock(options, log)
  built++
  let app: FastifyInstance
  try {
    app = Fastify({
      ...(https === undefined ? {} : { https: { cert: https.cert, key: https.key } }),
      loggerInstance: log,
      // One line per answer (logAnswers) instead of two per request.
      logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
      bodyLimit: BODY_LIMIT,
      // A request must arrive whole in time (408 after, from src/plugins/refused-requests.ts); a
      // request without Host reaches src/plugins/host-check.ts instead of Node's bare 400.
      requestTimeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      http: {
        requireHostHeader: false,
        connectionsCheckingInterval: connectionsCheckingInterval(
          options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
        ),
      },
      // ids up to this long still reach the route, which answers a 400 for a bad one rather than a 404.
      // GUESS: a trailing slash names the same route (`/v1/ai_secret/` is `/v1/ai_secret`), as
      // Express-style servers answer; upstream's own answer is unrecorded. An empty id never
      // reaches the by-id operations (see routes/v1/ai-secret-id.ts).
      // `ids[]=a` and `ids[0]=a` mean `ids=a`: see plugins/querystring.ts.
      routerOptions: { maxParamLength: 2048, ignoreTrailingSlash: true, querystringParser: parseQueryString },
      // Response serializers are built on first use, as validators are (see validation.ts).
      schemaController: { compilersFactory: { buildSerializer: lazySerializerFactory(SerializerSelector()) } },
      // A path the router cannot decode, or a parameter past maxParamLength, is refused before
      // any hook runs: answered here in the documented shape, with the request id headers.
      frameworkErrors: (error, request, reply) => {
        reply.header('x-request-id', request.id).header('x-bt-internal-trace-id', request.id)
        sendApiError(
          request,
          reply,
          new ApiError('bad_request', { reason: error.code ?? 'malformed request' }),
          mock.clock.now(),
        )
      },
      // What Node's HTTP parser refuses is answered in the documented shape too.
      clientErrorHandler: refusedRequestHandler({
        requestIds: mock.requestIds,
        clock: mock.clock,
        journal: mock.control.journal,
      }),
      genReqId: mock.requestIds.forRequest,
      // One path, one meaning: the router, the journal, fault rules and the rate limit all read
      // the target as normalizeTarget writes it.
      rewriteUrl: (req) => normalizeTarget(req.url ?? '/'),
    }).withTypeProvider<TypeBoxTypeProvider>() as unknown as FastifyInstance
  } catch (err) {
    mock.close()
    throw err
  }
  try {
    await registerEverything(app, mock, options)
    await app.ready()
  } catch (err) {
    await app.close().catch(() => {})
    throw err
  }
  return { app, mock }
}

/** The plugins and routes, in the order their hooks run (see buildMockApp). */
async function registerEverything(app: FastifyInstance, mock: MockContext, options: AppOptions): Promise<void> {
  app.addHook('onClose', async () => mock.close())
  // An Expect other than 100-continue: Node would answer a bare 417 of its own; the request
  // is answered as if it had none instead (RFC 9110 section 10.1.1 allows either).
  app.server.on('checkExpectation', (req, res) => app.routing(req, res))

  app.setValidatorCompiler(createValidators(sharedSchemas))
  for (const schema of sharedSchemas) app.addSchema(schema)

  await app.register(requestIds)
  await app.register(checkHost)
  await app.register(errorHandler, {
    clock: mock.clock,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  })
  await app.register(bodyPlugin, { requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS })
  await app.register(docsPlugin, { ui: options.docs ?? true, adminRequired: mock.control.adminToken !== null })
  logAnswers(app)
  // CORS before the control plane: a browser can read forced answers (faults, Prefer, rate limit) too.
  await app.register(corsPlugin, { origins: options.corsOrigins ?? [] })
  await app.register(identify, { auth: mock.auth })
  await app.register(controlPlane, { control: mock.control, clock: mock.clock })
  await app.register(requireHost)
  await app.register(async (v1) => {
    await v1.register(authorize, { auth: mock.auth })
    await v1.register(aiSecretRoutes, { secrets: mock.secrets })
    await v1.register(aiSecretIdRoutes, { secrets: mock.secrets })
  })
  closeSecondaryServers(app)
}

/**
 * Builds the whole mock: a ready Fastify instance that is not listening. Tests use it with
 * `inject()`; the CLI and startMockServer listen with it.
 */
export async function buildApp(options: AppOptions = {}): Promise<FastifyInstance> {
  return (await buildMockApp(options)).app
}
