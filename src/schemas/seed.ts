import { Type, type Static } from '@sinclair/typebox'
import { AnyValue, Nullable } from './nullable.js'

// The seed-file format: what a seed file, startMockServer({ seed }), seed() and POST /_mock/seed
// take, and what a seed answers. These schemas are the one description of those shapes: the
// checks (src/seed.ts, through src/validation.ts), the OpenAPI document of /_mock/seed and the
// package's public types (src/public-types.ts, generated from them) all come from here.

const { Optional } = Type

// An enum, not a union of literals: answers are serialized without anyOf (fast-json-stringify
// compiles anyOf branches with an Ajv that cannot read the shared schemas' OpenAPI `nullable`).
/** A role in an organization: an owner can write, a member only read (the mock's model of Braintrust's ACLs). */
export const Role = Type.Unsafe<'owner' | 'member'>({
  type: 'string',
  enum: ['owner', 'member'],
  description: 'A role in an organization: an owner can write, a member only read',
})
export type Role = Static<typeof Role>

const Name = (description: string) => Type.String({ minLength: 1, description })
const Uuid = (description: string) =>
  Optional(
    Type.String({
      format: 'uuid',
      // ajv-formats' uuid also takes a `urn:uuid:` prefix: an id is the uuid alone.
      pattern: '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$',
      'x-problem': 'must be a uuid',
      description,
    }),
  )
const DateTime = (description: string) => Optional(Type.String({ format: 'date-time', description }))

/**
 * An API key: visible ASCII and spaces, what every HTTP client sends as it is (a key such as
 * `sk-unicodé` would reach the mock as other bytes than the seed holds, and never match).
 * src/auth/authenticate.ts (keyProblem) checks the rest: no white space at either end, not three
 * dot-separated parts (a JWT).
 */
export const ApiKey = Type.String({
  minLength: 1,
  // A header line longer than Node's 16 KiB head limit never arrives.
  maxLength: 16_384,
  pattern: '^[\\x20-\\x7e]+$',
  'x-problem': 'must be visible ASCII characters and spaces (what every HTTP client sends as it is)',
  description: 'The plain key, as clients will send it: visible ASCII and spaces; stored only as a hash',
})

export const SeedOrganization = Type.Object(
  {
    name: Name('Unique name of the organization'),
    id: Uuid('Its id (a uuid); made when absent'),
    created: DateTime('When it was created (RFC 3339); the time of seeding when absent'),
  },
  { additionalProperties: false },
)

export const SeedUser = Type.Object(
  {
    email: Name('Unique email of the user'),
    id: Uuid('Its id (a uuid); made when absent'),
    memberships: Optional(
      Type.Record(Type.String(), Role, { description: 'Organization name: role, for each organization it belongs to' }),
    ),
  },
  { additionalProperties: false },
)

export const SeedApiKey = Type.Object(
  {
    key: ApiKey,
    user: Name('The email of its user'),
    org: Optional(Nullable(Type.String({ description: 'Scope the key to this one organization of its user' }))),
    id: Uuid('Its id (a uuid); made when absent'),
  },
  { additionalProperties: false },
)

export const SeedSecret = Type.Object(
  {
    org: Name('The name of its organization'),
    name: Name('Its name, unique in its organization'),
    type: Optional(Nullable(Type.String({ description: 'Its type, such as `openai`' }))),
    secret: Optional(Nullable(Type.String({ description: 'The value; the API only ever shows a preview of it' }))),
    metadata: Optional(
      Nullable(Type.Record(Type.String(), AnyValue, { description: 'Any JSON object, as the API answers it' })),
    ),
    id: Uuid('Its id (a uuid); made when absent'),
    created: DateTime('When it was created (RFC 3339); the time of seeding when absent'),
    updated_at: DateTime('When it was last changed (RFC 3339); `created` when absent'),
    secret_updated_at: DateTime('When its value was last set (RFC 3339); `created` when absent'),
  },
  { additionalProperties: false },
)

export const SeedData = Type.Object(
  {
    organizations: Optional(Type.Array(SeedOrganization)),
    users: Optional(Type.Array(SeedUser)),
    api_keys: Optional(Type.Array(SeedApiKey)),
    ai_secrets: Optional(Type.Array(SeedSecret)),
  },
  {
    additionalProperties: false,
    description:
      'Data in the seed-file format. Names may refer to what the mock already holds; ids and dates are made when ' +
      'absent.',
  },
)
export type SeedData = Static<typeof SeedData>

export const SeededKey = Type.Object(
  {
    id: Type.String({ description: 'Its id' }),
    preview: Type.String({ description: 'A preview of the key (`sk-...ner`): the plain key is never shown back' }),
    user: Type.String({ description: 'The email of its user' }),
    org: Nullable(Type.String({ description: 'The organization it is scoped to, or null' })),
    orgs: Type.Array(Type.Object({ name: Type.String(), role: Role }), {
      description: 'The organizations the key spans, with its role in each',
    }),
  },
  { description: 'An API key a seed created' },
)
export type SeededKey = Static<typeof SeededKey>

export const SeedResult = Type.Object(
  {
    organizations: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
    users: Type.Array(Type.Object({ id: Type.String(), email: Type.String() })),
    api_keys: Type.Array(SeededKey),
    ai_secrets: Type.Array(Type.Object({ id: Type.String(), org: Type.String(), name: Type.String() })),
  },
  { description: 'What a seed created: ids and key previews, never the keys' },
)
export type SeedResult = Static<typeof SeedResult>
