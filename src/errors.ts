import { STATUS_CODES } from 'node:http'

// The one error table: every error the mock answers, its status, its message and the
// shape of its body. Shapes follow openapi/upstream/RECORDED-BEHAVIOUR.md: plain text with
// bracketed context, or the JSON ForbiddenError some routes of the real API answer with.

export type BodyShape = 'text' | 'forbidden'

type Params = Record<string, string | number>

interface ErrorSpec {
  status: number
  shape: BodyShape
  message: (p: Params) => string
}

export const BODY_LIMIT = 1024 * 1024
/**
 * How much of a body that will not be used (over the limit, or answered before it was read)
 * is read and discarded, so the client sees the answer rather than a reset; past it, the
 * connection closes.
 */
export const DRAIN_LIMIT = 64 * BODY_LIMIT

const ERRORS = {
  // GUESS: the real wording of the 401 answers is unconfirmed (RECORDED-BEHAVIOUR.md).
  auth_missing: {
    status: 401,
    shape: 'text',
    message: () => 'Missing Authorization header: pass your API key as `Authorization: Bearer <api key>`',
  },
  auth_scheme: {
    status: 401,
    shape: 'text',
    message: () => 'Invalid Authorization header: expected `Authorization: Bearer <api key>`',
  },
  auth_invalid_key: { status: 401, shape: 'text', message: () => 'Invalid API key' },
  auth_invalid_token: { status: 401, shape: 'text', message: (p) => `Invalid token: ${p.reason}` },

  invalid_json: { status: 400, shape: 'text', message: (p) => `Invalid JSON in request body${p.where ?? ''}` },
  json_too_deep: {
    status: 400,
    shape: 'text',
    message: (p) => `Invalid JSON in request body: nested deeper than ${p.max} levels`,
  },
  not_json: {
    status: 400,
    shape: 'text',
    message: (p) => `Request body must be JSON (content-type: application/json), not ${p.type}`,
  },
  // The message is a pretty-printed array of zod-style issues, as the real server answers
  // (RECORDED-BEHAVIOUR.md, GET /v1/project/not-a-uuid).
  validation: { status: 400, shape: 'text', message: (p) => String(p.issues) },
  body_too_large: {
    status: 413,
    shape: 'text',
    message: () => `Request body is larger than the limit of ${BODY_LIMIT} bytes`,
  },
  // RFC 9110 section 8.4: a content coding the server does not know is a 415, sent with
  // `Accept-Encoding` naming those it does (section 12.5.3). GUESS: how the real API treats
  // Content-Encoding is unrecorded; these two answers follow RFC 9110, in the mock's words.
  encoding_unsupported: {
    status: 415,
    shape: 'text',
    message: (p) =>
      p.max === undefined
        ? `Unsupported Content-Encoding ${p.coding}: request bodies may be sent as ${p.accepted}, or not encoded`
        : `Unsupported Content-Encoding: more than ${p.max} codings applied one over another; at most ${p.max} are decoded`,
  },
  encoding_invalid: {
    status: 400,
    shape: 'text',
    message: (p) => `Request body does not decode as its Content-Encoding (${p.coding}) declares`,
  },

  // GUESS: the answers for a key in several organizations without org_name, for an org the
  // key does not span, and for a key in no organization are unconfirmed. The 403 is alike
  // whether or not the organization exists, so it cannot be used to probe org names.
  org_required: {
    status: 400,
    shape: 'text',
    message: (p) => `Your API key belongs to multiple organizations (${p.orgs}): specify org_name to choose one`,
  },
  org_forbidden: {
    status: 403,
    shape: 'forbidden',
    message: (p) => `Missing read access to organization ${p.org}, or the organization does not exist`,
  },
  no_org: { status: 403, shape: 'forbidden', message: () => 'Your API key does not belong to any organization' },
  // GUESS: the wording; Braintrust's proxy refuses conflicting organization selectors too
  // ("Conflicting organization selectors", braintrustdata/braintrust-proxy).
  org_conflict: {
    status: 400,
    shape: 'text',
    message: (p) => `The x-bt-org-name header (${p.header}) and org_name (${p.org_name}) name different organizations`,
  },

  // One answer for "absent" and "not allowed", as the real server gives, so nobody can
  // probe what exists.
  missing_access: {
    status: 400,
    shape: 'text',
    message: (p) => `Missing ${p.action} access to ai_secret ${p.name}, or the ai_secret does not exist`,
  },

  bad_request: { status: 400, shape: 'text', message: (p) => `Malformed request (${p.reason})` },
  // Refused by Node's HTTP parser before any route (src/plugins/errors.ts, clientErrorHandler):
  // its limit counts the request line and the headers together (RFC 9110 15.5.15, RFC 6585
  // section 5). GUESS: the real API's limits and wording for these are unrecorded.
  uri_too_long: {
    status: 414,
    shape: 'text',
    message: (p) =>
      `URI too long: the request line and its headers may hold ${p.limit} bytes together, and the request line alone is longer`,
  },
  headers_too_large: {
    status: 431,
    shape: 'text',
    message: (p) =>
      `Request header fields too large: the request line and its headers may hold ${p.limit} bytes together`,
  },
  request_timeout: {
    status: 408,
    shape: 'text',
    message: (p) =>
      p.ms === undefined
        ? 'Request timeout: the request did not arrive in time'
        : `Request timeout: the request did not arrive whole within ${p.ms} ms`,
  },
  // RFC 9112 section 3.2: an HTTP/1.1 request without Host, any request with more than one, or
  // with a Host that is not `host[:port]` (RFC 3986 section 3.2.2), is a 400.
  host_required: {
    status: 400,
    shape: 'text',
    message: (p) =>
      p.value === undefined
        ? `Malformed request: an HTTP/1.1 request needs exactly one Host header, not ${p.count}`
        : `Malformed request: the Host header ${p.value} is not a host and an optional port`,
  },
  // The mock's own (as Vite's server.allowedHosts and webpack-dev-server's allowedHosts): while it
  // listens on loopback only, a page on another site that rebinds its name to 127.0.0.1 reaches it
  // with its own name in Host.
  host_not_allowed: {
    status: 403,
    shape: 'text',
    message: (p) =>
      `Host ${p.host} is not allowed: the mock answers localhost, 127.0.0.1, [::1], the address it listens on and the names in ALLOWED_HOSTS (comma-separated, or *)`,
  },
  // RFC 9112 section 6.1: a transfer coding the server does not understand is a 501.
  transfer_coding_unsupported: {
    status: 501,
    shape: 'text',
    message: (p) =>
      `Unsupported Transfer-Encoding ${p.coding}: only chunked is accepted (Content-Encoding for compressed bodies)`,
  },
  // By id: the real server was recorded answering a read of a missing object with this 403
  // JSON, and a delete with the 400 text (RECORDED-BEHAVIOUR.md). GUESS: update as delete.
  missing_read_access_id: {
    status: 403,
    shape: 'forbidden',
    message: (p) => `Missing read access to ai_secret id ${p.id}, or the ai_secret does not exist`,
  },
  missing_access_id: {
    status: 400,
    shape: 'text',
    message: (p) => `Missing ${p.action} access to ai_secret id ${p.id}, or the ai_secret does not exist`,
  },
  // GUESS: how the real API refuses a create by a read-only member is unconfirmed. Alike
  // whether or not the name exists, so it cannot be used to probe names.
  write_forbidden: {
    status: 403,
    shape: 'forbidden',
    message: (p) => `Missing ${p.action} access to ai_secret ${p.name} in organization ${p.org}`,
  },
  // GUESS: the real wording for a rename onto a taken name is unconfirmed.
  name_taken: {
    status: 400,
    shape: 'text',
    message: (p) => `An ai_secret named ${p.name} already exists in organization ${p.org}`,
  },
  both_cursors: {
    status: 400,
    shape: 'text',
    message: () => 'You may only pass one of starting_after and ending_before',
  },
  unknown_cursor: {
    status: 400,
    shape: 'text',
    message: (p) => `Invalid ${p.param}: no ai_secret with id ${p.id} among those you can list`,
  },
  route_not_found: { status: 404, shape: 'text', message: (p) => `No route for ${p.method} ${p.path}` },
  rate_limited: {
    status: 429,
    shape: 'text',
    message: (p) =>
      `Too many requests: the limit is ${p.limit} per minute for this API key; retry after ${p.retry_after} s`,
  },
  internal: { status: 500, shape: 'text', message: () => 'Internal server error' },
  // The mock's own: another process held the database file's write lock past busy_timeout (5 s,
  // src/db/database.ts). Nothing was written; the request can be sent again (Retry-After: 1).
  database_busy: {
    status: 503,
    shape: 'text',
    message: () =>
      'Service Unavailable: the database file stayed locked by another process for 5 s; nothing was written, ' +
      'try again',
  },

  // --- the mock's own answers (docs/control-plane.md) ------------------------------------
  // Faults forced by a fault rule or `Prefer: code=`: the documented status in the
  // documented shape, worded as upstream describes the status, naming what injected it.
  injected_400: {
    status: 400,
    shape: 'text',
    message: (p) => `The request was unacceptable (fault injected by ${p.source})`,
  },
  injected_401: {
    status: 401,
    shape: 'text',
    message: (p) => `No valid API key provided (fault injected by ${p.source})`,
  },
  injected_403: {
    status: 403,
    shape: 'forbidden',
    message: (p) => `The API key doesn't have permissions to perform the request (fault injected by ${p.source})`,
  },
  injected_413: {
    status: 413,
    shape: 'text',
    message: (p) => `Request body is too large (fault injected by ${p.source})`,
  },
  injected_429: {
    status: 429,
    shape: 'text',
    message: (p) => `Too many requests: retry after ${p.retry_after} s (fault injected by ${p.source})`,
  },
  injected_500: { status: 500, shape: 'text', message: (p) => `Internal server error (fault injected by ${p.source})` },
  // Any other status from 400 to 599 (the official clients retry 408, 409 and every 5xx):
  // the text shape, worded by the status's reason phrase, or, for 502, 503 and 504, as a
  // gateway in front of the API words them. The status is the error's own (forcedError()).
  // GUESS: what the real API's gateway answers is unrecorded.
  injected_other: { status: 0, shape: 'text', message: (p) => `${p.reason} (fault injected by ${p.source})` },
  prefer_invalid: {
    status: 400,
    shape: 'text',
    message: (p) =>
      p.delay !== undefined
        ? `Prefer: delay=${p.delay} is not a whole number of milliseconds (such as delay=250; at most 60000)`
        : `Prefer: code=${p.code} is not a status the mock can force (allowed: 400 to 599; a 2xx code gives the normal answer)`,
  },
  origin_not_allowed: {
    status: 403,
    shape: 'text',
    message: (p) =>
      `Origin ${p.origin} may not use the /_mock control plane: only loopback origins (localhost, 127.0.0.1, [::1]) and those in CORS_ORIGINS may`,
  },
  admin_unauthorized: {
    status: 401,
    shape: 'text',
    message: () => 'The /_mock control plane needs `Authorization: Bearer <ADMIN_TOKEN>`',
  },
  seed_invalid: { status: 400, shape: 'text', message: (p) => `Invalid seed: ${p.path}: ${p.problem}` },
  fault_invalid: { status: 400, shape: 'text', message: (p) => `Invalid fault rule: ${p.problem}` },
  fault_limit: {
    status: 400,
    shape: 'text',
    message: (p) => `Too many fault rules: at most ${p.limit} are active at once; remove some (DELETE /_mock/faults)`,
  },
  fault_not_found: { status: 404, shape: 'text', message: (p) => `No fault rule with id ${p.id}` },
  clock_invalid: { status: 400, shape: 'text', message: (p) => `Invalid clock change: ${p.problem}` },
} satisfies Record<string, ErrorSpec>

/**
 * The statuses the operations document (and 413, which the mock answers too): forced, they come in their documented
 * shapes.
 */
const DOCUMENTED: Record<number, ErrorCode> = {
  400: 'injected_400',
  401: 'injected_401',
  403: 'injected_403',
  413: 'injected_413',
  429: 'injected_429',
  500: 'injected_500',
}

/** What a gateway in front of the API says for these. */
const GATEWAY: Record<number, string> = {
  502: 'Bad Gateway: the gateway in front of the API got no valid answer from it',
  503: 'Service Unavailable: the API cannot take requests right now; try again later',
  504: 'Gateway Timeout: the API did not answer the gateway in time',
}

/** The statuses a fault rule or `Prefer: code=` may force. */
export const FORCEABLE = { minimum: 400, maximum: 599 } as const

export function isForceable(status: unknown): status is number {
  return Number.isInteger(status) && (status as number) >= FORCEABLE.minimum && (status as number) <= FORCEABLE.maximum
}

/**
 * The answer a fault rule or `Prefer: code=` forces (docs/control-plane.md): a documented
 * status in its documented shape; any other from 400 to 599 in the text shape, worded by its
 * reason phrase (`Status 499` when it has none), 502/503/504 as a gateway words them.
 * `source` names what forced it; `headers` go with it (Retry-After and the like).
 */
export function forcedError(
  status: number,
  source: string,
  headers: Record<string, string>,
  retryAfter: number,
): ApiError {
  const documented = DOCUMENTED[status]
  if (documented !== undefined) return new ApiError(documented, { source, retry_after: retryAfter }, headers)
  const reason = GATEWAY[status] ?? STATUS_CODES[status] ?? `Status ${status}`
  return new ApiError('injected_other', { source, reason }, headers, status)
}

export type ErrorCode = keyof typeof ERRORS

export class ApiError extends Error {
  readonly status: number
  /** `status` only for an error whose table entry leaves it open (injected_other). */
  constructor(
    readonly code: ErrorCode,
    readonly params: Params = {},
    readonly headers: Record<string, string> = {},
    status?: number,
  ) {
    super(code)
    this.name = 'ApiError'
    this.status = status ?? ERRORS[code].status
  }
}

/**
 * A write found the organization it was authorized for gone: another process on the same
 * database file reset it after this request was admitted (a reset in this process ends such
 * requests at its gate, src/control/intercept.ts). Like them, it ends without an answer
 * (src/plugins/error-handler.ts) and changes nothing. Not in the error table: never answered.
 */
export class EndedByReset extends Error {
  constructor() {
    super('request ended by a reset (another process reset the database)')
    this.name = 'EndedByReset'
  }
}

/** What is known about the request when the error is answered: it becomes the bracketed context. */
export interface ErrorContext {
  requestId: string
  path: string
  now: Date
  userEmail?: string
  userOrg?: string
}

export interface RenderedError {
  status: number
  contentType: string
  body: string
  headers: Record<string, string>
}

function contextSuffix(ctx: ErrorContext, withRequestId: boolean): string {
  let s = ''
  if (ctx.userEmail !== undefined) s += ` [user_email=${ctx.userEmail}]`
  if (ctx.userOrg !== undefined) s += ` [user_org=${ctx.userOrg}]`
  s += ` [timestamp=${(ctx.now.getTime() / 1000).toFixed(3)}]`
  if (withRequestId) s += ` [request_id=${ctx.requestId}]`
  return s
}

export function renderError(err: ApiError, ctx: ErrorContext): RenderedError {
  const spec: ErrorSpec = ERRORS[err.code]
  const message = spec.message(err.params)
  if (spec.shape === 'forbidden') {
    return {
      status: err.status,
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify({
        Code: 'ForbiddenError',
        Message: message + contextSuffix(ctx, false),
        InternalTraceId: ctx.requestId,
        Path: ctx.path,
        Service: 'api',
      }),
      headers: err.headers,
    }
  }
  return {
    status: err.status,
    contentType: 'text/plain; charset=utf-8',
    body: message + contextSuffix(ctx, true),
    headers: err.headers,
  }
}
