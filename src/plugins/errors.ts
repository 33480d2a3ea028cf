import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError, renderError, type ErrorContext } from '../errors.js'
import { formatIssues } from '../validation.js'

const REQUEST_ID = /^[\w.:@/+=-]{1,128}$/

/** A request id sent by the caller is kept (and echoed) when it is a plain token; otherwise one is made. */
export function incomingRequestId(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : undefined
}

function toApiError(err: FastifyError): ApiError | null {
  if (err instanceof ApiError) return err
  if (err.validation) {
    return new ApiError('validation', { issues: formatIssues(err.validation, err.validationContext ?? 'body') })
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ApiError('body_too_large')
  return null
}

export function errorContext(request: FastifyRequest): ErrorContext {
  // Not set at all (rather than null) on a request Fastify answers before any hook runs.
  const p = request.principal ?? null
  const org = request.org ?? (p !== null && p.orgs.length === 1 ? p.orgs[0] : undefined)
  return {
    requestId: request.id,
    path: request.url.split('?', 1)[0]!,
    now: request.server.mock.clock.now(),
    userEmail: p?.email,
    userOrg: org?.name,
  }
}

export function sendApiError(request: FastifyRequest, reply: FastifyReply, err: ApiError): FastifyReply {
  const r = renderError(err, errorContext(request))
  return reply.code(r.status).headers(r.headers).type(r.contentType).send(r.body)
}

/**
 * The one place errors become answers: thrown ApiErrors, Fastify's validation and parser
 * errors (turned into the documented shapes, never Fastify's own JSON), unknown routes,
 * and anything unexpected (a 500 that shows no stack and no internal message).
 */
async function errorsPlugin(app: FastifyInstance) {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
    reply.header('x-bt-internal-trace-id', request.id)
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    let apiError = toApiError(error)
    if (apiError === null) {
      if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
        apiError = new ApiError('bad_request', { reason: error.code ?? 'malformed request' })
      } else {
        request.log.error({ err: error }, 'unexpected error')
        apiError = new ApiError('internal')
      }
    }
    return sendApiError(request, reply, apiError)
  })

  app.setNotFoundHandler((request, reply) =>
    sendApiError(request, reply, new ApiError('route_not_found', { method: request.method, path: request.url.split('?', 1)[0]! })),
  )
}

export default fp(errorsPlugin, { name: 'errors', fastify: '5.x', dependencies: ['store'] })
