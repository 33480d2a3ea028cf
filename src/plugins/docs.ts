import swagger from '@fastify/swagger'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

/** Route schemas carry the upstream request-body description here; see matchUpstreamStyle. */
export const REQUEST_BODY_DESCRIPTION = 'x-request-body-description'
/** Route schemas name the query parameters upstream marks `allowReserved` here. */
export const ALLOW_RESERVED = 'x-allow-reserved'

interface Parameter {
  name: string
  description?: string
  allowReserved?: boolean
  schema?: { $ref?: string }
}

type Operation = {
  requestBody?: { required?: boolean; description?: string }
  parameters?: Parameter[]
  [REQUEST_BODY_DESCRIPTION]?: string
  [ALLOW_RESERVED]?: string[]
}

type Doc = { paths?: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, { description?: string }> } }

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
      if (description !== undefined && op.requestBody) op.requestBody = { description, required: false, ...stripRequired(op.requestBody) }
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

function stripRequired(body: { required?: boolean; description?: string }) {
  const { required: _r, description: _d, ...rest } = body
  return rest
}

export const UPSTREAM_INFO = {
  version: '1.0.0',
  title: 'Braintrust API',
  description:
    'API specification for the backend data server. The API is hosted globally at\nhttps://api.braintrust.dev or in your own environment.\n\nYou can access the OpenAPI spec for this API at https://github.com/braintrustdata/braintrust-openapi.',
  license: { name: 'Apache 2.0' },
}

/**
 * The OpenAPI document generated from the route schemas, at /openapi.json and
 * /openapi.yaml, and Swagger UI at /docs. Shared schemas keep their upstream names
 * (`AISecret`, ...) under components.schemas.
 */
async function docsPlugin(app: FastifyInstance, opts: { ui: boolean }) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: UPSTREAM_INFO,
      // DIFFERS: upstream names https://api.braintrust.dev; the mock's document names no server,
      // so that Swagger UI and generated clients talk to the mock they were fetched from.
      security: [{ bearerAuth: [] }, {}],
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'API key or JWT',
            description:
              'Most Braintrust endpoints are authenticated by providing your API key as a header `Authorization: Bearer [api_key]` to your HTTP request. You can create an API key in the Braintrust [organization settings page](https://www.braintrustdata.com/app/settings?subroute=api-keys).',
          },
        },
      },
      tags: [
        { name: 'AiSecrets', description: 'The Braintrust AI-secrets resource, as upstream defines it' },
        { name: 'CORS', description: 'CORS preflight, as upstream defines it' },
        { name: 'Mock control', description: 'The mock\u2019s own control plane for tests: not part of the Braintrust API' },
      ],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
    transformObject: (documentObject) => matchUpstreamStyle((documentObject as { openapiObject: object }).openapiObject) as never,
  })
  if (opts.ui) swaggerUiOnFirstUse(app)

  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) => reply.type('application/json; charset=utf-8').send(app.swagger()))
  app.get('/openapi.yaml', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('application/yaml; charset=utf-8').send(app.swagger({ yaml: true })),
  )
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
    await child.register(swaggerUi, { routePrefix: '/docs' })
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
    const { 'content-length': _length, 'transfer-encoding': _encoding, connection: _connection, date: _date, ...headers } = res.headers
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
