import { Type, type Static } from '@sinclair/typebox'
import { FORCEABLE } from '../errors.js'
import { AISecret } from '../schemas/ai-secret.js'
import { Nullable } from '../schemas/nullable.js'
import { Ref, errorExample } from '../schemas/responses.js'
import { ApiKey, Role } from '../schemas/seed.js'

// The control plane's shapes (/_mock): fault rules, the journal, the clock, the state. These
// schemas are their one description: the checks (src/validation.ts), the OpenAPI document and
// the package's public types (src/public-types.ts, generated from them) come from here. Not
// part of the Braintrust API, so not named after upstream.

const { Optional } = Type

/** Every /_mock operation sits under this tag in the OpenAPI document and Swagger UI. */
export const tags = ['Mock control']

/** The longest delay a rule or `Prefer: delay=` may add, in milliseconds. */
export const MAX_DELAY_MS = 60_000

// Enums, not unions of literals: answers are serialized without anyOf (see src/schemas/seed.ts).
const When = Type.Unsafe<'before' | 'after'>({
  type: 'string',
  enum: ['before', 'after'],
  description:
    '`before` (default): act before authentication and any handler, so nothing changes. `after`: let the request ' +
    'run for real, then act on its answer (drop it, replace it with `status`, or hold it for `delay_ms`), so the ' +
    'change stands',
})

const ruleFields = {
  method: Optional(
    Type.String({
      pattern: '^[A-Za-z]+$',
      maxLength: 32,
      'x-problem': 'must be an HTTP method, such as "DELETE"',
      description: 'HTTP method to match (any case); absent: any',
    }),
  ),
  path: Optional(
    Type.String({
      pattern: '^/[^?]*$',
      // No request line is longer than Node's 16 KiB head limit: a longer path would never match.
      maxLength: 16_384,
      'x-problem': 'must be a path starting with "/", without a query (it may end in "*")',
      description:
        'Path to match, without the query; may end in `*` to match a prefix; absent: any /v1 path. Read as ' +
        'request paths are (`/v1/ai%5Fsecret` is `/v1/ai_secret`)',
    }),
  ),
  status: Optional(
    Type.Integer({
      ...FORCEABLE,
      description:
        'Answer this status, from 400 to 599. Those the operations document (400, 401, 403, 413, 429, 500) come ' +
        'in their documented shape; the rest in the text shape, 502, 503 and 504 worded as a gateway in front of ' +
        'the API would',
    }),
  ),
  retry_after: Optional(
    Type.Integer({
      minimum: 0,
      // RFC 9111 section 1.2.2: delta-seconds past 2^31 are read as 2^31 anyway.
      maximum: 2_147_483_647,
      description: 'The `Retry-After` header in seconds, with any status (default 1 for a 429)',
    }),
  ),
  retry_after_ms: Optional(
    Type.Integer({
      minimum: 0,
      maximum: 2_147_483_647,
      description: 'A `retry-after-ms` header, which the official client prefers',
    }),
  ),
  should_retry: Optional(
    Type.Boolean({
      description: 'An `x-should-retry: true|false` header, which overrides the official client\u2019s choice',
    }),
  ),
  delay_ms: Optional(
    Type.Integer({
      minimum: 0,
      maximum: MAX_DELAY_MS,
      description: 'Wait this long first, in milliseconds (with or without a status)',
    }),
  ),
  drop: Optional(Type.Boolean({ description: 'Close the connection without an answer' })),
  when: Optional(When),
  times: Optional(
    Type.Integer({
      minimum: 1,
      description: 'Act on this many of the requests the rule sees, then let them through; absent: unlimited',
    }),
  ),
  after: Optional(
    Type.Integer({ minimum: 0, description: 'Let this many of the requests the rule sees through first' }),
  ),
}

const { method, path, ...actions } = ruleFields

export const FaultRuleInput = Type.Object(
  {
    method,
    path,
    key: Optional(
      Type.String({
        ...ApiKey,
        description: 'Only requests with `Authorization: Bearer <key>`; shown back as a preview',
      }),
    ),
    ...actions,
  },
  {
    additionalProperties: false,
    description:
      'A fault rule as `fault()` and `POST /_mock/faults` take it: which /v1 requests it matches and what it does ' +
      'to them. It needs `status`, `delay_ms` or `drop: true`',
  },
)
export type FaultRuleInput = Static<typeof FaultRuleInput>

export const FaultRule = Type.Object(
  {
    id: Type.String({ description: 'Its id: `fault_1`, `fault_2`, …' }),
    method,
    path,
    key: Optional(Type.String({ description: 'A preview of the key the rule matches' })),
    ...actions,
    matched: Type.Integer({
      description: 'How many requests the rule has seen: those it matched that no earlier rule had answered',
    }),
    applied: Type.Integer({ description: 'How many of them it acted on: answered, changed the answer of, or delayed' }),
  },
  { description: 'A fault rule as stored: the input (its key as a preview) with its id and counters' },
)
export type FaultRule = Static<typeof FaultRule>

export const FaultActed = Type.Object(
  {
    id: Type.String({ description: 'The rule' }),
    when: Type.Unsafe<'before' | 'after'>({ type: 'string', enum: ['before', 'after'] }),
    delay_ms: Optional(
      Type.Integer({ description: 'It held the request (before) or its answer (after) this long, in milliseconds' }),
    ),
    status: Optional(Type.Integer({ description: 'It answered this status instead' })),
    drop: Optional(
      Type.Unsafe<true>({ type: 'boolean', enum: [true], description: 'It closed the connection without an answer' }),
    ),
  },
  { description: 'What one fault rule did to a request, as the journal lists it' },
)
export type FaultActed = Static<typeof FaultActed>

const HeaderValues = Type.Unsafe<Record<string, string | string[]>>({
  type: 'object',
  additionalProperties: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
  description: 'name: value, or a list of values for a repeated name',
})

export const JournalEntry = Type.Object(
  {
    id: Type.String({ description: 'The request id (x-request-id)' }),
    time: Type.String({ format: 'date-time', description: 'Arrival, by the mock\u2019s clock' }),
    method: Type.String(),
    path: Type.String({ description: 'The path, without the query string' }),
    query: Type.Unsafe<Record<string, string | string[]>>({
      ...HeaderValues,
      description: 'The query string\u2019s parameters',
    }),
    headers: Type.Unsafe<Record<string, string | string[]>>({
      ...HeaderValues,
      description: 'As received, with Authorization (a preview of the token) and Cookie redacted',
    }),
    // Not AnyValue ({ nullable: true }): the serializer compiles the headers' anyOf with an Ajv
    // that refuses `nullable` without a `type` beside it.
    body: Type.Unknown({
      description:
        'The parsed JSON body, every `secret` property redacted (at most 64 KiB of it: a larger one is ' +
        'summarised); null when none was read (a 401, a forced fault)',
    }),
    status: Nullable(
      Type.Integer({
        description:
          'The status the mock answered; for a request a `when: "after"` fault rule acted on, the real status of ' +
          'the request, which ran (see `faults`). null while in flight, or when a rule dropped the connection ' +
          'before any handler ran',
      }),
    ),
    duration_ms: Type.Number({ description: 'How long it took, in milliseconds of real time' }),
    org: Nullable(
      Type.String({
        description:
          'The organization the request acted in or, for one answered before that (a forced fault, the rate ' +
          'limit), the only organization of its key; null for an unknown key or a key in several that named none',
      }),
    ),
    faults: Type.Array(FaultActed, {
      description: 'What each fault rule that acted on the request did to it, in pipeline order; empty when none did',
    }),
  },
  { description: 'A /v1 request as the journal keeps it (GET /_mock/requests)' },
)
export type JournalEntry = Static<typeof JournalEntry>

export const JournalFilter = Type.Object(
  {
    method: Optional(Type.String({ description: 'Only this HTTP method (any case)' })),
    path: Optional(Type.String({ description: 'Only this path; a trailing `*` matches a prefix' })),
    org: Optional(Type.String({ description: 'Only requests that acted in this organization' })),
  },
  { description: 'Which journal entries GET /_mock/requests answers' },
)
export type JournalFilter = Static<typeof JournalFilter>

export const ClockAnswer = Type.Object({
  now: Type.String({ format: 'date-time', description: 'The mock\u2019s time' }),
  deterministic: Type.Boolean({ description: 'Whether it stands still between changes' }),
})

export const ClockChange = Type.Object(
  {
    set: Optional(Type.String({ format: 'date-time', description: 'Set the clock to this time (RFC 3339)' })),
    advance_ms: Optional(
      Type.Integer({
        minimum: -Number.MAX_SAFE_INTEGER,
        maximum: Number.MAX_SAFE_INTEGER,
        description: 'Move the clock on by this many milliseconds',
      }),
    ),
  },
  { additionalProperties: false, description: 'A change of the mock\u2019s clock: one of set or advance_ms' },
)
export type ClockChange = Static<typeof ClockChange>

export const StoreState = Type.Object(
  {
    organizations: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), created: Type.String() })),
    users: Type.Array(
      Type.Object({
        id: Type.String(),
        email: Type.String(),
        created: Type.String(),
        memberships: Type.Record(Type.String(), Role, { description: 'Organization name: role' }),
      }),
    ),
    api_keys: Type.Array(
      Type.Object({
        id: Type.String(),
        preview: Type.String({ description: 'A preview of the key: the key itself is kept only as a hash' }),
        user: Type.String({ description: 'The email of its user' }),
        org: Nullable(Type.String({ description: 'The organization it is scoped to, or null' })),
        created: Type.String(),
      }),
    ),
    ai_secrets: Type.Array(Ref(AISecret), { description: 'As the API shows them: preview_secret, never the value' }),
  },
  { description: 'Everything stored (GET /_mock/state), key hashes and secret values left out' },
)
export type StoreState = Static<typeof StoreState>

/** A text error answer of a /_mock route, with an example rendered by the error table. */
export const Problem = (description: string, example: string) => ({
  description,
  content: { 'text/plain': { schema: { type: 'string' }, example } },
})
export const Unauthorized = {
  401: Problem(
    'ADMIN_TOKEN is set and the request does not carry it',
    errorExample('admin_unauthorized', {}, 'anonymous', '/_mock/reset') as string,
  ),
}

/**
 * The admin scheme of every /_mock route but /_mock/health: optional (`{}`) as documented;
 * the served document drops the `{}` when the mock runs with ADMIN_TOKEN (src/plugins/docs.ts).
 */
export const adminSecurity: Record<string, string[]>[] = [{ adminToken: [] }, {}]
export const NoContent = { 204: Type.Null({ description: 'Done' }) }
