import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { ApiError, renderError, type ErrorCode, type ErrorContext } from '../errors.js'

// The responses every ai_secret operation documents: upstream's codes and descriptions, with
// the content the mock really answers (the error table, src/errors.ts) and an example of each.

/**
 * The JSON body of a 403, as the real server was recorded answering
 * (openapi/upstream/RECORDED-BEHAVIOUR.md). DIFFERS: upstream documents every error as
 * `text/plain` string or `application/json` of any shape; the mock names this shape.
 */
export const ForbiddenError = Type.Object(
  {
    Code: Type.String({ enum: ['ForbiddenError'], description: 'Always `ForbiddenError`' }),
    Message: Type.String({
      description:
        'The message, then what is known of the request in brackets: `[user_email=…] [user_org=…] [timestamp=…]`',
    }),
    InternalTraceId: Type.String({
      description: 'The request id, as in the `x-request-id` and `x-bt-internal-trace-id` headers',
    }),
    Path: Type.String({ description: 'The request path, without the query' }),
    Service: Type.String({ enum: ['api'], description: 'Always `api`' }),
  },
  { $id: 'ForbiddenError', description: 'The body of a 403 answer' },
)

/**
 * Who an example request was made as: sk-mock-acme-owner, sk-mock-multi-org, sk-mock-acme-member, or no known key
 * (every /_mock answer).
 */
const WHO = {
  alice: { userEmail: 'alice@acme.test', userOrg: 'acme' },
  bob: { userEmail: 'bob@multi.test' },
  val: { userEmail: 'val@acme.test', userOrg: 'acme' },
  anonymous: {},
}

/**
 * An error answer for an example, rendered by the error table: as the first request of a
 * deterministic instance (`--deterministic`) answers it.
 */
export function errorExample(
  code: ErrorCode,
  params: Record<string, string | number> = {},
  who: keyof typeof WHO = 'alice',
  path = '/v1/ai_secret',
) {
  const ctx: ErrorContext = {
    requestId: 'mock::000000000001',
    path,
    now: new Date('2026-01-01T00:00:00Z'),
    ...WHO[who],
  }
  const r = renderError(new ApiError(code, params), ctx)
  return r.contentType.startsWith('application/json') ? (JSON.parse(r.body) as unknown) : r.body
}

/** `text/plain` content with named examples (the first is the one Swagger UI shows first). */
function textContent(examples: Record<string, { summary: string; value: unknown }>) {
  return { 'text/plain': { schema: { type: 'string' }, examples } }
}

const UPSTREAM = {
  400: 'The request was unacceptable, often due to missing a required parameter',
  401: 'No valid API key provided',
  403: 'The API key doesn\u2019t have permissions to perform the request',
  429: 'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests',
  500: "Something went wrong on Braintrust's end. (These are rare.)",
}

const ABSENT_400 =
  '. The mock answers this 400 too when the ai_secret does not exist, or the key may not change it: one answer ' +
  'for both, as the real server gives, so that nobody can probe what exists.'
const SEVERAL_ORGS = {
  summary: 'A key in several organizations, without org_name',
  value: errorExample('org_required', { orgs: 'acme, globex' }, 'bob'),
}
const ORG_FORBIDDEN = {
  summary: 'An organization the key does not belong to',
  value: errorExample('org_forbidden', { org: 'initech' }),
}
const MEMBER_WRITE = {
  summary: 'A member (read-only) key, such as sk-mock-acme-member',
  value: errorExample('write_forbidden', { action: 'create', name: 'OPENAI_API_KEY', org: 'acme' }, 'val'),
}
const FORCED_403 = (path: string) => ({
  summary: 'Forced by `Prefer: code=403` or a fault rule (answered before the key is looked up)',
  value: errorExample('injected_403', { source: 'Prefer: code=403' }, 'anonymous', path),
})
/** An id no demo secret has. */
const DEAD_ID = '00000000-0000-4000-8000-00000000dead'
const UUID_ISSUE = JSON.stringify(
  [{ validation: 'uuid', code: 'invalid_string', message: 'Invalid uuid', path: ['id', 0] }],
  null,
  2,
)

/** Per operation: the 400 (description suffix, examples) and the 403 example. */
const PER_OPERATION = {
  postAiSecret: {
    body: true,
    absent400: '',
    examples400: { several_orgs: SEVERAL_ORGS },
    forbidden: { org: ORG_FORBIDDEN, member: MEMBER_WRITE },
  },
  putAiSecret: {
    body: true,
    absent400: '',
    examples400: { several_orgs: SEVERAL_ORGS },
    forbidden: { org: ORG_FORBIDDEN, member: MEMBER_WRITE },
  },
  deleteAiSecret: {
    body: true,
    absent400: ABSENT_400,
    examples400: {
      absent: {
        summary: 'No such ai_secret, or a key that may not delete it',
        value: errorExample('missing_access', { action: 'delete', name: 'OPENAI_API_KEY' }),
      },
      several_orgs: SEVERAL_ORGS,
    },
    forbidden: { org: ORG_FORBIDDEN },
  },
  getAiSecret: {
    body: false,
    absent400: '',
    examples400: { both_cursors: { summary: 'Both cursors at once', value: errorExample('both_cursors') } },
    forbidden: { org: ORG_FORBIDDEN },
  },
  getAiSecretId: {
    body: false,
    absent400: '',
    examples400: {
      not_a_uuid: {
        summary: 'An id that is not a uuid',
        value: errorExample('validation', { issues: UUID_ISSUE }, 'alice', '/v1/ai_secret/nope'),
      },
    },
    forbidden: {
      absent: {
        summary: 'No ai_secret with that id among those the key can read (as the real server answers)',
        value: errorExample('missing_read_access_id', { id: DEAD_ID }, 'alice', `/v1/ai_secret/${DEAD_ID}`),
      },
    },
  },
  patchAiSecretId: {
    body: true,
    absent400: ABSENT_400,
    examples400: {
      absent: {
        summary: 'No such ai_secret, or a key that may not change it',
        value: errorExample(
          'missing_access_id',
          { action: 'update', id: DEAD_ID },
          'alice',
          `/v1/ai_secret/${DEAD_ID}`,
        ),
      },
    },
    forbidden: { forced: FORCED_403(`/v1/ai_secret/${DEAD_ID}`) },
  },
  deleteAiSecretId: {
    body: true,
    absent400: ABSENT_400,
    examples400: {
      absent: {
        summary: 'No such ai_secret, or a key that may not delete it',
        value: errorExample(
          'missing_access_id',
          { action: 'delete', id: DEAD_ID },
          'alice',
          `/v1/ai_secret/${DEAD_ID}`,
        ),
      },
    },
    forbidden: { forced: FORCED_403(`/v1/ai_secret/${DEAD_ID}`) },
  },
}

/** The /v1 operations that answer the error table's errors. */
export type V1OperationId = keyof typeof PER_OPERATION

/**
 * The error responses of one /v1 operation: upstream's codes and descriptions (a 400 that also
 * covers an absent secret says so), plus 413 where a body is read, with the content the mock
 * answers: `text/plain` with bracketed context for 400, 401, 413, 429 and 500, the
 * ForbiddenError JSON for 403, each with examples rendered by the error table itself
 * (test/openapi-examples.test.ts makes the mock answer each one).
 */
export function errorResponses(operationId: V1OperationId) {
  const op = PER_OPERATION[operationId]
  return {
    400: { description: UPSTREAM[400] + op.absent400, content: textContent(op.examples400) },
    401: {
      description: UPSTREAM[401],
      content: textContent({
        invalid_key: {
          summary: 'An API key the mock does not know',
          value: errorExample('auth_invalid_key', {}, 'anonymous'),
        },
      }),
    },
    403: {
      description: UPSTREAM[403],
      content: { 'application/json': { schema: Ref(ForbiddenError), examples: op.forbidden } },
    },
    // DIFFERS: upstream documents no 413; the mock answers it for bodies over 1 MiB, where it reads one.
    ...(op.body
      ? {
          413: {
            description: 'The request body is larger than 1 MiB (the mock\u2019s own limit)',
            content: textContent({
              too_large: { summary: 'A body over 1 MiB', value: errorExample('body_too_large') },
            }),
          },
        }
      : {}),
    429: {
      description: UPSTREAM[429],
      headers: { 'Retry-After': { type: 'string' } },
      content: textContent({
        rate_limited: {
          summary: 'Over RATE_LIMIT_PER_MINUTE (here 60): answered before the key is looked up',
          value: errorExample('rate_limited', { limit: 60, retry_after: 12 }, 'anonymous'),
        },
      }),
    },
    500: {
      description: UPSTREAM[500],
      content: textContent({
        internal: { summary: 'Never a stack or an internal message', value: errorExample('internal') },
      }),
    },
  }
}

export function jsonResponse(description: string, schema: TSchema) {
  return { description, content: { 'application/json': { schema } } }
}

/** A `$ref` to a shared schema, typed as that schema. */
export function Ref<T extends TSchema>(schema: T) {
  return Type.Unsafe<Static<T>>(Type.Ref(schema.$id!))
}

export const bearerSecurity: Record<string, string[]>[] = [{ bearerAuth: [] }, {}]

/** The schema of an OPTIONS (CORS) operation, as upstream documents both of them. */
export function corsOptions(operationId: string, summary: string, params?: TSchema) {
  const header = { type: 'string' }
  return {
    operationId,
    tags: ['CORS'],
    summary,
    description: 'Enable CORS',
    security: [],
    ...(params === undefined ? {} : { params }),
    response: {
      200: {
        description: 'Response for CORS method',
        headers: {
          'Access-Control-Allow-Credentials': header,
          'Access-Control-Allow-Headers': header,
          'Access-Control-Allow-Methods': header,
          'Access-Control-Allow-Origin': header,
          'Access-Control-Max-Age': header,
        },
        // no body: @fastify/swagger then writes no content (upstream: an empty content map)
        type: 'null',
      },
      400: {
        description: UPSTREAM[400],
        content: textContent({
          malformed: {
            summary: 'A path the router cannot decode',
            value: errorExample('bad_request', { reason: 'FST_ERR_BAD_URL' }, 'anonymous'),
          },
        }),
      },
    },
  }
}
