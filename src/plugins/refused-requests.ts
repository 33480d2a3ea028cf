import { STATUS_CODES, maxHeaderSize } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { Clock } from '../clock.js'
import type { Journal, JournalRecord } from '../control/journal.js'
import { ApiError, renderError } from '../errors.js'
import { isV1, normalizeTarget } from '../request-target.js'
import type { RequestIds } from './request-ids.js'

// Requests Node's HTTP parser refuses before any route sees them (oversized request lines and
// headers, broken syntax, a request that does not arrive in time): answered in the documented
// text shape with both request-id headers, instead of Fastify's JSON or Node's bare answer.

/**
 * Where a request line begins: a method (a token, RFC 9110 section 5.6.2), a space, and a
 * target in one of its forms (RFC 9112 section 3.2): `/…`, `*`, `scheme://…`, `host:port`.
 */
const REQUEST_START = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ (?:[/*]|[A-Za-z][A-Za-z0-9+.-]*:\/\/|[^\s/]+:\d+ )/
/** The end of one message's head, then the start of the next request line (pipelining). */
const NEXT_REQUEST = /\r?\n\r?\n(?=[!#$%&'*+.^_`|~0-9A-Za-z-]+ (?:[/*]|[A-Za-z][A-Za-z0-9+.-]*:\/\/|[^\s/]+:\d+ ))/g
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/\d\.\d\r?\n/
/** Refused sockets already answered: the parser reports each later packet again. */
const answered = new WeakSet<object>()
/** How long a refused connection is read and discarded (so the client sees the answer) before it is cut. */
const REFUSED_DRAIN_MS = 10_000

/** Where the request the parser failed in begins in its packet, or -1 when it began in an earlier one. */
function requestStart(text: string): number {
  let start = REQUEST_START.test(text) ? 0 : -1
  for (const m of text.matchAll(NEXT_REQUEST)) start = m.index + m[0].length
  return start
}

/**
 * Which part overflowed Node's one limit for the request line and headers together
 * (`HPE_HEADER_OVERFLOW`; Node counts the bytes of the target, the header names and
 * values), from the packet the parser failed in (`err.rawPacket`): 414 when the request
 * line alone reaches the limit, else 431. Exact when the packet holds the start of the
 * request, or the end of its request line on a connection that has carried only this
 * request (`bytesRead` says where the packet sits); a packet holding a header line's end
 * means the request line ended before (431). A packet read in the middle of a line, with
 * no line end, cannot tell which line it is: then 431, the general answer (and Node's).
 */
export function overflowCode(
  raw: Buffer | undefined,
  limit: number,
  connection: { bytesRead: number; firstRequest: boolean },
): 'uri_too_long' | 'headers_too_large' {
  if (raw === undefined) return 'headers_too_large'
  const text = raw.toString('latin1')
  const start = requestStart(text)
  if (start !== -1) {
    const eol = text.indexOf('\n', start)
    return eol === -1 || eol - start >= limit ? 'uri_too_long' : 'headers_too_large'
  }
  const eol = text.indexOf('\n')
  if (eol === -1 || !/ HTTP\/\d\.\d\r?$/.test(text.slice(0, eol))) return 'headers_too_large'
  // The request line ends in this packet: its length, when the connection says where it began.
  if (!connection.firstRequest) return 'uri_too_long'
  return connection.bytesRead - raw.length + eol >= limit ? 'uri_too_long' : 'headers_too_large'
}

/** What is known of a request Node's parser refused: the start of its request line, when the packet holds it. */
function requestLineOf(raw: Buffer | undefined): { method: string; url: string } | null {
  if (raw === undefined) return null
  const text = raw.toString('latin1')
  const start = requestStart(text)
  const m = start === -1 ? null : REQUEST_LINE.exec(text.slice(start))
  return m === null ? null : { method: m[1]!, url: m[2]! }
}

type ParserError = Error & { code?: string; rawPacket?: Buffer }
type Outgoing = { headersSent?: boolean; once(event: 'close', listener: () => void): unknown }
type RefusedSocket = Socket & {
  bytesRead?: number
  parser?: { incoming?: { complete?: boolean } | null } | null
  _httpMessage?: Outgoing | null
}

/**
 * Makes Fastify's `clientErrorHandler` (called bound to the app): it answers a request Node's
 * HTTP parser refused before any route saw it, in the documented text shape with both
 * request-id headers, instead of Fastify's JSON. 414 or 431 when the request line
 * or the headers passed Node's limit (16 KiB by default, kept), 408 when it did not arrive
 * in time, else 400 naming Node's reason (`HPE_INVALID_METHOD`, ...). The bytes sent are
 * never echoed, nor logged (they may hold keys). Answers to requests pipelined before it
 * go first; the connection closes after the answer, what the client still sends being read
 * and discarded meanwhile. A refused /v1 request whose request line could be read gets a
 * journal entry (method, target, status; no headers and no body: they were never read as a
 * request's), so that a test sees what its client sent; a 414's target is not whole, so it
 * gets none.
 */
export function refusedRequestHandler(deps: RefusalDeps) {
  return function clientErrorHandler(this: FastifyInstance, error: Error, connection: Socket): void {
    refuse(this, deps, error, connection)
  }
}

/** What answering a refused request needs: ids and time for the answer, the journal for its entry. */
export interface RefusalDeps {
  requestIds: RequestIds
  clock: Clock
  journal: Journal
}

function refuse(app: FastifyInstance, deps: RefusalDeps, error: Error, connection: Socket): void {
  const err = error as ParserError
  const socket = connection as RefusedSocket
  if (answered.has(socket)) return
  answered.add(socket)
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const incoming = socket.parser?.incoming ?? null
  if (incoming !== null && incoming.complete !== true) {
    // The body of a request the app is already handling broke off: as Node does, answer
    // unless its answer has begun, and end the connection at once (the body never ends).
    if (socket.writable && socket._httpMessage?.headersSent !== true) socket.write(refusal(app, deps, err, socket).head)
    socket.destroy()
    return
  }
  const r = refusal(app, deps, err, socket)
  const answer = () => {
    const pending = socket._httpMessage
    // Answers to the requests before it (pipelined) first, in order.
    if (pending != null) return void pending.once('close', answer)
    if (socket.destroyed || !socket.writable) return
    socket.end(r.head)
    if (r.journal !== null) {
      const journal = deps.journal
      if (journal.capacity > 0) journal.add(r.journal)
    }
    const cut = setTimeout(() => socket.destroy(), REFUSED_DRAIN_MS)
    cut.unref()
    socket.once('close', () => clearTimeout(cut))
  }
  answer()
}

/**
 * The whole answer to a refused request (head and body), logged as it is made, and its journal record if it gets one.
 */
function refusal(
  app: FastifyInstance,
  deps: RefusalDeps,
  err: ParserError,
  socket: RefusedSocket,
): { head: Buffer; journal: JournalRecord | null } {
  const limit = (app.server as { maxHeaderSize?: number }).maxHeaderSize ?? maxHeaderSize
  let apiError: ApiError
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    apiError = new ApiError(
      overflowCode(err.rawPacket, limit, {
        bytesRead: socket.bytesRead ?? 0,
        firstRequest: socket.parser?.incoming == null,
      }),
      { limit },
    )
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') apiError = new ApiError('request_timeout')
  else
    apiError = new ApiError('bad_request', {
      reason: /^[A-Z_]+$/.test(err.code ?? '') ? err.code! : 'malformed request',
    })

  const id = deps.requestIds.next()
  const now = deps.clock.now()
  const r = renderError(apiError, { requestId: id, path: '', now })
  const body = Buffer.from(r.body)
  const head = Buffer.concat([
    Buffer.from(
      `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status]}\r\ncontent-type: ${r.contentType}\r\ncontent-length: ${body.length}\r\n` +
        `x-request-id: ${id}\r\nx-bt-internal-trace-id: ${id}\r\nconnection: close\r\ndate: ${new Date().toUTCString()}\r\n\r\n`,
    ),
    body,
  ])
  app.log.info({ request_id: id, status: r.status, code: err.code }, 'client error: request refused by the HTTP parser')
  const line = apiError.code === 'uri_too_long' ? null : requestLineOf(err.rawPacket)
  // Read as the router reads a target (`/v1/%61i_secret`, `http://host/v1/…`), as every request is.
  const url = line === null ? '' : normalizeTarget(line.url)
  const journal =
    line === null || !isV1(url)
      ? null
      : {
          id,
          timeMs: now.getTime(),
          method: line.method,
          url,
          headers: {},
          body: null,
          status: r.status,
          duration_ms: 0,
          org: null,
        }
  return { head, journal }
}
