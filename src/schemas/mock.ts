import { Type, type Static } from '@sinclair/typebox'
import { AISecret } from './ai-secret.js'
import { AnyValue, Nullable } from './nullable.js'
import { Ref, errorExample } from './responses.js'

// Schemas of the mock's own control plane (/_mock): documentation and serialization.
// Not part of the Braintrust API, so not named after upstream.

const { Optional } = Type

/** Every /_mock operation sits under this tag in the OpenAPI document and Swagger UI. */
export const tags = ['Mock control']

// No anyOf in answers: fast-json-stringify compiles anyOf branches with an Ajv that cannot
// read the shared schemas' OpenAPI `nullable` (AISecret.metadata).
export const Role = Type.Unsafe<'owner' | 'member'>({ type: 'string', enum: ['owner', 'member'] })

export const SeedData = Type.Object(
  {
    organizations: Optional(
      Type.Array(
        Type.Object({
          name: Type.String(),
          id: Optional(Type.String({ format: 'uuid' })),
          created: Optional(Type.String({ format: 'date-time' })),
        }),
      ),
    ),
    users: Optional(
      Type.Array(
        Type.Object({
          email: Type.String(),
          id: Optional(Type.String({ format: 'uuid' })),
          memberships: Optional(Type.Record(Type.String(), Role, { description: 'organization name: role' })),
        }),
      ),
    ),
    api_keys: Optional(
      Type.Array(
        Type.Object({
          key: Type.String({ description: 'The plain key, as clients will send it; stored only as a hash' }),
          user: Type.String({ description: 'The email of a user' }),
          org: Optional(Nullable(Type.String({ description: 'Scope the key to this one organization' }))),
          id: Optional(Type.String({ format: 'uuid' })),
        }),
      ),
    ),
    ai_secrets: Optional(
      Type.Array(
        Type.Object({
          org: Type.String(),
          name: Type.String(),
          type: Optional(Nullable(Type.String())),
          secret: Optional(Nullable(Type.String())),
          metadata: Optional(Nullable(Type.Record(Type.String(), AnyValue))),
          id: Optional(Type.String({ format: 'uuid' })),
          created: Optional(Type.String({ format: 'date-time' })),
          updated_at: Optional(Type.String({ format: 'date-time' })),
          secret_updated_at: Optional(Type.String({ format: 'date-time' })),
        }),
      ),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Data in the seed-file format (README, CONTRACT section 3). Names may refer to what the mock already holds.',
  },
)

/** Data in the seed-file format, as POST /_mock/seed and startMockServer's seed() take it. */
export type SeedData = Static<typeof SeedData>

export const SeedResult = Type.Object(
  {
    organizations: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
    users: Type.Array(Type.Object({ id: Type.String(), email: Type.String() })),
    api_keys: Type.Array(
      Type.Object({
        id: Type.String(),
        preview: Type.String({ description: 'A preview of the key: the plain key is never shown back' }),
        user: Type.String(),
        org: Nullable(Type.String()),
        orgs: Type.Array(Type.Object({ name: Type.String(), role: Role }), {
          description: 'The organizations the key spans, with its role in each',
        }),
      }),
    ),
    ai_secrets: Type.Array(Type.Object({ id: Type.String(), org: Type.String(), name: Type.String() })),
  },
  { description: 'What was created' },
)

export const StoreState = Type.Object({
  organizations: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), created: Type.String() })),
  users: Type.Array(
    Type.Object({
      id: Type.String(),
      email: Type.String(),
      created: Type.String(),
      memberships: Type.Record(Type.String(), Role),
    }),
  ),
  api_keys: Type.Array(
    Type.Object({
      id: Type.String(),
      preview: Type.String(),
      user: Type.String(),
      org: Nullable(Type.String()),
      created: Type.String(),
    }),
  ),
  ai_secrets: Type.Array(Ref(AISecret), { description: 'As the API shows them: preview_secret, never the value' }),
})

const HeaderValues = Type.Unsafe<Record<string, string | string[]>>({
  type: 'object',
  additionalProperties: true,
  description: 'name: value, or a list of values for a repeated name',
})

export const JournalEntry = Type.Object({
  id: Type.String({ description: 'The request id (x-request-id)' }),
  time: Type.String({ format: 'date-time', description: 'Arrival, by the mock\u2019s clock' }),
  method: Type.String(),
  path: Type.String(),
  query: HeaderValues,
  headers: Type.Unsafe<Record<string, string | string[]>>({
    ...HeaderValues,
    description: 'Authorization shows a preview of the token; Cookie is redacted',
  }),
  body: Type.Unsafe<unknown>({
    ...AnyValue,
    description: 'The parsed JSON body, every `secret` property redacted; null when none was read',
  }),
  status: Nullable(
    Type.Integer({
      description:
        'The status the mock answered; for a request a `when: "after"` fault rule acted on, the real status of the request, which ran (see `faults`). null while in flight, or when a rule dropped the connection before any handler ran',
    }),
  ),
  duration_ms: Type.Number(),
  org: Nullable(
    Type.String({
      description:
        'The organization the request acted in or, for one answered before that (a forced fault, the rate limit), the only organization of its key',
    }),
  ),
  faults: Type.Array(
    Type.Object({
      id: Type.String({ description: 'The rule' }),
      when: Type.Unsafe<'before' | 'after'>({ type: 'string', enum: ['before', 'after'] }),
      delay_ms: Optional(Type.Integer({ description: 'It held the request (before) or its answer (after) this long' })),
      status: Optional(Type.Integer({ description: 'It answered this status instead' })),
      drop: Optional(Type.Boolean({ description: 'It closed the connection without an answer' })),
    }),
    { description: 'What each fault rule that acted on the request did to it, in pipeline order; empty when none did' },
  ),
})

export const ClockAnswer = Type.Object({ now: Type.String({ format: 'date-time' }), deterministic: Type.Boolean() })

export const ClockChange = Type.Object(
  {
    set: Optional(Type.String({ format: 'date-time', description: 'Set the clock to this time' })),
    advance_ms: Optional(Type.Integer({ description: 'Move the clock on by this many milliseconds' })),
  },
  { additionalProperties: false, description: 'One of set or advance_ms' },
)

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

/** Bodies these routes check themselves, so that errors name JSON paths; the schema is for the docs. */
export const checkedByHandler = { validatorCompiler: () => () => true }
