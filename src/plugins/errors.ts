import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError, DRAIN_LIMIT, renderError, type ErrorContext } from '../errors.js'
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

/** An unread body is read and discarded up to DRAIN_LIMIT (as the body parser drains) or this long. */
const DRAIN_MS = 10_000

/**
 * Reads and discards what is left of the request body. An answer given before the body
 * was read (a 401 from authentication, a forced fault) would otherwise reach a client still
 * writing its body as a reset, not as an answer, once the connection closes
 * (`Connection: close`): the kernel resets a socket closed with data still coming in.
 */
function drainBody(request: FastifyRequest): Promise<void> {
  const raw = request.raw
  if (raw.complete || raw.readableEnded || raw.destroyed) return Promise.resolve()
  return new Promise((resolve) => {
    let seen = 0
    const done = () => {
      clearTimeout(timer)
      raw.off('data', onData).off('end', done).off('error', done).off('close', done)
      resolve()
    }
    const onData = (chunk: Buffer) => {
      seen += chunk.length
      if (seen > DRAIN_LIMIT) done()
    }
    const timer = setTimeout(done, DRAIN_MS)
    raw.on('data', onData).once('end', done).once('error', done).once('close', done)
    raw.resume()
  })
}

/**
 * The one place errors become answers: thrown ApiErrors, Fastify's validation and parser
 * errors (turned into the documented shapes, never Fastify's own JSON), unknown routes,
 * and anything unexpected (a 500 that shows no stack and no internal message).
 */
async function errorsPlugin(app: FastifyInstance) {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    reply.header('x-bt-internal-trace-id', request.id)
    done()
  })

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    let apiError = toApiError(error)
    if (apiError === null) {
      if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
        apiError = new ApiError('bad_request', { reason: error.code ?? 'malformed request' })
      } else {
        request.log.error({ err: error }, 'unexpected error')
        apiError = new ApiError('internal')
      }
    }
    // (Past its limit the body parser has drained all it will: that 413 closes the connection.)
    if (apiError.code !== 'body_too_large') await drainBody(request)
    return sendApiError(request, reply, apiError)
  })

  app.setNotFoundHandler(async (request, reply) => {
    await drainBody(request)
    return sendApiError(request, reply, new ApiError('route_not_found', { method: request.method, path: request.url.split('?', 1)[0]! }))
  })
}

export default fp(errorsPlugin, { name: 'errors', fastify: '5.x', dependencies: ['store'] })
