import swagger from '@fastify/swagger'
import type { FastifySwaggerUiOptions } from '@fastify/swagger-ui'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { DEMO_IDS, DEMO_KEYS, OPERATION_EXAMPLES } from '../schemas/examples.js'

/** Route schemas carry the upstream request-body description here; see matchUpstreamStyle. */
export const REQUEST_BODY_DESCRIPTION = 'x-request-body-description'
/** Route schemas name the query parameters upstream marks `allowReserved` here. */
export const ALLOW_RESERVED = 'x-allow-reserved'

interface Parameter {
  name: string
  in?: string
  description?: string
  allowReserved?: boolean
  required?: boolean
  example?: unknown
  schema?: { $ref?: string; type?: string }
}

type Operation = {
  operationId?: string
  security?: Record<string, string[]>[]
  requestBody?: { required?: boolean; description?: string; content?: Record<string, { examples?: unknown }> }
  parameters?: Parameter[]
  [REQUEST_BODY_DESCRIPTION]?: string
  [ALLOW_RESERVED]?: string[]
}

type Doc = {
  paths?: Record<string, Record<string, Operation>>
  components?: { schemas?: Record<string, { description?: string }> }
}

/**
 * What @fastify/swagger cannot write as upstream does: it marks every request body
 * required and has no field for its description (upstream: `required: false`, described);
 * it drops what sits beside a parameter's `$ref` (upstream repeats the schema's description
 * on the parameter, and marks some `allowReserved`).
 */
function matchUpstreamStyle(doc: Doc) {
  const schemas = doc.components?.schemas ?? {}
  for (const methods of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(methods)) {
      const description = op[REQUEST_BODY_DESCRIPTION]
      delete op[REQUEST_BODY_DESCRIPTION]
      if (description !== undefined && op.requestBody)
        op.requestBody = { description, required: false, ...stripRequired(op.requestBody) }
      const reserved = op[ALLOW_RESERVED] ?? []
      delete op[ALLOW_RESERVED]
      for (const param of op.parameters ?? []) {
        const target = param.schema?.$ref?.replace('#/components/schemas/', '')
        const schemaDescription = target === undefined ? undefined : schemas[target]?.description
        if (param.description === undefined && schemaDescription !== undefined) param.description = schemaDescription
        if (reserved.includes(param.name)) param.allowReserved = true
      }
    }
  }
  return doc
}

/** The `Prefer` header of every /v1 operation (src/plugins/intercept.ts answers it, before any handler). */
export const PREFER_PARAMETER: Parameter = {
  name: 'Prefer',
  in: 'header',
  required: false,
  description:
    'The mock\u2019s own, as in Prism (not part of the Braintrust API): `code=<status>` answers that error status ' +
    'in its documented shape without running the operation; `delay=<ms>` waits that long first (at most 60 000); ' +
    'both may be combined (`code=500, delay=100`). The answer carries `Preference-Applied`. Leave it empty for ' +
    'the real answer.',
  schema: { type: 'string' },
}

/**
 * What the served document adds for a visitor, all in the operations so that the upstream
 * component schemas stay as they are: the examples of src/schemas/examples.ts (request bodies'
 * `examples`, parameters' `example`), the `Prefer` header on every /v1 operation, and the admin
 * scheme made required on the /_mock operations when the mock runs with ADMIN_TOKEN.
 */
function addVisitorDocs(doc: Doc, adminRequired: boolean) {
  // The Braintrust API first, as upstream lists it, then the control plane (registered before
  // the /v1 routes, so that its hooks run first).
  if (doc.paths !== undefined) {
    const entries = Object.entries(doc.paths)
    doc.paths = Object.fromEntries([
      ...entries.filter(([p]) => p.startsWith('/v1')),
      ...entries.filter(([p]) => !p.startsWith('/v1')),
    ])
  }
  for (const [path, methods] of Object.entries(doc.paths ?? {})) {
    for (const op of Object.values(methods)) {
      const examples = OPERATION_EXAMPLES[op.operationId ?? '']
      const media = op.requestBody?.content?.['application/json']
      if (examples?.body !== undefined && media !== undefined) {
        media.examples = Object.fromEntries(
          Object.entries(examples.body).map(([name, e]) => [name, { summary: e.summary, value: e.value }]),
        )
      }
      for (const param of op.parameters ?? []) {
        const value = examples?.parameters?.[param.name]
        if (value !== undefined) param.example = value
      }
      if (path.startsWith('/v1/')) op.parameters = [...(op.parameters ?? []), PREFER_PARAMETER]
      if (adminRequired && op.security?.some((s) => 'adminToken' in s))
        op.security = op.security.filter((s) => Object.keys(s).length > 0)
    }
  }
  return doc
}

function stripRequired(body: { required?: boolean; description?: string }) {
  const { required: _r, description: _d, ...rest } = body
  return rest
}

export const UPSTREAM_INFO = {
  version: '1.0.0',
  title: 'Braintrust API',
  description:
    'API specification for the backend data server. The API is hosted globally at\nhttps://api.braintrust.dev or ' +
    'in your own environment.\n\nYou can access the OpenAPI spec for this API at ' +
    'https://github.com/braintrustdata/braintrust-openapi.',
  license: { name: 'Apache 2.0' },
}

/**
 * The served document's `info`. DIFFERS: upstream's names the Braintrust API; this one names
 * the mock, its demo keys (seed/demo.json) and its control routes, for a visitor of /docs.
 */
export const MOCK_INFO = {
  version: UPSTREAM_INFO.version,
  title: 'ai-secret-mock: the Braintrust API\u2019s AI secrets, mocked',
  description: [
    '**A local test double**, not the real Braintrust API: the AI-secrets resource (`/v1/ai_secret`) as the ' +
      '[upstream definition](https://github.com/braintrustdata/braintrust-openapi) documents it, on data kept in ' +
      'SQLite. Nothing here reaches `api.braintrust.dev`.',
    '',
    '**Demo API keys** (the default seed, `seed/demo.json`): click **Authorize** and paste one into `bearerAuth`.',
    '',
    '| key | user | can |',
    '|---|---|---|',
    ...DEMO_KEYS.map((k) => `| \`${k.key}\` | ${k.user} | ${k.can} |`),
    '',
    `Each organization holds one secret named \`OPENAI_API_KEY\` (acme\u2019s id \`${DEMO_IDS.acmeSecret}\`, globex\u2019s \`${DEMO_IDS.globexSecret}\`). Every operation\u2019s example works as it is on this data with \`sk-mock-acme-owner\` (each example names its key): **Try it out**, then **Execute**.`,
    '',
    '**Control routes** (tag *Mock control*, `/_mock/*`, not part of the Braintrust API): `POST /_mock/reset` ' +
      'brings the demo data back; others add data, force faults, move the clock and show what was asked. When the ' +
      'mock runs with `ADMIN_TOKEN`, they want it: **Authorize** with it in `adminToken` (the API key stays in ' +
      '`bearerAuth`). `/_mock/health` never does.',
    '',
    'Errors answer as the real server does: `text/plain` with the request\u2019s context in brackets, or a ' +
      '`ForbiddenError` JSON object for 403. The `Prefer` header (`code=429`, `delay=250`) forces an answer per ' +
      'request.',
    '',
    'This document: [/openapi.json](/openapi.json), [/openapi.yaml](/openapi.yaml).',
  ].join('\n'),
  license: UPSTREAM_INFO.license,
}

/**
 * The OpenAPI document generated from the route schemas, at /openapi.json and
 * /openapi.yaml, and Swagger UI at /docs. Shared schemas keep their upstream names
 * (`AISecret`, ...) under components.schemas.
 */
async function docsPlugin(app: FastifyInstance, opts: { ui: boolean; adminRequired: boolean }) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: MOCK_INFO,
      // DIFFERS: upstream names https://api.braintrust.dev; the mock's document names no server,
      // so that Swagger UI and generated clients talk to the mock they were fetched from.
      security: [{ bearerAuth: [] }, {}],
      components: {
        securitySchemes: {
          // DIFFERS: upstream's description sends the reader to create a real Braintrust key.
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'API key or JWT',
            description:
              'A demo API key of the mock, such as `sk-mock-acme-owner` (the table above), sent as ' +
              '`Authorization: Bearer <key>`. The mock knows only the keys of its seed (and JWTs signed with its ' +
              '`JWT_SECRET`), never a real Braintrust key.',
          },
          // The mock's own: the /_mock routes, apart from the API key, so that a visitor holds both.
          adminToken: {
            type: 'http',
            scheme: 'bearer',
            description:
              'For the `/_mock` control routes, only when the mock runs with `ADMIN_TOKEN` set: `Authorization: ' +
              'Bearer <ADMIN_TOKEN>`. Unset (the default), leave it empty. `/_mock/health` never needs it.',
          },
        },
      },
      tags: [
        { name: 'AiSecrets', description: 'The Braintrust AI-secrets resource, as upstream defines it' },
        { name: 'CORS', description: 'CORS preflight, as upstream defines it' },
        {
          name: 'Mock control',
          description: 'The mock\u2019s own control plane for tests: not part of the Braintrust API',
        },
      ],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
    // A copy without shared objects: the YAML document then has no anchors and aliases
    // (`&a1` ... `*a1`) where routes share their tags, security or the Prefer parameter.
    transformObject: (documentObject) =>
      JSON.parse(
        JSON.stringify(
          addVisitorDocs(
            matchUpstreamStyle((documentObject as { openapiObject: Doc }).openapiObject),
            opts.adminRequired,
          ),
        ),
      ) as never,
  })
  if (opts.ui) {
    swaggerUiOnFirstUse(app)
    app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/docs'))
    // What a browser asks for beside /openapi.json or /openapi.yaml: Swagger UI's own icon.
    app.get('/favicon.ico', { schema: { hide: true } }, async (_request, reply) =>
      reply.redirect('/docs/static/favicon-32x32.png'),
    )
  }

  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('application/json; charset=utf-8').send(app.swagger()),
  )
  // text/yaml (RFC 9512 names application/yaml) so that a browser shows the document rather than
  // downloading it.
  app.get('/openapi.yaml', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/yaml; charset=utf-8').send(app.swagger({ yaml: true })),
  )
}

/** The top bar's logo: the mock's name, where Swagger UI would show Fastify's. */
const LOGO = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="190" height="40" viewBox="0 0 190 40"><text x="0" y="28" ' +
    'font-family="sans-serif" font-size="24" font-weight="bold" fill="#ffffff">ai-secret-mock</text></svg>',
)

/**
 * How Swagger UI shows the document: named after the mock, reading /openapi.json (the top bar
 * shows it), keeping what was entered in Authorize across reloads (in the browser's local
 * storage), with operation ids and request durations shown.
 */
export const SWAGGER_UI_OPTIONS: FastifySwaggerUiOptions = {
  routePrefix: '/docs',
  uiConfig: {
    urls: [{ url: '/openapi.json', name: 'ai-secret-mock: /openapi.json' }],
    persistAuthorization: true,
    displayOperationId: true,
    displayRequestDuration: true,
  },
  theme: { title: 'ai-secret-mock: API docs (Swagger UI)' },
  logo: { type: 'image/svg+xml', content: LOGO },
}

/**
 * Swagger UI at /docs, loaded when /docs is first asked for: @fastify/swagger-ui and what it
 * brings (@fastify/static, the UI's files, yaml) cost a quarter of the mock's start-up, and
 * most runs (test suites) never open it. It runs in a Fastify instance of its own, reading
 * the app's own OpenAPI document; /docs and /docs/* pass requests to it with inject() and
 * send its answers as theirs, so the app's hooks, headers, 404 and log line apply as to any
 * other route.
 */
function swaggerUiOnFirstUse(app: FastifyInstance): void {
  let ui: Promise<FastifyInstance> | null = null
  const load = async () => {
    const { default: swaggerUi } = await import('@fastify/swagger-ui')
    const child = Fastify({ logger: false })
    // Stands in for @fastify/swagger, which swagger-ui requires: the document is the app's.
    await child.register(
      fp(
        async (c: FastifyInstance) => {
          c.decorate('swagger', app.swagger.bind(app))
        },
        { name: '@fastify/swagger' },
      ),
    )
    await child.register(swaggerUi, SWAGGER_UI_OPTIONS)
    await child.ready()
    return child
  }
  const serve = async (request: FastifyRequest, reply: FastifyReply) => {
    const child = await (ui ??= load().catch((err: unknown) => {
      ui = null
      throw err
    }))
    // (A HEAD request comes here through Fastify's HEAD route, which drops the body itself.)
    const res = await child.inject({ method: 'GET', url: request.url, headers: request.headers })
    // What the UI does not have (a file under /docs/static/ too) gets the app's own 404.
    if (res.statusCode === 404) return reply.callNotFound()
    const {
      'content-length': _length,
      'transfer-encoding': _encoding,
      connection: _connection,
      date: _date,
      ...headers
    } = res.headers
    reply.code(res.statusCode).headers(headers)
    return res.rawPayload.length === 0 ? reply.send() : reply.send(res.rawPayload)
  }
  app.get('/docs', { schema: { hide: true } }, serve)
  app.get('/docs/*', { schema: { hide: true } }, serve)
  app.addHook('onClose', async () => {
    const loaded = await ui?.catch(() => null)
    await loaded?.close()
  })
}

export default fp(docsPlugin, { name: 'docs', fastify: '5.x' })
