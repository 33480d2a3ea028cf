import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Clock } from '../clock.js'
import { ApiError, DRAIN_LIMIT, EndedByReset, renderError, type ErrorContext } from '../errors.js'
import { pathOf } from '../request-target.js'
import { formatIssues } from '../validation.js'

function toApiError(err: FastifyError): ApiError | null {
  if (err instanceof ApiError) return err
  if (err.validation) {
    return new ApiError('validation', { issues: formatIssues(err.validation, err.validationContext ?? 'body') })
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ApiError('body_too_large')
  // The connection closed before the body was whole (the client left, or its body broke off
  // and clientErrorHandler answered): nobody is left to answer, but it is no server error.
  if (err.code === 'ECONNRESET') return new ApiError('bad_request', { reason: 'the request was aborted' })
  return null
}

/**
 * What the bracketed context of an error says of its request (RECORDED-BEHAVIOUR.md): its id,
 * path and time, and, once authorization has let it through, its user and the organization
 * it acts in (or its key's only one).
 */
export function errorContext(request: FastifyRequest, now: Date): ErrorContext {
  // Not set at all (rather than null) on a request Fastify answers before any hook runs.
  const p = request.principal ?? null
  const org = request.org ?? (p !== null && p.orgs.length === 1 ? p.orgs[0] : undefined)
  return { requestId: request.id, path: pathOf(request.url), now, userEmail: p?.email, userOrg: org?.name }
}

/** Answers an ApiError in its documented shape (the error table, src/errors.ts). */
export function sendApiError(request: FastifyRequest, reply: FastifyReply, err: ApiError, now: Date): FastifyReply {
  const r = renderError(err, errorContext(request, now))
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
function drainBody(request: FastifyRequest, ms: number): Promise<void> {
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
    const timer = setTimeout(done, ms)
    raw.on('data', onData).once('end', done).once('error', done).once('close', done)
    raw.resume()
  })
}

/**
 * The one place errors become answers: thrown ApiErrors, Fastify's validation and parser
 * errors (turned into the documented shapes, never Fastify's own JSON), unknown routes,
 * and anything unexpected (a 500 that shows no stack and no internal message). `clock`
 * stamps them (`[timestamp=…]`).
 */
async function errorHandlerPlugin(app: FastifyInstance, opts: { clock: Clock; requestTimeoutMs: number }) {
  const { clock } = opts
  // A client still sending its body past REQUEST_TIMEOUT_MS is not waited for any longer.
  const drainMs = Math.min(DRAIN_MS, opts.requestTimeoutMs)
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    if (error instanceof EndedByReset) {
      request.log.info({ method: request.method, url: request.url }, error.message)
      reply.hijack()
      reply.raw.destroy()
      return
    }
    let apiError = toApiError(error)
    // better-sqlite3's SqliteError: the file's write lock outlasted busy_timeout (an audit held it
    // from another process and got a 500). The transaction did not commit: a 503 to retry.
    const sqliteCode = (error as { code?: unknown }).code
    if (apiError === null && (sqliteCode === 'SQLITE_BUSY' || sqliteCode === 'SQLITE_BUSY_SNAPSHOT')) {
      request.log.warn({ err: error }, 'database file locked by another process')
      apiError = new ApiError('database_busy', {}, { 'retry-after': '1' })
    }
    if (apiError === null) {
      if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
        apiError = new ApiError('bad_request', { reason: error.code ?? 'malformed request' })
      } else {
        request.log.error({ err: error }, 'unexpected error')
        apiError = new ApiError('internal')
      }
    }
    // (Past its limit the body parser has drained all it will: that 413 closes the connection;
    // a body that stopped arriving will not come, and its connection closes too.)
    if (apiError.code !== 'body_too_large' && apiError.code !== 'request_timeout') await drainBody(request, drainMs)
    return sendApiError(request, reply, apiError, clock.now())
  })

  app.setNotFoundHandler(async (request, reply) => {
    await drainBody(request, drainMs)
    const notFound = new ApiError('route_not_found', { method: request.method, path: pathOf(request.url) })
    return sendApiError(request, reply, notFound, clock.now())
  })
}

export default fp(errorHandlerPlugin, { name: 'error-handler', fastify: '5.x' })
